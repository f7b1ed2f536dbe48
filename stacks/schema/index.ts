/**
 * The environment schema: one stack file = one environment, the whole of it
 * under the config key `homelab:environment`, validated here before any
 * resource is registered. One file per domain (networks, interfaces, nodes,
 * cluster, baseline, API access, Ceph, guests, secrets), each with its zod
 * schema and its cross-field checks; this file composes them.
 *
 * Every value that can reach a shell (names, devices, addresses, paths) is
 * constrained to a narrow character set by this schema; `infra/shell.ts`
 * quotes them anyway.
 *
 * Validation collects every issue: field checks are zod's, cross-field checks
 * run in one superRefine that also runs when some fields failed, and only
 * look at values that passed their own field check (views.ts), so one mistake
 * gives one message, not a cascade.
 *
 * Messages name the bad value; `stacks/errors.ts` prefixes them with the path.
 * Queries on a parsed environment are in `stacks/lookup.ts`.
 */
import { z } from "zod";
import { ApiAccessSchema, checkApiAccess } from "./api-access";
import { BaselineSchema, checkCephRelease, checkKernelSettings, checkUsers } from "./baseline";
import { CephSchema, checkCeph } from "./ceph";
import { CertificatesSchema, checkCertificates } from "./certificates";
import { ClusterSchema, checkClusterLinks, checkMigration } from "./cluster";
import { bool, envName, integer, list, mapping, storageId, text } from "./fields";
import { FirewallSchema, checkFirewall } from "./firewall";
import { HaSchema, ImageSchema, TemplateSchema, VmSchema, checkGuests } from "./guests";
import { HostSchema, checkHostNames } from "./hosts";
import { K3sSchema, checkK3s } from "./k3s";
import { LinodeSchema } from "./linode";
import { TalosSchema, checkTalos } from "./talos";
import { notA } from "./messages";
import { NetworkSchema, checkNetworks } from "./networks";
import { NodeSchema, ProxmoxSchema, SshSchema, ThunderboltSchema, checkNodes, checkOsdDevices, checkPveInstalls, checkRingNetwork } from "./nodes";
import { checkQDevice } from "./qdevice";
import { SdnSchema, checkSdn } from "./sdn";
import { isRecord } from "./predicates";
import { checkProduction } from "./production";
import type { PathIssue } from "./views";

export { ApiAccessSchema } from "./api-access";
export { BaselineSchema, SUDO_MODES, UserSchema } from "./baseline";
export { CephPoolSchema, CephSchema } from "./ceph";
export { ClusterSchema } from "./cluster";
export { QDeviceSchema } from "./qdevice";
export { CertificatesSchema, LETSENCRYPT_DIRECTORY, isDnsName } from "./certificates";
export { FirewallRuleSchema, FirewallSchema } from "./firewall";
export { SdnNetworkSchema, SdnSchema } from "./sdn";
export { show } from "./messages";
export { HaSchema, ImageSchema, TemplateSchema, VmSchema, userImageEntry, type ImageConfig } from "./guests";
export { InterfaceSchema } from "./interfaces";
export { HOST_ARCHES, HOST_DISTROS, HostSchema } from "./hosts";
export { K3S_ARCHES, K3sClusterSchema, K3sSchema } from "./k3s";
export { TALOS_VPS_PLATFORMS, TalosClusterSchema, TalosSchema } from "./talos";
export { LinodeFirewallRuleSchema, LinodeInstanceSchema, LinodeSchema, isLinodeLabel, isLinodeRegion, isLinodeType } from "./linode";
export { NetworkSchema } from "./networks";
export {
  NodeSchema,
  NodeThunderboltSchema,
  OsdDeviceSchema,
  ProxmoxSchema,
  PveInstallSchema,
  SshSchema,
  ThunderboltPortSchema,
  ThunderboltSchema,
} from "./nodes";
export {
  BOND_MODES,
  HASH_POLICIES,
  INTERFACE_TYPES,
  MTU_MAX,
  MTU_MIN,
  isCidr,
  isCidrSyntax,
  isClusterName,
  isDevicePath,
  hostKeyFromKeygenLine,
  isHostKey,
  isIfName,
  isIPv4,
  isLabel,
  isLinuxUser,
  isMtu,
  isPciPath,
  isSafeText,
  isSshPublicKey,
  isVlanId,
  isVlanIdsEntry,
} from "./predicates";
export { SECURE_PLACEHOLDER, SecretsSchema, crossCheckSecrets, type Secrets } from "./secrets";
export type { PathIssue } from "./views";

