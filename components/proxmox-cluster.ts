import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { ClusterMember, ClusterNodeLinks, ProxmoxClusterMembership } from "../infra/providers/proxmox/cluster";
import { NodeCertificate } from "../infra/providers/proxmox/node-certificate";
import { QDevice } from "../infra/providers/proxmox/qdevice";
import { childOptions, refuse, sharedSshKey } from "./child-options";

/** Type token of the ProxmoxCluster component. */
export const PROXMOX_CLUSTER_TYPE = "homelab:proxmox:Cluster";

/** One node of the cluster. */
export interface ProxmoxClusterNode {
  /** How to reach the node over SSH (its name must be the Proxmox node name). */
  access: NodeAccess;
  /** Corosync link addresses of the node: link0, and link1 on a second network when the cluster has two links. */
  links: ClusterNodeLinks;
}

/** Arguments of a Proxmox VE cluster. */
export interface ProxmoxClusterArgs {
  /** Corosync cluster name (letters, digits, hyphens; at most 15 characters). Cannot change once the cluster exists. */
  clusterName: string;
  /** The nodes in order; the first one founds the cluster (`pvecm create`), the others join it one at a time. */
  nodes: ProxmoxClusterNode[];
  /** Root password of the founder, which `pvecm add` needs (given on stdin, never on a command line); a secret. */
  rootPassword: pulumi.Input<string>;
  /** Allow a cluster of fewer than 3 nodes, which loses quorum when one node fails. Defaults to false. */
  allowSmallCluster?: boolean;
  /**
   * An external vote: the corosync-qnetd host (a plain Debian host outside the cluster, reached as
   * root with the nodes' key), set up with `pvecm qdevice setup` once the cluster is formed. With
   * it, two nodes make three votes and keep quorum when one fails.
   */
  qdevice?: NodeAccess;
  /** Allow separating a node that is dropped from `nodes` while it is online (offline nodes are only deleted from the member list). Defaults to false. */
  allowNodeRemoval?: boolean;
  /** Seconds to wait for quorum with every joined node online after each join (the stack schema's cluster.quorumTimeoutSeconds, 120 unless set). */
  quorumTimeoutSeconds: number;
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
  /** The QDevice, when configured. */
  readonly qdevice?: QDevice;
  /** Each node's check that its API certificate names its address. */
  readonly nodeCertificates: NodeCertificate[];

  constructor(name: string, args: ProxmoxClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Only the non-secret summary goes into the component's stored inputs.
    super(
      PROXMOX_CLUSTER_TYPE,
      name,
      { clusterName: args.clusterName, nodes: args.nodes.map((n) => n.access.connection.node) },
      opts,
    );
    if (args.nodes.length === 0) {
      refuse(this, name, "nodes is empty; a Proxmox cluster needs at least one node");
    }
    const votes = args.nodes.length + (args.qdevice ? 1 : 0);
    if (votes < 3 && !(args.allowSmallCluster ?? false)) {
      refuse(
        this,
        name,
        `nodes has ${args.nodes.length} node(s); a cluster of fewer than 3 nodes loses quorum when one node fails ` +
          "(add a QDevice, or set allowSmallCluster: true to allow this)",
      );
    }
    this.membership = new ProxmoxClusterMembership(
      `${name}-membership`,
      {
        clusterName: args.clusterName,
        nodes: args.nodes.map((n) => ({ connection: n.access.connection, links: n.links })),
        sshPrivateKey: sharedSshKey(this, name, args.nodes.map((n) => n.access)),
        rootPassword: args.rootPassword,
        // The QDevice's vote comes after the cluster forms: the membership alone is 2 nodes.
        allowSmallCluster: (args.allowSmallCluster ?? false) || args.qdevice !== undefined,
        allowNodeRemoval: args.allowNodeRemoval ?? false,
        quorumTimeoutSeconds: args.quorumTimeoutSeconds,
        quorumPollIntervalSeconds: args.quorumPollIntervalSeconds ?? 2,
        dissolveOnDelete: args.dissolveOnDelete ?? false,
      },
      // The membership itself needs the networks (the component's dependsOn), also on destroy and replace.
      childOptions(this, opts),
    );
    // Each node's own API certificate names its address (pvecm updatecerts --force after an address change).
    this.nodeCertificates = args.nodes.map(
      (n) =>
        new NodeCertificate(
          `${name}-${n.access.connection.node}-certificate`,
          { connection: n.access.connection, sshPrivateKey: n.access.sshPrivateKey, address: n.access.connection.host },
          { parent: this, dependsOn: [this.membership] },
        ),
    );
    if (args.qdevice) {
      this.qdevice = new QDevice(
        `${name}-qdevice`,
        {
          clusterName: args.clusterName,
          members: args.nodes.map((n) => n.access.connection),
          qnetd: args.qdevice.connection,
          sshPrivateKey: sharedSshKey(this, name, [...args.nodes.map((n) => n.access), args.qdevice]),
        },
        { parent: this, dependsOn: [this.membership] },
      );
    }
    this.clusterName = this.membership.clusterName;
    this.members = this.membership.members;
    this.quorate = this.membership.quorate;
    this.registerOutputs({ clusterName: this.clusterName, members: this.members, quorate: this.quorate, qdeviceVotes: this.qdevice?.votes });
  }
}
