"use strict";
// Fake `pveceph` (proxmox/pve-manager PVE/CLI/pveceph.pm, PVE/API2/Ceph.pm, Ceph/{MON,MGR,OSD,Pool}.pm,
// PVE/Ceph/{Tools,Services}.pm), see pve-cli.md section 2 and ceph-lib.cjs for the state model.
// Implemented: install, init, mon create|destroy, mgr create|destroy, osd create|destroy,
// pool create|set|destroy|ls|get, status, start, stop (+ the old aliases createmon, createmgr,
// createosd, createpool, destroymon, destroymgr, destroyosd, destroypool, lspools).
// Exit codes follow the cmddef: mon/mgr/osd create|destroy, start and stop have upid_exit (a failed
// task exits 255); pool create|set|destroy do not (a failed task prints its error on stderr and exits 0).
const fs = require("node:fs");
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

const USAGES = [
  "pveceph init [OPTIONS]",
  "pveceph install  [OPTIONS]",
  "pveceph mgr create  [OPTIONS]",
  "pveceph mgr destroy <id>",
  "pveceph mon create  [OPTIONS]",
  "pveceph mon destroy <monid>",
  "pveceph osd create <dev> [OPTIONS]",
  "pveceph osd destroy <osdid> [OPTIONS]",
  "pveceph pool create <name> [OPTIONS]",
  "pveceph pool destroy <name> [OPTIONS]",
  "pveceph pool get <name> [OPTIONS] [FORMAT_OPTIONS]",
  "pveceph pool ls  [FORMAT_OPTIONS]",
  "pveceph pool set <name> [OPTIONS]",
  "pveceph purge  [OPTIONS]",
  "pveceph start  [OPTIONS]",
  "pveceph status",
  "pveceph stop  [OPTIONS]",
  "",
  "pveceph help [<extra-args>] [OPTIONS]",
];

const FORMAT_OPTIONS = { "output-format": "string", noborder: "boolean", noheader: "boolean", quiet: "boolean", "human-readable": "boolean" };

const SERVICE_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

// ---------------------------------------------------------------------------------------------
// checks shared by the subcommands (PVE::Ceph::Tools)

function installed(state, node) {
  return ceph.installedOf(state, node.name);
}

function checkInstalled(state, node, bin) {
  if (!installed(state, node)) lib.die(`binary not installed: /usr/bin/${bin}\n`);
}

/** check_ceph_inited: ceph-mon installed, /etc/pve/ceph.conf and /etc/pve/ceph present. */
function checkInited(state, node) {
  checkInstalled(state, node, "ceph-mon");
  const cluster = ceph.clusterOf(state, node.name);
  if (!cluster) lib.die("pveceph configuration not initialized - missing '/etc/pve/ceph.conf', missing '/etc/pve/ceph'\n");
  return cluster;
}

function checkQuorum(state, node) {
  if (!ceph.pveQuorate(state, node.name)) lib.die("cluster not ready - no quorum?\n");
}

/** PVE::RADOS->new(): needs monitors with quorum. */
function rados(sim, state, cluster) {
  if (cluster.mons.length === 0) lib.die("rados_connect failed - No such file or directory\n");
  const live = ceph.liveView(state, cluster, sim.stateDir);
  if (!live.quorate) lib.die("rados_connect failed - Connection timed out\n");
  return live;
}

function systemctl(sim, verb, unit) {
  sim.logTool("systemctl", [verb, unit]);
}

// ---------------------------------------------------------------------------------------------
// install

function cmdInstall(sim, argv) {
  const { node } = sim.self();
  const { available, def } = ceph.releasesFor(node.pveVersion);
  const usage = "pveceph install  [OPTIONS]";
  const { opts } = lib.parseCli(argv, { usage, args: [], options: { version: "string", repository: "string", "allow-experimental": "boolean" } });
  if (opts.version !== undefined && !available.includes(opts.version))
    lib.paramError({ version: `value '${opts.version}' does not have a value in the enumeration '${available.join(", ")}'` }, usage);
  const repos = ["enterprise", "no-subscription", "test", "manual"];
  if (opts.repository !== undefined && !repos.includes(opts.repository))
    lib.paramError({ repository: `value '${opts.repository}' does not have a value in the enumeration '${repos.join(", ")}'` }, usage);
  const release = opts.version || def;
  const repo = opts.repository || "enterprise";
  const info = ceph.RELEASES[release];
  const rendered = `${info.release} ${release[0].toUpperCase()}${release.slice(1)}`;

  if (repo === "enterprise") lib.err("\nWARN: Enterprise repository selected, but no active subscription!\n\n");
  else if (repo === "no-subscription")
    lib.err("\nHINT: The no-subscription repository is not the best choice for production setups.\nProxmox recommends using the enterprise repository with a valid subscription.\n");
  else if (repo === "manual")
    lib.err("\nHINT: The manual repository option expects that the Ceph repository is already correctly configured. For example, when used in combination with Proxmox Offline Mirror.\n");
  else lib.err("\nWARN: The test repository should only be used for test setups or after consulting the official Proxmox support!\n\n");

  if (process.stdout.isTTY && !opts.version) {
    lib.out(`This will install Ceph ${rendered} - continue (y/N)? `);
    const answer = lib.readLine();
    if (!(answer && /^\s*y(?:es)?\s*$/i.test(answer))) lib.die("Aborting installation as requested\n");
  }

  const major = lib.parseVersion(node.pveVersion).major;
  if (repo !== "manual") {
    const cdn = repo === "enterprise" ? "https://enterprise.proxmox.com" : "http://download.proxmox.com";
    if (major >= 9) {
      fs.mkdirSync("/etc/apt/sources.list.d", { recursive: true });
      fs.writeFileSync(
        "/etc/apt/sources.list.d/ceph.sources",
        `Types: deb\nURIs: ${cdn}/debian/ceph-${release}\nSuites: trixie\nComponents: ${repo}\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n`,
      );
    } else {
      fs.mkdirSync("/etc/apt/sources.list.d", { recursive: true });
      fs.writeFileSync("/etc/apt/sources.list.d/ceph.list", `deb ${cdn}/debian/ceph-${release} bookworm ${repo}\n`);
    }
  }
  lib.out("update available package list\n");
  lib.out("start installation\n");
  const prev = installed(sim.read(), node);
  if (prev && prev.release === release) {
    lib.out("Reading package lists...\nBuilding dependency tree...\nReading state information...\n");
    for (const p of ["ceph", "ceph-common", "ceph-fuse", "ceph-mds", "ceph-volume", "gdisk", "nvme-cli"]) lib.out(`${p} is already the newest version (${p === "gdisk" ? "1.0.10-2" : p === "nvme-cli" ? "2.13-2" : info.pkg}).\n`);
    lib.out("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n");
  } else {
    lib.out("Reading package lists...\nBuilding dependency tree...\nReading state information...\n");
    lib.out("The following NEW packages will be installed:\n  ceph ceph-base ceph-mds ceph-mgr ceph-mgr-modules-core ceph-mon ceph-osd ceph-volume gdisk nvme-cli\n");
    for (const p of ["ceph-base", "ceph-mon", "ceph-mgr-modules-core", "ceph-mgr", "ceph-osd", "ceph-volume", "ceph-mds", "ceph"]) lib.out(`Setting up ${p} (${info.pkg}) ...\n`);
  }
  ceph.mutate(sim, (s) => {
    ceph.nodeCeph(s, node.name).installed = { release, version: info.pkg, repository: repo, at: Date.now() };
  });
  lib.out(`\ninstalled Ceph ${rendered} successfully!\n`);
  lib.out("\nreloading API to load new Ceph RADOS library...\n");
  systemctl(sim, "try-reload-or-restart", "pvedaemon.service");
  return 0;
}

