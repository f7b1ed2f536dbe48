/**
 * The difference between two offline plans (plan.ts) as Markdown for a pull
 * request comment: resources added, removed and changed, each changed one
 * with the lines of its plan that differ.
 *
 * `npm run plan-diff -- <base plan file> <head plan file>` prints it (a
 * missing base file counts as an empty plan: a stack the pull request adds).
 */
import * as fs from "node:fs";

/** GitHub refuses comments over 65536 characters; leave room for the header the workflow adds. */
export const COMMENT_LIMIT = 60000;

interface ParsedPlan {
  stack: string;
  /** `<type>::<name>` → the resource's detail lines, in plan order. */
  resources: Map<string, string[]>;
}

/** Read a plan's text back into its resources. */
export function parsePlan(text: string): ParsedPlan {
  const resources = new Map<string, string[]>();
  let stack = "";
  let type = "";
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    const header = /^# homelab plan: (.+)$/.exec(line);
    if (header) stack = header[1];
    const group = /^## (\S+) \(\d+\)$/.exec(line);
    if (group) {
      type = group[1];
      current = undefined;
      continue;
    }
    const resource = /^- (.+)$/.exec(line);
    if (resource && type) {
      current = [];
      resources.set(`${type}::${resource[1]}`, current);
      continue;
    }
    if (current && line.startsWith("    ")) current.push(line.slice(4));
  }
  return { stack, resources };
}

/** Markdown describing what changes from the base plan to the head plan. */
export function diffPlans(base: string, head: string): string {
  const before = parsePlan(base);
  const after = parsePlan(head);
  const stack = after.stack || before.stack;
  const added = [...after.resources.keys()].filter((k) => !before.resources.has(k)).sort();
  const removed = [...before.resources.keys()].filter((k) => !after.resources.has(k)).sort();
  const changed = [...after.resources.keys()]
    .filter((k) => before.resources.has(k) && before.resources.get(k)!.join("\n") !== after.resources.get(k)!.join("\n"))
    .sort();
  const unchanged = after.resources.size - added.length - changed.length;

  const out = [`### Plan for \`${stack}\``, ""];
  if (added.length + removed.length + changed.length === 0) {
    out.push(`No changes (${after.resources.size} resources).`);
    return out.join("\n") + "\n";
  }
  out.push(`**${added.length} to add, ${changed.length} to change, ${removed.length} to remove** (${unchanged} unchanged).`, "");
  if (added.length > 0) out.push("#### Added", "", ...added.map((k) => `- \`${k}\``), "");
  if (removed.length > 0) out.push("#### Removed", "", ...removed.map((k) => `- \`${k}\``), "");
  if (changed.length > 0) {
    out.push("#### Changed", "");
    for (const key of changed) out.push(...changedBlock(key, before.resources.get(key)!, after.resources.get(key)!));
  }
  return limit(out.join("\n") + "\n");
}

/** One changed resource: the plan lines only the base has (-) and only the head has (+). */
function changedBlock(key: string, base: string[], head: string[]): string[] {
  const inHead = new Set(head);
  const inBase = new Set(base);
  const lines = [...base.filter((l) => !inHead.has(l)).map((l) => `- ${l.trim()}`), ...head.filter((l) => !inBase.has(l)).map((l) => `+ ${l.trim()}`)];
  const fence = fenceFor(lines);
  return ["<details><summary><code>" + escapeHtml(key) + "</code></summary>", "", `${fence}diff`, ...lines, fence, "", "</details>", ""];
}

/** A code fence longer than any run of backticks in the lines it encloses. */
function fenceFor(lines: string[]): string {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((r) => r.length))));
  return "`".repeat(longest + 1);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function limit(text: string): string {
  if (text.length <= COMMENT_LIMIT) return text;
  // Cut before a whole changed resource, so no code block is left open.
  const block = text.lastIndexOf("\n<details>", COMMENT_LIMIT - 200);
  const cut = block > 0 ? block : text.lastIndexOf("\n", COMMENT_LIMIT - 200);
  return `${text.slice(0, cut).trimEnd()}\n\n_Truncated: the whole diff is in the workflow run's artifacts._\n`;
}

if (require.main === module) {
  const [basePath, headPath] = process.argv.slice(2);
  if (!basePath || !headPath || process.argv.length !== 4) {
    console.error("usage: npm run plan-diff -- <base plan file> <head plan file>");
    process.exit(2);
  }
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
  process.stdout.write(diffPlans(read(basePath), read(headPath)));
}
