import { ClusterFirewall } from "../../components/cluster-firewall";
import type { ApiAccess } from "../../components/api-access";
import type { ProxmoxCluster } from "../../components/proxmox-cluster";
import { firewallPlan } from "../../infra/firewall-plan";
import { nodeAddressOn } from "../lookup";
import type { EnvironmentContext } from "./context";

/**
 * The cluster firewall: aliases for every environment network, the admin
 * networks as PVE's `management` IP set, the members' addresses, the rules
 * (the operator's first, then SSH and the API from the admin networks,
 * corosync, Ceph, migration), node options; verified on every node before
 * `enable`, SSH re-checked after. Once the cluster and its API exist.
 */
export function buildFirewall(ctx: EnvironmentContext, cluster: ProxmoxCluster, api: ApiAccess): ClusterFirewall {
  const { env } = ctx;
  const fw = env.firewall!;
  const links = env.cluster?.links ?? [];
  const between = [...links, ...(env.cluster?.migration ? [env.cluster.migration.network] : [])];
  const memberAddresses = env.nodes.flatMap((n) => [n.address, ...between.map((net) => nodeAddressOn(env, n, net)).filter((a): a is string => !!a)]);
  const plan = firewallPlan({
    adminNetworks: fw.adminNetworks,
    networks: env.networks.map((n) => ({ name: n.name, cidr: n.cidr })),
    memberAddresses,
    linkNetworks: links,
    cephPublicNetwork: env.ceph?.publicNetwork,
    cephClusterNetwork: env.ceph?.clusterNetwork,
    migrationNetwork: env.cluster?.migration?.network,
    extraRules: fw.rules,
  });
  return new ClusterFirewall(
    `${env.name}-firewall`,
    {
      provider: api.provider,
      nodes: env.nodes.map((n) => ctx.access(n)),
      plan,
      adminNetworks: fw.adminNetworks,
      enabled: fw.enabled,
      inputPolicy: fw.inputPolicy,
      outputPolicy: fw.outputPolicy,
      nodeOptions: fw.nodeOptions,
    },
    // Cluster-wide config: once the cluster is formed (and its API user exists).
    { dependsOn: [cluster, api] },
  );
}
