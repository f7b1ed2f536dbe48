"use strict";
// @tools findmnt blockdev dd
// A VPS booted into its provider's rescue system (SimNodeSpec.rescue; only rescue hosts get these
// shims). Each disk is a file in the state dir (state.rescue[<node>].disks[<device>] = {file,
// size}), so nothing here ever opens a device of the machine running the simulation:
//   findmnt [-n] [-o COLS] [TARGET]  the root filesystem: tmpfs while in rescue mode, the disk's
//        first partition (ext4) once state.rescue[<node>].active is false; SOURCE, TARGET, FSTYPE.
//   blockdev --getsize64 DEVICE      the disk's size ("blockdev: cannot open DEV: No such file or
//        directory", exit 1, for any other device).
//   dd [if=] [of=] [bs=] [count=] [iflag=count_bytes] [conv=fsync] [status=none]: copies between
//        files, stdin/stdout and the simulated disks (writes in place, never truncating a disk);
//        any other /dev path fails as dd does: "dd: failed to open '/dev/x': No such file or directory".
// Every call is logged to tools.jsonl.
const fs = require("node:fs");
const lib = require("./lib.cjs");

function rescueOf(sim) {
  const state = sim.read();
  const r = state.rescue && state.rescue[sim.nodeName];
  if (!r) lib.die(`pve-sim: ${sim.nodeName} is not a rescue host (SimNodeSpec.rescue)\n`, 2);
  return r;
}

function findmnt(sim, argv) {
  const r = rescueOf(sim);
  let cols = ["TARGET", "SOURCE", "FSTYPE"];
  let headings = true;
  let target = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-n" || a === "--noheadings") headings = false;
    else if (a === "-o" || a === "--output") cols = argv[++i].split(",").map((c) => c.toUpperCase());
    else if (a.startsWith("-")) lib.die(`pve-sim: findmnt option ${a} is not simulated\n`, 2);
    else target = a;
  }
  const first = Object.keys(r.disks)[0];
  const mounts = r.active
    ? [{ TARGET: "/", SOURCE: "tmpfs", FSTYPE: "tmpfs" }, { TARGET: "/proc", SOURCE: "proc", FSTYPE: "proc" }]
    : [{ TARGET: "/", SOURCE: `${first}1`, FSTYPE: "ext4" }, { TARGET: "/proc", SOURCE: "proc", FSTYPE: "proc" }];
  const rows = target === null ? mounts : mounts.filter((m) => m.TARGET === target);
  if (rows.length === 0) return 1;
  const lines = rows.map((m) => cols.map((c) => m[c] ?? "").join(" "));
  if (headings) lines.unshift(cols.join(" "));
  lib.out(lines.join("\n") + "\n");
  return 0;
}

function blockdev(sim, argv) {
  const r = rescueOf(sim);
  if (argv[0] !== "--getsize64" || argv.length !== 2) lib.die(`pve-sim: blockdev ${argv.join(" ")} is not simulated (only --getsize64 DEVICE)\n`, 2);
  const disk = r.disks[argv[1]];
  if (!disk) lib.die(`blockdev: cannot open ${argv[1]}: No such file or directory\n`, 1);
  lib.out(`${disk.size}\n`);
  return 0;
}

function size(text) {
  const m = /^(\d+)([kKMG]?)$/.exec(text);
  if (!m) lib.die(`dd: invalid number: '${text}'\n`, 1);
  return Number(m[1]) * { "": 1, k: 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]];
}

function dd(sim, argv) {
  const r = rescueOf(sim);
  const o = {};
  for (const a of argv) {
    const at = a.indexOf("=");
    if (at < 0) lib.die(`dd: unrecognized operand '${a}'\n`, 1);
    o[a.slice(0, at)] = a.slice(at + 1);
  }
  const resolve = (p) => {
    if (!p.startsWith("/dev/")) return { file: p, disk: null };
    const disk = r.disks[p];
    if (!disk) lib.die(`dd: failed to open '${p}': No such file or directory\n`, 1);
    return { file: disk.file, disk };
  };
  const countBytes = (o.iflag || "").split(",").includes("count_bytes");
  const bs = o.bs ? size(o.bs) : 512;
  let data = o.if ? fs.readFileSync(resolve(o.if).file) : fs.readFileSync(0);
  if (o.count !== undefined) data = data.subarray(0, countBytes ? size(o.count) : size(o.count) * bs);
  if (o.of) {
    const out = resolve(o.of);
    if (out.disk && data.length > out.disk.size) {
      lib.err(`dd: error writing '${o.of}': No space left on device\n`);
      return 1;
    }
    const fd = fs.openSync(out.file, out.disk ? "r+" : "w");
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.closeSync(fd);
  } else lib.out(data);
  if (o.status !== "none") {
    const full = Math.floor(data.length / bs);
    const part = data.length % bs ? 1 : 0;
    lib.err(`${full}+${part} records in\n${full}+${part} records out\n${data.length} bytes copied, 0.01 s, 1.0 MB/s\n`);
  }
  return 0;
}

lib.main(() => {
  const sim = lib.context();
  const tool = process.env.PVE_SIM_TOOL;
  const argv = process.argv.slice(2);
  sim.logTool(tool, argv);
  if (tool === "findmnt") return findmnt(sim, argv);
  if (tool === "blockdev") return blockdev(sim, argv);
  return dd(sim, argv);
});
