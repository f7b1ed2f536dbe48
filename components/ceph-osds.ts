import * as pulumi from "@pulumi/pulumi";
import type { NodeConnection } from "../infra/providers/connection";
import { CephOsds as CephOsdsResource, DeviceOsds, OsdDeviceSpec, osdInputProblems } from "../infra/providers/ceph/ceph-osd";

/** The OSD devices of one node. */
export interface CephOsdNodeArgs {
  /** How to reach the node over SSH. */
  connection: NodeConnection;
  /** Devices that carry OSDs on this node (whole disks or partitions, e.g. /dev/nvme0n1). */
  devices: OsdDeviceSpec[];
}

/** Arguments of the OSDs of one or more nodes. */
export interface CephOsdsArgs {
  /** The nodes with OSD devices; one `ceph:Osds` resource per node. */
  nodes: CephOsdNodeArgs[];
  /** Root SSH private key accepted by the nodes; a secret. Omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Destroy the OSDs (and their data) when they are removed from the program. Defaults to false (they stay). */
  destroyOnDelete?: boolean;
  /** Seconds to wait for new OSDs to come up. Defaults to 120. */
  upTimeoutSeconds?: number;
  /** Seconds between polls of `ceph osd tree`. Defaults to 2. */
  pollIntervalSeconds?: number;
  /** Resources the OSDs wait for, typically the Ceph cluster (mons and mgrs). Defaults to none. */
  dependsOn?: pulumi.Resource[];
}

/**
 * The OSDs of a Ceph cluster from a declarative per-node device list. Devices
 * already used by this node's OSDs are left alone; devices with foreign data
 * are refused unless they have `wipe: true`. Pools should depend on this
 * component (`osdResources`).
 */
export class CephOsds extends pulumi.ComponentResource {
  /** One resource per node, for `dependsOn`. */
  readonly osdResources: CephOsdsResource[];
  /** OSDs per device, per node name. */
  readonly osdsByNode: Record<string, pulumi.Output<DeviceOsds[]>>;
  /** Total OSDs on the configured devices. */
  readonly osdCount: pulumi.Output<number>;
  /** Number of nodes that carry OSDs (from the config). */
  readonly osdHosts: number;

  constructor(name: string, args: CephOsdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "homelab:ceph:Osds",
      name,
      { nodes: args.nodes.map((n) => ({ node: n.connection.node, devices: n.devices.map((d) => d.device) })) },
      opts,
    );
    const problems = args.nodes.flatMap((n) => osdInputProblems(n.connection.node, n.devices));
    const names = args.nodes.map((n) => n.connection.node);
    for (const n of names.filter((x, i) => names.indexOf(x) !== i)) problems.push(`node ${n} is listed twice`);
    if (problems.length > 0) throw new pulumi.ResourceError(`Ceph OSDs: ${problems.join("; ")}`, this);

    this.osdResources = args.nodes.map(
      (n) =>
        new CephOsdsResource(
          `${name}-${n.connection.node}`,
          {
            connection: n.connection,
            sshPrivateKey: args.sshPrivateKey,
            devices: n.devices,
            destroyOnDelete: args.destroyOnDelete ?? false,
            upTimeoutSeconds: args.upTimeoutSeconds ?? 120,
            pollIntervalSeconds: args.pollIntervalSeconds ?? 2,
          },
          { parent: this, dependsOn: args.dependsOn ?? [] },
        ),
    );
    this.osdsByNode = Object.fromEntries(args.nodes.map((n, i) => [n.connection.node, this.osdResources[i].osds]));
    this.osdCount = pulumi.all(this.osdResources.map((r) => r.osdIds)).apply((lists) => lists.reduce((s, l) => s + (l?.length ?? 0), 0));
    this.osdHosts = args.nodes.filter((n) => n.devices.length > 0).length;
    this.registerOutputs({ osdsByNode: this.osdsByNode, osdCount: this.osdCount, osdHosts: this.osdHosts });
  }
}
