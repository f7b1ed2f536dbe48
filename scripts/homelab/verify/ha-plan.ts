/**
 * Decisions of the HA verification (./ha.ts, run by `scripts/ha-verify.ts` and by verify), pure and unit-tested:
 * - where each HA resource may run (PVE 8 group or PVE 9 node-affinity rule) and whether it does;
 * - which node a test VM is live-migrated to (online members, inside its HA placement), and what
 *   the migration log (`qm migrate --online` output, or the HA-run qmigrate task's log) reported;
 * - when a migration requested through HA (`ha-manager migrate`) is done, from
 *   `/cluster/ha/status/current`, and which task of `/nodes/<node>/tasks` it ran as.
 *
 * `qm migrate` log lines (captures from real PVE 8/9 clusters):
 *   `2025-01-04 00:34:38 average migration speed: 457.0 MiB/s - downtime 73 ms`
 *   `2025-01-04 00:34:42 migration finished successfully (duration 00:00:18)`
 *   `… ERROR: migration aborted (duration 00:00:00): Can't connect to destination address using public key`
 *   `… can't migrate local disk 'zfs-local:vm-101-disk-0': can't live migrate attached local disks without with-local-disks option`
 * Sources: proxmox/pve-guest-common AbstractMigrate.pm (timestamps, ERROR prefix, abort line),
 * proxmox/qemu-server QemuMigrate.pm (phase texts), proxmox/pve-manager PVE/API2/Tasks.pm (task list).
 */
import { parseClusterStatus } from "../../../infra/parse/cluster";
import { asNumber, parseToolJson } from "../../../infra/parse/json";
import type { HaGroupConfig, HaResourceConfig, HaRuleConfig, HaStatus } from "../../../infra/parse/ha";

/** Everything the HA check reads from one node. */
export interface HaSnapshot {
  /** Cluster members. */
  nodes: string[];
  status: HaStatus;
  resources: HaResourceConfig[];
  /** PVE 8 (or PVE 9 before migration). */
  groups?: HaGroupConfig[];
  /** PVE 9. */
  rules?: HaRuleConfig[];
}

export interface PlacementCheck {
  sid: string;
  /** Where the CRM reports it; undefined when it has no service row. */
  node?: string;
  state?: string;
  /** Nodes it may run on. */
  allowed: string[];
  /** Highest-priority allowed nodes (where it should run when they are up). */
  preferred: string[];
  ok: boolean;
  reason?: string;
}

function top(nodes: { node: string; priority?: number }[]): string[] {
  const max = Math.max(...nodes.map((n) => n.priority ?? 0));
  return nodes.filter((n) => (n.priority ?? 0) === max).map((n) => n.node).sort();
}

/** Allowed and preferred nodes of one HA resource. */
export function allowedNodes(sid: string, snap: HaSnapshot): { allowed: string[]; preferred: string[]; via?: string } {
  const all = [...snap.nodes].sort();
  const res = snap.resources.find((r) => r.sid === sid);
  if (res?.group && snap.groups) {
    const g = snap.groups.find((x) => x.name === res.group);
    if (g && g.nodes.length) {
      const listed = g.nodes.map((n) => n.node).sort();
      return { allowed: g.restricted ? listed : all, preferred: top(g.nodes), via: `group ${g.name}` };
    }
  }
  for (const rule of snap.rules ?? []) {
    if (rule.disabled || rule.type !== "node-affinity" || !rule.resources.includes(sid) || !rule.nodes.length) continue;
    const listed = rule.nodes.map((n) => n.node).sort();
    return { allowed: rule.strict ? listed : all, preferred: top(rule.nodes), via: `rule ${rule.id}` };
  }
  return { allowed: all, preferred: all };
}

