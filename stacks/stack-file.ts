/**
 * Reading a Pulumi stack file (`Pulumi.<stack>.yaml`) without the Pulumi CLI,
 * for `npm run validate`: the same parse the program runs, on the file as
 * written, with secure values (`{ secure: "v1:..." }`) taken as present.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { environmentIssues, formatPath, secretsIssues } from "./errors";
import { configFromResolved, escEnvironments, expectedFromEnvironments, pulumiConfigReader, type ConfigReader } from "./esc";
import { EnvironmentSchema, type Environment } from "./schema";
import { environmentWarnings, stackFileWarnings } from "./warnings";

export const ENVIRONMENT_KEY = "homelab:environment";
export const SECRETS_KEY = "homelab:secrets";
/** The config keys of this project's namespace; anything else under `homelab:` is a mistake. */
/** The Linode provider's API token (its own config namespace). */
export const LINODE_TOKEN_KEY = "linode:token";
export const KNOWN_CONFIG_KEYS: readonly string[] = [ENVIRONMENT_KEY, SECRETS_KEY];

/** Stands in for a secure value the validator cannot (and need not) decrypt. */
import { SECURE_PLACEHOLDER } from "./schema";
export { SECURE_PLACEHOLDER };

/** The repository root (where Pulumi.yaml and the stack files live). */
export const REPO_ROOT = path.resolve(__dirname, "..");

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Where the stack file is: a stack name (`matrix`) means `Pulumi.matrix.yaml`
 * in `root`; anything with a slash or a .yaml/.yml ending is a path (relative
 * to `cwd`).
 */
export function resolveStackFile(arg: string, root = REPO_ROOT, cwd = process.cwd()): string {
  const isPath = arg.includes("/") || arg.includes(path.sep) || /\.ya?ml$/i.test(arg) || !STACK_NAME.test(arg);
  return isPath ? path.resolve(cwd, arg) : path.join(root, `Pulumi.${arg}.yaml`);
}

export interface StackFileResult {
  /** Absolute path of the stack file read. */
  file: string;
  /** Every issue, one line each (`<path>: <message>`); empty when valid. */
  issues: string[];
  /** Unsafe settings and leftover placeholders (`<path>: <why>`); they do not fail validation. */
  warnings?: string[];
  environment?: Environment;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `{ secure: "<ciphertext>" }`, as `pulumi config set --secret` writes it. */
export function isSecureValue(v: unknown): v is { secure: string } {
  return isRecord(v) && Object.keys(v).length === 1 && typeof v.secure === "string";
}

/**
 * Replace secure values under `homelab:secrets` with a placeholder, and
 * report every plain-text leaf (a secret stored in clear in the stack file).
 * Paths are relative to the secrets object.
 */
export function unwrapSecrets(raw: unknown): { value: unknown; issues: { path: (string | number)[]; message: string }[] } {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const walk = (v: unknown, at: (string | number)[]): unknown => {
    if (isSecureValue(v)) return SECURE_PLACEHOLDER;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      issues.push({ path: at, message: "must be set with pulumi config set --secret (it is stored in plain text)" });
      return typeof v === "string" ? v : String(v);
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...at, i]));
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...at, k])]));
    return v;
  };
  return { value: walk(raw, []), issues };
}

/** A stack file's top level as written (YAML parsed, nothing validated), or the one-line reasons it cannot be read. */
export type StackText =
  | { ok: true; top: Record<string, unknown>; config: Record<string, unknown> }
  | { ok: false; issues: string[] };

/** Parse the YAML text of a stack file; `file` is only used in messages. */
export function parseStackText(text: string, file: string): StackText {
  const name = path.basename(file);
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { ok: false, issues: doc.errors.map((e) => `${name}: ${e.message.split("\n")[0]}`) };
  }
  let top: unknown;
  try {
    top = doc.toJS();
  } catch (err) {
    // toJS throws on a document that expands too many aliases (maxAliasCount), a resource-exhaustion guard.
    return { ok: false, issues: [`${name}: ${yamlFailure(err)}`] };
  }
  if (!isRecord(top) || !isRecord(top.config)) {
    return { ok: false, issues: [`${name}: no config: mapping (a stack file has a top-level config: with ${ENVIRONMENT_KEY} in it)`] };
  }
  return { ok: true, top, config: top.config };
}

/** Read and parse a stack file given as a stack name or a path, without validating it. */
export function readStackFile(arg: string, root = REPO_ROOT, cwd = process.cwd()): { file: string } & StackText {
  const file = resolveStackFile(arg, root, cwd);
  const read = readText(file, root);
  return { file, ...("issues" in read ? { ok: false as const, issues: read.issues } : parseStackText(read.text, file)) };
}

function readText(file: string, root: string): { text: string } | { issues: string[] } {
  try {
    return { text: fs.readFileSync(file, "utf8") };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (err as Error).message;
    const known = code === "ENOENT" && path.dirname(file) === root ? knownStacks(root) : [];
    const hint = known.length > 0 ? `; stacks here: ${known.join(", ")}` : "";
    return { issues: [`${file}: cannot read the stack file (${why}${hint})`] };
  }
}

export interface ValidateOptions {
  /** Reads the resolved config of a stack that imports Pulumi ESC environments (the Pulumi CLI in real runs). */
  readConfig?: ConfigReader;
}

/**
 * Validate the YAML text of a stack file; `file` names it in messages (and,
 * as `Pulumi.<stack>.yaml`, the stack whose ESC config `readConfig` resolves).
 */
