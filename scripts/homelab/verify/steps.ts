/** What `verify` reports: named steps, each with its node, outcome and time. */
import { errorMessage } from "../../../infra/errors";
import { secondsSince } from "../checks";

export interface VerifyStep {
  /** e.g. "cluster", "ceph-health", "ring-link", "ha-placement", "drill:power-off". */
  name: string;
  node?: string;
  ok: boolean;
  detail: string;
  /** On failure: what to do about it. */
  fix?: string;
  durationSeconds: number;
}

export interface VerifyReport {
  ok: boolean;
  steps: VerifyStep[];
}

export type StepOutcome = Omit<VerifyStep, "name" | "node" | "durationSeconds">;

/** Run one step and time it; a throw is a failed step with the error's message (it names the node and the command). */
export async function step(name: string, node: string | undefined, fn: () => Promise<StepOutcome>): Promise<VerifyStep> {
  const start = Date.now();
  const at = node === undefined ? {} : { node };
  try {
    return { name, ...at, ...(await fn()), durationSeconds: secondsSince(start) };
  } catch (err) {
    return { name, ...at, ok: false, detail: errorMessage(err), durationSeconds: secondsSince(start) };
  }
}

export function verifyReport(steps: VerifyStep[]): VerifyReport {
  return { ok: steps.every((s) => s.ok), steps };
}

/** Poll `probe` until it says done or the bound passes; returns the last answer. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, pollMs: number): Promise<{ value: T; done: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return { value, done: true };
    if (Date.now() >= deadline) return { value, done: false };
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
}
