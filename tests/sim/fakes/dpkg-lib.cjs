"use strict";
// A node's package database as the fakes see it (dpkg-query.cjs explains the model): the base set,
// the test's seed in state.dpkg, then the node's logged apt-get/apt calls replayed in order.
// Shared by dpkg-query and the tools that exist only once their package is installed.
const lib = require("./lib.cjs");

const BASE = [
  "adduser", "apt", "base-files", "base-passwd", "bash", "coreutils", "dash", "debianutils", "diffutils",
  "dpkg", "e2fsprogs", "findutils", "grep", "gzip", "hostname", "init-system-helpers", "iproute2",
  "libc-bin", "login", "mount", "ncurses-base", "openssh-client", "openssh-server", "passwd", "perl-base",
  "sed", "systemd", "sysvinit-utils", "tar", "util-linux", "zstd",
];

/** The apt-get argv's verb and package arguments (options and their values skipped). */
function aptCall(argv) {
  return lib.verbAndWords(argv, new Set(["-o", "-c", "-t", "--option", "--config-file", "--target-release", "--default-release"]));
}

function database(sim, nodeName = sim.nodeName) {
  const state = sim.read();
  const node = state.nodes[nodeName];
  if (!node) lib.die(`pve-sim: unknown node '${nodeName}'`, 127);
  const db = new Map(); // name -> "installed" | "config-files"
  for (const p of BASE) db.set(p, "installed");
  for (const [p] of lib.packageVersions(node)) db.set(p, "installed");
  const seed = (state.dpkg && state.dpkg[node.name]) || {};
  for (const p of seed.installed || []) db.set(p, "installed");
  for (const p of seed.removed || []) db.delete(p);
  for (const e of sim.toolCalls(node.name, ["apt-get", "apt"])) {
    const { verb, words } = aptCall(e.argv || []);
    for (const w of words) {
      // apt-get's per-package action suffixes: "foo-" removes in install, "foo+" installs in remove
      let name = w;
      let action = verb;
      if (/[+-]$/.test(w) && (verb === "install" || verb === "remove" || verb === "purge")) {
        action = w.endsWith("-") ? "remove" : "install";
        name = w.slice(0, -1);
      }
      name = name.replace(/[:=].*$/, "");
      if (action === "install" || action === "reinstall") db.set(name, "installed");
      else if (action === "remove") {
        if (db.has(name)) db.set(name, "config-files");
      } else if (action === "purge") db.delete(name);
    }
  }
  return db;
}

/** Whether `pkg` is installed on `nodeName` (the tool's own node by default). */
function isInstalled(sim, pkg, nodeName = sim.nodeName) {
  return database(sim, nodeName).get(pkg) === "installed";
}

module.exports = { database, isInstalled };
