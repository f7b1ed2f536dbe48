"use strict";
// Shared model of the Thunderbolt ring and of what survives a reboot, for the fakes of systemctl,
// modprobe, ip, vtysh, ping, iperf3 and the boot (pve-sim-boot). Not a tool.
//
// State (all sections created lazily):
//   state.ring = { cables: [ { ends: [ { node, port }, { node, port } ], plugged: true } ],
//                  loopbacks: { node: "10.100.0.11" } }     // set by the tests (SimCluster.setRing)
//   state.netports[node][port] = { up: bool, mtu: number }   // a ring port's admin state and MTU
//   state.systemd[node] = { enabled: { unit: true }, active: { unit: true } }
//   state.modules[node] = [ "thunderbolt", … ]               // loaded kernel modules
//
// A ring port exists when its node has a cable end with that name and `thunderbolt-net` is loaded
// (its real name, after the .link rename). It has carrier (LOWER_UP) when it is up, its cable is
// plugged and the port at the other end exists and is up. fabricd runs when frr.service is active
// and /etc/frr/daemons says `fabricd=yes` (the last assignment wins, as when frrinit.sh sources it).
// An OpenFabric adjacency is Up on a port when the port has carrier, fabricd runs on both nodes
// and both ports carry `ip router openfabric` in /etc/frr/frr.conf. A ring loopback is routed
// along adjacencies; a node in the middle forwards only with net.ipv4.ip_forward=1.
const fs = require("node:fs");
const path = require("node:path");

const RING_UNIT = "homelab-tb-ring.service";

function unitName(u) {
  return /\.(service|target|socket|timer|mount|path)$/.test(u) ? u : `${u}.service`;
}

/** Units a freshly installed Proxmox VE node has enabled and running. */
const PVE_UNITS = ["pve-cluster.service", "pvedaemon.service", "pveproxy.service", "pvestatd.service", "ssh.service", "chrony.service"];

function defaultSystemd() {
  const on = Object.fromEntries(PVE_UNITS.map((u) => [u, true]));
  return { enabled: { ...on }, active: { ...on } };
}

function systemdOf(state, node) {
  state.systemd ??= {};
  state.systemd[node] ??= defaultSystemd();
  return state.systemd[node];
}

function systemdView(state, node) {
  return (state.systemd && state.systemd[node]) || defaultSystemd();
}

function isActive(state, node, unit) {
  const n = state.nodes[node];
  if (!n || !n.online) return false;
  return !!systemdView(state, node).active[unitName(unit)];
}

function isEnabled(state, node, unit) {
  return !!systemdView(state, node).enabled[unitName(unit)];
}

function modulesOf(state, node) {
  return (state.modules && state.modules[node]) || [];
}

/** A file of `node` as that node sees it (its /etc lives under its root dir). */
function nodeFile(state, node, file) {
  const n = state.nodes[node];
  try {
    return fs.readFileSync(path.join(n.root, file), "utf8");
  } catch {
    return undefined;
  }
}

function cables(state) {
  return (state.ring && state.ring.cables) || [];
}

function cableAt(state, node, port) {
  return cables(state).find((c) => c.ends.some((e) => e.node === node && e.port === port));
}

function peerEnd(cable, node, port) {
  return cable.ends.find((e) => !(e.node === node && e.port === port));
}

function portExists(state, node, port) {
  return !!cableAt(state, node, port) && !!state.nodes[node] && state.nodes[node].online && modulesOf(state, node).includes("thunderbolt-net");
}

function portState(state, node, port) {
  const p = state.netports && state.netports[node] && state.netports[node][port];
  return p || { up: false, mtu: 1500 };
}

function setPort(state, node, port, change) {
  state.netports ??= {};
  state.netports[node] ??= {};
  state.netports[node][port] = { ...portState(state, node, port), ...change };
}

