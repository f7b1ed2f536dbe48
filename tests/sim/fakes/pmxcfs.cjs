"use strict";
// @tools pmxcfs killall
// Fake `pmxcfs` (proxmox/pve-cluster src/pmxcfs) and `killall` (psmisc), as far as the pve-docs
// procedure "Separate a Node Without Reinstalling" (pvecm.adoc) uses them:
//   systemctl stop pve-cluster; systemctl stop corosync   (system.cjs: logged only)
//   pmxcfs -l                                              -> local mode: the node leaves the
//                                                             corosync membership (others see it
//                                                             offline; it stays in their nodelist)
//   rm /etc/pve/corosync.conf; rm -r /etc/corosync/*       (real files in the node's private /etc)
//   killall pmxcfs; systemctl start pve-cluster            -> local mode ends: without
//                                                             /etc/pve/corosync.conf the node is
//                                                             standalone; with it, it rejoins
// The state model: node.cluster is the cluster whose membership the node is in; lib.quorumInfo
// counts a listed node as online only while node.cluster names that cluster.
const fs = require("node:fs");
const path = require("node:path");
const lib = require("./lib.cjs");

function pmxcfs(sim, argv) {
  let local = false;
  for (const a of argv) {
    if (a === "-l" || a === "--local") local = true;
    else if (a === "-d" || a === "--debug" || a === "-f" || a === "--foreground") continue;
    else if (a === "-h" || a === "--help") {
      lib.out("Usage:\n  pmxcfs [OPTION…]\n\nHelp Options:\n  -h, --help       Show help options\n\n" +
        "Application Options:\n  -d, --debug      Turn on debug messages\n  -f, --foreground Do not daemonize server\n" +
        "  -l, --local      Force local mode (ignore corosync.conf, force quorum)\n\n");
      return 0;
    } else lib.die(`Unknown option ${a}\n`, 1);
  }
  const { node } = sim.self();
  const confExists = fs.existsSync(path.join(node.root, "etc/pve/corosync.conf"));
  if (local && confExists) lib.err("[main] notice: forcing local mode (although corosync.conf exists)\n");
  sim.mutate((s) => {
    const me = s.nodes[node.name];
    if (!local) return;
    me.pmxcfsLocal = true;
    if (me.cluster) {
      me.localModeCluster = me.cluster; // remembered, in case corosync.conf is still there afterwards
      me.cluster = null;
    }
  });
  return 0;
}

function killall(sim, argv) {
  const names = argv.filter((a) => !a.startsWith("-"));
  if (names.length === 0) lib.die("Usage: killall [OPTION]... [--] NAME...\n", 1);
  const { node } = sim.self();
  let missing = 0;
  for (const name of names) {
    if (name !== "pmxcfs") {
      lib.err(`${name}: no process found\n`);
      missing++;
      continue;
    }
    const confExists = fs.existsSync(path.join(node.root, "etc/pve/corosync.conf"));
    sim.mutate((s) => {
      const me = s.nodes[node.name];
      if (!me.pmxcfsLocal) return; // the normal pmxcfs of pve-cluster: restarted by systemd, no change
      me.pmxcfsLocal = false;
      const c = me.localModeCluster ? s.clusters[me.localModeCluster] : null;
      delete me.localModeCluster;
      if (confExists && c && c.nodes.some((m) => m.name === me.name)) {
        me.cluster = c.name; // corosync.conf kept: back in the cluster once the services start
        return;
      }
      me.cluster = null;
      me.nodeid = null;
      me.links = {};
    });
  }
  return missing === names.length ? 1 : 0;
}

lib.main(() => {
  const sim = lib.context();
  const tool = process.env.PVE_SIM_TOOL || "pmxcfs";
  const argv = process.argv.slice(2);
  sim.logTool(tool, argv);
  return tool === "killall" ? killall(sim, argv) : pmxcfs(sim, argv);
});
