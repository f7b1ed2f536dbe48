import * as pulumi from "@pulumi/pulumi";
import { publicKeyLine } from "../infra/ssh";

import { EnvironmentMarker } from "../components/environment-marker";
import { nodeAccessByName } from "./connections";
import { buildApi } from "./layers/api";
import { buildCeph, type CephOutputs } from "./layers/ceph";
import { buildCertificates } from "./layers/certificates";
import { buildCluster } from "./layers/cluster";
import { buildFirewall } from "./layers/firewall";
import type { EnvironmentContext } from "./layers/context";
import { buildGuests, type GuestOutputs } from "./layers/guests";
import { buildHosts, buildVmHosts, type ProvisionedHost } from "./layers/hosts";
import { buildK3s, type KubernetesOutput } from "./layers/k3s";
import { buildLinode } from "./layers/linode";
import { baselineUsers, buildNodes, nodeOutputs, type NodeOutput } from "./layers/nodes";
import { buildRing } from "./layers/ring";
import { buildTalos, type TalosKubernetesOutput } from "./layers/talos";
import { buildSdn } from "./layers/sdn";
import type { Environment, Secrets } from "./schema";

/** What a stack exports. */
export interface EnvironmentOutputs extends GuestOutputs {
  nodes: Record<string, NodeOutput>;
  cluster?: {
    name: pulumi.Output<string>;
    members: pulumi.Output<unknown>;
    quorate: pulumi.Output<boolean>;
    /** The QDevice's votes as pvecm status showed them (0: it cannot reach its qnetd host); only with a QDevice. */
    qdeviceVotes?: pulumi.Output<number>;
  };
  api?: { endpoint: string; tokenId: pulumi.Output<string>; tokenSecret: pulumi.Output<string> };
  ring?: {
    status?: pulumi.Output<string>;
    cables?: pulumi.Output<unknown>;
    reachability?: pulumi.Output<unknown>;
    links?: pulumi.Output<unknown>;
  };
  ceph?: CephOutputs;
  /** Plain hosts and Linode instances: address and pinned host key. */
  hosts?: Record<string, { address: pulumi.Input<string>; hostKey: pulumi.Input<string> }>;
  /** The cluster firewall: the rule set verified before enabling, each node's `pve-firewall status` after. */
  firewall?: { appliedRules: pulumi.Output<string>; statuses: pulumi.Output<Record<string, string>> };
  /** Guest networks: VNet IDs by name. */
  sdn?: Record<string, pulumi.Output<string>>;
  /** K3s and Talos clusters by name: kubeconfig (a secret), API endpoint, node names; Talos's also talosconfig (a secret) and endpoints. */
  kubernetes?: Record<string, KubernetesOutput | TalosKubernetesOutput>;
}

/**
 * Compose one environment from its validated config, one layer at a time:
 * the Proxmox layers when it has nodes (Talos clusters on VMs last), then the
 * machines outside Proxmox (hosts, Linode instances, VMs a K3s cluster uses),
 * then K3s on them, then Talos clusters on VPS hosts.
 * Secrets arrive as a secret Output and stay one all the way down.
 */
export function buildEnvironment(
  env: Environment,
  secrets: pulumi.Output<Secrets>,
  /** Users that have a hash in secrets.userPasswordHashes (names only; the values stay secret). */
  usersWithPasswordHash: ReadonlySet<string> = new Set(),
): EnvironmentOutputs {
  // What the policy pack reads about the whole environment (production or not).
  new EnvironmentMarker(env.name, { name: env.name, production: env.production });
  const ctx = environmentContext(env, secrets);
  const outputs: EnvironmentOutputs = env.nodes.length > 0 ? buildProxmox(ctx, usersWithPasswordHash) : { nodes: {} };

  // 8. Machines outside Proxmox: existing hosts, and Linode instances (created, then provisioned).
  const users = baselineUsers(ctx, usersWithPasswordHash);
  const machines: ProvisionedHost[] = [...buildHosts(ctx, users), ...buildLinode(ctx, users), ...buildVmHosts(ctx, users, outputs.vms ?? {})];
  if (machines.length > 0) {
    outputs.hosts = Object.fromEntries(
      machines.map((m) => [m.name, { address: m.publicAddress, hostKey: m.access.connection.hostKey ?? "" }]),
    );
  }

  // 8. K3s clusters on them, once each member is provisioned.
  if (env.k3s.clusters.length > 0) outputs.kubernetes = { ...outputs.kubernetes, ...buildK3s(ctx, new Map(machines.map((m) => [m.name, m]))) };

  // 9. Talos clusters on VPS hosts (disks written from their rescue systems).
  const vps = buildTalos(ctx, "vps");
  if (Object.keys(vps).length > 0) outputs.kubernetes = { ...outputs.kubernetes, ...vps };
  return outputs;
}