function hasCarrier(state, node, port) {
  if (!portExists(state, node, port) || !portState(state, node, port).up) return false;
  const cable = cableAt(state, node, port);
  if (!cable.plugged) return false;
  const peer = peerEnd(cable, node, port);
  return portExists(state, peer.node, peer.port) && portState(state, peer.node, peer.port).up;
}

/** Ring ports of `node`, in cable order. */
function portsOf(state, node) {
  const out = [];
  for (const c of cables(state)) for (const e of c.ends) if (e.node === node && !out.includes(e.port)) out.push(e.port);
  return out.sort();
}

function fabricdRunning(state, node) {
  if (!isActive(state, node, "frr.service")) return false;
  const daemons = nodeFile(state, node, "etc/frr/daemons") || "";
  let on = false;
  for (const raw of daemons.split("\n")) {
    const m = /^\s*fabricd\s*=\s*"?(\w+)"?/.exec(raw);
    if (m) on = m[1] === "yes";
  }
  return on;
}

/** Interfaces with `ip router openfabric` in the node's frr.conf. */
function openfabricInterfaces(state, node) {
  const conf = nodeFile(state, node, "etc/frr/frr.conf") || "";
  const out = new Set();
  let iface = null;
  for (const raw of conf.split("\n")) {
    const m = /^interface\s+(\S+)/.exec(raw);
    if (m) iface = m[1];
    else if (/^\s*ip router openfabric\s/.test(raw) && iface) out.add(iface);
    else if (/^(exit|!)/.test(raw)) iface = null;
  }
  return out;
}

/** The Up adjacency on node's port, as { peer, peerPort }, or undefined. */
function adjacency(state, node, port) {
  if (!hasCarrier(state, node, port) || !fabricdRunning(state, node)) return undefined;
  if (!openfabricInterfaces(state, node).has(port)) return undefined;
  const peer = peerEnd(cableAt(state, node, port), node, port);
  if (!fabricdRunning(state, peer.node) || !openfabricInterfaces(state, peer.node).has(peer.port)) return undefined;
  return { peer: peer.node, peerPort: peer.port };
}

function forwards(state, node) {
  const v = state.sysctl && state.sysctl[node] && state.sysctl[node]["net.ipv4.ip_forward"];
  return v === "1";
}

/** The ring node owning `address` as its loopback, or undefined. */
function loopbackOwner(state, address) {
  const lb = (state.ring && state.ring.loopbacks) || {};
  return Object.keys(lb).find((n) => lb[n] === address);
}

/**
 * The path (list of [node, port] hops) from `from` to `to` along Up adjacencies, shortest first;
 * the first hop leaves through `viaPort` when given. Middle nodes must forward.
 */
function route(state, from, to, viaPort) {
  if (from === to) return [];
  const queue = [[from, []]];
  const seen = new Set([from]);
  while (queue.length > 0) {
    const [node, hops] = queue.shift();
    if (node !== from && !forwards(state, node)) continue;
    for (const port of portsOf(state, node)) {
      if (node === from && viaPort !== undefined && port !== viaPort) continue;
      const adj = adjacency(state, node, port);
      if (!adj || seen.has(adj.peer)) continue;
      const next = [...hops, [node, port]];
      if (adj.peer === to) return next;
      seen.add(adj.peer);
      queue.push([adj.peer, next]);
    }
  }
  return undefined;
}

/** `thunderbolt-link-up DEV MTU …` lines of the ring unit: the ports it brings up, with the MTU. */
function ringUnitPorts(state, node) {
  const unit = nodeFile(state, node, `etc/systemd/system/${RING_UNIT}`) || "";
  const out = [];
  for (const raw of unit.split("\n")) {
    const m = /^ExecStart=-?\S*thunderbolt-link-up\s+(\S+)\s+(\d+)/.exec(raw);
    if (m) out.push({ port: m[1], mtu: Number(m[2]) });
  }
  return out;
}

