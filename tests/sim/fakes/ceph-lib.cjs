"use strict";
// @tools
/**
 * Shared Ceph model of the simulated cluster (used by pveceph.cjs, ceph.cjs, ceph-volume.cjs,
 * blockdev.cjs and pvesh-ceph.cjs). Not a tool itself (the empty @tools line below).
 *
 * STATE: one top-level section `ceph` (created lazily) plus `storage` (storage.cfg entries added by
 * `pveceph pool create --add_storages`). Sizes are bytes, times are ms since the epoch.
 *
 *   state.ceph = {
 *     sim: { settleMs, osdUpDelayMs, noQuorumHangMs,     // knobs, see SIM_DEFAULTS
 *            crushProposeMs },                           //   (the window a CRUSH rule create races in)
 *     forceHealth: null                                    // test knob, see extraChecks():
 *        | "HEALTH_WARN" | "HEALTH_ERR"                    //   adds one realistic check of that severity
 *        | { <CODE>: { severity, message, count?, detail?: [string] } },
 *     nodes: { <node>: {
 *        installed: null | { release: "squid", version: "19.2.3-pve1", repository, at },
 *        disks: [Disk] | undefined,                        // undefined = just the system disk (sda)
 *     } },
 *     clusters: { <scope>: Cluster },                      // one Ceph cluster per pmxcfs:
 *   }                                                      //   scope "cluster:<pve cluster>" or "node:<node>"
 *
 *   Cluster = {
 *     scope, fsid, createdAt,
 *     conf: { <section>: { <key>: value } },               // exactly what /etc/pve/ceph.conf holds
 *     mons: [ { name, node, addrs: [ip], rank, createdAt } ],        // rank order
 *     monEpoch,
 *     mgrs: [ { name, node, gid, createdAt } ],
 *     osds: { <id>: Osd }, osdEpoch,
 *     hosts: { <node>: <crush bucket id (negative)> },
 *     pools: { <name>: Pool }, nextPoolId,
 *     crushRules: [ { id, name, root: "default", failureDomain: "host"|"osd", deviceClass: null|string } ],
 *     config: { <who>: { <key>: value } },                 // `ceph config set` database
 *     changedAt,                                           // last OSD/pool change: PGs peer for sim.settleMs after it
 *   }
 *   Osd  = { id, uuid, node, device: "/dev/nvme0n1", vg, lv, sizeBytes, deviceClass,
 *            db?: { device, vg?, lv?, partition?, sizeBytes }, wal?: {…}, in: bool, createdAt, encrypted }
 *   Pool = { id, name, size, minSize, pgNum, pgAutoscaleMode, application: null|string,
 *            crushRule: <rule id>, createdAt, stored, objects, targetSizeRatio?, targetSizeBytes? }
 *
 *   Disk = { name: "nvme0n1", size, model?, serial?, rotational?: bool, fstype?: string, mountpoint?: string,
 *            partitions?: [ { name, size, fstype?, mountpoint?, lvm? } ],
 *            lvm?: { vg, lvs: [ { name, size, mountpoint?, tags? } ] } }
 *     A disk or partition with `lvm` is an LVM PV (fstype LVM2_member); its LVs appear as lsblk
 *     children of type "lvm". LVs created by `pveceph osd create` carry ceph-volume `tags`
 *     (ceph.osd_id, ceph.type, …), which is how `ceph-volume lvm list` finds them.
 *
 * DAEMONS are running when their node is online, unless the node's tool log (tools.jsonl, where
 * the fake systemctl records calls) shows a later `systemctl stop ceph-osd@N` (or ceph-mon@X,
 * ceph-mgr@X, ceph-osd.target, ceph.target …) that no later start/restart or reboot undid.
 * An OSD is `up` once it runs and `sim.osdUpDelayMs` passed since its creation.
 *
 * HEALTH (computeHealth): MON_DOWN, MGR_DOWN, TOO_FEW_OSDS (OSD count < osd_pool_default_size),
 * OSD_DOWN, OSD_HOST_DOWN, PG_AVAILABILITY / PG_DEGRADED (a pool's size/min_size against the
 * failure domains - hosts, or OSDs with osd_crush_chooseleaf_type 0 - that hold up+in OSDs of the
 * rule's device class; PGs also "peer" for sim.settleMs after any OSD/pool change),
 * POOL_APP_NOT_ENABLED, POOL_NO_REDUNDANCY (size 1, unless mon_warn_on_pool_no_redundancy=false),
 * POOL_PG_NUM_NOT_POWER_OF_TWO, plus forceHealth. No check -> HEALTH_OK.
 */

const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const lib = require("./lib.cjs");

const SIM_DEFAULTS = { settleMs: 0, osdUpDelayMs: 0, noQuorumHangMs: 1500, crushProposeMs: 0 };

/** Ceph releases: version strings of the packages pveceph installs (pve-manager PVE/Ceph/Releases.pm). */
const RELEASES = {
  quincy: { release: "17.2", full: "17.2.8", pkg: "17.2.8-pve2", hash: "f817ceb7f187defb1d021d6328fa833eb8e943b3", pve: [7, 8] },
  reef: { release: "18.2", full: "18.2.7", pkg: "18.2.7-pve1", hash: "4cac8341a72477c60a6f153f3ed344b49870c932", pve: [8] },
  squid: { release: "19.2", full: "19.2.3", pkg: "19.2.3-pve1", hash: "2f03f1cd83e5d40cdf1393cb64a662a8e8bb07c6", pve: [8, 9] },
  tentacle: { release: "20.2", full: "20.2.0", pkg: "20.2.0-pve1", hash: "69f84cc2651aa259a15bc192ddaabd3baba07489", pve: [9] },
};

/** Releases pveceph offers on a PVE version, and its default (pve-cli.md 2.1). */
function releasesFor(pveVersion) {
  const { major, minor } = lib.parseVersion(pveVersion);
  const available = Object.keys(RELEASES).filter((r) => RELEASES[r].pve.includes(major)).sort();
  const def = major >= 9 ? (minor >= 1 ? "tentacle" : "squid") : "quincy";
  return { available, def };
}

/** ceph-common (the `ceph` client) ships with every PVE node; its version before `pveceph install`. */
function clientRelease(node) {
  return lib.parseVersion(node.pveVersion).major >= 9 ? "squid" : "quincy";
}

function versionLine(release) {
  const r = RELEASES[release];
  return `ceph version ${r.full} (${r.hash}) ${release} (stable)`;
}

// ---------------------------------------------------------------------------------------------
// state access

function cephState(state) {
  state.ceph ??= {};
  const c = state.ceph;
  c.sim = { ...SIM_DEFAULTS, ...(c.sim || {}) };
  c.nodes ??= {};
  c.clusters ??= {};
  if (c.forceHealth === undefined) c.forceHealth = null;
  return c;
}

