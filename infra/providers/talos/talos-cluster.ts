/**
 * TalosCluster resource: a Talos Linux cluster driven by `talosctl` from the
 * machine that runs Pulumi, as one resource, because its steps span the nodes
 * and must happen once: secrets generated once, machine configs applied
 * (maintenance mode first, through the talosconfig afterwards), etcd
 * bootstrapped once on one control plane, the kubeconfig fetched.
 *
 * A dynamic provider: the Pulumi Talos provider package (@pulumiverse/talos)
 * is not in this project's registry, and @pulumi/command has no read and no
 * diff, so it could not tell a bootstrapped cluster from a new one.
 *
 * - Secrets (`talosctl gen secrets`) are made on the first create and kept in
 *   state; only a new `secretsRotation` value makes new ones, and only while
 *   no node runs with the old ones (Talos rotates a running cluster's CAs
 *   with `talosctl rotate-ca`, which this does not do).
 * - Configs are a function of secrets and inputs; a node gets its config
 *   again only when its sha256 differs from the one applied (`configHashes`)
 *   or the node is back in maintenance mode.
 * - A run that fails after the first config was applied still records what
 *   it did (secrets, talosconfig, the hashes applied): the error carries the
 *   partial state, which the engine stores, so the next run finishes instead
 *   of starting a second cluster with new secrets.
 * - `delete` leaves the nodes alone: resetting Talos wipes them, which is the
 *   VMs' (or the operator's) business.
 * - Talos and Kubernetes upgrades (`talosctl upgrade`, `upgrade-k8s`) are not
 *   done here: a new installImage or version reaches the nodes' configs, not
 *   the running OS.
 */
import * as pulumi from "@pulumi/pulumi";
import { errorMessage } from "../../errors";
import { isUnknown, stableJson } from "../diff";
import { withLocalTool, yamlSecretValues, type LocalTool } from "./local-tool";
import { genSecrets, renderConfigs, withEndpoints, type RenderedNode } from "./talos-configs";
import { applyConfig, bootstrap, checkTalosctlVersion, etcdRunning, fetchKubeconfig, probeNode, waitForNode, type NodeReach } from "./talosctl-steps";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const TALOS_CLUSTER_PROVIDER_VERSION = "1";

export type TalosRole = "controlplane" | "worker";

export interface TalosNodeSpec {
  /** Node name, in messages and as the key of configHashes (the hostname comes from DHCP/nocloud, never a hostname patch). */
  name: string;
  /** IPv4 address the Talos API (50000) answers on. */
  address: string;
  role: TalosRole;
  /** Per-node config patches, each a YAML (or JSON) document, strategic merge. */
  patches: string[];
  /** Install disk. Defaults to gen config's default, /dev/sda (Proxmox's virtio-scsi disks); virtio-blk disks are /dev/vda. */
  installDisk?: string;
}

export interface TalosClusterInputs {
  providerVersion: string;
  clusterName: string;
  /** Pinned, e.g. "v1.11.5". */
  talosVersion: string;
  /** Pinned, e.g. "1.34.1". */
  kubernetesVersion: string;
  /** The binary this runs; its client version must be `version`, or nothing is changed. */
  talosctl: { path: string; version: string };
  /** factory.talos.dev/installer/<64-hex schematic>:<talosVersion> */
  installImage: string;
  /** Cluster endpoint host: the VIP when set, else the first control plane's address. */
  endpoint: string;
  /** Control-plane VIP on the physical interface. */
  vip?: string;
  /** Control planes and workers. */
  nodes: TalosNodeSpec[];
  clusterPatches: string[];
  controlPlanePatches: string[];
  workerPatches: string[];
  /** Cilium replaces flannel and kube-proxy: CNI none, proxy disabled. */
  cniNone: boolean;
  /** A new value (and only that) makes a new secrets bundle. */
  secretsRotation?: string;
  /** Bound of each wait (node up, bootstrap, kubeconfig). Defaults to 10 minutes. */
  readyTimeoutMs?: number;
}

export interface TalosClusterOutputs extends TalosClusterInputs {
  /** Secret. `talosctl gen secrets` YAML. */
  secrets: string;
  /** Secret. Endpoints set to the control planes' addresses. */
  talosconfig: string;
  /** Secret. Server https://<endpoint>:6443. */
  kubeconfig: string;
  /** Control plane that was bootstrapped ("" until then, or when refresh finds no etcd running). */
  bootstrapNode: string;
  /** Node name -> sha256 of the machine config applied ("" when refresh finds the node back in maintenance mode). */
  configHashes: Record<string, string>;
}

