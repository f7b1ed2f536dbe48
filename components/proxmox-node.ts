import * as pulumi from "@pulumi/pulumi";
import type { NodeConnection } from "../infra/providers/connection";
import { NodeFacts } from "../infra/providers/proxmox/node-facts";

/** Arguments of one Proxmox node. */
export interface ProxmoxNodeArgs {
  /** How to reach the node over SSH (name, address, port, user, pinned host key). */
  connection: NodeConnection;
  /** Root SSH private key; a secret. Omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
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
    super("homelab:proxmox:Node", name, { node: args.connection.node, host: args.connection.host }, opts);
    this.nodeName = args.connection.node;
    this.facts = new NodeFacts(
      `${name}-facts`,
      { connection: args.connection, sshPrivateKey: args.sshPrivateKey },
      { parent: this },
    );
    this.pveVersion = this.facts.pveVersion;
    this.pveRelease = this.facts.pveRelease;
    this.registerOutputs({ pveVersion: this.pveVersion, pveRelease: this.pveRelease });
  }
}