const EnvironmentObject = mapping(
  {
    name: envName(),
    /**
     * A production environment: no destroy switch (cluster.dissolveOnDelete, ceph.destroyOnDelete,
     * k3s uninstallOnDestroy) may be on, here and under the policy pack. Defaults to false.
     */
    production: bool().default(false),
    ssh: SshSchema.prefault({}),
    networks: list(NetworkSchema, "a list of networks"),
    /** Proxmox VE nodes. Defaults to none (an environment of plain hosts or Linode instances only). */
    nodes: list(NodeSchema, "a list of nodes").default([]),
    /** What nodes marked `install: { from: debian }` get: the Proxmox VE major. */
    proxmox: ProxmoxSchema.optional(),
    /** Existing Linux hosts (not Proxmox) reached over SSH: they get the baseline and can serve K3s. */
    hosts: list(HostSchema, "a list of hosts").default([]),
    /** Linode instances, created and then provisioned like hosts. */
    linode: LinodeSchema.optional(),
    /** K3s clusters on hosts, Linode instances or VMs. */
    k3s: K3sSchema.prefault({}),
    /** Talos Kubernetes clusters on Proxmox VMs or rescue-mode VPS hosts. */
    talos: TalosSchema.prefault({}),
    thunderbolt: ThunderboltSchema.optional(),
    cluster: ClusterSchema.optional(),
    /** Repositories, packages and login accounts of every node. */
    baseline: BaselineSchema.prefault({}),
    /** Automation user and API token (created once the cluster exists). Needs `cluster`. */
    apiAccess: ApiAccessSchema.optional(),
    /** API certificates: ACME or your own per node (the others keep the cluster CA's). Needs apiAccess. */
    certificates: CertificatesSchema.optional(),
    /** Ceph on the cluster: monitors, managers, OSDs (nodes[].osds) and pools. Needs `cluster`. */
    ceph: CephSchema.optional(),
    /** The Proxmox firewall of the cluster (aliases, IP sets, rules, node options). Needs `cluster` and `apiAccess`. */
    firewall: FirewallSchema.optional(),
    /** Isolated guest networks (SDN zones, VNets, subnets). Needs `cluster` and `apiAccess`. */
    sdn: SdnSchema.prefault({}),
    /** Extra images, or overrides of built-in ones, by name (see ImageSchema). */
    // Keys are checked in checkGuests (a record key schema's message can't name the key).
    images: z
      .record(z.string(), ImageSchema, { error: (iss) => (iss.code === "invalid_type" ? notA(iss.input, "a mapping of image name to image") : undefined) })
      .default({}),
    /** Where cloud-init snippets (the guest-agent vendor data) are written: a directory storage present on every node. */
    snippets: mapping(
      {
        /** Storage ID; homelab enables its `snippets` content type. Defaults to local. */
        storage: storageId().default("local"),
        /** The storage's path on the nodes (snippets go to <path>/snippets). Defaults to /var/lib/vz (local's). */
        path: text("an absolute path", (v) => /^\/[A-Za-z0-9._/-]{0,200}$/.test(v) && !v.split("/").includes("..")).default("/var/lib/vz"),
      },
      "a mapping of snippet storage settings",
    ).prefault({}),
    /** Cloud-init VM templates (need apiAccess: images are downloaded with the API). */
    templates: list(TemplateSchema, "a list of templates").default([]),
    /** First VMID of VMs that have none. Defaults to 200. */
    vmidBase: integer("a VMID", 100, 999999000).default(200),
    /** VMs cloned from templates (need apiAccess). */
    vms: list(VmSchema, "a list of VMs").default([]),
    /** HA placements for VMs. */
    ha: HaSchema.prefault({}),
  },
  "an environment (a mapping with name, networks and nodes, hosts or linode)",
);

export const EnvironmentSchema = EnvironmentObject.superRefine(
  (value, ctx) => {
    const layout = crossCheck(value);
    // Operation checks look at addresses per network; with a broken layout they would only echo it.
    const operations = crossCheckOperations(value, layout.length === 0);
    for (const issue of [...layout, ...operations]) {
      ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    }
  },
  // Also when some fields failed: the cross checks only use values that passed.
  { when: (payload) => isRecord(payload.value) },
);