export function validateStackText(text: string, file: string, options: ValidateOptions = {}): StackFileResult {
  const parsed = parseStackText(text, file);
  if (!parsed.ok) return { file, issues: parsed.issues };
  let config = parsed.config;
  // Config imported from ESC environments: resolved by Pulumi when its CLI can, else expected from them.
  const environments = escEnvironments(parsed.top);
  let unresolved: string | undefined;
  if (environments) {
    const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(file))?.[1];
    const read = stack && options.readConfig ? options.readConfig(stack, path.dirname(file)) : { error: "no stack name to ask the Pulumi CLI about" };
    if ("config" in read) config = { ...config, ...configFromResolved(read.config) };
    else unresolved = read.error;
  }
  const escWarnings: string[] = [];
  const issues: string[] = [];
  for (const key of Object.keys(config)) {
    if (key.startsWith("homelab:") && !KNOWN_CONFIG_KEYS.includes(key)) {
      issues.push(`${key}: unknown config key; the whole environment sits under ${ENVIRONMENT_KEY} (secrets under ${SECRETS_KEY})`);
    }
  }
  if (isSecureValue(config[ENVIRONMENT_KEY])) {
    issues.push(`${ENVIRONMENT_KEY}: is a secret; keep the environment in plain text and secrets under ${SECRETS_KEY}`);
    return { file, issues };
  }

  const rawEnvironment = config[ENVIRONMENT_KEY];
  issues.push(...environmentIssues(rawEnvironment));
  issues.push(...linodeTokenIssues(config, rawEnvironment));

  const rawSecrets = config[SECRETS_KEY];
  if (!isSecureValue(rawSecrets)) {
    // (one opaque secure blob: present, its contents unknowable here)
    const unwrapped = unwrapSecrets(rawSecrets ?? {});
    for (const issue of unwrapped.issues) issues.push(`${formatPath(["secrets", ...issue.path])}: ${issue.message}`);
    const secretIssues = secretsIssues(unwrapped.value, rawEnvironment);
    if (environments && unresolved !== undefined) {
      const split = expectedFromEnvironments(secretIssues);
      issues.push(...split.issues);
      if (split.expected.length > 0) {
        escWarnings.push(
          `${split.expected.join(", ")}: not in the stack file; expected from the Pulumi ESC environment(s) ${environments.join(", ")} ` +
            `(not checked here: ${unresolved})`,
        );
      }
    } else {
      issues.push(...secretIssues);
    }
  }

  const warnings = [...escWarnings, ...stackFileWarnings(parsed.top, SECRETS_KEY), ...environmentWarnings(rawEnvironment)];
  if (issues.length > 0) return { file, issues, warnings };
  return { file, issues, warnings, environment: EnvironmentSchema.parse(rawEnvironment) };
}

/** One line for an error the yaml package throws while building the document. */
function yamlFailure(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).split("\n")[0];
  return /alias/i.test(message) ? `too many YAML aliases (${message}); write the values out instead of nesting aliases` : message;
}

/** Read and validate a stack file given as a stack name or a path. */
export function validateStackFile(
  arg: string,
  root = REPO_ROOT,
  cwd = process.cwd(),
  options: ValidateOptions = { readConfig: pulumiConfigReader },
): StackFileResult {
  const file = resolveStackFile(arg, root, cwd);
  const read = readText(file, root);
  return "issues" in read ? { file, issues: read.issues } : validateStackText(read.text, file, options);
}

/** Stack names that have a `Pulumi.<stack>.yaml` in `root`. */
export function knownStacks(root = REPO_ROOT): string[] {
  try {
    return fs
      .readdirSync(root)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .sort();
  } catch {
    return [];
  }
}

/** The one-line success summary: `matrix: OK — 3 nodes, 4 networks, cluster "matrix"`. */
export function summary(env: Environment): string {
  const count = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
  const cluster = env.cluster ? `cluster ${JSON.stringify(env.cluster.name)}` : "no cluster";
  const more = [
    env.hosts.length > 0 ? count(env.hosts.length, "host") : "",
    env.linode && env.linode.instances.length > 0 ? count(env.linode.instances.length, "Linode instance") : "",
    env.k3s.clusters.length > 0 ? count(env.k3s.clusters.length, "K3s cluster") : "",
    env.talos.clusters.length > 0 ? count(env.talos.clusters.length, "Talos cluster") : "",
  ].filter((part) => part !== "");
  return `${env.name}: OK — ${[count(env.nodes.length, "node"), count(env.networks.length, "network"), cluster, ...more].join(", ")}`;
}

/** The Linode API token is the provider's own config: required with instances, and only ever encrypted. */
function linodeTokenIssues(config: Record<string, unknown>, environment: unknown): string[] {
  const token = config[LINODE_TOKEN_KEY];
  if (token !== undefined && !isSecureValue(token)) {
    return [`${LINODE_TOKEN_KEY}: must be set with pulumi config set --secret ${LINODE_TOKEN_KEY} (it is stored in plain text)`];
  }
  const linode = isRecord(environment) && isRecord(environment.linode) ? environment.linode : undefined;
  if (token === undefined && linode && Array.isArray(linode.instances) && linode.instances.length > 0) {
    return [`${LINODE_TOKEN_KEY}: missing; the Linode provider needs an API token (pulumi config set --secret ${LINODE_TOKEN_KEY})`];
  }
  return [];
}
