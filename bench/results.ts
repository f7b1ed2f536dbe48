/**
 * The benchmark's results file (bench/results.json): the figures, the
 * targets checked against them, and the comparison with the previous file
 * (a figure more than 20% worse is flagged as a regression).
 */
import type { ConvergeFigures, ScenarioFigures } from "./converge";
import type { EvaluationResult } from "./evaluate";

export interface Results {
  date: string;
  latencyMs?: number;
  opsPerSecond?: Record<string, number>;
  converge?: ConvergeFigures;
  evaluation?: EvaluationResult[];
  targets: Target[];
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  unit: string;
  met: boolean;
}

/** The figures compared between runs, each with which way is better. */
export function keyFigures(r: Results): Record<string, { value: number; better: "lower" | "higher" }> {
  const out: Record<string, { value: number; better: "lower" | "higher" }> = {};
  for (const [name, v] of Object.entries(r.opsPerSecond ?? {})) out[`ops/s ${name}`] = { value: v, better: "higher" };
  const scenario = (label: string, s: ScenarioFigures) => {
    out[`${label} commands`] = { value: s.commands, better: "lower" };
    out[`${label} connections`] = { value: s.connections, better: "lower" };
    out[`${label} mutating`] = { value: s.mutating, better: "lower" };
    out[`${label} wall ms`] = { value: s.wallMs, better: "lower" };
  };
  if (r.converge) {
    scenario("fresh", r.converge.fresh);
    scenario("no-op", r.converge.noop);
    scenario("lost-state", r.converge.lostState);
    out["fresh wall / critical path"] = { value: r.converge.fresh.wallOverBound, better: "lower" };
  }
  for (const e of r.evaluation ?? []) {
    out[`evaluation ${e.nodes} nodes CPU ms`] = { value: e.evalCpuMs, better: "lower" };
    out[`evaluation ${e.nodes} nodes peak RSS MB`] = { value: e.peakRssMb, better: "lower" };
  }
  return out;
}