// ---------------------------------------------------------------------------------------------
// init

function cmdInit(sim, argv) {
  const usage = "pveceph init [OPTIONS]";
  const { opts } = lib.parseCli(argv, {
    usage,
    args: [],
    options: { network: "string", "cluster-network": "string", size: "integer", min_size: "integer", pg_bits: "integer", disable_cephx: "boolean" },
  });
  const errors = {};
  for (const k of ["network", "cluster-network"]) if (opts[k] !== undefined && !ceph.parseCidr(opts[k])) errors[k] = `value does not look like a valid CIDR network`;
  if (opts["cluster-network"] !== undefined && opts.network === undefined) errors["cluster-network"] = "parameter 'cluster-network' requires parameter 'network'";
  for (const k of ["size", "min_size"]) if (opts[k] !== undefined && (opts[k] < 1 || opts[k] > 7)) errors[k] = opts[k] < 1 ? "value must have a minimum value of 1" : "value must have a maximum value of 7";
  if (Object.keys(errors).length) lib.paramError(errors, usage);
  const { state, node } = sim.self();
  // `ceph --version` of ceph-common (always present on PVE, >= 14) passes the Nautilus check.
  const link = "/etc/ceph/ceph.conf";
  let lst = null;
  try {
    lst = fs.lstatSync(link);
  } catch {
    lst = null;
  }
  if (lst && !lst.isSymbolicLink()) lib.die(`file '${link}' already exists and is not a symlink to /etc/pve/ceph.conf\n`);
  checkQuorum(state, node);
  const auth = opts.disable_cephx ? "none" : "cephx";
  ceph.mutate(sim, (s) => {
    const c = ceph.cephState(s);
    const scope = ceph.scopeOf(s, node.name);
    let cluster = c.clusters[scope];
    if (!cluster) {
      const conf = {
        global: {
          fsid: ceph.uuid(),
          auth_cluster_required: auth,
          auth_service_required: auth,
          auth_client_required: auth,
          osd_pool_default_size: opts.size ?? 3,
          osd_pool_default_min_size: opts.min_size ?? 2,
          mon_allow_pool_delete: "true",
        },
      };
      cluster = c.clusters[scope] = ceph.newCluster(scope, conf);
    }
    if (auth === "cephx") cluster.conf.client = { ...(cluster.conf.client || {}), keyring: "/etc/pve/priv/$cluster.$name.keyring" };
    if (opts.network) {
      cluster.conf.global.public_network = opts.network;
      cluster.conf.global.cluster_network = opts.network;
    }
    if (opts["cluster-network"]) cluster.conf.global.cluster_network = opts["cluster-network"];
  });
  return 0;
}

// ---------------------------------------------------------------------------------------------
// mon

function ipsFromMonHost(monHost) {
  const ips = [];
  for (let h of String(monHost || "").split(/[\s,;]+/).filter(Boolean)) {
    h = h.replace(/^\[?v\d+:/, "").replace(/\/\d+\]?$/, "");
    const m = /^\[([^\]]+)\](?::\d+)?$/.exec(h) || /^([^:]+)(?::\d+)?$/.exec(h) || /^(.*)$/.exec(h);
    if (ceph.parseIp(m[1])) ips.push(m[1]);
  }
  return ips;
}

function findMonIps(state, cluster, node, monAddress) {
  const overwrite = [...new Set(String(monAddress || "").split(/[\s,;]+/).filter(Boolean))];
  const pubnet = cluster.conf.global.public_network;
  if (!pubnet) return overwrite.length ? overwrite : [node.ip];
  const nets = pubnet.split(/[\s,;]+/).filter(Boolean);
  if (nets.length > 1) {
    lib.err(`Multiple Ceph public networks detected on ${node.name}: ${pubnet}\n`);
    lib.err("Networks must be capable of routing to each other.\n");
  }
  const res = [];
  if (overwrite.length === 0) {
    for (const net of nets) {
      const allowed = ceph.localIpsIn(state, node.name, net);
      if (allowed.length < 1) lib.die(`No active IP found for the requested ceph public network '${net}' on node '${node.name}'\n`);
      if (allowed.length > 1) lib.die(`Multiple IPs for ceph public network '${net}' detected on ${node.name}:\n${allowed.join("\n")}\nuse 'mon-address' to specify one of them.\n`);
      res.push(allowed[0]);
    }
  } else {
    const allowed = ceph.localIpsIn(state, node.name, pubnet);
    for (const ip of overwrite) {
      if (!allowed.includes(ip)) lib.die(`Specified monitor IP '${ip}' not configured or up on ${node.name}!\n`);
      res.push(ip);
    }
  }
  return res;
}

function assertMonPrerequisites(cluster, monid, ips) {
  const used = new Set(ipsFromMonHost(cluster.conf.global.mon_host));
  for (const m of cluster.mons) for (const a of m.addrs) used.add(a);
  for (const ip of ips) if (used.has(ip)) lib.die(`monitor address '${ip}' already in use\n`);
  if (cluster.mons.some((m) => m.name === monid)) lib.die(`monitor '${monid}' already exists\n`);
}

function monmapLines(cluster, fsid, epoch, mons) {
  let o = `setting min_mon_release = ${epoch === 0 ? "octopus" : "squid"}\n`;
  o += `epoch ${epoch}\nfsid ${fsid}\nlast_changed ${ceph.utime(Date.now())}\ncreated ${ceph.utime(cluster.createdAt)}\n`;
  o += epoch === 0 ? "min_mon_release 15 (octopus)\n" : "min_mon_release 19 (squid)\n";
  o += "election_strategy: 1\n";
  mons.forEach((m, i) => (o += `${i}: ${ceph.monAddrvecText(m)} mon.${m.name}\n`));
  return o;
}

function mgrCreateLines(id) {
  return (
    `creating manager directory '/var/lib/ceph/mgr/ceph-${id}'\n` +
    `creating keys for 'mgr.${id}'\n` +
    "setting owner for directory\n" +
    `enabling service 'ceph-mgr@${id}.service'\n` +
    `Created symlink /etc/systemd/system/ceph-mgr.target.wants/ceph-mgr@${id}.service -> /lib/systemd/system/ceph-mgr@.service.\n` +
    `starting service 'ceph-mgr@${id}.service'\n`
  );
}

