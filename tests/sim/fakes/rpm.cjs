"use strict";
// @tools rpm dnf yum
// Fakes of the RPM tools on a simulated Rocky host. dnf/yum install nothing; they log their argv
// to <state dir>/tools.jsonl. rpm -q answers from a package database made of a base set (a
// minimal Rocky 9 install), state.rpm[<node>] = { installed: [...], removed: [...] } (test
// setup, optional), and the node's logged dnf/yum install|remove calls, replayed in order.
//
// Behaviour copied from the real tools:
//   rpm -q [--queryformat F] [--] NAME…: one entry per installed name (default format
//     NAME-VERSION-RELEASE.ARCH); for a missing one "package NAME is not installed" on stdout;
//     exit status = the number of names not installed.
//   dnf install -y PKG…: "Complete!" on stdout; an unknown package is not simulated (all exist).
//   dnf install without -y on a non-tty: "Operation aborted." exit 1.
const lib = require("./lib.cjs");

const BASE = [
  "basesystem", "bash", "coreutils", "curl", "dnf", "filesystem", "findutils", "glibc", "gzip", "hostname",
  "iproute", "openssh-clients", "openssh-server", "passwd", "procps-ng", "rocky-release", "rpm", "sed",
  "shadow-utils", "systemd", "tar", "tzdata", "util-linux",
];

function dnfWords(argv) {
  return lib.verbAndWords(argv, new Set(["--setopt", "-c", "--config", "--releasever", "--repo", "--enablerepo", "--disablerepo"]));
}

function database(sim) {
  const { state, node } = sim.self();
  const db = new Set(BASE);
  const seed = (state.rpm && state.rpm[node.name]) || {};
  for (const p of seed.installed || []) db.add(p);
  for (const p of seed.removed || []) db.delete(p);
  for (const e of sim.toolCalls(node.name, ["dnf", "yum"])) {
    const { verb, words } = dnfWords(e.argv || []);
    for (const w of words) {
      if (verb === "install" || verb === "reinstall") db.add(w);
      else if (verb === "remove" || verb === "erase") db.delete(w);
    }
  }
  return db;
}

lib.main(() => {
  const sim = lib.context();
  const tool = process.env.PVE_SIM_TOOL || "rpm";
  const argv = process.argv.slice(2);
  if (tool !== "rpm") {
    sim.logTool(tool, argv);
    const { verb } = dnfWords(argv);
    if ((verb === "install" || verb === "remove") && !argv.includes("-y") && !argv.includes("--assumeyes")) {
      lib.out("Is this ok [y/N]: ");
      lib.die("Operation aborted.", 1);
    }
    if (!argv.includes("-q") && !argv.includes("--quiet")) lib.line("Complete!");
    return 0;
  }
  let query = false;
  let format = null;
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      names.push(...argv.slice(i + 1));
      break;
    }
    if (a === "-q" || a === "--query") query = true;
    else if (a === "--queryformat" || a === "--qf") format = argv[++i] ?? "";
    else if (a.startsWith("--queryformat=")) format = a.slice("--queryformat=".length);
    else if (a.startsWith("-")) lib.die(`rpm: ${a}: unknown option`, 1);
    else names.push(a);
  }
  if (!query) lib.die("rpm: no operation specified (the simulated rpm only answers -q)", 1);
  const db = database(sim);
  let missing = 0;
  let text = "";
  for (const n of names) {
    if (!db.has(n)) {
      text += `package ${n} is not installed\n`;
      missing++;
      continue;
    }
    const fields = { NAME: n, VERSION: "1.0", RELEASE: "1.el9", ARCH: "x86_64" };
    const fmt = (format ?? "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n").replace(/\\n/g, "\n").replace(/\\t/g, "\t");
    text += fmt.replace(/%\{(\w+)\}/g, (_, k) => fields[k] ?? "(none)");
  }
  lib.out(text);
  return missing;
});
