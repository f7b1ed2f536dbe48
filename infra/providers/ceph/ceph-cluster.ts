/**
 * CephCluster: brings Ceph up on a quorate Proxmox VE cluster the way pveceph
 * does it (pve-docs order, domain-notes.md §1.13): `pveceph install` on every
 * Ceph node, `pveceph init` once, `pveceph mon create` on the monitor nodes,
 * `pveceph mgr create` on the manager nodes. OSDs and pools are separate
 * resources that depend on this one.
 *
 * Every operation first reads everything (Proxmox quorum, installed Ceph
 * release per node, /etc/pve/ceph.conf, the monitor and manager maps) and
 * refuses, changing nothing, when the cluster is not quorate, when an existing
 * Ceph uses other networks (re-running `pveceph init` would silently rewrite
 * them, pve-cli.md §2.2), when a node runs another Ceph release, or when a
 * monitor address cannot be chosen. Then it does only what is missing, so a
 * second run only reads. Delete leaves Ceph alone.
 *
 * Monitors follow monNodes both ways: a monitor on a Ceph node (one in `nodes`)
 * that monNodes does not list is removed with `pveceph mon destroy` on its own
 * node, after the wanted monitors were created and are in quorum, one at a time,
 * each waited for. Refused before any change when that would leave fewer than 3
 * monitors on 3 or more Ceph nodes, when a wanted monitor is out of quorum, or
 * when the node hosting it cannot be reached. A monitor on a node that is not in
 * `nodes` is not homelab's: it is reported, never removed.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command: each step
 * must be skipped where it already happened (`pveceph init` twice rewrites the
 * networks, `mon create` twice fails), the first monitor creates a manager by
 * itself, and `read` must show the real monitors, managers and networks.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseClusterStatus } from "../../parse/cluster";
import {
  CephConfSummary,
  MgrDump,
  MonDump,
  ipInCidr,
  normalizeNetworks,
  parseCephConf,
  parseCephVersion,
  parseCidr,
  parseIp,
  parseIpAddrShow,
  parseMgrDump,
  parseMonDump,
  splitNetworks,
  summarizeCephConf,
} from "../../parse/ceph";
import { command, inCLocale } from "../../shell";
import { CommandFailedError, SshSession, isCommandFailed } from "../../ssh";
import { NodeConnection } from "../connection";
import { definedFields, isUnknown, sleep, stableJson } from "../diff";
import { describeError, errorMessage } from "../../errors";
import { closeAll, indent, list, openSessions, refusalMessage } from "../sessions";
import { isRetryableFailure } from "../../retry";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const CEPH_CLUSTER_PROVIDER_VERSION = "2";


// Module-local constants: provider code must not reference `exports.X`, which the closure
// serializer does not capture.
const RELEASES = ["quincy", "reef", "squid", "tentacle"];
const REPOSITORIES = ["enterprise", "no-subscription", "test"];
/** Ceph releases pveceph can install (PVE/Ceph/Releases.pm); which ones a node offers depends on its PVE major. */
export const CEPH_RELEASES: readonly string[] = RELEASES;
/** `pveceph install --repository` values this provider passes. */
export const CEPH_REPOSITORIES: readonly string[] = REPOSITORIES;

/** One Ceph node as configured. */
export interface CephNodeSpec {
  connection: NodeConnection;
  /** Address of this node's monitor (`pveceph mon create --mon-address`); must be in publicNetwork. */
  monAddress?: string;
}

export interface CephClusterInputs {
  providerVersion: string;
  /** Every Ceph node; Ceph is installed on all of them. The first one runs `pveceph init` and the reads. */
  nodes: CephNodeSpec[];
  /** Secret: SSH private key accepted by every node. Absent when every node uses an SSH agent. */
  sshPrivateKey?: string;
  /** Ceph public network(s), CIDR (`pveceph init --network`). */
  publicNetwork: string;
  /** Ceph cluster (replication) network, CIDR. Defaults to publicNetwork. */
  clusterNetwork?: string;
  /** Ceph release code name, e.g. "squid" (`pveceph install --version`). */
  cephVersion: string;
  /** Package repository, e.g. "no-subscription". */
  repository: string;
  /**
   * Nodes that run a monitor. Defaults to every node. A monitor on another node of `nodes` is
   * removed (never below 3 monitors on 3+ nodes); one on a node outside `nodes` is left alone.
   */
  monNodes?: string[];
  /** Nodes that run a manager. Defaults to the monitor nodes. Managers are only ever added. */
  mgrNodes?: string[];
  /** Seconds a `ceph` read may take to reach the monitors. Defaults to 15. */
  connectTimeoutSeconds?: number;
  /** Seconds to wait for a new monitor to join the quorum (or a removed one to leave the map). Defaults to 120. */
  monQuorumTimeoutSeconds?: number;
  /** Seconds between polls while waiting. Defaults to 2. */
  pollIntervalSeconds?: number;
}

/** A monitor as the monitor map lists it. */
export interface CephMon {
  name: string;
  addresses: string[];
  inQuorum: boolean;
}

/** A manager as the manager map lists it. */
export interface CephMgr {
  name: string;
  active: boolean;
}

/** Ceph release installed on a node. */
export interface CephInstall {
  node: string;
  /** e.g. "squid", or "" when not installed. */
  release: string;
  /** e.g. "19.2.3", or "" when not installed. */
  version: string;
}

