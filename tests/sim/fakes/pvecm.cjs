"use strict";
// Fake `pvecm` (proxmox/pve-cluster src/PVE/CLI/pvecm.pm, Cluster/Setup.pm, API2/ClusterConfig.pm,
// plus the corosync-quorumtool output that `pvecm status|nodes|expected` exec).
// Implemented: status, nodes, create, add, delnode, expected, apiver, updatecerts, qdevice setup|remove
// (pve-cluster src/PVE/CLI/pvecm.pm setup_qdevice/remove_qdevice; model in qnetd-lib.cjs).
// See pve-cli.md section 1.
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const lib = require("./lib.cjs");
const dpkg = require("./dpkg-lib.cjs");
const qnetdLib = require("./qnetd-lib.cjs");
const ring = require("./ring-lib.cjs");

const CLUSTERCONF = "/etc/pve/corosync.conf";
const AUTHFILE = "/etc/corosync/authkey";
const LOCAL_LOCK = "/var/lock/pvecm.lock";
const MAX_LINK = 7;

const USAGES = [
  "pvecm add <hostname> [OPTIONS]",
  "pvecm addnode <node> [OPTIONS]",
  "pvecm apiver",
  "pvecm create <clustername> [OPTIONS]",
  "pvecm delnode <node>",
  "pvecm expected <expected>",
  "pvecm keygen <filename>",
  "pvecm mtunnel [<extra-args>] [OPTIONS]",
  "pvecm nodes",
  "pvecm qdevice remove",
  "pvecm qdevice setup <address> [OPTIONS]",
  "pvecm status",
  "pvecm updatecerts  [OPTIONS]",
  "",
  "pvecm help [<extra-args>] [OPTIONS]",
];

const linkOptions = () => Object.fromEntries([...Array(MAX_LINK + 1).keys()].map((i) => [`link${i}`, "string"]));