const DEFAULT_READY_TIMEOUT_MS = 600_000;

/** Inputs the diff compares; any change is an update (a replacement would be a second cluster). */
const INPUT_KEYS = [
  "providerVersion",
  "clusterName",
  "talosVersion",
  "kubernetesVersion",
  "talosctl",
  "installImage",
  "endpoint",
  "vip",
  "nodes",
  "clusterPatches",
  "controlPlanePatches",
  "workerPatches",
  "cniNone",
  "secretsRotation",
  "readyTimeoutMs",
] as const;

/**
 * Refusals the inputs alone decide, made before anything runs (the stack
 * schema refuses the same configs by path). Values here also become talosctl
 * arguments and file names, so they must not look like flags or paths.
 */
export function talosClusterProblems(inputs: Partial<TalosClusterInputs>): string[] {
  const problems: string[] = [];
  const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  const name = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;
  if (inputs.clusterName !== undefined && !name.test(inputs.clusterName)) problems.push(`clusterName: "${inputs.clusterName}" must be lower-case letters, digits, "." and "-"`);
  if (inputs.talosVersion !== undefined && !/^v\d+\.\d+\.\d+$/.test(inputs.talosVersion)) problems.push(`talosVersion: "${inputs.talosVersion}" is not a pinned version like v1.11.5`);
  if (inputs.kubernetesVersion !== undefined && !/^\d+\.\d+\.\d+$/.test(inputs.kubernetesVersion)) problems.push(`kubernetesVersion: "${inputs.kubernetesVersion}" is not a pinned version like 1.34.1`);
  if (inputs.talosctl !== undefined && !/^v\d+\.\d+\.\d+$/.test(inputs.talosctl.version)) problems.push(`talosctl.version: "${inputs.talosctl.version}" is not a pinned version like v1.11.5`);
  if (inputs.installImage !== undefined && inputs.talosVersion !== undefined && /^v\d+\.\d+\.\d+$/.test(inputs.talosVersion) && !new RegExp(`^factory\\.talos\\.dev/installer/[0-9a-f]{64}:${inputs.talosVersion.replace(/\./g, "\\.")}$`).test(inputs.installImage)) {
    problems.push(`installImage: "${inputs.installImage}" is not factory.talos.dev/installer/<64 hex schematic>:${inputs.talosVersion}`);
  }
  if (inputs.endpoint !== undefined && !ipv4.test(inputs.endpoint) && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(inputs.endpoint)) problems.push(`endpoint: "${inputs.endpoint}" is not an IPv4 address or host name`);
  if (inputs.vip !== undefined && !ipv4.test(inputs.vip)) problems.push(`vip: "${inputs.vip}" is not an IPv4 address`);
  if (Array.isArray(inputs.nodes)) {
    const cps = inputs.nodes.filter((n) => n.role === "controlplane").length;
    if (cps === 0) problems.push("nodes: no control plane; a Talos cluster needs 1, 3 or 5");
    else if (cps % 2 === 0) problems.push(`nodes: ${cps} control planes; etcd needs an odd number (1, 3, 5) to keep quorum`);
    const seen = new Map<string, string>();
    for (const n of inputs.nodes) {
      if (!name.test(n.name)) problems.push(`nodes: name "${n.name}" must be lower-case letters, digits, "." and "-"`);
      if (!ipv4.test(n.address)) problems.push(`nodes: ${n.name}: address "${n.address}" is not an IPv4 address`);
      if (n.installDisk !== undefined && !/^\/dev\/[A-Za-z0-9/_.:-]+$/.test(n.installDisk)) problems.push(`nodes: ${n.name}: installDisk "${n.installDisk}" is not a /dev path`);
      for (const key of [`name ${n.name}`, `address ${n.address}`]) {
        if (seen.has(key)) problems.push(`nodes: ${n.name} and ${seen.get(key)} have the same ${key.split(" ")[0]} ${key.split(" ")[1]}`);
        seen.set(key, n.name);
      }
      if (inputs.vip !== undefined && n.address === inputs.vip) problems.push(`vip: ${inputs.vip} is also the address of ${n.name}`);
    }
  }
  return problems;
}

function controlPlanes(inputs: TalosClusterInputs): TalosNodeSpec[] {
  return inputs.nodes.filter((n) => n.role === "controlplane");
}

function rotationOf(inputs: { secretsRotation?: string }): string {
  return inputs.secretsRotation ?? "";
}

