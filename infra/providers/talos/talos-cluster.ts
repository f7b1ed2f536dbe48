/**
 * STUB of the TalosCluster resource (the real provider that drives talosctl
 * replaces this file): only the exported names and types, so the composition
 * compiles. Its provider refuses every operation.
 */
import * as pulumi from "@pulumi/pulumi";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const TALOS_CLUSTER_PROVIDER_VERSION = "1";

export type TalosRole = "controlplane" | "worker";

export interface TalosNodeSpec {
  name: string;
  address: string;
  role: TalosRole;
  patches: string[];
  installDisk?: string;
}

export interface TalosClusterInputs {
  providerVersion: string;
  clusterName: string;
  talosVersion: string;
  kubernetesVersion: string;
  talosctl: { path: string; version: string };
  installImage: string;
  endpoint: string;
  vip?: string;
  nodes: TalosNodeSpec[];
  clusterPatches: string[];
  controlPlanePatches: string[];
  workerPatches: string[];
  cniNone: boolean;
  secretsRotation?: string;
  readyTimeoutMs?: number;
}

export interface TalosClusterOutputs extends TalosClusterInputs {
  secrets: string;
  talosconfig: string;
  kubeconfig: string;
  bootstrapNode: string;
  configHashes: Record<string, string>;
}

const notImplemented: pulumi.dynamic.ResourceProvider = {
  async create() {
    throw new Error("talos:Cluster: not implemented");
  },
};

export class TalosClusterResource extends pulumi.dynamic.Resource {
  declare readonly kubeconfig: pulumi.Output<string>;
  declare readonly talosconfig: pulumi.Output<string>;
  declare readonly bootstrapNode: pulumi.Output<string>;

  constructor(name: string, args: { [K in keyof TalosClusterInputs]: pulumi.Input<TalosClusterInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(
      notImplemented,
      name,
      { ...args, secrets: undefined, talosconfig: undefined, kubeconfig: undefined, bootstrapNode: undefined, configHashes: undefined },
      { ...opts, additionalSecretOutputs: ["secrets", "talosconfig", "kubeconfig", ...(opts?.additionalSecretOutputs ?? [])] },
      "talos",
      "Cluster",
    );
  }
}
