/**
 * The typed network input the renderers take. The lead's zod schema
 * (stacks/schema/) produces values of this shape; these interfaces are
 * declared here so that infra/ never imports stacks/.
 */

/** One IPv4 network of the environment. */
export interface NetworkSpec {
  name: string;
  /** Network address and prefix, e.g. "192.168.3.0/24". */
  cidr: string;
  /** Default gateway on this network. At most one network a node is on has one. */
  gateway?: string;
  /** MTU of the network; interfaces on it inherit it. */
  mtu?: number;
}

/** Fields every interface type may carry. */
interface InterfaceCommon {
  name: string;
  /** Explicit MTU; otherwise the network's MTU, otherwise none (kernel default 1500). */
  mtu?: number;
  /** Name of the network this interface is on. Required with `address`. */
  network?: string;
  /** Bare IPv4 address; prefix and gateway come from the network. */
  address?: string;
  /** Free text, written as a `#comment` line after the stanza's options (as Proxmox does). */
  comment?: string;
}

export interface NicSpec extends InterfaceCommon {
  type: "nic";
}

export type BondMode =
  | "active-backup"
  | "802.3ad"
  | "balance-xor"
  | "broadcast"
  | "balance-tlb"
  | "balance-alb"
  | "balance-rr";

export interface BondSpec extends InterfaceCommon {
  type: "bond";
  slaves: string[];
  mode: BondMode;
  /** Preferred slave (active-backup only, as Proxmox writes it). */
  primary?: string;
  /** xmit_hash_policy (802.3ad and balance-xor only). */
  hashPolicy?: string;
  /** Link monitoring interval in ms. Defaults to 100. */
  miimon?: number;
}

export interface BridgeSpec extends InterfaceCommon {
  type: "bridge";
  /** Ports (nics or bonds). Defaults to none. */
  ports?: string[];
  /** Defaults to false. */
  vlanAware?: boolean;
  /** `bridge-vids` entries: ids or "a-b" ranges. Defaults to 2-4094 on a VLAN-aware bridge. */
  vlanIds?: (number | string)[];
}

export interface VlanSpec extends InterfaceCommon {
  type: "vlan";
  /** The interface the VLAN sits on. */
  device: string;
  vlanId: number;
}

export type InterfaceSpec = NicSpec | BondSpec | BridgeSpec | VlanSpec;

/** One Thunderbolt/USB4 port of a ring node. */
export interface ThunderboltPortSpec {
  /** Stable interface name given by the .link file, e.g. "en05". */
  name: string;
  /** PCI path of the controller port, e.g. "0000:00:0d.2". */
  pciPath: string;
  /** Node at the other end of the cable. */
  peer: string;
}

/** Per-node ring settings. */
export interface NodeThunderboltSpec {
  /** This node's ring loopback (/32). */
  loopback: string;
  ports: ThunderboltPortSpec[];
}

/** Environment-wide ring settings. */
export interface ThunderboltSpec {
  /** Network holding the loopbacks. */
  network: string;
  /** MTU of the ring ports. Defaults to 65520. */
  mtu?: number;
}
