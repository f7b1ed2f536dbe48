/**
 * The hard rules of the policy pack as pure functions of what the policy
 * engine shows a policy: a resource's type token, name, properties (inputs
 * in a resource policy, outputs in a stack policy; secrets unwrapped, as
 * @pulumi/policy hands them over) and additionalSecretOutputs. index.ts wires
 * them into the PolicyPack; the tests call them directly and on the
 * registrations of mocked programs.
 *
 * They judge resources by type token and inputs, never by a stack file, so
 * they hold for any program built from our components and providers.
 */
import { ENVIRONMENT_MARKER_TYPE } from "../../components/environment-marker";

export interface PolicyResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  /** `opts.additionalSecretOutputs` as the engine reports it. */
  additionalSecretOutputs: readonly string[];
}

/** Type tokens the rules look at (the dynamic providers' `<module>:<Type>`). */
export const TYPES = {
  cluster: "pulumi-nodejs:dynamic/proxmox:Cluster",
  osds: "pulumi-nodejs:dynamic/ceph:Osds",
  environment: ENVIRONMENT_MARKER_TYPE,
} as const;

const DYNAMIC = "pulumi-nodejs:dynamic/";
const PROVIDER = "pulumi:providers:";

// ----------------------------------------------------------------------------------------------
// No Proxmox cluster under 3 votes unless allowed.

/**
 * Votes are the member nodes plus a QDevice when the cluster resource carries
 * one (`qdevice`/`qDevice`, an object): 2 nodes and a QDevice keep quorum
 * through the loss of one.
 */
export function clusterSizeViolations(r: PolicyResource): string[] {
  if (r.type !== TYPES.cluster) return [];
  const nodes = r.props.nodes;
  if (!Array.isArray(nodes)) return []; // unknown during preview: nothing to judge yet
  const qdevice = [r.props.qdevice, r.props.qDevice].some((q) => q !== undefined && q !== null && q !== false);
  const votes = nodes.length + (qdevice ? 1 : 0);
  if (votes >= 3 || r.props.allowSmallCluster === true) return [];
  const what = `${nodes.length} node${nodes.length === 1 ? "" : "s"}${qdevice ? " and a QDevice" : ""}`;
  return [`${r.name}: a Proxmox cluster of ${what} (${votes} votes) loses quorum when one member fails; add members or a QDevice, or set allowSmallCluster: true`];
}

// ----------------------------------------------------------------------------------------------
// No OSD on a wiped device unless that device says so.

/** Keys that would zap devices without naming them one by one. */
const BULK_WIPE = /^(?:wipe\w*|zap\w*)$/i;

/**
 * `ceph-volume lvm zap --destroy` runs only on a device whose own entry says
 * `wipe: true` (a boolean: "false" or 1 is truthy to the provider); no
 * resource-wide wipe or zap switch; and no device listed twice, where one
 * entry could wipe what the other keeps.
 */
export function osdWipeViolations(r: PolicyResource): string[] {
  if (r.type !== TYPES.osds) return [];
  const problems = Object.keys(r.props)
    .filter((k) => BULK_WIPE.test(k))
    .map((k) => `${r.name}: ${k} applies to every device; say wipe: true on each device that may be zapped`);
  const devices = Array.isArray(r.props.devices) ? r.props.devices : [];
  const seen = new Set<string>();
  devices.forEach((d, i) => {
    if (!d || typeof d !== "object") return;
    const { device, wipe } = d as { device?: unknown; wipe?: unknown };
    const name = typeof device === "string" ? device : `devices[${i}]`;
    if (wipe !== undefined && typeof wipe !== "boolean") {
      problems.push(`${r.name}: ${name} has wipe: ${JSON.stringify(wipe)}; only wipe: true (a boolean) on the device itself zaps it`);
    }
    if (typeof device === "string") {
      if (seen.has(device)) problems.push(`${r.name}: ${device} is listed twice; one entry per device says whether it may be wiped`);
      seen.add(device);
    }
  });
  return problems;
}

