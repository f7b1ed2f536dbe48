"use strict";
// Fake `ip` (iproute2), deliberately narrow. The simulated nodes share the host's network
// namespace, so the real `ip` would show (and change!) the machine running the tests.
//  - `ip -o -4 addr show [up] [dev IFACE]` (also `-4 -o`, `address`, `a`, `list`): answered from the
//    simulation: every address in the node's state `addresses`, on the interface whose stanza in
//    the node's /etc/network/interfaces carries it (prefix from there), else on `lo` as /32.
//  - anything that would change the network (`set`, `add`, `del`, `flush`, `change`, `replace`,
//    `append`) is refused with exit 2, so no test can touch the host;
//  - every other invocation (read-only) runs the real ip.
// Each call is logged to tools.jsonl.
const fs = require("node:fs");
const { spawnSync } = require("node:child_process");
const lib = require("./lib.cjs");

const MUTATING = new Set(["set", "add", "del", "delete", "flush", "change", "replace", "append", "prepend"]);
const REAL_IP = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

/** address -> { iface, prefix } from /etc/network/interfaces (inet stanzas only). */
function addressesFromInterfacesFile() {
  const map = new Map();
  let text = "";
  try {
    text = fs.readFileSync("/etc/network/interfaces", "utf8");
  } catch {
    return map;
  }
  let current = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const iface = /^iface\s+(\S+)(?:\s+(inet6?)\s+\S+)?/.exec(line);
    if (iface) {
      current = iface[2] === "inet6" ? null : iface[1];
      continue;
    }
    if (/^(auto|allow-\S+|source|source-directory|mapping)\s/.test(line)) {
      current = null;
      continue;
    }
    const addr = /^address\s+([\d.]+)(?:\/(\d+))?/.exec(line);
    if (addr && current && !map.has(addr[1])) map.set(addr[1], { iface: current, prefix: addr[2] ? Number(addr[2]) : 32 });
  }
  return map;
}

function runReal(argv) {
  const bin = REAL_IP.find((p) => fs.existsSync(p));
  if (!bin) lib.die("pve-sim: no real ip binary to run for this (read-only) invocation", 127);
  const r = spawnSync(bin, argv, { stdio: "inherit" });
  return r.status === null ? 255 : r.status;
}

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  sim.logTool("ip", argv);
  const flags = [];
  const words = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-f" || a === "-family") {
      flags.push(`-f:${argv[++i]}`);
    } else if (a.startsWith("-")) flags.push(a.replace(/^--?/, "-"));
    else words.push(a);
  }
  if (words.some((w) => MUTATING.has(w))) {
    lib.die(`pve-sim: the fake ip refuses 'ip ${argv.join(" ")}': simulated nodes share the host's network`, 2);
  }
  const oneline = flags.includes("-o") || flags.includes("-oneline");
  const inet = flags.includes("-4") || flags.includes("-f:inet");
  const object = words[0] || "";
  const verb = words[1] || "show";
  const isAddr = /^a(d(d(r(e(s(s)?)?)?)?)?)?$/.test(object);
  const isShow = ["show", "list", "ls", "lst", "sh", "s"].includes(verb);
  if (!(oneline && inet && isAddr && isShow)) return runReal(argv);
  const rest = words.slice(2);
  const devAt = rest.indexOf("dev");
  const dev = devAt >= 0 ? rest[devAt + 1] : undefined;
  const { node } = sim.self();
  const known = addressesFromInterfacesFile();
  const indexes = new Map([["lo", 1]]);
  for (const address of node.addresses || []) {
    const where = known.get(address) || { iface: "lo", prefix: 32 };
    if (dev !== undefined && where.iface !== dev) continue;
    if (!indexes.has(where.iface)) indexes.set(where.iface, indexes.size + 1);
    const scope = where.iface === "lo" ? "host" : "global";
    lib.line(
      `${indexes.get(where.iface)}: ${where.iface}    inet ${address}/${where.prefix} scope ${scope} ${where.iface}\\       valid_lft forever preferred_lft forever`,
    );
  }
  return 0;
});
