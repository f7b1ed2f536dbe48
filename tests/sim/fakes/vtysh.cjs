"use strict";
// Fake `vtysh` (FRR 10), only what the ring verification asks:
//   vtysh -c 'show openfabric neighbor json'
// printed as FRR's isisd/fabricd does (isis_neighbor_common_json + isis_adj_print_json, brief):
//   {"areas":[{"area":"1","circuits":[{"circuit":0,"adj":"russell","interface":"en05","level":2,
//     "state":"Up","expires-in":"2s","snpa":"2020.2020.2020"},{"circuit":2}]}]}
// one circuit per interface carrying `ip router openfabric` in /etc/frr/frr.conf, with an adjacency
// where ring-lib.cjs says one is Up. With frr.service stopped: "Exiting: failed to connect to any
// daemons." (exit 1); with FRR running but fabricd off: "% Unknown command" (exit 1). Logged to
// tools.jsonl.
const fs = require("node:fs");
const lib = require("./lib.cjs");
const ring = require("./ring-lib.cjs");

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  sim.logTool("vtysh", argv);
  const commands = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === "-c" || argv[i] === "--command") commands.push(argv[++i]);
  const { state, node } = sim.self();
  if (!ring.isActive(state, node.name, "frr.service")) {
    lib.err("Exiting: failed to connect to any daemons.\n");
    return 1;
  }
  for (const c of commands) {
    const words = c.trim().split(/\s+/);
    if (words.join(" ") !== "show openfabric neighbor json" || !ring.fabricdRunning(state, node.name)) {
      lib.line(`% Unknown command: ${c}`);
      return 1;
    }
    let conf = "";
    try {
      conf = fs.readFileSync("/etc/frr/frr.conf", "utf8");
    } catch {
      /* no config */
    }
    const tag = (/^router openfabric (\S+)/m.exec(conf) || [])[1];
    const ifaces = [];
    let iface = null;
    for (const raw of conf.split("\n")) {
      const m = /^interface\s+(\S+)/.exec(raw);
      if (m) iface = m[1];
      else if (/^\s*ip router openfabric\s/.test(raw) && iface && !ifaces.includes(iface)) ifaces.push(iface);
    }
    const circuits = ifaces.map((name, i) => {
      const adj = ring.cableAt(state, node.name, name) ? ring.adjacency(state, node.name, name) : undefined;
      return adj ? { circuit: i, adj: adj.peer, interface: name, level: 2, state: "Up", "expires-in": "2s", snpa: "2020.2020.2020" } : { circuit: i };
    });
    lib.line(JSON.stringify({ areas: tag === undefined ? [] : [{ area: tag, circuits }] }, null, 2));
  }
  return 0;
});