function addMgr(s, cluster, node, id) {
  const ips = ceph.localIpsIn(s, node.name, cluster.conf.global.public_network || "");
  cluster.mgrs.push({ name: id, node: node.name, gid: 4100 + Math.floor(Math.random() * 900000), addr: ips[0] || node.ip, createdAt: Date.now() });
  cluster.mgrEpoch = (cluster.mgrEpoch || 1) + 1;
}

function cmdMonCreate(sim, argv) {
  const usage = "pveceph mon create  [OPTIONS]";
  const { opts } = lib.parseCli(argv, { usage, args: [], options: { monid: "string", "mon-address": "string" } });
  if (opts.monid !== undefined && !SERVICE_RE.test(opts.monid)) lib.paramError({ monid: `value does not match the regex pattern` }, usage);
  if (opts["mon-address"] !== undefined && opts["mon-address"].split(/[\s,;]+/).some((ip) => ip && !ceph.parseIp(ip)))
    lib.paramError({ "mon-address": `value '${opts["mon-address"]}' does not look like a valid IP address` }, usage);
  const { state, node } = sim.self();
  checkInstalled(state, node, "ceph-mon");
  const cluster = checkInited(state, node);
  const first = cluster.mons.length === 0 && !cluster.conf.global.mon_host;
  let live = null;
  if (cluster.mons.length > 0) {
    live = ceph.liveView(state, cluster, sim.stateDir);
    if (!live.quorate) lib.die("Could not connect to ceph cluster despite configured monitors\n");
  } else {
    // the rados connect attempt of the parent, before the fork
    lib.err("unable to get monitor info from DNS SRV with service name: ceph-mon\n");
    lib.err("rados_connect failed - No such file or directory\n");
    if (!first) lib.die("Could not connect to ceph cluster despite configured monitors\n");
  }
  const monid = opts.monid || node.name;
  const ips = findMonIps(state, cluster, node, opts["mon-address"]);
  assertMonPrerequisites(cluster, monid, ips);

  lib.worker(
    () => {
      if (!ceph.pveQuorate(sim.read(), node.name)) lib.die("cfs-lock 'file-ceph_conf' error: no quorum!\n");
      let out = "";
      let mgrCreated = false;
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        assertMonPrerequisites(c, monid, ips);
        if (first) {
          out += "creating new monitor keyring\n";
          out += "creating /etc/pve/priv/ceph.mon.keyring\n";
          out += "importing contents of /etc/pve/priv/ceph.client.admin.keyring into /etc/pve/priv/ceph.mon.keyring\n";
        }
        const mon = { name: monid, node: node.name, addrs: ips, rank: c.mons.length, createdAt: Date.now() };
        const mons = [...c.mons, mon];
        out += "monmaptool: monmap file /tmp/monmap\n";
        if (first) out += `monmaptool: generated fsid ${c.fsid}\n`;
        out += monmapLines(c, c.fsid, first ? 0 : c.monEpoch, mons);
        out += `monmaptool: writing epoch ${first ? 0 : c.monEpoch} to /tmp/monmap (${mons.length} monitors)\n`;
        c.mons = mons;
        c.monEpoch = (c.monEpoch || 0) + 1;
        c.monsChangedAt = Date.now();
        const g = c.conf.global;
        const ip0 = ips[0];
        if (ip0.includes(":")) {
          g.ms_bind_ipv6 = "true";
          if (first) g.ms_bind_ipv4 = "false";
        } else {
          g.ms_bind_ipv4 = "true";
          if (first) g.ms_bind_ipv6 = "false";
        }
        g.mon_host = `${g.mon_host || ""} ${ips.join(" ")}`.trim();
        c.conf[`mon.${monid}`] = { public_addr: ip0 };
        if (first) {
          out += "created the first monitor, assume it's safe to disable insecure global ID reclaim for new setup\n";
          c.config.mon = { ...(c.config.mon || {}), auth_allow_insecure_global_id_reclaim: "false" };
          out += "Configuring keyring for ceph-crash.service\n";
          c.conf["client.crash"] = { keyring: "/etc/pve/ceph/$cluster.$name.keyring" };
        }
        out += `Created symlink /etc/systemd/system/ceph-mon.target.wants/ceph-mon@${monid}.service -> /lib/systemd/system/ceph-mon@.service.\n`;
        if (first && !c.mgrs.some((m) => m.name === node.name)) {
          addMgr(s, c, node, node.name);
          mgrCreated = true;
        }
      });
      lib.out(out);
      if (mgrCreated) lib.out(mgrCreateLines(node.name));
    },
    { upidExit: true },
  );
  return 0;
}

function cmdMonDestroy(sim, argv) {
  const usage = "pveceph mon destroy <monid>";
  const { args } = lib.parseCli(argv, { usage, args: ["monid"] });
  const { state, node } = sim.self();
  const cluster = checkInited(state, node);
  rados(sim, state, cluster);
  const monid = args.monid;
  const assertCanRemove = (c) => {
    const mon = c.mons.find((m) => m.name === monid);
    if (!mon) lib.die(`no such monitor id '${monid}'\n`);
    if (mon.node !== node.name) lib.die(`monitor filesystem '/var/lib/ceph/mon/ceph-${monid}' does not exist on this node\n`);
    if (c.mons.length <= 1) lib.die("can't remove last monitor\n");
    return mon;
  };
  assertCanRemove(cluster);
  lib.worker(
    () => {
      if (!ceph.pveQuorate(sim.read(), node.name)) lib.die("cfs-lock 'file-ceph_conf' error: no quorum!\n");
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        const mon = assertCanRemove(c);
        c.mons = c.mons.filter((m) => m !== c.mons.find((x) => x.name === mon.name)).map((m, i) => ({ ...m, rank: i }));
        c.monEpoch++;
        c.monsChangedAt = Date.now();
        delete c.conf[`mon.${monid}`];
        const left = ipsFromMonHost(c.conf.global.mon_host).filter((ip) => !mon.addrs.includes(ip));
        c.conf.global.mon_host = left.join(" ");
      });
      systemctl(sim, "disable", `ceph-mon@${monid}.service`);
      lib.out(`Removed "/etc/systemd/system/ceph-mon.target.wants/ceph-mon@${monid}.service".\n`);
    },
    { upidExit: true },
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------
// mgr

function cmdMgrCreate(sim, argv) {
  const usage = "pveceph mgr create  [OPTIONS]";
  const { opts } = lib.parseCli(argv, { usage, args: [], options: { id: "string" } });
  if (opts.id !== undefined && !SERVICE_RE.test(opts.id)) lib.paramError({ id: "value does not match the regex pattern" }, usage);
  const { state, node } = sim.self();
  checkInstalled(state, node, "ceph-mgr");
  checkInited(state, node);
  const id = opts.id || node.name;
  lib.worker(
    () => {
      const s0 = sim.read();
      const c0 = ceph.clusterOf(s0, node.name);
      rados(sim, s0, c0);
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        if (c.mgrs.some((m) => m.name === id && m.node === node.name)) lib.die(`ceph manager directory '/var/lib/ceph/mgr/ceph-${id}' already exists\n`);
        if (c.mgrs.some((m) => m.name === id)) lib.die(`mon_command failed - entity mgr.${id} exists but caps do not match\n`);
        addMgr(s, c, node, id);
      });
      lib.out(mgrCreateLines(id));
    },
    { upidExit: true },
  );
  return 0;
}

