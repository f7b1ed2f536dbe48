/**
 * Every run leaves `reports/<YYYYMMDD-HHMMSS>-<stack>-<verb>.<passed|failed>.{json,md}`:
 * the result object, and the same in Markdown to paste into a pull request.
 * Outputs in reports are always redacted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunResult } from "./result";
import { describeSummary } from "./steps";

export function reportsDir(root: string): string {
  return path.join(root, "reports");
}

/** `20261206-160254-matrix-up.passed` (UTC). */
export function reportBaseName(result: Pick<RunResult, "startedAt" | "stack" | "verb" | "success">): string {
  const stamp = result.startedAt.replace(/\.\d+Z$|Z$/, "").replace(/-|:/g, "").replace("T", "-");
  return `${stamp}-${result.stack}-${result.verb}.${result.success ? "passed" : "failed"}`;
}

export function reportPaths(root: string, result: RunResult): { json: string; markdown: string } {
  const base = path.join(reportsDir(root), reportBaseName(result));
  return { json: `${base}.json`, markdown: `${base}.md` };
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function markdownReport(result: RunResult): string {
  const verdict = result.success ? "passed" : "failed";
  const lines = [
    `# homelab \`${result.verb}\` on \`${result.stack}\`: ${verdict}`,
    "",
    `Started ${result.startedAt}, took ${result.durationSeconds.toFixed(1)} s.`,
    "",
    "| Phase | Result | Duration | Changes |",
    "|---|---|---|---|",
    ...result.phases.map(
      (p) =>
        `| ${p.name} | ${p.success ? "✅ passed" : "❌ failed"} | ${p.durationSeconds.toFixed(1)} s | ${
          Object.keys(p.changes).length > 0 ? cell(describeSummary(p.name, p.changes).replace(/^[^:]*: /, "")) : ""
        } |`,
    ),
  ];
  const error = result.error;
  if (error) {
    const where = [
      error.node ? `node \`${error.node}\`` : "",
      error.command ? `command \`${error.command}\`` : "",
      error.exitStatus !== undefined ? `exit status ${error.exitStatus}` : "",
    ].filter((s) => s !== "");
    lines.push("", "## Error", "");
    if (where.length > 0) lines.push(`${error.phase ? `In ${error.phase}: ` : ""}${where.join(", ")}.`, "");
    lines.push("```text", error.message, "```");
  }
  if (result.drift && result.drift.length > 0) {
    lines.push("", "## Drift", "", "| Resource | Type | Change | Properties |", "|---|---|---|---|");
    for (const d of result.drift) lines.push(`| ${cell(d.name)} | \`${d.type}\` | ${d.kind} | ${cell(d.properties.join(", "))} |`);
  }
  if (result.files && result.files.length > 0) {
    lines.push("", "## Files written", "", ...result.files.map((f) => `- \`${f}\``));
  }
  const outputs = Object.entries(result.outputs);
  if (outputs.length > 0) {
    lines.push("", "## Outputs", "", "| Output | Value |", "|---|---|");
    for (const [name, value] of outputs) lines.push(`| ${name} | \`${cell(JSON.stringify(value))}\` |`);
  }
  return `${lines.join("\n")}\n`;
}

/** Writes both reports and returns their paths. */
export function writeReports(root: string, result: RunResult): { json: string; markdown: string } {
  const paths = reportPaths(root, result);
  fs.mkdirSync(reportsDir(root), { recursive: true });
  fs.writeFileSync(paths.json, `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(paths.markdown, markdownReport(result));
  return paths;
}
