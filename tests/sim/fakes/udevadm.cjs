"use strict";
// Fake `udevadm`: the simulated nodes have no udev of their own. `udevadm control --reload`,
// `udevadm trigger …` and `udevadm settle` are logged to tools.jsonl and succeed.
const lib = require("./lib.cjs");

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  sim.logTool("udevadm", argv);
  const verb = argv[0];
  if (!["control", "trigger", "settle", "info", "test", "monitor"].includes(verb || "")) {
    lib.die(`udevadm: unknown command '${verb || ""}'`, 1);
  }
  return 0;
});
