/**
 * K3sCluster resource: a K3s cluster over SSH on a set of hosts, as one
 * resource, because the order of its steps spans the hosts: servers first
 * (the first one alone, with --cluster-init when there are three or more,
 * the others joining one at a time, each waited for until Ready), then
 * agents; an upgrade goes through the servers one at a time, then the agents;
 * a node dropped from the list is drained and deleted from the cluster.
 *
 * Every step reads the host first (k3s-node.ts), so a re-run on a converged
 * cluster runs no mutating command, and a run that failed half-way (a node
 * unreachable) finishes on the next run. `read` asks every host and a server
 * (`k3s kubectl get nodes -o json`), so refresh sees a node that left, a
 * stopped unit or another version.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command, which has
 * no read and no diff and would re-run the installer on every change.
 */
import * as pulumi from "@pulumi/pulumi";
import { SshSession, withSession } from "../../ssh";
import { NodeConnection, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import {
  clusterNodes,
  ensureNode,
  K3sClusterPlan,
  K3sNodeSpec,
  type K3sNodeSpecInput,
  K3sPins,
  readFacts,
  readKubeconfig,
  reconcileLabels,
  removeFromCluster,
  stopUnit,
  uninstall,
  waitReady,
} from "./k3s-node";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const K3S_CLUSTER_PROVIDER_VERSION = "1";

export interface K3sClusterInputs {
  providerVersion: string;
  clusterName: string;
  version: string;
  /** Servers first (in join order), then agents. */
  nodes: K3sNodeSpec[];
  apiAddress: string;
  /** Secret. */
  token: string;
  /** Secret; one key for every host. Absent when the SSH agent is used. */
  sshPrivateKey?: string;
  pins: K3sPins;
  uninstallOnDestroy: boolean;
  readyTimeoutMs: number;
}

export interface K3sClusterOutputs extends K3sClusterInputs {
  /** Secret. Server address rewritten to the API address. */
  kubeconfig: string;
  /** K3s version each host runs, by node name (after read: what the hosts report). */
  nodeVersions: Record<string, string>;
}

function servers(nodes: K3sNodeSpec[]): K3sNodeSpec[] {
  return nodes.filter((n) => n.role === "server");
}

function planOf(inputs: K3sClusterInputs): K3sClusterPlan {
  const srv = servers(inputs.nodes);
  return {
    version: inputs.version,
    token: inputs.token,
    apiAddress: inputs.apiAddress,
    joinAddress: srv[0].address,
    embeddedEtcd: srv.length >= 3,
    pins: inputs.pins,
    readyTimeoutMs: inputs.readyTimeoutMs,
  };
}

function session<T>(inputs: { sshPrivateKey?: string }, connection: NodeConnection, fn: (s: SshSession) => Promise<T>): Promise<T> {
  const args = { connection, sshPrivateKey: inputs.sshPrivateKey };
  return withSession(sshTarget(args), fn, sshOptions(args));
}

/**
 * Converge every host, in order: servers one at a time (each Ready before the
 * next starts), then agents; then drop the nodes that left the list.
 */
async function converge(inputs: K3sClusterInputs, removed: K3sNodeSpec[], previous: K3sNodeSpec[] = []): Promise<K3sClusterOutputs> {
  const plan = planOf(inputs);
  const srv = servers(inputs.nodes);
  const first = srv[0];
  const nodeVersions: Record<string, string> = {};
  return session(inputs, first.connection, async (control) => {
    for (const node of inputs.nodes) {
      const isFirst = node.name === first.name;
      if (isFirst) {
        await ensureNode(control, node, plan, true);
        await waitReady(control, control, node, plan.version, plan.readyTimeoutMs);
      } else {
        await session(inputs, node.connection, async (s) => {
          await ensureNode(s, node, plan, false);
          await waitReady(control, s, node, plan.version, plan.readyTimeoutMs);
        });
      }
      await reconcileLabels(control, node, previous.find((p) => p.name === node.name));
      nodeVersions[node.name] = plan.version;
    }
    for (const gone of removed) {
      await removeFromCluster(control, gone.name, () => stopRemoved(inputs, gone));
      if (inputs.uninstallOnDestroy) await session(inputs, gone.connection, (s) => uninstall(s, gone.role));
    }
    const kubeconfig = await readKubeconfig(control, inputs.apiAddress);
    return { ...inputs, kubeconfig, nodeVersions };
  });
}

/**
 * Stop the unit of a node leaving the cluster. A host that is gone for good
 * (unreachable) cannot register again, so that is not an error.
 */
async function stopRemoved(inputs: K3sClusterInputs, node: K3sNodeSpec): Promise<void> {
  try {
    await session(inputs, node.connection, (s) => stopUnit(s, node.role));
  } catch (e) {
    // By name: errors from the SSH layer are not `instanceof` once serialized.
    if ((e as Error).name !== "NodeUnreachableError") throw e;
  }
}

export const k3sClusterProvider: pulumi.dynamic.ResourceProvider<K3sClusterInputs, K3sClusterOutputs> = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const srv = (news.nodes ?? []).filter((n) => n.role === "server");
    if (!isUnknown(news.nodes) && (srv.length === 0 || srv.length % 2 === 0)) {
      failures.push({ property: "nodes", reason: `servers: ${srv.length} given; K3s needs 1 server, or an odd number (3, 5, …) for embedded etcd` });
    }
    return { inputs: news, failures };
  },

  async create(inputs) {
    const outs = await converge(inputs, []);
    return { id: `k3s:${inputs.clusterName}`, outs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const srv = servers(props.nodes);
    const nodeVersions: Record<string, string> = {};
    for (const node of props.nodes) {
      const facts = await session(props, node.connection, (s) => readFacts(s, node.role));
      nodeVersions[node.name] = facts.active === "active" ? facts.version : `${facts.version || "none"} (${facts.active})`;
    }
    const { registered, kubeconfig } = await session(props, srv[0].connection, async (s) => ({
      registered: await clusterNodes(s),
      kubeconfig: await readKubeconfig(s, props.apiAddress),
    }));
    // Drift shows through the inputs the diff compares: a node the cluster no longer lists
    // drops out of `nodes` (the next update joins it again); another version on any host
    // becomes `version` (the next update converges every host).
    const listed = new Set(registered.filter((n) => n.ready).map((n) => n.name));
    const nodes = props.nodes.filter((n) => listed.has(n.name));
    const drifted = Object.values(nodeVersions).find((v) => v !== props.version);
    return { id, props: { ...props, nodes, version: drifted ?? props.version, kubeconfig, nodeVersions } };
  },

  async diff(_id, olds, news) {
    const keys = ["version", "nodes", "apiAddress", "pins", "token", "sshPrivateKey", "uninstallOnDestroy", "readyTimeoutMs", "providerVersion", "clusterName"] as const;
    const diffs = keys.filter((k) => isUnknown(news[k]) || stableJson(olds[k]) !== stableJson(news[k]));
    // Never a replacement: a new cluster would be a rebuild with every workload lost. The
    // first server's change (who holds --cluster-init) is refused in update instead.
    return { changes: diffs.length > 0, replaces: [], diffs: [...diffs], deleteBeforeReplace: false };
  },

  async update(_id, olds, news) {
    const oldFirst = servers(olds.nodes)[0];
    const newFirst = servers(news.nodes)[0];
    if (oldFirst && newFirst && oldFirst.name !== newFirst.name && news.nodes.some((n) => n.name === oldFirst.name)) {
      throw new Error(`servers: ${oldFirst.name} must stay the first server (it initialised the cluster); list it first again`);
    }
    if (olds.token !== news.token) {
      throw new Error("token: the cluster token changed; K3s does not take a new token by re-installing (rotate it with `k3s token rotate`, then set it); put the old token back");
    }
    const kept = new Set(news.nodes.map((n) => n.name));
    const removed = olds.nodes.filter((n) => !kept.has(n.name));
    // Agents leave before servers, so the control plane is last to shrink.
    removed.sort((a, b) => (a.role === b.role ? 0 : a.role === "agent" ? -1 : 1));
    return { outs: await converge(news, removed, olds.nodes) };
  },

  async delete(_id, props) {
    // The cluster stays installed unless the stack asked for an uninstall: a destroy of the
    // stack must not wipe a cluster someone still runs workloads on.
    if (!props.uninstallOnDestroy) return;
    const agentsFirst = [...props.nodes].sort((a, b) => (a.role === b.role ? 0 : a.role === "agent" ? -1 : 1));
    for (const node of agentsFirst) await session(props, node.connection, (s) => uninstall(s, node.role));
  },
};

