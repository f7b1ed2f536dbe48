/**
 * Cluster: forms one Proxmox VE cluster out of the configured nodes with
 * `pvecm create` (on the founder, the first node) and `pvecm add` (the rest,
 * one at a time), removes nodes dropped from the config with `pvecm delnode`,
 * and reports the real membership so `pulumi refresh` shows a node removed
 * behind our back.
 *
 * Every operation first reads every node (cluster status, Proxmox version,
 * guests) and refuses, changing nothing, when the nodes cannot form the
 * cluster: too few nodes, a node unreachable, a node in another cluster,
 * mixed Proxmox releases, guests on a node that must join. Nodes that are
 * already members are left alone, so a second run only reads.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command: joins must
 * be skipped for members (idempotence), verified (pvecm add exits 0 when it
 * fails, pve-cli.md §1.4), serialised, and `read` must show real membership.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  ClusterStatus,
  Guest,
  JoinInfo,
  JoinNode,
  isNotInClusterJoinError,
  joinSucceeded,
  parseClusterStatus,
  parseGuests,
  parseJoinInfo,
  parsePvecmStatus,
} from "../../parse/cluster";
import { PveVersion, parsePveversion } from "../../parse/pveversion";
import { command, inCLocale, quote } from "../../shell";
import { CommandFailedError, CommandResult, SshSession, isCommandFailed, isCommandTimeout, isNodeError, redact } from "../../ssh";
import { NodeConnection } from "../connection";
import { isUnknown, sleep } from "../diff";
import { describeError, errorMessage } from "../../errors";
import { isRetryableFailure } from "../../retry";
import { closeAll, indent, list, openSessions, refusalMessage } from "../sessions";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const CLUSTER_PROVIDER_VERSION = "1";


/** Corosync link addresses of one node. */
export interface ClusterNodeLinks {
  /** Address of corosync link 0 on this node. */
  link0: string;
  /** Address of corosync link 1 on this node (a second, independent network). */
  link1?: string;
}

/** One node of the cluster as configured. */
export interface ClusterNodeSpec {
  connection: NodeConnection;
  links: ClusterNodeLinks;
}

/** One member of the cluster as corosync.conf lists it. */
export interface ClusterMember {
  name: string;
  nodeid: number;
  link0?: string;
  link1?: string;
}

export interface ClusterInputs {
  providerVersion: string;
  /** Corosync cluster name; fixed once the cluster exists. */
  clusterName: string;
  /** In order; the first is the founder (`pvecm create` runs there). */
  nodes: ClusterNodeSpec[];
  /** Secret: SSH private key accepted by every node. Absent when every node uses an SSH agent. */
  sshPrivateKey?: string;
  /** Secret: the founder's root password, written to `pvecm add` on stdin. Not echoed into outputs. */
  rootPassword?: string;
  /** Allow fewer than 3 nodes. Defaults to false. */
  allowSmallCluster?: boolean;
  /** Allow separating a node that is dropped from `nodes` while it is online. Defaults to false. */
  allowNodeRemoval?: boolean;
  /** How long to wait for quorum after a join or removal. Defaults to 120. */
  quorumTimeoutSeconds?: number;
  /** How often to poll for quorum. Defaults to 2. */
  quorumPollIntervalSeconds?: number;
  /** On delete, remove and separate every node but the founder. Defaults to false (delete changes nothing). */
  dissolveOnDelete?: boolean;
}

export interface ClusterOutputs extends Omit<ClusterInputs, "rootPassword"> {
  /** Members in nodeid order, with their corosync link addresses. */
  members: ClusterMember[];
  /** Whether the cluster had quorum when last read. */
  quorate: boolean;
}

/** Output names to keep secret (besides the connection ones). */
export const CLUSTER_SECRET_OUTPUTS = ["sshPrivateKey", "rootPassword"];

// ---------------------------------------------------------------------------------------------
// small helpers

/** Errors of this provider: one message, no stack noise, password never included. */
export class ClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "ClusterError";
  }
  toString(): string {
    return describeError(this);
  }
}

function nodeName(spec: ClusterNodeSpec): string {
  return spec.connection.node;
}

/** IPv6 case and surrounding space do not matter. */
function normAddr(addr: string | undefined): string | undefined {
  const a = addr?.trim();
  return a ? a.toLowerCase() : undefined;
}

function secretsOf(inputs: { rootPassword?: string }): string[] {
  return inputs.rootPassword ? [inputs.rootPassword] : [];
}

/** Re-throw `err` with every secret blanked out of its message. */
function scrub(err: unknown, secrets: readonly string[]): Error {
  const message = errorMessage(err);
  const clean = redact(message, secrets);
  if (clean === message && typeof (err as Error | undefined)?.message === "string") return err as Error;
  const copy = new ClusterError(clean);
  copy.name = (err as Error | undefined)?.name ?? "ClusterError";
  return copy;
}

function pvesh(path: string, ...args: string[]): string {
  return inCLocale(command("pvesh", "get", path, ...args, "--output-format", "json"));
}

function settings(inputs: ClusterInputs) {
  return {
    timeoutMs: Math.max(1, inputs.quorumTimeoutSeconds ?? 120) * 1000,
    pollMs: Math.max(0.05, inputs.quorumPollIntervalSeconds ?? 2) * 1000,
  };
}

