/** The lines the harness prints: one per resource step, then the outputs. */
import { SECRET_MARKER, type StepEvent } from "./protocol";

const SYMBOL: Record<StepEvent["op"], string> = {
  create: "+",
  update: "~",
  replace: "+-",
  delete: "-",
  same: "=",
  mocked: "m",
  failed: "x",
  skipped: ".",
};

/** `pulumi-nodejs:dynamic/proxmox:NodeFacts` → `proxmox:NodeFacts`; native types stay whole. */
export function shortType(type: string): string {
  return type.replace(/^pulumi-nodejs:dynamic\/?/, "").replace(/^:?Resource$/, "dynamic:Resource");
}

export function formatStep(e: StepEvent): string {
  const seconds = `${(e.durationMs / 1000).toFixed(1)}s`;
  const nodes = e.nodes.length === 0 ? "" : e.nodes.length === 1 ? `  1 node (${e.nodes[0]})` : `  ${e.nodes.length} nodes`;
  const op = e.op === "mocked" ? "mocked (native resource, not driven)" : e.op;
  const line = `  ${SYMBOL[e.op].padEnd(2)} ${op.padEnd(8)} ${shortType(e.type)} ${e.name}  ${seconds}${nodes}`;
  return e.error ? `${line}\n      error: ${e.error.split("\n").join("\n      ")}` : line;
}

/** Outputs as indented YAML-ish text; secret leaves already replaced by the runner. */
export function formatOutputs(outputs: Record<string, unknown>, indent = "  "): string {
  const lines: string[] = [];
  const walk = (v: unknown, pad: string, key: string): void => {
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
      lines.push(`${pad}${key}:`);
      for (const [k, x] of Object.entries(v)) walk(x, pad + "  ", k);
    } else if (Array.isArray(v) && v.some((x) => x && typeof x === "object")) {
      lines.push(`${pad}${key}:`);
      v.forEach((x, i) => walk(x, pad + "  ", `- [${i}]`));
    } else {
      lines.push(`${pad}${key}: ${v === SECRET_MARKER ? SECRET_MARKER : JSON.stringify(v)}`);
    }
  };
  for (const [k, v] of Object.entries(outputs)) walk(v, indent, k);
  return lines.join("\n");
}

/** Counts per op, e.g. "12 create, 3 mocked". */
export function summarize(steps: StepEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of steps) counts[s.op] = (counts[s.op] ?? 0) + 1;
  return counts;
}
