import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { CephOsds as CephOsdsResource, DeviceOsds, OsdDeviceSpec, osdInputProblems } from "../infra/providers/ceph/ceph-osd";
import { childOptions, refuse } from "./child-options";

/** Type token of the CephOsds component. */
export const CEPH_OSDS_TYPE = "homelab:ceph:Osds";

/** The OSD devices of one node. */
export interface CephOsdNodeArgs {
  /** How to reach the node over SSH. */
  access: NodeAccess;
  /** Devices that carry OSDs on this node (whole disks or partitions, e.g. /dev/nvme0n1). */
  devices: OsdDeviceSpec[];
}

/** Arguments of the OSDs of one or more nodes. */
export interface CephOsdsArgs {
  /** The nodes with OSD devices; one `ceph:Osds` resource per node. */
  nodes: CephOsdNodeArgs[];
  /** Destroy the OSDs (and their data) when they are removed from the program. Defaults to false (they stay). */
  destroyOnDelete?: boolean;
  /** Seconds to wait for new OSDs to come up. Defaults to 120. */
  upTimeoutSeconds?: number;
  /** Seconds between polls of `ceph osd tree`. Defaults to 2. */
  pollIntervalSeconds?: number;
}

/**
 * The OSDs of a Ceph cluster from a declarative per-node device list. Devices
 * already used by this node's OSDs are left alone; devices with foreign data
 * are refused unless they have `wipe: true`. Pools should depend on this
 * component (`osdResources`); the OSDs wait for the component's `dependsOn`
 * (typically the Ceph cluster's `ready`: mons and mgrs).
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
      CEPH_OSDS_TYPE,
      name,
      { nodes: args.nodes.map((n) => ({ node: n.access.connection.node, devices: n.devices.map((d) => d.device) })) },
      opts,
    );
    const problems = args.nodes.flatMap((n) => osdInputProblems(n.access.connection.node, n.devices));
    const names = args.nodes.map((n) => n.access.connection.node);
    for (const n of names.filter((x, i) => names.indexOf(x) !== i)) problems.push(`node ${n} is listed twice`);
    if (problems.length > 0) refuse(this, name, problems);

    this.osdResources = args.nodes.map(
      (n) =>
        new CephOsdsResource(
          `${name}-${n.access.connection.node}`,
          {
            ...n.access,
            devices: n.devices,
            destroyOnDelete: args.destroyOnDelete ?? false,
            upTimeoutSeconds: args.upTimeoutSeconds ?? 120,
            pollIntervalSeconds: args.pollIntervalSeconds ?? 2,
          },
          childOptions(this, opts),
        ),
    );
    this.osdsByNode = Object.fromEntries(args.nodes.map((n, i) => [n.access.connection.node, this.osdResources[i].osds]));
    this.osdCount = pulumi.all(this.osdResources.map((r) => r.osdIds)).apply((lists) => lists.reduce((s, l) => s + (l?.length ?? 0), 0));
    this.osdHosts = args.nodes.filter((n) => n.devices.length > 0).length;
    this.registerOutputs({ osdsByNode: this.osdsByNode, osdCount: this.osdCount, osdHosts: this.osdHosts });
  }
}
