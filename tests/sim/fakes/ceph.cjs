"use strict";
// @tools ceph ceph-mon ceph-mgr ceph-osd
// Fake `ceph` CLI (ceph/ceph src/ceph.in), see pve-cli.md 2.0 and 2.9-2.14, plus the daemons'
// `--version` (ceph-mon, ceph-mgr, ceph-osd exist only after `pveceph install`; before that the
// shell answers "command not found", exit 127, as on a node without the packages).
// Conventions: with -f json[-pretty] stdout starts with an empty line; status strings ("outs",
// e.g. "pool 'x' created", "dumped monmap epoch 3") go to stderr even on success; errors are
// "Error <ERRNO>: <text>" on stderr and the exit code is the errno. Without /etc/ceph/ceph.conf or
// monitors the client cannot connect (exit 1); without mon quorum it hangs until --connect-timeout
// (or sim.noQuorumHangMs) and fails with "[errno 110] RADOS timed out" (exit 1).
// Implemented: -s/status, health [detail], mon dump, mgr dump, osd tree, osd df, osd stat, df [detail],
// osd pool ls [detail], osd pool get, osd pool set, osd pool application enable, osd out|in,
// osd crush rule create-replicated|ls|dump|rm, config set|get|rm|dump, versions, --version.
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

const ERRNO = { EPERM: 1, ENOENT: 2, EAGAIN: 11, EACCES: 13, EBUSY: 16, EEXIST: 17, EINVAL: 22 };

function cephError(name, text) {
  lib.die(`Error ${name}: ${text}\n`, ERRNO[name]);
}

function notFound(tool) {
  lib.die(`bash: line 1: ${tool}: command not found\n`, 127);
}

function parseArgs(argv) {
  const words = [];
  const o = { format: null, connectTimeout: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-f" || a === "--format") o.format = argv[++i];
    else if (a.startsWith("--format=")) o.format = a.slice(9);
    else if (a === "--connect-timeout") o.connectTimeout = Number(argv[++i]);
    else if (a.startsWith("--connect-timeout=")) o.connectTimeout = Number(a.slice(18));
    else if (a === "-s" || a === "--status") words.push("status");
    else if (a === "-v" || a === "--version") o.version = true;
    else if (a === "-c" || a === "--conf") o.conf = argv[++i];
    else if (a.startsWith("--conf=")) o.conf = a.slice(7);
    else if (["-n", "--name", "--id", "-i", "--in-file", "-k", "--keyring", "--cluster", "-o", "--out-file"].includes(a)) i++;
    else if (a === "--yes-i-really-mean-it" || a === "--yes-i-really-really-mean-it") o.sure = true;
    else if (a === "--force" || a === "--detail") words.push(a.slice(2));
    else words.push(a);
  }
  return { words, opts: o };
}

/** Print data in the requested format (json/json-pretty with the leading empty line, or text). */
function emit(format, data, text) {
  if (format === "json") lib.out("\n" + JSON.stringify(data) + "\n");
  else if (format === "json-pretty") lib.out("\n" + JSON.stringify(data, null, 4) + "\n");
  else if (format && format !== "plain") cephError("EINVAL", `unrecognized format '${format}'`);
  else lib.out(typeof text === "function" ? text() : text);
}

const CLOSEST = [
  "osd pool ls [detail]",
  "osd pool create <pool> [<pg_num:int>] [<pgp_num:int>] [<pool_type:replicated|erasure>]",
  "osd pool get <pool> <var>",
  "osd pool set <pool> <var> <val> [--yes-i-really-mean-it]",
  "osd tree [<epoch:int>] [<states>...] [--format <value>]",
  "osd df [<output_method:plain|tree>] [<filter_by:class|name>] [<filter>]",
  "osd crush rule create-replicated <name> <root> <type> [<class>]",
  "config set <who> <name> <value> [--force]",
  "mon dump [<epoch:int>]",
  "health [<detail:detail>]",
];

function invalidCommand() {
  lib.err("no valid command found; 10 closest matches:\n" + CLOSEST.join("\n") + "\n");
  cephError("EINVAL", "invalid command");
}

/** Connect as a client (ceph-lib connectClient): ceph.conf, monitors and their quorum. */
function connect(sim, opts) {
  return ceph.connectClient(sim, opts);
}