function describeRun(label: string, result: CommandResult, secrets: readonly string[]): string {
  const parts = [`${label} (exit ${result.code})`];
  if (result.stdout.trim()) parts.push(`  stdout:\n${indent(redact(result.stdout, secrets))}`);
  if (result.stderr.trim()) parts.push(`  stderr:\n${indent(redact(result.stderr, secrets))}`);
  if (!result.stdout.trim() && !result.stderr.trim()) parts.push("  (no output)");
  return parts.join("\n");
}


// ---------------------------------------------------------------------------------------------
// input checks (no SSH needed)

/** Problems with the inputs themselves, each a full sentence. */
export function inputProblems(inputs: ClusterInputs): string[] {
  const problems: string[] = [];
  const nodes = inputs.nodes ?? [];
  if (!inputs.clusterName) problems.push("clusterName is empty");
  if (nodes.length === 0) problems.push("nodes is empty; a cluster needs at least one node");
  const names = nodes.map(nodeName);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) problems.push(`node ${n} is listed twice in nodes`);
    seen.add(n);
  }
  const addrs = new Map<string, string>();
  for (const spec of nodes) {
    if (!spec.links?.link0) problems.push(`node ${nodeName(spec)} has no links.link0 address`);
    for (const [key, addr] of Object.entries(spec.links ?? {})) {
      const a = normAddr(addr);
      if (!a) continue;
      const other = addrs.get(a);
      if (other) problems.push(`address ${addr} is used by ${other} and by ${nodeName(spec)}.${key}; corosync addresses must be unique`);
      else addrs.set(a, `${nodeName(spec)}.${key}`);
    }
  }
  const withLink1 = nodes.filter((s) => s.links?.link1).map(nodeName);
  if (withLink1.length > 0 && withLink1.length < nodes.length) {
    const missing = nodes.filter((s) => !s.links?.link1).map(nodeName);
    problems.push(`links.link1 is set on ${list(withLink1)} but not on ${list(missing)}; every node needs the same links`);
  }
  if (nodes.length > 0 && nodes.length < 3 && !inputs.allowSmallCluster) {
    problems.push(
      `cluster ${inputs.clusterName} has ${nodes.length} node(s) (${list(names)}); a cluster of fewer than 3 nodes ` +
        `loses quorum when one node fails. Add nodes, or set allowSmallCluster: true to accept this`,
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// reading nodes

interface NodeView {
  spec: ClusterNodeSpec;
  name: string;
  session: SshSession;
  status: ClusterStatus;
  version?: PveVersion;
  versionText: string;
  /** Guests on this node (from its /cluster/resources view, filtered to itself). */
  guests: Guest[];
  /** Cluster files present although the node reports no cluster (left over from a cluster it was removed from). */
  leftovers: string[];
}

async function readStatus(session: SshSession): Promise<ClusterStatus> {
  const out = await session.check(pvesh("/cluster/status"));
  return parseClusterStatus(out.stdout, session.node);
}

/** join info of a clustered node; undefined when the node says it is standalone. */
async function readJoinInfo(session: SshSession): Promise<JoinInfo | undefined> {
  const cmd = pvesh("/cluster/config/join");
  const result = await session.run(cmd);
  if (result.code !== 0) {
    if (isNotInClusterJoinError(result.stderr)) return undefined;
    throw new CommandFailedError(session.node, cmd, result);
  }
  return parseJoinInfo(result.stdout, session.node);
}

/** Files whose presence makes `pvecm create`/`pvecm add` refuse (pve-cli.md §1.3, §1.4). */
const CLUSTER_FILES = ["/etc/pve/corosync.conf", "/etc/corosync/authkey"];

async function readLeftovers(session: SshSession): Promise<string[]> {
  const script = `for f in ${CLUSTER_FILES.map((f) => quote(f)).join(" ")}; do if [ -e "$f" ]; then echo "$f"; fi; done`;
  const out = await session.check(script);
  return out.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}

async function readView(spec: ClusterNodeSpec, session: SshSession): Promise<NodeView> {
  const name = nodeName(spec);
  const status = await readStatus(session);
  const versionText = (await session.check(inCLocale(command("pveversion")))).stdout.trim();
  const resources = await session.check(pvesh("/cluster/resources", "--type", "vm"));
  const own = new Set([name, status.localName]);
  const guests = parseGuests(resources.stdout, session.node).filter((g) => !g.node || own.has(g.node));
  const leftovers = status.clusterName === undefined ? await readLeftovers(session) : [];
  return { spec, name, session, status, version: parsePveversion(versionText), versionText, guests, leftovers };
}

/** `pvecm status` output as evidence for an error (never throws). */
async function pvecmStatusEvidence(session: SshSession): Promise<string> {
  try {
    const r = await session.run(inCLocale(command("pvecm", "status")));
    const text = [r.stdout.trim(), r.stderr.trim()].filter(Boolean).join("\n");
    return `pvecm status on ${session.node} (exit ${r.code}):\n${indent(text || "(no output)")}`;
  } catch (err) {
    return `pvecm status on ${session.node} could not run: ${errorMessage(err)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// planning (pure)

/** What a converge run will do, or why it refuses. */
export interface ClusterPlan {
  problems: string[];
  /** Node that runs `pvecm create`, when no configured node is in the cluster yet. */
  create?: string;
  /** Configured nodes left over from a cluster they were removed from: separated before they join (allowNodeRemoval). */
  separate: string[];
  /** Nodes that run `pvecm add`, in order; `force` re-adds a node the nodelist already lists (half-finished join). */
  joins: { name: string; force: boolean }[];
  /** Members dropped from the config: `separate` when online (separate first, then delnode). */
  removals: { name: string; separate: boolean }[];
}

/** What the nodes said, as planCluster needs it. */
export interface PlanFacts {
  clusterName: string;
  /** Configured nodes, in order, with what each says about itself. */
  nodes: {
    name: string;
    links: ClusterNodeLinks;
    /** The node's own name in Proxmox. */
    localName?: string;
    /** Cluster the node reports, undefined when standalone. */
    clusterName?: string;
    /** Whether the node's own view of its cluster is quorate. */
    quorate: boolean;
    /** Proxmox major.minor, undefined when pveversion was not understood. */
    release?: string;
    versionText: string;
    guests: Guest[];
    /** Cluster files found on a standalone node. */
    leftovers: string[];
  }[];
  /** Configured node (first in order) that is a live member of the target cluster. */
  anchor?: string;
  /** nodelist of the target cluster as the anchor sees it. */
  join?: JoinInfo;
  /** /cluster/status of the anchor. */
  anchorStatus?: ClusterStatus;
  /** Names of nodes configured before (previous outputs), for removals. */
  previousNodes: string[];
  allowNodeRemoval: boolean;
}

export function planCluster(f: PlanFacts): ClusterPlan {
  const problems: string[] = [];
  const target = f.clusterName;
  const members = new Map<string, JoinNode>((f.join?.nodes ?? []).map((n) => [n.name, n]));
  const byName = new Map(f.nodes.map((n) => [n.name, n]));

  // Every node must be the node the config says it is.
  for (const n of f.nodes) {
    if (n.localName !== undefined && n.localName !== n.name) {
      problems.push(
        `${n.name}: the host calls itself "${n.localName}" in Proxmox; nodes[].connection.node must be the Proxmox node name`,
      );
    }
  }

  // Same Proxmox major.minor everywhere.
  const releases = new Set(f.nodes.map((n) => n.release ?? `unknown:${n.versionText}`));
  if (releases.size > 1) {
    const shown = (n: (typeof f.nodes)[number]) =>
      /^pve-manager\/([^/\s]+)/.exec(n.versionText)?.[1] ?? `unknown (${JSON.stringify(n.versionText)})`;
    problems.push(
      `Proxmox VE versions differ; all nodes of a cluster need the same major.minor release: ` +
        f.nodes.map((n) => `${n.name} ${shown(n)}`).join(", "),
    );
  }

  // Nodes in another cluster are never touched; a cluster cannot be renamed.
  for (const n of f.nodes) {
    if (n.clusterName !== undefined && n.clusterName !== target) {
      problems.push(
        `${n.name} is already a member of cluster "${n.clusterName}", not "${target}"; a node cannot be in two clusters ` +
          `and Proxmox cannot rename a cluster (set clusterName: ${n.clusterName} to manage that cluster, ` +
          `or take ${n.name} out of it first)`,
      );
    }
  }

  // Nodes left over from a cluster that removed them: standalone with cluster files, or claiming
  // the target cluster without being in its nodelist and without quorum of their own.
  const separate: string[] = [];
  for (const n of f.nodes) {
    const standaloneWithFiles = n.clusterName === undefined && n.leftovers.length > 0;
    const removedMember = f.anchor !== undefined && n.clusterName === target && !members.has(n.name);
    if (!standaloneWithFiles && !removedMember) continue;
    if (removedMember && n.quorate) {
      problems.push(
        `${n.name} is in a quorate cluster named "${target}" whose member list does not match the one on ${f.anchor}; ` +
          `these are two different clusters with the same name, and ${n.name} cannot be moved between them`,
      );
      continue;
    }
    const what = standaloneWithFiles
      ? `is not in a cluster but still has cluster files (${list(n.leftovers)})`
      : `says it is in cluster "${target}" but the member list on ${f.anchor} does not include it`;
    if (!f.allowNodeRemoval) {
      problems.push(
        `${n.name} ${what}: it was removed from a cluster (pvecm delnode) without being separated, and cannot join ` +
          `in that state. Set allowNodeRemoval: true to let the provider separate it (stop corosync, delete its cluster ` +
          `configuration, keep its guests) and then join it`,
      );
    }
    separate.push(n.name);
  }

  // Links of existing members must match the config.
  for (const n of f.nodes) {
    const m = members.get(n.name);
    if (!m || n.clusterName !== target) continue;
    for (const [key, actual] of [
      ["link0", m.ring0Addr],
      ["link1", m.ring1Addr],
    ] as const) {
      const want = n.links[key];
      if (normAddr(want) !== normAddr(actual)) {
        problems.push(
          `${n.name}: ${key} is ${actual ?? "not set"} in cluster "${target}" but ${want ?? "not set"} in the config; ` +
            `joining again cannot change the corosync links of an existing member (set links.${key} to ${actual ?? "nothing"})`,
        );
      }
    }
  }

  // Who creates, who joins.
  const create = f.anchor === undefined && f.nodes.length > 0 ? f.nodes[0].name : undefined;
  const joins: ClusterPlan["joins"] = [];
  for (const n of f.nodes) {
    if (n.name === create) continue;
    const isMember = n.clusterName === target && members.has(n.name);
    if (isMember) continue;
    if (n.clusterName !== undefined && n.clusterName !== target) continue; // refused above
    joins.push({ name: n.name, force: members.has(n.name) });
  }

  // Joining nodes (and the founder) must hold no guests: pvecm add refuses them.
  for (const j of joins) {
    const n = byName.get(j.name)!;
    if (n.guests.length > 0) {
      problems.push(
        `${n.name} holds guests (VMID ${n.guests.map((g) => g.vmid).join(", ")}) and must join cluster "${target}"; ` +
          `Proxmox only joins nodes without guests (move or remove them first)`,
      );
    }
  }

  // Link sets must match the cluster's.
  if (f.join) {
    const clusterHasLink1 = f.join.links.includes(1) || f.join.nodes.some((m) => m.ring1Addr);
    for (const j of joins) {
      const n = byName.get(j.name)!;
      if (clusterHasLink1 && !n.links.link1) {
        problems.push(`${n.name}: cluster "${target}" uses link1, so links.link1 must be set for ${n.name} to join it`);
      } else if (!clusterHasLink1 && n.links.link1) {
        problems.push(`${n.name}: cluster "${target}" has no link1, so ${n.name} cannot join it with links.link1`);
      }
    }
  }

  // Members dropped from the config.
  const configured = new Set(f.nodes.map((n) => n.name));
  const removals: ClusterPlan["removals"] = [];
  for (const name of f.previousNodes) {
    if (configured.has(name) || !members.has(name)) continue;
    const online = f.anchorStatus?.nodes.find((n) => n.name === name)?.online ?? false;
    if (online && !f.allowNodeRemoval) {
      problems.push(
        `${name} was removed from nodes but is online and still a member of cluster "${target}"; removing it separates it ` +
          `from the cluster (stops corosync, deletes its cluster configuration, then pvecm delnode). Set ` +
          `allowNodeRemoval: true to do that, or power ${name} off first (then it is only deleted from the member list)`,
      );
    }
    removals.push({ name, separate: online });
  }

  // Changes need a quorate cluster.
  const changing = joins.length > 0 || removals.length > 0;
  if (changing && f.anchor && f.anchorStatus && !f.anchorStatus.quorate) {
    const offline = f.anchorStatus.nodes.filter((n) => !n.online).map((n) => n.name);
    // Removing the very nodes that are down is the documented way out (pvecm expected, then delnode).
    const removing = new Set([...removals.map((r) => r.name), ...joins.filter((j) => j.force).map((j) => j.name)]);
    if (offline.length === 0 || offline.some((n) => !removing.has(n))) problems.push(
      `cluster "${target}" has no quorum on ${f.anchor} (offline: ${offline.length ? list(offline) : "none"}); ` +
        `nodes can only be added or removed while the cluster is quorate`,
    );
  }

  return { problems, create, separate, joins, removals };
}

// ---------------------------------------------------------------------------------------------
// changing the cluster

interface Ctx {
  inputs: ClusterInputs;
  secrets: string[];
  timeoutMs: number;
  pollMs: number;
}

/** Wait until the anchor reports quorum with every named node online. */
async function waitForQuorum(ctx: Ctx, anchor: SshSession, names: readonly string[], after: string): Promise<ClusterStatus> {
  const deadline = Date.now() + ctx.timeoutMs;
  let last: ClusterStatus | undefined;
  let lastError = "";
  for (;;) {
    try {
      last = await readStatus(anchor);
      lastError = "";
      const offline = names.filter((n) => !last!.nodes.find((x) => x.name === n)?.online);
      if (last.quorate && last.clusterName === ctx.inputs.clusterName && offline.length === 0) return last;
    } catch (err) {
      // A lost connection or a deterministic error will not heal by waiting: report it as it is.
      if (isNodeError(err) && !isCommandFailed(err)) throw err;
      if (isCommandFailed(err) && !isRetryableFailure(err.result)) throw err;
      lastError = errorMessage(err);
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(ctx.pollMs, Math.max(0, deadline - Date.now())));
  }
  const offline = last ? names.filter((n) => !last!.nodes.find((x) => x.name === n)?.online) : [...names];
  const evidence = await pvecmStatusEvidence(anchor);
  throw new ClusterError(
    `${anchor.node}: cluster "${ctx.inputs.clusterName}" did not become quorate with ${list(names)} online ` +
      `within ${Math.round(ctx.timeoutMs / 1000)} s after ${after}` +
      (last ? ` (quorate: ${last.quorate ? "yes" : "no"}, offline: ${offline.length ? list(offline) : "none"})` : "") +
      (lastError ? `\nlast error: ${lastError}` : "") +
      `\n${evidence}`,
  );
}

async function createCluster(ctx: Ctx, founder: NodeView): Promise<void> {
  const { link0, link1 } = founder.spec.links;
  const argv = ["pvecm", "create", ctx.inputs.clusterName, "--link0", link0, ...(link1 ? ["--link1", link1] : [])];
  const cmd = inCLocale(command(...argv));
  const result = await founder.session.run(cmd);
  // A worker without upid_exit: exit 0 even when the task failed (pve-cli.md §1.3), and lock or
  // progress lines on stderr when it worked. Only the node's state read back settles it.
  const status = await readStatus(founder.session).catch(() => undefined);
  if (result.code !== 0 || status?.clusterName !== ctx.inputs.clusterName) {
    throw new ClusterError(
      `${founder.name}: pvecm create ${ctx.inputs.clusterName} did not create the cluster ` +
        `(the node reports ${status?.clusterName ? `cluster "${status.clusterName}"` : "no cluster"}):\n` +
        describeRun(`  command: ${redact(cmd, ctx.secrets)}`, result, ctx.secrets),
    );
  }
}

async function joinNode(
  ctx: Ctx,
  view: NodeView,
  anchor: { session: SshSession; address: string; fingerprint: string },
  force: boolean,
): Promise<void> {
  if (!ctx.inputs.rootPassword) {
    throw new ClusterError(`${view.name}: joining cluster "${ctx.inputs.clusterName}" needs rootPassword (the root password of ${anchor.session.node})`);
  }
  const { link0, link1 } = view.spec.links;
  const argv = [
    "pvecm",
    "add",
    anchor.address,
    "--link0",
    link0,
    ...(link1 ? ["--link1", link1] : []),
    "--fingerprint",
    anchor.fingerprint,
    ...(force ? ["--force", "1"] : []),
  ];
  const cmd = inCLocale(command(...argv));
  let result: CommandResult;
  try {
    // Without a TTY pvecm reads the password as one line from stdin (pve-cli.md §0.5).
    result = await view.session.run(cmd, { stdin: `${ctx.inputs.rootPassword}\n`, secrets: ctx.secrets });
  } catch (err) {
    const what = isCommandTimeout(err) ? "pvecm add timed out while joining" : "lost the connection while joining";
    throw new ClusterError(
      `${view.name}: ${what} cluster "${ctx.inputs.clusterName}" (pvecm add ${anchor.address}): ` +
        `${redact(errorMessage(err), ctx.secrets)}. Re-run once ${view.name} is reachable; finished joins are kept`,
    );
  }
  // pvecm add exits 0 even when the join failed: trust only the success marker and the membership.
  let status: ClusterStatus | undefined;
  try {
    status = await readStatus(view.session);
  } catch (err) {
    if (isNodeError(err) && !isCommandFailed(err)) {
      throw new ClusterError(
        `${view.name}: lost the connection while joining cluster "${ctx.inputs.clusterName}" (pvecm add exit ${result.code}); ` +
          `the node went down or its SSH connection broke. Re-run once ${view.name} is reachable; finished joins are kept`,
      );
    }
  }
  const joined = status?.clusterName === ctx.inputs.clusterName;
  // stderr is not evidence either way (lock lines on success); the marker and the membership are.
  if (result.code !== 0 || !joinSucceeded(result.stdout, view.name) || !joined) {
    throw new ClusterError(
      `${view.name}: pvecm add did not join cluster "${ctx.inputs.clusterName}" ` +
        `(the node reports ${status?.clusterName ? `cluster "${status.clusterName}"` : "no cluster"}):\n` +
        describeRun(`  command: ${redact(cmd, ctx.secrets)}`, result, ctx.secrets),
    );
  }
}

/**
 * "Separate a Node Without Reinstalling" (pve-docs pvecm.adoc): stop the
 * cluster services, start pmxcfs in local mode, delete the corosync config,
 * restart pmxcfs normally, clear corosync's state. Then the node is standalone
 * and keeps its own guests; the copies of the other members' configs are
 * removed so it can join a cluster again.
 */
async function separateNode(session: SshSession, otherMembers: readonly string[]): Promise<void> {
  const steps = [
    command("systemctl", "stop", "pve-cluster"),
    command("systemctl", "stop", "corosync"),
    command("pmxcfs", "-l"),
    command("rm", "-f", "/etc/pve/corosync.conf"),
    // Literal glob, no interpolated value.
    "rm -rf /etc/corosync/*",
    command("killall", "pmxcfs"),
    command("systemctl", "start", "pve-cluster"),
    "rm -rf /var/lib/corosync/*",
    ...otherMembers.map((m) => command("rm", "-rf", "--", `/etc/pve/nodes/${m}`)),
  ];
  for (const step of steps) await session.check(inCLocale(step));
  const status = await readStatus(session);
  if (status.clusterName !== undefined) {
    throw new ClusterError(`${session.node}: still reports cluster "${status.clusterName}" after being separated`);
  }
}

/**
 * `pvecm delnode <name>` on the anchor. When the removal leaves the cluster
 * without quorum (e.g. the second-to-last node), set the expected votes to
 * the votes still online first, as pvecm.adoc documents.
 */
async function delnode(ctx: Ctx, anchor: SshSession, name: string, waitOffline: boolean): Promise<void> {
  if (waitOffline) {
    const deadline = Date.now() + ctx.timeoutMs;
    for (;;) {
      const s = await readStatus(anchor);
      if (!s.nodes.find((n) => n.name === name)?.online) break;
      if (Date.now() >= deadline) {
        throw new ClusterError(`${anchor.node}: ${name} still shows online ${Math.round(ctx.timeoutMs / 1000)} s after it was separated\n${await pvecmStatusEvidence(anchor)}`);
      }
      await sleep(ctx.pollMs);
    }
  }
  const status = await readStatus(anchor);
  if (!status.quorate) {
    const pvecm = await anchor.run(inCLocale(command("pvecm", "status")));
    const online = parsePvecmStatus(pvecm.stdout).totalVotes ?? status.nodes.filter((n) => n.online).length;
    await anchor.check(inCLocale(command("pvecm", "expected", online)));
  }
  const cmd = inCLocale(command("pvecm", "delnode", name));
  const result = await anchor.run(cmd);
  // delnode is not a worker: a failure dies with exit 255. "could not kill node" on stderr is harmless (pvecm.adoc).
  const join = await readJoinInfo(anchor);
  if (result.code !== 0 || join?.nodes.some((n) => n.name === name)) {
    throw new ClusterError(
      `${anchor.node}: pvecm delnode ${name} did not remove ${name} from cluster "${ctx.inputs.clusterName}":\n` +
        describeRun(`  command: ${cmd}`, result, ctx.secrets),
    );
  }
}

function membersOf(join: JoinInfo): ClusterMember[] {
  return join.nodes.map((n) => {
    const m: ClusterMember = { name: n.name, nodeid: n.nodeid };
    if (n.ring0Addr) m.link0 = n.ring0Addr;
    if (n.ring1Addr) m.link1 = n.ring1Addr;
    return m;
  });
}

/** Converge the nodes to one cluster; returns the real state afterwards. */
export async function convergeCluster(
  inputs: ClusterInputs,
  previous?: Partial<ClusterOutputs>,
): Promise<{ members: ClusterMember[]; quorate: boolean }> {
  const problems = inputProblems(inputs);
  if (problems.length > 0) throw refusal(inputs.clusterName, problems);
  const ctx: Ctx = { inputs, secrets: secretsOf(inputs), ...settings(inputs) };
  const target = inputs.clusterName;

  const { sessions, failures } = await openSessions(inputs.nodes, inputs.sshPrivateKey);
  try {
    if (failures.length > 0) {
      throw refusal(
        target,
        failures.map((f) => `${f.node} is unreachable: ${f.message.startsWith(`${f.node}: `) ? f.message.slice(f.node.length + 2) : f.message}`),
      );
    }
    const views = await Promise.all(inputs.nodes.map((spec) => readView(spec, sessions.get(nodeName(spec))!)));
    // The node we work from: a live member of the target cluster (quorate view preferred).
    const claiming = views.filter((v) => v.status.clusterName === target);
    const anchorView = claiming.find((v) => v.status.quorate) ?? claiming[0];
    const join = anchorView ? await readJoinInfo(anchorView.session) : undefined;
    if (anchorView && !join) {
      throw new ClusterError(`${anchorView.name}: reports cluster "${target}" but has no join information (pvesh get /cluster/config/join)`);
    }
    const plan = planCluster({
      clusterName: target,
      nodes: views.map((v) => ({
        name: v.name,
        links: v.spec.links,
        localName: v.status.localName,
        clusterName: v.status.clusterName,
        quorate: v.status.quorate,
        release: v.version?.release,
        versionText: v.versionText,
        guests: v.guests,
        leftovers: v.leftovers,
      })),
      anchor: anchorView?.name,
      join,
      anchorStatus: anchorView?.status,
      previousNodes: (previous?.nodes ?? []).map(nodeName),
      allowNodeRemoval: inputs.allowNodeRemoval === true,
    });
    if (plan.problems.length > 0) throw refusal(target, plan.problems);

    // From here on we change things, one step at a time.
    // Nodes left over from a removal are separated first, so they can join again (allowNodeRemoval).
    const known = [...new Set([...(join?.nodes ?? []).map((n) => n.name), ...views.map((v) => v.name)])];
    for (const name of plan.separate) {
      const view = views.find((v) => v.name === name)!;
      await separateNode(view.session, known.filter((n) => n !== name));
      view.status = await readStatus(view.session);
    }
    let anchor = anchorView;
    if (plan.create) {
      anchor = views.find((v) => v.name === plan.create)!;
      await createCluster(ctx, anchor);
      await waitForQuorum(ctx, anchor.session, [anchor.name], `pvecm create on ${anchor.name}`);
    }
    // Configured members that are online now must stay online through every change.
    const configured = new Set(views.map((v) => v.name));
    const online = new Set<string>(
      anchor!.status.clusterName === target
        ? anchor!.status.nodes.filter((n) => n.online && configured.has(n.name)).map((n) => n.name)
        : [],
    );
    online.add(anchor!.name);

    if (plan.joins.length > 0) {
      const info = await readJoinInfo(anchor!.session);
      const self = info?.nodes.find((n) => n.name === anchor!.name);
      if (!info || !self?.pveFingerprint) {
        throw new ClusterError(`${anchor!.name}: /cluster/config/join lists no certificate fingerprint (pve_fp) for ${anchor!.name}`);
      }
      const address = self.ring0Addr ?? anchor!.spec.links.link0;
      for (const j of plan.joins) {
        const view = views.find((v) => v.name === j.name)!;
        await joinNode(ctx, view, { session: anchor!.session, address, fingerprint: self.pveFingerprint }, j.force);
        online.add(view.name);
        await waitForQuorum(ctx, anchor!.session, [...online], `${view.name} joined`);
      }
    }

    if (plan.removals.length > 0) {
      const previousSpecs = new Map((previous?.nodes ?? []).map((s) => [nodeName(s), s]));
      for (const r of plan.removals) {
        if (r.separate) {
          const spec = previousSpecs.get(r.name)!;
          const current = await readJoinInfo(anchor!.session);
          const others = (current?.nodes ?? []).map((n) => n.name).filter((n) => n !== r.name);
          const { sessions: removed, failures: down } = await openSessions([spec], inputs.sshPrivateKey);
          try {
            if (down.length > 0) {
              throw new ClusterError(`${r.name}: cannot be separated from cluster "${target}": ${down[0].message}`);
            }
            await separateNode(removed.get(r.name)!, others);
          } finally {
            closeAll(removed);
          }
        }
        await delnode(ctx, anchor!.session, r.name, r.separate);
        online.delete(r.name);
      }
      await waitForQuorum(ctx, anchor!.session, [...online], `removing ${list(plan.removals.map((r) => r.name))}`);
    }

    return await readState(anchor!.session, target);
  } finally {
    closeAll(sessions);
  }
}

function refusal(clusterName: string, problems: readonly string[]): ClusterError {
  return new ClusterError(refusalMessage(`cluster "${clusterName}"`, problems));
}

async function readState(session: SshSession, clusterName: string): Promise<{ members: ClusterMember[]; quorate: boolean }> {
  const join = await readJoinInfo(session);
  const status = await readStatus(session);
  if (!join || status.clusterName !== clusterName) {
    throw new ClusterError(`${session.node}: not in cluster "${clusterName}" after the change`);
  }
  return { members: membersOf(join), quorate: status.quorate };
}

// ---------------------------------------------------------------------------------------------
// delete: dissolve (optional)

async function dissolve(props: ClusterOutputs): Promise<void> {
  const ctx: Ctx = { inputs: { ...props }, secrets: [], ...settings(props) };
  const nodes = props.nodes ?? [];
  if (nodes.length === 0) return;
  const founderSpec = nodes[0];
  const { sessions, failures } = await openSessions(nodes, props.sshPrivateKey);
  try {
    const founder = sessions.get(nodeName(founderSpec));
    if (!founder) {
      throw new ClusterError(
        `cannot dissolve cluster "${props.clusterName}": the founder ${failures[0]?.message ?? nodeName(founderSpec)}; ` +
          `bring it back, or set dissolveOnDelete: false to leave the cluster as it is`,
      );
    }
    const founderStatus = await readStatus(founder);
    if (founderStatus.clusterName !== props.clusterName) return; // nothing left to dissolve
    const join = await readJoinInfo(founder);
    const memberNames = new Set((join?.nodes ?? []).map((n) => n.name));
    // Non-founder nodes that are members or still believe they are.
    const todo: { spec: ClusterNodeSpec; member: boolean; session?: SshSession }[] = [];
    const unreachable: string[] = [];
    for (const spec of nodes.slice(1)) {
      const name = nodeName(spec);
      const session = sessions.get(name);
      const member = memberNames.has(name);
      if (!session) {
        if (member) unreachable.push(failures.find((f) => f.node === name)?.message ?? name);
        continue;
      }
      const s = await readStatus(session);
      if (member || s.clusterName === props.clusterName) todo.push({ spec, member, session });
    }
    if (unreachable.length > 0) {
      throw new ClusterError(
        `cannot dissolve cluster "${props.clusterName}", nothing was changed: separating a node needs SSH to it:\n` +
          unreachable.map((u) => `  - ${u}`).join("\n") +
          `\nbring the node(s) back, or set dissolveOnDelete: false to leave the cluster as it is`,
      );
    }
    // Last joined first.
    for (const t of todo.reverse()) {
      const name = nodeName(t.spec);
      const current = await readJoinInfo(founder);
      const others = (current?.nodes ?? []).map((n) => n.name).filter((n) => n !== name);
      await separateNode(t.session!, others);
      if (t.member) await delnode(ctx, founder, name, true);
    }
  } finally {
    closeAll(sessions);
  }
}

// ---------------------------------------------------------------------------------------------
// read

async function readCluster(props: ClusterOutputs): Promise<{ found: boolean; clusterName?: string; members: ClusterMember[]; quorate: boolean }> {
  const nodes = props.nodes ?? [];
  const errors: string[] = [];
  // Founder first; another configured node only when the founder cannot be reached.
  for (const [i, spec] of nodes.entries()) {
    const { sessions, failures } = await openSessions([spec], props.sshPrivateKey);
    if (failures.length > 0) {
      errors.push(failures[0].message);
      continue;
    }
    // The founder answered: its view decides (standalone founder = the cluster is gone).
    const session = sessions.get(nodeName(spec))!;
    try {
      const status = await readStatus(session);
      if (status.clusterName === undefined) {
        if (i === 0) return { found: false, members: [], quorate: false };
        continue;
      }
      const join = await readJoinInfo(session);
      if (!join) {
        if (i === 0) return { found: false, members: [], quorate: false };
        continue;
      }
      return { found: true, clusterName: status.clusterName, members: membersOf(join), quorate: status.quorate };
    } finally {
      session.close();
    }
  }
  if (errors.length > 0) {
    // The founder did not answer and no other node is in the cluster: cannot tell whether it still exists.
    throw new ClusterError(
      `cannot read cluster "${props.clusterName}": the founder did not answer and no other configured node is in the cluster:\n` +
        errors.map((e) => `  - ${e}`).join("\n"),
    );
  }
  return { found: false, members: [], quorate: false };
}

// ---------------------------------------------------------------------------------------------
// the provider

function outputsOf(inputs: ClusterInputs, state: { members: ClusterMember[]; quorate: boolean }): ClusterOutputs {
  // The root password is only needed to join; it is never echoed into the outputs.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { rootPassword: _password, ...rest } = inputs;
  return { ...rest, members: state.members, quorate: state.quorate };
}

/** Desired membership and links, normalized for comparison. */
function desired(nodes: readonly ClusterNodeSpec[] | undefined): string {
  return JSON.stringify(
    (nodes ?? []).map((n) => ({ name: nodeName(n), link0: normAddr(n.links?.link0) ?? null, link1: normAddr(n.links?.link1) ?? null })),
  );
}

export const clusterProvider: pulumi.dynamic.ResourceProvider<ClusterInputs, ClusterOutputs> = {
  async check(_olds, news) {
    // Only what can be judged without SSH; unknown values (preview) are checked again by create/update.
    const judgeable = !isUnknown(news) && Array.isArray(news.nodes);
    const problems = judgeable ? inputProblems(news as ClusterInputs) : [];
    return {
      inputs: news,
      failures: problems.map((reason) => ({ property: "nodes", reason })),
    };
  },

  async create(inputs) {
    try {
      const state = await convergeCluster(inputs);
      return { id: inputs.clusterName, outs: outputsOf(inputs, state) };
    } catch (err) {
      throw scrub(err, secretsOf(inputs));
    }
  },

  async read(id, props) {
    if (!props) throw new ClusterError(`${id}: no stored state to refresh from`);
    const state = await readCluster(props);
    if (!state.found) return { id: "", props: { ...props, members: [], quorate: false } };
    return {
      id,
      props: { ...props, clusterName: state.clusterName ?? props.clusterName, members: state.members, quorate: state.quorate },
    };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = [];
    // A cluster cannot be renamed: a different name is a different cluster (create refuses while the nodes are in the old one).
    if (isUnknown(news.clusterName) || olds.clusterName !== news.clusterName) replaces.push("clusterName");

    const changed: string[] = [];
    if (isUnknown(news.nodes) || JSON.stringify(olds.nodes ?? []) !== JSON.stringify(news.nodes ?? [])) changed.push("nodes");
    // Real membership (from the last create/read) against the desired one: a node removed
    // behind our back, or a member whose links differ, needs an update.
    const actual = new Map((olds.members ?? []).map((m) => [m.name, m]));
    for (const n of news.nodes ?? []) {
      if (isUnknown(n)) continue;
      const m = actual.get(nodeName(n));
      if (!m || normAddr(m.link0) !== normAddr(n.links?.link0) || normAddr(m.link1) !== normAddr(n.links?.link1)) {
        if (!changed.includes("nodes")) changed.push("nodes");
      }
    }
    const wanted = new Set((news.nodes ?? []).map((n) => nodeName(n)));
    for (const prev of olds.nodes ?? []) {
      if (!wanted.has(nodeName(prev)) && actual.has(nodeName(prev)) && !changed.includes("nodes")) changed.push("nodes");
    }
    for (const key of [
      "providerVersion",
      "allowSmallCluster",
      "allowNodeRemoval",
      "quorumTimeoutSeconds",
      "quorumPollIntervalSeconds",
      "dissolveOnDelete",
      "sshPrivateKey",
    ] as const) {
      if (isUnknown(news[key]) || JSON.stringify(olds[key] ?? null) !== JSON.stringify(news[key] ?? null)) changed.push(key);
    }
    const changes = replaces.length > 0 || changed.length > 0 || desired(olds.nodes) !== desired(news.nodes);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, olds, news) {
    try {
      const state = await convergeCluster(news, olds);
      return { outs: outputsOf(news, state) };
    } catch (err) {
      throw scrub(err, secretsOf(news));
    }
  },

  async delete(_id, props) {
    // By default the cluster stays as it is: dissolving it is never implied by removing the resource.
    if (!props.dissolveOnDelete) return;
    await dissolve(props);
  },
};

// ---------------------------------------------------------------------------------------------
// the resource

/** Resource inputs as a program passes them. */
export interface ClusterMembershipArgs {
  /** Corosync cluster name (at most 15 characters); cannot change once the cluster exists. */
  clusterName: pulumi.Input<string>;
  /** The nodes in order; the first founds the cluster. */
  nodes: pulumi.Input<pulumi.Input<ClusterNodeSpec>[]>;
  /** SSH private key accepted by every node; a secret. Omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Root password of the founder, used by `pvecm add` (on stdin); a secret. */
  rootPassword: pulumi.Input<string>;
  /** Allow fewer than 3 nodes. Defaults to false. */
  allowSmallCluster?: pulumi.Input<boolean>;
  /** Allow separating online nodes that were dropped from `nodes`. Defaults to false. */
  allowNodeRemoval?: pulumi.Input<boolean>;
  /** Seconds to wait for quorum after each join or removal. Defaults to 120. */
  quorumTimeoutSeconds?: pulumi.Input<number>;
  /** Seconds between quorum polls. Defaults to 2. */
  quorumPollIntervalSeconds?: pulumi.Input<number>;
  /** Remove and separate every node but the founder when the resource is deleted. Defaults to false. */
  dissolveOnDelete?: pulumi.Input<boolean>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:Cluster`. */
export class ProxmoxClusterMembership extends pulumi.dynamic.Resource {
  declare readonly clusterName: pulumi.Output<string>;
  declare readonly members: pulumi.Output<ClusterMember[]>;
  declare readonly quorate: pulumi.Output<boolean>;

  constructor(name: string, args: ClusterMembershipArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      clusterProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, CLUSTER_PROVIDER_VERSION),
        rootPassword: pulumi.secret(args.rootPassword),
        members: undefined,
        quorate: undefined,
      },
      sshResourceOptions(opts, CLUSTER_SECRET_OUTPUTS),
      "proxmox",
      "Cluster",
    );
  }
}
