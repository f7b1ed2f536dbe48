import * as pulumi from "@pulumi/pulumi";
import type { NodeConnection } from "../infra/providers/connection";
import { ClusterMember, ClusterNodeLinks, ProxmoxClusterMembership } from "../infra/providers/proxmox/cluster";

/** One node of the cluster. */
export interface ProxmoxClusterNode {
  /** How to reach the node over SSH (its name must be the Proxmox node name). */
  connection: NodeConnection;
  /** Corosync link addresses of the node: link0, and link1 on a second network when the cluster has two links. */
  links: ClusterNodeLinks;
}

/** Arguments of a Proxmox VE cluster. */
export interface ProxmoxClusterArgs {
  /** Corosync cluster name (letters, digits, hyphens; at most 15 characters). Cannot change once the cluster exists. */
  clusterName: string;
  /** The nodes in order; the first one founds the cluster (`pvecm create`), the others join it one at a time. */
  nodes: ProxmoxClusterNode[];
  /** Root SSH private key accepted by every node; a secret. Omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Root password of the founder, which `pvecm add` needs (given on stdin, never on a command line); a secret. */
  rootPassword: pulumi.Input<string>;
  /** Allow a cluster of fewer than 3 nodes, which loses quorum when one node fails. Defaults to false. */
  allowSmallCluster?: boolean;
  /** Allow separating a node that is dropped from `nodes` while it is online (offline nodes are only deleted from the member list). Defaults to false. */
  allowNodeRemoval?: boolean;
  /** Seconds to wait for quorum with every joined node online after each join. Defaults to 120. */
  quorumTimeoutSeconds?: number;
  /** Seconds between quorum polls. Defaults to 2. */
  quorumPollIntervalSeconds?: number;
  /** When the component is deleted, remove every node but the founder from the cluster and separate it. Defaults to false (the cluster stays). */
  dissolveOnDelete?: boolean;
}

/**
 * A Proxmox VE cluster: the first node creates it, the others join one at a
 * time, and nothing is changed on nodes that are already members. Refuses,
 * changing nothing, when the nodes cannot form the cluster (unreachable node,
 * node in another cluster, mixed Proxmox releases, guests on a joining node,
 * fewer than 3 nodes unless allowed).
 */
export class ProxmoxCluster extends pulumi.ComponentResource {
  /** The corosync cluster name. */
  readonly clusterName: pulumi.Output<string>;
  /** Members in nodeid order with their link addresses, as the cluster reports them. */
  readonly members: pulumi.Output<ClusterMember[]>;
  /** Whether the cluster had quorum when last read. */
  readonly quorate: pulumi.Output<boolean>;
  /** The membership resource, for `dependsOn`. */
  readonly membership: ProxmoxClusterMembership;

  constructor(name: string, args: ProxmoxClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Only the non-secret summary goes into the component's stored inputs.
    super(
      "homelab:proxmox:Cluster",
      name,
      { clusterName: args.clusterName, nodes: args.nodes.map((n) => n.connection.node) },
      opts,
    );
    if (args.nodes.length === 0) {
      throw new pulumi.ResourceError("nodes is empty; a Proxmox cluster needs at least one node", this);
    }
    if (args.nodes.length < 3 && !(args.allowSmallCluster ?? false)) {
      throw new pulumi.ResourceError(
        `nodes has ${args.nodes.length} node(s); a cluster of fewer than 3 nodes loses quorum when one node fails ` +
          "(set allowSmallCluster: true to allow this)",
        this,
      );
    }
    this.membership = new ProxmoxClusterMembership(
      `${name}-membership`,
      {
        clusterName: args.clusterName,
        nodes: args.nodes.map((n) => ({ connection: n.connection, links: n.links })),
        sshPrivateKey: args.sshPrivateKey,
        rootPassword: args.rootPassword,
        allowSmallCluster: args.allowSmallCluster ?? false,
        allowNodeRemoval: args.allowNodeRemoval ?? false,
        quorumTimeoutSeconds: args.quorumTimeoutSeconds ?? 120,
        quorumPollIntervalSeconds: args.quorumPollIntervalSeconds ?? 2,
        dissolveOnDelete: args.dissolveOnDelete ?? false,
      },
      // A component's dependsOn does not reach its children's registrations: pass it on, so the
      // engine also knows the membership needs the networks (ordering on destroy and replace).
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.clusterName = this.membership.clusterName;
    this.members = this.membership.members;
    this.quorate = this.membership.quorate;
    this.registerOutputs({ clusterName: this.clusterName, members: this.members, quorate: this.quorate });
  }
}