function mutateCluster(sim, node, fn) {
  return ceph.mutate(sim, (s) => fn(ceph.clusterOf(s, node.name), s));
}

// ---------------------------------------------------------------------------------------------

function cmdOsdPool(sim, words, opts) {
  const sub = words[2];
  if (sub === "ls") {
    const { cluster } = connect(sim, opts);
    const pools = Object.values(cluster.pools).sort((a, b) => a.id - b.id);
    if (words[3] === "detail") {
      const data = pools.map((p) => ceph.poolDetailJson(cluster, p));
      emit(opts.format, data, () =>
        pools
          .map((p) => {
            const rule = ceph.ruleById(cluster, p.crushRule);
            return `pool ${p.id} '${p.name}' replicated size ${p.size} min_size ${p.minSize} crush_rule ${rule ? rule.id : p.crushRule} object_hash rjenkins pg_num ${p.pgNum} pgp_num ${p.pgNum} autoscale_mode ${p.pgAutoscaleMode} last_change ${cluster.osdEpoch} flags hashpspool stripe_width 0${p.application ? ` application ${p.application}` : ""}\n`;
          })
          .join("") + "\n",
      );
    } else {
      emit(opts.format, pools.map((p) => p.name), () => pools.map((p) => p.name + "\n").join(""));
    }
    return 0;
  }
  if (sub === "get") {
    const [, , , poolName, key] = words;
    if (!poolName || !key) invalidCommand();
    const { cluster } = connect(sim, opts);
    const p = cluster.pools[poolName];
    if (!p) cephError("ENOENT", `unrecognized pool '${poolName}'`);
    const rule = ceph.ruleById(cluster, p.crushRule);
    const all = { pool: p.name, pool_id: p.id, size: p.size, min_size: p.minSize, pg_num: p.pgNum, pgp_num: p.pgNum, crush_rule: rule ? rule.name : String(p.crushRule), pg_autoscale_mode: p.pgAutoscaleMode };
    if (key === "all") {
      emit(opts.format, all, () => Object.entries(all).filter(([k]) => k !== "pool" && k !== "pool_id").map(([k, v]) => `${k}: ${v}\n`).join(""));
    } else {
      if (all[key] === undefined) cephError("EINVAL", `invalid variable '${key}'`);
      emit(opts.format, { pool: p.name, pool_id: p.id, [key]: all[key] }, `${key}: ${all[key]}\n`);
    }
    return 0;
  }
  if (sub === "application" && words[3] === "enable") {
    const [, , , , poolName, app] = words;
    if (!poolName || !app) invalidCommand();
    const { node } = connect(sim, opts);
    let error = null;
    mutateCluster(sim, node, (c) => {
      const p = c.pools[poolName];
      if (!p) error = ["ENOENT", `pool '${poolName}' does not exist`];
      else if (!p.application) p.application = app;
    });
    if (error) cephError(...error);
    lib.err(`enabled application '${app}' on pool '${poolName}'\n`);
    return 0;
  }
  return invalidCommand();
}