/** An error that carries the state reached so far: the engine records it (ErrorResourceInitFailed), so the next run is an update that finishes. */
function withPartialState(err: unknown, id: string, outs: TalosClusterOutputs): Error {
  const e = (err && typeof err === "object" ? err : new Error(String(err))) as Error & { id?: string; properties?: unknown; reasons?: string[] };
  e.id = id;
  e.properties = outs;
  e.reasons = [errorMessage(err)];
  return e;
}

/** Which nodes still run a config made from the previous secrets (they trust the old talosconfig). */
async function nodesOnOldSecrets(tool: LocalTool, olds: TalosClusterOutputs): Promise<string[]> {
  const path = await tool.write("talosconfig", olds.talosconfig);
  const found: string[] = [];
  for (const node of olds.nodes) {
    const reach = await probeNode(tool, node.name, node.address, path);
    if (reach.kind === "configured") found.push(node.name);
  }
  return found;
}

/**
 * Brings the cluster to `inputs`: every step reads the nodes first, so a run
 * on a converged cluster changes nothing and a run after a half-finished one
 * does only what is left.
 */
async function converge(inputs: TalosClusterInputs, olds: TalosClusterOutputs | undefined): Promise<TalosClusterOutputs> {
  const problems = talosClusterProblems(inputs);
  if (problems.length > 0) throw new Error(`${inputs.clusterName}: refusing to change anything:\n  - ${problems.join("\n  - ")}`);
  const id = `talos:${inputs.clusterName}`;
  const timeoutMs = inputs.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const oldSecrets = olds?.secrets ? [olds.secrets, olds.talosconfig, olds.kubeconfig].flatMap((t) => yamlSecretValues(t ?? "")) : [];
  return withLocalTool(inputs.talosctl.path, "talosctl", oldSecrets, async (tool) => {
    const cluster = inputs.clusterName;
    await checkTalosctlVersion(tool, cluster, inputs.talosctl.path, inputs.talosctl.version);
    const rotate = !olds?.secrets || rotationOf(olds) !== rotationOf(inputs);
    if (rotate && olds?.secrets) {
      const running = await nodesOnOldSecrets(tool, olds);
      if (running.length > 0) {
        throw new Error(
          `${cluster}: secretsRotation changed, but ${running.join(", ")} still run(s) with the current secrets; ` +
            `new secrets would lock this cluster out of them. Rotate a running cluster's CAs with \`talosctl rotate-ca\`, ` +
            `or reset the nodes to maintenance mode to rebuild it; or put secretsRotation back to ${JSON.stringify(rotationOf(olds))}`,
        );
      }
    }
    const secrets = rotate ? await genSecrets(tool, cluster, inputs.talosVersion) : olds!.secrets;
    tool.addSecrets(yamlSecretValues(secrets));
    const rendered = await renderConfigs(tool, inputs, secrets, rotate || !olds?.talosconfig);
    const endpoints = controlPlanes(inputs).map((n) => n.address);
    const talosconfig = await withEndpoints(tool, cluster, rendered.talosconfig ?? olds!.talosconfig, endpoints);
    tool.addSecrets(yamlSecretValues(talosconfig.text));

    // Every node must answer before the first change: a node that is not up yet fails the run here, with nothing applied.
    // Nodes that had a config are asked through the talosconfig first, new ones in maintenance mode first.
    const hadConfig = (n: TalosNodeSpec) => !rotate && Boolean(olds?.configHashes?.[n.name]);
    const reach: Record<string, NodeReach> = {};
    await Promise.all(
      inputs.nodes.map(async (node) => {
        reach[node.name] = await waitForNode(tool, node.name, node.address, talosconfig.path, timeoutMs, undefined, hadConfig(node) ? "configured" : "maintenance");
      }),
    );
    for (const node of inputs.nodes) {
      const r = reach[node.name];
      if (r.kind === "foreign") throw new Error(`${node.name}: talosctl get machinestatus: ${node.address} runs Talos configured by another cluster's secrets (${r.detail}); reset it to maintenance mode or remove it from nodes`);
    }

    const keepOld = !rotate && olds !== undefined;
    const outs: TalosClusterOutputs = {
      ...inputs,
      secrets,
      talosconfig: talosconfig.text,
      kubeconfig: keepOld && olds.endpoint === inputs.endpoint ? (olds.kubeconfig ?? "") : "",
      bootstrapNode: keepOld ? (olds.bootstrapNode ?? "") : "",
      configHashes: keepOld ? pickKnown(olds.configHashes ?? {}, inputs.nodes) : {},
    };
    try {
      await applyWhereNeeded(tool, inputs, rendered.nodes, reach, outs, talosconfig.path, timeoutMs);
      await bootstrapOnce(tool, inputs, outs, talosconfig.path, timeoutMs);
      if (outs.kubeconfig === "") {
        const cp = inputs.nodes.find((n) => n.name === outs.bootstrapNode) ?? controlPlanes(inputs)[0];
        outs.kubeconfig = await fetchKubeconfig(tool, cp.name, cp.address, talosconfig.path, timeoutMs);
      }
    } catch (err) {
      throw withPartialState(err, id, outs);
    }
    return outs;
  });
}

