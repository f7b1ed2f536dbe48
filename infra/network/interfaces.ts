/**
 * Renders ifupdown2 stanzas for /etc/network/interfaces exactly as Proxmox
 * VE writes them (pve-common `PVE::Network::Interfaces::__interface_to_string`):
 * `address a/p` then `gateway`, then the type's options in Proxmox's order
 * (bridge: ports, stp, fd, vlan-aware, vids, mtu; bond: slaves, miimon, mode,
 * xmit-hash-policy, primary, mtu), then `#comment` lines. Keeping Proxmox's
 * spelling means the GUI shows our interfaces normally and a GUI save
 * rewrites them without semantic change.
 *
 * Pure functions: no I/O, unit-tested with exact expected text.
 */
import { prefixLength } from "../ipv4";
import type { BondSpec, BridgeSpec, InterfaceSpec, NetworkSpec, VlanSpec } from "./types";
import { describeError } from "../errors";

/** One stanza before formatting. */
export interface Stanza {
  name: string;
  /** Preceded by `auto <name>`. */
  auto: boolean;
  method: "static" | "manual" | "loopback";
  /** [option, value] in output order. */
  options: [string, string][];
  /** Written as `#<line>` after the options. */
  comments: string[];
}

/** A rendering problem the schema did not catch; the message names the interface. */
export class InterfaceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "InterfaceConfigError";
  }
  toString(): string {
    return describeError(this);
  }
}

/** Prefix length of a network's CIDR ("192.168.3.0/24" → 24); refuses one without a valid prefix. */
function networkPrefix(cidr: string): number {
  const p = prefixLength(cidr);
  if (!Number.isInteger(p) || p < 0 || p > 32) throw new InterfaceConfigError(`"${cidr}" is not an IPv4 CIDR`);
  return p;
}

/** Format stanzas as text, one blank line between stanzas, trailing newline. */
export function formatStanzas(stanzas: readonly Stanza[]): string {
  return stanzas.map(formatStanza).join("\n");
}

export function formatStanza(s: Stanza): string {
  const lines: string[] = [];
  if (s.auto) lines.push(`auto ${s.name}`);
  lines.push(`iface ${s.name} inet ${s.method}`);
  for (const [k, v] of s.options) lines.push(`\t${k} ${v}`);
  for (const c of s.comments) lines.push(`#${c}`);
  return lines.join("\n") + "\n";
}

/** Type order Proxmox sorts by (nics, bonds, bridges, vlans); config order within a type. */
const TYPE_ORDER: Record<InterfaceSpec["type"], number> = { nic: 0, bond: 1, bridge: 2, vlan: 3 };

/**
 * Stanzas for a node's interfaces. `networks` resolves each interface's
 * network to its prefix, gateway and MTU.
 */
export function interfaceStanzas(interfaces: readonly InterfaceSpec[], networks: readonly NetworkSpec[]): Stanza[] {
  const byNetwork = new Map(networks.map((n) => [n.name, n]));
  const bondSlaves = new Set(interfaces.flatMap((i) => (i.type === "bond" ? i.slaves : [])));
  const ordered = interfaces
    .map((iface, index) => ({ iface, index }))
    .sort((a, b) => TYPE_ORDER[a.iface.type] - TYPE_ORDER[b.iface.type] || a.index - b.index)
    .map((x) => x.iface);
  return ordered.map((iface) => interfaceStanza(iface, byNetwork, bondSlaves.has(iface.name)));
}

function interfaceStanza(iface: InterfaceSpec, networks: Map<string, NetworkSpec>, isBondSlave: boolean): Stanza {
  const where = `interface ${iface.name}`;
  let network: NetworkSpec | undefined;
  if (iface.network !== undefined) {
    network = networks.get(iface.network);
    if (!network) throw new InterfaceConfigError(`${where}: no network named "${iface.network}"`);
  }
  if (iface.address !== undefined && !network) {
    throw new InterfaceConfigError(`${where}: address ${iface.address} needs a network (for its prefix)`);
  }
  const options: [string, string][] = [];
  if (iface.address !== undefined && network) {
    options.push(["address", `${iface.address}/${networkPrefix(network.cidr)}`]);
    if (network.gateway) options.push(["gateway", network.gateway]);
  }
  const mtu = iface.mtu ?? network?.mtu;
  switch (iface.type) {
    case "nic":
      break;
    case "bridge":
      options.push(...bridgeOptions(iface));
      break;
    case "bond":
      options.push(...bondOptions(iface));
      break;
    case "vlan":
      // Proxmox prints a vlan's remaining options sorted by key: mtu, vlan-id, vlan-raw-device.
      if (mtu !== undefined) options.push(["mtu", String(mtu)]);
      options.push(...vlanOptions(iface));
      break;
  }
  if (mtu !== undefined && iface.type !== "vlan") options.push(["mtu", String(mtu)]);
  // Proxmox marks bond slaves `auto`; a plain NIC stays as the installer wrote it (manual, no auto)
  // unless it carries an address. Bonds, bridges and vlans are always `auto`.
  const auto = iface.type !== "nic" || isBondSlave || iface.address !== undefined;
  return {
    name: iface.name,
    auto,
    method: iface.address !== undefined ? "static" : "manual",
    options,
    comments: commentLines(iface.comment),
  };
}

