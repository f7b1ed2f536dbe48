"use strict";
// @tools readlink realpath
// Fake `readlink -f|-e|-m` and `realpath [-e|-m]`: the simulated disks exist only in the state
// (ceph-lib.cjs), so their /dev/<name> paths and the /dev/disk/by-id links udev would make for
// them (ceph-lib.byIdLinks) are answered from the node's disk inventory. Every other path is
// resolved in the node's real file system, as coreutils would.
//   readlink: prints nothing for a path it cannot resolve, exit 1 (a message only with -v).
//   realpath: "realpath: P: No such file or directory" on stderr for it, exit 1.
// Plain `readlink P` (no canonicalize option) prints the link target, as coreutils does.
const fs = require("node:fs");
const path = require("node:path");
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

/** Canonicalize `p`: mode "e" (every component must exist), "f" (all but the last), "m" (none). */
function canonical(p, mode, inventory) {
  const abs = path.resolve(p);
  if (inventory.links[abs]) return inventory.links[abs];
  if (inventory.devices.has(abs)) return abs;
  // A /dev/disk/by-* name that is no link of a simulated disk does not exist.
  const fake = abs.startsWith("/dev/disk/");
  try {
    if (fake) throw new Error("missing");
    return fs.realpathSync(abs);
  } catch {
    if (mode === "m") return abs;
    if (mode === "f") {
      const dir = path.dirname(abs);
      if (fake && /^\/dev\/disk\/by-[a-z]+$/.test(dir)) return abs;
      try {
        return path.join(fs.realpathSync(dir), path.basename(abs));
      } catch {
        return null;
      }
    }
    return null;
  }
}

lib.main(() => {
  const sim = lib.context();
  const tool = process.env.PVE_SIM_TOOL || "readlink";
  const argv = process.argv.slice(2);
  sim.logTool(tool, argv);
  const { state, node } = sim.self();
  const disks = ceph.disksOf(state, node.name);
  const devices = new Set();
  for (const d of disks) {
    devices.add(`/dev/${d.name}`);
    for (const p of d.partitions || []) devices.add(`/dev/${p.name}`);
  }
  const inventory = { links: ceph.byIdLinks(disks), devices };

  let mode = tool === "realpath" ? "f" : null;
  let verbose = tool === "realpath";
  let newline = true;
  const paths = [];
  let options = true;
  for (const a of argv) {
    if (options && a === "--") options = false;
    else if (options && /^-[a-zA-Z]+$/.test(a)) {
      for (const c of a.slice(1)) {
        if ("efm".includes(c)) mode = c;
        else if (c === "v") verbose = true;
        else if (c === "q" || c === "s") verbose = false;
        else if (c === "n") newline = false;
        else lib.die(`${tool}: invalid option -- '${c}'\nTry '${tool} --help' for more information.\n`, 1);
      }
    } else if (options && a.startsWith("--")) {
      const long = { "--canonicalize": "f", "--canonicalize-existing": "e", "--canonicalize-missing": "m" }[a];
      if (!long) lib.die(`${tool}: unrecognized option '${a}'\nTry '${tool} --help' for more information.\n`, 1);
      mode = long;
    } else paths.push(a);
  }
  if (paths.length === 0) lib.die(`${tool}: missing operand\nTry '${tool} --help' for more information.\n`, 1);

  let code = 0;
  for (const p of paths) {
    let resolved;
    if (mode === null) {
      // Plain readlink: the target of a symbolic link, nothing for anything else.
      const abs = path.resolve(p);
      if (inventory.links[abs]) resolved = `../../${inventory.links[abs].replace(/^\/dev\//, "")}`;
      else {
        try {
          resolved = fs.readlinkSync(abs);
        } catch {
          resolved = null;
        }
      }
    } else resolved = canonical(p, mode, inventory);
    if (resolved === null) {
      code = 1;
      if (verbose) lib.err(`${tool}: ${p}: No such file or directory\n`);
      continue;
    }
    lib.out(resolved + (newline || paths.length > 1 ? "\n" : ""));
  }
  return code;
});