/** Resource inputs as a program passes them. */
export interface K3sClusterResourceArgs {
  clusterName: string;
  version: string;
  nodes: K3sNodeSpecInput[];
  apiAddress: pulumi.Input<string>;
  token: pulumi.Input<string>;
  sshPrivateKey?: pulumi.Input<string>;
  pins: K3sPins;
  uninstallOnDestroy: boolean;
  readyTimeoutMs: number;
}

/** Registered as `pulumi-nodejs:dynamic/k3s:Cluster`. */
export class K3sClusterResource extends pulumi.dynamic.Resource {
  declare readonly kubeconfig: pulumi.Output<string>;
  declare readonly nodeVersions: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: K3sClusterResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      k3sClusterProvider,
      name,
      {
        ...args,
        token: pulumi.secret(args.token),
        sshPrivateKey: args.sshPrivateKey === undefined ? undefined : pulumi.secret(args.sshPrivateKey),
        providerVersion: K3S_CLUSTER_PROVIDER_VERSION,
        kubeconfig: undefined,
        nodeVersions: undefined,
      },
      { ...opts, additionalSecretOutputs: ["token", "sshPrivateKey", "kubeconfig", ...(opts?.additionalSecretOutputs ?? [])] },
      "k3s",
      "Cluster",
    );
  }
}
