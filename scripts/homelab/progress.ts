/**
 * Live progress from the engine's event stream: one line per resource step
 * with its duration and a running count, and a summary table at the end. On a
 * terminal a status line (steps done, steps running) is redrawn under the
 * lines; elsewhere (CI logs, files) only plain lines, no escape codes.
 */
import type { EngineEvent } from "./driver";

export interface ProgressOptions {
  /** The phase the events belong to (`preview`, `up`, …). */
  phase: string;
  tty: boolean;
  write: (text: string) => void;
  /** Milliseconds; injected so recorded events replay the same way. */
  now: () => number;
}

/** Steps that change nothing: counted, not printed one by one. */
const QUIET_OPS = new Set(["same", "read"]);

const CLEAR_LINE = "\r\x1b[K";
const color = (code: number, text: string) => `\x1b[${code}m${text}\x1b[0m`;

/** The resource's name: the last `::` part of its URN. */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

export class Progress {
  private readonly started = new Map<string, number>();
  private readonly opsCount = new Map<string, number>();
  private readonly failures: string[] = [];
  private readonly errors: string[] = [];
  private done = 0;
  private summary?: { changes: Record<string, number>; durationSeconds: number };
  private statusShown = false;
  private readonly startedAt: number;

  constructor(private readonly options: ProgressOptions) {
    this.startedAt = options.now();
  }

  /** Pass to the driver as `onEvent`. */
  readonly onEvent = (event: EngineEvent): void => {
    if (event.resourcePreEvent) this.stepStarted(event.resourcePreEvent.metadata.urn);
    else if (event.resOutputsEvent) this.stepDone(event.resOutputsEvent.metadata);
    else if (event.resOpFailedEvent) this.stepFailed(event.resOpFailedEvent.metadata);
    else if (event.diagnosticEvent) this.diagnostic(event.diagnosticEvent);
    else if (event.summaryEvent) {
      const s = event.summaryEvent;
      this.summary = {
        changes: Object.fromEntries(Object.entries(s.resourceChanges ?? {}).map(([k, v]) => [k, Number(v)])),
        durationSeconds: s.durationSeconds,
      };
    }
  };

  /** The error diagnostics the engine reported (our failure texts), for the result's error. */
  errorTexts(): string[] {
    return [...this.errors];
  }

  /** Clears the status line and prints the summary table, when any event came. */
  finish(): void {
    this.clearStatus();
    const changes = this.summary?.changes ?? Object.fromEntries(this.opsCount);
    if (Object.keys(changes).length === 0 && this.done === 0 && this.failures.length === 0) return;
    const seconds = this.summary?.durationSeconds ?? (this.options.now() - this.startedAt) / 1000;
    const rows = Object.entries(changes)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => a.localeCompare(b));
    if (this.failures.length > 0) rows.push(["failed", this.failures.length]);
    const width = Math.max("operation".length, ...rows.map(([op]) => op.length));
    const lines = [
      `${this.options.phase} summary (${seconds.toFixed(1)}s)`,
      `  ${"operation".padEnd(width)}  count`,
      ...rows.map(([op, n]) => `  ${op.padEnd(width)}  ${String(n).padStart(5)}`),
      ...this.failures.map((f) => `  failed: ${f}`),
    ];
    for (const line of lines) this.options.write(`${line}\n`);
  }

  private stepStarted(urn: string): void {
    if (!this.started.has(urn)) this.started.set(urn, this.options.now());
    this.drawStatus();
  }

  private stepDone(metadata: { op: string; urn: string; type: string; diffs?: string[] }): void {
    const seconds = this.elapsed(metadata.urn);
    this.done += 1;
    this.opsCount.set(metadata.op, (this.opsCount.get(metadata.op) ?? 0) + 1);
    if (!QUIET_OPS.has(metadata.op)) {
      const mark = this.options.tty ? color(32, "✓") : "ok";
      // Property names only: their values may be secret.
      const changed = metadata.diffs && metadata.diffs.length > 0 ? ` changed: ${metadata.diffs.join(", ")}` : "";
      this.line(`${this.options.phase} [${this.done}] ${mark} ${metadata.op} ${metadata.type} ${urnName(metadata.urn)} (${seconds.toFixed(1)}s)${changed}`);
    }
    this.drawStatus();
  }

  private stepFailed(metadata: { op: string; urn: string; type: string }): void {
    const seconds = this.elapsed(metadata.urn);
    this.done += 1;
    const what = `${metadata.op} ${metadata.type} ${urnName(metadata.urn)}`;
    this.failures.push(what);
    const mark = this.options.tty ? color(31, "✗") : "FAILED";
    this.line(`${this.options.phase} [${this.done}] ${mark} ${what} (${seconds.toFixed(1)}s)`);
    this.drawStatus();
  }

  private diagnostic(d: { urn?: string; message: string; severity: string }): void {
    if (d.severity !== "error" && d.severity !== "warning") return;
    const text = d.message.trim();
    if (text === "") return;
    if (d.severity === "error") this.errors.push(text);
    const where = d.urn ? `${urnName(d.urn)}: ` : "";
    const label = this.options.tty ? color(d.severity === "error" ? 31 : 33, d.severity) : d.severity;
    this.line(`${this.options.phase} ${label}: ${where}${text}`);
  }

  private elapsed(urn: string): number {
    const start = this.started.get(urn);
    this.started.delete(urn);
    return start === undefined ? 0 : Math.max(0, this.options.now() - start) / 1000;
  }

  private line(text: string): void {
    this.clearStatus();
    this.options.write(`${text}\n`);
  }

  private drawStatus(): void {
    if (!this.options.tty) return;
    const running = [...this.started.keys()].map(urnName);
    const shown = running.slice(0, 3).join(", ") + (running.length > 3 ? ", …" : "");
    this.options.write(`${CLEAR_LINE}${this.options.phase}: ${this.done} done, ${running.length} running${shown ? ` (${shown})` : ""}`);
    this.statusShown = true;
  }

  private clearStatus(): void {
    if (!this.statusShown) return;
    this.options.write(CLEAR_LINE);
    this.statusShown = false;
  }
}
