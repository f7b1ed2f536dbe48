"use strict";
// @tools apt-get apt systemctl modprobe reboot ifreload update-initramfs ifup ifdown
// Fakes of host-level tools that a provisioner calls but that must not touch the machine running
// the simulation. Each invocation is appended to <state dir>/tools.jsonl as
// {node, tool, argv, time} and succeeds. `systemctl is-active X` prints "active",
// `systemctl is-enabled X` prints "enabled". The K3s units (k3s, k3s-agent) are simulated in
// k3s-lib.cjs: start/restart runs the installed binary's server or agent (joining a cluster or
// not), stop/disable stop it, is-active answers its real state.
const lib = require("./lib.cjs");
const k3sLib = require("./k3s-lib.cjs");

lib.main(() => {
  const sim = lib.context();
  const tool = process.env.PVE_SIM_TOOL || "unknown";
  const argv = process.argv.slice(2);
  sim.logTool(tool, argv);
  if (tool === "systemctl") {
    const verb = argv.find((a) => !a.startsWith("-"));
    const units = argv.filter((a) => !a.startsWith("-")).slice(1);
    const quiet = argv.includes("-q") || argv.includes("--quiet");
    const k3sUnits = units.map((u) => u.replace(/\.service$/, "")).filter((u) => u === "k3s" || u === "k3s-agent");
    if (k3sUnits.length > 0 && k3sUnits.length === units.length) {
      let code = 0;
      for (const u of k3sUnits) code = Math.max(code, k3sLib.systemctl(sim, verb, u, argv));
      return code;
    }
    if (verb === "is-active") {
      if (!quiet) for (let i = 0; i < Math.max(1, units.length); i++) lib.line("active");
      return 0;
    }
    if (verb === "is-enabled") {
      if (!quiet) for (let i = 0; i < Math.max(1, units.length); i++) lib.line("enabled");
      return 0;
    }
    if (verb === "is-failed") {
      if (!quiet) for (let i = 0; i < Math.max(1, units.length); i++) lib.line("active");
      return 1; // not failed
    }
  }
  return 0;
});
