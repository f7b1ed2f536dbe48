/**
 * Decisions of `scripts/ha-verify.ts`, pure and unit-tested:
 * - where each HA resource may run (PVE 8 group or PVE 9 node-affinity rule) and whether it does;
 * - which node a test VM is live-migrated to, and what `qm migrate --online` reported.
 *
 * `qm migrate` log lines (captures from real PVE 8/9 clusters):
 *   `2025-01-04 00:34:38 average migration speed: 457.0 MiB/s - downtime 73 ms`
 *   `2025-01-04 00:34:42 migration finished successfully (duration 00:00:18)`
 */
import type { HaGroupConfig, HaResourceConfig, HaRuleConfig, HaStatus } from "../infra/parse/ha";

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

export interface MigrationPlan {
  vmid: number;
  source: string;
  target: string;
}

/** Pick the target: the requested one, else the first other online member (by name). */
export function planMigration(vmid: number, source: string, nodes: string[], target?: string): MigrationPlan {
  if (target !== undefined) {
    if (target === source) throw new Error(`VM ${vmid} already runs on ${target}; pick another target`);
    if (!nodes.includes(target)) throw new Error(`target ${target} is not a cluster member (${nodes.join(", ")})`);
    return { vmid, source, target };
  }
  const other = [...nodes].sort().find((n) => n !== source);
  if (!other) throw new Error(`VM ${vmid}: no other node to migrate to (cluster: ${nodes.join(", ")})`);
  return { vmid, source, target: other };
}

export interface MigrationResult {
  ok: boolean;
  /** Reported by QEMU (`- downtime N ms`). */
  downtimeMs?: number;
  /** From `migration finished successfully (duration HH:MM:SS)`. */
  durationS?: number;
  /** Speed text as logged, e.g. "457.0 MiB/s". */
  averageSpeed?: string;
}

/** Parse the log of `qm migrate <vmid> <target> --online`. */
export function parseMigrationLog(log: string): MigrationResult {
  const down = /average migration speed:\s*(\S+ \S+)\s*-\s*downtime\s+(\d+)\s*ms/.exec(log);
  const fin = /migration finished successfully \(duration (\d+):(\d+):(\d+)\)/.exec(log);
  const failed = /migration (aborted|problems)|ERROR:|TASK ERROR/.test(log);
  return {
    ok: !!fin && !failed,
    ...(down ? { averageSpeed: down[1], downtimeMs: Number(down[2]) } : {}),
    ...(fin ? { durationS: Number(fin[1]) * 3600 + Number(fin[2]) * 60 + Number(fin[3]) } : {}),
  };
}

/** Human report of a verify run; `failed` true when anything is wrong. */
export function verifyReport(
  checks: PlacementCheck[],
  migration?: { plan: MigrationPlan; result: MigrationResult; maxDowntimeMs?: number },
): { text: string; failed: boolean } {
  const lines: string[] = [];
  let failed = false;
  if (migration) {
    const { plan, result, maxDowntimeMs } = migration;
    if (!result.ok) {
      failed = true;
      lines.push(`FAIL migrate VM ${plan.vmid} ${plan.source} -> ${plan.target}: migration did not finish successfully`);
    } else {
      const down = result.downtimeMs === undefined ? "downtime not reported" : `downtime ${result.downtimeMs} ms`;
      const tooLong = maxDowntimeMs !== undefined && result.downtimeMs !== undefined && result.downtimeMs > maxDowntimeMs;
      if (tooLong) failed = true;
      lines.push(
        `${tooLong ? "FAIL" : "ok  "} migrate VM ${plan.vmid} ${plan.source} -> ${plan.target}: ${down}` +
          (result.durationS === undefined ? "" : `, took ${result.durationS} s`) +
          (tooLong ? ` (limit ${maxDowntimeMs} ms)` : ""),
      );
    }
  }
  if (checks.length === 0) lines.push("ok   no HA resources");
  for (const c of checks) {
    if (!c.ok) failed = true;
    lines.push(c.ok ? `ok   ${c.sid} on ${c.node} (${c.state}), allowed: ${c.allowed.join(", ")}` : `FAIL ${c.reason}`);
  }
  return { text: lines.join("\n"), failed };
}
