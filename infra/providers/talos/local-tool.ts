/**
 * Runs a local tool (talosctl, kubectl) on the machine that runs Pulumi, for
 * the providers that talk to Talos and Kubernetes APIs rather than to a host
 * over SSH.
 *
 * `execFile`, never a shell: every value is one argv element, so no config
 * value can inject shell syntax (values that could read as flags are refused
 * by the callers' checks). Files the tool reads or writes (secrets bundle,
 * machine configs, talosconfig, kubeconfig) live in a private temp directory
 * (0700, files 0600) that is removed afterwards. Errors name the node and the
 * command (`cp-1: talosctl apply-config failed (exit 1): ...`); the temp
 * directory shows as `<tmp>` and every secret value as `***`.
 *
 * Plain function declarations and a class that sets its fields explicitly:
 * provider code that uses this module is serialized (see infra/errors.ts).
 */
import { describeError } from "../../errors";
import { redact, type CommandResult } from "../../ssh";

/** A command that ran and exited non-zero, or could not start. */
export class LocalCommandError extends Error {
  readonly node: string;
  /** The command as shown (temp dir as `<tmp>`, secrets as `***`). */
  readonly command: string;
  readonly result: CommandResult;
  constructor(node: string, summary: string, command: string, result: CommandResult, detail: string) {
    const message = `${node}: ${summary} failed (exit ${result.code}): ${detail || "(no output)"}\n  command: ${command}`;
    super(message);
    this.message = message;
    this.node = node;
    this.command = command;
    this.result = result;
    this.name = "LocalCommandError";
  }
  toString(): string {
    return describeError(this);
  }
}

export interface LocalTool {
  /** Private temp dir, 0700. */
  readonly dir: string;
  /** Runs the tool; resolves with any exit status, rejects only when it cannot start or times out. */
  run(node: string, args: string[], timeoutMs?: number): Promise<CommandResult>;
  /** Runs the tool; rejects with a LocalCommandError naming `node` unless it exits 0. */
  must(node: string, args: string[], timeoutMs?: number): Promise<CommandResult>;
  /** Writes a file (0600) into the temp dir and returns its path. */
  write(name: string, content: string): Promise<string>;
  read(name: string): Promise<string>;
  /** The error `must` would throw for this result. */
  failure(node: string, args: string[], result: CommandResult): LocalCommandError;
  /** Text with the temp dir and the secrets taken out, for messages. */
  scrub(text: string): string;
  /** Adds values to redact from every message from now on. */
  addSecrets(values: readonly string[]): void;
}

/** Default per-command timeout. */
const DEFAULT_TIMEOUT_MS = 120_000;

/** `talosctl apply-config`, `talosctl gen config`: the tool and its sub-command words. */
export function commandSummary(toolName: string, args: readonly string[]): string {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith("-") || !/^[a-z][a-z-]*$/.test(a) || words.length === 2) break;
    words.push(a);
  }
  return [toolName, ...words].join(" ");
}

/**
 * Values to redact from a secrets bundle, talosconfig or kubeconfig: the
 * scalars of the keys that hold keys, certificates, tokens and IDs (names and
 * addresses stay readable).
 */
export function yamlSecretValues(text: string): string[] {
  const keys = "crt|key|ca|id|secret|token|bootstraptoken|secretboxencryptionsecret|aescbcencryptionsecret|client-certificate-data|client-key-data|certificate-authority-data|token-data";
  const out = new Set<string>();
  for (const m of text.matchAll(new RegExp(`^\\s*(?:${keys}):\\s+["']?([^\\s"']{8,})["']?\\s*$`, "gm"))) out.add(m[1]);
  return [...out];
}

/**
 * Runs `fn` with a LocalTool for the binary at `path` (shown as `toolName`),
 * then removes the temp dir whatever happened.
 */
export async function withLocalTool<T>(path: string, toolName: string, secrets: readonly string[], fn: (tool: LocalTool) => Promise<T>): Promise<T> {
  const fs = await import("node:fs/promises");
  const os = await import("node:os");
  const nodePath = await import("node:path");
  const { execFile } = await import("node:child_process");
  const dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), `homelab-${toolName}-`));
  await fs.chmod(dir, 0o700);
  const hidden = [...secrets];
  const scrub = (text: string) => redact(text.split(dir).join("<tmp>"), hidden);
  const shown = (args: readonly string[]) => scrub([toolName, ...args].join(" "));
  const failure = (node: string, args: string[], result: CommandResult) => {
    const text = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-20).join("\n");
    return new LocalCommandError(node, commandSummary(toolName, args), shown(args), { ...result, stdout: scrub(result.stdout), stderr: scrub(result.stderr) }, scrub(text));
  };
  const run = (node: string, args: string[], timeoutMs = DEFAULT_TIMEOUT_MS) =>
    new Promise<CommandResult>((resolve, reject) => {
      execFile(path, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        if (e && typeof e.code === "string") {
          const result = { stdout: "", stderr: `cannot run ${path} (${e.code})`, code: 127 };
          reject(failure(node, args, result));
        } else if (e && e.killed) {
          reject(failure(node, args, { stdout: String(stdout), stderr: `timed out after ${Math.round(timeoutMs / 1000)} s`, code: 124 }));
        } else {
          resolve({ stdout: String(stdout), stderr: String(stderr), code: e ? Number(e.code ?? 1) : 0 });
        }
      });
    });
  const tool: LocalTool = {
    dir,
    run,
    async must(node, args, timeoutMs) {
      const result = await run(node, args, timeoutMs);
      if (result.code !== 0) throw failure(node, args, result);
      return result;
    },
    async write(name, content) {
      const file = nodePath.join(dir, name);
      await fs.writeFile(file, content, { mode: 0o600 });
      return file;
    },
    async read(name) {
      return fs.readFile(nodePath.join(dir, name), "utf8");
    },
    failure,
    scrub,
    addSecrets(values) {
      hidden.push(...values.filter((v) => v.length > 0));
    },
  };
  try {
    return await fn(tool);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
