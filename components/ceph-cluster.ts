import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { CephClusterResource, CephInstall, CephMgr, CephMon } from "../infra/providers/ceph/ceph-cluster";
import { childOptions, refuse, sharedSshKey } from "./child-options";

/** Type token of the CephCluster component. */
export const CEPH_CLUSTER_TYPE = "homelab:ceph:Cluster";

/** One Ceph node. */
export interface CephClusterNode {
  /** How to reach the node over SSH (its name must be the Proxmox node name). */
  access: NodeAccess;
  /** Address of this node's monitor, e.g. its Thunderbolt-ring loopback on ms01 (`pveceph mon create --mon-address`); must be in publicNetwork. Defaults to the node's only address in publicNetwork. */
  monAddress?: string;
}

/** Arguments of a Ceph cluster. */
export interface CephClusterArgs {
  /** Every Ceph node; Ceph is installed on all of them. The first one runs `pveceph init`. */
  nodes: CephClusterNode[];
  /** Ceph public network(s) in CIDR notation (monitors and clients). Cannot change once Ceph exists. */
  publicNetwork: string;
  /** Ceph cluster network (OSD replication) in CIDR notation. Defaults to publicNetwork. Cannot change once Ceph exists. */
  clusterNetwork?: string;
  /** Ceph release code name passed to `pveceph install --version`. Defaults to "squid". */
  cephVersion?: string;
  /** Package repository: "enterprise", "no-subscription" or "test". Defaults to "no-subscription". */
  repository?: string;
  /**
   * Nodes that run a monitor. Defaults to every node. A monitor on a node dropped from
   * this list is removed (after the new ones are in quorum, one at a time; never below 3
   * monitors on 3+ nodes).
   */
  monNodes?: string[];
  /** Nodes that run a manager. Defaults to the monitor nodes. */
  mgrNodes?: string[];
  /** Seconds to wait for each new monitor to join the quorum (and managers to register). Defaults to 120. */
  monQuorumTimeoutSeconds?: number;
  /** Seconds between polls while waiting. Defaults to 2. */
  pollIntervalSeconds?: number;
}

/**
 * Ceph on a Proxmox VE cluster: packages on every node, `pveceph init` once,
 * monitors and managers where configured, each only where missing; monitors
 * on nodes dropped from `monNodes` are removed once the quorum allows it. Refuses,
 * changing nothing, when the Proxmox cluster is not quorate or an existing Ceph
 * uses other networks. Place it after the Proxmox cluster (`dependsOn`), and
 * make OSDs and pools depend on `ready`. Removing it leaves Ceph running.
 */
export class CephCluster extends pulumi.ComponentResource {
  /** The Ceph cluster id. */
  readonly fsid: pulumi.Output<string>;
  /** Monitors with their addresses and quorum membership. */
  readonly mons: pulumi.Output<CephMon[]>;
  /** Managers (the active one first). */
  readonly mgrs: pulumi.Output<CephMgr[]>;
  /** Installed Ceph release per node. */
  readonly installed: pulumi.Output<CephInstall[]>;
  /** The public network as configured in ceph.conf. */
  readonly publicNetwork: pulumi.Output<string>;
  /** The resource OSDs and pools depend on: done when Ceph is installed, initialised and has its monitors and managers. */
  readonly ready: CephClusterResource;

  constructor(name: string, args: CephClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      CEPH_CLUSTER_TYPE,
      name,
      {
        nodes: args.nodes.map((n) => n.access.connection.node),
        publicNetwork: args.publicNetwork,
        clusterNetwork: args.clusterNetwork ?? args.publicNetwork,
      },
      opts,
    );
    if (args.nodes.length === 0) refuse(this, name, "nodes is empty; Ceph needs at least one node");
    const names = args.nodes.map((n) => n.access.connection.node);
    for (const [key, list] of [
      ["monNodes", args.monNodes ?? []],
      ["mgrNodes", args.mgrNodes ?? []],
    ] as const) {
      const unknown = list.filter((n) => !names.includes(n));
      if (unknown.length > 0) {
        refuse(this, name, `${key} names ${unknown.join(", ")}, which ${unknown.length === 1 ? "is" : "are"} not in nodes (${names.join(", ")})`);
      }
    }
    this.ready = new CephClusterResource(
      `${name}-cluster`,
      {
        nodes: args.nodes.map((n) => (n.monAddress ? { connection: n.access.connection, monAddress: n.monAddress } : { connection: n.access.connection })),
        sshPrivateKey: sharedSshKey(this, name, args.nodes.map((n) => n.access)),
        publicNetwork: args.publicNetwork,
        clusterNetwork: args.clusterNetwork,
        cephVersion: args.cephVersion ?? "squid",
        repository: args.repository ?? "no-subscription",
        monNodes: args.monNodes,
        mgrNodes: args.mgrNodes,
        monQuorumTimeoutSeconds: args.monQuorumTimeoutSeconds ?? 120,
        pollIntervalSeconds: args.pollIntervalSeconds ?? 2,
      },
      // It really waits for the Proxmox cluster (the component's dependsOn).
      childOptions(this, opts),
    );
    this.fsid = this.ready.fsid;
    this.mons = this.ready.mons;
    this.mgrs = this.ready.mgrs;
    this.installed = this.ready.installed;
    this.publicNetwork = this.ready.publicNetwork;
    this.registerOutputs({ fsid: this.fsid, mons: this.mons, mgrs: this.mgrs, installed: this.installed, publicNetwork: this.publicNetwork });
  }
}
