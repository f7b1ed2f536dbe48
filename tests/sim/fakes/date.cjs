"use strict";
// Fake `date` for a node whose clock is off: state knob sim.clockOffsetSeconds[<node>] (seconds,
// may be negative or fractional) shifts what the node's `date` shows, as a node without NTP
// drifts. Without an offset, or when the caller sets or reads another time itself (-d, -s, -r,
// --date, --set, --reference, -f), the real /bin/date runs with the same arguments.
const { spawnSync } = require("node:child_process");
const lib = require("./lib.cjs");

const OWN_TIME = /^(-[dsrf]|--(date|set|reference|file)(=|$))/;

lib.main(() => {
  const argv = process.argv.slice(2);
  // Outside a simulated node's environment (no state), the real date.
  const state = process.env.PVE_SIM_STATE ? lib.context().read() : {};
  const offsets = (state.sim && state.sim.clockOffsetSeconds) || {};
  const offset = Number(offsets[process.env.PVE_SIM_NODE] || 0);
  const shifted = offset !== 0 && !argv.some((a) => OWN_TIME.test(a));
  const args = shifted ? ["-d", `@${(Date.now() / 1000 + offset).toFixed(9)}`, ...argv] : argv;
  const r = spawnSync("/bin/date", args, { stdio: "inherit" });
  return r.status ?? 1;
});