function cmdCrushRule(sim, words, opts) {
  const sub = words[3];
  if (sub === "ls" || sub === "list") {
    const { cluster } = connect(sim, opts);
    emit(opts.format, cluster.crushRules.map((r) => r.name), () => cluster.crushRules.map((r) => r.name + "\n").join(""));
    return 0;
  }
  if (sub === "dump") {
    const { cluster } = connect(sim, opts);
    const dump = (r) => ({
      rule_id: r.id,
      rule_name: r.name,
      type: 1,
      steps: [
        { op: "take", item: -1, item_name: r.deviceClass ? `default~${r.deviceClass}` : "default" },
        { op: "chooseleaf_firstn", num: 0, type: r.failureDomain },
        { op: "emit" },
      ],
    });
    const name = words[4];
    if (name) {
      const r = ceph.ruleByName(cluster, name);
      if (!r) cephError("ENOENT", `unknown crush rule '${name}'`);
      emit(opts.format || "json-pretty", dump(r), "");
    } else emit(opts.format || "json-pretty", cluster.crushRules.map(dump), "");
    return 0;
  }
  if (sub === "create-replicated") {
    const [, , , , name, root, type, cls] = words;
    if (!name || !root || !type) invalidCommand();
    const { node, cluster: seen, state } = connect(sim, opts);
    // A rule already in the committed map: "already exists", exit 0 (OSDMonitor).
    if (ceph.ruleByName(seen, name)) {
      lib.err(`rule ${name} already exists\n`);
      return 0;
    }
    // Between that check and adding the rule to the pending map, another client's create of the
    // same name can land (the proposal window, sim.crushProposeMs); then CrushWrapper's add fails
    // with "rule <name> exists", EEXIST (exit 17).
    lib.sleepMs(ceph.simKnobs(state).crushProposeMs);
    let error = null;
    mutateCluster(sim, node, (c) => {
      if (ceph.ruleByName(c, name)) return (error = ["EEXIST", `rule ${name} exists`]);
      if (root !== "default") return (error = ["ENOENT", `root item ${root} does not exist`]);
      if (!["host", "osd", "root", "chassis", "rack", "row", "datacenter", "room", "region", "zone", "pod", "pdu"].includes(type)) return (error = ["EINVAL", `unknown type ${type}`]);
      if (cls && !Object.values(c.osds).some((o) => o.deviceClass === cls)) return (error = ["EINVAL", `device class ${cls} does not exist`]);
      const id = Math.max(...c.crushRules.map((r) => r.id)) + 1;
      c.crushRules.push({ id, name, root, failureDomain: type, deviceClass: cls || null });
      c.osdEpoch++;
    });
    if (error) cephError(...error);
    return 0;
  }
  if (sub === "rm") {
    const name = words[4];
    if (!name) invalidCommand();
    const { node } = connect(sim, opts);
    let error = null;
    mutateCluster(sim, node, (c) => {
      const r = ceph.ruleByName(c, name);
      if (!r) return;
      if (Object.values(c.pools).some((p) => p.crushRule === r.id)) return (error = ["EBUSY", `crush rule ${name} (${r.id}) is in use`]);
      c.crushRules = c.crushRules.filter((x) => x !== r);
    });
    if (error) cephError(...error);
    return 0;
  }
  return invalidCommand();
}

function cmdOsdInOut(sim, words, opts) {
  const verb = words[1];
  const ids = words.slice(2).map((w) => w.replace(/^osd\./, ""));
  if (ids.length === 0) invalidCommand();
  const { node } = connect(sim, opts);
  const msgs = [];
  let error = null;
  mutateCluster(sim, node, (c) => {
    for (const id of ids) {
      const o = c.osds[id];
      if (!o) {
        error = ["ENOENT", `osd.${id} does not exist`];
        return;
      }
      const want = verb === "in";
      if (o.in === want) msgs.push(`osd.${id} is already ${verb}. `);
      else {
        o.in = want;
        msgs.push(`marked ${verb} osd.${id}. `);
        c.osdEpoch++;
        c.changedAt = Date.now();
      }
    }
  });
  if (error) cephError(...error);
  lib.err(msgs.join("") + "\n");
  return 0;
}