function pickKnown(hashes: Record<string, string>, nodes: TalosNodeSpec[]): Record<string, string> {
  return Object.fromEntries(nodes.filter((n) => hashes[n.name] !== undefined).map((n) => [n.name, hashes[n.name]]));
}

/** Applies each node's config where the node has none (maintenance) or another one; waits until it answers with it. */
async function applyWhereNeeded(
  tool: LocalTool,
  inputs: TalosClusterInputs,
  configs: Record<string, RenderedNode>,
  reach: Record<string, NodeReach>,
  outs: TalosClusterOutputs,
  talosconfigPath: string,
  timeoutMs: number,
): Promise<void> {
  const installing: TalosNodeSpec[] = [];
  for (const node of inputs.nodes) {
    const config = configs[node.name];
    const maintenance = reach[node.name].kind === "maintenance";
    if (!maintenance && outs.configHashes[node.name] === config.hash) continue;
    const said = await applyConfig(tool, node.name, node.address, config.path, talosconfigPath, maintenance);
    outs.configHashes[node.name] = config.hash;
    // A node is done when it answers through the talosconfig again. New nodes (--insecure: they install and
    // reboot) may do so together; a running node that reboots for its change is waited for before the next,
    // so a cluster never has two control planes down at once.
    if (maintenance) installing.push(node);
    else if (/with a reboot/.test(said)) await waitForNode(tool, node.name, node.address, talosconfigPath, timeoutMs, "configured");
  }
  await Promise.all(installing.map((node) => waitForNode(tool, node.name, node.address, talosconfigPath, timeoutMs, "configured")));
}

/** Bootstraps etcd unless a control plane already runs it (a run that failed after bootstrapping, or lost state). */
async function bootstrapOnce(tool: LocalTool, inputs: TalosClusterInputs, outs: TalosClusterOutputs, talosconfigPath: string, timeoutMs: number): Promise<void> {
  const cps = controlPlanes(inputs);
  for (const cp of cps) {
    if (await etcdRunning(tool, cp.name, cp.address, talosconfigPath)) {
      if (!cps.some((n) => n.name === outs.bootstrapNode)) outs.bootstrapNode = cp.name;
      return;
    }
  }
  const first = cps[0];
  await bootstrap(tool, first.name, first.address, talosconfigPath, timeoutMs);
  outs.bootstrapNode = first.name;
}

/** Node name -> reboot expected, for nodes whose install image or disk changes (Talos applies those with a reboot). */
function rebootingNodes(olds: TalosClusterOutputs, news: TalosClusterInputs): string[] {
  return news.nodes
    .filter((n) => {
      const old = olds.nodes?.find((o) => o.name === n.name);
      return old !== undefined && (olds.installImage !== news.installImage || old.installDisk !== n.installDisk);
    })
    .map((n) => n.name);
}

/** What diff returns: the SDK's fields, plus which nodes get a new config and which of them reboot. */
export interface TalosClusterDiff extends pulumi.dynamic.DiffResult {
  diffs: string[];
  /** `configHashes.<node>` for each node that gets a new config (what a detailed diff would show). */
  detailedDiff: Record<string, { kind: "add" | "update"; inputDiff: boolean }>;
  /** Nodes whose new config changes the install image or disk (applied with a reboot). */
  reboots: string[];
}

