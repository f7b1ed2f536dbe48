import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { ApiAccess } from "../components/api-access";
import { CephCluster } from "../components/ceph-cluster";
import { CephHealth } from "../components/ceph-health";
import { CephOsds } from "../components/ceph-osds";
import { CephPools } from "../components/ceph-pools";
import { CloudTemplate } from "../components/cloud-template";
import { GuestAgentSnippet } from "../components/guest-agent-snippet";
import { HaPlacementComponent } from "../components/ha";
import { Vm } from "../components/vm";
import { NodeBaseline, type BaselineUser } from "../components/node-baseline";
import { NodeNetwork } from "../components/node-network";
import { ProxmoxCluster } from "../components/proxmox-cluster";
import { ProxmoxNode } from "../components/proxmox-node";
import { ThunderboltRing } from "../components/thunderbolt-ring";
import type { HostEntry } from "../infra/baseline";
import { nodeConnection } from "./connections";
import { clusterLinkAddresses, networkByName, nodeAddressOn, nodeByName, templateImage, vmVmid } from "./lookup";
import type { Environment, Node, Secrets } from "./schema";

/** What a stack exports. */
export interface EnvironmentOutputs {
  nodes: Record<string, { address: string; pveVersion: pulumi.Output<string> }>;
  cluster?: { name: pulumi.Output<string>; members: pulumi.Output<unknown>; quorate: pulumi.Output<boolean> };
  api?: { endpoint: string; tokenId: pulumi.Output<string>; tokenSecret: pulumi.Output<string> };
  ring?: { reachability?: pulumi.Output<unknown>; links?: pulumi.Output<unknown> };
  ceph?: {
    health: pulumi.Output<string>;
    osdsUp: pulumi.Output<number>;
    osdsIn: pulumi.Output<number>;
    rawTotalBytes: pulumi.Output<number>;
    rawAvailBytes: pulumi.Output<number>;
    pools: pulumi.Output<unknown>;
  };
  templates?: Record<string, { vmid: number; node: string }>;
  vms?: Record<string, { vmid: number; node: string; address: pulumi.Output<string>; ipv4: pulumi.Output<string[]> }>;
}

/** Per-node pieces, for ordering later steps. */
interface NodeParts {
  node: Node;
  facts: ProxmoxNode;
  baseline: NodeBaseline;
  network: NodeNetwork;
}

/**
 * Compose one environment from its validated config, in the order the
 * people who run these clusters follow: node facts → baseline → networks →
 * (Thunderbolt ring) → cluster → API access → datacenter options. Secrets
 * arrive as a secret Output and stay one all the way down.
 */
