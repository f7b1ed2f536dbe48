/**
 * Stacks that import config from Pulumi ESC environments (a top-level
 * `environment:` in the stack file). Their secrets may not be in the file at
 * all, so validation reads the config the way Pulumi resolves it when the
 * Pulumi CLI is there (`pulumi config --json --open`), and otherwise reports
 * which secrets it expects from the environments instead of calling them
 * missing.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** One key of `pulumi config --json`: secrets are blinded ("[secret]") without --show-secrets. */
export interface ResolvedConfigValue {
  value?: string;
  objectValue?: unknown;
  secret?: boolean;
}
export type ResolvedConfig = Record<string, ResolvedConfigValue>;

/** Reads a stack's resolved config, or says why it could not. */
export type ConfigReader = (stack: string, projectDir: string) => { config: ResolvedConfig } | { error: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The ESC environments a stack file imports (`environment: [a, b]` or `environment: { imports: [...] }`); undefined when none. */
export function escEnvironments(top: Record<string, unknown>): string[] | undefined {
  const e = top.environment;
  const list = Array.isArray(e) ? e : isRecord(e) && Array.isArray(e.imports) ? e.imports : typeof e === "string" ? [e] : undefined;
  if (!list) return undefined;
  return list.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
}

/** Whether an executable `pulumi` is in one of the directories of `pathEnv` (a PATH value). */
export function pulumiCliOnPath(pathEnv: string | undefined): boolean {
  for (const dir of (pathEnv ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    try {
      fs.accessSync(path.join(dir, "pulumi"), fs.constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** The real reader: `pulumi config --json --open -s <stack>` (secrets stay blinded). */
export const pulumiConfigReader: ConfigReader = (stack, projectDir) => {
  if (!pulumiCliOnPath(process.env.PATH)) return { error: "the Pulumi CLI is not on PATH" };
  try {
    const out = execFileSync("pulumi", ["config", "--json", "--open", "--show-secrets=false", "-s", stack], {
      cwd: projectDir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    return { config: JSON.parse(out) as ResolvedConfig };
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    return { error: (e.stderr || e.message || String(err)).trim().split("\n")[0] };
  }
}

/** Every string leaf of a blinded secret counts as a secure value (present, not readable). */
function blinded(v: unknown): unknown {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return { secure: "[secret]" };
  if (Array.isArray(v)) return v.map(blinded);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, blinded(x)]));
  return v;
}

/** A resolved config as a stack file's `config:` mapping (secrets as `{ secure }` values, so they count as present). */
export function configFromResolved(resolved: ResolvedConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(resolved)) {
    let value: unknown = entry.objectValue;
    if (value === undefined && typeof entry.value === "string") {
      try {
        value = JSON.parse(entry.value);
      } catch {
        value = entry.value;
      }
    }
    out[key] = entry.secret ? (value === undefined || value === "[secret]" ? { secure: "[secret]" } : blinded(value)) : value;
  }
  return out;
}

const MISSING_SECRET = /^(secrets[^:]*): missing\b/;

/**
 * Split secret issues: "missing" ones are expected from the ESC environments
 * (returned as names); every other issue stays an issue.
 */
export function expectedFromEnvironments(issues: string[]): { issues: string[]; expected: string[] } {
  const expected: string[] = [];
  const rest: string[] = [];
  for (const line of issues) {
    const m = MISSING_SECRET.exec(line);
    if (m) expected.push(m[1]);
    else rest.push(line);
  }
  return { issues: rest, expected };
}