/** Read-only view (does not create the section in the stored state). */
function peek(state) {
  const c = state.ceph || {};
  return {
    sim: { ...SIM_DEFAULTS, ...(c.sim || {}) },
    nodes: c.nodes || {},
    clusters: c.clusters || {},
    forceHealth: c.forceHealth ?? null,
  };
}

function nodeCeph(state, name) {
  const c = cephState(state);
  c.nodes[name] ??= { installed: null };
  return c.nodes[name];
}

function installedOf(state, name) {
  const n = peek(state).nodes[name];
  return (n && n.installed) || null;
}

/** The pmxcfs a node shares /etc/pve with: its PVE cluster, or itself when standalone. */
function scopeOf(state, nodeName) {
  const n = state.nodes[nodeName];
  return n && n.cluster ? `cluster:${n.cluster}` : `node:${nodeName}`;
}

/** Nodes that share the scope (whose /etc/pve shows the same ceph.conf). */
function scopeNodes(state, scope) {
  if (scope.startsWith("node:")) {
    const n = state.nodes[scope.slice(5)];
    return n ? [n] : [];
  }
  const name = scope.slice(8);
  const cluster = state.clusters[name];
  if (!cluster) return [];
  return cluster.nodes.map((m) => state.nodes[m.name]).filter((n) => n && n.cluster === name);
}

/** The Ceph cluster a node sees (null before `pveceph init`). */
function clusterOf(state, nodeName) {
  return peek(state).clusters[scopeOf(state, nodeName)] || null;
}

/** Is the node's pmxcfs quorate (writes to /etc/pve allowed)? */
function pveQuorate(state, nodeName) {
  const c = lib.clusterOf(state, nodeName);
  return !c || lib.quorumInfo(state, c).quorate;
}

function simKnobs(state) {
  return peek(state).sim;
}

// ---------------------------------------------------------------------------------------------
// addresses

function parseIp(ip) {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split(".").map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { v: 4, n: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n), bits: 32 };
  }
  if (ip.includes(":")) {
    let s = ip.replace(/^\[|\]$/g, "");
    if (s.includes(".")) return null;
    const halves = s.split("::");
    if (halves.length > 2) return null;
    const left = halves[0] ? halves[0].split(":") : [];
    const right = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
    const fill = halves.length === 2 ? 8 - left.length - right.length : 0;
    const groups = [...left, ...Array(fill).fill("0"), ...right];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
    return { v: 6, n: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
  }
  return null;
}

function parseCidr(cidr) {
  const m = /^(.+)\/(\d{1,3})$/.exec(String(cidr || ""));
  if (!m) return null;
  const ip = parseIp(m[1]);
  const len = Number(m[2]);
  if (!ip || len > ip.bits) return null;
  return { ...ip, len };
}

function ipInCidr(ip, cidr) {
  const a = parseIp(ip);
  const c = parseCidr(cidr);
  if (!a || !c || a.v !== c.v) return false;
  const shift = BigInt(c.bits - c.len);
  return a.n >> shift === c.n >> shift;
}

/** Base address of a CIDR, as PVE prints it in "No address from ceph cluster network (…)". */
function cidrBase(cidr) {
  const c = parseCidr(cidr);
  if (!c || c.v !== 4) return cidr;
  const shift = BigInt(32 - c.len);
  const base = (c.n >> shift) << shift;
  return `${[24n, 16n, 8n, 0n].map((s) => Number((base >> s) & 255n)).join(".")}/${c.len}`;
}

function nodeAddresses(state, nodeName) {
  const n = state.nodes[nodeName];
  return n ? [...new Set(n.addresses || [n.ip])] : [];
}

function localIpsIn(state, nodeName, cidrs) {
  const nets = String(cidrs || "")
    .split(/[\s,;]+/)
    .filter(Boolean);
  return nodeAddresses(state, nodeName).filter((ip) => nets.some((net) => ipInCidr(ip, net)));
}

// ---------------------------------------------------------------------------------------------
// ids, names, times

function uuid() {
  return crypto.randomUUID();
}

/** ceph's utime format: 2025-06-27T18:25:32.203344+0000 */
function utime(ms) {
  const d = new Date(ms);
  return d.toISOString().replace("Z", "").replace(/\.(\d{3})$/, (_, f) => `.${f}${String(Math.floor(Math.random() * 1000)).padStart(3, "0")}`) + "+0000";
}

/** dm name of an LV as lsblk shows it: dashes doubled, vg-lv. */
function dmName(vg, lv) {
  return `${vg.replace(/-/g, "--")}-${lv.replace(/-/g, "--")}`;
}

function partName(diskName, index) {
  return /\d$/.test(diskName) ? `${diskName}p${index}` : `${diskName}${index}`;
}

// ---------------------------------------------------------------------------------------------
// disks

const GiB = 1024 ** 3;

function systemDisk() {
  const size = 480103981056;
  return {
    name: "sda",
    size,
    model: "SAMSUNG MZ7LH480",
    serial: "S45PNA0M812345",
    rotational: false,
    system: true,
    partitions: [
      { name: "sda1", size: 1031168, fstype: null },
      { name: "sda2", size: 1073741824, fstype: "vfat", mountpoint: "/boot/efi" },
      {
        name: "sda3",
        size: size - 1073741824 - 1031168 - 1048576,
        lvm: {
          vg: "pve",
          lvs: [
            { name: "swap", size: 8 * GiB, fstype: "swap", mountpoint: "[SWAP]" },
            { name: "root", size: 96 * GiB, fstype: "ext4", mountpoint: "/" },
            { name: "data", size: 330 * GiB },
          ],
        },
      },
    ],
  };
}

/** Normalise one disk as a test gives it to SimCluster.setDisks. */
function normalizeDisk(spec) {
  if (!spec || typeof spec.name !== "string" || !/^[a-z][a-z0-9]*$/.test(spec.name)) throw new Error(`setDisks: bad disk name ${JSON.stringify(spec && spec.name)}`);
  const size = Number(spec.size ?? 1000204886016);
  const disk = {
    name: spec.name,
    size,
    model: spec.model ?? (spec.name.startsWith("nvme") ? "Samsung SSD 990 PRO 1TB" : "ST4000NM000A-2HZ100"),
    serial: spec.serial ?? crypto.createHash("sha1").update(spec.name + size).digest("hex").slice(0, 14).toUpperCase(),
    rotational: spec.rotational ?? !spec.name.startsWith("nvme"),
  };
  if (spec.fstype) disk.fstype = spec.fstype;
  if (spec.mountpoint) disk.mountpoint = spec.mountpoint;
  const lvmOf = (l, owner, sz) => {
    if (!l) return undefined;
    if (l === true) return { vg: `vg-${owner}`, lvs: [{ name: "data", size: Math.floor(sz / 2) }] };
    if (typeof l === "string") return { vg: l, lvs: [{ name: "data", size: Math.floor(sz / 2) }] };
    return { vg: l.vg, lvs: (l.lvs || []).map((x) => ({ ...x })) };
  };
  if (spec.partitions !== undefined && spec.partitions !== null && spec.partitions !== 0) {
    const parts = typeof spec.partitions === "number" ? Array.from({ length: spec.partitions }, () => ({})) : spec.partitions;
    const each = Math.floor((size - 2 * 1048576) / parts.length);
    disk.partitions = parts.map((p, i) => {
      const name = p.name || partName(spec.name, i + 1);
      const part = { name, size: Number(p.size ?? each) };
      if (p.fstype) part.fstype = p.fstype;
      if (p.mountpoint) part.mountpoint = p.mountpoint;
      const l = lvmOf(p.lvm, name, part.size);
      if (l) part.lvm = l;
      return part;
    });
  }
  const l = lvmOf(spec.lvm, spec.name, size);
  if (l) disk.lvm = l;
  return disk;
}

