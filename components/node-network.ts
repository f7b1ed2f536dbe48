import * as pulumi from "@pulumi/pulumi";
import { formatStanzas, InterfaceConfigError, interfaceStanzas, RING_LOOPBACK_INTERFACE, RING_MTU, ringStanzas } from "../infra/network/interfaces";
import type { InterfaceSpec, NetworkSpec } from "../infra/network/types";
import type { NodeAccess } from "../infra/providers/connection";
import { Interfaces } from "../infra/providers/network/node-network";
import { childOptions, refuse } from "./child-options";

/** Type token of the NodeNetwork component. */
export const NODE_NETWORK_TYPE = "homelab:network:NodeNetwork";

/** The ring part of a node's interfaces (rendered into the same managed block). */
export interface NodeNetworkThunderbolt {
  /** The node's ring loopback, bare IPv4 (becomes a /32 on the loopback dummy interface). */
  loopback: string;
  /** The ring ports; only `name` is used here (e.g. "en05"). */
  ports: { name: string }[];
  /** MTU of the ring ports. Defaults to 65520. */
  mtu?: number;
  /** Name of the dummy interface holding the loopback. Defaults to "tbloop" (must match ThunderboltRing's). */
  loopbackInterface?: string;
}

/** Arguments of one node's network. */
export interface NodeNetworkArgs {
  /** How to reach the node over SSH (name, address, port, user, pinned host key). */
  access: NodeAccess;
  /** The environment's networks (each interface's prefix, gateway and MTU come from its network). */
  networks: NetworkSpec[];
  /** The node's interfaces: nics, bonds, bridges, vlans. */
  interfaces: InterfaceSpec[];
  /** The node's management IPv4, the address SSH uses. Defaults to `access.connection.host`. */
  managementAddress?: string;
  /**
   * Allow a change to the stanza carrying the management address, the ports/bond/raw device under
   * it, or a gateway. Such a change can cut SSH, so it is refused unless set. Defaults to false.
   */
  allowManagementChange?: boolean;
  /** The node's Thunderbolt ring ports and loopback, rendered into the same block. Defaults to none. */
  thunderbolt?: NodeNetworkThunderbolt;
  /** Seconds the node waits for confirmation before rolling an applied change back. Defaults to 60. */
  confirmTimeoutSeconds?: number;
}

/**
 * The managed block for a node: its interfaces (Proxmox's order and
 * spelling), then the ring's ports and loopback. Throws InterfaceConfigError
 * on a config the renderer cannot express (the message names the interface).
 */
export function renderNodeInterfaces(args: Pick<NodeNetworkArgs, "interfaces" | "networks" | "thunderbolt">): string {
  const stanzas = interfaceStanzas(args.interfaces, args.networks);
  if (args.thunderbolt) {
    stanzas.push(
      ...ringStanzas({
        ports: args.thunderbolt.ports.map((p) => p.name),
        loopback: args.thunderbolt.loopback,
        mtu: args.thunderbolt.mtu ?? RING_MTU,
        loopbackInterface: args.thunderbolt.loopbackInterface ?? RING_LOOPBACK_INTERFACE,
      }),
    );
  }
  const names = new Set<string>();
  for (const s of stanzas) {
    if (names.has(s.name)) {
      throw new InterfaceConfigError(`interface ${s.name} is defined twice (a thunderbolt port or the ring loopback clashes with an interface)`);
    }
    names.add(s.name);
  }
  return formatStanzas(stanzas);
}

/**
 * One node's /etc/network/interfaces: the configured interfaces (and the
 * Thunderbolt ring's ports and loopback, when given) as a managed block of
 * ifupdown2 stanzas written the way Proxmox writes them, applied with
 * `ifreload -a`, validated, backed up and rolled back on failure. Stanzas of
 * managed interfaces that exist outside the block (the installer's vmbr0)
 * are adopted; everything else in the file is kept. Works over SSH before
 * the cluster or any API token exists, so corosync's networks can be built
 * before `pvecm create`.
 */
export class NodeNetwork extends pulumi.ComponentResource {
  /** The node name. */
  readonly nodeName: string;
  /** The rendered block (plain text), e.g. for review in a preview. */
  readonly content: string;
  /** The interfaces resource, for `dependsOn` (cluster creation, the ring). */
  readonly interfaces: Interfaces;

  constructor(name: string, args: NodeNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      NODE_NETWORK_TYPE,
      name,
      { node: args.access.connection.node, interfaces: args.interfaces.map((i) => i.name) },
      opts,
    );
    this.nodeName = args.access.connection.node;
    let content: string;
    try {
      content = renderNodeInterfaces(args);
    } catch (err) {
      if (err instanceof InterfaceConfigError) refuse(this, name, `${args.access.connection.node}: ${err.message}`);
      throw err;
    }
    this.content = content;
    this.interfaces = new Interfaces(
      `${name}-interfaces`,
      {
        ...args.access,
        content,
        managementAddress: args.managementAddress ?? args.access.connection.host,
        allowManagementChange: args.allowManagementChange ?? false,
        confirmTimeoutSeconds: args.confirmTimeoutSeconds,
      },
      childOptions(this, opts),
    );
    this.registerOutputs({ content });
  }
}