function cmdConfig(sim, words, opts) {
  const sub = words[1];
  const validWho = (who) => /^(global|mon|mgr|osd|mds|client)(\..+)?$/.test(who);
  if (sub === "set") {
    const [, , who, key, value] = words;
    if (!who || !key || value === undefined) invalidCommand();
    const { node } = connect(sim, opts);
    if (!validWho(who)) cephError("EINVAL", `unrecognized config target '${who}'`);
    if (!/^[a-z0-9_]+$/.test(key.replace(/[- ]/g, "_"))) cephError("EINVAL", `unrecognized config option '${key}'`);
    mutateCluster(sim, node, (c) => {
      c.config[who] = { ...(c.config[who] || {}), [key.replace(/[- ]/g, "_")]: value };
    });
    return 0;
  }
  if (sub === "rm") {
    const [, , who, key] = words;
    if (!who || !key) invalidCommand();
    const { node } = connect(sim, opts);
    mutateCluster(sim, node, (c) => {
      if (c.config[who]) delete c.config[who][key.replace(/[- ]/g, "_")];
    });
    return 0;
  }
  if (sub === "get") {
    const [, , who, key] = words;
    if (!who) invalidCommand();
    const { cluster } = connect(sim, opts);
    if (key) {
      const k = key.replace(/[- ]/g, "_");
      const section = who.split(".")[0];
      const v = (cluster.config[who] || {})[k] ?? (cluster.config[section] || {})[k] ?? (cluster.config.global || {})[k];
      emit(opts.format, v ?? "", `${v ?? ""}\n`);
    } else {
      const merged = { ...(cluster.config.global || {}), ...(cluster.config[who.split(".")[0]] || {}), ...(cluster.config[who] || {}) };
      emit(opts.format, merged, () => Object.entries(merged).map(([k, v]) => `${k} = ${v}\n`).join(""));
    }
    return 0;
  }
  if (sub === "dump") {
    const { cluster } = connect(sim, opts);
    const rows = [];
    for (const who of Object.keys(cluster.config).sort()) {
      for (const [k, v] of Object.entries(cluster.config[who])) rows.push({ section: who, name: k, value: String(v), level: "advanced", can_update_at_runtime: true, mask: "" });
    }
    emit(opts.format, rows, () => "WHO     MASK  LEVEL     OPTION                                 VALUE  RO\n" + rows.map((r) => `${r.section.padEnd(8)}      advanced  ${r.name.padEnd(38)} ${r.value}\n`).join(""));
    return 0;
  }
  return invalidCommand();
}

