"use strict";
// Fake `udevadm`: the simulated nodes have no udev of their own. `udevadm control --reload`,
// `udevadm trigger …` and `udevadm settle` are logged to tools.jsonl and succeed.
// `udevadm info --query=symlink --name=DEV` (-q symlink -n DEV) prints the /dev/disk/by-id links of a
// simulated disk or partition (ceph-lib.cjs byIdLinks) relative to /dev, space-separated, as udev does;
// an unknown device: `Unknown device "DEV": No such device`, exit 1.
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

function symlinks(sim, argv) {
  let name = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-n" || a === "--name") name = argv[++i];
    else if (a.startsWith("--name=")) name = a.slice(7);
  }
  const { state } = sim.self();
  const links = ceph.byIdLinks(ceph.disksOf(state, sim.nodeName));
  const target = String(name || "").startsWith("/dev/") ? name : `/dev/${name}`;
  const mine = Object.keys(links).filter((l) => links[l] === target);
  const known = ceph.disksOf(state, sim.nodeName).some((d) => `/dev/${d.name}` === target || (d.partitions || []).some((p) => `/dev/${p.name}` === target));
  if (!known) lib.die(`Unknown device "${name}": No such device`, 1);
  lib.line(mine.map((l) => l.replace(/^\/dev\//, "")).join(" "));
  return 0;
}

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  const verb = argv[0];
  const query = argv.find((a, i) => a === "--query=symlink" || (a === "-q" && argv[i + 1] === "symlink") || (a === "--query" && argv[i + 1] === "symlink"));
  if (verb === "info" && query) return symlinks(sim, argv);
  sim.logTool("udevadm", argv);
  if (!["control", "trigger", "settle", "info", "test", "monitor"].includes(verb || "")) {
    lib.die(`udevadm: unknown command '${verb || ""}'`, 1);
  }
  return 0;
});
