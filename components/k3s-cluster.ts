import * as pulumi from "@pulumi/pulumi";
import { isLabelKey, isLabelValue, isNodeName, isTaint } from "../infra/kubernetes-names";
import type { HostAccess } from "../infra/providers/connection";
import { K3sClusterResource } from "../infra/providers/k3s/k3s-cluster";
import type { K3sNodeSpecInput } from "../infra/providers/k3s/k3s-node";
import { childOptions, refuse, sharedSshKey } from "./child-options";

/** Type token of the K3sCluster component. */
export const K3S_CLUSTER_TYPE = "homelab:k3s:Cluster";

/** CPU architectures K3s ships binaries for that this component installs. */
export type K3sArch = "amd64" | "arm64";

/** One machine of a K3s cluster, reached over SSH. */
export interface K3sHost {
  /** Node name in the cluster (also the host's name in every error). */
  name: string;
  /** How to reach the host over SSH (its address and host key may come from other resources). */
  access: HostAccess;
  /** The node's IP address in the cluster (`--node-ip`); may come from another resource (a new machine). */
  address: pulumi.Input<string>;
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
  apiAddress?: pulumi.Input<string>;
  /** Cluster join token; a secret (a random.RandomPassword from the caller). */
  token: pulumi.Input<string>;
  /** Run k3s-uninstall.sh / k3s-agent-uninstall.sh on destroy. Defaults to false (K3s stays installed). */
  uninstallOnDestroy?: boolean;
  /**
   * sha256 pins of the release's binaries and install.sh, overriding the
   * built-in ones for `version`. Defaults to the built-in pins (none yet:
   * the stack must give them).
   */
  artifacts?: K3sArtifactPins;
  /** How long each node may take to become Ready. Defaults to 300 s. */
  readyTimeoutSeconds?: number;
}

/** How long one node may take to become Ready after its unit starts. */
const DEFAULT_READY_TIMEOUT_S = 300;

/**
 * Built-in sha256 pins by K3s version. Empty on purpose: no checksum of a K3s
 * release could be verified against the published sha256sum-<arch>.txt files
 * when this was written, and an unverified pin is worse than none. Until a
 * release is added here, the stack gives `artifacts` (the values of
 * https://github.com/k3s-io/k3s/releases/download/<version>/sha256sum-<arch>.txt
 * and the sha256 of install.sh at the release tag); nothing is downloaded
 * without a pin.
 */
function builtInPins(version: string): K3sArtifactPins | undefined {
  const pins: Record<string, K3sArtifactPins> = {};
  return pins[version];
}

const SHA256 = /^[0-9a-f]{64}$/;
/** IPv4, IPv6 or a DNS name: what goes into --tls-san, --node-ip and the server URL. */
const ADDRESS = /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
const VERSION = /^v\d+\.\d+\.\d+\+k3s\d+$/;