function cmdMgrDestroy(sim, argv) {
  const usage = "pveceph mgr destroy <id>";
  const { args } = lib.parseCli(argv, { usage, args: ["id"] });
  const { state, node } = sim.self();
  checkInited(state, node);
  const id = args.id;
  lib.worker(
    () => {
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        const mgr = c.mgrs.find((m) => m.name === id && m.node === node.name);
        if (!mgr) lib.die(`ceph manager directory '/var/lib/ceph/mgr/ceph-${id}' not found\n`);
        c.mgrs = c.mgrs.filter((m) => m !== mgr);
        c.mgrEpoch = (c.mgrEpoch || 1) + 1;
      });
      lib.out(`disabling service 'ceph-mgr@${id}.service'\n`);
      lib.out(`Removed "/etc/systemd/system/ceph-mgr.target.wants/ceph-mgr@${id}.service".\n`);
      lib.out(`stopping service 'ceph-mgr@${id}.service'\n`);
      lib.out(`removing manager directory '/var/lib/ceph/mgr/ceph-${id}'\n`);
      lib.out(`removing authkeys for mgr.${id}\n`);
      systemctl(sim, "disable", `ceph-mgr@${id}.service`);
    },
    { upidExit: true },
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------
// osd

function deviceClassOf(disk) {
  if (disk.name.startsWith("nvme")) return "nvme";
  return disk.rotational ? "hdd" : "ssd";
}

function lvTags({ cluster, osd, type, vg, lv, deviceClass, blockVg, blockLv, db, wal, encrypted }) {
  const tags = {
    "ceph.block_device": `/dev/${blockVg}/${blockLv}`,
    "ceph.block_uuid": osd.blockUuid,
    "ceph.cephx_lockbox_secret": "",
    "ceph.cluster_fsid": cluster.fsid,
    "ceph.cluster_name": "ceph",
    "ceph.crush_device_class": deviceClass || "",
    "ceph.encrypted": encrypted ? "1" : "0",
    "ceph.osd_fsid": osd.uuid,
    "ceph.osd_id": String(osd.id),
    "ceph.osdspec_affinity": "",
    "ceph.type": type,
    "ceph.vdo": "0",
    "ceph.with_tpm": "0",
  };
  if (db) {
    tags["ceph.db_device"] = db.path;
    tags["ceph.db_uuid"] = db.uuid;
  }
  if (wal) {
    tags["ceph.wal_device"] = wal.path;
    tags["ceph.wal_uuid"] = wal.uuid;
  }
  void vg;
  void lv;
  return tags;
}

const lvUuid = () => {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const pick = (n) => Array.from({ length: n }, () => abc[Math.floor(Math.random() * abc.length)]).join("");
  return [pick(6), pick(4), pick(4), pick(4), pick(4), pick(4), pick(6)].join("-");
};