/** What starting a unit does to the simulated node. */
function startEffects(state, node, unit) {
  const u = unitName(unit);
  if (u === RING_UNIT) {
    for (const { port, mtu } of ringUnitPorts(state, node)) if (portExists(state, node, port)) setPort(state, node, port, { up: true, mtu });
  }
  const link = /^homelab-tb-link@(.+)\.service$/.exec(u);
  if (link) {
    const mtu = ringUnitPorts(state, node).find((p) => p.port === link[1])?.mtu ?? 65520;
    if (portExists(state, node, link[1])) setPort(state, node, link[1], { up: true, mtu });
  }
}

/** Files of a directory in the node's own view, sorted, with their text. */
function dirFiles(dir, suffix) {
  let names = [];
  try {
    names = fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).sort();
  } catch {
    return [];
  }
  const texts = [];
  for (const f of names) {
    try {
      texts.push(fs.readFileSync(path.join(dir, f), "utf8"));
    } catch {
      // a dangling symlink (Debian's modules.conf -> ../modules) is skipped, as systemd does
    }
  }
  return texts;
}

/** Addresses of the `auto` inet stanzas of /etc/network/interfaces (what ifupdown2 brings up at boot). */
function autoAddresses() {
  let text = "";
  try {
    text = fs.readFileSync("/etc/network/interfaces", "utf8");
  } catch {
    return [];
  }
  const auto = new Set();
  for (const m of text.matchAll(/^auto\s+(.+)$/gm)) for (const i of m[1].trim().split(/\s+/)) auto.add(i);
  const out = [];
  let current = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const iface = /^iface\s+(\S+)(?:\s+(inet6?)\s+\S+)?/.exec(line);
    if (iface) {
      current = iface[2] === "inet6" || !auto.has(iface[1]) ? null : iface[1];
      continue;
    }
    const addr = /^address\s+([\d.]+)/.exec(line);
    if (addr && current) out.push(addr[1]);
  }
  return out;
}

/**
 * A boot of `node` (run inside the node by pve-sim-boot): everything runtime is gone; the
 * addresses of the `auto` stanzas of /etc/network/interfaces (plus the management address), modules
 * from /etc/modules-load.d, sysctls from /etc/sysctl.d and /etc/sysctl.conf, every enabled unit
 * started (the ring unit first, as its Before= orders it), nothing else.
 */
function boot(state, node) {
  const n = state.nodes[node];
  n.addresses = [...new Set([n.ip, ...autoAddresses()])];
  const sd = systemdOf(state, node);
  sd.active = {};
  state.modules ??= {};
  const modules = [];
  for (const text of dirFiles("/etc/modules-load.d", ".conf")) {
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line && !line.startsWith("#") && !line.startsWith(";") && !modules.includes(line)) modules.push(line);
    }
  }
  state.modules[node] = modules;
  state.sysctl ??= {};
  state.sysctl[node] = {};
  for (const text of [...dirFiles("/etc/sysctl.d", ".conf"), ...(fs.existsSync("/etc/sysctl.conf") ? [fs.readFileSync("/etc/sysctl.conf", "utf8")] : [])]) {
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#") || line.startsWith(";")) continue;
      const eq = line.indexOf("=");
      if (eq > 0) state.sysctl[node][line.slice(0, eq).trim().replace(/^-/, "")] = line.slice(eq + 1).trim();
    }
  }
  state.netports ??= {};
  state.netports[node] = {};
  const units = Object.keys(sd.enabled).filter((u) => sd.enabled[u]);
  units.sort((a, b) => (a === RING_UNIT ? -1 : b === RING_UNIT ? 1 : a.localeCompare(b)));
  for (const u of units) {
    sd.active[u] = true;
    startEffects(state, node, u);
  }
}

module.exports = {
  RING_UNIT,
  unitName,
  systemdOf,
  isActive,
  isEnabled,
  modulesOf,
  cables,
  cableAt,
  peerEnd,
  portExists,
  portState,
  setPort,
  hasCarrier,
  portsOf,
  fabricdRunning,
  adjacency,
  loopbackOwner,
  route,
  startEffects,
  boot,
};
