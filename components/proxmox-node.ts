import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { NodeFacts } from "../infra/providers/proxmox/node-facts";
import { childOptions } from "./child-options";

/** Type token of the ProxmoxNode component. */
export const PROXMOX_NODE_TYPE = "homelab:proxmox:Node";

/** Arguments of one Proxmox node. */
export interface ProxmoxNodeArgs {
  /** How to reach the node over SSH (name, address, port, user, pinned host key). */
  access: NodeAccess;
}

/**
 * One Proxmox VE node: checks that the configured address really is this node
 * and reports its Proxmox version, which later steps use to refuse mixed
 * versions.
 */
export class ProxmoxNode extends pulumi.ComponentResource {
  /** The node name. */
  readonly nodeName: string;
  /** Full pve-manager version, e.g. "8.4.14". */
  readonly pveVersion: pulumi.Output<string>;
  /** major.minor, e.g. "8.4". */
  readonly pveRelease: pulumi.Output<string>;
  /** The facts resource, for `dependsOn`. */
  readonly facts: NodeFacts;

  constructor(name: string, args: ProxmoxNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    // Only non-secret identity goes into the component's stored inputs.
    super(PROXMOX_NODE_TYPE, name, { node: args.access.connection.node, host: args.access.connection.host }, opts);
    this.nodeName = args.access.connection.node;
    this.facts = new NodeFacts(
      `${name}-facts`,
      { ...args.access },
      childOptions(this, opts),
    );
    this.pveVersion = this.facts.pveVersion;
    this.pveRelease = this.facts.pveRelease;
    this.registerOutputs({ pveVersion: this.pveVersion, pveRelease: this.pveRelease });
  }
}
