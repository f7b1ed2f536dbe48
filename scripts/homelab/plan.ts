/**
 * The offline plan of a stack: the program for `Pulumi.<stack>.yaml` run under
 * Pulumi mocks (no credentials, no network, no Pulumi CLI), printed as a
 * sorted, deterministic list of what it registers: per resource type, each
 * resource's name, parent, dependencies, provider, secret outputs and inputs,
 * secrets masked. Two renders of the same files are byte-identical, so the
 * plans of a pull request's base and head can be diffed (plan-diff.ts).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { runProgram } from "../../stacks/program";
import { REPO_ROOT, resolveStackFile } from "../../stacks/stack-file";
import { runStack, settled, type Registration, type StackRun } from "./mock-program";

export const SECRET_MASK = "[secret]";
export const UNKNOWN_MASK = "[unknown]";
/** Strings longer than this (file contents, scripts) are shown by length and digest. */
const LONG_STRING = 120;

/** The engine's markers in serialized inputs (@pulumi/pulumi runtime/rpc). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SIG = {
  secret: "1b47061264138c4ac30d75fd1eb44270",
  resource: "5cf8f73096256a8f31e491e813e4eb8e",
  outputValue: "d0e6a833031e9bbcd3f4e8bde6ca49a4",
  asset: "c44067f5952c0a294b673a41bacd8c17",
  archive: "0def7320c3a5731c473e5ecbe6d01bc7",
};
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Inputs that say nothing to a reader: a dynamic provider's serialized code. */
const HIDDEN_INPUTS = new Set(["__provider"]);
const STACK_TYPE = "pulumi:pulumi:Stack";

export interface PlanOptions {
  /** Where the stack files are (default: the repository root). */
  root?: string;
  /** What a relative stack path is relative to. */
  cwd?: string;
}

/** Run the stack's program under mocks and render its plan. */
export async function renderPlan(stack: string, options: PlanOptions = {}): Promise<string> {
  const file = resolveStackFile(stack, options.root ?? REPO_ROOT, options.cwd ?? process.cwd());
  if (!fs.existsSync(file)) throw new Error(`${file}: no such stack file`);
  const run = await settled(await runStack(file, runProgram));
  return formatPlan(stackName(file), run);
}

function stackName(file: string): string {
  return file.replace(/^.*\//, "").replace(/^Pulumi\.|\.ya?ml$/g, "");
}

/** The plan text of a finished mock run (pure: the same run gives the same text). */
export function formatPlan(stack: string, run: Pick<StackRun, "registrations" | "secretOutputs">): string {
  const resources = run.registrations.filter((r) => r.type !== STACK_TYPE);
  const byType = new Map<string, Registration[]>();
  for (const r of resources) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  const outputs = Object.keys(run.secretOutputs)
    .sort()
    .map((k) => (run.secretOutputs[k] ? `${k} ${SECRET_MASK}` : k));
  const lines = [`# homelab plan: ${stack}`, `# ${resources.length} resources; outputs: ${outputs.join(", ") || "none"}`];
  for (const type of [...byType.keys()].sort()) {
    const group = byType.get(type)!.sort((a, b) => compare(a.name, b.name) || compare(a.urn, b.urn));
    lines.push("", `## ${type} (${group.length})`);
    for (const r of group) lines.push(...resourceLines(r));
  }
  return lines.join("\n") + "\n";
}

function resourceLines(r: Registration): string[] {
  const lines = [`- ${r.name}`];
  const parent = shortRef(r.parent);
  if (parent) lines.push(`    parent: ${parent}`);
  const deps = [...new Set(r.dependsOn.map(shortRef).filter((d) => d !== ""))].sort();
  // One per line: a plan diff then shows exactly which dependency came or went.
  if (deps.length > 0) lines.push("    dependsOn:", ...deps.map((d) => `      - ${d}`));
  const provider = r.provider ? shortRef(r.provider.split("::").slice(0, -1).join("::")) : "";
  if (provider) lines.push(`    provider: ${provider}`);
  if (r.additionalSecretOutputs.length > 0) lines.push(`    secretOutputs: ${[...r.additionalSecretOutputs].sort().join(", ")}`);
  const inputs = flatten(r.rawInputs, "").filter(([path]) => !HIDDEN_INPUTS.has(path.split(/[.[]/)[0]));
  if (inputs.length > 0) {
    lines.push("    inputs:");
    for (const [path, value] of inputs) lines.push(`      ${path} = ${value}`);
  }
  return lines;
}

/** `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>` → `<type>::<name>`; the stack itself → "". */
export function shortRef(urn: string): string {
  if (!urn) return "";
  const parts = urn.split("::");
  if (parts.length < 4) return urn;
  const name = parts.slice(3).join("::");
  const type = parts[2].split("$").pop()!;
  return type === STACK_TYPE ? "" : `${type}::${name}`;
}

/** Leaf paths and their rendered values, sorted by path. */
export function flatten(value: unknown, at: string): [string, string][] {
  const special = specialValue(value);
  if (special !== undefined) return [[at, special]];
  if (Array.isArray(value)) {
    if (value.length === 0) return [[at, "[]"]];
    return value.flatMap((v, i) => flatten(v, `${at}[${i}]`));
  }
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort(compare);
    if (keys.length === 0) return at ? [[at, "{}"]] : [];
    return keys.flatMap((k) => flatten((value as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
  }
  return [[at, scalar(value)]];
}

function specialValue(value: unknown): string | undefined {
  if (value === UNKNOWN) return UNKNOWN_MASK;
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  switch (v[SIG_KEY]) {
    case SIG.secret:
      return SECRET_MASK;
    case SIG.outputValue:
      return v.secret ? SECRET_MASK : "value" in v ? flatten(v.value, "").map(([p, x]) => (p ? `${p}=${x}` : x)).join(" ") : UNKNOWN_MASK;
    case SIG.resource:
      return `resource ${shortRef(String(v.urn ?? ""))}`;
    case SIG.asset:
    case SIG.archive:
      return `asset ${String(v.path ?? v.uri ?? digest(JSON.stringify(v)))}`;
  }
  return undefined;
}

function scalar(value: unknown): string {
  if (typeof value === "string" && (value.length > LONG_STRING || value.includes("\n"))) {
    return `<${value.length} chars, ${digest(value)}>`;
  }
  return value === undefined ? "undefined" : JSON.stringify(value);
}

function digest(text: string): string {
  return `sha256:${crypto.createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
}

/** Code-point order, independent of the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
