/**
 * Runs commands on Proxmox nodes over SSH (ssh2).
 *
 * Every error names the node and the command (secrets redacted), so a failed
 * `pulumi up` says where and what: `golf: pvecm add failed (exit 255): …`.
 * Dynamic providers import this module inside their methods, so nothing here
 * is captured when a provider is serialized.
 */
import { createHash } from "node:crypto";
import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import { describeError, hasErrorName } from "./errors";
import { command } from "./shell";

/** Where and how to reach one node. */
export interface SshTarget {
  /** Node name, used in every message. */
  node: string;
  /** Address to connect to. */
  host: string;
  /** SSH port. Defaults to 22. */
  port?: number;
  /** Login user. Defaults to "root". */
  username?: string;
  /**
   * Run every command through `sudo -n` (a login user that is not root, such
   * as a cloud image's default user): what we run needs root, and a user
   * without passwordless sudo fails at once instead of waiting for a password.
   */
  sudo?: boolean;
  /** Private key (OpenSSH or PEM). Either this or `agent`. */
  privateKey?: string;
  /** SSH agent socket path (usually $SSH_AUTH_SOCK). */
  agent?: string;
  /** Pinned host key fingerprint, `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
  hostKey?: string;
  /** Skip host key pinning. Only for throw-away labs: anyone on the path can impersonate the node. */
  insecureIgnoreHostKey?: boolean;
}

/** Timeouts and retries. */
export interface SshOptions {
  /** TCP + handshake timeout per attempt. Defaults to 10 s. */
  connectTimeoutMs?: number;
  /** Extra connection attempts after the first. Defaults to 3. */
  retries?: number;
  /** First backoff delay; doubles each retry. Defaults to 500 ms. */
  retryBaseDelayMs?: number;
  /** Default per-command timeout. Defaults to 15 min. */
  commandTimeoutMs?: number;
}

/** Per-command options. */
export interface RunOptions {
  /** Written to the command's stdin, then closed. Never logged. */
  stdin?: string;
  /** Overrides the session's command timeout. */
  timeoutMs?: number;
  /** Values to blank out of the command line in errors and logs. */
  secrets?: readonly string[];
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit status; 255 when the remote process died from a signal. */
  code: number;
}

/*
 * Error classes set `message`, `name` and their fields explicitly and define
 * `toString`: see errors.ts for what the closure serializer does to them.
 * Recognise them with the `is…` functions below, never with instanceof.
 */

/** Base of all SSH layer errors: always carries the node name. */
export class NodeError extends Error {
  readonly node: string;
  constructor(node: string, message: string) {
    super(`${node}: ${message}`);
    this.node = node;
    this.message = `${node}: ${message}`;
    this.name = "NodeError";
    Error.captureStackTrace?.(this, NodeError);
  }
  toString(): string {
    return describeError(this);
  }
}

export class NodeUnreachableError extends NodeError {
  constructor(node: string, message: string) {
    super(node, message);
    this.message = `${node}: ${message}`;
    this.name = "NodeUnreachableError";
  }
  toString(): string {
    return describeError(this);
  }
}

export class HostKeyMismatchError extends NodeError {
  readonly expected: string;
  readonly presented: string;
  constructor(node: string, expected: string, presented: string, where: string) {
    const message =
      `host key mismatch for ${where}: config pins ${expected} but the host presented ${presented}; ` +
      `refusing to connect. If the node was reinstalled, put the new fingerprint in its hostKey.`;
    super(node, message);
    this.message = `${node}: ${message}`;
    this.expected = expected;
    this.presented = presented;
    this.name = "HostKeyMismatchError";
  }
  toString(): string {
    return describeError(this);
  }
}

export class AuthenticationError extends NodeError {
  constructor(node: string, message: string) {
    super(node, message);
    this.message = `${node}: ${message}`;
    this.name = "AuthenticationError";
  }
  toString(): string {
    return describeError(this);
  }
}

export class CommandFailedError extends NodeError {
  /** Redacted command line. */
  readonly command: string;
  readonly result: CommandResult;
  constructor(node: string, command: string, result: CommandResult, secrets: readonly string[] = []) {
    const detail = redact(lastLines(result.stderr.trim() || result.stdout.trim(), 20), secrets);
    const shown = redact(command, secrets);
    const message = `${summarize(shown)} failed (exit ${result.code}): ${detail || "(no output)"}\n  command: ${shown}`;
    super(node, message);
    this.message = `${node}: ${message}`;
    this.command = shown;
    // Callers and loggers may print the result too: it carries no secret either.
    this.result = { ...result, stdout: redact(result.stdout, secrets), stderr: redact(result.stderr, secrets) };
    this.name = "CommandFailedError";
  }
  toString(): string {
    return describeError(this);
  }
}

