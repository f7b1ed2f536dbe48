/**
 * Runs a Pulumi program once, the way `pulumi up` would, without the Pulumi
 * CLI: in a separate Node process loaded with ts-node (as the CLI loads a
 * TypeScript program), against a state kept in this process's memory. This
 * is a harness for the simulated cluster, not a replacement for `pulumi up`.
 */
import { fork } from "node:child_process";
import * as path from "node:path";
import type { DoneMessage, EngineState, RunnerMessage, StartMessage, StepEvent } from "./protocol";
import { Redactor } from "./secrets";

const ROOT = path.resolve(__dirname, "../..");
const RUNNER = path.join(__dirname, "runner.ts");

export interface RunOptions {
  /** The program's entry module (default: the project's, stacks/index.ts). */
  program?: string;
  project?: string;
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
  /** The state the previous run left (empty for a first run). */
  state?: EngineState;
  /** Called as each step finishes. */
  onStep?: (event: StepEvent) => void;
}

export interface RunResult extends DoneMessage {
  steps: StepEvent[];
  durationMs: number;
}

/** Steps that changed something (the engine's "changes"). */
export const CHANGING_OPS = new Set(["create", "update", "replace", "delete"]);

export function runOnce(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const steps: StepEvent[] = [];
  // The program process's stderr is only shown when it dies; it must not carry a secret either.
  const redactor = new Redactor();
  for (const key of options.secretKeys) {
    redactor.add(options.config[key]);
    try {
      redactor.add(JSON.parse(options.config[key] ?? ""));
    } catch {
      /* a plain string */
    }
  }
  return new Promise((resolve, reject) => {
    const child = fork(RUNNER, [], {
      cwd: ROOT,
      execArgv: ["-r", "ts-node/register/transpile-only"],
      env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
      // The program's own console output goes through; the runner prints nothing itself.
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    let done: DoneMessage | undefined;
    child.on("message", (m: RunnerMessage) => {
      if (m.kind === "step") {
        steps.push(m);
        options.onStep?.(m);
      } else done = m;
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (done) resolve({ ...done, steps, durationMs: Date.now() - started });
      else reject(new Error(`the program process ended (${signal ?? `exit ${code}`}) without a result: ${redactor.redact(lastLines(stderr))}`));
    });
    const start: StartMessage = {
      kind: "start",
      program: path.resolve(ROOT, options.program ?? "stacks/index.ts"),
      project: options.project ?? "homelab",
      stack: options.stack,
      config: options.config,
      secretKeys: options.secretKeys,
      state: options.state ?? {},
    };
    child.send(start);
  });
}

function lastLines(text: string, n = 20): string {
  return text.trim().split("\n").slice(-n).join("\n");
}
