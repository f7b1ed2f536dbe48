import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";

/** Type token of the K3sCluster component. */
export const K3S_CLUSTER_TYPE = "homelab:k3s:Cluster";

/** CPU architectures K3s ships binaries for that this component installs. */
export type K3sArch = "amd64" | "arm64";

/** One machine of a K3s cluster, reached over SSH. */
export interface K3sHost {
  /** Node name in the cluster (also the host's name in every error). */
  name: string;
  /** How to reach the host over SSH. */
  access: NodeAccess;
  /** The node's IP address in the cluster (`--node-ip`). */
  address: string;
  /** The host's CPU architecture; picks the binary and its pinned checksum. */
  arch: K3sArch;
  /** Node labels (`--node-label key=value`). Defaults to none. */
  labels?: Record<string, string>;
  /** Node taints (`--node-taint key=value:Effect`). Defaults to none. */
  taints?: string[];
}

/** Checksum pins that replace the built-in ones (a newer release, or a test's fake artifacts). */
export type K3sArtifactPins = Partial<Record<K3sArch, { binarySha256: string }>> & { installScriptSha256?: string };

/** Arguments of one K3s cluster. */
export interface K3sClusterArgs {
  /** Cluster name (stack output key `kubernetes.<clusterName>`). */
  clusterName: string;
  /** K3s release, e.g. "v1.31.5+k3s1". */
  version: string;
  /** Server nodes: 1 (plain), or an odd number >= 3 (embedded etcd). */
  servers: K3sHost[];
  /** Agent nodes, joined after the servers. Defaults to none. */
  agents?: K3sHost[];
  /** VIP or DNS name added to the TLS SANs; the kubeconfig points at it. Defaults to the first server's address. */
  apiAddress?: string;
  /** Cluster join token; a secret (a random.RandomPassword from the caller). */
  token: pulumi.Input<string>;
  /** Run k3s-uninstall.sh / k3s-agent-uninstall.sh on destroy. Defaults to false (K3s stays installed). */
  uninstallOnDestroy?: boolean;
  /** Checksum pins overriding the built-in ones for `version`. Defaults to the built-in pins. */
  artifacts?: K3sArtifactPins;
}

/**
 * A K3s cluster installed over SSH on any set of Linux hosts.
 * (Interface first; the body follows in later commits.)
 */
export class K3sCluster extends pulumi.ComponentResource {
  /** Admin kubeconfig with the server address set to the API address; a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** `https://<apiAddress>:6443`. */
  readonly apiEndpoint: pulumi.Output<string>;
  /** Names of the cluster's nodes (servers, then agents). */
  readonly nodes: pulumi.Output<string[]>;

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(K3S_CLUSTER_TYPE, name, { clusterName: args.clusterName, version: args.version }, opts);
    const apiAddress = args.apiAddress ?? args.servers[0]?.address ?? "";
    this.kubeconfig = pulumi.secret("");
    this.apiEndpoint = pulumi.output(`https://${apiAddress}:6443`);
    this.nodes = pulumi.output([...args.servers, ...(args.agents ?? [])].map((h) => h.name));
    this.registerOutputs({ kubeconfig: this.kubeconfig, apiEndpoint: this.apiEndpoint, nodes: this.nodes });
  }
}