function cmdOsdCreate(sim, argv) {
  const usage = "pveceph osd create <dev> [OPTIONS]";
  const { args, opts } = lib.parseCli(argv, {
    usage,
    args: ["dev"],
    options: {
      db_dev: "string",
      db_dev_size: "string",
      wal_dev: "string",
      wal_dev_size: "string",
      encrypted: "boolean",
      "crush-device-class": "string",
      "osds-per-device": "integer",
    },
  });
  const errors = {};
  if (opts["osds-per-device"] !== undefined && opts["osds-per-device"] < 1) errors["osds-per-device"] = "value must have a minimum value of 1";
  if (opts["osds-per-device"]) for (const t of ["db_dev", "wal_dev"]) if (opts[t]) errors[t] = `cannot use 'osds-per-device' parameter with '${t}'`;
  for (const t of ["db", "wal"]) if (opts[`${t}_dev_size`] !== undefined && opts[`${t}_dev`] === undefined) errors[`${t}_dev_size`] = `parameter '${t}_dev_size' requires parameter '${t}_dev'`;
  if (Object.keys(errors).length) lib.paramError(errors, usage);
  const { state, node } = sim.self();
  const cluster = checkInited(state, node);
  checkInstalled(state, node, "ceph-osd");
  const g = cluster.conf.global;
  const osdNet = g.cluster_network || g.public_network;
  if (osdNet && ceph.localIpsIn(state, node.name, osdNet).length < 1)
    lib.die(`No address from ceph cluster network (${ceph.cidrBase(osdNet)}) found on node '${node.name}'. Check your network config.\n`);
  const disks = ceph.disksOf(state, node.name);
  const devs = {};
  for (const t of ["dev", "db_dev", "wal_dev"]) {
    const p = t === "dev" ? args.dev : opts[t];
    if (!p) continue;
    if (!/^\/dev\//.test(p) || !ceph.findDevice(disks, p)) lib.die("not a valid block device\n");
    if (Object.values(devs).some((d) => d.path === p)) lib.paramError({ [t]: `cannot chose '${p}' for more than one type.` }, usage);
    devs[t] = { path: p, name: p.replace(/^\/dev\//, "") };
  }
  const testRequirements = (dsk) => {
    const d = ceph.findDevice(dsk, devs.dev.path);
    if (!d) lib.die(`unable to get device info for '${devs.dev.path}'\n`);
    if (ceph.deviceUsage(d.dev) || (d.part === null && d.disk.system)) lib.die(`device '${devs.dev.path}' is already in use\n`);
    for (const t of ["db_dev", "wal_dev"]) {
      if (!devs[t]) continue;
      const x = ceph.findDevice(dsk, devs[t].path);
      if (!x) lib.die(`unable to get device info for '${devs[t].path}' for type ${t}\n`);
      const usage2 = ceph.deviceUsage(x.dev);
      if (usage2 && usage2 !== "partitions" && usage2 !== "LVM") lib.die(`device '${devs[t].path}' is already in use and has no LVM on it\n`);
    }
  };
  testRequirements(disks);
  rados(sim, state, cluster);

  lib.worker(
    () => {
      let out = "";
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        const dsk = ceph.mutableDisks(s, node.name);
        testRequirements(dsk);
        const target = ceph.findDevice(dsk, devs.dev.path).dev;
        const base = target;
        const diskOf = ceph.findDevice(dsk, devs.dev.path).disk;
        const deviceClass = opts["crush-device-class"] || deviceClassOf(diskOf);
        out += `create OSD on ${devs.dev.path} (bluestore)\n`;
        // db / wal
        const extra = {};
        for (const t of ["db", "wal"]) {
          const d = devs[`${t}_dev`];
          if (!d) continue;
          const osdSize = base.size;
          const size = opts[`${t}_dev_size`] !== undefined ? Math.round(Number(opts[`${t}_dev_size`]) * 1024 ** 3) : t === "db" ? Math.floor(osdSize / 10) : Math.floor(osdSize / 100);
          out += `creating block.${t} on '${d.path}'\n`;
          const x = ceph.findDevice(dsk, d.path).dev;
          if (x.size < size) lib.die(`'${d.path}' is smaller than requested size '${size}' bytes\n`);
          const lvName = `osd-${t}-${ceph.uuid()}`;
          let vg;
          if (!ceph.deviceUsage(x)) {
            vg = `ceph-${ceph.uuid()}`;
            out += `  Physical volume "${d.path}" successfully created.\n  Volume group "${vg}" successfully created\n`;
            x.lvm = { vg, lvs: [] };
          } else if (x.lvm) {
            vg = x.lvm.vg;
            if (!/^ceph-/.test(vg)) lib.die(`no ceph vg found on '${d.path}'\n`);
            const free = x.size - x.lvm.lvs.reduce((sum, l) => sum + l.size, 0);
            if (free < size) lib.die(`vg '${vg}' has not enough free space\n`);
          } else {
            lib.die(`cannot use '${d.path}' for 'osd-${t}'\n`);
          }
          const lv = { name: lvName, size: Math.floor(size / 1024) * 1024, uuid: lvUuid() };
          x.lvm.lvs.push(lv);
          out += `  Logical volume "${lvName}" created.\n`;
          out += `using '${vg}/${lvName}' for block.${t}\n`;
          extra[t] = { lv, vg, path: `/dev/${vg}/${lvName}`, uuid: lv.uuid, device: d.path, sizeBytes: lv.size };
        }
        out += `wiping block device ${devs.dev.path}\n`;
        out += "200+0 records in\n200+0 records out\n209715200 bytes (210 MB, 200 MiB) copied, 0.221059 s, 949 MB/s\n";
        const n = opts["osds-per-device"] || 1;
        const vg = `ceph-${ceph.uuid()}`;
        const each = Math.floor(base.size / n / 4194304) * 4194304;
        target.lvm = { vg, lvs: [] };
        const used = new Set(Object.keys(c.osds).map(Number));
        for (let i = 0; i < n; i++) {
          let id = 0;
          while (used.has(id)) id++;
          used.add(id);
          const osd = { id, uuid: ceph.uuid(), blockUuid: lvUuid() };
          const lvName = `osd-block-${osd.uuid}`;
          out += "Running command: /usr/bin/ceph-authtool --gen-print-key\n";
          out += `Running command: /usr/bin/ceph --cluster ceph --name client.bootstrap-osd --keyring /var/lib/ceph/bootstrap-osd/ceph.keyring -i - osd new ${osd.uuid}\n`;
          if (i === 0) {
            out += `Running command: vgcreate --force --yes ${vg} ${devs.dev.path}\n`;
            out += ` stdout: Physical volume "${devs.dev.path}" successfully created.\n`;
            out += ` stdout: Volume group "${vg}" successfully created\n`;
          }
          out += `Running command: lvcreate --yes -l ${Math.floor(each / 4194304)} -n ${lvName} ${vg}\n`;
          out += ` stdout: Logical volume "${lvName}" created.\n`;
          out += `Running command: /usr/bin/ceph-authtool --gen-print-key\nRunning command: /usr/bin/mount -t tmpfs tmpfs /var/lib/ceph/osd/ceph-${id}\n`;
          out += ` stderr: got monmap epoch ${c.monEpoch}\n`;
          out += `--> Creating keyring file for osd.${id}\n`;
          out += `Running command: /usr/bin/ceph-osd --cluster ceph --osd-objectstore bluestore --mkfs -i ${id} --monmap /var/lib/ceph/osd/ceph-${id}/activate.monmap --keyfile - --osdspec-affinity '' --osd-data /var/lib/ceph/osd/ceph-${id}/ --osd-uuid ${osd.uuid} --setuser ceph --setgroup ceph\n`;
          out += `--> ceph-volume lvm prepare successful for: ${vg}/${lvName}\n`;
          out += `Running command: /usr/bin/systemctl enable ceph-volume@lvm-${id}-${osd.uuid}\n`;
          out += ` stderr: Created symlink /etc/systemd/system/multi-user.target.wants/ceph-volume@lvm-${id}-${osd.uuid}.service -> /lib/systemd/system/ceph-volume@.service.\n`;
          out += `Running command: /usr/bin/systemctl enable --runtime ceph-osd@${id}\n`;
          out += ` stderr: Created symlink /run/systemd/system/ceph-osd.target.wants/ceph-osd@${id}.service -> /lib/systemd/system/ceph-osd@.service.\n`;
          out += `Running command: /usr/bin/systemctl start ceph-osd@${id}\n`;
          out += `--> ceph-volume lvm activate successful for osd ID: ${id}\n`;
          out += `--> ceph-volume lvm create successful for: ${vg}/${lvName}\n`;
          const lv = { name: lvName, size: each, uuid: osd.blockUuid, fstype: "ceph_bluestore" };
          lv.tags = lvTags({ cluster: c, osd, type: "block", deviceClass: opts["crush-device-class"], blockVg: vg, blockLv: lvName, db: extra.db, wal: extra.wal, encrypted: opts.encrypted });
          target.lvm.lvs.push(lv);
          for (const t of ["db", "wal"]) {
            if (!extra[t]) continue;
            extra[t].lv.tags = lvTags({ cluster: c, osd, type: t, deviceClass: opts["crush-device-class"], blockVg: vg, blockLv: lvName, db: extra.db, wal: extra.wal, encrypted: opts.encrypted });
          }
          if (c.hosts[node.name] === undefined) {
            const ids = Object.values(c.hosts);
            c.hosts[node.name] = ids.length ? Math.min(...ids) - 2 : -3;
          }
          c.osds[id] = {
            id,
            uuid: osd.uuid,
            node: node.name,
            device: devs.dev.path,
            vg,
            lv: lvName,
            sizeBytes: each,
            deviceClass,
            in: true,
            encrypted: !!opts.encrypted,
            createdAt: Date.now(),
            ...(extra.db ? { db: { device: extra.db.device, vg: extra.db.vg, lv: extra.db.lv.name, sizeBytes: extra.db.sizeBytes } } : {}),
            ...(extra.wal ? { wal: { device: extra.wal.device, vg: extra.wal.vg, lv: extra.wal.lv.name, sizeBytes: extra.wal.sizeBytes } } : {}),
          };
          c.osdEpoch += 2;
        }
        c.changedAt = Date.now();
      });
      lib.out(out);
    },
    { upidExit: true },
  );
  return 0;
}

/** ceph-volume lvm zap --osd-id N [--destroy] on this node's disks (inside a mutate). */
function zapOsdLvs(s, nodeName, osdId, destroy) {
  let out = "";
  const dsk = ceph.mutableDisks(s, nodeName);
  for (const disk of dsk) {
    for (const dev of [disk, ...(disk.partitions || [])]) {
      if (!dev.lvm) continue;
      const mine = dev.lvm.lvs.filter((l) => l.tags && l.tags["ceph.osd_id"] === String(osdId));
      if (mine.length === 0) continue;
      for (const lv of mine) {
        out += `--> Zapping: /dev/${dev.lvm.vg}/${lv.name}\n`;
        out += `Running command: /usr/bin/dd if=/dev/zero of=/dev/${dev.lvm.vg}/${lv.name} bs=1M count=10 conv=fsync\n`;
        out += " stderr: 10+0 records in\n10+0 records out\n 10485760 bytes (10 MB, 10 MiB) copied, 0.0244 s, 430 MB/s\n";
        delete lv.tags;
      }
      if (destroy) {
        dev.lvm.lvs = dev.lvm.lvs.filter((l) => !mine.includes(l));
        if (dev.lvm.lvs.length === 0) {
          out += `--> Only 1 LV left in VG, will proceed to destroy volume group ${dev.lvm.vg}\n`;
          out += `Running command: vgremove -v -f ${dev.lvm.vg}\n`;
          out += ` stderr: Removing ${ceph.dmName(dev.lvm.vg, mine[0].name)} (252:0)\n`;
          out += ` stdout: Volume group "${dev.lvm.vg}" successfully removed\n`;
          delete dev.lvm;
          out += `--> Zapping: /dev/${dev.name}\nRunning command: /usr/bin/dd if=/dev/zero of=/dev/${dev.name} bs=1M count=10 conv=fsync\n`;
        }
      }
    }
  }
  out += `--> Zapping successful for OSD: ${osdId}\n`;
  return out;
}

function cmdOsdDestroy(sim, argv) {
  const usage = "pveceph osd destroy <osdid> [OPTIONS]";
  const { args, opts } = lib.parseCli(argv, { usage, args: ["osdid"], options: { cleanup: "boolean" } });
  if (!/^\d+$/.test(args.osdid)) lib.paramError({ osdid: `type check ('integer') failed - got '${args.osdid}'` }, usage);
  const id = Number(args.osdid);
  const { state, node } = sim.self();
  const cluster = checkInited(state, node);
  const live = rados(sim, state, cluster);
  const osd = live.osds.find((o) => o.id === id);
  if (!osd || osd.node !== node.name) lib.die(`OSD osd.${id} does not belong to node ${node.name}! at /usr/share/perl5/PVE/API2/Ceph/OSD.pm line 1008.\n`);
  if (osd.in) lib.die("osd is in use (in == 1)\n");
  if (osd.up) lib.die("osd is still running (up == 1)\n");
  lib.worker(
    () => {
      let out = `destroy OSD osd.${id}\n`;
      out += `Remove osd.${id} from the CRUSH map\n`;
      out += `Remove the osd.${id} authentication key.\n`;
      out += `Remove OSD osd.${id}\n`;
      out += `Remove osd.${id} mclock max capacity iops settings from config\n`;
      systemctl(sim, "stop", `ceph-osd@${id}.service`);
      systemctl(sim, "disable", `ceph-osd@${id}.service`);
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        delete c.osds[id];
        c.osdEpoch += 2;
        c.changedAt = Date.now();
        out += zapOsdLvs(s, node.name, id, !!opts.cleanup);
      });
      lib.out(out);
    },
    { upidExit: true },
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------
// pools

const POOL_OPTIONS = {
  size: "integer",
  min_size: "integer",
  pg_num: "integer",
  pg_num_min: "integer",
  crush_rule: "string",
  application: "string",
  pg_autoscale_mode: "string",
  target_size: "string",
  target_size_ratio: "string",
};

function validatePoolOpts(opts, usage) {
  const errors = {};
  for (const k of ["size", "min_size"]) if (opts[k] !== undefined && (opts[k] < 1 || opts[k] > 7)) errors[k] = opts[k] < 1 ? "value must have a minimum value of 1" : "value must have a maximum value of 7";
  if (opts.pg_num !== undefined && (opts.pg_num < 1 || opts.pg_num > 32768)) errors.pg_num = opts.pg_num < 1 ? "value must have a minimum value of 1" : "value must have a maximum value of 32768";
  if (opts.application !== undefined && !["rbd", "cephfs", "rgw"].includes(opts.application)) errors.application = `value '${opts.application}' does not have a value in the enumeration 'rbd, cephfs, rgw'`;
  if (opts.pg_autoscale_mode !== undefined && !["on", "off", "warn"].includes(opts.pg_autoscale_mode))
    errors.pg_autoscale_mode = `value '${opts.pg_autoscale_mode}' does not have a value in the enumeration 'on, off, warn'`;
  if (opts.target_size !== undefined && !/^(\d+(\.\d+)?)([KMGT])?$/.test(opts.target_size)) errors.target_size = "value does not match the regex pattern";
  if (opts.target_size_ratio !== undefined && !/^\d+(\.\d+)?$/.test(opts.target_size_ratio)) errors.target_size_ratio = `type check ('number') failed - got '${opts.target_size_ratio}'`;
  if (Object.keys(errors).length) lib.paramError(errors, usage);
}

/** `osd pool get <pool> all`, as PVE compares settings against it. */
function poolProperties(c, pool) {
  const rule = ceph.ruleById(c, pool.crushRule);
  return {
    size: pool.size,
    min_size: pool.minSize,
    pg_num: pool.pgNum,
    pgp_num: pool.pgNum,
    crush_rule: rule ? rule.name : String(pool.crushRule),
    pg_autoscale_mode: pool.pgAutoscaleMode,
    ...(pool.pgNumMin ? { pg_num_min: pool.pgNumMin } : {}),
    ...(pool.targetSizeBytes ? { target_size_bytes: pool.targetSizeBytes } : {}),
    ...(pool.targetSizeRatio ? { target_size_ratio: pool.targetSizeRatio } : {}),
  };
}

/** The mon side of `osd pool set` / `osd pool application enable`; returns an error text or null. */
function applySetting(c, pool, key, value) {
  switch (key) {
    case "application":
      if (pool.application && pool.application !== value) return null; // enabling a second application is allowed; keep the first
      pool.application = value;
      return null;
    case "size": {
      const n = Number(value);
      if (!(n >= 1 && n <= 10)) return "pool size must be between 1 and 10";
      if (n === 1 && !ceph.truthy(ceph.monSetting(c, "mon_allow_pool_size_one", "false"))) return "configuring pool size as 1 is disabled by default.";
      pool.size = n;
      pool.minSize = n - Math.floor(n / 2);
      return null;
    }
    case "min_size": {
      const n = Number(value);
      if (!(n >= 1 && n <= pool.size)) return `pool min_size must be between 1 and size, which is set to ${pool.size}`;
      pool.minSize = n;
      return null;
    }
    case "pg_num": {
      const n = Number(value);
      if (!(n >= 1 && n <= 65536)) return `specified pg_num ${value} is out of range`;
      pool.pgNum = n;
      return null;
    }
    case "pg_num_min":
      pool.pgNumMin = Number(value);
      return null;
    case "pg_autoscale_mode":
      pool.pgAutoscaleMode = value;
      return null;
    case "crush_rule": {
      const rule = ceph.ruleByName(c, value) || (/^\d+$/.test(value) ? ceph.ruleById(c, Number(value)) : null);
      if (!rule) return `crush rule ${value} does not exist`;
      pool.crushRule = rule.id;
      return null;
    }
    case "target_size_bytes":
      pool.targetSizeBytes = Number(value);
      return null;
    case "target_size_ratio":
      pool.targetSizeRatio = Number(value);
      return null;
    default:
      return `unrecognized variable '${key}'`;
  }
}

function sizeToBytes(s) {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(s);
  const mult = { undefined: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]];
  return Math.round(parseFloat(m[1]) * mult);
}

