import type * as pulumi from "@pulumi/pulumi";
import { CephCluster } from "../../components/ceph-cluster";
import { CephHealth } from "../../components/ceph-health";
import { CephOsds } from "../../components/ceph-osds";
import { CephPools } from "../../components/ceph-pools";
import type { ProxmoxCluster } from "../../components/proxmox-cluster";
import { networkByName, nodeAddressOn } from "../lookup";
import type { EnvironmentContext } from "./context";

/** The Ceph stack output. */
export interface CephOutputs {
  health: pulumi.Output<string>;
  osdsUp: pulumi.Output<number>;
  osdsIn: pulumi.Output<number>;
  rawTotalBytes: pulumi.Output<number>;
  rawAvailBytes: pulumi.Output<number>;
  pools: pulumi.Output<unknown>;
}

/** Ceph after the cluster: install/init/mons/mgrs → OSDs → pools → health gate. */
export function buildCeph(ctx: EnvironmentContext, cluster: ProxmoxCluster): { outputs: CephOutputs; storage: pulumi.Resource[] } {
  const { env } = ctx;
  const ceph = env.ceph!;
  const cidrOf = (name: string) => networkByName(env, name)!.cidr;
  // Only monitors get a monAddress: the provider refuses one on any other node.
  const isMon = (name: string) => ceph.monNodes === undefined || ceph.monNodes.includes(name);
  const cephCluster = new CephCluster(
    `${env.name}-ceph`,
    {
      nodes: env.nodes.map((n) => ({
        access: ctx.access(n),
        monAddress: isMon(n.name) ? nodeAddressOn(env, n, ceph.publicNetwork) : undefined,
      })),
      publicNetwork: cidrOf(ceph.publicNetwork),
      clusterNetwork: ceph.clusterNetwork ? cidrOf(ceph.clusterNetwork) : undefined,
      cephVersion: env.baseline.cephRelease,
      repository: "no-subscription",
      monNodes: ceph.monNodes,
      mgrNodes: ceph.mgrNodes,
    },
    { dependsOn: [cluster] },
  );
  const osdNodes = env.nodes.filter((n) => n.osds.length > 0);
  const osds = new CephOsds(
    `${env.name}-osds`,
    { nodes: osdNodes.map((n) => ({ access: ctx.access(n), devices: n.osds })), destroyOnDelete: ceph.destroyOnDelete },
    { dependsOn: [cephCluster.ready] },
  );
  const pools = new CephPools(
    `${env.name}-pools`,
    {
      access: ctx.access(env.nodes[0]),
      pools: ceph.pools.map((p) => ({ ...p, allowSingleReplica: ceph.allowSingleReplica, destroyOnDelete: ceph.destroyOnDelete })),
      osdHosts: osdNodes.length,
      osds: osds.osdResources,
    },
    { dependsOn: [cephCluster] },
  );
  const health = new CephHealth(
    `${env.name}-ceph-health`,
    { nodes: env.nodes.map((n) => ctx.access(n)), allowedWarnings: ceph.health.allowedWarnings, timeoutSeconds: ceph.health.timeoutSeconds },
    { dependsOn: [osds, pools] },
  );
  return {
    outputs: {
      health: health.health,
      osdsUp: health.osdsUp,
      osdsIn: health.osdsIn,
      rawTotalBytes: health.rawTotalBytes,
      rawAvailBytes: health.rawAvailBytes,
      pools: health.pools,
    },
    // Guests on Ceph storage wait for healthy pools.
    storage: [pools, health],
  };
}