export const talosClusterProvider: pulumi.dynamic.ResourceProvider<TalosClusterInputs, TalosClusterOutputs> = {
  async check(_olds, news) {
    // Unknown values (preview) are checked at create/update time instead.
    const known = Object.fromEntries(Object.entries(news).filter(([, v]) => !isUnknown(v))) as Partial<TalosClusterInputs>;
    const failures = talosClusterProblems(known).map((reason) => ({ property: reason.split(/[:.\s[]/)[0], reason }));
    return { inputs: news, failures };
  },

  async create(inputs) {
    return { id: `talos:${inputs.clusterName}`, outs: await converge(inputs, undefined) };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const secrets = [props.secrets, props.talosconfig, props.kubeconfig].flatMap((t) => yamlSecretValues(t ?? ""));
    return withLocalTool(props.talosctl.path, "talosctl", secrets, async (tool) => {
      // The stored talosconfig has its endpoints set (converge wrote them).
      const path = await tool.write("talosconfig", props.talosconfig);
      const reach = await Promise.all(props.nodes.map((node) => probeNode(tool, node.name, node.address, path)));
      const configHashes: Record<string, string> = {};
      let etcd = false;
      for (const [i, node] of props.nodes.entries()) {
        const r = reach[i];
        if (r.kind === "down") throw new Error(`${node.name}: talosctl get machinestatus: cannot refresh, ${node.address}:50000 does not answer: ${r.detail}`);
        // A node back in maintenance mode (reinstalled, wiped) has lost its config: the next update applies it again.
        if (props.configHashes?.[node.name] !== undefined) configHashes[node.name] = r.kind === "configured" ? props.configHashes[node.name] : "";
        if (!etcd && node.role === "controlplane" && r.kind === "configured") etcd = await etcdRunning(tool, node.name, node.address, path);
      }
      return { id, props: { ...props, configHashes, bootstrapNode: etcd ? props.bootstrapNode : "" } };
    });
  },

  async diff(_id, olds, news): Promise<TalosClusterDiff> {
    const diffs: string[] = INPUT_KEYS.filter((k) => isUnknown(news[k]) || stableJson(olds[k]) !== stableJson(news[k]));
    // State a refresh or a half-finished run left incomplete is a change too: the update finishes it.
    const unfinished = !olds.bootstrapNode || !olds.kubeconfig || !olds.secrets || (olds.nodes ?? []).some((n) => !olds.configHashes?.[n.name]);
    if (unfinished) diffs.push("configHashes");
    const detailedDiff: TalosClusterDiff["detailedDiff"] = {};
    let reboots: string[] = [];
    if (diffs.length > 0 && !isUnknown(news)) {
      for (const [name, hash] of Object.entries(await desiredHashes(olds, news))) {
        const before = olds.configHashes?.[name];
        if (before !== hash) detailedDiff[`configHashes.${name}`] = { kind: before ? "update" : "add", inputDiff: false };
      }
      reboots = rebootingNodes(olds, news).filter((n) => detailedDiff[`configHashes.${n}`]);
    }
    return { changes: diffs.length > 0, replaces: [], deleteBeforeReplace: false, diffs, detailedDiff, reboots };
  },

  async update(_id, olds, news) {
    return { outs: await converge(news, olds) };
  },

  async delete() {
    // Nothing to undo on the nodes: resetting Talos wipes them; deleting the VMs is what removes a cluster.
  },
};

/** Each node's config hash under `news` with the stored secrets (all nodes new when the secrets rotate). Runs no mutating command. */
async function desiredHashes(olds: TalosClusterOutputs, news: TalosClusterInputs): Promise<Record<string, string>> {
  if (!olds.secrets || rotationOf(olds) !== rotationOf(news) || talosClusterProblems(news).length > 0) {
    return Object.fromEntries(news.nodes.map((n) => [n.name, "(new secrets)"]));
  }
  return withLocalTool(news.talosctl.path, "talosctl", yamlSecretValues(olds.secrets), async (tool) => {
    await checkTalosctlVersion(tool, news.clusterName, news.talosctl.path, news.talosctl.version);
    const { nodes } = await renderConfigs(tool, news, olds.secrets, false);
    return Object.fromEntries(Object.entries(nodes).map(([name, r]) => [name, r.hash]));
  });
}

/** Resource inputs as a program passes them. */
export type TalosClusterResourceArgs = { [K in keyof Omit<TalosClusterInputs, "providerVersion">]: pulumi.Input<TalosClusterInputs[K]> };

/** Registered as `pulumi-nodejs:dynamic/talos:Cluster`. */
export class TalosClusterResource extends pulumi.dynamic.Resource {
  declare readonly secrets: pulumi.Output<string>;
  declare readonly talosconfig: pulumi.Output<string>;
  declare readonly kubeconfig: pulumi.Output<string>;
  declare readonly bootstrapNode: pulumi.Output<string>;
  declare readonly configHashes: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: TalosClusterResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      talosClusterProvider,
      name,
      {
        ...args,
        providerVersion: TALOS_CLUSTER_PROVIDER_VERSION,
        secrets: undefined,
        talosconfig: undefined,
        kubeconfig: undefined,
        bootstrapNode: undefined,
        configHashes: undefined,
      },
      { ...opts, additionalSecretOutputs: ["secrets", "talosconfig", "kubeconfig", ...(opts?.additionalSecretOutputs ?? [])] },
      "talos",
      "Cluster",
    );
  }
}
