import type { BaselineUser } from "../../components/host-baseline";
import { LinodeHost, type LinodeFirewallRule } from "../../components/linode-host";
import { sshDefaults } from "../connections";
import { k3sMembership } from "../lookup";
import type { LinodeInstanceConfig } from "../schema";
import type { EnvironmentContext } from "./context";
import { provisionHost, type ProvisionedHost } from "./hosts";

/**
 * The region's private network. Shared with other customers' instances in
 * the region, so only what K3s nodes need of each other is opened there, and
 * the join itself is authenticated by the cluster token.
 */
const LINODE_PRIVATE_NETWORK = "192.168.128.0/17";

/** Each Linode instance: created behind its firewall, reachable with its pinned key, then given the baseline. */
export function buildLinode(ctx: EnvironmentContext, users: BaselineUser[]): ProvisionedHost[] {
  const { env } = ctx;
  const linode = env.linode;
  if (!linode) return [];
  return linode.instances.map((instance) => {
    const host = new LinodeHost(`${env.name}-${instance.label}`, {
      label: instance.label,
      region: instance.region ?? linode.region,
      type: instance.type,
      image: instance.image,
      tags: [...new Set([env.name, ...instance.tags])],
      privateIp: instance.privateIp,
      authorizedKeys: linode.authorizedKeys,
      firewall: firewallRules(ctx, instance),
      // Linode's authorized keys are root's.
      ssh: { ...sshDefaults(env), user: "root", sshPrivateKey: ctx.sshPrivateKey },
      readyTimeoutSeconds: linode.readyTimeoutSeconds,
    });
    const baseline = provisionHost(ctx, instance.label, host.access, users, [host.ready]);
    return {
      name: instance.label,
      access: host.access,
      clusterAddress: instance.privateIp ? host.privateAddress : host.address,
      publicAddress: host.address,
      arch: instance.arch,
      ready: [host.ready, baseline, ...baseline.ready],
    };
  });
}

/** SSH from the admin networks; the K3s API too on servers; what K3s nodes need of each other on the private network. */
export function firewallRules(ctx: EnvironmentContext, instance: LinodeInstanceConfig): LinodeFirewallRule[] {
  const linode = ctx.env.linode!;
  const admin = linode.adminCidrs;
  const rules: LinodeFirewallRule[] = [{ label: "ssh-admin", protocol: "TCP", ports: "22", sources: admin }];
  const membership = k3sMembership(ctx.env, instance.label);
  if (membership) {
    if (membership.role === "server") rules.push({ label: "k3s-api-admin", protocol: "TCP", ports: "6443", sources: admin });
    // K3s members have a private address (checked by the schema).
    const peers = [LINODE_PRIVATE_NETWORK];
    rules.push(
      { label: "k3s-peers-tcp", protocol: "TCP", ports: "6443, 10250, 2379-2380", sources: peers },
      { label: "k3s-flannel-vxlan", protocol: "UDP", ports: "8472", sources: peers },
    );
  }
  for (const rule of linode.firewall) rules.push({ label: rule.label, protocol: rule.protocol, ports: rule.ports, sources: rule.sources ?? admin });
  return rules;
}
