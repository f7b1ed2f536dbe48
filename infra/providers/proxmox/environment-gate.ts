/**
 * EnvironmentGate: reads every node of an environment, all at once, and
 * refuses the whole environment, naming every problem with its node, before
 * anything is changed anywhere: a node that cannot be reached with its pinned
 * host key and the configured key, a host whose hostname is not its configured
 * name, Proxmox VE releases (major.minor) that differ between nodes, a node
 * that is in another cluster than the configured one (or in any cluster when
 * the config has none), a node without Proxmox VE that is not marked for an
 * install from Debian (nodes[].install), or marked but on a Debian release that
 * does not carry the requested major.
 *
 * Without it, those refusals come from the cluster step, after apt
 * repositories, packages and /etc/network/interfaces were already changed on
 * every node. Every node's first step depends on this resource.
 *
 * Read-only: no method runs a command that changes a node. `read` re-reads the
 * facts so `pulumi refresh` shows a node upgraded or clustered behind our back,
 * and `diff` re-checks (update) when the refreshed facts carry a problem.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command: it must
 * read all nodes before deciding, and `read` must show the facts as drift.
 */
import * as pulumi from "@pulumi/pulumi";
import { describeError } from "../../errors";
import { parseClusterStatus } from "../../parse/cluster";
import { parsePveversion } from "../../parse/pveversion";
import { debianReleaseProblems, parseOsRelease } from "../../pve-install";
import { command, inCLocale } from "../../shell";
import { CommandFailedError, withSession } from "../../ssh";
import { NodeConnection, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const ENVIRONMENT_GATE_PROVIDER_VERSION = "2";

export interface EnvironmentGateInputs {
  providerVersion: string;
  /** Every node of the environment. */
  nodes: NodeConnection[];
  /** Secret: SSH private key accepted by every node. Absent when every node uses an SSH agent. */
  sshPrivateKey?: string;
  /** The configured Proxmox cluster; absent when the environment has no cluster (then no node may be in one). */
  clusterName?: string;
  /**
   * Nodes marked for a Proxmox VE install from Debian (nodes[].install), each with the requested
   * major: such a node may be plain Debian of the matching release. Absent: every node must run Proxmox VE.
   */
  pveInstalls?: Record<string, number>;
}

/** What one node said about itself. */
export interface ObservedNode {
  node: string;
  /** Why the node could not be read (unreachable, host key mismatch, a read failing); empty when it was read. */
  readError: string;
  /** `hostname` of the host at the configured address. */
  hostname: string;
  /** Full pve-manager version ("8.4.14"); empty when pveversion was not understood. */
  pveVersion: string;
  /** major.minor ("8.4"), the unit that must match across nodes; empty when not understood. */
  pveRelease: string;
  /** pveversion's output, trimmed, when it was not understood. */
  pveversionText: string;
  /** The cluster the node is in; empty when standalone. */
  clusterName: string;
  /** /etc/os-release ID, VERSION_ID and VERSION_CODENAME when the node has no Proxmox VE (no pveversion); empty otherwise. */
  osId?: string;
  osVersionId?: string;
  osCodename?: string;
}

export interface EnvironmentGateOutputs extends EnvironmentGateInputs {
  /** One entry per configured node, in config order. */
  observed: ObservedNode[];
}

/** The refusal, one line per problem; carries the problems for callers that want them. */
export class EnvironmentRefusedError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super();
    this.problems = problems;
    this.message = `Refusing to change anything:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
    this.name = "EnvironmentRefusedError";
  }
  // A method is what keeps the serialized class linked to Error (its String() would be [object Object]).
  toString(): string {
    return describeError(this);
  }
}

// ---------------------------------------------------------------------------------------------
// checks (pure)

/** Problems with the inputs themselves (no node needed). */
export function inputProblems(inputs: Pick<EnvironmentGateInputs, "nodes">): string[] {
  const nodes = inputs.nodes ?? [];
  if (nodes.length === 0) return ["nodes is empty; an environment needs at least one node"];
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const n of nodes) {
    if (seen.has(n.node)) problems.push(`node ${n.node} is listed twice in nodes`);
    seen.add(n.node);
  }
  return problems;
}

/** Everything that refuses the environment, given what every node said; empty when all is well. */
export function environmentProblems(
  nodes: readonly NodeConnection[],
  observed: readonly ObservedNode[],
  clusterName: string | undefined,
  pveInstalls: Readonly<Record<string, number>> = {},
): string[] {
  const problems: string[] = [];
  const hostOf = new Map(nodes.map((n) => [n.node, n.host]));
  const read = observed.filter((o) => !o.readError);

  for (const o of observed) {
    if (o.readError) problems.push(o.readError.startsWith(`${o.node}: `) ? o.readError : `${o.node}: ${o.readError}`);
  }
  for (const o of read) {
    if (o.hostname !== o.node) {
      problems.push(
        `${o.node}: the host at ${hostOf.get(o.node) ?? "its address"} calls itself "${o.hostname}"; check nodes[].address ` +
          `for ${o.node} (a Proxmox node's hostname must match its name)`,
      );
    }
  }
  for (const o of read) {
    const major = pveInstalls[o.node];
    if (o.pveRelease) {
      if (major !== undefined && Number(o.pveRelease.split(".")[0]) !== major) {
        problems.push(`${o.node}: runs Proxmox VE ${o.pveVersion}, not ${major}; a major upgrade is not an install (set proxmox.major: ${o.pveRelease.split(".")[0]}, or upgrade it first)`);
      }
    } else if (o.osId) {
      const os = `${o.osId === "debian" ? "Debian" : o.osId} ${o.osVersionId}${o.osCodename ? ` (${o.osCodename})` : ""}`;
      if (major === undefined) {
        const want = o.osId === "debian" ? { "12": 8, "13": 9 }[o.osVersionId ?? ""] : undefined;
        problems.push(
          want
            ? `${o.node}: runs ${os} without Proxmox VE (no pveversion); to install Proxmox VE ${want} on it, mark it in the stack file ` +
                `(nodes[].install: { from: debian } and proxmox.major: ${want})`
            : `${o.node}: runs ${os} without Proxmox VE (no pveversion); Proxmox VE installs on Debian 12 (8) or 13 (9) only`,
        );
      } else {
        problems.push(...debianReleaseProblems(o.node, major, o.osId, o.osVersionId ?? "", o.osCodename ?? ""));
      }
    } else {
      problems.push(`${o.node}: pveversion printed ${JSON.stringify(o.pveversionText)}; is this a Proxmox VE node?`);
    }
  }
  const versioned = read.filter((o) => o.pveRelease);
  if (new Set(versioned.map((o) => o.pveRelease)).size > 1) {
    problems.push(
      `Proxmox VE versions differ; all nodes need the same major.minor release: ` +
        versioned.map((o) => `${o.node} ${o.pveVersion}`).join(", "),
    );
  }
  for (const o of read) {
    if (!o.clusterName || o.clusterName === clusterName) continue;
    problems.push(
      clusterName
        ? `${o.node} is already a member of cluster "${o.clusterName}", not "${clusterName}"; a node cannot be in two ` +
            `clusters and Proxmox cannot rename a cluster (set cluster.name: ${o.clusterName} to manage that cluster, ` +
            `or take ${o.node} out of it first)`
        : `${o.node} is a member of cluster "${o.clusterName}" but the config has no cluster; add cluster ` +
            `(name: ${o.clusterName}) to manage it, or take ${o.node} out of it first`,
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// reading nodes (read-only commands only)

async function observeNode(connection: NodeConnection, sshPrivateKey: string | undefined): Promise<ObservedNode> {
  const args = { connection, sshPrivateKey };
  const blank = { node: connection.node, readError: "", hostname: "", pveVersion: "", pveRelease: "", pveversionText: "", clusterName: "" };
  try {
    return await withSession(
      sshTarget(args),
      async (session) => {
        const hostname = (await session.check(command("hostname"))).stdout.trim();
        const pveversion = await session.run(inCLocale(command("pveversion")));
        if (pveversion.code === 127) {
          // No Proxmox VE: what the host is decides whether it may be installed (nodes[].install).
          const os = parseOsRelease((await session.check(command("cat", "/etc/os-release"))).stdout);
          return { ...blank, hostname, osId: os.ID ?? "", osVersionId: os.VERSION_ID ?? "", osCodename: os.VERSION_CODENAME ?? "" };
        }
        if (pveversion.code !== 0) throw new CommandFailedError(connection.node, "LC_ALL=C pveversion", pveversion);
        const versionText = pveversion.stdout.trim();
        const version = parsePveversion(versionText);
        const status = await session.check(inCLocale(command("pvesh", "get", "/cluster/status", "--output-format", "json")));
        const cluster = parseClusterStatus(status.stdout, connection.node).clusterName ?? "";
        return {
          ...blank,
          hostname,
          pveVersion: version?.version ?? "",
          pveRelease: version?.release ?? "",
          pveversionText: version ? "" : versionText,
          clusterName: cluster,
        };
      },
      sshOptions(args),
    );
  } catch (err) {
    // Collected, not thrown: the refusal names every node that cannot be read at once.
    const message = err && typeof err === "object" && "message" in err ? String((err as Error).message) : String(err);
    return { ...blank, readError: message || "could not be read" };
  }
}

/** Every node at once, in config order. */
async function observeAll(inputs: EnvironmentGateInputs): Promise<ObservedNode[]> {
  return Promise.all((inputs.nodes ?? []).map((n) => observeNode(n, inputs.sshPrivateKey)));
}

/** Read every node, refuse on any problem, else return the outputs. */
async function check(inputs: EnvironmentGateInputs): Promise<EnvironmentGateOutputs> {
  const early = inputProblems(inputs);
  if (early.length > 0) throw new EnvironmentRefusedError(early);
  const observed = await observeAll(inputs);
  const problems = environmentProblems(inputs.nodes, observed, inputs.clusterName, inputs.pveInstalls);
  if (problems.length > 0) throw new EnvironmentRefusedError(problems);
  return { ...inputs, observed };
}

// ---------------------------------------------------------------------------------------------
// the provider

export const environmentGateProvider: pulumi.dynamic.ResourceProvider<EnvironmentGateInputs, EnvironmentGateOutputs> = {
  async create(inputs) {
    const outs = await check(inputs);
    return { id: "environment", outs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    // Facts only: a problem found here shows as drift, and the next update refuses on it.
    const observed = await observeAll(props);
    return { id, props: { ...props, observed } };
  },

  async diff(_id, olds, news) {
    const inputsChanged =
      isUnknown(news) ||
      stableJson(olds.nodes) !== stableJson(news.nodes) ||
      (olds.clusterName ?? "") !== (news.clusterName ?? "") ||
      stableJson(olds.pveInstalls ?? {}) !== stableJson(news.pveInstalls ?? {}) ||
      // A new key must reach the stored outputs, or refresh would keep using the old one.
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion;
    // After a refresh, stored facts may show a problem (an upgrade on one node): check again, which refuses.
    const driftRefuses = environmentProblems(olds.nodes ?? [], olds.observed ?? [], olds.clusterName, olds.pveInstalls).length > 0;
    return { changes: inputsChanged || driftRefuses, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: await check(news) };
  },

  async delete() {
    // Nothing was changed on any node.
  },
};

/** Resource inputs as a program passes them. */
export interface EnvironmentGateArgs {
  /** Every node of the environment, as each is reached over SSH. */
  nodes: pulumi.Input<pulumi.Input<NodeConnection>[]>;
  /** SSH private key accepted by every node; a secret. Omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** The configured cluster's name. Omitted when the environment has no cluster (then no node may be in one). */
  clusterName?: pulumi.Input<string>;
  /** Nodes marked for a Proxmox VE install from Debian, by name, with the requested major. */
  pveInstalls?: Record<string, number>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:EnvironmentGate`. */
export class EnvironmentGate extends pulumi.dynamic.Resource {
  declare readonly observed: pulumi.Output<ObservedNode[]>;

  constructor(name: string, args: EnvironmentGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      environmentGateProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, ENVIRONMENT_GATE_PROVIDER_VERSION),
        observed: undefined,
      },
      sshResourceOptions(opts),
      "proxmox",
      "EnvironmentGate",
    );
  }
}