export interface CephClusterOutputs extends CephClusterInputs {
  fsid: string;
  mons: CephMon[];
  mgrs: CephMgr[];
  installed: CephInstall[];
}

// ---------------------------------------------------------------------------------------------
// helpers

export class CephClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "CephClusterError";
  }
  toString(): string {
    return describeError(this);
  }
}

function nameOf(spec: CephNodeSpec): string {
  return spec.connection.node;
}

/** Monitor and manager nodes with the defaults applied. */
export function roles(inputs: Pick<CephClusterInputs, "nodes" | "monNodes" | "mgrNodes">): { mons: string[]; mgrs: string[] } {
  const all = (inputs.nodes ?? []).map(nameOf);
  const mons = inputs.monNodes && inputs.monNodes.length > 0 ? inputs.monNodes : all;
  const mgrs = inputs.mgrNodes && inputs.mgrNodes.length > 0 ? inputs.mgrNodes : mons;
  return { mons, mgrs };
}

function settings(inputs: CephClusterInputs) {
  return {
    connectTimeout: Math.max(1, Math.round(inputs.connectTimeoutSeconds ?? 15)),
    quorumTimeoutMs: Math.max(1, inputs.monQuorumTimeoutSeconds ?? 120) * 1000,
    pollMs: Math.max(0.05, inputs.pollIntervalSeconds ?? 2) * 1000,
  };
}

/** `ceph` with an explicit conf, so it works on every cluster node (the /etc/ceph symlink only exists where pveceph ran). */
function cephCmd(connectTimeout: number, ...args: string[]): string {
  return inCLocale(command("ceph", ...args, "--conf", "/etc/pve/ceph.conf", "--connect-timeout", connectTimeout, "-f", "json"));
}

// ---------------------------------------------------------------------------------------------
// input checks (no SSH needed)

