"use strict";
// Fake `sysctl`: the simulated nodes share the host's kernel, so nothing is ever written to
// /proc/sys. Values set with `-p FILE`/`--load FILE`/`-w k=v`/`k=v` are kept per node in the state
// (`state.sysctl[node][key]`) and printed like procps does ("key = value"); `-n KEY` / `KEY` read
// them back (falling back to the host's /proc/sys value). A value the kernel cannot take (text for a
// numeric key) is refused with procps's "setting key" error, exit 255. Logged to tools.jsonl.
const fs = require("node:fs");
const lib = require("./lib.cjs");

function hostValue(key) {
  try {
    return fs.readFileSync(`/proc/sys/${key.replace(/\./g, "/")}`, "utf8").trim();
  } catch {
    return undefined;
  }
}

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  sim.logTool("sysctl", argv);
  let valueOnly = false;
  let quiet = false;
  const files = [];
  const items = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-n" || a === "--values") valueOnly = true;
    else if (a === "-q" || a === "--quiet") quiet = true;
    else if (a === "-w" || a === "--write") continue;
    else if (a === "-p" || a === "--load") files.push(argv[i + 1] && !argv[i + 1].startsWith("-") ? argv[++i] : "/etc/sysctl.conf");
    else if (a.startsWith("-p")) files.push(a.slice(2));
    else if (a.startsWith("--load=")) files.push(a.slice(7));
    else items.push(a);
  }
  const writes = [];
  for (const f of files) {
    let text;
    try {
      text = fs.readFileSync(f, "utf8");
    } catch {
      lib.die(`sysctl: cannot open "${f}": No such file or directory`, 255);
    }
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
      const eq = line.indexOf("=");
      if (eq < 0) continue;
      writes.push([line.slice(0, eq).trim().replace(/^-/, ""), line.slice(eq + 1).trim()]);
    }
  }
  const reads = [];
  for (const it of items) {
    const eq = it.indexOf("=");
    if (eq >= 0) writes.push([it.slice(0, eq).trim(), it.slice(eq + 1).trim()]);
    else reads.push(it);
  }
  let code = 0;
  if (writes.length > 0) {
    // The kernel refuses a value it cannot parse: a number's key given something else (procps
    // prints the errno and goes on with the other keys, exit 255).
    const refused = writes.filter(([k, v]) => {
      const now = hostValue(k);
      return now !== undefined && /^-?\d+(\s+-?\d+)*$/.test(now) && !/^-?\d+(\s+-?\d+)*$/.test(v);
    });
    const accepted = writes.filter((w) => !refused.includes(w));
    sim.mutate((state) => {
      state.sysctl ??= {};
      state.sysctl[sim.nodeName] ??= {};
      for (const [k, v] of accepted) state.sysctl[sim.nodeName][k] = v;
    });
    for (const [k] of refused) lib.err(`sysctl: setting key "${k}": Invalid argument\n`);
    if (refused.length > 0) code = 255;
    if (!quiet) for (const [k, v] of accepted) lib.line(valueOnly ? v : `${k} = ${v}`);
  }
  if (reads.length > 0) {
    const state = sim.read();
    const mine = (state.sysctl && state.sysctl[sim.nodeName]) || {};
    for (const k of reads) {
      const v = mine[k] !== undefined ? mine[k] : hostValue(k);
      if (v === undefined) lib.die(`sysctl: cannot stat /proc/sys/${k.replace(/\./g, "/")}: No such file or directory`, 255);
      lib.line(valueOnly ? v : `${k} = ${v}`);
    }
  }
  return code;
});