export class CommandTimeoutError extends NodeError {
  readonly command: string;
  constructor(node: string, command: string, timeoutMs: number) {
    const message = `${summarize(command)} timed out after ${Math.round(timeoutMs / 1000)} s\n  command: ${command}`;
    super(node, message);
    this.message = `${node}: ${message}`;
    this.command = command;
    this.name = "CommandTimeoutError";
  }
  toString(): string {
    return describeError(this);
  }
}

/** Any error of the SSH layer (or a provider's error built on it): it names its node. */
export function isNodeError(err: unknown): err is NodeError {
  return typeof (err as { node?: unknown } | null | undefined)?.node === "string" && typeof (err as Error).message === "string";
}

/** A command that ran and exited non-zero. */
export function isCommandFailed(err: unknown): err is CommandFailedError {
  return hasErrorName(err, "CommandFailedError") && typeof (err as CommandFailedError).result?.code === "number";
}

export function isCommandTimeout(err: unknown): err is CommandTimeoutError {
  return hasErrorName(err, "CommandTimeoutError");
}

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  retries: 3,
  retryBaseDelayMs: 500,
  commandTimeoutMs: 15 * 60_000,
};

/** Connect timeout, retries and command timeout when a caller gives none; the stack schema's ssh defaults are these. */
export const SSH_DEFAULTS: Readonly<typeof DEFAULTS> = DEFAULTS;

/** `SHA256:<unpadded base64>` of a raw SSH public key blob, as OpenSSH prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** The fingerprint of an OpenSSH public key line ("ssh-ed25519 AAAA… comment"), as `ssh-keygen -lf` prints it. */
export function openSshFingerprint(publicKeyOpenssh: string): string {
  const blob = publicKeyOpenssh.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not an OpenSSH public key: ${JSON.stringify(publicKeyOpenssh.slice(0, 40))}`);
  return fingerprint(Buffer.from(blob, "base64"));
}

/** The OpenSSH public key line ("ssh-ed25519 AAAA…") of a private key, for authorized_keys. */
export function publicKeyLine(privateKey: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { utils } = require("ssh2") as typeof import("ssh2");
  const parsed = utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error) throw new Error(`secrets.sshPrivateKey: not a private key ssh2 can read (${key.message})`);
  return `${key.type} ${key.getPublicSSH().toString("base64")}`;
}

/** Replace every secret value in `text` with `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("***");
  }
  return out;
}

/** The tool and subcommand of a command line (`pvecm add`), for short messages. */
export function summarize(commandLine: string): string {
  const words = commandLine
    .trim()
    .split(/\s+/)
    .filter((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
  const tool = (words[0] ?? "").replace(/^.*\//, "");
  const sub = words[1] && /^[a-z][a-z-]*$/.test(words[1]) ? ` ${words[1]}` : "";
  return `${tool}${sub}`;
}

/** The command line as the target runs it: through `sudo -n` when asked (stdin passes through). */
export function asRoot(target: SshTarget, commandLine: string): string {
  return target.sudo ? command("sudo", "-n", "--", "sh", "-c", commandLine) : commandLine;
}

function lastLines(text: string, n: number): string {
  const lines = text.split("\n");
  return lines.length <= n ? text : lines.slice(-n).join("\n");
}

/** One SSH connection to one node; several commands share it. */
export class SshSession {
  private closed = false;

  constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    private readonly commandTimeoutMs: number,
    /** Fingerprint of the host key the host presented (what trust-on-first-use records). */
    readonly presentedHostKey = "",
  ) {
    client.on("close", () => {
      this.closed = true;
    });
  }

  get node(): string {
    return this.target.node;
  }

  /** Run a command; a non-zero exit is returned, not thrown. */
  run(commandLine: string, opts: RunOptions = {}): Promise<CommandResult> {
    const shown = redact(commandLine, opts.secrets);
    if (this.closed) {
      return Promise.reject(new NodeUnreachableError(this.node, `connection closed before ${summarize(shown)}`));
    }
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    return new Promise<CommandResult>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      const finish = (err: Error | null, result?: CommandResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(result!);
      };
      timer = setTimeout(() => {
        // The remote process may keep running; dropping the connection is the
        // only reliable way to stop waiting on it (OpenSSH ignores signals on exec channels).
        finish(new CommandTimeoutError(this.node, shown, timeoutMs));
        this.close();
      }, timeoutMs);

      this.client.exec(asRoot(this.target, commandLine), (err: Error | undefined, stream: ClientChannel) => {
        if (err) {
          finish(new NodeUnreachableError(this.node, `cannot start ${summarize(shown)}: ${err.message}`));
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let code: number | null = null;
        stream.on("data", (d: Buffer) => stdout.push(d));
        stream.stderr.on("data", (d: Buffer) => stderr.push(d));
        stream.on("exit", (exitCode: number | null) => {
          code = exitCode;
        });
        stream.on("close", () => {
          finish(null, {
            stdout: Buffer.concat(stdout).toString("utf8"),
            stderr: Buffer.concat(stderr).toString("utf8"),
            code: code ?? 255,
          });
        });
        if (opts.stdin !== undefined) stream.end(opts.stdin);
        else stream.end();
      });
    });
  }

  /** Run a command and throw `CommandFailedError` unless it exits 0. */
  async check(commandLine: string, opts: RunOptions = {}): Promise<CommandResult> {
    const result = await this.run(commandLine, opts);
    if (result.code !== 0) {
      throw new CommandFailedError(this.node, redact(commandLine, opts.secrets), result, opts.secrets);
    }
    return result;
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.client.end();
    }
  }
}