export function buildEnvironment(
  env: Environment,
  secrets: pulumi.Output<Secrets>,
  /** Users that have a hash in secrets.userPasswordHashes (names only; the values stay secret). */
  usersWithPasswordHash: ReadonlySet<string> = new Set(),
): EnvironmentOutputs {
  const sshPrivateKey = env.ssh.useAgent ? undefined : secrets.apply((s) => s.sshPrivateKey ?? "");
  const hosts = hostEntries(env);
  const users = env.baseline.users.map((u) => ({
    ...u,
    passwordHash: usersWithPasswordHash.has(u.name)
      ? secrets.apply((s) => s.userPasswordHashes?.[u.name] ?? "")
      : undefined,
  }));
  const parts: NodeParts[] = env.nodes.map((node) => buildNode(env, node, hosts, users, sshPrivateKey));

  const outputs: EnvironmentOutputs = { nodes: {} };
  for (const p of parts) outputs.nodes[p.node.name] = { address: p.node.address, pveVersion: p.facts.pveVersion };

  const ring = buildRing(env, parts, sshPrivateKey);
  if (ring) outputs.ring = { reachability: ring.reachability, links: ring.links };
  if (!env.cluster) return outputs;

  const cluster = new ProxmoxCluster(
    `${env.name}-cluster`,
    {
      clusterName: env.cluster.name,
      nodes: parts.map((p) => {
        const [link0, link1] = clusterLinkAddresses(env, p.node);
        return { connection: nodeConnection(env, p.node), links: link1 === undefined ? { link0 } : { link0, link1 } };
      }),
      sshPrivateKey,
      rootPassword: secrets.apply((s) => s.rootPasswords?.[env.nodes[0].name] ?? ""),
      allowSmallCluster: env.cluster.allowSmallCluster,
      allowNodeRemoval: env.cluster.allowNodeRemoval,
      quorumTimeoutSeconds: env.cluster.quorumTimeoutSeconds,
      dissolveOnDelete: env.cluster.dissolveOnDelete,
    },
    // Cluster first needs every node's baseline and networks (corosync links must exist),
    // and the ring's routing when a link runs over it.
    { dependsOn: [...parts.flatMap((p) => [p.baseline, p.network]), ...(ring?.ready ?? [])] },
  );
  outputs.cluster = { name: cluster.clusterName, members: cluster.members, quorate: cluster.quorate };
  const ceph = env.ceph ? buildCeph(env, cluster, sshPrivateKey) : undefined;
  if (ceph) outputs.ceph = ceph.outputs;

  if (!env.apiAccess) return outputs;
  const founder = env.nodes[0];
  const api = new ApiAccess(
    `${env.name}-api`,
    {
      connection: nodeConnection(env, founder),
      sshPrivateKey,
      userid: env.apiAccess.userid,
      tokenName: env.apiAccess.tokenName,
      roleName: env.apiAccess.roleName,
      privileges: env.apiAccess.privileges,
      privsep: env.apiAccess.privsep,
      rotation: env.apiAccess.rotation,
      insecureTls: env.apiAccess.insecureTls,
      apiAddress: founder.address,
      sshNodes: env.nodes.map((n) => ({ name: n.name, address: n.address, port: n.sshPort ?? env.ssh.port })),
    },
    { dependsOn: [cluster] },
  );
  outputs.api = { endpoint: api.endpoint, tokenId: api.tokenId, tokenSecret: api.tokenSecret };
  Object.assign(outputs, buildGuests(env, api, ceph?.storage ?? [], sshPrivateKey));

  if (env.cluster.migration) {
    const network = networkByName(env, env.cluster.migration.network);
    // Native resource: datacenter.cfg is exactly what cluster.Options manages through the API.
    new proxmoxve.cluster.Options(
      `${env.name}-datacenter`,
      { migrationType: env.cluster.migration.type, migrationCidr: network?.cidr },
      { provider: api.provider, dependsOn: [cluster] },
    );
  }
  return outputs;
}

