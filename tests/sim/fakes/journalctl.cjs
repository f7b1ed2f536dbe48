"use strict";
// Fake journalctl: `journalctl -u k3s|k3s-agent [-n N] [--no-pager] [-o cat]` prints what the
// simulated k3s logs (logrus lines, see state.k3s.services[<node>].error in k3s-lib.cjs): the
// start line and, for a unit that cannot join, its error. Other units: "-- No entries --".
const lib = require("./lib.cjs");

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  const unitAt = argv.findIndex((a) => a === "-u" || a === "--unit");
  const unit = unitAt >= 0 ? (argv[unitAt + 1] || "").replace(/\.service$/, "") : "";
  const cat = argv.includes("cat") && (argv.includes("-o") || argv.includes("--output"));
  const state = sim.read();
  const svc = state.k3s && state.k3s.services[sim.nodeName];
  if (!svc || svc.unit !== unit) {
    lib.line("-- No entries --");
    return 0;
  }
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const role = svc.role === "agent" ? "agent" : "server";
  const lines = [`time="${now}" level=info msg="Starting k3s ${role} (simulated)"`];
  if (svc.error) lines.push(`time="${now}" ${svc.error}`);
  const prefix = cat ? "" : `${new Date().toString().slice(4, 24)} ${sim.nodeName} k3s[4242]: `;
  lib.out(lines.map((l) => prefix + l).join("\n") + "\n");
  return 0;
});