/** One line per figure present in both: old → new, the change, and REGRESSION past 20% worse. */
export function compare(previous: Results, current: Results): { lines: string[]; regressions: string[] } {
  const before = keyFigures(previous);
  const after = keyFigures(current);
  const lines: string[] = [];
  const regressions: string[] = [];
  for (const [name, now] of Object.entries(after)) {
    const was = before[name];
    if (!was) continue;
    const change = was.value === 0 ? (now.value === 0 ? 0 : Infinity) : (now.value - was.value) / was.value;
    const worse = now.better === "lower" ? change : -change;
    const flag = worse > 0.2 ? "  REGRESSION" : "";
    if (flag) regressions.push(name);
    const pct = Number.isFinite(change) ? `${change >= 0 ? "+" : ""}${(change * 100).toFixed(0)}%` : "new";
    lines.push(`${name.padEnd(44)} ${fmt(was.value).padStart(10)} → ${fmt(now.value).padStart(10)}  ${pct}${flag}`);
  }
  return { lines, regressions };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export function checkTargets(r: Omit<Results, "targets">): Target[] {
  const t: Target[] = [];
  const add = (name: string, value: number, limit: number, unit: string) => t.push({ name, value, limit, unit, met: value <= limit });
  const c = r.converge;
  if (c) {
    add("fresh converge: SSH commands", c.fresh.commands, 180, "commands");
    add("fresh converge: wall time / critical-path bound", round(c.fresh.wallOverBound), 1.3, "×");
    const reads = Object.values(c.noop.byType);
    const worstRead = Math.max(0, ...reads.map((f) => (f.commandsByCall.read ?? 0) / Math.max(1, f.steps)));
    add("no-op up: commands per dynamic resource read (worst type)", round(worstRead), 1, "commands");
    add("no-op up: commands in diffs", reads.reduce((n, f) => n + (f.commandsByCall.diff ?? 0), 0), 0, "commands");
    add("no-op up: mutating commands", c.noop.mutating, 0, "commands");
    add("lost-state create: mutating commands", c.lostState.mutating, 0, "commands");
  }
  const small = r.evaluation?.find((e) => e.nodes === 3);
  const large = r.evaluation?.find((e) => e.nodes === 100);
  if (small && large) add("evaluation: 100 nodes / 3 nodes (CPU time)", round(large.evalCpuMs / small.evalCpuMs), 3, "×");
  return t;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** The README's tables (between the bench markers). */
export function markdown(r: Results): string {
  const out: string[] = [];
  out.push(`Figures of \`npm run bench\` on ${r.date.slice(0, 10)}${r.latencyMs !== undefined ? `, ${r.latencyMs} ms injected per SSH command` : ""}.`, "");
  out.push("| Target | Figure | Limit | |", "|---|---:|---:|---|");
  for (const t of r.targets) {
    const by = t.met ? "met" : `missed by ${fmt(round(t.value - t.limit))}${t.unit === "×" ? "×" : ""}`;
    out.push(`| ${t.name} | ${fmt(t.value)} | ≤ ${fmt(t.limit)} | ${by} |`);
  }
  const c = r.converge;
  if (c) {
    out.push("", `Converge of the \`${c.stack}\` stack (${c.nodes} nodes):`, "");
    out.push("| Run | Wall s (with program load) | Steps s | SSH connections | Commands | Mutating |", "|---|---:|---:|---:|---:|---:|");
    const row = (label: string, s: ScenarioFigures) =>
      out.push(`| ${label} | ${(s.wallMs / 1000).toFixed(1)} | ${(s.stepsWallMs / 1000).toFixed(1)} | ${s.connections} | ${s.commands} | ${s.mutating} |`);
    row("fresh converge", c.fresh);
    row("no-op up (refresh, diff)", c.noop);
    row("create after lost state", c.lostState);
    out.push(
      "",
      `Critical-path bound of the fresh converge: ${(c.fresh.criticalPath.boundMs / 1000).toFixed(1)} s along ${c.fresh.criticalPath.path.length} steps ` +
        `(${c.fresh.criticalPath.path.map((s) => s.replace(/ \(\d+ ms\)$/, "").split(" ")[0]).join(" → ")}); ` +
        `the steps took ${round(c.fresh.wallOverBound)}× it, the whole run with loading the program ${round(c.fresh.wallMs / c.fresh.criticalPath.boundMs)}×.`,
    );
    out.push("", "Per resource type (fresh / no-op / lost state): connections, commands, mutating; no-op commands by call.", "");
    out.push("| Type | Steps | Fresh | No-op | Lost state | No-op reads per step |", "|---|---:|---|---|---|---:|");
    for (const [type, f] of Object.entries(c.fresh.byType)) {
      const n = c.noop.byType[type];
      const l = c.lostState.byType[type];
      const cell = (x: typeof f | undefined) => (x ? `${x.connections} / ${x.commands} / ${x.mutating}` : "–");
      out.push(`| ${type} | ${f.steps} | ${cell(f)} | ${cell(n)} | ${cell(l)} | ${n ? fmt(round((n.commandsByCall.read ?? 0) / Math.max(1, n.steps))) : "–"} |`);
    }
  }
  if (r.evaluation?.length) {
    out.push("", "Program evaluation under mocks (generated environments, median of the runs):", "");
    out.push("| Nodes | Registrations | Evaluation, CPU ms | Evaluation, wall ms | Peak RSS MB |", "|---:|---:|---:|---:|---:|");
    for (const e of r.evaluation) out.push(`| ${e.nodes} | ${e.registrations} | ${e.evalCpuMs.toFixed(0)} | ${e.evalMs.toFixed(0)} | ${e.peakRssMb.toFixed(0)} |`);
  }
  if (r.opsPerSecond) {
    out.push("", "| Operation | ops/s |", "|---|---:|");
    for (const [name, v] of Object.entries(r.opsPerSecond)) out.push(`| ${name} | ${v.toFixed(0)} |`);
  }
  return out.join("\n");
}
