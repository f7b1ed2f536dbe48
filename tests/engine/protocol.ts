/**
 * Messages between the harness (parent) and the program process (runner.ts).
 * State and secrets travel over the IPC channel only: nothing is written to
 * disk, and the parent never prints a value the runner marked secret.
 */

/** One resource as the engine's state keeps it between runs. */
export interface ResourceState {
  type: string;
  id: string;
  /** Checked inputs of the last successful step (`__provider` included for dynamic resources). */
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** URN → resource. Kept in the parent's memory between runs. */
export type EngineState = Record<string, ResourceState>;

export interface StartMessage {
  kind: "start";
  /** Absolute path of the program's entry module (Pulumi.yaml `main:`). */
  program: string;
  project: string;
  stack: string;
  /** Flat config map (`homelab:environment` → JSON text), as the CLI passes it. */
  config: Record<string, string>;
  /** Keys of `config` whose values are secret. */
  secretKeys: string[];
  state: EngineState;
}

/** What a step did: the engine's vocabulary, plus "mocked" for native resources. */
export type StepOp = "create" | "update" | "replace" | "same" | "delete" | "mocked" | "failed" | "skipped";

export interface StepEvent {
  kind: "step";
  urn: string;
  type: string;
  name: string;
  op: StepOp;
  /** Which provider calls ran, in order (check, read, diff, create, …). */
  calls: string[];
  /** When each of `calls` started (ms since the epoch); each ends when the next starts, the last with the step. */
  callStarts: number[];
  /** URNs this registration waited for (inputs' resources and dependsOn, components expanded by the SDK). */
  dependsOn: string[];
  startedAt: number;
  durationMs: number;
  /** Distinct nodes named in the resource's connection inputs. */
  nodes: string[];
  /** Secret values already redacted. */
  error?: string;
}

/** A stack output: plain values as they are, secret leaves replaced by SECRET_MARKER. */
export type RedactedValue = unknown;

export interface DoneMessage {
  kind: "done";
  ok: boolean;
  /** The program's or a step's error (secrets redacted). */
  error?: string;
  outputs: Record<string, RedactedValue>;
  state: EngineState;
}

export type RunnerMessage = StepEvent | DoneMessage;

/** The marker a secret stack output is replaced with. */
export const SECRET_MARKER = "[secret]";