/** "--link0 10.0.0.1" or "--link0 address=10.0.0.1,priority=10" -> { address, priority } */
function parseLink(value) {
  const res = {};
  for (const part of String(value).split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) res.address = part;
    else res[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return res;
}

function extractLinks(opts) {
  const links = {};
  for (let i = 0; i <= MAX_LINK; i++) if (opts[`link${i}`] !== undefined) links[i] = parseLink(opts[`link${i}`]);
  return links;
}

const onNode = (node, p) => path.join(node.root, p); // host path of a node-local file

function confExists(node) {
  return fs.existsSync(onNode(node, "etc/pve/corosync.conf"));
}

function checkConfExists(node) {
  if (!confExists(node)) lib.die(`Error: Corosync config '${CLUSTERCONF}' does not exist - is this node part of a cluster?\n`, 2);
}

/** Our node is in the state's cluster model; if only a stray corosync.conf exists, corosync is "down". */
function requireCorosync(state, node) {
  const cluster = lib.clusterOf(state, node.name);
  if (!cluster) lib.die("Cannot initialize CMAP service\n", 1);
  return cluster;
}

function ctime(d = new Date()) {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p2 = (n) => String(n).padStart(2, "0");
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

const hex8 = (n) => "0x" + n.toString(16).padStart(8, "0");
const pad10 = (v) => String(v).padStart(10, " ");

// ---------------------------------------------------------------------------------------------
function cmdStatus(sim, argv) {
  lib.parseCli(argv, { usage: "pvecm status", args: [] });
  const { state, node } = sim.self();
  checkConfExists(node);
  const cluster = lib.clusterOf(state, node.name);
  if (!cluster) {
    // a stray corosync.conf without a running corosync: pvecm prints the totem info, quorumtool fails
    const text = fs.readFileSync(onNode(node, "etc/pve/corosync.conf"), "utf8");
    const get = (k, d) => (new RegExp(`^\\s*${k}:\\s*(\\S+)`, "m").exec(text) || [])[1] ?? d;
    lib.out(
      "Cluster information\n-------------------\n" +
        `${"Name:".padEnd(17)} ${get("cluster_name", "UNKOWN?")}\n` +
        `${"Config Version:".padEnd(17)} ${get("config_version", -1)}\n` +
        `${"Transport:".padEnd(17)} ${get("transport", "knet")}\n` +
        `${"Secure auth:".padEnd(17)} ${get("secauth", "off")}\n\n`,
    );
    lib.die("Cannot initialize CMAP service\n", 1);
  }
  const q = lib.quorumInfo(state, cluster);
  const me = cluster.nodes.find((m) => m.name === node.name);
  let o = "Cluster information\n-------------------\n";
  o += `${"Name:".padEnd(17)} ${cluster.name}\n`;
  o += `${"Config Version:".padEnd(17)} ${cluster.configVersion}\n`;
  o += `${"Transport:".padEnd(17)} knet\n`;
  o += `${"Secure auth:".padEnd(17)} on\n\n`;
  o += "Quorum information\n------------------\n";
  o += `Date:             ${ctime()}\n`;
  o += "Quorum provider:  corosync_votequorum\n";
  o += `Nodes:            ${q.online.length}\n`;
  o += `Node ID:          ${hex8(me.nodeid)}\n`;
  const rep = q.online.length ? q.online[0].nodeid : me.nodeid;
  o += `Ring ID:          ${rep.toString(16)}.${(cluster.ringSeq || 1).toString(16)}\n`;
  o += `Quorate:          ${q.quorate ? "Yes" : "No"}\n`;
  o += "\nVotequorum information\n----------------------\n";
  o += `Expected votes:   ${q.expected}\n`;
  o += `Highest expected: ${q.highest}\n`;
  o += `Total votes:      ${q.totalVotes}\n`;
  o += `Quorum:           ${q.quorum} ${q.quorate ? " " : "Activity blocked"}\n`;
  // corosync-quorumtool: each flag followed by a space; with a QDevice a Qdevice column and row
  o += `Flags:            ${q.quorate ? "Quorate " : ""}${cluster.qdevice ? "Qdevice " : ""}\n`;
  o += "\nMembership information\n----------------------\n";
  o += cluster.qdevice ? "    Nodeid      Votes    Qdevice Name\n" : "    Nodeid      Votes Name\n";
  for (const m of q.online) {
    const addr = (m.links && m.links.link0) || m.ip;
    const qcol = cluster.qdevice ? ` ${pad10(q.qdevice > 0 ? "A,V,NMW" : "NA,NV,NMW")}` : "";
    o += `${hex8(m.nodeid)} ${pad10(m.votes ?? 1)}${qcol} ${addr}${m.name === node.name ? " (local)" : ""}\n`;
  }
  if (cluster.qdevice) o += `${hex8(0)} ${pad10(q.qdevice)} ${pad10("")} Qdevice\n`;
  lib.out(o);
  return q.quorate ? 0 : 2; // corosync-quorumtool: EXIT_NOT_QUORATE
}

function cmdNodes(sim, argv) {
  lib.parseCli(argv, { usage: "pvecm nodes", args: [] });
  const { state, node } = sim.self();
  checkConfExists(node);
  const cluster = requireCorosync(state, node);
  const q = lib.quorumInfo(state, cluster);
  let o = "\nMembership information\n----------------------\n    Nodeid      Votes Name\n";
  for (const m of q.online) o += `${pad10(m.nodeid)} ${pad10(m.votes ?? 1)} ${m.name}${m.name === node.name ? " (local)" : ""}\n`;
  lib.out(o);
  return 0;
}

function cmdExpected(sim, argv) {
  const usage = "pvecm expected <expected>";
  const { args } = lib.parseCli(argv, { usage, args: ["expected"] });
  if (!/^-?\d+$/.test(args.expected)) lib.paramError({ expected: `type check ('integer') failed - got '${args.expected}'` }, usage);
  const n = Number(args.expected);
  if (n < 1) lib.paramError({ expected: "value must have a minimum value of 1" }, usage);
  const { state, node } = sim.self();
  checkConfExists(node);
  requireCorosync(state, node);
  sim.mutate((s) => {
    const cluster = lib.clusterOf(s, node.name);
    const q = lib.quorumInfo(s, cluster);
    const newQuorum = Math.max(Math.floor((n + 2) / 2), Math.floor((q.totalVotes + 2) / 2));
    if (n < q.totalVotes || (q.quorate && newQuorum > q.totalVotes)) lib.die("Unable to set expected votes: CS_ERR_INVALID_PARAM\n", 1);
    cluster.expectedVotes = n;
  });
  return 0;
}

// ---------------------------------------------------------------------------------------------
function cmdCreate(sim, argv) {
  const usage = "pvecm create <clustername> [OPTIONS]";
  const { args, opts } = lib.parseCli(argv, {
    usage,
    args: ["clustername"],
    options: { ...linkOptions(), nodeid: "integer", votes: "integer", "token-coefficient": "integer" },
  });
  const name = args.clustername;
  if (name.length > 15) lib.paramError({ clustername: "value may only be 15 characters long" }, usage);
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(name)) lib.paramError({ clustername: "value does not look like a valid node name" }, usage);
  if (opts.nodeid !== undefined && opts.nodeid < 1) lib.paramError({ nodeid: "value must have a minimum value of 1" }, usage);
  if (opts.votes !== undefined && opts.votes < 1) lib.paramError({ votes: "value must have a minimum value of 1" }, usage);

  const { node } = sim.self();
  if (confExists(node) || node.cluster) lib.die(`cluster config '${CLUSTERCONF}' already exists\n`);

  lib.worker(() => {
    lib.withLockFile(LOCAL_LOCK, { timeoutMs: 10000, onWait: () => lib.out("trying to acquire lock...") }, () => {
      if (!fs.existsSync(onNode(node, "etc/corosync/authkey"))) {
        lib.out("Corosync Cluster Engine Authentication key generator.\n");
        lib.out("Gathering 2048 bits for key from /dev/urandom.\n");
        lib.out(`Writing corosync key to ${AUTHFILE}.\n`);
      }
      let links = extractLinks(opts);
      sim.mutate((s) => {
        const me = s.nodes[node.name];
        if (me.cluster) lib.die(`cluster config '${CLUSTERCONF}' already exists\n`);
        if (s.clusters[name]) lib.die(`pve-sim: a simulated cluster named '${name}' already exists (cluster names must be unique within one simulation)\n`);
        if (Object.keys(links).length === 0) links = { 0: { address: me.ip } };
        const interfaces = {};
        const nodeLinks = {};
        for (const num of Object.keys(links).sort()) {
          interfaces[num] = { linknumber: Number(num) };
          if (links[num].priority) interfaces[num].knet_link_priority = Number(links[num].priority);
          nodeLinks[`link${num}`] = links[num].address;
        }
        const nodeid = opts.nodeid || 1;
        s.clusters[name] = {
          name,
          configVersion: 1,
          ringSeq: 5,
          expectedVotes: null,
          authkey: crypto.randomBytes(256).toString("base64"),
          interfaces,
          nodes: [{ name: me.name, nodeid, votes: opts.votes || 1, ip: me.ip, links: nodeLinks }],
        };
        me.cluster = name;
        me.nodeid = nodeid;
        me.links = nodeLinks;
      });
      lib.out(`Writing corosync config to ${CLUSTERCONF}\n`);
      lib.out("Restart corosync and cluster filesystem\n");
    });
  });
  return 0;
}

// ---------------------------------------------------------------------------------------------
// join (Setup.pm join/assert_joinable/finish_join + ClusterConfig.pm addnode on the cluster side)

class RemoteError extends Error {
  constructor(msg, errors) {
    super(msg);
    this.errors = errors || {};
  }
}

const isIp = (s) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || /^[0-9a-fA-F:]+:[0-9a-fA-F:]*$/.test(s);

function resolveHost(state, host) {
  for (const n of Object.values(state.nodes)) {
    if (n.name === host || n.ip === host || (n.addresses || []).includes(host) || Object.values(n.links || {}).includes(host)) return n;
  }
  return null;
}

function assertJoinable(state, me, links, force) {
  let errors = "";
  const error = (m) => (errors += `* ${m}\n`);
  if (fs.existsSync(onNode(me, "etc/corosync/authkey"))) error(`authentication key '${AUTHFILE}' already exists`);
  if (fs.existsSync(onNode(me, "etc/pve/corosync.conf"))) error(`cluster config '${CLUSTERCONF}' already exists`);
  if (lib.visibleNodes(state, me.name).some((n) => Object.keys(n.guests).length)) error("this host already contains virtual guests");
  if (me.cluster) error("corosync is already running, is this node already in a cluster?!");
  const local = new Set(me.addresses || [me.ip]);
  const checkIp = (ip, logid) => {
    if (ip === undefined) return;
    if (!isIp(ip)) {
      const r = resolveHost(state, ip);
      if (!r) {
        error(`${logid}: cannot use '${ip}': hostname lookup '${ip}' failed - failed to get address info for: ${ip}: Name or service not known\n`);
        return;
      }
      ip = r.ip;
    }
    // Setup.pm passes a message ending in "\n" to $error, hence the empty line after it
    if (!local.has(ip)) error(`${logid}: cannot use IP '${ip}', not found on local node!\n`);
  };
  checkIp(me.ip, "local node address");
  for (const num of Object.keys(links).sort()) checkIp(links[num].address, `link${num}`);
  if (errors) {
    lib.out(`detected the following error(s):\n${errors}`);
    if (!force) lib.die("Check if node may join a cluster failed!\n");
    lib.out("\nWARNING : detected error but forced to continue!\n\n");
  }
}

/** ClusterConfig.pm addnode, run "on" the cluster member `target`. Returns printed lines. */
function clusterSideAddnode(sim, { target, joiner, links, force, nodeid, votes, newNodeIp }) {
  const state = sim.read();
  const cluster = lib.clusterOf(state, target.name);
  if (!cluster) throw new RemoteError("invalid corosync.conf", { error0: "no nodes found" });
  if (!lib.quorumInfo(state, cluster).quorate) throw new RemoteError("cluster not ready - no quorum?");
  const printed = [];
  try {
    sim.withLock(`cfs-corosync_conf-${cluster.name}`, { timeoutMs: 10000, timeoutMessage: "cfs-lock 'file-corosync_conf' error: got lock request timeout" }, () => {
      sim.mutate((s) => {
        const c = s.clusters[cluster.name];
        const me = s.nodes[joiner.name];
        const nodelist = c.nodes;
        const newLinks = { ...links };
        for (const l of Object.values(newLinks)) {
          for (const m of nodelist) {
            if (m.name === me.name) continue;
            for (const [k, addr] of Object.entries(m.links || {})) {
              if (addr === l.address) throw new RemoteError(`corosync: address '${l.address}' already used on link ring${k.replace("link", "")}_addr by node '${m.name}'`);
            }
          }
        }
        const clusterLinks = new Set(Object.keys((nodelist[0] && nodelist[0].links) || {}).map((k) => Number(k.replace("link", ""))));
        if (Object.keys(newLinks).length) {
          for (let n = 0; n <= MAX_LINK; n++) {
            const have = clusterLinks.has(n);
            const given = newLinks[n] !== undefined;
            if (have && !given) throw new RemoteError(`corosync: link ${n} exists in cluster config but wasn't specified for new node`);
            if (!have && given) throw new RemoteError(`corosync: link ${n} specified for new node doesn't exist in cluster config`);
          }
        } else {
          if (!newNodeIp) throw new RemoteError("no links and no fallback ip (new_node_ip) given, cannot join cluster");
          if (clusterLinks.size !== 1) throw new RemoteError("no links given but multiple links found on other nodes, fallback only supported on single-link clusters");
          newLinks[[...clusterLinks][0]] = { address: newNodeIp };
        }
        let id = nodeid;
        let v = votes;
        const existing = nodelist.find((m) => m.name === me.name);
        if (existing) {
          if (!id) id = existing.nodeid;
          if (v === undefined) v = existing.votes ?? 1;
          if ((existing.votes ?? 1) === v && existing.nodeid === id && force) printed.push(`forcing overwrite of configured node '${me.name}'`);
          else throw new RemoteError(`can't add existing node '${me.name}'`);
        } else if (!id) {
          id = 1;
          while (nodelist.some((m) => m.nodeid === id)) id++;
        }
        if (v === undefined) v = 1;
        const nodeLinks = {};
        for (const num of Object.keys(newLinks).sort()) nodeLinks[`link${num}`] = newLinks[num].address;
        const entry = { name: me.name, nodeid: id, votes: v, ip: me.ip, links: nodeLinks };
        if (existing) nodelist[nodelist.indexOf(existing)] = entry;
        else nodelist.push(entry);
        c.configVersion += 1;
        c.ringSeq = (c.ringSeq || 1) + 4;
        c.expectedVotes = null;
        // test knob: corosync takes this long to settle after the join (no quorum meanwhile)
        const settle = s.sim && s.sim.quorumSettleAfterJoinMs;
        if (settle) c.quorumHeldUntilMs = Date.now() + settle;
        me.cluster = c.name;
        me.nodeid = id;
        me.links = nodeLinks;
      });
      lib.sleepMs(sim.read().sim?.joinDelayMs ?? 0); // the real join takes a while; keep the lock meanwhile
    });
  } catch (e) {
    if (e instanceof lib.DieError && /cfs-lock/.test(e.message)) throw new RemoteError(e.message.trim());
    throw e;
  }
  return printed;
}

function finishJoin(me) {
  lib.out("Join request OK, finishing setup locally\n");
  lib.out("stopping pve-cluster service\n");
  lib.out(`backup old database to '/var/lib/pve-cluster/backup/config-${Math.floor(Date.now() / 1000)}.sql.gz'\n`);
  lib.out("waiting for quorum...OK\n");
  lib.out("(re)generate node files\n");
  lib.out("generate new node certificate\n");
  lib.out("merge authorized SSH keys\n");
  lib.out("generated new node certificate, restart pveproxy and pvedaemon services\n");
  lib.out(`successfully added node '${me.name}' to cluster.\n`);
}

function apiJoin(sim, me, host, opts, password) {
  const state = sim.read();
  const links = extractLinks(opts);
  assertJoinable(state, state.nodes[me.name], links, opts.force);

  lib.out(`Establishing API connection with host '${host}'\n`);
  const target = resolveHost(state, host);
  if (!target) lib.die(`500 Can't connect to ${host}:8006 (${isIp(host) ? "Connection refused" : "Name or service not known"})\n`);
  if (!target.online) lib.die(`500 Can't connect to ${host}:8006 (Connection refused)\n`);
  const fp = opts.fingerprint ? opts.fingerprint.toUpperCase() : null;
  if (fp !== target.sslFingerprint) {
    // pve-apiclient manual verification: no TTY, so the answer is read from stdin
    lib.out(`The authenticity of host '${host}' can't be established.\n`);
    lib.out(`X509 SHA256 key fingerprint is ${target.sslFingerprint}.\n`);
    lib.out("Are you sure you want to continue connecting (yes/no)? ");
    const answer = lib.readLine();
    if (answer === null || !/^\s*yes\s*$/i.test(answer)) lib.die("Fingerprint not verified, abort!\n");
  }
  if (typeof target.rootPassword === "string" && target.rootPassword !== password) lib.die("401 authentication failure\n");
  lib.out("Login succeeded.\n");
  lib.out("check cluster join API version\n");
  if (Object.keys(links).length === 0) lib.out(`No cluster network links passed explicitly, fallback to local node IP '${me.ip}'\n`);
  lib.out("Request addition of this node\n");
  try {
    // lines the cluster side prints (e.g. "forcing overwrite …") stay in its own log, the joiner sees none
    clusterSideAddnode(sim, { target, joiner: me, links, force: opts.force, nodeid: opts.nodeid, votes: opts.votes, newNodeIp: me.ip });
  } catch (e) {
    if (!(e instanceof RemoteError)) throw e;
    lib.out(`An error occurred on the cluster node: ${e.message}\n`);
    for (const k of Object.keys(e.errors).sort()) lib.out(`${/^warning/.test(k) ? "*" : "!"} ${e.errors[k]}\n`);
    lib.die("Cluster join aborted!\n");
  }
  finishJoin(me);
}

function sshJoin(sim, me, host, opts) {
  const state = sim.read();
  const links = extractLinks(opts);
  assertJoinable(state, state.nodes[me.name], links, opts.force);
  const target = resolveHost(state, host);
  if (!target || !target.online) lib.die("unable to copy ssh ID: exit code 1\n");
  const cmd = ["ssh", host, "-o", "BatchMode=yes", "pvecm", "addnode", me.name, "--force", "1"];
  if (opts.nodeid) cmd.push("--nodeid", String(opts.nodeid));
  if (opts.votes !== undefined) cmd.push("--votes", String(opts.votes));
  for (const num of Object.keys(links)) cmd.push(`--link${num}`, `address=${links[num].address}`);
  if (Object.keys(links).length === 0) {
    cmd.push("--new_node_ip", me.ip);
    lib.out(`No cluster network links passed explicitly, fallback to local node IP '${me.ip}'\n`);
  }
  try {
    for (const l of clusterSideAddnode(sim, { target, joiner: me, links, force: 1, nodeid: opts.nodeid, votes: opts.votes, newNodeIp: me.ip })) lib.out(l + "\n");
  } catch (e) {
    if (!(e instanceof RemoteError)) throw e;
    lib.out(e.message + "\n"); // the remote `pvecm addnode` dies on its stderr, merged into the task log
    lib.die(`unable to add node: command failed (${cmd.join(" ")})\n`);
  }
  lib.out("copy corosync auth key\n");
  finishJoin(me);
}

function cmdAdd(sim, argv) {
  const usage = "pvecm add <hostname> [OPTIONS]";
  const { args, opts } = lib.parseCli(argv, {
    usage,
    args: ["hostname"],
    options: { ...linkOptions(), nodeid: "integer", votes: "integer", force: "boolean", fingerprint: "string", use_ssh: "boolean" },
  });
  if (opts.fingerprint !== undefined && !/^([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}$/.test(opts.fingerprint))
    lib.paramError({ fingerprint: `value does not match the regex pattern` }, usage);
  let cwd = "";
  try {
    cwd = process.cwd();
  } catch {
    /* deleted cwd */
  }
  if (/^\/etc\/pve(\/.*)?$/.test(cwd)) lib.die("Navigate out of /etc/pve before running 'pvecm add', for example by running 'cd'.\n");
  const { node: me } = sim.self();
  const host = args.hostname;

  // everything below runs inside the "clusterjoin" worker: no upid_exit, so failures exit 0
  lib.worker(() => {
    if (!opts.use_ssh) {
      const password = lib.readLine();
      if (password === null) lib.die("EOF while reading password\n");
      lib.withLockFile(LOCAL_LOCK, { timeoutMs: 10000, onWait: () => lib.out("trying to acquire lock...") }, () => apiJoin(sim, me, host, opts, password));
      return;
    }
    sshJoin(sim, me, host, opts);
  });
  return 0;
}

// ---------------------------------------------------------------------------------------------
// delnode (ClusterConfig.pm delnode; not a worker: errors die before any change, exit 255)

function cmdDelnode(sim, argv) {
  const usage = "pvecm delnode <node>";
  const { args } = lib.parseCli(argv, { usage, args: ["node"] });
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(args.node) && !isIp(args.node))
    lib.paramError({ node: "value does not look like a valid node name" }, usage);
  const { state, node } = sim.self();
  if (args.node === node.name) lib.die("Cannot delete myself from cluster!\n");
  const cluster = lib.clusterOf(state, node.name);
  // check_cfs_quorum (a standalone node is always quorate), then the nodelist of corosync.conf
  if (cluster && !lib.quorumInfo(state, cluster).quorate) lib.die("cluster not ready - no quorum?\n");
  if (!cluster) lib.die(`Node/IP: ${args.node} is not a known host of the cluster.\n`);
  let killed = false;
  sim.withLock(`cfs-corosync_conf-${cluster.name}`, { timeoutMs: 10000, timeoutMessage: "cfs-lock 'file-corosync_conf' error: got lock request timeout" }, () => {
    sim.mutate((s) => {
      const c = s.clusters[cluster.name];
      const m = c.nodes.find((x) => x.name === args.node || (x.links && (x.links.link0 === args.node || x.links.link1 === args.node)));
      if (!m) lib.die(`Node/IP: ${args.node} is not a known host of the cluster.\n`);
      c.nodes = c.nodes.filter((x) => x !== m);
      c.configVersion += 1;
      c.ringSeq = (c.ringSeq || 1) + 4;
      c.expectedVotes = null; // corosync reloads the config: expected votes follow the nodelist again
      // `corosync-cfgtool -k <nodeid>` stops corosync on the removed node if it is up. The node keeps
      // its (now stale) /etc/pve/corosync.conf and /etc/corosync/authkey: a standalone node's files
      // are left alone by renderPmxcfs, so `pvecm add` refuses it until it is separated.
      const gone = s.nodes[m.name];
      if (gone && gone.cluster === c.name) {
        killed = !!gone.online;
        gone.cluster = null;
        gone.nodeid = null;
        gone.links = {};
      }
    });
  });
  // run_command's stderr passes through; its failure is ignored ("allowed to fail when node is already shut down")
  if (!killed) lib.err("could not kill node (error = CS_ERR_NOT_EXIST)\n");
  return 0;
}

// ---------------------------------------------------------------------------------------------
// qdevice setup|remove (not workers: a die exits 255). The real setup runs ssh-copy-id and ssh/scp
// as root to the qnetd host and to every member; the fake checks what those need instead: the
// qnetd host answers, root's key of this node is authorized there and its host key is known
// here, corosync-qnetd is installed there and corosync-qdevice on every member.

const QNETD_ROOT_KEYS = "root/.ssh/authorized_keys";

function hostKnown(me, address) {
  let text = "";
  try {
    text = fs.readFileSync(onNode(me, "root/.ssh/known_hosts"), "utf8");
  } catch {
    return false;
  }
  return text.split("\n").some((l) => l.trim().split(/\s+/)[0].split(",").includes(address));
}

function keyAuthorized(me, host) {
  let pub = "";
  let keys = "";
  try {
    pub = fs.readFileSync(onNode(me, "root/.ssh/id_rsa.pub"), "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    keys = fs.readFileSync(onNode(host, QNETD_ROOT_KEYS), "utf8");
  } catch {
    return false;
  }
  return !!pub && keys.split("\n").some((l) => l.includes(pub));
}

function cmdQdeviceSetup(sim, argv) {
  const usage = "pvecm qdevice setup <address> [OPTIONS]";
  const { args, opts } = lib.parseCli(argv, { usage, args: ["address"], options: { network: "string", force: "boolean" } });
  if (!isIp(args.address)) lib.paramError({ address: "value does not look like a valid IP address" }, usage);
  const { state, node: me } = sim.self();
  checkConfExists(me);
  const cluster = requireCorosync(state, me);
  for (const m of [...cluster.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!state.nodes[m.name] || !state.nodes[m.name].online) lib.die(`All nodes must be online! Node ${m.name} is offline, aborting.\n`);
  }
  if (cluster.qdevice && !opts.force) lib.die("QDevice already configured!\n");
  const algorithm = cluster.nodes.length % 2 === 1 ? (opts.force ? "lms" : null) : "ffsplit";
  if (!algorithm) lib.die("Clusters with an odd node count are not officially supported!\n");
  const address = args.address;
  const host = qnetdLib.hostAt(state, address);
  // ssh-copy-id: no TTY for a password or a host key question
  if (!host || !host.online) {
    lib.err(`ssh: connect to host ${address} port 22: No route to host\n`);
    lib.die(`command 'ssh-copy-id -i /root/.ssh/id_rsa root@${address}' failed: exit code 1\n`);
  }
  if (!hostKnown(me, address)) {
    lib.err("Host key verification failed.\n");
    lib.die(`command 'ssh-copy-id -i /root/.ssh/id_rsa root@${address}' failed: exit code 1\n`);
  }
  if (!keyAuthorized(me, host)) {
    lib.err(`root@${address}: Permission denied (publickey,password).\n`);
    lib.die(`command 'ssh-copy-id -i /root/.ssh/id_rsa root@${address}' failed: exit code 1\n`);
  }
  lib.err("/usr/bin/ssh-copy-id: INFO: Source of key(s) to be installed: \"/root/.ssh/id_rsa.pub\"\n");
  lib.err("/usr/bin/ssh-copy-id: WARNING: All keys were skipped because they already exist on the remote system.\n");
  if (fs.existsSync(onNode(me, "etc/corosync/qdevice/net/nssdb")) && !opts.force) lib.die("QDevice certificate store already initialised, set force to delete!\n");

  lib.out("\nINFO: initializing qnetd server\n");
  const qnetdInstalled = dpkg.isInstalled(sim, "corosync-qnetd", host.name);
  if (!qnetdInstalled) {
    lib.err("bash: line 1: corosync-qnetd-certutil: command not found\n");
    lib.out("\nINFO: copying CA cert and initializing on all nodes\n");
    lib.err("scp: /etc/corosync/qnetd/nssdb/qnetd-cacert.crt: No such file or directory\n");
    lib.die(`command 'scp -o BatchMode=yes root@[${address}]:/etc/corosync/qnetd/nssdb/qnetd-cacert.crt /etc/pve/qnetd-cacert.crt' failed: exit code 1\n`);
  }
  lib.out("Certificate database (/etc/corosync/qnetd/nssdb) already exists. Delete it to initialize new db\n");
  lib.out("\nINFO: copying CA cert and initializing on all nodes\n");
  const members = [...cluster.nodes].map((m) => m.name).sort();
  for (const n of members) {
    if (!dpkg.isInstalled(sim, "corosync-qdevice", n)) lib.out(`\nnode '${n}': bash: line 1: corosync-qdevice-net-certutil: command not found\n`);
    else lib.out(`\nnode '${n}': Creating /etc/corosync/qdevice/net/nssdb\n`);
  }
  lib.out("\nINFO: generating cert request\n");
  if (!dpkg.isInstalled(sim, "corosync-qdevice", me.name)) lib.die(`command 'corosync-qdevice-net-certutil -r -n ${cluster.name}' failed: exec failed: No such file or directory\n`);
  lib.out(`Certificate request stored in /etc/corosync/qdevice/net/nssdb/qdevice-net-node.crq\n`);
  lib.out("\nINFO: copying exported cert request to qnetd server\n");
  lib.out("\nINFO: sign and export cluster cert\n");
  lib.out(`Signing cluster certificate\nCertificate stored in /etc/corosync/qnetd/nssdb/cluster-${cluster.name}.crt\n`);
  lib.out("\nINFO: copy exported CRT\n");
  lib.out("\nINFO: import certificate\n");
  lib.out("Importing signed cluster certificate\nCertificate stored in /etc/corosync/qdevice/net/nssdb/qdevice-net-node.p12\n");
  lib.out("\nINFO: copy and import pk12 cert to all nodes\n");
  for (const n of members) {
    if (!dpkg.isInstalled(sim, "corosync-qdevice", n)) {
      lib.die(`command 'ssh -o BatchMode=yes -o HostKeyAlias=${n} root@${state.nodes[n].ip} -- corosync-qdevice-net-certutil -m -c /etc/pve/qdevice-net-node.p12' failed: exit code 127\n`);
    }
    lib.out(`\nnode '${n}': Importing cluster certificate and key\n`);
  }
  sim.mutate((s) => {
    const c = s.clusters[cluster.name];
    if (c.qdevice) lib.die("Qdevice already configured, must be removed before setting up new one!\n");
    lib.out("\nINFO: add QDevice to cluster configuration\n");
    c.qdevice = { host: address, algorithm, tls: "on", ...(algorithm === "ffsplit" ? { votes: 1 } : {}) };
    c.configVersion += 1;
    s.qnetd ??= {};
    const q = (s.qnetd[host.name] ??= { initialized: true, clusters: [] });
    q.initialized = true;
    if (!q.clusters.includes(c.name)) q.clusters.push(c.name);
    for (const n of members) {
      const sd = ring.systemdOf(s, n);
      sd.enabled["corosync-qdevice"] = true;
      sd.active["corosync-qdevice"] = true;
    }
  });
  for (const n of members) {
    fs.mkdirSync(onNode(sim.read().nodes[n], "etc/corosync/qdevice/net/nssdb"), { recursive: true });
    lib.out(`\nINFO: start and enable corosync qdevice daemon on node '${n}'...\n`);
    lib.out(`\nnode '${n}': Synchronizing state of corosync-qdevice.service with SysV service script with /lib/systemd/systemd-sysv-install.\n`);
    lib.out(`\nnode '${n}': Executing: /lib/systemd/systemd-sysv-install enable corosync-qdevice\n`);
  }
  return 0;
}

function cmdQdeviceRemove(sim, argv) {
  lib.parseCli(argv, { usage: "pvecm qdevice remove", args: [] });
  const { state, node: me } = sim.self();
  checkConfExists(me);
  const cluster = requireCorosync(state, me);
  for (const m of [...cluster.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!state.nodes[m.name] || !state.nodes[m.name].online) lib.die(`All nodes must be online! Node ${m.name} is offline, aborting.\n`);
  }
  if (!cluster.qdevice) lib.die("No QDevice configured!\n");
  sim.mutate((s) => {
    const c = s.clusters[cluster.name];
    delete c.qdevice;
    c.configVersion += 1;
    for (const m of c.nodes) {
      const sd = ring.systemdOf(s, m.name);
      delete sd.enabled["corosync-qdevice"];
      delete sd.active["corosync-qdevice"];
    }
  });
  for (const m of cluster.nodes) fs.rmSync(onNode(sim.read().nodes[m.name], "etc/corosync/qdevice"), { recursive: true, force: true });
  lib.out("\nRemoved Qdevice.\n");
  return 0;
}

// ---------------------------------------------------------------------------------------------
// updatecerts (Cluster/Setup.pm updatecerts_and_ssh): the node certificate is made again, with the
// address /etc/hosts gives the node's name, only when missing or with --force; then SSH keys merge.

function nodeAddressFromHosts(node) {
  let text = "";
  try {
    text = fs.readFileSync(onNode(node, "etc/hosts"), "utf8");
  } catch {
    return node.ip;
  }
  for (const line of text.split("\n")) {
    const [addr, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (addr && !addr.startsWith("127.") && names.includes(node.name)) return addr;
  }
  return node.ip;
}

function cmdUpdatecerts(sim, argv) {
  const { opts } = lib.parseCli(argv, { usage: "pvecm updatecerts  [OPTIONS]", args: [], options: { force: "boolean", silent: "boolean", "unmerge-known-hosts": "boolean" } });
  const { node } = sim.self();
  const dir = onNode(node, `etc/pve/nodes/${node.name}`);
  const cert = path.join(dir, "pve-ssl.pem");
  const say = (t) => !opts.silent && lib.out(t);
  say("(re)generate node files\n");
  if (opts.force || !fs.existsSync(cert)) {
    say("generate new node certificate\n");
    const { execFileSync } = require("node:child_process");
    const tmp = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "updatecerts-"));
    try {
      const address = nodeAddressFromHosts(node);
      fs.writeFileSync(path.join(tmp, "ext"), `subjectAltName=DNS:${node.name},DNS:localhost,IP:${address},IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
      const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
      execFileSync("openssl", ["req", "-new", ...ec, "-keyout", path.join(tmp, "key"), "-out", path.join(tmp, "csr"), "-subj", `/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=${node.name}`], { stdio: "pipe" });
      execFileSync("openssl", ["x509", "-req", "-in", path.join(tmp, "csr"), "-CA", onNode(node, "etc/pve/pve-root-ca.pem"), "-CAkey", onNode(node, "etc/pve/priv/pve-root-ca.key"), "-set_serial", `0x${crypto.randomBytes(8).toString("hex")}`, "-days", "700", "-extfile", path.join(tmp, "ext"), "-out", path.join(tmp, "pem")], { stdio: "pipe" });
      fs.copyFileSync(path.join(tmp, "pem"), cert);
      fs.copyFileSync(path.join(tmp, "key"), path.join(dir, "pve-ssl.key"));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  say("merge authorized SSH keys\n");
  return 0;
}

function cmdQdevice(sim, argv) {
  const [sub, ...rest] = argv;
  if (sub === "setup") return cmdQdeviceSetup(sim, rest);
  if (sub === "remove") return cmdQdeviceRemove(sim, rest);
  return lib.unknownCommand("pvecm", `qdevice ${sub ?? ""}`.trim(), USAGES);
}

// ---------------------------------------------------------------------------------------------
lib.main(() => {
  const sim = lib.context();
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case "status":
      return cmdStatus(sim, rest);
    case "nodes":
      return cmdNodes(sim, rest);
    case "expected":
      return cmdExpected(sim, rest);
    case "create":
      return cmdCreate(sim, rest);
    case "add":
      return cmdAdd(sim, rest);
    case "delnode":
      return cmdDelnode(sim, rest);
    case "qdevice":
      return cmdQdevice(sim, rest);
    case "updatecerts":
      return cmdUpdatecerts(sim, rest);
    case "apiver":
      lib.parseCli(rest, { usage: "pvecm apiver", args: [] });
      lib.line("1");
      return 0;
    default:
      return lib.unknownCommand("pvecm", cmd, USAGES);
  }
});
