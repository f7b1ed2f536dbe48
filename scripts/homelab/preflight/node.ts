/**
 * What preflight reads from one node over one SSH session, read-only: its
 * Proxmox version, how it resolves every node's name, its clock, its OSD
 * devices and the snippet storage. Each reading becomes a check result.
 */
import { errorMessage } from "../../../infra/errors";
import { parseToolJson } from "../../../infra/parse/json";
import { parsePveversion } from "../../../infra/parse/pveversion";
import { planOsds, readDeviceFacts } from "../../../infra/providers/ceph/ceph-osd";
import { sshOptions, sshTarget } from "../../../infra/providers/connection";
import { PVE_ROOT_CA } from "../../../infra/pve-ca";
import { command, inCLocale, sh } from "../../../infra/shell";
import { SshSession, connect } from "../../../infra/ssh";
import { supportsContent } from "../../../infra/storage-types";
import type { Environment } from "../../../stacks/schema";
import { CheckResult, Outcome, secondsSince, timed } from "../checks";
import type { OperatedEnvironment } from "../target";
import { nodeArgs } from "../target";
import { NodeRelease, judgeClock, judgeResolution, sshFailure } from "./judge";

export interface NodeReading {
  results: CheckResult[];
  /** Absent when the node could not be read. */
  release?: NodeRelease;
  /** How long reading the release took. */
  releaseSeconds?: number;
  /** The cluster CA (`/etc/pve/pve-root-ca.pem`), to trust the API with. */
  clusterCa?: string;
}

export interface NodeCheckSettings {
  clockSkewSeconds: number;
  /** The snippet storage templates need, when any does. */
  snippetStorage?: string;
  /** Read the cluster CA from this node. */
  readCa: boolean;
}

/** Connect with the pinned host key; the failure is a check result with what to do. */
async function open(target: OperatedEnvironment, env: Environment, name: string): Promise<{ session?: SshSession; result: CheckResult }> {
  const args = nodeArgs(target, env, name);
  const { host, port } = args.connection;
  const start = Date.now();
  try {
    const session = await connect(sshTarget(args), sshOptions(args));
    const key = args.connection.insecureIgnoreHostKey ? "host key NOT pinned (insecureIgnoreHostKey)" : `host key ${session.presentedHostKey} as pinned`;
    return { session, result: { check: "ssh", node: name, ok: true, detail: `${name}: ${host}:${port} answers, ${key}`, durationSeconds: secondsSince(start) } };
  } catch (err) {
    return { result: { check: "ssh", node: name, ...sshFailure(name, host, port, err), durationSeconds: secondsSince(start) } };
  }
}

async function readRelease(session: SshSession): Promise<NodeRelease> {
  const out = (await session.check(inCLocale(command("pveversion")))).stdout;
  const v = parsePveversion(out);
  if (!v) throw new Error(`${session.node}: pveversion printed ${JSON.stringify(out.trim())}; is this a Proxmox VE node?`);
  return { node: session.node, version: v.version, release: v.release };
}

async function resolution(session: SshSession, env: Environment): Promise<Outcome> {
  const names = env.nodes.map((n) => n.name);
  // One line per name: the name, a tab, the first address getent gives (empty when none).
  const r = await session.check(sh`for n in ${names}; do printf '%s\\t%s\\n' "$n" "$(getent hosts "$n" | awk '{print $1; exit}')"; done`);
  const answers: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const [name, address] = line.split("\t");
    if (name) answers[name] = (address ?? "").trim();
  }
  return judgeResolution(session.node, answers, Object.fromEntries(env.nodes.map((n) => [n.name, n.address])));
}

async function clock(session: SshSession, boundSeconds: number): Promise<Outcome> {
  const before = Date.now() / 1000;
  const r = await session.check(command("date", "+%s.%N"));
  const after = Date.now() / 1000;
  const remote = Number(r.stdout.trim());
  if (!Number.isFinite(remote)) throw new Error(`${session.node}: date +%s.%N printed ${JSON.stringify(r.stdout.trim())}, not a time`);
  return judgeClock(session.node, remote, before, after, boundSeconds);
}