/** One entry per HA resource: does it run where its placement allows? */
export function checkHaPlacement(snap: HaSnapshot): PlacementCheck[] {
  return [...snap.resources]
    .sort((a, b) => a.sid.localeCompare(b.sid))
    .map((r) => {
      const { allowed, preferred, via } = allowedNodes(r.sid, snap);
      const svc = snap.status.services.find((s) => s.sid === r.sid);
      const base = { sid: r.sid, allowed, preferred };
      if (!svc) return { ...base, ok: false, reason: `${r.sid} has no HA service status (is the CRM running?)` };
      const where = { ...base, node: svc.node, state: svc.state };
      if (!allowed.includes(svc.node)) {
        return { ...where, ok: false, reason: `${r.sid} runs on ${svc.node}, but ${via ?? "its placement"} allows only ${allowed.join(", ")}` };
      }
      if (svc.state === "error" || svc.state === "fence") return { ...where, ok: false, reason: `${r.sid} is in HA state ${svc.state}` };
      return { ...where, ok: true };
    });
}

/** A cluster member as `/cluster/status` reports it. */
export interface ClusterMember {
  name: string;
  online: boolean;
  ip?: string;
}

/** Members from `pvesh get /cluster/status --output-format json`, sorted by name. */
export function parseClusterMembers(stdout: string, node: string): ClusterMember[] {
  return parseClusterStatus(stdout, node)
    .nodes.map(({ name, online, ip }) => ({ name, online, ...(ip === undefined ? {} : { ip }) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface MigrationPlan {
  vmid: number;
  source: string;
  target: string;
  /** The VM is HA-managed: the migration is requested with `ha-manager migrate` and run by the CRM. */
  viaHa?: boolean;
  /** Something the operator should know (e.g. HA failback will move the VM back). */
  note?: string;
}

/** What constrains the choice of a migration target. */
export interface MigrationConstraints {
  /** Members that are up (`/cluster/status` online = 1). All members when absent. */
  online?: readonly string[];
  /** The VM's HA resource and the nodes its placement allows (see `allowedNodes`). */
  ha?: { sid: string; allowed: readonly string[]; preferred: readonly string[]; via?: string };
  /** The VM's status from `/cluster/resources`; a live migration needs "running". */
  status?: string;
}

/**
 * Pick the target: the requested one, else the first online member other than the source (by
 * name) — for an HA-managed VM the first of its preferred nodes, then of the other nodes its
 * placement allows. Throws a clear error for a target that cannot work.
 */
export function planMigration(vmid: number, source: string, nodes: readonly string[], target?: string, constraints: MigrationConstraints = {}): MigrationPlan {
  const { online, ha, status } = constraints;
  const members = [...nodes].sort();
  const isOnline = (n: string) => !online || online.includes(n);
  if (status !== undefined && status !== "running") throw new Error(`VM ${vmid} on ${source} is ${status}; a live migration needs a running VM`);
  const viaHa = ha ? { viaHa: true } : {};
  const note = (t: string) => {
    if (!ha || !ha.via || ha.preferred.includes(t)) return {};
    return { note: `${t} is not a preferred node of ${ha.sid} (${ha.via} prefers ${ha.preferred.join(", ")}); HA failback may move it back` };
  };
  if (target !== undefined) {
    if (target === source) throw new Error(`VM ${vmid} already runs on ${target}; pick another target`);
    if (!members.includes(target)) throw new Error(`target ${target} is not a cluster member (${members.join(", ")})`);
    if (ha && !ha.allowed.includes(target)) {
      throw new Error(`target ${target} is outside the HA placement of ${ha.sid}: ${ha.via ?? "its placement"} allows only ${ha.allowed.join(", ")}`);
    }
    if (!isOnline(target)) throw new Error(`target node ${target} is offline (pvesh get /cluster/status)`);
    return { vmid, source, target, ...viaHa, ...note(target) };
  }
  const candidates = members.filter((n) => n !== source && isOnline(n));
  const ordered = ha ? [...ha.preferred.filter((n) => candidates.includes(n)), ...ha.allowed.filter((n) => candidates.includes(n))] : candidates;
  const chosen = ordered[0];
  if (!chosen) {
    const where = ha ? ` allowed by the HA placement of ${ha.sid} (${ha.via ?? "any node"}: ${ha.allowed.join(", ")})` : "";
    throw new Error(`VM ${vmid}: no other online node${where} to migrate to (cluster: ${members.join(", ")}; online: ${members.filter(isOnline).join(", ")})`);
  }
  return { vmid, source, target: chosen, ...viaHa, ...note(chosen) };
}

/** Progress of a migration requested through HA, from `/cluster/ha/status/current`. */
export interface HaMigrationStep {
  /** The service runs on the target and is started. */
  done: boolean;
  /** The CRM shows it moving (state "migrate"). */
  moving: boolean;
  /** The service is in a state it will not leave by itself (error, fence). */
  failed?: string;
  /** Where the status shows it, e.g. "b1 (migrate)". */
  where: string;
}

export function haMigrationStep(status: HaStatus, sid: string, plan: MigrationPlan): HaMigrationStep {
  const svc = status.services.find((s) => s.sid === sid);
  if (!svc) return { done: false, moving: false, where: "nowhere (no HA service status)" };
  const where = `${svc.node} (${svc.state})`;
  if (svc.node === plan.target && svc.state === "started") return { done: true, moving: false, where };
  if (svc.state === "error" || svc.state === "fence") return { done: false, moving: false, failed: `${sid} is in HA state ${svc.state} on ${svc.node}`, where };
  return { done: false, moving: svc.state === "migrate", where };
}

/** One row of `pvesh get /nodes/<node>/tasks --output-format json`. */
export interface TaskEntry {
  upid: string;
  node: string;
  type: string;
  id: string;
  starttime: number;
  /** Absent while the task runs. */
  endtime?: number;
  /** "OK", "WARNINGS: n", "RUNNING" (active list) or the error text. */
  status?: string;
}

export function parseTaskList(stdout: string, node: string): TaskEntry[] {
  const rows = parseToolJson<unknown>(stdout, node, "pvesh get /nodes/<node>/tasks");
  if (!Array.isArray(rows)) throw new Error(`${node}: pvesh get /nodes/<node>/tasks did not print a JSON list`);
  return rows
    .filter((r): r is Record<string, unknown> => !!r && typeof r === "object" && typeof r.upid === "string")
    .map((r) => ({
      upid: String(r.upid),
      node: String(r.node ?? ""),
      type: String(r.type ?? ""),
      id: String(r.id ?? ""),
      starttime: asNumber(r.starttime) ?? 0,
      ...(asNumber(r.endtime) === undefined ? {} : { endtime: asNumber(r.endtime) }),
      ...(typeof r.status === "string" ? { status: r.status } : {}),
    }));
}

/** The newest task whose UPID was not in the list taken before the request. */
export function newestNewTask(before: readonly string[], after: readonly TaskEntry[]): TaskEntry | undefined {
  return after
    .filter((t) => !before.includes(t.upid))
    .sort((a, b) => b.starttime - a.starttime || b.upid.localeCompare(a.upid))[0];
}

/** A finished task whose status is neither OK nor warnings. */
export function taskFailed(t: TaskEntry): boolean {
  return t.endtime !== undefined && t.status !== undefined && t.status !== "OK" && !/^WARNINGS: \d+$/.test(t.status);
}

/** `pvesh get /nodes/<node>/tasks/<upid>/log --output-format json` ([{n, t}]) as text. */
export function parseTaskLog(stdout: string, node: string): string {
  const rows = parseToolJson<unknown>(stdout, node, "pvesh get /nodes/<node>/tasks/<upid>/log");
  if (!Array.isArray(rows)) throw new Error(`${node}: pvesh get /nodes/<node>/tasks/<upid>/log did not print a JSON list`);
  return rows
    .filter((r): r is { n: unknown; t: unknown } => !!r && typeof r === "object")
    .map((r) => ({ n: asNumber(r.n) ?? 0, t: String(r.t ?? "") }))
    .sort((a, b) => a.n - b.n)
    .map((r) => r.t)
    .join("\n");
}

export interface MigrationResult {
  ok: boolean;
  /** Reported by QEMU (`- downtime N ms`). */
  downtimeMs?: number;
  /** From `migration finished successfully (duration HH:MM:SS)`. */
  durationS?: number;
  /** Speed text as logged, e.g. "457.0 MiB/s". */
  averageSpeed?: string;
  /** Why it failed, from the log (the abort line and the refusals it refers to). */
  error?: string;
}

const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /;

/**
 * Why a migration log failed: `ERROR: migration aborted (…): <reason>` (else every `ERROR:` line,
 * else `TASK ERROR:`), followed by the `can't migrate local disk …` refusals it refers to.
 */
export function migrationError(log: string): string | undefined {
  const lines = log.split("\n").map((l) => l.replace(STAMP, "").trim());
  const abort = lines.find((l) => l.startsWith("ERROR: migration aborted"));
  const errors = lines.filter((l) => l.startsWith("ERROR: ")).map((l) => l.slice("ERROR: ".length));
  const task = lines.find((l) => l.startsWith("TASK ERROR: "));
  const main = abort ? abort.slice("ERROR: ".length) : errors.length ? errors.join("; ") : task?.slice("TASK ERROR: ".length);
  if (!main) return undefined;
  const refusals = lines.filter((l) => /^can't migrate (local disk|local cdrom)/.test(l));
  return [main, ...refusals].join("; ");
}

/** Parse the log of `qm migrate <vmid> <target> --online` (or of the qmigrate task HA ran). */
export function parseMigrationLog(log: string): MigrationResult {
  const down = /average migration speed:\s*(\S+ \S+)\s*-\s*downtime\s+(\d+)\s*ms/.exec(log);
  const fin = /migration finished successfully \(duration (\d+):(\d+):(\d+)\)/.exec(log);
  const failed = /migration (aborted|problems)|ERROR:|TASK ERROR/.test(log);
  const ok = !!fin && !failed;
  const error = ok ? undefined : migrationError(log);
  return {
    ok,
    ...(down ? { averageSpeed: down[1], downtimeMs: Number(down[2]) } : {}),
    ...(fin ? { durationS: Number(fin[1]) * 3600 + Number(fin[2]) * 60 + Number(fin[3]) } : {}),
    ...(error ? { error } : {}),
  };
}

/** What the verify did about the migration. */
export interface MigrationOutcome {
  /** Source and target, once chosen. */
  plan?: MigrationPlan;
  /** The VM (defaults to the plan's). */
  vmid?: number;
  /** What the log said. */
  result?: MigrationResult;
  /** Refused or failed without a log to parse; names the node and the command. */
  error?: string;
  maxDowntimeMs?: number;
}

/** Human report of a verify run; `failed` true when anything is wrong. */
export function verifyReport(checks: PlacementCheck[], migration?: MigrationOutcome): { text: string; failed: boolean } {
  const lines: string[] = [];
  let failed = false;
  if (migration) {
    const { plan, result, maxDowntimeMs, error } = migration;
    const vmid = migration.vmid ?? plan?.vmid;
    const what = `migrate VM ${vmid}${plan ? ` ${plan.source} -> ${plan.target}${plan.viaHa ? " (HA)" : ""}` : ""}`;
    const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " | ");
    if (error !== undefined || !result) {
      failed = true;
      lines.push(`FAIL ${what}: ${oneLine(error ?? "no result")}`);
    } else if (!result.ok) {
      failed = true;
      lines.push(`FAIL ${what}: ${oneLine(result.error ?? "migration did not finish successfully")}`);
    } else {
      const down = result.downtimeMs === undefined ? "downtime not reported" : `downtime ${result.downtimeMs} ms`;
      const tooLong = maxDowntimeMs !== undefined && result.downtimeMs !== undefined && result.downtimeMs > maxDowntimeMs;
      if (tooLong) failed = true;
      lines.push(
        `${tooLong ? "FAIL" : "ok  "} ${what}: ${down}` +
          (result.durationS === undefined ? "" : `, took ${result.durationS} s`) +
          (tooLong ? ` (limit ${maxDowntimeMs} ms)` : ""),
      );
    }
    if (plan?.note) lines.push(`note ${plan.note}`);
  }
  if (checks.length === 0) lines.push("ok   no HA resources");
  for (const c of checks) {
    if (!c.ok) failed = true;
    lines.push(c.ok ? `ok   ${c.sid} on ${c.node} (${c.state}), allowed: ${c.allowed.join(", ")}` : `FAIL ${c.reason}`);
  }
  return { text: lines.join("\n"), failed };
}
