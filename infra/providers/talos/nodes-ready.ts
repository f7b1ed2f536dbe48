/**
 * KubernetesNodesReady resource: a bounded wait until every expected node of
 * a cluster is Ready, with local `kubectl get nodes -o json` and the cluster's
 * kubeconfig (a secret input, written to a 0600 file in a private temp dir
 * that is removed afterwards). A failure names the nodes that are not Ready
 * and why, from their Ready condition (`KubeletNotReady: ... cni plugin not
 * initialized` while no CNI runs). Ordered after the CNI's Helm release.
 *
 * A dynamic provider rather than @pulumi/command: `read` looks again, so a
 * refresh sees a node that is no longer Ready (it drops out of `nodeNames`,
 * and the next update waits for it again).
 */
import * as pulumi from "@pulumi/pulumi";
import { isUnknown, sleep, stableJson } from "../diff";
import { withLocalTool, yamlSecretValues, type LocalTool } from "./local-tool";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const KUBERNETES_NODES_READY_PROVIDER_VERSION = "1";

export interface KubernetesNodesReadyInputs {
  providerVersion: string;
  /** Secret. */
  kubeconfig: string;
  /** Node names (Kubernetes node names, i.e. hostnames) that must be Ready. */
  nodeNames: string[];
  timeoutMs: number;
  /** kubectl binary. Defaults to `kubectl` on PATH. */
  kubectlPath?: string;
}

export type KubernetesNodesReadyOutputs = KubernetesNodesReadyInputs;

/** One node as the wait judges it. */
export interface NodeReadiness {
  name: string;
  ready: boolean;
  /** Why not: the Ready condition's status, reason and message. */
  why: string;
}

/** The Ready state of each node in `kubectl get nodes -o json` output. */
export function parseNodeReadiness(stdout: string): NodeReadiness[] {
  const list = JSON.parse(stdout) as {
    items?: { metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string; reason?: string; message?: string }[] } }[];
  };
  return (list.items ?? []).map((item) => {
    const cond = item.status?.conditions?.find((c) => c.type === "Ready");
    const ready = cond?.status === "True";
    const why = !cond ? "no Ready condition yet" : `Ready=${cond.status}${cond.reason ? ` (${cond.reason}${cond.message ? `: ${cond.message}` : ""})` : cond.message ? ` (${cond.message})` : ""}`;
    return { name: item.metadata?.name ?? "", ready, why };
  });
}

/** One look: which expected nodes are Ready, and a line for each that is not. */
async function look(tool: LocalTool, kubeconfigPath: string, expected: string[]): Promise<{ ready: string[]; notReady: string[]; apiError?: string }> {
  const args = ["get", "nodes", "--output", "json", "--kubeconfig", kubeconfigPath];
  const result = await tool.run("kubernetes", args);
  if (result.code !== 0) return { ready: [], notReady: [], apiError: tool.scrub((result.stderr || result.stdout).trim()) };
  let nodes: NodeReadiness[];
  try {
    nodes = parseNodeReadiness(result.stdout);
  } catch {
    throw new Error(`kubernetes: kubectl get nodes printed no JSON: ${tool.scrub(result.stdout.slice(0, 200))}`);
  }
  const ready: string[] = [];
  const notReady: string[] = [];
  for (const name of expected) {
    const node = nodes.find((n) => n.name === name);
    if (node?.ready) ready.push(name);
    else notReady.push(`${name}: ${node ? node.why : "not registered"}`);
  }
  return { ready, notReady };
}

async function waitAllReady(inputs: KubernetesNodesReadyInputs): Promise<void> {
  await withLocalTool(inputs.kubectlPath ?? "kubectl", "kubectl", yamlSecretValues(inputs.kubeconfig), async (tool) => {
    const path = await tool.write("kubeconfig", inputs.kubeconfig);
    const deadline = Date.now() + inputs.timeoutMs;
    for (;;) {
      const seen = await look(tool, path, inputs.nodeNames);
      if (!seen.apiError && seen.notReady.length === 0) return;
      if (Date.now() >= deadline) {
        const secs = Math.round(inputs.timeoutMs / 1000);
        if (seen.apiError) throw new Error(`kubernetes: kubectl get nodes failed for ${secs} s: ${seen.apiError}`);
        throw new Error(`kubernetes: ${seen.notReady.length} node(s) not Ready after ${secs} s:\n  - ${seen.notReady.join("\n  - ")}`);
      }
      await sleep(Math.min(5000, Math.max(100, Math.round(inputs.timeoutMs / 40))));
    }
  });
}

export const kubernetesNodesReadyProvider: pulumi.dynamic.ResourceProvider<KubernetesNodesReadyInputs, KubernetesNodesReadyOutputs> = {
  async create(inputs) {
    await waitAllReady(inputs);
    return { id: "kubernetes-nodes-ready", outs: inputs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return withLocalTool(props.kubectlPath ?? "kubectl", "kubectl", yamlSecretValues(props.kubeconfig), async (tool) => {
      const seen = await look(tool, await tool.write("kubeconfig", props.kubeconfig), props.nodeNames);
      if (seen.apiError) throw new Error(`kubernetes: kubectl get nodes failed: ${seen.apiError}`);
      // A node no longer Ready drops out, so the diff shows it and the next update waits for it again.
      return { id, props: { ...props, nodeNames: props.nodeNames.filter((n) => seen.ready.includes(n)) } };
    });
  },

  async diff(_id, olds, news) {
    const keys = ["providerVersion", "kubeconfig", "nodeNames", "timeoutMs", "kubectlPath"] as const;
    const diffs = keys.filter((k) => isUnknown(news[k]) || stableJson(olds[k]) !== stableJson(news[k]));
    return { changes: diffs.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    await waitAllReady(news);
    return { outs: news };
  },

  async delete() {
    // A wait leaves nothing behind.
  },
};

/** Resource inputs as a program passes them. */
export interface KubernetesNodesReadyArgs {
  kubeconfig: pulumi.Input<string>;
  nodeNames: pulumi.Input<pulumi.Input<string>[]>;
  timeoutMs: pulumi.Input<number>;
  kubectlPath?: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/kubernetes:NodesReady`. */
export class KubernetesNodesReady extends pulumi.dynamic.Resource {
  declare readonly nodeNames: pulumi.Output<string[]>;

  constructor(name: string, args: KubernetesNodesReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      kubernetesNodesReadyProvider,
      name,
      { ...args, kubeconfig: pulumi.secret(args.kubeconfig), providerVersion: KUBERNETES_NODES_READY_PROVIDER_VERSION },
      { ...opts, additionalSecretOutputs: ["kubeconfig", ...(opts?.additionalSecretOutputs ?? [])] },
      "kubernetes",
      "NodesReady",
    );
  }
}
