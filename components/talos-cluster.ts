import * as k8s from "@pulumi/kubernetes";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { TalosNodePlan } from "../infra/providers/talos/node-plan";
import { KubernetesNodesReady } from "../infra/providers/talos/nodes-ready";
import { TalosClusterResource, type TalosNodeSpec } from "../infra/providers/talos/talos-cluster";
import { childOptions, refuse } from "./child-options";

/** Type token of the TalosCluster component. */
export const TALOS_CLUSTER_TYPE = "homelab:talos:Cluster";

/** One Talos node: its address and its own patches. */
export interface TalosNode {
  /** Node name (the Kubernetes node name; Talos takes it from the platform, never from a hostname patch). */
  name: string;
  /** The node's IPv4 address, reachable from the machine running Pulumi. */
  address: string;
  /** Patches of this node only (YAML text). Defaults to none. */
  patches?: string[];
  /** Disk Talos installs to. Defaults to the provider's choice. */
  installDisk?: string;
}

/** Arguments of one Talos cluster. */
export interface TalosClusterArgs {
  /** Cluster name (stack output key `kubernetes.<clusterName>`). */
  clusterName: string;
  /** Talos release, e.g. "v1.11.5". */
  talosVersion: string;
  /** Kubernetes release, e.g. "v1.34.1". */
  kubernetesVersion: string;
  /** The talosctl executable and the version it must report. */
  talosctl: { path: string; version: string };
  /** Image Factory schematic id: the installer image carries its extensions across upgrades. */
  schematic: string;
  /** Control planes: 1, 3 or 5 (etcd needs a majority). */
  controlPlanes: TalosNode[];
  /** Workers. Defaults to none. */
  workers?: TalosNode[];
  /** Layer-2 VIP of the control planes; the kubeconfig points at it. Defaults to none. */
  vip?: string;
  /** Patches of every node, of control planes and of workers. Default to none. */
  patches?: { cluster?: string[]; controlPlane?: string[]; worker?: string[] };
  /** "cilium": Talos's CNI and kube-proxy off, Cilium installed with Helm after bootstrap; "flannel": Talos's own. */
  cni: "cilium" | "flannel";
  /** Cilium Helm chart version (with cni cilium). */
  ciliumVersion?: string;
  /** Changing it regenerates the cluster's secrets. Defaults to none. */
  secretsRotation?: string;
  /** How long every node may take to become Ready. Defaults to 600 s. */
  readyTimeoutSeconds?: number;
}

const EXACT_VERSION = /^v\d+\.\d+\.\d+$/;
const CHART_VERSION = /^\d+\.\d+\.\d+$/;
const SCHEMATIC = /^[0-9a-f]{64}$/;

/** What is wrong with a cluster's arguments, one sentence per problem naming the field and the fix. */
export function talosClusterProblems(args: TalosClusterArgs): string[] {
  const problems: string[] = [];
  const cps = args.controlPlanes.length;
  if (cps === 0 || cps % 2 === 0) problems.push(`controlPlanes: ${cps} given; give 1, or an odd number (3, 5) for etcd's majority`);
  for (const [field, v] of [["talosVersion", args.talosVersion], ["kubernetesVersion", args.kubernetesVersion], ["talosctl.version", args.talosctl.version]] as const) {
    if (!EXACT_VERSION.test(v)) problems.push(`${field}: "${v}" is not an exact release like "v1.11.5"`);
  }
  if (!SCHEMATIC.test(args.schematic)) problems.push(`schematic: "${args.schematic}" is not an Image Factory schematic id (64 hex digits)`);
  if (args.cni === "cilium" && !(args.ciliumVersion !== undefined && CHART_VERSION.test(args.ciliumVersion))) {
    problems.push(`ciliumVersion: ${JSON.stringify(args.ciliumVersion ?? null)} is not a pinned chart version like "1.18.0"`);
  }
  const seen = new Set<string>();
  for (const n of [...args.controlPlanes, ...(args.workers ?? [])]) {
    if (seen.has(n.address)) problems.push(`${n.name}.address: "${n.address}" is the address of another node`);
    seen.add(n.address);
  }
  if (args.vip !== undefined && seen.has(args.vip)) problems.push(`vip: "${args.vip}" is a node's address; the VIP must be a free address`);
  return problems;
}