/** The Proxmox layers, in the order the people who run these clusters follow. */
function buildProxmox(ctx: EnvironmentContext, usersWithPasswordHash: ReadonlySet<string>): EnvironmentOutputs {
  const { env } = ctx;
  // 1. Each node: facts → baseline → networks.
  const nodes = buildNodes(ctx, usersWithPasswordHash);
  const outputs: EnvironmentOutputs = { nodes: nodeOutputs(nodes) };

  // 2. The Thunderbolt ring, over the nodes' networks.
  const ring = buildRing(ctx, nodes);
  if (ring) outputs.ring = { status: ring.status, cables: ring.cables, reachability: ring.reachability, links: ring.links };

  // 3. The cluster, once every node (and the ring) is ready; a single node may stand alone.
  if (!env.cluster && env.nodes.length > 1) return outputs;
  const cluster = env.cluster ? buildCluster(ctx, nodes, ring) : undefined;
  if (cluster) outputs.cluster = { name: cluster.clusterName, members: cluster.members, quorate: cluster.quorate };
  if (cluster?.qdevice && outputs.cluster) outputs.cluster.qdeviceVotes = cluster.qdevice.votes;

  // 4. API access and the datacenter options (on a standalone node, once its baseline and networks are done).
  const api = env.apiAccess ? buildApi(ctx, cluster ?? nodes[0].network) : undefined;
  if (api) outputs.api = { endpoint: api.endpoint, tokenId: api.tokenId, tokenSecret: api.tokenSecret };
  // 4b. The nodes' API certificates (ACME or your own), through the API.
  if (api) buildCertificates(ctx, api, cluster);

  // 5. The cluster firewall (rules → verify on every node → enable → SSH check) and the guest networks (SDN, applied once).
  const firewall = api && env.firewall && cluster ? buildFirewall(ctx, cluster, api) : undefined;
  if (firewall) outputs.firewall = { appliedRules: firewall.appliedRules, statuses: firewall.statuses };
  const sdn = api && cluster ? buildSdn(ctx, cluster, api) : undefined;
  if (sdn) outputs.sdn = sdn.vnets;

  // 6. Ceph: install/init/mons/mgrs → OSDs → pools → health gate.
  const ceph = env.ceph && cluster ? buildCeph(ctx, cluster) : undefined;
  if (ceph) outputs.ceph = ceph.outputs;

  // 7. Guests: templates → VMs → HA, on the Ceph storage once it is healthy; VMs on a VNet once SDN is applied.
  if (api) Object.assign(outputs, buildGuests(ctx, api, ceph?.storage ?? [], sdn?.applied));

  // Then Talos clusters on VMs: the Factory ISO per node → VMs → HA → cluster → Cilium → nodes Ready.
  const talos = api ? buildTalos(ctx, "proxmox", { api, storage: ceph?.storage ?? [] }) : {};
  if (Object.keys(talos).length > 0) outputs.kubernetes = talos;
  return outputs;
}

/** The config, the secrets, and every node's access, derived once. */
function environmentContext(env: Environment, secrets: pulumi.Output<Secrets>): EnvironmentContext {
  const sshPrivateKey = env.ssh.useAgent ? undefined : secrets.apply((s) => s.sshPrivateKey ?? "");
  const byName = nodeAccessByName(env, sshPrivateKey);
  // A public key is no secret; derived from one, it would be marked secret everywhere it goes.
  const sshPublicKey = sshPrivateKey ? pulumi.unsecret(sshPrivateKey.apply((key) => (key ? publicKeyLine(key) : ""))) : undefined;
  return {
    env,
    secrets,
    sshPrivateKey,
    sshPublicKey,
    access: (node) => byName.get(typeof node === "string" ? node : node.name)!,
  };
}