function cmdPoolSetReal(sim, words, opts) {
  const [, , , poolName, key, value] = words;
  if (!poolName || !key || value === undefined) invalidCommand();
  const { node } = connect(sim, opts);
  let error = null;
  mutateCluster(sim, node, (c) => {
    const p = c.pools[poolName];
    if (!p) return (error = ["ENOENT", `unrecognized pool '${poolName}'`]);
    switch (key) {
      case "size": {
        const n = Number(value);
        if (!(n >= 1 && n <= 10)) return (error = ["EINVAL", "pool size must be between 1 and 10"]);
        if (n === 1 && !ceph.truthy(ceph.monSetting(c, "mon_allow_pool_size_one", "false")) && !opts.sure)
          return (error = ["EPERM", "configuring pool size as 1 is disabled by default."]);
        p.size = n;
        p.minSize = n - Math.floor(n / 2);
        break;
      }
      case "min_size": {
        const n = Number(value);
        if (!(n >= 1 && n <= p.size)) return (error = ["EINVAL", `pool min_size must be between 1 and size, which is set to ${p.size}`]);
        p.minSize = n;
        break;
      }
      case "pg_num":
      case "pgp_num":
        p.pgNum = Number(value);
        break;
      case "pg_autoscale_mode":
        if (!["on", "off", "warn"].includes(value)) return (error = ["EINVAL", `invalid autoscale mode '${value}'`]);
        p.pgAutoscaleMode = value;
        break;
      case "crush_rule": {
        const r = ceph.ruleByName(c, value);
        if (!r) return (error = ["ENOENT", `crush rule ${value} does not exist`]);
        p.crushRule = r.id;
        break;
      }
      case "target_size_ratio":
        p.targetSizeRatio = Number(value);
        break;
      case "target_size_bytes":
        p.targetSizeBytes = Number(value);
        break;
      case "pg_num_min":
        p.pgNumMin = Number(value);
        break;
      default:
        return (error = ["EINVAL", `unrecognized variable '${key}'`]);
    }
    c.osdEpoch++;
    c.changedAt = Date.now();
  });
  if (error) cephError(...error);
  lib.err(`set pool ${(ceph.clusterOf(sim.read(), node.name).pools[poolName] || {}).id} ${key} to ${value}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------

function cephMain(sim, argv) {
  const { words, opts } = parseArgs(argv);
  const { state, node } = sim.self();
  if (opts.version || words[0] === "version" || words[0] === "--version") {
    const inst = ceph.installedOf(state, node.name);
    lib.out(ceph.versionLine(inst ? inst.release : ceph.clientRelease(node)) + "\n");
    return 0;
  }
  const w = words;
  if (w.length === 0) invalidCommand();
  if (w[0] === "status") {
    const { state: s, cluster, live } = connect(sim, opts);
    const health = ceph.computeHealth(s, cluster, live);
    emit(opts.format, ceph.statusJson(s, cluster, live, health), () => ceph.statusText(s, cluster, live, health));
    return 0;
  }
  if (w[0] === "health") {
    const detail = w[1] === "detail";
    const { state: s, cluster, live } = connect(sim, opts);
    const health = ceph.computeHealth(s, cluster, live);
    const data = detail ? { status: health.status, checks: health.checks, mutes: [] } : ceph.healthSummary(health);
    emit(opts.format, data, () => ceph.healthText(health, detail));
    return 0;
  }
  if (w[0] === "mon" && w[1] === "dump") {
    const { cluster, live } = connect(sim, opts);
    const data = ceph.monmapJson(cluster, live);
    emit(opts.format, data, () => {
      let o = `epoch ${data.epoch}\nfsid ${data.fsid}\nlast_changed ${data.modified}\ncreated ${data.created}\nmin_mon_release 19 (squid)\nelection_strategy: 1\n`;
      cluster.mons.forEach((m) => (o += `${m.rank}: ${ceph.monAddrvecText(m)} mon.${m.name}\n`));
      return o;
    });
    lib.err(`dumped monmap epoch ${data.epoch}\n`);
    return 0;
  }
  if (w[0] === "mon" && (w[1] === "stat" || w[1] === "status")) {
    const { cluster, live } = connect(sim, opts);
    lib.out(`e${cluster.monEpoch}: ${cluster.mons.length} mons at {${cluster.mons.map((m) => `${m.name}=${ceph.monAddrvecText(m)}`).join(",")}} removed_ranks: {} disallowed_leaders: {}, election epoch ${2 * cluster.mons.length + 1}, leader 0 ${live.quorum[0] ? live.quorum[0].name : ""}, quorum ${live.quorum.map((m) => m.rank).join(",")} ${live.quorum.map((m) => m.name).join(",")}\n`);
    return 0;
  }
  if (w[0] === "mgr" && w[1] === "dump") {
    const { cluster, live } = connect(sim, opts);
    const data = ceph.mgrmapJson(cluster, live);
    emit(opts.format || "json-pretty", data, "");
    lib.err(`dumped mgrmap epoch ${data.epoch}\n`);
    return 0;
  }
  if (w[0] === "mgr" && w[1] === "stat") {
    const { cluster, live } = connect(sim, opts);
    emit(opts.format || "json-pretty", { epoch: cluster.mgrEpoch || 1, available: !!live.active, active_name: live.active ? live.active.name : "", num_standby: live.standbys.length }, "");
    return 0;
  }
  if (w[0] === "osd" && w[1] === "tree") {
    const { cluster, live } = connect(sim, opts);
    const data = ceph.osdTreeJson(cluster, live);
    emit(opts.format, data, () => {
      let o = "ID  CLASS  WEIGHT   TYPE NAME         STATUS  REWEIGHT  PRI-AFF\n";
      for (const n of data.nodes) {
        if (n.type === "root") o += `${String(n.id).padStart(2)}         ${"0".padEnd(7)}  root default\n`;
        else if (n.type === "host") o += `${String(n.id).padStart(2)}         ${"0".padEnd(7)}      host ${n.name}\n`;
        else o += `${String(n.id).padStart(2)}  ${n.device_class.padEnd(5)}  ${n.crush_weight.toFixed(5)}          ${n.name.padEnd(10)} ${n.status.padEnd(6)}  ${n.reweight.toFixed(5)}  1.00000\n`;
      }
      return o;
    });
    return 0;
  }
  if (w[0] === "osd" && w[1] === "df") {
    const { cluster, live } = connect(sim, opts);
    emit(opts.format, ceph.osdDfJson(cluster, live), "ID  CLASS  WEIGHT  REWEIGHT  SIZE  RAW USE  DATA  OMAP  META  AVAIL  %USE  VAR  PGS  STATUS\n");
    return 0;
  }
  if (w[0] === "osd" && w[1] === "stat") {
    const { cluster, live } = connect(sim, opts);
    const data = { epoch: cluster.osdEpoch, num_osds: live.osds.length, num_up_osds: live.osds.filter((o) => o.up).length, osd_up_since: 0, num_in_osds: live.osds.filter((o) => o.in).length, osd_in_since: 0, num_remapped_pgs: 0 };
    emit(opts.format, data, `${data.num_osds} osds: ${data.num_up_osds} up; ${data.num_in_osds} in; epoch: e${data.epoch}\n`);
    return 0;
  }
  if (w[0] === "osd" && (w[1] === "in" || w[1] === "out")) return cmdOsdInOut(sim, w, opts);
  if (w[0] === "osd" && w[1] === "pool" && w[2] === "set") return cmdPoolSetReal(sim, w, opts);
  if (w[0] === "osd" && w[1] === "pool") return cmdOsdPool(sim, w, opts);
  if (w[0] === "osd" && w[1] === "crush" && w[2] === "rule") return cmdCrushRule(sim, w, opts);
  if (w[0] === "df") {
    const { cluster, live } = connect(sim, opts);
    const detail = w[1] === "detail";
    const data = ceph.dfJson(cluster, live, detail);
    emit(opts.format, data, () => {
      let o = "--- RAW STORAGE ---\nCLASS     SIZE    AVAIL     USED  RAW USED  %RAW USED\n";
      for (const [k, v] of Object.entries(data.stats_by_class)) o += `${k.padEnd(6)} ${ceph.fmtBytes(v.total_bytes).padStart(8)} ${ceph.fmtBytes(v.total_avail_bytes).padStart(8)} ${ceph.fmtBytes(v.total_used_bytes).padStart(8)} ${ceph.fmtBytes(v.total_used_raw_bytes).padStart(8)} ${(v.total_used_raw_ratio * 100).toFixed(2).padStart(9)}\n`;
      o += `TOTAL  ${ceph.fmtBytes(data.stats.total_bytes).padStart(8)} ${ceph.fmtBytes(data.stats.total_avail_bytes).padStart(8)} ${ceph.fmtBytes(data.stats.total_used_bytes).padStart(8)} ${ceph.fmtBytes(data.stats.total_used_raw_bytes).padStart(8)} ${(data.stats.total_used_raw_ratio * 100).toFixed(2).padStart(9)}\n \n--- POOLS ---\nPOOL  ID  PGS  STORED  OBJECTS  USED  %USED  MAX AVAIL\n`;
      for (const p of data.pools) o += `${p.name}  ${p.id}  ${cluster.pools[p.name].pgNum}  ${ceph.fmtBytes(p.stats.stored)}  ${p.stats.objects}  ${ceph.fmtBytes(p.stats.bytes_used)}  ${(p.stats.percent_used * 100).toFixed(2)}  ${ceph.fmtBytes(p.stats.max_avail)}\n`;
      return o;
    });
    return 0;
  }
  if (w[0] === "config") return cmdConfig(sim, w, opts);
  if (w[0] === "versions") {
    const { state: s, cluster, live } = connect(sim, opts);
    const vers = (list, type) => {
      const r = {};
      for (const d of list) {
        const inst = ceph.installedOf(s, d.node);
        const line = ceph.versionLine(inst ? inst.release : "squid");
        r[line] = (r[line] || 0) + 1;
      }
      void type;
      return r;
    };
    const data = { mon: vers(live.quorum), mgr: vers([live.active, ...live.standbys].filter(Boolean)), osd: vers(live.osds.filter((o) => o.up)) };
    const overall = {};
    for (const m of Object.values(data)) for (const [k, v] of Object.entries(m)) overall[k] = (overall[k] || 0) + v;
    data.overall = overall;
    void cluster;
    emit(opts.format || "json-pretty", data, "");
    return 0;
  }
  return invalidCommand();
}

lib.main(() => {
  const sim = lib.context();
  const tool = process.env.PVE_SIM_TOOL || "ceph";
  const argv = process.argv.slice(2);
  if (tool !== "ceph") {
    const { state, node } = sim.self();
    const inst = ceph.installedOf(state, node.name);
    if (!inst) notFound(tool);
    if (argv.includes("--version") || argv.includes("-v")) {
      lib.out(ceph.versionLine(inst.release) + "\n");
      return 0;
    }
    lib.die(`${tool}: the simulated daemon only answers --version\n`, 1);
  }
  return cephMain(sim, argv);
});