async function osdDevices(session: SshSession, env: Environment): Promise<Outcome> {
  const index = env.nodes.findIndex((n) => n.name === session.node);
  const osds = env.nodes[index].osds;
  const plan = planOsds(session.node, osds, await readDeviceFacts(session, osds));
  const devices = osds.map((o) => o.device).join(", ");
  if (plan.problems.length === 0) {
    const zap = plan.zap.length ? `; ${plan.zap.join(", ")} will be wiped (wipe: true)` : "";
    return { ok: true, detail: `${session.node}: ${devices} present and empty or ours${zap}` };
  }
  return {
    ok: false,
    detail: plan.problems.join("; "),
    fix:
      `look at the device on ${session.node} (\`lsblk -f\`); if its data may be destroyed set wipe: true on it in nodes[${index}].osds, ` +
      `otherwise point nodes[${index}].osds at an empty disk`,
  };
}

async function snippetStorage(session: SshSession, storage: string): Promise<Outcome> {
  const out = (await session.check(inCLocale(command("pvesh", "get", "/storage", "--output-format", "json")))).stdout;
  const rows = parseToolJson<{ storage?: unknown; type?: unknown }[]>(out, session.node, "pvesh get /storage");
  const entry = Array.isArray(rows) ? rows.find((r) => r?.storage === storage) : undefined;
  const where = `snippets.storage of the stack file`;
  if (!entry) {
    return {
      ok: false,
      detail: `${session.node}: storage '${storage}' does not exist (pvesh get /storage), and templates need it for the guest-agent snippet`,
      fix: `define a directory storage '${storage}' (pvesm add dir ${storage} --path <dir>), or set ${where} to an existing directory storage such as local`,
    };
  }
  const type = String(entry.type);
  if (!supportsContent(type, "snippets")) {
    return { ok: false, detail: `${session.node}: storage '${storage}' is of type ${type}, which cannot hold snippets`, fix: `set ${where} to a directory-type storage (dir, nfs, cifs, cephfs), e.g. local` };
  }
  return { ok: true, detail: `${session.node}: storage '${storage}' (${type}) can hold the guest-agent snippet` };
}

/** Every per-node check of one node; the session is closed at the end. */
export async function checkNode(target: OperatedEnvironment, env: Environment, name: string, settings: NodeCheckSettings): Promise<NodeReading> {
  const { session, result } = await open(target, env, name);
  if (!session) return { results: [result] };
  const results: CheckResult[] = [result];
  try {
    let release: NodeRelease | undefined;
    const version = await timed("pve-version", name, async () => {
      release = await readRelease(session);
      return { ok: true, detail: `${name}: Proxmox VE ${release.version}` };
    }, `install Proxmox VE on ${name}, or remove it from nodes`);
    // A node that was read gets its version judged against the others later.
    if (!version.ok) results.push(version);
    results.push(await timed("hostname-resolution", name, () => resolution(session, env)));
    results.push(await timed("clock", name, () => clock(session, settings.clockSkewSeconds)));
    if (env.nodes.find((n) => n.name === name)!.osds.length > 0) {
      results.push(await timed("osd-devices", name, () => osdDevices(session, env)));
    }
    if (settings.snippetStorage !== undefined) {
      const storage = settings.snippetStorage;
      results.push(await timed("snippet-storage", name, () => snippetStorage(session, storage)));
    }
    let clusterCa: string | undefined;
    if (settings.readCa) {
      const ca = await session.run(command("cat", PVE_ROOT_CA));
      if (ca.code === 0) clusterCa = ca.stdout;
    }
    return { results, ...(release ? { release, releaseSeconds: version.durationSeconds } : {}), ...(clusterCa ? { clusterCa } : {}) };
  } catch (err) {
    // A connection lost midway: what was read stays, the rest is one failure.
    results.push({ check: "ssh", node: name, ok: false, detail: errorMessage(err), durationSeconds: 0 });
    return { results };
  } finally {
    session.close();
  }
}