/** Cilium's values for Talos (KubePrism on localhost:7445, Talos's cgroup mount, SYS_MODULE dropped), kube-proxy replaced. */
export const CILIUM_TALOS_VALUES = {
  ipam: { mode: "kubernetes" },
  kubeProxyReplacement: true,
  securityContext: {
    capabilities: {
      ciliumAgent: ["CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN", "SYS_RESOURCE", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
      cleanCiliumState: ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"],
    },
  },
  cgroup: { autoMount: { enabled: false }, hostRoot: "/sys/fs/cgroup" },
  k8sServiceHost: "localhost",
  k8sServicePort: 7445,
};

/** Cilium's Helm repository. */
const CILIUM_REPO = "https://helm.cilium.io/";
const DEFAULT_READY_TIMEOUT_S = 600;

/**
 * A Talos Kubernetes cluster on machines that already boot Talos (VMs from
 * the Factory ISO, or disks written with the Factory image): secrets, machine
 * configs, bootstrap and kubeconfig through the TalosCluster resource
 * (talosctl), then Cilium with Helm through a Kubernetes provider built from
 * that kubeconfig, then a bounded wait until every node is Ready. The
 * kubeconfig and talosconfig stay secrets.
 */
export class TalosCluster extends pulumi.ComponentResource {
  /** Admin kubeconfig; a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** talosconfig with its endpoints set; a secret. */
  readonly talosconfig: pulumi.Output<string>;
  /** `https://<vip or first control plane>:6443`. */
  readonly apiEndpoint: string;
  /** Control planes' addresses (the talosconfig's endpoints). */
  readonly endpoints: string[];
  /** Node names (control planes, then workers). */
  readonly nodes: string[];
  /** The talosctl-driven resource, for ordering tests and dependents. */
  readonly cluster: TalosClusterResource;
  /** The Cilium release (with cni cilium). */
  readonly cilium?: k8s.helm.v3.Release;
  /** The wait until every node is Ready. */
  readonly ready: KubernetesNodesReady;

  constructor(name: string, args: TalosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const workers = args.workers ?? [];
    const all = [...args.controlPlanes, ...workers];
    super(TALOS_CLUSTER_TYPE, name, { clusterName: args.clusterName, talosVersion: args.talosVersion, nodes: all.map((n) => n.name) }, opts);
    const problems = talosClusterProblems(args);
    if (problems.length > 0) refuse(this, name, problems);

    const apiHost = args.vip ?? args.controlPlanes[0].address;
    this.apiEndpoint = `https://${apiHost}:6443`;
    this.endpoints = args.controlPlanes.map((n) => n.address);
    this.nodes = all.map((n) => n.name);
    const spec = (n: TalosNode, role: TalosNodeSpec["role"]): TalosNodeSpec => ({
      name: n.name,
      address: n.address,
      role,
      patches: n.patches ?? [],
      ...(n.installDisk ? { installDisk: n.installDisk } : {}),
    });
    this.cluster = new TalosClusterResource(
      `${name}-cluster`,
      {
        clusterName: args.clusterName,
        talosVersion: args.talosVersion,
        // talosctl takes the Kubernetes release without the "v" the stack file pins it with.
        kubernetesVersion: args.kubernetesVersion.replace(/^v/, ""),
        talosctl: args.talosctl,
        // The Factory installer of this schematic: with the plain installer an upgrade would drop the extensions.
        installImage: `factory.talos.dev/installer/${args.schematic}:${args.talosVersion}`,
        // The host: the provider builds the talosconfig endpoints and the kubeconfig's https://<host>:6443.
        endpoint: apiHost,
        vip: args.vip,
        nodes: [...args.controlPlanes.map((n) => spec(n, "controlplane")), ...workers.map((n) => spec(n, "worker"))],
        clusterPatches: args.patches?.cluster ?? [],
        controlPlanePatches: args.patches?.controlPlane ?? [],
        workerPatches: args.patches?.worker ?? [],
        cniNone: args.cni === "cilium",
        secretsRotation: args.secretsRotation,
        readyTimeoutMs: (args.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_S) * 1000,
      },
      childOptions(this, opts),
    );
    // One plan per node: the preview names the nodes a change reaches, and the ones it reinstalls.
    const installImage = `factory.talos.dev/installer/${args.schematic}:${args.talosVersion}`;
    for (const [role, nodes] of [["controlplane", args.controlPlanes], ["worker", workers]] as const) {
      for (const n of nodes) {
        const rolePatches = role === "controlplane" ? args.patches?.controlPlane : args.patches?.worker;
        const config = createHash("sha256")
          .update(JSON.stringify([args.talosVersion, args.kubernetesVersion, args.vip ?? "", args.cni, args.patches?.cluster ?? [], rolePatches ?? [], n.patches ?? []]))
          .digest("hex");
        new TalosNodePlan(
          `${name}-${n.name}-plan`,
          { cluster: args.clusterName, node: n.name, role, config, install: `${installImage} on ${n.installDisk ?? "/dev/sda"}` },
          { parent: this },
        );
      }
    }
    this.kubeconfig = pulumi.secret(this.cluster.kubeconfig);
    this.talosconfig = pulumi.secret(this.cluster.talosconfig);

    let installed: pulumi.Resource = this.cluster;
    if (args.cni === "cilium") {
      // The ecosystem's way: a Kubernetes provider from the kubeconfig (a secret), Cilium as a Helm release.
      const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { parent: this, dependsOn: [this.cluster] });
      this.cilium = new k8s.helm.v3.Release(
        `${name}-cilium`,
        {
          name: "cilium",
          chart: "cilium",
          version: args.ciliumVersion,
          namespace: "kube-system",
          repositoryOpts: { repo: CILIUM_REPO },
          values: CILIUM_TALOS_VALUES,
        },
        { parent: this, provider, dependsOn: [this.cluster] },
      );
      installed = this.cilium;
    }
    this.ready = new KubernetesNodesReady(
      `${name}-nodes-ready`,
      { kubeconfig: this.kubeconfig, nodeNames: this.nodes, timeoutMs: (args.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_S) * 1000 },
      { parent: this, dependsOn: [installed] },
    );
    this.registerOutputs({ kubeconfig: this.kubeconfig, talosconfig: this.talosconfig, apiEndpoint: this.apiEndpoint, nodes: this.nodes });
  }
}
