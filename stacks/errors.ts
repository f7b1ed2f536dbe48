/**
 * The one formatter for environment problems, used by the Pulumi program and
 * by `npm run validate`: every issue prints as `<path>: <message>`, the path
 * in JS style (`nodes[1].address`), the message naming the bad value. All
 * issues are collected and reported together.
 */
import type { z } from "zod";
import {
  EnvironmentSchema,
  SecretsSchema,
  checkPlainSecrets,
  crossCheckSecrets,
  type Environment,
  type PathIssue,
  type Secrets,
} from "./schema";

export type IssuePath = readonly PropertyKey[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * JS-style path text: `nodes[1].address`, `secrets.rootPasswords["kilo-1"]`.
 * `root` names the whole object when the path is empty.
 */
export function formatPath(path: IssuePath, root = "environment"): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const key = String(seg);
      if (IDENTIFIER.test(key)) out += out === "" ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out === "" ? root : out;
}

/** Prefix a path: `prefixPath(["secrets"], ["rootPasswords", "x"])`. */
function joinPath(prefix: IssuePath, path: IssuePath): PropertyKey[] {
  return [...prefix, ...path];
}

/** Lines for one zod issue (an unknown-keys issue gives one line per key). */
export function formatZodIssue(issue: z.core.$ZodIssue, prefix: IssuePath = [], root = "environment"): string[] {
  const path = joinPath(prefix, issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${formatPath([...path, key], root)}: unknown key ${JSON.stringify(key)}`);
  }
  return [`${formatPath(path, root)}: ${issue.message}`];
}

/** One line for a cross-check issue. */
export function formatPathIssue(issue: PathIssue, prefix: IssuePath = [], root = "environment"): string {
  return `${formatPath(joinPath(prefix, issue.path), root)}: ${issue.message}`;
}

/** Thrown when the environment (or its secrets) is invalid; `issues` holds every problem, one line each. */
export class EnvironmentError extends Error {
  readonly issues: string[];

  constructor(issues: string[]) {
    const message = `invalid environment:\n${issues.map((line) => `  ${line}`).join("\n")}`;
    super(message);
    this.message = message;
    this.name = "EnvironmentError";
    this.issues = issues;
  }
}

export type CheckResult =
  | { ok: true; environment: Environment; secrets: Secrets | undefined; issues: [] }
  | { ok: false; issues: string[] };

/**
 * Validate an environment and (when given) its secrets; never throws.
 *
 * `secretsRaw === undefined` means "secrets not checked" (the Pulumi program
 * keeps secrets as Outputs); pass `{}` for "no secrets set". Secret issues
 * are reported under `secrets.` and never echo a secret value.
 */
export function checkEnvironment(raw: unknown, secretsRaw?: unknown): CheckResult {
  const env = raw === undefined || raw === null ? undefined : EnvironmentSchema.safeParse(raw);
  const issues = environmentIssues(raw);
  let secrets: Secrets | undefined;
  if (secretsRaw !== undefined) {
    const parsed = SecretsSchema.safeParse(secretsRaw);
    if (parsed.success) secrets = parsed.data;
    issues.push(...secretsIssues(secretsRaw, raw));
  }
  if (issues.length > 0 || !env?.success) return { ok: false, issues };
  return { ok: true, environment: env.data, secrets, issues: [] };
}

/** Every issue of `homelab:environment`, one line each (empty when valid). */
export function environmentIssues(raw: unknown): string[] {
  if (raw === undefined || raw === null) {
    return ["homelab:environment: missing; the whole environment sits under this config key"];
  }
  const env = EnvironmentSchema.safeParse(raw);
  const plainSecrets = checkPlainSecrets(raw).map((issue) => formatPathIssue(issue));
  return [...(env.success ? [] : env.error.issues.flatMap((issue) => formatZodIssue(issue))), ...plainSecrets];
}

/** Every issue of `homelab:secrets` (checked against the environment), under `secrets.`; never echoes a value. */
export function secretsIssues(secretsRaw: unknown, environmentRaw: unknown): string[] {
  const issues: string[] = [];
  const parsed = SecretsSchema.safeParse(secretsRaw);
  if (!parsed.success) for (const issue of parsed.error.issues) issues.push(...formatZodIssue(issue, ["secrets"]));
  for (const issue of crossCheckSecrets(secretsRaw, environmentRaw)) issues.push(formatPathIssue(issue, ["secrets"]));
  return issues;
}

/**
 * Parse `homelab:environment` (and optionally `homelab:secrets`) or throw an
 * EnvironmentError listing every issue. Call it before registering any resource.
 */
export function parseEnvironment(raw: unknown, secretsRaw?: unknown): Environment {
  const result = checkEnvironment(raw, secretsRaw);
  if (!result.ok) throw new EnvironmentError(result.issues);
  return result.environment;
}
