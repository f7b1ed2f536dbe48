"use strict";
// Fake `ip` (iproute2), deliberately narrow. The simulated nodes share the host's network
// namespace, so the real `ip` would show (and change!) the machine running the tests.
//  - `ip -o -4 addr show [up] [dev IFACE]` (also `-4 -o`, `address`, `a`, `list`): answered from the
//    simulation: every address in the node's state `addresses`, on the interface whose stanza in
//    the node's /etc/network/interfaces carries it (prefix from there), else on `lo` as /32.
//  - the Thunderbolt ring ports (cable ends in state.ring, see ring-lib.cjs) are modelled:
//    `ip [-j] link show [dev] PORT` answers from the model (flags UP / LOWER_UP / NO-CARRIER,
//    mtu, operstate), `Device "PORT" does not exist.` (exit 1) while thunderbolt-net is not
//    loaded; `ip link set [dev] PORT [mtu N] [up|down]` changes the model;
//  - anything else that would change the network (`set`, `add`, `del`, `flush`, `change`, `replace`,
//    `append`) is refused with exit 2, so no test can touch the host;
//  - every other invocation (read-only) runs the real ip.
// Each call is logged to tools.jsonl.
const fs = require("node:fs");
const { spawnSync } = require("node:child_process");
const lib = require("./lib.cjs");
const ring = require("./ring-lib.cjs");

/** iproute2's view of a modelled ring port (the fields of `ip -j link show`). */
function portJson(state, node, port, index) {
  const p = ring.portState(state, node, port);
  const carrier = ring.hasCarrier(state, node, port);
  const flags = p.up ? (carrier ? ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"] : ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]) : ["BROADCAST", "MULTICAST"];
  const mac = `02:5e:${[...Buffer.from(`${node}/${port}`)].slice(0, 4).map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
  return {
    ifindex: 20 + index,
    ifname: port,
    flags,
    mtu: p.mtu,
    qdisc: p.up ? "pfifo_fast" : "noop",
    operstate: p.up && carrier ? "UP" : "DOWN",
    linkmode: "DEFAULT",
    group: "default",
    txqlen: 1000,
    link_type: "ether",
    address: mac,
    broadcast: "ff:ff:ff:ff:ff:ff",
  };
}

/** `ip link show|set` on a ring port of this node, or undefined when argv is about something else. */
function ringLink(sim, flags, words) {
  if (!/^l(i(n(k)?)?)?$/.test(words[0] || "")) return undefined;
  const verb = words[1] || "show";
  const rest = words.slice(2);
  const dev = rest[0] === "dev" ? rest[1] : rest[0];
  if (!dev) return undefined;
  const { state } = sim.self();
  if (!ring.cableAt(state, sim.nodeName, dev)) return undefined;
  if (!ring.portExists(state, sim.nodeName, dev)) lib.die(`Device "${dev}" does not exist.`, 1);
  if (verb === "set") {
    const change = {};
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === "mtu") change.mtu = Number(rest[++i]);
      else if (rest[i] === "up") change.up = true;
      else if (rest[i] === "down") change.up = false;
    }
    sim.mutate((s) => ring.setPort(s, sim.nodeName, dev, change));
    return 0;
  }
  if (!["show", "list", "ls", "sh", "s"].includes(verb)) return undefined;
  const doc = portJson(state, sim.nodeName, dev, ring.portsOf(state, sim.nodeName).indexOf(dev));
  if (flags.includes("-j") || flags.includes("-json")) {
    lib.line(JSON.stringify([doc]));
  } else {
    lib.line(`${doc.ifindex}: ${dev}: <${doc.flags.join(",")}> mtu ${doc.mtu} qdisc ${doc.qdisc} state ${doc.operstate} mode DEFAULT group default qlen 1000`);
    lib.line(`    link/ether ${doc.address} brd ff:ff:ff:ff:ff:ff`);
  }
  return 0;
}

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
  const ringAnswer = ringLink(sim, flags, words);
  if (ringAnswer !== undefined) return ringAnswer;
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