/** PVE::Ceph::Tools::set_pool (inside a mutate): prints, applies, dies "Could not set: …". */
function setPool(c, pool, param, out, fresh) {
  const keys = Object.keys(param)
    .filter((k) => k !== "size")
    .sort();
  if (param.size !== undefined) keys.unshift("size");
  const missing = [];
  for (const key of keys) {
    const value = String(param[key]);
    const current = poolProperties(c, pool);
    if (!fresh && current[key] !== undefined && String(current[key]) === value) {
      out.push(`skipping '${key}', did not change\n`);
      continue;
    }
    out.push(`pool ${pool.name}: applying ${key} = ${value}\n`);
    const err = applySetting(c, pool, key, value);
    if (err) {
      out.push(`mon_command failed - ${err}\n`);
      missing.push(key);
    }
  }
  if (missing.length) return `Could not set: ${missing.sort().join(", ")}`;
  return null;
}

function poolParams(opts) {
  const p = {};
  for (const k of ["size", "min_size", "pg_num", "pg_num_min", "crush_rule", "application", "pg_autoscale_mode", "target_size_ratio"]) if (opts[k] !== undefined) p[k] = opts[k];
  if (opts.target_size !== undefined) p.target_size_bytes = sizeToBytes(opts.target_size);
  return p;
}