/** Ceph after the cluster: install/init/mons/mgrs → OSDs → pools → health gate. */
function buildCeph(
  env: Environment,
  cluster: ProxmoxCluster,
  sshPrivateKey: pulumi.Input<string> | undefined,
): { outputs: NonNullable<EnvironmentOutputs["ceph"]>; storage: pulumi.Resource[] } {
  const ceph = env.ceph!;
  const cidrOf = (name: string) => networkByName(env, name)!.cidr;
  const cephCluster = new CephCluster(
    `${env.name}-ceph`,
    {
      nodes: env.nodes.map((n) => ({
        connection: nodeConnection(env, n),
        monAddress: nodeAddressOn(env, n, ceph.publicNetwork),
      })),
      sshPrivateKey,
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
  const osds = new CephOsds(`${env.name}-osds`, {
    nodes: osdNodes.map((n) => ({ connection: nodeConnection(env, n), devices: n.osds })),
    sshPrivateKey,
    destroyOnDelete: ceph.destroyOnDelete,
    dependsOn: [cephCluster.ready],
  });
  const pools = new CephPools(
    `${env.name}-pools`,
    {
      connection: nodeConnection(env, env.nodes[0]),
      sshPrivateKey,
      pools: ceph.pools.map((p) => ({
        ...p,
        allowSingleReplica: ceph.allowSingleReplica,
        destroyOnDelete: ceph.destroyOnDelete,
      })),
      osdHosts: osdNodes.length,
      osds: osds.osdResources,
    },
    { dependsOn: [cephCluster] },
  );
  const health = new CephHealth(
    `${env.name}-ceph-health`,
    {
      nodes: env.nodes.map((n) => ({ connection: nodeConnection(env, n) })),
      sshPrivateKey,
      allowedWarnings: ceph.health.allowedWarnings,
      timeoutSeconds: ceph.health.timeoutSeconds,
    },
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

/** Proxmox's `local` dir storage keeps `iso` content here. */
const LOCAL_ISO_DIR = "/var/lib/vz/template/iso";

/**
 * Templates (image downloaded with the native download.File, checksum
 * verified when pinned; template built over SSH with qm), VMs cloned from
 * them (native VmLegacy), and HA placements for the VMs that ask for it.
 */
function buildGuests(
  env: Environment,
  api: ApiAccess,
  storage: pulumi.Resource[],
  sshPrivateKey: pulumi.Input<string> | undefined,
): Pick<EnvironmentOutputs, "templates" | "vms"> {
  if (env.templates.length === 0 && env.vms.length === 0) return {};
  const templates: NonNullable<EnvironmentOutputs["templates"]> = {};
  const built = new Map<string, CloudTemplate>();
  const images = new Map(env.templates.map((t) => [t.name, templateImage(env, t)]));
  const installsAgent = (t: Environment["templates"][number]) => t.installGuestAgent ?? !images.get(t.name)!.guestAgent;
  // One snippet for every template that needs the agent, on every node (HA may start a clone anywhere).
  const snippet = env.templates.some(installsAgent)
    ? new GuestAgentSnippet(
        `${env.name}-guest-agent`,
        {
          configNode: nodeConnection(env, env.nodes[0]),
          nodes: env.nodes.map((n) => nodeConnection(env, n)),
          sshPrivateKey,
          storage: env.snippets.storage,
          storagePath: env.snippets.path,
        },
        // storage.cfg is cluster-wide: change it once the cluster exists
        { dependsOn: [api] },
      )
    : undefined;
  // Templates that install the agent, and their clones, reference the snippet.
  const snippetOf = (t: Environment["templates"][number]) => (installsAgent(t) ? snippet : undefined);
  for (const t of env.templates) {
    const image = images.get(t.name)!;
    const agentSnippet = snippetOf(t);
    const download = new proxmoxve.download.File(
      `${env.name}-image-${t.name}`,
      {
        nodeName: t.node,
        datastoreId: "local",
        contentType: "iso",
        url: image.url,
        fileName: image.fileName,
        // Pinned in the catalog (or the stack's images): a file that does not match fails the download.
        checksum: image.checksum,
        checksumAlgorithm: image.checksumAlgorithm,
        overwrite: false,
      },
      { provider: api.provider },
    );
    const template = new CloudTemplate(
      `${env.name}-template-${t.name}`,
      {
        connection: nodeConnection(env, nodeByName(env, t.node)!),
        sshPrivateKey,
        vmid: t.vmid,
        templateName: t.name,
        image,
        imagePath: download.id.apply(() => `${LOCAL_ISO_DIR}/${image.fileName}`),
        storage: t.storage,
        bridge: t.bridge,
        diskSize: t.diskSize,
        hardware: { cores: t.cores, memory: t.memoryMb },
        vendorSnippet: agentSnippet?.volid,
      },
      { dependsOn: [download, ...storage, ...(agentSnippet?.ready ?? [])] },
    );
    built.set(t.name, template);
    templates[t.name] = { vmid: t.vmid, node: t.node };
  }

  const vms: NonNullable<EnvironmentOutputs["vms"]> = {};
  const haMembers = new Map<string, { vm: Vm; vmid: number; ha: NonNullable<Environment["vms"][number]["ha"]> }[]>();
  env.vms.forEach((v, index) => {
    const t = env.templates.find((x) => x.name === v.template)!;
    const vmid = vmVmid(env, index);
    const vm = new Vm(
      `${env.name}-vm-${v.name}`,
      {
        provider: api.provider,
        connection: nodeConnection(env, nodeByName(env, v.node)!),
        sshPrivateKey,
        node: v.node,
        vmid,
        name: v.name,
        templateVmid: t.vmid,
        templateNode: t.node,
        storage: v.storage ?? t.storage,
        cores: v.cores,
        memoryMb: v.memoryMb,
        disks: v.disks ?? (v.diskGb ? [{ interface: "virtio0", sizeGb: v.diskGb }] : undefined),
        networks: v.networks,
        cloudInit: v.cloudInit,
        vendorSnippet: snippetOf(t)?.volid,
      },
      { dependsOn: [built.get(t.name)!, ...storage] },
    );
    vms[v.name] = { vmid, node: v.node, address: vm.address, ipv4: vm.ipv4 };
    if (v.ha) haMembers.set(v.ha.placement, [...(haMembers.get(v.ha.placement) ?? []), { vm, vmid, ha: v.ha }]);
  });

  for (const placement of env.ha.placements) {
    const members = haMembers.get(placement.name) ?? [];
    if (members.length === 0) continue;
    new HaPlacementComponent(
      `${env.name}-ha-${placement.name}`,
      {
        connection: nodeConnection(env, env.nodes[0]),
        sshPrivateKey,
        placementName: placement.name,
        nodes: placement.nodes,
        strict: placement.strict,
        nofailback: placement.nofailback,
        vms: members.map((m) => ({ vmid: m.vmid, state: m.ha.state, maxRestart: m.ha.maxRestart, maxRelocate: m.ha.maxRelocate })),
      },
      { dependsOn: members.map((m) => m.vm) },
    );
  }
  return { templates, vms };
}

function buildNode(
  env: Environment,
  node: Node,
  hosts: HostEntry[],
  users: BaselineUser[],
  sshPrivateKey: pulumi.Input<string> | undefined,
): NodeParts {
  const connection = nodeConnection(env, node);
  const prefix = `${env.name}-${node.name}`;
  const facts = new ProxmoxNode(prefix, { connection, sshPrivateKey });
  const baseline = new NodeBaseline(
    `${prefix}-baseline`,
    {
      connection,
      sshPrivateKey,
      pveMajor: facts.pveRelease.apply((release) => Number(release.split(".")[0])),
      cephRelease: env.baseline.cephRelease,
      packages: env.baseline.packages,
      removeSubscriptionNag: env.baseline.removeSubscriptionNag,
      hosts,
      users,
    },
    { dependsOn: [facts] },
  );
  const network = new NodeNetwork(
    `${prefix}-network`,
    {
      connection,
      sshPrivateKey,
      networks: env.networks,
      interfaces: node.interfaces,
      managementAddress: node.address,
      allowManagementChange: node.allowManagementChange,
      thunderbolt:
        node.thunderbolt && env.thunderbolt
          ? { loopback: node.thunderbolt.loopback, ports: node.thunderbolt.ports, mtu: env.thunderbolt.mtu }
          : undefined,
    },
    { dependsOn: [baseline] },
  );
  return { node, facts, baseline, network };
}

function buildRing(
  env: Environment,
  parts: NodeParts[],
  sshPrivateKey: pulumi.Input<string> | undefined,
): ThunderboltRing | undefined {
  const ringParts = parts.filter((p) => p.node.thunderbolt);
  if (!env.thunderbolt || ringParts.length === 0) return undefined;
  const verify = env.thunderbolt.verify;
  return new ThunderboltRing(`${env.name}-ring`, {
    nodes: ringParts.map((p) => ({
      connection: nodeConnection(env, p.node),
      thunderbolt: p.node.thunderbolt!,
      dependsOn: [p.network, p.baseline],
    })),
    sshPrivateKey,
    mtu: env.thunderbolt.mtu,
    verify: verify.enabled ? { iperfSeconds: verify.iperfSeconds, minGbps: verify.minGbps, trigger: verify.trigger } : false,
  });
}

/** /etc/hosts: every node by its name on the management address, and `<name>-<network>` on each cluster link. */
export function hostEntries(env: Environment): HostEntry[] {
  const entries: HostEntry[] = [];
  for (const node of env.nodes) {
    entries.push({ address: node.address, names: [node.name] });
    for (const link of env.cluster?.links ?? []) {
      const address = nodeAddressOn(env, node, link);
      if (address && address !== node.address) entries.push({ address, names: [`${node.name}-${link}`] });
    }
  }
  return entries;
}