export type Environment = z.output<typeof EnvironmentSchema>;
export type EnvironmentInput = z.input<typeof EnvironmentSchema>;
export type Ssh = Environment["ssh"];
export type Network = Environment["networks"][number];
export type Node = Environment["nodes"][number];
export type Interface = Node["interfaces"][number];
export type InterfaceType = Interface["type"];
export type NicInterface = Extract<Interface, { type: "nic" }>;
export type BondInterface = Extract<Interface, { type: "bond" }>;
export type BridgeInterface = Extract<Interface, { type: "bridge" }>;
export type VlanInterface = Extract<Interface, { type: "vlan" }>;
export type BondMode = BondInterface["mode"];
export type NodeThunderbolt = NonNullable<Node["thunderbolt"]>;
export type ThunderboltPort = NodeThunderbolt["ports"][number];
export type Thunderbolt = NonNullable<Environment["thunderbolt"]>;
export type Cluster = NonNullable<Environment["cluster"]>;
export type QDeviceConfig = NonNullable<Cluster["qdevice"]>;
export type User = Environment["baseline"]["users"][number];
export type ApiAccessConfig = NonNullable<Environment["apiAccess"]>;
export type CephConfig = NonNullable<Environment["ceph"]>;
export type CertificatesConfig = NonNullable<Environment["certificates"]>;
export type CephPool = CephConfig["pools"][number];
export type OsdDevice = Node["osds"][number];
export type PveInstallConfig = NonNullable<Node["install"]>;
export type Template = Environment["templates"][number];
export type VmConfig = Environment["vms"][number];
export type HaPlacementConfig = Environment["ha"]["placements"][number];
export type Host = Environment["hosts"][number];
export type LinodeConfig = NonNullable<Environment["linode"]>;
export type LinodeInstanceConfig = LinodeConfig["instances"][number];
export type FirewallConfig = NonNullable<Environment["firewall"]>;
export type SdnNetworkConfig = Environment["sdn"]["networks"][number];
export type K3sClusterConfig = Environment["k3s"]["clusters"][number];
export type TalosClusterConfig = Environment["talos"]["clusters"][number];
export type TalosNodeConfig = TalosClusterConfig["controlPlanes"][number];

/**
 * The cross-field checks of the layout (networks, nodes and their interfaces,
 * cluster links), on a possibly partly invalid environment value. Each check
 * only uses fields that passed their own validation, and a check that needs a
 * complete picture (e.g. "some interface has this address") is skipped when a
 * field it depends on is invalid.
 */
export function crossCheck(value: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message });
  if (!isRecord(value)) return issues;
  const networks = checkNetworks(value, add);
  const ring = checkRingNetwork(value, networks, add);
  const nodes = checkNodes(value, networks, ring, add);
  checkClusterLinks(value, nodes, networks, ring, add);
  return issues;
}

/** Checks of the fields that drive operations rather than the network layout. */
export function crossCheckOperations(value: unknown, layoutIsValid: boolean): PathIssue[] {
  if (!isRecord(value)) return [];
  const nodes = Array.isArray(value.nodes) ? value.nodes.filter(isRecord) : [];
  return [
    ...checkMigration(value, nodes, layoutIsValid),
    ...checkQDevice(value),
    ...checkCertificates(value),
    ...checkApiAccess(value),
    ...checkOsdDevices(nodes),
    ...checkPveInstalls(value, nodes),
    ...checkCeph(value, nodes, layoutIsValid),
    ...checkGuests(value, nodes),
    ...checkFirewall(value),
    ...checkSdn(value),
    ...checkUsers(value),
    ...checkCephRelease(value),
    ...checkKernelSettings(value),
    ...checkMachines(value),
    ...checkHostNames(value),
    ...checkK3s(value),
    ...checkProduction(value),
    ...checkTalos(value),
  ];
}

/** An environment has machines: Proxmox nodes, hosts, Linode instances or VPS Talos nodes; Proxmox features need nodes. */
function checkMachines(value: Record<string, unknown>): PathIssue[] {
  const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  const nodes = count(value.nodes);
  const linode = isRecord(value.linode) ? count(value.linode.instances) : 0;
  const talos = isRecord(value.talos) && Array.isArray(value.talos.clusters) ? value.talos.clusters.filter(isRecord) : [];
  const vps = talos.filter((c) => c.vps !== undefined).reduce((n, c) => n + count(c.controlPlanes) + count(c.workers), 0);
  if (nodes + count(value.hosts) + linode + vps === 0) {
    return [{ path: [], message: "no machines; list Proxmox nodes (nodes), existing hosts (hosts), Linode instances (linode.instances) or a Talos cluster on VPS hosts (talos.clusters[].vps)" }];
  }
  if (nodes > 0) return [];
  return (["cluster", "apiAccess", "ceph", "thunderbolt", "certificates", "firewall"] as const)
    .filter((key) => value[key] !== undefined)
    .map((key) => ({ path: [key], message: "needs Proxmox nodes (nodes is empty)" }));
}

const SECRET_KEY = /^(?:password|passwd|secret|token|apiToken|rootPass(?:word)?|.*(?:Password|Secret|Token))$/;

/**
 * A password, token or secret typed into the plain environment: it belongs in
 * homelab:secrets (or the provider's secret config). Run on the raw value (zod
 * drops unknown keys, where a pasted secret is likeliest); never echoes it.
 */
export function checkPlainSecrets(value: unknown, path: (string | number)[] = []): PathIssue[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => checkPlainSecrets(v, [...path, i]));
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    SECRET_KEY.test(key) && (typeof v === "string" || typeof v === "number")
      ? [{ path: [...path, key], message: "a secret in plain text; set it with `pulumi config set --secret` (homelab:secrets, or linode:token for the Linode API)" }]
      : checkPlainSecrets(v, [...path, key]),
  );
}

