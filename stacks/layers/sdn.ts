import type { ApiAccess } from "../../components/api-access";
import { GuestNetworks } from "../../components/guest-networks";
import type { ProxmoxCluster } from "../../components/proxmox-cluster";
import { UnitDisabled } from "../../infra/providers/linux/unit-disabled";
import type { EnvironmentContext } from "./context";

/**
 * Isolated guest networks: one SDN zone, VNet and subnet per `sdn.networks`
 * entry, applied once after all of them. Once the cluster and its API exist.
 */
export function buildSdn(ctx: EnvironmentContext, cluster: ProxmoxCluster, api: ApiAccess): GuestNetworks | undefined {
  const { env } = ctx;
  if (env.sdn.networks.length === 0) return undefined;
  const allNodes = env.nodes.map((n) => n.name);
  // PVE serves each zone's DHCP with a dnsmasq instance of its own; Debian's default instance
  // (started by the package the baseline installs) would hold the port.
  const dhcpNodes = [...new Set(env.sdn.networks.filter((n) => n.dhcp).flatMap((n) => n.nodes ?? allNodes))];
  const defaultDnsmasqOff = dhcpNodes.map(
    (node) => new UnitDisabled(`${env.name}-${node}-dnsmasq-default-off`, { ...ctx.access(node), unit: "dnsmasq.service" }, { dependsOn: [cluster] }),
  );
  return new GuestNetworks(
    `${env.name}-sdn`,
    {
      provider: api.provider,
      nodes: env.nodes.map((n) => ctx.access(n)),
      networks: env.sdn.networks.map((n) => {
        const nodes = n.nodes ?? allNodes;
        return {
          name: n.name,
          type: n.type,
          cidr: n.cidr,
          gateway: n.gateway,
          snat: n.snat,
          dhcp: n.dhcp,
          vxlanTag: n.vxlanTag,
          nodes,
          // VXLAN runs over the nodes' management addresses.
          peers: env.nodes.filter((x) => nodes.includes(x.name)).map((x) => x.address),
          mtu: n.mtu,
        };
      }),
    },
    { dependsOn: [cluster, api, ...defaultDnsmasqOff] },
  );
}