// ----------------------------------------------------------------------------------------------
// No destroy switches on production stacks.

/**
 * Inputs that make `pulumi destroy` (or removing a resource) destroy data or a
 * cluster: dissolveOnDelete (proxmox:Cluster), destroyOnDelete (ceph:Osds,
 * ceph:Pool), uninstallOnDestroy (k3s:Cluster), removeOnDelete (node:LinuxUser),
 * deleteUnreferencedDisksOnDestroy (native VMs), and any later `…OnDelete` /
 * `…OnDestroy` switch. Not switches: how a VM that is being destroyed is
 * stopped (stopOnDestroy) or taken out of backup jobs (purgeOnDestroy).
 */
const DESTROY_SWITCH = /(?:OnDelete|OnDestroy)$/;
const NOT_DESTROY_SWITCHES = new Set(["stopOnDestroy", "purgeOnDestroy"]);

export function destroySwitches(r: PolicyResource): string[] {
  return Object.keys(r.props)
    .filter((k) => DESTROY_SWITCH.test(k) && !NOT_DESTROY_SWITCHES.has(k) && r.props[k] === true)
    .sort();
}

/** Whether the resources include an environment marked production. */
export function isProduction(resources: readonly PolicyResource[]): boolean {
  return resources.some((r) => r.type === TYPES.environment && r.props.production === true);
}

export function destroySwitchViolations(resources: readonly PolicyResource[]): string[] {
  if (!isProduction(resources)) return [];
  return resources.flatMap((r) =>
    destroySwitches(r).map((k) => `${r.name} (${r.type}): ${k} is on in a production environment; set it false (or mark the environment production: false)`),
  );
}

// ----------------------------------------------------------------------------------------------
// No secret in plain text, in inputs or outputs.

/** Property names that hold a secret (tokenName, passwordLogin and the like do not). */
export const SECRET_NAME =
  /^(?:password|passwd|secret|token|apiToken|rootPass(?:word)?|privateKey\w*|kubeconfig|talosconfig|passwordHash(?:es)?|\w*(?:Password|Secret|Token|PrivateKey\w*|PasswordHash(?:es)?|Kubeconfig|Talosconfig))$/;
/** Key material, whatever property it sits in. */
const KEY_MATERIAL = [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, /\bK10[0-9a-f]{64}::/];

/**
 * Every property that holds a secret must be in additionalSecretOutputs, so
 * the engine stores it encrypted however the program passed it: one named as
 * a secret (at the top, or anywhere inside a dynamic provider's properties,
 * which it stores as they are), and one holding key material. The policy
 * engine unwraps secrets before a policy sees them, so the resource's own
 * declaration is what can be checked. Provider resources are left out: their
 * credentials come from secret config (and `npm run validate` refuses plain
 * ones).
 */
export function plainSecretViolations(r: PolicyResource): string[] {
  if (r.type.startsWith(PROVIDER)) return [];
  const declared = new Set(r.additionalSecretOutputs);
  const dynamic = r.type.startsWith(DYNAMIC);
  const problems: string[] = [];
  for (const [key, value] of Object.entries(r.props)) {
    if (declared.has(key) || value === undefined || value === null || typeof value === "boolean" || typeof value === "number") continue;
    const named = SECRET_NAME.test(key) ? [key] : dynamic ? secretPaths(value, key) : [];
    for (const path of named) problems.push(`${r.name} (${r.type}): ${path} holds a secret but ${key} is not in additionalSecretOutputs`);
    if (named.length === 0 && strings(value).some((s) => KEY_MATERIAL.some((re) => re.test(s)))) {
      problems.push(`${r.name} (${r.type}): ${key} holds key material in plain text; make it a secret listed in additionalSecretOutputs`);
    }
  }
  return problems;
}

function secretPaths(value: unknown, at: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretPaths(v, `${at}[${i}]`));
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) =>
    SECRET_NAME.test(k) && (typeof v === "string" || (v !== null && typeof v === "object")) ? [`${at}.${k}`] : secretPaths(v, `${at}.${k}`),
  );
}

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}
