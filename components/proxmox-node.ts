import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { pveInstallSource } from "../infra/pve-install";
import { DiskInventory } from "../infra/providers/linux/disk-inventory";
import type { DiskInfo } from "../infra/parse/disks";
import { NodeFacts } from "../infra/providers/proxmox/node-facts";
import { PveInstall } from "../infra/providers/proxmox/pve-install";
import { childOptions } from "./child-options";

/** Type token of the ProxmoxNode component. */
export const PROXMOX_NODE_TYPE = "homelab:proxmox:Node";

/** Arguments of one Proxmox node. */
export interface ProxmoxNodeArgs {
  /** How to reach the node over SSH (name, address, port, user, pinned host key). */
  access: NodeAccess;
  /**
   * Install Proxmox VE on this plain Debian host first (nodes[].install). Defaults to none: the
   * node already runs Proxmox VE.
   */
  install?: {
    /** The Proxmox VE major (8 on Debian 12, 9 on Debian 13). */
    pveMajor: number;
    /** The management address its hostname must resolve to. */
    address: string;
    /** Seconds it may take to come back from the reboot into the Proxmox kernel. */
    rebootTimeoutSeconds: number;
    /** The Debian release the stack file states, checked against the major before any SSH. */
    debianRelease?: number;
  };
}

/**
 * One Proxmox VE node: installs Proxmox VE first when the node is plain Debian
 * (nodes[].install), checks that the configured address really is this node
 * and reports its Proxmox version, which later steps use to refuse mixed
 * versions, and its disks (DiskInventory).
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
  /** The Proxmox VE install, when the node starts as plain Debian. */
  readonly install?: PveInstall;
  /** The node's disks and what uses each (as of the last refresh). */
  readonly disks: pulumi.Output<DiskInfo[]>;

  constructor(name: string, args: ProxmoxNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    // Only non-secret identity goes into the component's stored inputs.
    super(PROXMOX_NODE_TYPE, name, { node: args.access.connection.node, host: args.access.connection.host }, opts);
    this.nodeName = args.access.connection.node;
    // A Debian host becomes a Proxmox node first; its facts are read from what the install left.
    if (args.install) {
      this.install = new PveInstall(
        `${name}-install`,
        { ...args.access, pveMajor: args.install.pveMajor, address: args.install.address, source: pveInstallSource(args.install.pveMajor), debianRelease: args.install.debianRelease, rebootTimeoutSeconds: args.install.rebootTimeoutSeconds },
        childOptions(this, opts),
      );
    }
    this.facts = new NodeFacts(
      `${name}-facts`,
      { ...args.access },
      this.install ? { parent: this, dependsOn: [this.install] } : childOptions(this, opts),
    );
    this.pveVersion = this.facts.pveVersion;
    this.pveRelease = this.facts.pveRelease;
    // Read-only, after the facts confirmed this is the node: the disks to choose OSD devices from.
    this.disks = new DiskInventory(`${name}-disks`, { ...args.access }, { parent: this, dependsOn: [this.facts] }).disks;
    this.registerOutputs({ pveVersion: this.pveVersion, pveRelease: this.pveRelease, disks: this.disks });
  }
}
