"use strict";
// Fake `corosync-qnetd-tool` (corosync-qdevice qdevices/corosync-qnetd-tool.c, qnetd-ipc-cmd.c):
// -l lists the clusters the qnetd daemon serves, with one block per connected client; -s its status.
// Exists only where the corosync-qnetd package is installed (else sh's "not found", exit 127).
// Clients: the members online of every simulated cluster whose QDevice is this host (qnetd-lib.cjs),
// plus state.qnetd[<host>].foreign (clients of clusters outside the simulation).
const lib = require("./lib.cjs");
const dpkg = require("./dpkg-lib.cjs");
const qnetdLib = require("./qnetd-lib.cjs");

function usage() {
  lib.out("usage: corosync-qnetd-tool [-Hhlsv] [-c cluster_name] [-p qnetd_ipc_socket_path]\n");
  return 1;
}

/** cluster name -> [{ nodeId, address, configVersion, nodeIds }] */
function servedClusters(state, me) {
  const served = new Map();
  const add = (name, client) => {
    if (!served.has(name)) served.set(name, []);
    served.get(name).push(client);
  };
  const qnetd = (state.qnetd && state.qnetd[me.name]) || {};
  for (const c of Object.values(state.clusters)) {
    if (!c.qdevice || qnetdLib.hostAt(state, c.qdevice.host) !== me || !(qnetd.clusters || []).includes(c.name)) continue;
    const q = lib.quorumInfo(state, c);
    const ids = [...c.nodes].map((m) => m.nodeid).sort((a, b) => a - b);
    for (const m of q.online) {
      const address = (m.links && m.links.link0) || m.ip;
      add(c.name, { nodeId: m.nodeid, address, configVersion: c.configVersion, configured: ids, membership: q.online.map((o) => o.nodeid) });
    }
  }
  for (const f of qnetd.foreign || []) {
    add(f.cluster, { nodeId: f.nodeId, address: f.address, configVersion: f.configVersion ?? 1, configured: f.configured ?? [f.nodeId], membership: f.membership ?? [f.nodeId] });
  }
  return served;
}

lib.main(() => {
  const sim = lib.context();
  const { state, node: me } = sim.self();
  if (!dpkg.isInstalled(sim, "corosync-qnetd")) lib.die("sh: 1: corosync-qnetd-tool: not found\n", 127);
  const argv = process.argv.slice(2);
  let op = null;
  let cluster = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-l") op = "list";
    else if (a === "-s") op = "status";
    else if (a === "-v") continue;
    else if (a === "-c") cluster = argv[++i] ?? null;
    else return usage();
  }
  if (!op) return usage();
  const served = servedClusters(state, me);
  if (op === "status") {
    const clients = [...served.values()].reduce((n, c) => n + c.length, 0);
    lib.out(`QNetd address:\t\t\t*:5403\nTLS:\t\t\t\tSupported (client certificate required)\nConnected clients:\t\t${clients}\nConnected clusters:\t\t${served.size}\n`);
    return 0;
  }
  let o = "";
  for (const [name, clients] of served) {
    if (cluster && cluster !== name) continue;
    o += `Cluster "${name}":\n    Algorithm:\t\tFifty-Fifty split\n    Tie-breaker:\tNode with lowest node ID\n`;
    for (const [i, c] of clients.entries()) {
      o += `    Node ID ${c.nodeId}:\n        Client address:\t\t::ffff:${c.address}:${54100 + i}\n`;
      o += `        Configuration version:\t${c.configVersion}\n        Configured node list:\t${c.configured.join(", ")}\n`;
      o += `        Membership node list:\t${c.membership.join(", ")}\n        Vote:\t\t\tACK (ACK)\n`;
    }
  }
  lib.out(o);
  return 0;
});