function bridgeOptions(b: BridgeSpec): [string, string][] {
  const ports = b.ports && b.ports.length > 0 ? b.ports.join(" ") : "none";
  const out: [string, string][] = [
    ["bridge-ports", ports],
    ["bridge-stp", "off"],
    ["bridge-fd", "0"],
  ];
  if (b.vlanAware) {
    out.push(["bridge-vlan-aware", "yes"]);
    out.push(["bridge-vids", b.vlanIds && b.vlanIds.length > 0 ? b.vlanIds.map(String).join(" ") : "2-4094"]);
  } else if (b.vlanIds && b.vlanIds.length > 0) {
    throw new InterfaceConfigError(`interface ${b.name}: vlanIds set on a bridge that is not VLAN-aware`);
  }
  return out;
}

function bondOptions(b: BondSpec): [string, string][] {
  if (b.slaves.length === 0) throw new InterfaceConfigError(`interface ${b.name}: a bond needs at least one slave`);
  const out: [string, string][] = [
    ["bond-slaves", b.slaves.join(" ")],
    ["bond-miimon", String(b.miimon ?? 100)],
    ["bond-mode", b.mode],
  ];
  if (b.hashPolicy !== undefined) out.push(["bond-xmit-hash-policy", b.hashPolicy]);
  if (b.primary !== undefined) {
    if (!b.slaves.includes(b.primary)) {
      throw new InterfaceConfigError(`interface ${b.name}: bond primary ${b.primary} is not one of its slaves`);
    }
    out.push(["bond-primary", b.primary]);
  }
  return out;
}

/**
 * How Proxmox spells a VLAN: a dotted name (`vmbr0.9`) carries device and id
 * in the name; `vlan9` needs `vlan-raw-device`; any other name needs both
 * `vlan-id` and `vlan-raw-device` (ifupdown2 only).
 */
/**
 * Why a VLAN interface's name contradicts its device or vlanId (ifupdown2 reads
 * `<device>.<id>` and `vlan<id>` names as the VLAN they spell), or undefined.
 * The stack schema asks this too.
 */
export function vlanNameProblem(v: Pick<VlanSpec, "name" | "device" | "vlanId">): string | undefined {
  const dotted = /^(.+)\.(\d+)$/.exec(v.name);
  if (dotted && (dotted[1] !== v.device || Number(dotted[2]) !== v.vlanId)) {
    return (
      `the name means VLAN ${Number(dotted[2])} on ${dotted[1]}, but device is ${v.device} and vlanId is ${v.vlanId}; ` +
      `rename it to ${v.device}.${v.vlanId}`
    );
  }
  const vlanN = /^vlan(\d+)$/.exec(v.name);
  if (vlanN && Number(vlanN[1]) !== v.vlanId) return `the name means VLAN ${Number(vlanN[1])}, but vlanId is ${v.vlanId}; rename it to vlan${v.vlanId}`;
  return undefined;
}

function vlanOptions(v: VlanSpec): [string, string][] {
  const problem = vlanNameProblem(v);
  if (problem) throw new InterfaceConfigError(`interface ${v.name}: ${problem}`);
  if (/^(.+)\.(\d+)$/.test(v.name)) return [];
  if (/^vlan(\d+)$/.test(v.name)) return [["vlan-raw-device", v.device]];
  return [
    ["vlan-id", String(v.vlanId)],
    ["vlan-raw-device", v.device],
  ];
}

function commentLines(comment: string | undefined): string[] {
  if (comment === undefined || comment.trim() === "") return [];
  return comment.split("\n").map((l) => l.trimEnd());
}

/** Default name of the dummy interface that carries a ring node's loopback /32. */
export const RING_LOOPBACK_INTERFACE = "tbloop";

/** Defaults to 65520, the largest MTU thunderbolt-net supports; both ends must agree. */
export const RING_MTU = 65520;

export interface RingStanzaArgs {
  /** Port interface names (from the .link files), e.g. ["en05", "en06"]. */
  ports: readonly string[];
  /** The node's loopback, bare IPv4. */
  loopback: string;
  /** Defaults to 65520. */
  mtu?: number;
  /** Defaults to "tbloop". */
  loopbackInterface?: string;
}

/**
 * The ring's stanzas inside the managed block.
 *
 * Ports are `iface enXX inet manual` + `mtu`, deliberately WITHOUT `auto`: a
 * Thunderbolt port only exists while the neighbour is powered and cabled, and
 * an `auto` stanza for a missing device makes `ifreload -a` (and
 * networking.service at boot) report failure, which would roll back every
 * unrelated network change while one cable is out. The udev rule and the
 * oneshot units (thunderbolt.ts) bring the ports up with this MTU when they
 * appear; the stanza keeps the MTU visible in the GUI and applies it on a
 * manual `ifup`.
 *
 * The loopback /32 lives on a dummy interface (as Proxmox 9's own SDN fabrics
 * do) rather than on `lo`: it exists from boot, independently of FRR, so Ceph
 * and corosync can bind to it before routing converges, and the installer's
 * `lo` stanza stays untouched.
 */
export function ringStanzas(args: RingStanzaArgs): Stanza[] {
  const mtu = args.mtu ?? RING_MTU;
  const ports: Stanza[] = args.ports.map((name) => ({
    name,
    auto: false,
    method: "manual",
    options: [["mtu", String(mtu)]],
    comments: ["Thunderbolt ring port; brought up by homelab-tb-link@.service"],
  }));
  const loopback: Stanza = {
    name: args.loopbackInterface ?? RING_LOOPBACK_INTERFACE,
    auto: true,
    method: "static",
    options: [
      ["address", `${args.loopback}/32`],
      ["link-type", "dummy"],
    ],
    comments: ["Thunderbolt ring loopback, announced by FRR OpenFabric"],
  };
  return [...ports, loopback];
}