/** The node's disks (the default system disk when none were set). */
function disksOf(state, nodeName) {
  const n = peek(state).nodes[nodeName];
  return n && n.disks ? n.disks : [systemDisk()];
}

/** Disks for writing (materialises the default list). */
function mutableDisks(state, nodeName) {
  const n = nodeCeph(state, nodeName);
  if (!n.disks) n.disks = [systemDisk()];
  return n.disks;
}

/**
 * The /dev/disk/by-id links udev makes for the disks: `nvme-<model>_<serial>` for NVMe,
 * `ata-<model>_<serial>` otherwise (spaces in the model become "_"), and `<link>-part<N>` for
 * each partition. Returns link path -> kernel path (/dev/<name>).
 */
function byIdLinks(disks) {
  const links = {};
  for (const disk of disks) {
    if (!disk.model || !disk.serial) continue;
    const id = `/dev/disk/by-id/${disk.name.startsWith("nvme") ? "nvme" : "ata"}-${disk.model.trim().replace(/\s+/g, "_")}_${disk.serial}`;
    links[id] = `/dev/${disk.name}`;
    (disk.partitions || []).forEach((part, i) => {
      links[`${id}-part${i + 1}`] = `/dev/${part.name}`;
    });
  }
  return links;
}

/** Find /dev/<name> (or a /dev/disk/by-id link to it) among disks and partitions: { disk, part|null, dev } or null. */
function findDevice(disks, devPath) {
  const kernelPath = byIdLinks(disks)[String(devPath || "")] ?? String(devPath || "");
  const name = kernelPath.replace(/^\/dev\//, "");
  for (const disk of disks) {
    if (disk.name === name) return { disk, part: null, dev: disk };
    for (const part of disk.partitions || []) if (part.name === name) return { disk, part, dev: part };
  }
  return null;
}

/** PVE::Diskmanage's "used" of a disk or partition (undefined = free). */
function deviceUsage(dev) {
  if (dev.lvm) return "LVM";
  if (dev.partitions && dev.partitions.length) return "partitions";
  if (dev.mountpoint) return "mounted";
  if (dev.fstype) return dev.fstype;
  return undefined;
}

/** Every LV of a node: { vg, lv, pv: "/dev/…", owner } */
function allLvs(disks) {
  const res = [];
  for (const disk of disks) {
    const pvs = [];
    if (disk.lvm) pvs.push({ dev: disk, path: `/dev/${disk.name}` });
    for (const part of disk.partitions || []) if (part.lvm) pvs.push({ dev: part, path: `/dev/${part.name}` });
    for (const pv of pvs) for (const lv of pv.dev.lvm.lvs) res.push({ vg: pv.dev.lvm.vg, lv, pv: pv.path, disk });
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// daemons

function readToolLog(stateDir) {
  try {
    return fs
      .readFileSync(path.join(stateDir, "tools.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return null;
        }
      })
      .filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * systemctl stop/start/restart calls per node, as [{ node, verb, units, time }], from tools.jsonl.
 * Loaded once per invocation.
 */
function serviceEvents(stateDir) {
  const events = [];
  for (const e of readToolLog(stateDir)) {
    if (e.tool !== "systemctl") continue;
    const words = (e.argv || []).filter((a) => !a.startsWith("-"));
    const verb = words[0];
    if (!["stop", "start", "restart", "try-restart", "reload-or-restart", "kill"].includes(verb)) continue;
    events.push({ node: e.node, verb: verb === "kill" ? "stop" : verb === "stop" ? "stop" : "start", units: words.slice(1), time: e.time });
  }
  return events;
}

function unitMatches(unit, type, id) {
  const u = unit.replace(/\.service$/, "");
  return u === `ceph-${type}@${id}` || u === `ceph-${type}.target` || u === "ceph.target" || u === "ceph";
}

/** Is daemon type.id on node running? */
function daemonRunning(state, events, node, type, id, createdAt) {
  const n = state.nodes[node];
  if (!n || !n.online) return false;
  const since = Math.max(createdAt || 0, (n.bootTime || 0) * 1000);
  let running = true;
  for (const e of events) {
    if (e.node !== node || e.time < since) continue;
    if (e.units.some((u) => unitMatches(u, type, id))) running = e.verb !== "stop";
  }
  return running;
}

/** Live view of a cluster: which mons/mgrs/osds run, quorum, active mgr. */
function liveView(state, cluster, stateDir, now = Date.now()) {
  const events = serviceEvents(stateDir);
  const knobs = simKnobs(state);
  const mons = cluster.mons.map((m) => ({ ...m, up: daemonRunning(state, events, m.node, "mon", m.name, m.createdAt) }));
  const upMons = mons.filter((m) => m.up);
  const quorate = mons.length > 0 && upMons.length * 2 > mons.length;
  const mgrs = cluster.mgrs.map((m) => ({ ...m, up: daemonRunning(state, events, m.node, "mgr", m.name, m.createdAt) }));
  const active = quorate ? mgrs.find((m) => m.up) || null : null;
  const osds = Object.values(cluster.osds)
    .sort((a, b) => a.id - b.id)
    .map((o) => ({
      ...o,
      up: daemonRunning(state, events, o.node, "osd", String(o.id), o.createdAt) && now >= o.createdAt + knobs.osdUpDelayMs && !o.lost,
    }));
  return { mons, quorum: quorate ? upMons : [], quorate, mgrs, active, standbys: mgrs.filter((m) => m.up && m !== active && quorate), osds };
}

/** Connect: needs ceph.conf, monitors and their quorum. The `ceph` and `rados` clients share it. Returns { state, node, cluster, live }. */
function connectClient(sim, opts) {
  const { state, node } = sim.self();
  const cluster = clusterOf(state, node.name);
  // rados.cc prints its own line for any failed connect (rados.connect()), exit 1
  const rados = opts.client === "rados";
  const fail = (errno, text) => lib.die(`couldn't connect to cluster: (${errno}) ${text}\n`, 1);
  if (!cluster || !fs.existsSync(opts.conf || "/etc/ceph/ceph.conf")) {
    if (rados) fail(2, "No such file or directory");
    lib.die("Error initializing cluster client: ObjectNotFound('RADOS object not found (error calling conf_read_file)')\n", 1);
  }
  if (cluster.mons.length === 0) {
    if (rados) fail(2, "No such file or directory");
    const t = utime(Date.now()).replace(/(\.\d{3})\d{3}/, "$1");
    lib.die(
      `${t} 7f5c6a7fc6c0 -1 failed for service _ceph-mon._tcp\n` +
        `${t} 7f5c6a7fc6c0 -1 monclient: get_monmap_and_config cannot identify monitors to contact\n` +
        "[errno 2] RADOS object not found (error connecting to the cluster)\n",
      1,
    );
  }
  const live = liveView(state, cluster, sim.stateDir);
  if (!live.quorate) {
    const hang = opts.connectTimeout !== null && !Number.isNaN(opts.connectTimeout) ? opts.connectTimeout * 1000 : simKnobs(state).noQuorumHangMs;
    lib.sleepMs(hang);
    if (rados) fail(110, "Connection timed out");
    lib.die("[errno 110] RADOS timed out (error connecting to the cluster)\n", 1);
  }
  return { state, node, cluster, live };
}

// ---------------------------------------------------------------------------------------------
// config

/** A global setting: ceph config db (global) first, then ceph.conf [global], then the default. */
function globalSetting(cluster, key, def) {
  const db = (cluster.config && cluster.config.global) || {};
  if (db[key] !== undefined) return db[key];
  const conf = (cluster.conf && cluster.conf.global) || {};
  const alt = [key, key.replace(/_/g, " "), key.replace(/_/g, "-")].find((k) => conf[k] !== undefined);
  if (alt !== undefined) return conf[alt];
  return def;
}

function monSetting(cluster, key, def) {
  const db = (cluster.config && cluster.config.mon) || {};
  if (db[key] !== undefined) return db[key];
  return globalSetting(cluster, key, def);
}

const truthy = (v) => ["true", "1", "yes", "on"].includes(String(v).toLowerCase());

// ---------------------------------------------------------------------------------------------
// ceph.conf (PVE::CephConfig::write_ceph_config, current format: "\t<key> = <value>")

function renderCephConf(conf) {
  const order = [/^global$/, /^client$/, /^client\..*$/, /^mds$/, /^mds\..*$/, /^mon$/, /^mon\..*$/, /^osd$/, /^osd\..*$/, /^mgr$/, /^mgr\..*$/, /^.*$/];
  const written = new Set();
  let out = "";
  for (const re of order) {
    for (const section of Object.keys(conf).sort()) {
      if (!re.test(section) || written.has(section)) continue;
      out += `[${section}]\n`;
      for (const key of Object.keys(conf[section]).sort()) out += `\t${key} = ${conf[section][key]}\n`;
      out += "\n";
      written.add(section);
    }
  }
  return out;
}

function keyringText(entity, seed) {
  const key = crypto.createHash("sha256").update(seed).digest().subarray(0, 28).toString("base64");
  return `[${entity}]\n\tkey = ${key}\n\tcaps mds = "allow *"\n\tcaps mgr = "allow *"\n\tcaps mon = "allow *"\n\tcaps osd = "allow *"\n`;
}

function writeIfChanged(file, content) {
  try {
    if (fs.readFileSync(file, "utf8") === content) return;
  } catch {
    /* missing */
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp.${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/**
 * Make every node's /etc/pve/ceph.conf (+ /etc/pve/ceph/, the admin keyring and the
 * /etc/ceph/ceph.conf symlink) match the state. Nodes whose scope has no Ceph are left alone.
 */
function renderCeph(state) {
  const clusters = peek(state).clusters;
  for (const node of Object.values(state.nodes)) {
    if (!node.root || !fs.existsSync(node.root)) continue;
    const cluster = clusters[scopeOf(state, node.name)];
    if (!cluster) continue;
    const etc = path.join(node.root, "etc");
    writeIfChanged(path.join(etc, "pve", "ceph.conf"), renderCephConf(cluster.conf));
    fs.mkdirSync(path.join(etc, "pve", "ceph"), { recursive: true });
    writeIfChanged(path.join(etc, "pve", "priv", "ceph.client.admin.keyring"), keyringText("client.admin", cluster.fsid));
    const link = path.join(etc, "ceph", "ceph.conf");
    fs.mkdirSync(path.dirname(link), { recursive: true });
    let current = null;
    try {
      current = fs.readlinkSync(link);
    } catch {
      current = null;
    }
    if (current !== "/etc/pve/ceph.conf" && !fs.existsSync(link)) fs.symlinkSync("/etc/pve/ceph.conf", link);
  }
}

/** sim.mutate + renderCeph. */
function mutate(sim, fn) {
  return sim.mutate((state) => {
    cephState(state);
    const r = fn(state);
    reconcile(state);
    renderCeph(state);
    return r;
  });
}

/** Things Ceph does by itself: the mgr creates the .mgr pool once it runs and OSDs exist. */
function reconcile(state) {
  for (const cluster of Object.values(peek(state).clusters)) {
    if (cluster.pools[".mgr"] || cluster.mgrs.length === 0 || Object.keys(cluster.osds).length === 0) continue;
    const size = Number(globalSetting(cluster, "osd_pool_default_size", 3));
    const minSize = Number(globalSetting(cluster, "osd_pool_default_min_size", 0)) || size - Math.floor(size / 2);
    cluster.pools[".mgr"] = {
      id: cluster.nextPoolId++,
      name: ".mgr",
      size,
      minSize,
      pgNum: 1,
      pgAutoscaleMode: "on",
      application: "mgr",
      crushRule: 0,
      createdAt: Date.now(),
      stored: 0,
      objects: 0,
    };
    cluster.changedAt = Date.now();
  }
}

function newCluster(scope, conf) {
  const now = Date.now();
  return {
    scope,
    fsid: conf.global.fsid,
    createdAt: now,
    conf,
    mons: [],
    monEpoch: 0,
    mgrs: [],
    osds: {},
    osdEpoch: 1,
    hosts: {},
    pools: {},
    nextPoolId: 1,
    crushRules: [{ id: 0, name: "replicated_rule", root: "default", failureDomain: "host", deviceClass: null }],
    config: {},
    changedAt: now,
  };
}

// ---------------------------------------------------------------------------------------------
// CRUSH view

function failureDomainOf(cluster, rule) {
  if (rule && rule.failureDomain === "osd") return "osd";
  if (Number(globalSetting(cluster, "osd_crush_chooseleaf_type", 1)) === 0 && (!rule || rule.id === 0)) return "osd";
  return "host";
}

function ruleById(cluster, id) {
  return cluster.crushRules.find((r) => r.id === id) || null;
}

function ruleByName(cluster, name) {
  return cluster.crushRules.find((r) => r.name === name) || null;
}

/** Number of failure domains holding up+in OSDs that the pool's rule can use. */
function poolDomains(cluster, live, pool) {
  const rule = ruleById(cluster, pool.crushRule);
  const fd = failureDomainOf(cluster, rule);
  const usable = live.osds.filter((o) => o.up && o.in && (!rule || !rule.deviceClass || o.deviceClass === rule.deviceClass));
  return fd === "osd" ? usable.length : new Set(usable.map((o) => o.node)).size;
}

// ---------------------------------------------------------------------------------------------
// capacity

const OSD_OVERHEAD = 27 * 1024 * 1024; // what a fresh bluestore OSD reports as used

function osdUsage(cluster, live) {
  const pools = Object.values(cluster.pools);
  const totalStoredRaw = pools.reduce((s, p) => s + (p.stored || 0) * p.size, 0);
  const inOsds = live.osds.filter((o) => o.in);
  const totalIn = inOsds.reduce((s, o) => s + o.sizeBytes, 0) || 1;
  return live.osds.map((o) => {
    const share = o.in ? Math.floor((totalStoredRaw * o.sizeBytes) / totalIn) : 0;
    const used = OSD_OVERHEAD + share;
    return { osd: o, total: o.sizeBytes, used, avail: Math.max(0, o.sizeBytes - used), pgs: 0 };
  });
}

function capacity(cluster, live) {
  const per = osdUsage(cluster, live);
  const up = per.filter((u) => u.osd.up);
  const total = up.reduce((s, u) => s + u.total, 0);
  const used = up.reduce((s, u) => s + u.used, 0);
  const byClass = {};
  for (const u of up) {
    const k = u.osd.deviceClass || "hdd";
    byClass[k] ??= { total: 0, used: 0 };
    byClass[k].total += u.total;
    byClass[k].used += u.used;
  }
  return { per, total, used, avail: total - used, byClass };
}

/** MAX AVAIL of a pool: usable raw space of its rule's OSDs (full ratio 0.95) divided by size. */
function poolMaxAvail(cluster, live, pool, cap) {
  const rule = ruleById(cluster, pool.crushRule);
  const eligible = cap.per.filter((u) => u.osd.up && u.osd.in && (!rule || !rule.deviceClass || u.osd.deviceClass === rule.deviceClass));
  const raw = eligible.reduce((s, u) => s + Math.max(0, u.total * 0.95 - u.used), 0);
  return Math.floor(raw / Math.max(1, pool.size));
}

// ---------------------------------------------------------------------------------------------
// PGs and health

/** Per pool: { pool, domains, state: "active+clean"|"active+undersized+degraded"|"undersized+peered"|"unknown"|"peering" } */
function poolPgState(cluster, live, pool, settleMs, now) {
  const domains = poolDomains(cluster, live, pool);
  let st;
  if (live.osds.filter((o) => o.up).length === 0) st = "unknown";
  else if (domains < pool.minSize) st = "undersized+peered";
  else if (now < (cluster.changedAt || 0) + settleMs) st = "peering";
  else if (domains < pool.size) st = "active+undersized";
  else st = "active+clean";
  return { pool, domains, state: st };
}

function check(severity, message, count, detail) {
  return { severity, summary: { message, count }, detail: (detail || []).map((m) => ({ message: m })), muted: false };
}

function monAddrvecText(m) {
  return "[" + m.addrs.map((a) => `v2:${fmtAddr(a)}:3300/0,v1:${fmtAddr(a)}:6789/0`).join(",") + "]";
}

function fmtAddr(ip) {
  return ip.includes(":") ? `[${ip}]` : ip;
}

function extraChecks(force, live) {
  if (!force) return {};
  if (typeof force === "string") {
    const mon = live.mons[0] ? live.mons[0].name : "a";
    if (force === "HEALTH_ERR") {
      return { OSD_FULL: check("HEALTH_ERR", "1 full osd(s)", 1, ["osd.0 is full"]) };
    }
    return { MON_CLOCK_SKEW: check("HEALTH_WARN", `clock skew detected on mon.${mon}`, 1, [`mon.${mon} clock skew 0.523451s > max 0.05s (latency 0.00131s)`]) };
  }
  const res = {};
  for (const [code, c] of Object.entries(force)) {
    res[code] = check(c.severity || "HEALTH_WARN", c.message || code, c.count ?? 1, c.detail || []);
  }
  return res;
}

/** { status, checks } as `ceph health detail -f json` (checks carry detail). */
function computeHealth(state, cluster, live, now = Date.now()) {
  const knobs = simKnobs(state);
  const checks = {};
  const down = live.mons.filter((m) => !m.up);
  if (down.length > 0 && live.quorate) {
    checks.MON_DOWN = check(
      "HEALTH_WARN",
      `${down.length}/${live.mons.length} mons down, quorum ${live.quorum.map((m) => m.name).join(",")}`,
      down.length,
      down.map((m) => `mon.${m.name} (rank ${m.rank}) addr ${monAddrvecText(m)} is down (out of quorum)`),
    );
  }
  if (!live.active && live.mons.length > 0) checks.MGR_DOWN = check("HEALTH_WARN", "no active mgr", 1, []);
  const defSize = Number(globalSetting(cluster, "osd_pool_default_size", 3));
  const numOsds = live.osds.length;
  if (numOsds < defSize) checks.TOO_FEW_OSDS = check("HEALTH_WARN", `OSD count ${numOsds} < osd_pool_default_size ${defSize}`, 1, []);
  const downOsds = live.osds.filter((o) => !o.up && o.in);
  if (downOsds.length > 0) {
    checks.OSD_DOWN = check(
      "HEALTH_WARN",
      `${downOsds.length} osds down`,
      downOsds.length,
      downOsds.map((o) => `osd.${o.id} (root=default,host=${o.node}) is down`),
    );
    const hostsDown = [...new Set(live.osds.map((o) => o.node))].filter((h) => live.osds.filter((o) => o.node === h).every((o) => !o.up));
    if (hostsDown.length > 0) {
      const n = live.osds.filter((o) => hostsDown.includes(o.node)).length;
      checks.OSD_HOST_DOWN = check(
        "HEALTH_WARN",
        `${hostsDown.length} host (${n} osds) down`,
        hostsDown.length,
        hostsDown.map((h) => `host ${h} (root=default) (${live.osds.filter((o) => o.node === h).length} osds) is down`),
      );
    }
  }
  const pools = Object.values(cluster.pools).sort((a, b) => a.id - b.id);
  const pgInfo = pools.map((p) => poolPgState(cluster, live, p, knobs.settleMs, now));
  const inactive = pgInfo.filter((i) => i.state === "undersized+peered" || i.state === "unknown" || i.state === "peering");
  if (inactive.length > 0) {
    const count = inactive.reduce((s, i) => s + i.pool.pgNum, 0);
    const what = inactive.every((i) => i.state === "peering") ? "peering" : inactive.every((i) => i.state === "unknown") ? "inactive" : "inactive";
    checks.PG_AVAILABILITY = check(
      "HEALTH_WARN",
      `Reduced data availability: ${count} pgs ${what}`,
      count,
      inactive.flatMap((i) => pgDetail(i, "inactive")),
    );
  }
  const undersized = pgInfo.filter((i) => i.state === "active+undersized" || i.state === "undersized+peered");
  if (undersized.length > 0) {
    const count = undersized.reduce((s, i) => s + i.pool.pgNum, 0);
    checks.PG_DEGRADED = check("HEALTH_WARN", `Degraded data redundancy: ${count} pgs undersized`, count, undersized.flatMap((i) => pgDetail(i, "undersized")));
  }
  const noApp = pools.filter((p) => !p.application);
  if (noApp.length > 0) {
    checks.POOL_APP_NOT_ENABLED = check("HEALTH_WARN", `${noApp.length} pool(s) do not have an application enabled`, noApp.length, [
      ...noApp.map((p) => `application not enabled on pool '${p.name}'`),
      "use 'ceph osd pool application enable <pool-name> <app-name>', where <app-name> is 'cephfs', 'rbd', 'rgw', or freeform for custom applications.",
    ]);
  }
  const single = pools.filter((p) => p.size === 1);
  if (single.length > 0 && truthy(monSetting(cluster, "mon_warn_on_pool_no_redundancy", "true"))) {
    checks.POOL_NO_REDUNDANCY = check("HEALTH_WARN", `${single.length} pool(s) have no replicas configured`, single.length, single.map((p) => `pool '${p.name}' has no replicas configured`));
  }
  const npot = pools.filter((p) => p.pgNum & (p.pgNum - 1));
  if (npot.length > 0) {
    checks.POOL_PG_NUM_NOT_POWER_OF_TWO = check("HEALTH_WARN", `${npot.length} pool(s) have non-power-of-two pg_num`, npot.length, npot.map((p) => `pool '${p.name}' pg_num ${p.pgNum} is not a power of two`));
  }
  Object.assign(checks, extraChecks(peek(state).forceHealth, live));
  let status = "HEALTH_OK";
  for (const c of Object.values(checks)) {
    if (c.severity === "HEALTH_ERR") status = "HEALTH_ERR";
    else if (c.severity === "HEALTH_WARN" && status === "HEALTH_OK") status = "HEALTH_WARN";
  }
  return { status, checks, pgInfo };
}

function pgDetail(info, kind) {
  const lines = [];
  const n = Math.min(info.pool.pgNum, 3);
  for (let i = 0; i < n; i++) {
    const pgid = `${info.pool.id}.${i.toString(16)}`;
    if (kind === "inactive") {
      lines.push(info.state === "unknown" ? `pg ${pgid} is stuck inactive for 2m, current state unknown, last acting []` : `pg ${pgid} is stuck ${info.state === "peering" ? "peering" : "inactive"} for 61s, current state ${info.state}, last acting [0]`);
    } else {
      lines.push(`pg ${pgid} is stuck undersized for 61s, current state ${info.state}, last acting [0]`);
    }
  }
  return lines;
}

/** `health` without the detail arrays (as `ceph -s` and `ceph health` show it). */
function healthSummary(h) {
  const checks = {};
  for (const [k, c] of Object.entries(h.checks)) checks[k] = { severity: c.severity, summary: c.summary, muted: false };
  return { status: h.status, checks, mutes: [] };
}

/** Sum of PGs by state, as pgmap.pgs_by_state. */
function pgsByState(health) {
  const by = {};
  for (const i of health.pgInfo) {
    const st = i.state === "active+undersized" ? "active+undersized" : i.state === "undersized+peered" ? "undersized+peered" : i.state;
    by[st] = (by[st] || 0) + i.pool.pgNum;
  }
  return Object.entries(by).map(([state_name, count]) => ({ state_name, count }));
}

// ---------------------------------------------------------------------------------------------
// reports (shapes of the real JSON; ceph does not sort keys, so object literal order matters)

function fmtBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

function monmapJson(cluster, live) {
  return {
    epoch: cluster.monEpoch,
    fsid: cluster.fsid,
    modified: utime(cluster.monsChangedAt || cluster.createdAt),
    created: utime(cluster.createdAt),
    min_mon_release: 19,
    min_mon_release_name: "squid",
    election_strategy: 1,
    disallowed_leaders: "",
    stretch_mode: false,
    tiebreaker_mon: "",
    removed_ranks: "",
    features: { persistent: ["kraken", "luminous", "mimic", "osdmap-prune", "nautilus", "octopus", "pacific", "elector-pinging", "quincy", "reef", "squid"], optional: [] },
    mons: cluster.mons.map((m) => ({
      rank: m.rank,
      name: m.name,
      public_addrs: { addrvec: m.addrs.flatMap((a) => [ { type: "v2", addr: `${fmtAddr(a)}:3300`, nonce: 0 }, { type: "v1", addr: `${fmtAddr(a)}:6789`, nonce: 0 } ]) },
      addr: `${fmtAddr(m.addrs[0])}:6789/0`,
      public_addr: `${fmtAddr(m.addrs[0])}:6789/0`,
      priority: 0,
      weight: 0,
      crush_location: "{}",
    })),
    quorum: live.quorum.map((m) => m.rank),
  };
}

function mgrmapJson(cluster, live) {
  const gidOf = (m) => m.gid;
  const ip = live.active ? fmtAddr(live.active.addr || "0.0.0.0") : "0.0.0.0";
  return {
    epoch: cluster.mgrEpoch || cluster.mgrs.length + 1,
    flags: 0,
    active_gid: live.active ? gidOf(live.active) : 0,
    active_name: live.active ? live.active.name : "",
    active_addrs: { addrvec: live.active ? [{ type: "v2", addr: `${ip}:6800`, nonce: 1841 }, { type: "v1", addr: `${ip}:6801`, nonce: 1841 }] : [] },
    active_addr: live.active ? `${ip}:6801/1841` : "0.0.0.0:0/0",
    active_change: utime(cluster.createdAt),
    active_mgr_features: 4540701547738038271,
    available: !!live.active,
    standbys: live.standbys.map((m) => ({ gid: gidOf(m), name: m.name, mgr_features: 4540701547738038271, available_modules: [] })),
    modules: ["iostat", "nfs", "restful"],
    available_modules: [],
    services: {},
    always_on_modules: { squid: ["balancer", "crash", "devicehealth", "orchestrator", "pg_autoscaler", "progress", "rbd_support", "status", "telemetry", "volumes"] },
    last_failure_osd_epoch: 0,
    active_clients: [],
  };
}

function statusJson(state, cluster, live, health) {
  const cap = capacity(cluster, live);
  const pools = Object.values(cluster.pools);
  const numPgs = pools.reduce((s, p) => s + p.pgNum, 0);
  const objects = pools.reduce((s, p) => s + (p.objects || 0), 0);
  const data = pools.reduce((s, p) => s + (p.stored || 0), 0);
  return {
    fsid: cluster.fsid,
    health: healthSummary(health),
    election_epoch: 2 * cluster.mons.length + 1,
    quorum: live.quorum.map((m) => m.rank),
    quorum_names: live.quorum.map((m) => m.name),
    quorum_age: Math.max(1, Math.floor((Date.now() - (cluster.monsChangedAt || cluster.createdAt)) / 1000)),
    monmap: { epoch: cluster.monEpoch, min_mon_release_name: "squid", num_mons: cluster.mons.length },
    osdmap: {
      epoch: cluster.osdEpoch,
      num_osds: live.osds.length,
      num_up_osds: live.osds.filter((o) => o.up).length,
      osd_up_since: Math.floor((cluster.changedAt || cluster.createdAt) / 1000),
      num_in_osds: live.osds.filter((o) => o.in).length,
      osd_in_since: Math.floor((cluster.changedAt || cluster.createdAt) / 1000),
      num_remapped_pgs: 0,
    },
    pgmap: {
      pgs_by_state: pgsByState(health),
      num_pgs: numPgs,
      num_pools: pools.length,
      num_objects: objects,
      data_bytes: data,
      bytes_used: cap.used,
      bytes_avail: cap.avail,
      bytes_total: cap.total,
    },
    fsmap: { epoch: 1, by_rank: [], "up:standby": 0 },
    mgrmap: { available: !!live.active, num_standbys: live.standbys.length, modules: ["iostat", "nfs", "restful"], services: {} },
    servicemap: { epoch: 1, modified: utime(cluster.createdAt), services: {} },
    progress_events: {},
  };
}

function statusText(state, cluster, live, health) {
  const cap = capacity(cluster, live);
  const pools = Object.values(cluster.pools);
  const numPgs = pools.reduce((s, p) => s + p.pgNum, 0);
  const lines = [];
  lines.push("  cluster:");
  lines.push(`    id:     ${cluster.fsid}`);
  lines.push(`    health: ${health.status}`);
  for (const c of Object.values(health.checks)) lines.push(`            ${c.summary.message}`);
  lines.push(" ");
  lines.push("  services:");
  lines.push(`    mon: ${cluster.mons.length} daemons, quorum ${live.quorum.map((m) => m.name).join(",")} (age 2m)`);
  const mgrText = live.active ? `${live.active.name}(active, since 2m)${live.standbys.length ? `, standbys: ${live.standbys.map((m) => m.name).join(", ")}` : ""}` : "no daemons active";
  lines.push(`    mgr: ${mgrText}`);
  lines.push(`    osd: ${live.osds.length} osds: ${live.osds.filter((o) => o.up).length} up, ${live.osds.filter((o) => o.in).length} in`);
  lines.push(" ");
  lines.push("  data:");
  lines.push(`    pools:   ${pools.length} pools, ${numPgs} pgs`);
  lines.push(`    objects: ${pools.reduce((s, p) => s + (p.objects || 0), 0)} objects, ${fmtBytes(pools.reduce((s, p) => s + (p.stored || 0), 0))}`);
  lines.push(`    usage:   ${fmtBytes(cap.used)} used, ${fmtBytes(cap.avail)} / ${fmtBytes(cap.total)} avail`);
  lines.push(`    pgs:     ${pgsByState(health).map((p) => `${p.count} ${p.state_name}`).join("\n             ")}`);
  lines.push(" ");
  return lines.join("\n") + "\n";
}

function healthText(health, detail) {
  const checks = Object.entries(health.checks);
  if (!detail) return health.status + (checks.length ? " " + checks.map(([, c]) => c.summary.message).join("; ") : "") + "\n";
  let out = health.status + (checks.length ? " " + checks.map(([, c]) => c.summary.message).join("; ") : "") + "\n";
  for (const [code, c] of checks) {
    out += `[${c.severity === "HEALTH_ERR" ? "ERR" : "WRN"}] ${code}: ${c.summary.message}\n`;
    for (const d of c.detail) out += `    ${d.message}\n`;
  }
  return out;
}

function crushWeight(bytes) {
  return Math.round((bytes / 1024 ** 4) * 65536) / 65536;
}

function osdTreeJson(cluster, live) {
  const hosts = Object.entries(cluster.hosts).sort((a, b) => b[1] - a[1]);
  const nodes = [{ id: -1, name: "default", type: "root", type_id: 11, children: hosts.map(([, id]) => id).reverse() }];
  for (const [host, id] of hosts) {
    const osds = live.osds.filter((o) => o.node === host);
    nodes.push({ id, name: host, type: "host", type_id: 1, pool_weights: {}, children: osds.map((o) => o.id).reverse() });
    for (const o of osds) {
      nodes.push({
        id: o.id,
        device_class: o.deviceClass,
        name: `osd.${o.id}`,
        type: "osd",
        type_id: 0,
        crush_weight: crushWeight(o.sizeBytes),
        depth: 2,
        pool_weights: {},
        exists: 1,
        status: o.up ? "up" : "down",
        reweight: o.in ? 1 : 0,
        primary_affinity: 1,
      });
    }
  }
  return { nodes, stray: [] };
}

function poolDetailJson(cluster, pool) {
  const rule = ruleById(cluster, pool.crushRule);
  return {
    pool_id: pool.id,
    pool_name: pool.name,
    create_time: utime(pool.createdAt),
    flags: 1,
    flags_names: "hashpspool",
    type: 1,
    size: pool.size,
    min_size: pool.minSize,
    crush_rule: rule ? rule.id : pool.crushRule,
    peering_crush_bucket_count: 0,
    peering_crush_bucket_target: 0,
    peering_crush_bucket_barrier: 0,
    peering_crush_bucket_mandatory_member: 2147483647,
    object_hash: 2,
    pg_autoscale_mode: pool.pgAutoscaleMode,
    pg_num: pool.pgNum,
    pg_placement_num: pool.pgNum,
    pg_placement_num_target: pool.pgNum,
    pg_num_target: pool.pgNum,
    pg_num_pending: pool.pgNum,
    auid: 0,
    snap_mode: "selfmanaged",
    snap_seq: 0,
    snap_epoch: 0,
    pool_snaps: [],
    removed_snaps: "[]",
    quota_max_bytes: 0,
    quota_max_objects: 0,
    tiers: [],
    tier_of: -1,
    read_tier: -1,
    write_tier: -1,
    cache_mode: "none",
    target_max_bytes: 0,
    target_max_objects: 0,
    erasure_code_profile: "",
    stripe_width: 0,
    expected_num_objects: 0,
    fast_read: false,
    options: {
      ...(pool.pgNumMin ? { pg_num_min: pool.pgNumMin } : {}),
      ...(pool.targetSizeBytes ? { target_size_bytes: pool.targetSizeBytes } : {}),
      ...(pool.targetSizeRatio ? { target_size_ratio: pool.targetSizeRatio } : {}),
    },
    application_metadata: pool.application ? { [pool.application]: {} } : {},
  };
}

function osdDfJson(cluster, live) {
  const cap = capacity(cluster, live);
  const nodes = cap.per.map((u) => ({
    id: u.osd.id,
    device_class: u.osd.deviceClass,
    name: `osd.${u.osd.id}`,
    type: "osd",
    type_id: 0,
    crush_weight: crushWeight(u.osd.sizeBytes),
    depth: 2,
    pool_weights: {},
    reweight: u.osd.in ? 1 : 0,
    kb: Math.floor(u.total / 1024),
    kb_used: Math.floor(u.used / 1024),
    kb_used_data: Math.floor((u.used - OSD_OVERHEAD) / 1024),
    kb_used_omap: 0,
    kb_used_meta: Math.floor(OSD_OVERHEAD / 1024),
    kb_avail: Math.floor(u.avail / 1024),
    utilization: u.total ? (u.used / u.total) * 100 : 0,
    var: 1,
    pgs: 0,
    status: u.osd.up ? "up" : "down",
  }));
  const total = nodes.reduce((s, n) => s + n.kb, 0);
  const used = nodes.reduce((s, n) => s + n.kb_used, 0);
  return {
    nodes,
    stray: [],
    summary: {
      total_kb: total,
      total_kb_used: used,
      total_kb_used_data: nodes.reduce((s, n) => s + n.kb_used_data, 0),
      total_kb_used_omap: 0,
      total_kb_used_meta: nodes.reduce((s, n) => s + n.kb_used_meta, 0),
      total_kb_avail: total - used,
      average_utilization: total ? (used / total) * 100 : 0,
      min_var: 1,
      max_var: 1,
      dev: 0,
    },
  };
}

function dfJson(cluster, live, detail) {
  const cap = capacity(cluster, live);
  const byClass = {};
  for (const [k, v] of Object.entries(cap.byClass)) {
    byClass[k] = { total_bytes: v.total, total_avail_bytes: v.total - v.used, total_used_bytes: v.used, total_used_raw_bytes: v.used, total_used_raw_ratio: v.total ? v.used / v.total : 0 };
  }
  const pools = Object.values(cluster.pools)
    .sort((a, b) => a.id - b.id)
    .map((p) => {
      const maxAvail = poolMaxAvail(cluster, live, p, cap);
      const stored = p.stored || 0;
      const used = stored * p.size;
      const stats = {
        stored,
        objects: p.objects || 0,
        kb_used: Math.ceil(used / 1024),
        bytes_used: used,
        percent_used: used + maxAvail > 0 ? used / (used + maxAvail * p.size) : 0,
        max_avail: maxAvail,
      };
      if (detail) Object.assign(stats, { quota_objects: 0, quota_bytes: 0, dirty: 0, rd: 0, rd_bytes: 0, wr: 0, wr_bytes: 0, compress_bytes_used: 0, compress_under_bytes: 0, stored_raw: used, avail_raw: maxAvail * p.size });
      return { name: p.name, id: p.id, stats };
    });
  return {
    stats: {
      total_bytes: cap.total,
      total_avail_bytes: cap.avail,
      total_used_bytes: cap.used,
      total_used_raw_bytes: cap.used,
      total_used_raw_ratio: cap.total ? cap.used / cap.total : 0,
      num_osds: live.osds.length,
      num_per_pool_osds: live.osds.length,
      num_per_pool_omap_osds: live.osds.length,
    },
    stats_by_class: byClass,
    pools,
  };
}

/** ceph-volume lvm list report for a node: { "<osd id>": [ lv entries ] } */
function cephVolumeReport(state, nodeName, filterDev) {
  const report = {};
  for (const { vg, lv, pv, disk } of allLvs(disksOf(state, nodeName))) {
    if (!lv.tags || lv.tags["ceph.osd_id"] === undefined) continue;
    if (filterDev) {
      const want = filterDev.replace(/^\/dev\//, "");
      const lvPath = `/dev/${vg}/${lv.name}`;
      if (pv !== `/dev/${want}` && `/dev/${disk.name}` !== `/dev/${want}` && lvPath !== filterDev && `${vg}/${lv.name}` !== filterDev) continue;
    }
    const id = lv.tags["ceph.osd_id"];
    const tagString = Object.keys(lv.tags)
      .sort()
      .map((k) => `${k}=${lv.tags[k]}`)
      .join(",");
    (report[id] ||= []).push({
      devices: [pv],
      lv_name: lv.name,
      lv_path: `/dev/${vg}/${lv.name}`,
      lv_size: String(lv.size),
      lv_tags: tagString,
      lv_uuid: lv.uuid || "",
      name: lv.name,
      path: `/dev/${vg}/${lv.name}`,
      tags: { ...lv.tags },
      type: lv.tags["ceph.type"],
      vg_name: vg,
    });
  }
  return report;
}

module.exports = {
  connectClient,
  poolPgState,
  byIdLinks,
  fmtBytes,
  monmapJson,
  mgrmapJson,
  statusJson,
  statusText,
  healthText,
  crushWeight,
  osdTreeJson,
  poolDetailJson,
  osdDfJson,
  dfJson,
  cephVolumeReport,
  OSD_OVERHEAD,
  GiB,
  SIM_DEFAULTS,
  RELEASES,
  releasesFor,
  clientRelease,
  versionLine,
  cephState,
  peek,
  nodeCeph,
  installedOf,
  scopeOf,
  scopeNodes,
  clusterOf,
  pveQuorate,
  simKnobs,
  parseIp,
  parseCidr,
  ipInCidr,
  cidrBase,
  nodeAddresses,
  localIpsIn,
  uuid,
  utime,
  dmName,
  partName,
  systemDisk,
  normalizeDisk,
  disksOf,
  mutableDisks,
  findDevice,
  deviceUsage,
  allLvs,
  serviceEvents,
  daemonRunning,
  liveView,
  globalSetting,
  monSetting,
  truthy,
  renderCephConf,
  keyringText,
  renderCeph,
  mutate,
  reconcile,
  newCluster,
  failureDomainOf,
  ruleById,
  ruleByName,
  poolDomains,
  osdUsage,
  capacity,
  poolMaxAvail,
  poolPgState,
  check,
  monAddrvecText,
  fmtAddr,
  computeHealth,
  healthSummary,
  pgsByState,
};