function storageScope(s, nodeName) {
  s.storage ??= {};
  const scope = ceph.scopeOf(s, nodeName);
  s.storage[scope] ??= {};
  return s.storage[scope];
}

function cmdPoolCreate(sim, argv) {
  const usage = "pveceph pool create <name> [OPTIONS]";
  const { args, opts } = lib.parseCli(argv, { usage, args: ["name"], options: { ...POOL_OPTIONS, add_storages: "boolean", "erasure-coding": "string" } });
  if (!/^[^:/\s]+$/.test(args.name)) lib.paramError({ name: "value does not match the regex pattern" }, usage);
  validatePoolOpts(opts, usage);
  if (opts["erasure-coding"] !== undefined) lib.die("pve-sim: erasure-coded pools are not simulated\n", 70);
  const { state, node } = sim.self();
  checkQuorum(state, node);
  const cluster = checkInited(state, node);
  rados(sim, state, cluster);
  const name = args.name;
  if (opts.add_storages && !/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(name)) lib.die("pool name contains characters which are illegal for storage naming\n");
  const param = { pg_num: 128, size: 3, min_size: 2, application: "rbd", pg_autoscale_mode: "warn", ...poolParams(opts) };
  lib.worker(() => {
    const out = [];
    let failure = null;
    try {
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        let pool = c.pools[name];
        let fresh = false;
        if (!pool) {
          const defSize = Number(ceph.globalSetting(c, "osd_pool_default_size", 3));
          pool = c.pools[name] = {
            id: c.nextPoolId++,
            name,
            size: defSize,
            minSize: Number(ceph.globalSetting(c, "osd_pool_default_min_size", 0)) || defSize - Math.floor(defSize / 2),
            pgNum: Number(param.pg_num),
            pgAutoscaleMode: "on",
            application: null,
            crushRule: 0,
            createdAt: Date.now(),
            stored: 0,
            objects: 0,
          };
          c.osdEpoch++;
          fresh = true;
        }
        failure = setPool(c, pool, param, out, fresh);
        c.changedAt = Date.now();
        if (!failure && opts.add_storages) {
          const st = storageScope(s, node.name);
          if (st[name] || name === "local" || name === "local-lvm") failure = `adding PVE storage for ceph pool '${name}' failed: create storage failed: storage ID '${name}' already defined`;
          else st[name] = { type: "rbd", pool: name, storage: name, krbd: 0, content: "rootdir,images" };
        }
      });
    } finally {
      lib.out(out.join(""));
    }
    if (failure) lib.die(failure + "\n");
  });
  return 0;
}

function cmdPoolSet(sim, argv) {
  const usage = "pveceph pool set <name> [OPTIONS]";
  const { args, opts } = lib.parseCli(argv, { usage, args: ["name"], options: POOL_OPTIONS });
  validatePoolOpts(opts, usage);
  const { state, node } = sim.self();
  const cluster = checkInited(state, node);
  lib.worker(() => {
    rados(sim, sim.read(), cluster);
    const out = [];
    let failure = null;
    try {
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        const pool = c.pools[args.name];
        if (!pool) {
          failure = `mon_command failed - unrecognized pool '${args.name}'`;
          return;
        }
        failure = setPool(c, pool, poolParams(opts), out, false);
        c.changedAt = Date.now();
      });
    } finally {
      lib.out(out.join(""));
    }
    if (failure) lib.die(failure + "\n");
  });
  return 0;
}

function cmdPoolDestroy(sim, argv) {
  const usage = "pveceph pool destroy <name> [OPTIONS]";
  const { args, opts } = lib.parseCli(argv, { usage, args: ["name"], options: { force: "boolean", remove_storages: "boolean", remove_ecprofile: "boolean" } });
  const { state, node } = sim.self();
  checkInited(state, node);
  lib.worker(() => {
    const out = [];
    let failure = null;
    try {
      ceph.mutate(sim, (s) => {
        const c = ceph.clusterOf(s, node.name);
        rados(sim, s, c);
        const st = storageScope(s, node.name);
        const storages = Object.keys(st).filter((k) => st[k].type === "rbd" && st[k].pool === args.name);
        if (!opts.force) for (const id of storages) out.push(`checking storage '${id}' for RBD images..\n`);
        const pool = c.pools[args.name];
        if (!pool) {
          failure = `mon_command failed - unrecognized pool '${args.name}'`;
          return;
        }
        if (!ceph.truthy(ceph.monSetting(c, "mon_allow_pool_delete", "false"))) {
          failure = "mon_command failed - pool deletion is disabled; you must first set the mon_allow_pool_delete config option to true before you can destroy a pool";
          return;
        }
        delete c.pools[args.name];
        c.osdEpoch++;
        c.changedAt = Date.now();
        if (opts.remove_storages) for (const id of storages) delete st[id];
      });
    } finally {
      lib.out(out.join(""));
    }
    if (failure) lib.die(failure + "\n");
  });
  return 0;
}

function poolLsRows(state, cluster, live) {
  const cap = ceph.capacity(cluster, live);
  return Object.values(cluster.pools)
    .sort((a, b) => a.id - b.id)
    .map((p) => {
      const rule = ceph.ruleById(cluster, p.crushRule);
      const used = (p.stored || 0) * p.size;
      const maxAvail = ceph.poolMaxAvail(cluster, live, p, cap);
      const row = {
        application_metadata: p.application ? { [p.application]: {} } : {},
        bytes_used: used,
        crush_rule: rule ? rule.id : p.crushRule,
        crush_rule_name: rule ? rule.name : "",
        min_size: p.minSize,
        percent_used: used + maxAvail > 0 ? used / (used + maxAvail * p.size) : 0,
        pg_autoscale_mode: p.pgAutoscaleMode,
        pg_num: p.pgNum,
        pool: p.id,
        pool_name: p.name,
        size: p.size,
        type: "replicated",
      };
      if (live.active) {
        Object.assign(row, {
          pg_num_final: p.pgNum,
          pg_num_min: p.pgNumMin ?? null,
          target_size: p.targetSizeBytes ?? null,
          target_size_ratio: p.targetSizeRatio ?? null,
          autoscale_status: { pool_id: p.id, pool_name: p.name, pg_num_final: p.pgNum, pg_num_target: p.pgNum, pg_autoscale_mode: p.pgAutoscaleMode, would_adjust: false },
        });
      }
      return row;
    });
}

