/**
 * What `preflight` and `verify` report, and the small helpers both use: a
 * timed step that never throws (its error becomes a failed result naming the
 * node), and a bounded parallel map (one SSH session per node at a time, at
 * most `limit` nodes at once).
 */
import { errorMessage } from "../../infra/errors";

/** One check of one node (or of the whole environment when `node` is absent). */
export interface CheckResult {
  /** What was checked, e.g. "ssh", "pve-version", "clock". */
  check: string;
  node?: string;
  ok: boolean;
  /** What was seen; on failure, what is wrong (naming the node). */
  detail: string;
  /** On failure: what to do about it. */
  fix?: string;
  durationSeconds: number;
}

/** Every check; `ok` when all passed. */
export interface CheckReport {
  ok: boolean;
  checks: CheckResult[];
}

/** Seconds since `startMs`, to the millisecond. */
export function secondsSince(startMs: number): number {
  return Math.round(Date.now() - startMs) / 1000;
}

/** A report from results, ok when every one is. */
export function report(checks: CheckResult[]): CheckReport {
  return { ok: checks.every((c) => c.ok), checks };
}

/** The outcome of a check before it is timed. */
export type Outcome = Omit<CheckResult, "check" | "node" | "durationSeconds">;

/**
 * Run one check and time it. A throw is a failed result with the error's
 * message (which names the node and the command) and `fix` when given.
 */
export async function timed(check: string, node: string | undefined, fn: () => Promise<Outcome>, fixOnError?: string): Promise<CheckResult> {
  const start = Date.now();
  const at = node === undefined ? {} : { node };
  try {
    const outcome = await fn();
    return { check, ...at, ...outcome, durationSeconds: secondsSince(start) };
  } catch (err) {
    return { check, ...at, ok: false, detail: errorMessage(err), ...(fixOnError ? { fix: fixOnError } : {}), durationSeconds: secondsSince(start) };
  }
}

/** `fn` over `items`, at most `limit` at once; results in the items' order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
