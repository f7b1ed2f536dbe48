"use strict";
// Fake `dpkg-query -W` (dpkg 1.21/1.22). The fake apt-get (system.cjs) installs nothing; it only
// logs its argv to <state dir>/tools.jsonl. This fake derives the node's package database from:
//   1. a base set every PVE node has (the Debian essentials plus pveversion -v's packages),
//   2. state.dpkg[<node>] = { installed: [names], removed: [names] }  (test setup, optional),
//   3. the node's logged apt-get/apt calls, replayed in order: install/reinstall add packages,
//      remove leaves "deinstall ok config-files", purge forgets the package.
// So `apt-get install foo` followed by `dpkg-query -W foo` reports foo installed, and
// `apt-get remove foo` (a hand edit in a drift test) makes it disappear again.
//
// Behaviour copied from the real tool:
//   - output in package-name order (not argument order), one formatted entry per match;
//   - a pattern with no match: "dpkg-query: no packages found matching <p>" on stderr, exit 1
//     after printing the others;
//   - default format "${binary:Package}\t${Version}\n"; the format understands ${Package},
//     ${binary:Package}, ${Status}, ${Version}, ${db:Status-Abbrev}, ${db:Status-Status} and the
//     escapes \n \t \\ ; shell globs (*, ?) in patterns;
//   - unknown options: "dpkg-query: error: unknown option --x" + hint, exit 2.
const lib = require("./lib.cjs");

const { database } = require("./dpkg-lib.cjs");

function globToRegExp(p) {
  return new RegExp("^" + p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
}

function unescapeFormat(f) {
  return f.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}

function render(format, name, st) {
  const installed = st === "installed";
  const fields = {
    Package: name,
    "binary:Package": name,
    Status: installed ? "install ok installed" : "deinstall ok config-files",
    Version: installed ? "1.0-1" : "",
    "db:Status-Abbrev": installed ? "ii " : "rc ",
    "db:Status-Status": installed ? "installed" : "config-files",
  };
  return format.replace(/\$\{([^}]+)\}/g, (_, k) => (k in fields ? fields[k] : ""));
}

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  let show = false;
  let format = "${binary:Package}\t${Version}\n";
  const patterns = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      patterns.push(...argv.slice(i + 1));
      break;
    }
    if (a === "-W" || a === "--show") show = true;
    else if (a === "-f" || a === "--showformat") format = argv[++i] ?? "";
    else if (a.startsWith("--showformat=")) format = a.slice("--showformat=".length);
    else if (a.startsWith("-f")) format = a.slice(2).replace(/^=/, "");
    else if (a.startsWith("-")) lib.die(`dpkg-query: error: unknown option ${a}\n\nUse --help for help about querying packages.`, 2);
    else patterns.push(a);
  }
  if (!show) lib.die("dpkg-query: error: need an action option\n\nUse --help for help about querying packages.", 2);
  const db = database(sim);
  const names = [...db.keys()].sort();
  const fmt = unescapeFormat(format);
  const selected = new Set();
  const missing = [];
  if (patterns.length === 0) names.filter((n) => db.get(n) === "installed").forEach((n) => selected.add(n));
  for (const p of patterns) {
    const re = globToRegExp(p);
    const hits = names.filter((n) => re.test(n));
    if (hits.length === 0) missing.push(p);
    hits.forEach((n) => selected.add(n));
  }
  let text = "";
  for (const n of names) if (selected.has(n)) text += render(fmt, n, db.get(n));
  lib.out(text);
  for (const p of missing) lib.err(`dpkg-query: no packages found matching ${p}\n`);
  return missing.length > 0 ? 1 : 0;
});
