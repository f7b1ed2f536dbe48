import { ProxmoxCluster } from "../../components/proxmox-cluster";
import type { ThunderboltRing } from "../../components/thunderbolt-ring";
import { qdeviceConnection } from "../connections";
import { clusterLinkAddresses } from "../lookup";
import type { EnvironmentContext } from "./context";
import type { NodeLayer } from "./nodes";

/** The pvecm cluster: the first node founds it, the others join; after every node's baseline and networks. */
export function buildCluster(ctx: EnvironmentContext, nodes: NodeLayer[], ring: ThunderboltRing | undefined): ProxmoxCluster {
  const { env, secrets } = ctx;
  const cluster = env.cluster!;
  return new ProxmoxCluster(
    `${env.name}-cluster`,
    {
      clusterName: cluster.name,
      nodes: nodes.map((p) => {
        const [link0, link1] = clusterLinkAddresses(env, p.node);
        return { access: ctx.access(p.node), links: link1 === undefined ? { link0 } : { link0, link1 } };
      }),
      rootPassword: secrets.apply((s) => s.rootPasswords?.[env.nodes[0].name] ?? ""),
      allowSmallCluster: cluster.allowSmallCluster,
      qdevice: cluster.qdevice ? { connection: qdeviceConnection(env)!, sshPrivateKey: ctx.sshPrivateKey } : undefined,
      allowNodeRemoval: cluster.allowNodeRemoval,
      quorumTimeoutSeconds: cluster.quorumTimeoutSeconds,
      dissolveOnDelete: cluster.dissolveOnDelete,
    },
    // Cluster first needs every node's baseline and networks (corosync links must exist),
    // and the ring's routing when a link runs over it.
    { dependsOn: [...nodes.flatMap((p) => [p.baseline, p.network]), ...(ring?.ready ?? [])] },
  );
}