/** What is wrong with a cluster's arguments, one sentence per problem naming the field and the fix. */
export function k3sClusterProblems(args: K3sClusterArgs): string[] {
  const hosts = [...args.servers, ...(args.agents ?? [])];
  const problems: string[] = [];
  if (!VERSION.test(args.version)) problems.push(`version: "${args.version}" is not a K3s release name like "v1.31.5+k3s1"`);
  if (args.servers.length === 0 || args.servers.length % 2 === 0) {
    problems.push(`servers: ${args.servers.length} given; give 1 server, or an odd number (3, 5, …) for embedded etcd`);
  }
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h.name)) problems.push(`nodes: "${h.name}" is listed twice`);
    seen.add(h.name);
    if (!isNodeName(h.name)) problems.push(`${h.name}: not a Kubernetes node name (lowercase letters, digits, "-" and ".")`);
    // An address another resource produces (a new machine's) is that provider's to get right.
    if (typeof h.address === "string" && !ADDRESS.test(h.address)) problems.push(`${h.name}.address: "${h.address}" is not an IP address or DNS name`);
    for (const t of h.taints ?? []) {
      if (!isTaint(t)) problems.push(`${h.name}.taints: "${t}" is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
    }
    for (const [k, v] of Object.entries(h.labels ?? {})) {
      if (!isLabelKey(k)) problems.push(`${h.name}.labels: "${k}" is not a Kubernetes label key`);
      else if (!isLabelValue(v)) problems.push(`${h.name}.labels.${k}: "${v}" is not a Kubernetes label value`);
    }
  }
  if (typeof args.apiAddress === "string" && !ADDRESS.test(args.apiAddress)) problems.push(`apiAddress: "${args.apiAddress}" is not an IP address or DNS name`);
  if (args.readyTimeoutSeconds !== undefined && !(Number.isInteger(args.readyTimeoutSeconds) && args.readyTimeoutSeconds > 0)) {
    problems.push(`readyTimeoutSeconds: ${args.readyTimeoutSeconds} is not a positive whole number of seconds`);
  }
  const pins = { ...builtInPins(args.version), ...args.artifacts };
  for (const arch of [...new Set(hosts.map((h) => h.arch))].sort()) {
    const sum = pins[arch]?.binarySha256;
    if (sum === undefined) {
      problems.push(
        `artifacts.${arch}.binarySha256: no checksum is pinned for K3s ${args.version} on ${arch}; ` +
          `give the "k3s${arch === "amd64" ? "" : "-" + arch}" line of sha256sum-${arch}.txt of that release`,
      );
    } else if (!SHA256.test(sum)) problems.push(`artifacts.${arch}.binarySha256: "${sum}" is not a sha256 (64 hex digits)`);
  }
  if (pins.installScriptSha256 === undefined) {
    problems.push(`artifacts.installScriptSha256: no checksum is pinned for install.sh of K3s ${args.version}; give the sha256 of install.sh at that tag`);
  } else if (!SHA256.test(pins.installScriptSha256)) {
    problems.push(`artifacts.installScriptSha256: "${pins.installScriptSha256}" is not a sha256 (64 hex digits)`);
  }
  return problems;
}

/**
 * A K3s cluster installed over SSH on any set of Linux hosts (see
 * infra/providers/k3s/k3s-cluster.ts for the order of the steps). The admin
 * kubeconfig, pointed at `apiAddress`, is a secret output.
 */
export class K3sCluster extends pulumi.ComponentResource {
  /** Admin kubeconfig with the server address set to the API address; a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** `https://<apiAddress>:6443`. */
  readonly apiEndpoint: pulumi.Output<string>;
  /** Names of the cluster's nodes (servers, then agents). */
  readonly nodes: pulumi.Output<string[]>;

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const agents = args.agents ?? [];
    const hosts = [...args.servers, ...agents];
    super(K3S_CLUSTER_TYPE, name, { clusterName: args.clusterName, version: args.version, nodes: hosts.map((h) => h.name) }, opts);

    const problems = k3sClusterProblems(args);
    if (problems.length > 0) refuse(this, name, problems);
    const pins = { ...builtInPins(args.version), ...args.artifacts };
    const arches = [...new Set(hosts.map((h) => h.arch))].sort();

    const apiAddress = args.apiAddress ?? args.servers[0].address;
    const sshPrivateKey = sharedSshKey(this, name, hosts.map((h) => h.access));
    const spec = (h: K3sHost, role: "server" | "agent"): K3sNodeSpecInput => ({
      name: h.name,
      connection: h.access.connection,
      address: h.address,
      arch: h.arch,
      role,
      labels: h.labels ?? {},
      taints: h.taints ?? [],
    });
    const cluster = new K3sClusterResource(
      `${name}-cluster`,
      {
        clusterName: args.clusterName,
        version: args.version,
        nodes: [...args.servers.map((h) => spec(h, "server")), ...agents.map((h) => spec(h, "agent"))],
        apiAddress,
        token: args.token,
        sshPrivateKey,
        pins: {
          installScriptSha256: pins.installScriptSha256 as string,
          binarySha256: Object.fromEntries(arches.map((a) => [a, pins[a]?.binarySha256 as string])),
        },
        uninstallOnDestroy: args.uninstallOnDestroy ?? false,
        readyTimeoutMs: (args.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_S) * 1000,
      },
      childOptions(this, opts),
    );

    this.kubeconfig = pulumi.secret(cluster.kubeconfig);
    this.apiEndpoint = pulumi.output(apiAddress).apply((a) => `https://${a.includes(":") ? `[${a}]` : a}:6443`);
    this.nodes = pulumi.output(hosts.map((h) => h.name));
    this.registerOutputs({ kubeconfig: this.kubeconfig, apiEndpoint: this.apiEndpoint, nodes: this.nodes });
  }
}
