/**
 * One run of a verb: its phases, each timed, with the engine's events shown
 * as progress, and the first failure kept as the run's error.
 */
import { errorMessage, hasErrorName } from "../../infra/errors";
import type { EngineEvent } from "./driver";
import { Progress } from "./progress";
import { commandFailure, type Phase, type RunError } from "./result";
import { explainFailure, type ChangeSummary } from "./steps";

/** A failure a verb words itself (not an engine error): its message is shown as it is. */
export function phaseFailure(message: string): Error {
  const err = new Error(message);
  err.name = "PhaseFailure";
  return err;
}

export interface RecorderOptions {
  stack: string;
  now: () => number;
  log: (line: string) => void;
  /** Where progress goes, and whether it is a terminal. */
  progress: { tty: boolean; write: (text: string) => void };
}

export class RunRecorder {
  readonly phases: Phase[] = [];
  error?: RunError;

  constructor(private readonly options: RecorderOptions) {}

  /**
   * Runs one phase. `fn` gets the event handler to pass to the driver and
   * returns the phase's change counts. Returns whether the phase succeeded;
   * a failure is logged and kept as the run's error (the first one wins).
   */
  async phase(name: string, fn: (onEvent: (event: EngineEvent) => void) => Promise<ChangeSummary | void>): Promise<boolean> {
    const start = this.options.now();
    const progress = new Progress({ phase: name, ...this.options.progress, now: this.options.now });
    const durationSeconds = () => (this.options.now() - start) / 1000;
    try {
      const changes = (await fn(progress.onEvent)) ?? {};
      progress.finish();
      this.phases.push({ name, success: true, durationSeconds: durationSeconds(), changes });
      return true;
    } catch (err) {
      progress.finish();
      this.phases.push({ name, success: false, durationSeconds: durationSeconds(), changes: {} });
      this.fail(name, err, progress.errorTexts());
      return false;
    }
  }

  /** Records a failure that is not a phase's (a verb's own verdict, or an unexpected throw). */
  fail(phase: string | undefined, err: unknown, diagnostics: readonly string[] = []): void {
    const message = hasErrorName(err, "PhaseFailure") ? errorMessage(err) : explainFailure(this.options.stack, phase ?? "run", err);
    this.options.log(message);
    this.error ??= {
      ...(phase ? { phase } : {}),
      message,
      // The engine's own diagnostics are cleaner than the CLI's stderr, so they are read first.
      ...commandFailure([...diagnostics, errorMessage(err)]),
    };
  }

  get success(): boolean {
    return this.error === undefined && this.phases.every((p) => p.success);
  }
}
