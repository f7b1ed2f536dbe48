/**
 * The operator command without the Pulumi CLI: a recording fake StackDriver
 * that replays engine events, and the command's dependencies pointed at a
 * temporary repository folder (reports, kube files) with a stand-in `pulumi`
 * on PATH and a passphrase set.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateStackFile } from "../../stacks/stack-file";
import type { CliDeps } from "../../scripts/homelab/cli";
import type { EngineEvent, OperationOptions, OutputMap, StackDriver } from "../../scripts/homelab/driver";
import type { ChangeSummary } from "../../scripts/homelab/steps";

type DriverMethod = keyof StackDriver;

export interface FakeDriverOptions {
  /** Change counts per method (default: `{ same: 5 }`, up `{ create: 2, same: 5 }`). */
  changes?: Partial<Record<DriverMethod, ChangeSummary>>;
  /** Events each method replays through `onEvent` before it returns (or fails). */
  events?: Partial<Record<DriverMethod, EngineEvent[]>>;
  /** A method that throws this error (after replaying its events). */
  fail?: { method: DriverMethod; err: Error };
  outputs?: OutputMap;
}

export function fakeDriver(options: FakeDriverOptions = {}) {
  const calls: string[] = [];
  const outputs = options.outputs ?? {};
  const op = (method: DriverMethod) => async (opts: OperationOptions = {}) => {
    calls.push(opts.refresh ? `${method} --refresh` : method);
    for (const event of options.events?.[method] ?? []) opts.onEvent?.(event);
    if (options.fail?.method === method) throw options.fail.err;
    return options.changes?.[method] ?? (method === "up" ? { create: 2, same: 5 } : { same: 5 });
  };
  const driver: StackDriver = {
    preview: op("preview"),
    refresh: op("refresh"),
    previewRefresh: op("previewRefresh"),
    destroy: op("destroy"),
    up: async (opts) => ({ changes: await op("up")(opts), outputs }),
    outputs: async () => {
      await op("outputs")();
      return outputs;
    },
  };
  return { driver, calls };
}

export function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

export interface CapturedDeps {
  deps: CliDeps;
  stdout: string[];
  stderr: string[];
  /** Whether the driver was opened at all. */
  opened: () => boolean;
  root: string;
  cleanup: () => void;
}

/** Dependencies for `main`, every one overridable; a clock that advances 0.5 s per reading. */
export function cliDeps(driver: StackDriver, overrides: Partial<CliDeps> = {}): CapturedDeps {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-cli-"));
  const bin = path.join(root, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "pulumi"), "#!/bin/sh\nexit 99\n", { mode: 0o755 });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let opened = false;
  let clock = Date.UTC(2026, 11, 6, 16, 2, 54);
  const deps: CliDeps = {
    openDriver: async () => ((opened = true), driver),
    // The real stack files, without asking a Pulumi CLI for resolved config.
    validateStack: (stack) => validateStackFile(stack, undefined, undefined, { readConfig: () => ({ error: "no CLI in tests" }) }),
    preflight: async () => ({ ok: true, problems: [] }),
    verify: async () => ({ ok: true, problems: [] }),
    root,
    env: { PATH: bin, PULUMI_CONFIG_PASSPHRASE: "test-passphrase" },
    knownStacks: () => ["linode", "matrix", "ms01", "pifarm"],
    stdout: { write: (t) => void stdout.push(t), isTTY: false },
    stderr: { write: (t) => void stderr.push(t), isTTY: false },
    stdinIsTTY: false,
    confirm: async () => {
      throw new Error("confirm was not expected");
    },
    now: () => (clock += 500),
    ...overrides,
  };
  return { deps, stdout, stderr, opened: () => opened, root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** The lines written to a captured stream. */
export function linesOf(chunks: string[]): string[] {
  return chunks.join("").split("\n").filter((l) => l !== "");
}