/** Problems with the inputs themselves, each a full sentence. */
export function inputProblems(inputs: CephClusterInputs): string[] {
  const problems: string[] = [];
  const nodes = inputs.nodes ?? [];
  const names = nodes.map(nameOf);
  if (nodes.length === 0) problems.push("nodes is empty; Ceph needs at least one node");
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) problems.push(`node ${n} is listed twice in nodes`);
    seen.add(n);
  }
  const pub = splitNetworks(inputs.publicNetwork);
  if (pub.length === 0) problems.push("publicNetwork is empty; Ceph needs a public network (CIDR, e.g. 10.10.10.0/24)");
  for (const net of pub) if (!parseCidr(net)) problems.push(`publicNetwork "${net}" is not a network in CIDR notation (e.g. 10.10.10.0/24)`);
  for (const net of splitNetworks(inputs.clusterNetwork)) if (!parseCidr(net)) problems.push(`clusterNetwork "${net}" is not a network in CIDR notation (e.g. 10.10.20.0/24)`);
  if (!RELEASES.includes(inputs.cephVersion)) problems.push(`cephVersion "${inputs.cephVersion}" is not one of ${list(RELEASES)}`);
  if (!REPOSITORIES.includes(inputs.repository)) problems.push(`repository "${inputs.repository}" is not one of ${list(REPOSITORIES)}`);
  const { mons } = roles(inputs);
  for (const [key, values] of [
    ["monNodes", inputs.monNodes ?? []],
    ["mgrNodes", inputs.mgrNodes ?? []],
  ] as const) {
    const dup = new Set<string>();
    for (const v of values) {
      if (!seen.has(v)) problems.push(`${key} names ${v}, which is not in nodes (${list(names)})`);
      if (dup.has(v)) problems.push(`${key} lists ${v} twice`);
      dup.add(v);
    }
  }
  const addrs = new Map<string, string>();
  for (const spec of nodes) {
    const a = spec.monAddress;
    if (a === undefined || a === "") continue;
    const n = nameOf(spec);
    if (!parseIp(a)) problems.push(`${n}: monAddress "${a}" is not an IP address`);
    else if (pub.length > 0 && pub.every((net) => parseCidr(net)) && !pub.some((net) => ipInCidr(a, net)))
      problems.push(`${n}: monAddress ${a} is not in publicNetwork ${inputs.publicNetwork}; a monitor must listen on the public network`);
    if (!mons.includes(n)) problems.push(`${n}: monAddress is set but ${n} is not a monitor node (monNodes: ${list(mons)})`);
    const other = addrs.get(a);
    if (other) problems.push(`monAddress ${a} is used by ${other} and by ${n}; every monitor needs its own address`);
    addrs.set(a, n);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// reading

interface NodeView {
  spec: CephNodeSpec;
  name: string;
  session: SshSession;
  install?: { release: string; version: string };
  /** Local addresses (only read for monitor nodes). */
  addresses?: string[];
}

/** Ceph release of the daemons on a node: `ceph-mon --version` (exit 127 = not installed). */
async function readInstall(session: SshSession): Promise<{ release: string; version: string } | undefined> {
  // Not `ceph --version`: every PVE node ships the ceph-common client, so that answers before
  // `pveceph install` too. pveceph itself tests for /usr/bin/ceph-mon (PVE/Ceph/Tools.pm).
  const cmd = inCLocale(command("ceph-mon", "--version"));
  const r = await session.run(cmd);
  if (r.code === 127) return undefined;
  if (r.code !== 0) throw new CommandFailedError(session.node, cmd, r);
  const v = parseCephVersion(r.stdout);
  if (!v) throw new CephClusterError(`${session.node}: ceph-mon --version printed ${JSON.stringify(r.stdout.trim())}; cannot tell the installed Ceph release`);
  return { release: v.release, version: v.version };
}

/** /etc/pve/ceph.conf, or undefined when Ceph was never initialised. */
async function readCephConf(session: SshSession): Promise<CephConfSummary | undefined> {
  const cmd = `if [ -e /etc/pve/ceph.conf ]; then cat /etc/pve/ceph.conf; else echo __NO_CEPH_CONF__; fi`;
  const r = await session.check(cmd);
  if (r.stdout.trim() === "__NO_CEPH_CONF__") return undefined;
  return summarizeCephConf(parseCephConf(r.stdout));
}

async function readAddresses(session: SshSession, v6: boolean): Promise<string[]> {
  const r = await session.check(inCLocale(command("ip", "-o", v6 ? "-6" : "-4", "addr", "show")));
  return parseIpAddrShow(r.stdout);
}

interface CephMaps {
  monmap: MonDump;
  mgrmap: MgrDump;
}

async function readMaps(session: SshSession, connectTimeout: number): Promise<CephMaps> {
  const mon = await session.check(cephCmd(connectTimeout, "mon", "dump"));
  const mgr = await session.check(cephCmd(connectTimeout, "mgr", "dump"));
  return { monmap: parseMonDump(mon.stdout, session.node), mgrmap: parseMgrDump(mgr.stdout, session.node) };
}

function monsOf(maps: CephMaps | undefined): CephMon[] {
  if (!maps) return [];
  const quorum = new Set(maps.monmap.quorum);
  return maps.monmap.mons.map((m) => ({ name: m.name, addresses: m.addresses, inQuorum: quorum.has(m.rank) }));
}

function mgrsOf(maps: CephMaps | undefined): CephMgr[] {
  if (!maps) return [];
  const res: CephMgr[] = [];
  if (maps.mgrmap.active) res.push({ name: maps.mgrmap.active, active: true });
  for (const s of [...maps.mgrmap.standbys].sort()) if (!res.some((m) => m.name === s)) res.push({ name: s, active: false });
  return res;
}

/** Has the configuration any monitor (then the maps must be readable)? */
function hasMonitors(conf: CephConfSummary): boolean {
  return conf.monHost.length > 0 || conf.monSections.length > 0;
}

// ---------------------------------------------------------------------------------------------
// planning (pure)

/** What the nodes said, as planCeph needs it. */
export interface CephFacts {
  publicNetwork: string;
  clusterNetwork?: string;
  cephVersion: string;
  nodes: { name: string; monAddress?: string; installed?: { release: string; version: string }; addresses?: string[] }[];
  monNodes: string[];
  mgrNodes: string[];
  /** ceph.conf summary, undefined before `pveceph init`. */
  conf?: CephConfSummary;
  mons: CephMon[];
  mgrs: CephMgr[];
}

export interface CephPlan {
  problems: string[];
  install: string[];
  init: boolean;
  /** In order; `address` is passed as --mon-address when set. */
  mons: { node: string; address?: string }[];
  /** The node whose monitor is created first gets a manager from pveceph itself. */
  autoMgr?: string;
  mgrs: string[];
  /**
   * Monitors to remove, in monitor-map order, after `mons` were created: those on a configured
   * node (`nodes`) that monNodes does not list. Each is named after its node (pveceph's monid).
   */
  removeMons: string[];
}

export function planCeph(f: CephFacts): CephPlan {
  const problems: string[] = [];
  const wantCluster = f.clusterNetwork && f.clusterNetwork !== "" ? f.clusterNetwork : f.publicNetwork;

  // An existing Ceph must use the configured networks: `pveceph init` would rewrite them.
  if (f.conf) {
    const pubNow = f.conf.publicNetwork;
    const clusterNow = f.conf.clusterNetwork ?? pubNow;
    const diffs: string[] = [];
    if (normalizeNetworks(pubNow) !== normalizeNetworks(f.publicNetwork)) diffs.push(`public network ${pubNow ?? "(not set)"} (config: ${f.publicNetwork})`);
    if (normalizeNetworks(clusterNow) !== normalizeNetworks(wantCluster)) diffs.push(`cluster network ${clusterNow ?? "(not set)"} (config: ${wantCluster})`);
    if (diffs.length > 0) {
      problems.push(
        `Ceph is already initialised (fsid ${f.conf.fsid ?? "unknown"}) with ${diffs.join(" and ")}; ` +
          `re-running pveceph init would rewrite the networks under running monitors and OSDs. ` +
          `Set publicNetwork/clusterNetwork to the existing values, or migrate the networks by hand first`,
      );
    }
  }

  // One Ceph release everywhere; upgrades are not done here.
  const install: string[] = [];
  for (const n of f.nodes) {
    if (!n.installed) install.push(n.name);
    else if (n.installed.release !== f.cephVersion) {
      problems.push(
        `${n.name} runs Ceph ${n.installed.release} (${n.installed.version}) but cephVersion is ${f.cephVersion}; ` +
          `this provider installs Ceph but does not upgrade or downgrade it (upgrade by hand, then set cephVersion: ${n.installed.release} or the new release)`,
      );
    }
  }

  // Monitors: only where missing; an existing monitor must listen where the config says.
  const existing = new Map(f.mons.map((m) => [m.name, m]));
  const used = new Map<string, string>();
  for (const m of f.mons) for (const a of m.addresses) used.set(a, m.name);
  const mons: CephPlan["mons"] = [];
  for (const name of f.monNodes) {
    const node = f.nodes.find((n) => n.name === name);
    const want = node?.monAddress || undefined;
    const have = existing.get(name);
    if (have) {
      if (want && !have.addresses.includes(want)) {
        problems.push(
          `${name}: its monitor listens on ${list(have.addresses)} but monAddress is ${want}; a monitor cannot move. ` +
            `Set monAddress to ${have.addresses[0]}, or destroy and recreate the monitor by hand`,
        );
      }
      continue;
    }
    if (want) {
      const owner = used.get(want);
      if (owner) problems.push(`${name}: monAddress ${want} is already used by monitor ${owner}`);
      if (node?.addresses && !node.addresses.includes(want)) {
        problems.push(`${name}: monAddress ${want} is not configured on ${name} (its addresses: ${list(node.addresses) || "none"})`);
      }
    } else if (node?.addresses) {
      const inNet = node.addresses.filter((a) => splitNetworks(f.publicNetwork).some((net) => ipInCidr(a, net)));
      if (inNet.length === 0) {
        problems.push(`${name} has no address in the Ceph public network ${f.publicNetwork}; add one, or set monAddress for ${name}`);
      } else if (inNet.length > 1) {
        problems.push(`${name} has several addresses in the Ceph public network ${f.publicNetwork} (${list(inNet)}); set monAddress to the one its monitor should use`);
      }
    }
    mons.push({ node: name, address: want });
  }

  // Managers: only where missing; the first monitor of a new cluster brings its own.
  const haveMgr = new Set(f.mgrs.map((m) => m.name));
  const autoMgr = f.mons.length === 0 && mons.length > 0 && !haveMgr.has(mons[0].node) ? mons[0].node : undefined;
  const mgrs = f.mgrNodes.filter((n) => !haveMgr.has(n) && n !== autoMgr);

  // Monitors monNodes no longer lists go, but only on nodes homelab manages: a monitor on a node
  // outside `nodes` (another tool's, or a node being retired by hand) is reported, never removed.
  const managed = new Set(f.nodes.map((n) => n.name));
  const removeMons = f.mons.filter((m) => managed.has(m.name) && !f.monNodes.includes(m.name)).map((m) => m.name);
  if (removeMons.length > 0) {
    const left = [...f.mons.filter((m) => !removeMons.includes(m.name)).map((m) => m.name), ...mons.map((m) => m.node)];
    if (f.nodes.length >= 3 && left.length < 3) {
      // No setting allows fewer: with 2 monitors the loss of either one stops the cluster.
      problems.push(
        `removing monitor ${list(removeMons)} would leave ${left.length} monitor${left.length === 1 ? "" : "s"} (${list(left) || "none"}) ` +
          `on ${f.nodes.length} Ceph nodes; below 3 monitors, losing one stops Ceph (no quorum). ` +
          `Keep at least 3 nodes in monNodes (keep ${list(removeMons)} or add another node), ` +
          `or, to run with fewer monitors anyway, destroy the monitor by hand (pveceph mon destroy <id> on its node) and re-run`,
      );
    }
    const outOfQuorum = f.mons.filter((m) => f.monNodes.includes(m.name) && !m.inQuorum).map((m) => m.name);
    if (outOfQuorum.length > 0) {
      problems.push(
        `monitor ${list(outOfQuorum)} ${outOfQuorum.length === 1 ? "is" : "are"} out of quorum; removing monitor ${list(removeMons)} now could cost the Ceph quorum. ` +
          `Bring ${list(outOfQuorum)} back into the quorum (ceph-mon@<id>.service on its node) and re-run`,
      );
    }
  }

  return { problems, install, init: !f.conf, mons, autoMgr, mgrs, removeMons };
}

// ---------------------------------------------------------------------------------------------
// converge

interface Ctx {
  inputs: CephClusterInputs;
  connectTimeout: number;
  quorumTimeoutMs: number;
  pollMs: number;
}

function refusal(problems: readonly string[]): CephClusterError {
  return new CephClusterError(refusalMessage("Ceph", problems));
}

/**
 * Every Ceph node must be an online member of one quorate Proxmox cluster (a lone standalone node is fine).
 * `offline` lists the nodes that are not online members of an otherwise quorate cluster.
 */
async function proxmoxQuorumProblems(views: NodeView[]): Promise<{ problems: string[]; offline: string[] }> {
  const statuses = await Promise.all(
    views.map(async (v) => {
      const r = await v.session.check(inCLocale(command("pvesh", "get", "/cluster/status", "--output-format", "json")));
      return { view: v, status: parseClusterStatus(r.stdout, v.name) };
    }),
  );
  const problems: string[] = [];
  let offline: string[] = [];
  if (views.length === 1 && statuses[0].status.clusterName === undefined) return { problems, offline }; // single-node Ceph on a standalone node
  const names = new Set(statuses.map((s) => s.status.clusterName).filter((c): c is string => c !== undefined));
  const standalone = statuses.filter((s) => s.status.clusterName === undefined).map((s) => s.view.name);
  if (standalone.length > 0) problems.push(`${list(standalone)} ${standalone.length === 1 ? "is" : "are"} not in a Proxmox cluster; Ceph nodes must be members of one quorate cluster (form it first)`);
  if (names.size > 1) problems.push(`the Ceph nodes are in different Proxmox clusters (${statuses.map((s) => `${s.view.name}: ${s.status.clusterName ?? "none"}`).join(", ")})`);
  for (const s of statuses) {
    if (s.status.clusterName === undefined) continue;
    if (!s.status.quorate) {
      const offline = s.status.nodes.filter((n) => !n.online).map((n) => n.name);
      problems.push(
        `Proxmox cluster "${s.status.clusterName}" is not quorate on ${s.view.name} (offline: ${offline.length ? list(offline) : "none"}); ` +
          `Ceph changes need a quorate cluster (pmxcfs is read-only without quorum)`,
      );
      break;
    }
  }
  if (problems.length === 0) {
    const first = statuses[0].status;
    offline = views.map((v) => v.name).filter((n) => !first.nodes.find((x) => x.name === n)?.online);
    if (offline.length > 0) problems.push(`${list(offline)} ${offline.length === 1 ? "is" : "are"} not an online member of Proxmox cluster "${first.clusterName}" as ${views[0].name} sees it`);
  }
  return { problems, offline };
}

/**
 * Refusal lines for monitors monNodes no longer lists on Ceph nodes this run cannot work on
 * (unreachable over SSH, or offline in the Proxmox cluster): `pveceph mon destroy` only runs on
 * the monitor's own node, so such a monitor can be neither removed nor silently skipped (and
 * `ceph mon remove` from another node would leave the daemon and its data behind). Only adds
 * detail to a refusal that happens anyway, so a failed read is reported in the refusal, not thrown.
 */
async function strandedMonProblems(ctx: Ctx, session: SshSession, down: readonly string[], wanted: readonly string[], why: string): Promise<string[]> {
  let mons: CephMon[];
  try {
    const conf = await readCephConf(session);
    if (!conf || !hasMonitors(conf)) return [];
    mons = monsOf(await readMaps(session, ctx.connectTimeout));
  } catch (err) {
    return [`could not read the monitor map from ${session.node} to look for monitors to remove on ${list(down)}:\n${indent(errorMessage(err), "      ")}`];
  }
  return mons
    .filter((m) => down.includes(m.name) && !wanted.includes(m.name))
    .map(
      (m) =>
        `${m.name} is ${why} but hosts monitor ${m.name}, which monNodes no longer lists; it can only be removed by pveceph mon destroy on ${m.name} itself. ` +
        `Bring ${m.name} back and re-run, or, if ${m.name} is gone for good, remove the monitor by hand (ceph mon remove ${m.name}) and drop ${m.name} from nodes`,
    );
}

/**
 * Poll the monitor map until every named monitor is listed and in quorum and none of `gone` is
 * listed any more. A timeout names `node` (default: the reading node), the step (`after`) and the
 * last monitor map seen.
 */
async function waitForMons(
  ctx: Ctx,
  session: SshSession,
  names: readonly string[],
  after: string,
  gone: readonly string[] = [],
  node: string = session.node,
): Promise<CephMaps> {
  const deadline = Date.now() + ctx.quorumTimeoutMs;
  let last: CephMaps | undefined;
  let lastError = "";
  for (;;) {
    try {
      last = await readMaps(session, ctx.connectTimeout);
      lastError = "";
      const mons = monsOf(last);
      if (names.every((n) => mons.find((m) => m.name === n)?.inQuorum) && !gone.some((g) => mons.some((m) => m.name === g))) return last;
    } catch (err) {
      // Only a monitor still starting can answer later; a deterministic error is reported as it is.
      if (!isCommandFailed(err) || !isRetryableFailure(err.result)) throw err;
      lastError = err.message;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(ctx.pollMs, Math.max(0, deadline - Date.now())));
  }
  const mons = monsOf(last);
  const missing = names.filter((n) => !mons.find((m) => m.name === n)?.inQuorum);
  const still = gone.filter((g) => mons.some((m) => m.name === g));
  const what = [
    ...(missing.length > 0 ? [`monitor(s) ${list(missing)} not in the Ceph quorum`] : []),
    ...(still.length > 0 ? [`monitor(s) ${list(still)} still in the monitor map`] : []),
  ];
  throw new CephClusterError(
    `${node}: ${what.join(" and ") || "no monitor map"} within ${Math.round(ctx.quorumTimeoutMs / 1000)} s after ${after}` +
      (last ? ` (monitors: ${mons.map((m) => `${m.name}${m.inQuorum ? "" : " (out of quorum)"}`).join(", ") || "none"})` : " (the monitor map could not be read)") +
      (lastError ? `\n  last error: ${lastError}` : ""),
  );
}

/** Poll the manager map until every named manager registered (active or standby); returns the maps it ended on. */
async function waitForMgrs(ctx: Ctx, session: SshSession, names: readonly string[]): Promise<CephMaps> {
  const deadline = Date.now() + ctx.quorumTimeoutMs;
  let mgrs: CephMgr[] = [];
  for (;;) {
    const maps = await readMaps(session, ctx.connectTimeout);
    mgrs = mgrsOf(maps);
    if (names.every((n) => mgrs.some((m) => m.name === n))) return maps;
    if (Date.now() >= deadline) break;
    await sleep(Math.min(ctx.pollMs, Math.max(0, deadline - Date.now())));
  }
  const missing = names.filter((n) => !mgrs.some((m) => m.name === n));
  throw new CephClusterError(
    `${session.node}: manager(s) ${list(missing)} did not register with the cluster within ${Math.round(ctx.quorumTimeoutMs / 1000)} s ` +
      `(registered: ${list(mgrs.map((m) => m.name)) || "none"}); check ceph-mgr@<node>.service on ${list(missing)}`,
  );
}

interface CephState {
  fsid: string;
  publicNetwork?: string;
  clusterNetwork?: string;
  mons: CephMon[];
  mgrs: CephMgr[];
  installed: CephInstall[];
}

async function convergeCeph(inputs: CephClusterInputs): Promise<CephState> {
  const problems = inputProblems(inputs);
  if (problems.length > 0) throw refusal(problems);
  const ctx: Ctx = { inputs, ...settings(inputs) };
  const { mons: monNodes, mgrs: mgrNodes } = roles(inputs);
  const { sessions, failures } = await openSessions(inputs.nodes, inputs.sshPrivateKey);
  const unreachable = failures.map((f) => f.node);
  try {
    if (failures.length > 0) {
      // Say so when an unreachable node hosts a monitor to remove: it is not skipped silently.
      const reader = inputs.nodes.map(nameOf).find((n) => sessions.has(n));
      const stranded = reader ? await strandedMonProblems(ctx, sessions.get(reader)!, unreachable, monNodes, "unreachable") : [];
      throw refusal([...failures.map((f) => `cannot reach ${f.message}`), ...stranded]);
    }
    const views: NodeView[] = inputs.nodes.map((spec) => ({ spec, name: nameOf(spec), session: sessions.get(nameOf(spec))! }));
    const first = views[0];

    // 1. The Proxmox cluster must be quorate before anything.
    const quorum = await proxmoxQuorumProblems(views);
    if (quorum.problems.length > 0) {
      // `offline` is only set when the cluster is quorate, so Ceph can be asked.
      const reader = views.find((v) => !quorum.offline.includes(v.name));
      const stranded = quorum.offline.length > 0 && reader ? await strandedMonProblems(ctx, reader.session, quorum.offline, monNodes, "offline") : [];
      throw refusal([...quorum.problems, ...stranded]);
    }

    // 2. Read everything.
    const v6 = splitNetworks(inputs.publicNetwork).some((n) => parseCidr(n)?.v === 6);
    await Promise.all(
      views.map(async (v) => {
        v.install = await readInstall(v.session);
        if (monNodes.includes(v.name)) v.addresses = await readAddresses(v.session, v6);
      }),
    );
    const conf = await readCephConf(first.session);
    let maps: CephMaps | undefined;
    if (conf && hasMonitors(conf)) {
      try {
        maps = await readMaps(first.session, ctx.connectTimeout);
      } catch (err) {
        if (!isCommandFailed(err)) throw err;
        throw refusal([
          `Ceph ${conf.fsid ?? ""} has monitors configured (${list(conf.monHost) || list(conf.monSections)}) but does not answer from ${first.name}; ` +
            `bring the monitors back (quorum) before changing anything:\n${indent(err.message, "      ")}`,
        ]);
      }
    }
    const plan = planCeph({
      publicNetwork: inputs.publicNetwork,
      clusterNetwork: inputs.clusterNetwork,
      cephVersion: inputs.cephVersion,
      nodes: views.map((v) => ({ name: v.name, monAddress: v.spec.monAddress, installed: v.install, addresses: v.addresses })),
      monNodes,
      mgrNodes,
      conf,
      mons: monsOf(maps),
      mgrs: mgrsOf(maps),
    });
    if (plan.problems.length > 0) throw refusal(plan.problems);

    // 3. Change only what is missing, in pveceph's order.
    await Promise.all(
      views
        .filter((v) => plan.install.includes(v.name))
        .map(async (v) => {
          const cmd = inCLocale(command("pveceph", "install", "--repository", inputs.repository, "--version", inputs.cephVersion));
          // stdin is a closed pipe, not a TTY: no "continue (y/N)?" prompt (pve-cli.md §0.5).
          await v.session.check(cmd, { stdin: "", timeoutMs: 60 * 60_000 });
          const now = await readInstall(v.session);
          if (!now || now.release !== inputs.cephVersion) {
            throw new CephClusterError(
              `${v.name}: pveceph install --version ${inputs.cephVersion} finished but ceph-mon reports ${now ? `${now.release} ${now.version}` : "no Ceph installed"}`,
            );
          }
          v.install = now;
        }),
    );

    if (plan.init) {
      const args = ["pveceph", "init", "--network", inputs.publicNetwork];
      if (inputs.clusterNetwork) args.push("--cluster-network", inputs.clusterNetwork);
      await first.session.check(inCLocale(command(...args)));
      const after = await readCephConf(first.session);
      if (!after?.fsid) throw new CephClusterError(`${first.name}: pveceph init succeeded but /etc/pve/ceph.conf has no fsid`);
    }

    // The maps the last wait ended on: every change below is followed by a wait, so they are current.
    let settled: CephMaps | undefined;
    for (const m of plan.mons) {
      const v = views.find((x) => x.name === m.node)!;
      const args = ["pveceph", "mon", "create"];
      if (m.address) args.push("--mon-address", m.address);
      // A worker with upid_exit: the exit code is trustworthy; the first monitor prints
      // rados_connect noise on stderr even when it succeeds (pve-cli.md §2.3).
      await v.session.check(inCLocale(command(...args)));
      maps = await waitForMons(ctx, first.session, [m.node], `pveceph mon create on ${m.node}`);
      settled = maps;
    }

    for (const name of plan.mgrs) {
      if (mgrsOf(maps).some((x) => x.name === name)) continue;
      const v = views.find((x) => x.name === name)!;
      const cmd = inCLocale(command("pveceph", "mgr", "create"));
      const r = await v.session.run(cmd);
      if (r.code !== 0 && !/ceph manager directory '.*' already exists/.test(r.stderr)) throw new CommandFailedError(v.name, cmd, r);
    }
    if (plan.mgrs.length > 0 || plan.autoMgr) settled = await waitForMgrs(ctx, first.session, [...plan.mgrs, ...(plan.autoMgr ? [plan.autoMgr] : [])]);

    // 4. Only now remove the monitors monNodes no longer lists: one at a time, each only while every
    // wanted monitor (those created above included) is in quorum, each waited for until it left the
    // monitor map and the quorum re-formed. The node's manager stays: managers hold no state, are
    // only ever added here (mgrNodes), and a standby is harmless; remove one by hand with
    // `pveceph mgr destroy <id>` if it should go too.
    for (const id of plan.removeMons) {
      const v = views.find((x) => x.name === id)!;
      const now = monsOf(await readMaps(first.session, ctx.connectTimeout));
      if (!now.some((m) => m.name === id)) continue; // gone meanwhile
      const out = monNodes.filter((n) => !now.find((m) => m.name === n)?.inQuorum);
      if (out.length > 0) {
        throw new CephClusterError(
          `${id}: refusing to remove monitor ${id}: wanted monitor(s) ${list(out)} not in the Ceph quorum ` +
            `(monitors: ${now.map((m) => `${m.name}${m.inQuorum ? "" : " (out of quorum)"}`).join(", ")}); removing one now could cost the quorum. ` +
            `Bring ${list(out)} back into the quorum and re-run`,
        );
      }
      // A worker with upid_exit (pve-cli.md §0.2): a failed task exits 255. Its checks (the monitor
      // exists, its data directory is on this node, it is not the last one) run before the fork.
      await v.session.check(inCLocale(command("pveceph", "mon", "destroy", id)));
      settled = await waitForMons(ctx, first.session, monNodes, `pveceph mon destroy ${id} on ${id}`, [id], id);
    }

    // 5. Report what is there now.
    const finalConf = await readCephConf(first.session);
    if (!finalConf?.fsid) throw new CephClusterError(`${first.name}: /etc/pve/ceph.conf is missing after the changes`);
    const finalMaps = hasMonitors(finalConf) ? (settled ?? (await readMaps(first.session, ctx.connectTimeout))) : undefined;
    return definedFields({
      fsid: finalConf.fsid,
      publicNetwork: finalConf.publicNetwork,
      clusterNetwork: finalConf.clusterNetwork,
      mons: monsOf(finalMaps),
      mgrs: mgrsOf(finalMaps),
      installed: views.map((v) => ({ node: v.name, release: v.install?.release ?? "", version: v.install?.version ?? "" })),
    });
  } finally {
    closeAll(sessions);
  }
}

// ---------------------------------------------------------------------------------------------
// read

/** Real state for `pulumi refresh`; undefined when Ceph is gone (no ceph.conf on any reachable node). */
async function readCeph(props: CephClusterOutputs): Promise<CephState | undefined> {
  const { connectTimeout } = settings(props);
  const { sessions, failures } = await openSessions(props.nodes ?? [], props.sshPrivateKey);
  try {
    const reachable = (props.nodes ?? []).map(nameOf).filter((n) => sessions.has(n));
    if (reachable.length === 0) throw new CephClusterError(`cannot read Ceph: no node answers:\n${failures.map((f) => `  - ${f.message}`).join("\n")}`);
    const installed: CephInstall[] = [];
    for (const name of (props.nodes ?? []).map(nameOf)) {
      const s = sessions.get(name);
      const inst = s ? await readInstall(s) : undefined;
      // An unreachable node keeps what was known.
      installed.push(s ? { node: name, release: inst?.release ?? "", version: inst?.version ?? "" } : (props.installed ?? []).find((i) => i.node === name) ?? { node: name, release: "", version: "" });
    }
    const session = sessions.get(reachable[0])!;
    const conf = await readCephConf(session);
    if (!conf) return undefined;
    const maps = hasMonitors(conf) ? await readMaps(session, connectTimeout) : undefined;
    return { fsid: conf.fsid ?? "", publicNetwork: conf.publicNetwork, clusterNetwork: conf.clusterNetwork, mons: monsOf(maps), mgrs: mgrsOf(maps), installed };
  } finally {
    closeAll(sessions);
  }
}

// ---------------------------------------------------------------------------------------------
// the provider

function outputsOf(inputs: CephClusterInputs, state: CephState): CephClusterOutputs {
  return { ...inputs, fsid: state.fsid, mons: state.mons, mgrs: state.mgrs, installed: state.installed };
}

/** Keys whose change needs `update` (none needs a replacement: Ceph is never re-created). */
const COMPARED_KEYS = [
  "providerVersion",
  "publicNetwork",
  "clusterNetwork",
  "cephVersion",
  "repository",
  "monNodes",
  "mgrNodes",
  "connectTimeoutSeconds",
  "monQuorumTimeoutSeconds",
  "pollIntervalSeconds",
  "sshPrivateKey",
] as const;

/** Why the real state (olds, from create/read) differs from what the inputs want. */
export function drift(olds: CephClusterOutputs, news: CephClusterInputs): string[] {
  const reasons: string[] = [];
  const { mons, mgrs } = roles(news);
  const haveMons = new Set((olds.mons ?? []).map((m) => m.name));
  const missingMons = mons.filter((n) => !haveMons.has(n));
  if (missingMons.length) reasons.push(`monitor missing on ${list(missingMons)}`);
  // A monitor on a managed node that monNodes does not list is removed; one elsewhere is not ours.
  const managed = new Set((news.nodes ?? []).map(nameOf));
  const extraMons = (olds.mons ?? []).map((m) => m.name).filter((n) => managed.has(n) && !mons.includes(n));
  if (extraMons.length) reasons.push(`monitor on ${list(extraMons)}, which monNodes does not list`);
  const haveMgrs = new Set((olds.mgrs ?? []).map((m) => m.name));
  const missingMgrs = mgrs.filter((n) => !haveMgrs.has(n));
  if (missingMgrs.length) reasons.push(`manager missing on ${list(missingMgrs)}`);
  const notInstalled = (news.nodes ?? []).map(nameOf).filter((n) => (olds.installed ?? []).find((i) => i.node === n)?.release !== news.cephVersion);
  if (notInstalled.length) reasons.push(`Ceph ${news.cephVersion} not installed on ${list(notInstalled)}`);
  return reasons;
}

export const cephClusterProvider: pulumi.dynamic.ResourceProvider<CephClusterInputs, CephClusterOutputs> = {
  async check(_olds, news) {
    const judgeable = !isUnknown(news) && Array.isArray(news.nodes);
    const problems = judgeable ? inputProblems(news as CephClusterInputs) : [];
    return { inputs: news, failures: problems.map((reason) => ({ property: "nodes", reason })) };
  },

  async create(inputs) {
    const state = await convergeCeph(inputs);
    return { id: state.fsid, outs: outputsOf(inputs, state) };
  },

  async read(id, props) {
    if (!props) throw new CephClusterError(`${id}: no stored state to refresh from`);
    const state = await readCeph(props);
    if (!state) return { id: "", props: { ...props, mons: [], mgrs: [] } };
    return {
      id: state.fsid || id,
      props: definedFields({
        ...props,
        // The real networks: a re-initialised Ceph shows up as a change the next update refuses.
        publicNetwork: state.publicNetwork ?? props.publicNetwork,
        clusterNetwork: props.clusterNetwork === undefined && state.clusterNetwork === state.publicNetwork ? undefined : state.clusterNetwork,
        fsid: state.fsid,
        mons: state.mons,
        mgrs: state.mgrs,
        installed: state.installed,
      }),
    };
  },

  async diff(_id, olds, news) {
    const changed: string[] = [];
    for (const key of COMPARED_KEYS) {
      if (isUnknown(news[key]) || stableJson(olds[key]) !== stableJson(news[key])) changed.push(key);
    }
    if (isUnknown(news.nodes) || stableJson(olds.nodes ?? []) !== stableJson(news.nodes ?? [])) changed.push("nodes");
    if (!isUnknown(news) && drift(olds, news).length > 0 && !changed.includes("nodes")) changed.push("nodes");
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const state = await convergeCeph(news);
    return { outs: outputsOf(news, state) };
  },

  async delete() {
    // Ceph stays: removing the resource never destroys monitors, managers or data.
  },
};

// ---------------------------------------------------------------------------------------------
// the resource

/** Resource inputs as a program passes them. */
export interface CephClusterResourceArgs {
  nodes: pulumi.Input<pulumi.Input<CephNodeSpec>[]>;
  sshPrivateKey?: pulumi.Input<string>;
  publicNetwork: pulumi.Input<string>;
  clusterNetwork?: pulumi.Input<string>;
  cephVersion: pulumi.Input<string>;
  repository: pulumi.Input<string>;
  monNodes?: pulumi.Input<pulumi.Input<string>[]>;
  mgrNodes?: pulumi.Input<pulumi.Input<string>[]>;
  connectTimeoutSeconds?: pulumi.Input<number>;
  monQuorumTimeoutSeconds?: pulumi.Input<number>;
  pollIntervalSeconds?: pulumi.Input<number>;
}

/** Registered as `pulumi-nodejs:dynamic/ceph:Cluster`. */
export class CephClusterResource extends pulumi.dynamic.Resource {
  declare readonly fsid: pulumi.Output<string>;
  declare readonly publicNetwork: pulumi.Output<string>;
  declare readonly clusterNetwork: pulumi.Output<string | undefined>;
  declare readonly mons: pulumi.Output<CephMon[]>;
  declare readonly mgrs: pulumi.Output<CephMgr[]>;
  declare readonly installed: pulumi.Output<CephInstall[]>;

  constructor(name: string, args: CephClusterResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      cephClusterProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, CEPH_CLUSTER_PROVIDER_VERSION),
        fsid: undefined,
        mons: undefined,
        mgrs: undefined,
        installed: undefined,
      },
      sshResourceOptions(opts),
      "ceph",
      "Cluster",
    );
  }
}
