"use strict";
// Fake `ping` (iputils). The simulated nodes share one network namespace, so reachability is
// modelled: a destination answers when some ONLINE node has it among its state `addresses`
// (SimCluster.setAddresses). Take an address away (or stop the node) to make a pair unreachable.
// Supports -c COUNT, -W TIMEOUT, -w DEADLINE, -i INTERVAL, -I SOURCE, -q, -n, -4. Output and exit
// With a Thunderbolt ring modelled (state.ring, ring-lib.cjs), a ring loopback answers a ring
// node only along OpenFabric adjacencies (a node in the middle must forward). Output and exit
// codes follow iputils: 0 = replies, 1 = no reply, 2 = other error (e.g. a source address that is
// not local: "ping: bind icmp socket: Cannot assign requested address"). Does not sleep.
const lib = require("./lib.cjs");
const ring = require("./ring-lib.cjs");

const WITH_VALUE = new Set(["-c", "-W", "-w", "-i", "-I", "-s", "-t", "-Q", "-m", "-p", "-M", "-l"]);

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  sim.logTool("ping", argv);
  const opts = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^(-[a-zA-Z])(.+)?$/.exec(a);
    if (m && WITH_VALUE.has(m[1])) opts[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
    else if (m) opts[m[1]] = true;
    else positional.push(a);
  }
  if (positional.length !== 1) lib.die("ping: usage error: Destination address required", 2);
  const dest = positional[0];
  const count = opts["-c"] !== undefined ? Number(opts["-c"]) : 4;
  if (!Number.isInteger(count) || count < 1) lib.die(`ping: invalid argument: '${opts["-c"]}': out of range: 1 <= value <= 9223372036854775807`, 2);
  const { state, node } = sim.self();
  const src = opts["-I"];
  if (src !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(src) && !(node.addresses || []).includes(src)) {
    lib.die("ping: bind icmp socket: Cannot assign requested address", 2);
  }
  let owner = Object.values(state.nodes).find((n) => n.online && (n.addresses || []).includes(dest));
  const ringOwner = ring.loopbackOwner(state, dest);
  if (owner && ringOwner !== undefined && ring.portsOf(state, node.name).length > 0 && !ring.route(state, node.name, ringOwner)) owner = undefined;
  const quiet = opts["-q"] === true;
  lib.line(src ? `PING ${dest} (${dest}) from ${src} : 56(84) bytes of data.` : `PING ${dest} (${dest}) 56(84) bytes of data.`);
  const times = [];
  if (owner) {
    for (let seq = 1; seq <= count; seq++) {
      const t = owner.name === node.name ? 0.03 + seq * 0.001 : 0.2 + seq * 0.01;
      times.push(t);
      if (!quiet) lib.line(`64 bytes from ${dest}: icmp_seq=${seq} ttl=64 time=${t.toFixed(3)} ms`);
    }
  }
  lib.line("");
  lib.line(`--- ${dest} ping statistics ---`);
  const received = times.length;
  const loss = Math.round(((count - received) / count) * 100);
  lib.line(`${count} packets transmitted, ${received} received, ${loss}% packet loss, time ${(count - 1) * 1000 + 3}ms`);
  if (received > 0) {
    const min = Math.min(...times);
    const max = Math.max(...times);
    const avg = times.reduce((s, t) => s + t, 0) / received;
    const mdev = Math.sqrt(times.reduce((s, t) => s + (t - avg) ** 2, 0) / received);
    lib.line(`rtt min/avg/max/mdev = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)}/${mdev.toFixed(3)} ms`);
    return 0;
  }
  return 1;
});
