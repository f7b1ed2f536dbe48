"use strict";
// Fake uname: `uname -m` (or --machine) answers the simulated node's architecture (x86_64 or
// aarch64, SimNodeSpec.arch), `uname -r` (--kernel-release) the kernel it booted (state: the
// node's kernel; a plain Debian host's Debian kernel until it boots the Proxmox one); everything
// else is the real /usr/bin/uname.
const { spawnSync } = require("node:child_process");
const lib = require("./lib.cjs");
const k3sLib = require("./k3s-lib.cjs");

lib.main(() => {
  const argv = process.argv.slice(2);
  if (argv.length === 1 && (argv[0] === "-m" || argv[0] === "--machine")) {
    const node = lib.context().self().node;
    lib.line(k3sLib.MACHINE[node.arch || "amd64"]);
    return 0;
  }
  if (argv.length === 1 && (argv[0] === "-r" || argv[0] === "--kernel-release")) {
    lib.line(lib.context().self().node.kernel);
    return 0;
  }
  const real = spawnSync("/usr/bin/uname", argv, { stdio: "inherit" });
  return real.status ?? 1;
});
