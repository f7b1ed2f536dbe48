"use strict";
// Fake `pveversion` (pve-manager bin/pveversion). No JSON form: see pvesh get /version.
const lib = require("./lib.cjs");

lib.main(() => {
  const sim = lib.context();
  const { node } = sim.self();
  const argv = process.argv.slice(2);
  let verbose = false;
  for (const a of argv) {
    // Getopt::Long: --verbose, -verbose, and unambiguous prefixes (-v, --verb)
    if (/^--?v(e(r(b(o(s(e)?)?)?)?)?)?$/.test(a)) verbose = true;
    else lib.die("USAGE: pveversion [--verbose]\n", 255);
  }
  if (!verbose) {
    lib.line(`pve-manager/${node.pveVersion}/${node.repoid} (running kernel: ${node.kernel})`);
    return 0;
  }
  for (const [pkg, ver] of lib.packageVersions(node)) lib.line(`${pkg}: ${ver}`);
  return 0;
});