function cmdPoolLs(sim, argv) {
  const usage = "pveceph pool ls  [FORMAT_OPTIONS]";
  const { opts } = lib.parseCli(argv, { usage, args: [], options: FORMAT_OPTIONS, aliases: { output: "output-format" } });
  const { state, node } = sim.self();
  const cluster = checkInited(state, node);
  const live = rados(sim, state, cluster);
  const rows = poolLsRows(state, cluster, live);
  lib.printApiResult(rows, opts["output-format"] || "text", {
    quiet: opts.quiet,
    noborder: opts.noborder,
    noheader: opts.noheader,
    columns: ["pool_name", "size", "min_size", "pg_num", "pg_num_min", "pg_num_final", "pg_autoscale_mode", "target_size", "target_size_ratio", "crush_rule_name", "percent_used", "bytes_used"],
  });
  return 0;
}

function cmdPoolGet(sim, argv) {
  const usage = "pveceph pool get <name> [OPTIONS] [FORMAT_OPTIONS]";
  const { args, opts } = lib.parseCli(argv, { usage, args: ["name"], options: { verbose: "boolean", ...FORMAT_OPTIONS }, aliases: { output: "output-format" } });
  const { state, node } = sim.self();
  const cluster = checkInited(state, node);
  rados(sim, state, cluster);
  const p = cluster.pools[args.name];
  if (!p) lib.die(`mon_command failed - unrecognized pool '${args.name}'\n`);
  const rule = ceph.ruleById(cluster, p.crushRule);
  const res = {
    application: p.application || undefined,
    application_list: p.application ? [p.application] : [],
    crush_rule: rule ? rule.name : String(p.crushRule),
    fast_read: 0,
    hashpspool: 1,
    id: p.id,
    min_size: p.minSize,
    name: p.name,
    nodeep_scrub: 0,
    nodelete: 0,
    nopgchange: 0,
    noscrub: 0,
    nosizechange: 0,
    pg_autoscale_mode: p.pgAutoscaleMode,
    pg_num: p.pgNum,
    pgp_num: p.pgNum,
    size: p.size,
    use_gmt_hitset: 1,
    write_fadvise_dontneed: 0,
    ...(p.pgNumMin ? { pg_num_min: p.pgNumMin } : {}),
    ...(p.targetSizeBytes ? { target_size: p.targetSizeBytes } : {}),
    ...(p.targetSizeRatio ? { target_size_ratio: p.targetSizeRatio } : {}),
  };
  lib.printApiResult(res, opts["output-format"] || "text", { quiet: opts.quiet, noborder: opts.noborder, noheader: opts.noheader });
  return 0;
}

// ---------------------------------------------------------------------------------------------
// status, start, stop

function cmdStatus(sim, argv) {
  lib.parseCli(argv, { usage: "pveceph status", args: [] });
  const { state, node } = sim.self();
  if (!ceph.installedOf(state, node.name)) lib.die("binary not installed: /usr/bin/ceph-mon\n");
  const cluster = ceph.clusterOf(state, node.name);
  if (!cluster) lib.die("pveceph configuration not initialized - missing '/etc/pve/ceph.conf', missing '/etc/pve/ceph'\n");
  const live = cluster.mons.length ? ceph.liveView(state, cluster, sim.stateDir) : null;
  if (!live || !live.quorate) {
    lib.err(cluster.mons.length ? "[errno 110] RADOS timed out (error connecting to the cluster)\n" : "[errno 2] RADOS object not found (error connecting to the cluster)\n");
    lib.die("command 'ceph -s' failed: exit code 1\n");
  }
  const health = ceph.computeHealth(state, cluster, live);
  lib.out(ceph.statusText(state, cluster, live, health));
  return 0;
}

function cmdStartStop(sim, argv, verb) {
  const usage = `pveceph ${verb}  [OPTIONS]`;
  const { opts } = lib.parseCli(argv, { usage, args: [], options: { service: "string" } });
  const service = opts.service || "ceph.target";
  const m = /^(ceph|mon|mds|osd|mgr)(\.([A-Za-z0-9-]+))?$|^ceph\.target$/.exec(service);
  if (!m) lib.paramError({ service: "value does not match the regex pattern" }, usage);
  const { state, node } = sim.self();
  checkInited(state, node);
  const unit = service === "ceph.target" || service === "ceph" ? "ceph.target" : m[3] ? `ceph-${m[1]}@${m[3]}` : `ceph-${m[1]}.target`;
  lib.worker(() => systemctl(sim, verb, unit), { upidExit: true });
  return 0;
}

// ---------------------------------------------------------------------------------------------

const ALIASES = {
  createmon: ["mon", "create"],
  destroymon: ["mon", "destroy"],
  createmgr: ["mgr", "create"],
  destroymgr: ["mgr", "destroy"],
  createosd: ["osd", "create"],
  destroyosd: ["osd", "destroy"],
  createpool: ["pool", "create"],
  destroypool: ["pool", "destroy"],
  lspools: ["pool", "ls"],
};

lib.main(() => {
  const sim = lib.context();
  let argv = process.argv.slice(2);
  if (ALIASES[argv[0]]) argv = [...ALIASES[argv[0]], ...argv.slice(1)];
  const [cmd, sub] = argv;
  const groups = {
    mon: { create: cmdMonCreate, destroy: cmdMonDestroy },
    mgr: { create: cmdMgrCreate, destroy: cmdMgrDestroy },
    osd: { create: cmdOsdCreate, destroy: cmdOsdDestroy },
    pool: { create: cmdPoolCreate, set: cmdPoolSet, destroy: cmdPoolDestroy, ls: cmdPoolLs, get: cmdPoolGet },
  };
  if (groups[cmd]) {
    const fn = groups[cmd][sub];
    if (!fn) lib.unknownCommand("pveceph", sub === undefined ? undefined : `${cmd} ${sub}`, USAGES.filter((u) => u.startsWith(`pveceph ${cmd} `)));
    return fn(sim, argv.slice(2));
  }
  switch (cmd) {
    case "install":
      return cmdInstall(sim, argv.slice(1));
    case "init":
      return cmdInit(sim, argv.slice(1));
    case "status":
      return cmdStatus(sim, argv.slice(1));
    case "start":
    case "stop":
      return cmdStartStop(sim, argv.slice(1), cmd);
    default:
      return lib.unknownCommand("pveceph", cmd, USAGES);
  }
});
