/**
 * Queries on a parsed (valid) environment, for the code that builds it: which
 * network, node, interface or address, which image, which VMID. Validation is
 * in `stacks/schema/`.
 */
import { resolveImage, type CloudImage } from "../infra/images";
import { prefixLength } from "../infra/ipv4";
import {
  userImageEntry,
  type BridgeInterface,
  type Environment,
  type Interface,
  type K3sClusterConfig,
  type Network,
  type Node,
  type Template,
} from "./schema";

/** The network named `name`. */
export function networkByName(env: Environment, name: string): Network | undefined {
  return env.networks.find((n) => n.name === name);
}

/** The node named `name`. */
export function nodeByName(env: Environment, name: string): Node | undefined {
  return env.nodes.find((n) => n.name === name);
}

/** The node's interface on network `networkName` (a node has at most one). */
export function interfaceOnNetwork(node: Node, networkName: string): Interface | undefined {
  return node.interfaces.find((i) => i.network === networkName);
}

/**
 * The node's address on a network: its interface's address there, or its
 * thunderbolt loopback when `networkName` is the ring network.
 */
export function nodeAddressOn(env: Environment, node: Node, networkName: string): string | undefined {
  if (env.thunderbolt?.network === networkName) return node.thunderbolt?.loopback;
  return interfaceOnNetwork(node, networkName)?.address;
}

/** `address/prefix` of an interface, the prefix taken from its network. */
export function interfaceCidrAddress(env: Environment, iface: Interface): string | undefined {
  if (iface.address === undefined || iface.network === undefined) return undefined;
  const net = networkByName(env, iface.network);
  return net ? `${iface.address}/${prefixLength(net.cidr)}` : undefined;
}

/** The MTU an interface ends up with: its own, else its network's, else 1500. */
export function interfaceMtu(env: Environment, iface: Interface): number {
  if (iface.mtu !== undefined) return iface.mtu;
  const net = iface.network === undefined ? undefined : networkByName(env, iface.network);
  return net?.mtu ?? 1500;
}

/** SSH port for a node: its override, else ssh.port. */
export function nodeSshPort(env: Environment, node: Node): number {
  return node.sshPort ?? env.ssh.port;
}

/** Corosync link addresses of a node, in link order (link0, link1, …). */
export function clusterLinkAddresses(env: Environment, node: Node): string[] {
  return (env.cluster?.links ?? []).map((link) => {
    const address = nodeAddressOn(env, node, link);
    if (address === undefined) throw new Error(`node ${node.name} has no address on cluster link network ${link}`);
    return address;
  });
}

/** The `bridge-vids` text of a VLAN-aware bridge ("2-4094" when unset). */
export function bridgeVids(bridge: BridgeInterface): string {
  return (bridge.vlanIds ?? ["2-4094"]).map(String).join(" ");
}

/** The catalog entry a template uses: the stack's `images` first, then the built-in catalog. */
export function templateImage(env: Environment, template: Template): CloudImage {
  const user = Object.fromEntries(Object.entries(env.images).map(([name, entry]) => [name, userImageEntry(entry)]));
  return resolveImage(template.image, user);
}

/** Whether a template installs the QEMU guest agent through the vendor snippet: asked for, else when its image lacks the agent. */
export function installsGuestAgent(env: Environment, template: Template): boolean {
  return template.installGuestAgent ?? !templateImage(env, template).guestAgent;
}

/** The VMID of the VM at `index`: its own, or vmidBase + index. */
export function vmVmid(env: Environment, index: number): number {
  return env.vms[index].vmid ?? env.vmidBase + index;
}

/** The K3s cluster a machine (host, Linode instance or VM, by name) belongs to, and its role there. */
export function k3sMembership(env: Environment, name: string): { cluster: K3sClusterConfig; role: "server" | "agent" } | undefined {
  for (const cluster of env.k3s.clusters) {
    if (cluster.servers.includes(name)) return { cluster, role: "server" };
    if (cluster.agents.includes(name)) return { cluster, role: "agent" };
  }
  return undefined;
}
