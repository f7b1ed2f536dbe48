import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { K3sCluster, type K3sArch, type K3sHost } from "../../components/k3s-cluster";
import type { ProvisionedHost } from "./hosts";
import type { EnvironmentContext } from "./context";

/** One cluster's stack output. */
export interface KubernetesOutput {
  /** Admin kubeconfig; a secret. */
  kubeconfig: pulumi.Output<string>;
  apiEndpoint: pulumi.Output<string>;
  nodes: pulumi.Output<string[]>;
}

/**
 * Each K3s cluster on its machines, once every one of them is provisioned
 * (reachable with its pinned key, baseline applied). The join token is
 * random and stays a secret.
 */
export function buildK3s(ctx: EnvironmentContext, machines: ReadonlyMap<string, ProvisionedHost>): Record<string, KubernetesOutput> {
  const { env } = ctx;
  const out: Record<string, KubernetesOutput> = {};
  for (const c of env.k3s.clusters) {
    const prefix = `${env.name}-${c.name}`;
    const member = (name: string): ProvisionedHost => machines.get(name)!;
    const host = (name: string): K3sHost => {
      const m = member(name);
      const spec = c.nodes[name];
      return { name, access: m.access, address: m.clusterAddress, arch: m.arch as K3sArch, labels: spec?.labels, taints: spec?.taints };
    };
    const names = [...c.servers, ...c.agents];
    const after = names.flatMap((n) => member(n).ready);
    // Made once the machines are ready, like everything of the cluster.
    const token = new random.RandomPassword(`${prefix}-token`, { length: 48, special: false }, { dependsOn: after });
    const cluster = new K3sCluster(
      prefix,
      {
        clusterName: c.name,
        version: c.version,
        servers: c.servers.map(host),
        agents: c.agents.map(host),
        apiAddress: c.apiAddress ?? member(c.servers[0]).publicAddress,
        token: token.result,
        uninstallOnDestroy: c.uninstallOnDestroy,
        artifacts: c.artifacts,
      },
      { dependsOn: after },
    );
    out[c.name] = { kubeconfig: cluster.kubeconfig, apiEndpoint: cluster.apiEndpoint, nodes: cluster.nodes };
  }
  return out;
}
