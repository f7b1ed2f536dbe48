import type * as pulumi from "@pulumi/pulumi";
import { nodeAccessByName } from "./connections";
import { buildApi } from "./layers/api";
import { buildCeph, type CephOutputs } from "./layers/ceph";
import { buildCluster } from "./layers/cluster";
import type { EnvironmentContext } from "./layers/context";
import { buildGuests, type GuestOutputs } from "./layers/guests";
import { buildNodes, nodeOutputs } from "./layers/nodes";
import { buildRing } from "./layers/ring";
import type { Environment, Secrets } from "./schema";

/** What a stack exports. */
export interface EnvironmentOutputs extends GuestOutputs {
  nodes: Record<string, { address: string; pveVersion: pulumi.Output<string> }>;
  cluster?: { name: pulumi.Output<string>; members: pulumi.Output<unknown>; quorate: pulumi.Output<boolean> };
  api?: { endpoint: string; tokenId: pulumi.Output<string>; tokenSecret: pulumi.Output<string> };
  ring?: {
    status?: pulumi.Output<string>;
    cables?: pulumi.Output<unknown>;
    reachability?: pulumi.Output<unknown>;
    links?: pulumi.Output<unknown>;
  };
  ceph?: CephOutputs;
}

/**
 * Compose one environment from its validated config, one layer at a time, in
 * the order the people who run these clusters follow. Secrets arrive as a
 * secret Output and stay one all the way down.
 */
export function buildEnvironment(
  env: Environment,
  secrets: pulumi.Output<Secrets>,
  /** Users that have a hash in secrets.userPasswordHashes (names only; the values stay secret). */
  usersWithPasswordHash: ReadonlySet<string> = new Set(),
): EnvironmentOutputs {
  const ctx = environmentContext(env, secrets);

  // 1. Each node: facts → baseline → networks.
  const nodes = buildNodes(ctx, usersWithPasswordHash);
  const outputs: EnvironmentOutputs = { nodes: nodeOutputs(nodes) };

  // 2. The Thunderbolt ring, over the nodes' networks.
  const ring = buildRing(ctx, nodes);
  if (ring) outputs.ring = { status: ring.status, cables: ring.cables, reachability: ring.reachability, links: ring.links };

  // 3. The cluster, once every node (and the ring) is ready.
  if (!env.cluster) return outputs;
  const cluster = buildCluster(ctx, nodes, ring);
  outputs.cluster = { name: cluster.clusterName, members: cluster.members, quorate: cluster.quorate };

  // 4. API access and the datacenter options.
  const api = env.apiAccess ? buildApi(ctx, cluster) : undefined;
  if (api) outputs.api = { endpoint: api.endpoint, tokenId: api.tokenId, tokenSecret: api.tokenSecret };

  // 5. Ceph: install/init/mons/mgrs → OSDs → pools → health gate.
  const ceph = env.ceph ? buildCeph(ctx, cluster) : undefined;
  if (ceph) outputs.ceph = ceph.outputs;

  // 6. Guests: templates → VMs → HA, on the Ceph storage once it is healthy.
  if (api) Object.assign(outputs, buildGuests(ctx, api, ceph?.storage ?? []));
  return outputs;
}

/** The config, the secrets, and every node's access, derived once. */
function environmentContext(env: Environment, secrets: pulumi.Output<Secrets>): EnvironmentContext {
  const sshPrivateKey = env.ssh.useAgent ? undefined : secrets.apply((s) => s.sshPrivateKey ?? "");
  const byName = nodeAccessByName(env, sshPrivateKey);
  return {
    env,
    secrets,
    access: (node) => byName.get(typeof node === "string" ? node : node.name)!,
  };
}