/** Open a session, retrying refused/unreachable connections with exponential backoff. */
export async function connect(target: SshTarget, options: SshOptions = {}): Promise<SshSession> {
  const opts = { ...DEFAULTS, ...stripUndefined(options) };
  if (!target.privateKey && !target.agent) {
    throw new AuthenticationError(target.node, "no SSH private key and no SSH agent configured");
  }
  if (!target.hostKey && !target.insecureIgnoreHostKey) {
    throw new NodeError(target.node, "no pinned hostKey configured (set hostKey, or insecureIgnoreHostKey: true)");
  }
  let lastError: Error | undefined;
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await sleep(opts.retryBaseDelayMs * 2 ** (attempt - 1));
    try {
      const { client, presented } = await connectOnce(target, opts.connectTimeoutMs);
      return new SshSession(target, client, opts.commandTimeoutMs, presented);
    } catch (err) {
      if (!hasErrorName(err, "RetryableConnectError")) throw err;
      lastError = err as Error;
    }
  }
  const where = `${target.host}:${target.port ?? 22}`;
  throw new NodeUnreachableError(
    target.node,
    `cannot connect to ${where} after ${opts.retries + 1} attempt(s): ${lastError?.message ?? "unknown error"}`,
  );
}

/** Open one connection, run `fn` with it, always close it. */
export async function withSession<T>(
  target: SshTarget,
  fn: (session: SshSession) => Promise<T>,
  options: SshOptions = {},
): Promise<T> {
  const session = await connect(target, options);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

class RetryableConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "RetryableConnectError";
  }
  toString(): string {
    return describeError(this);
  }
}

async function connectOnce(target: SshTarget, connectTimeoutMs: number): Promise<{ client: Client; presented: string }> {
  // require, not import(): vitest rewrites dynamic import() into a helper the
  // closure serializer cannot capture; require serializes the same everywhere.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require("ssh2") as typeof import("ssh2");
  const where = `${target.host}:${target.port ?? 22}`;
  return new Promise<{ client: Client; presented: string }>((resolve, reject) => {
    const client = new Client();
    let presented: string | undefined;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    };
    client.on("ready", () => {
      settled = true;
      resolve({ client, presented: presented ?? "" });
    });
    client.on("error", (err: Error & { level?: string; code?: string }) => {
      if (presented && target.hostKey && presented !== target.hostKey) {
        fail(new HostKeyMismatchError(target.node, target.hostKey, presented, where));
      } else if (err.level === "client-authentication") {
        fail(new AuthenticationError(target.node, `authentication as ${target.username ?? "root"} on ${where} failed: ${err.message}`));
      } else {
        fail(new RetryableConnectError(err.message));
      }
    });
    // A handshake that never completes (node hung) counts as unreachable, not as a hang.
    client.on("timeout", () => fail(new RetryableConnectError(`timed out after ${connectTimeoutMs} ms`)));
    const config: ConnectConfig = {
      host: target.host,
      port: target.port ?? 22,
      username: target.username ?? "root",
      privateKey: target.privateKey,
      agent: target.agent,
      readyTimeout: connectTimeoutMs,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        presented = fingerprint(key);
        return target.insecureIgnoreHostKey === true || presented === target.hostKey;
      },
    };
    try {
      client.connect(config);
    } catch (err) {
      // ssh2 throws synchronously on a malformed private key.
      fail(new AuthenticationError(target.node, `unusable SSH private key: ${(err as Error).message}`));
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
