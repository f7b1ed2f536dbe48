/**
 * Everything the operator command asks of a Pulumi stack. The verbs decide;
 * a driver only runs the engine (automation-driver.ts on the Automation API,
 * a recording fake in the tests), so every decision is tested without the CLI.
 */
import type { EngineEvent, OutputMap } from "@pulumi/pulumi/automation";
import type { ChangeSummary } from "./steps";

export type { EngineEvent, OutputMap };

export interface OperationOptions {
  /** The engine's event stream, for live progress and for what a refresh found. */
  onEvent?: (event: EngineEvent) => void;
  /** Read the nodes as part of a preview or up (writes no state during a preview). */
  refresh?: boolean;
}

export interface StackDriver {
  preview(options: OperationOptions): Promise<ChangeSummary>;
  up(options: OperationOptions): Promise<{ changes: ChangeSummary; outputs: OutputMap }>;
  /** Reads the nodes and writes what it found into the state. */
  refresh(options: OperationOptions): Promise<ChangeSummary>;
  /** Reads the nodes and reports what a refresh would change, writing nothing. */
  previewRefresh(options: OperationOptions): Promise<ChangeSummary>;
  destroy(options: OperationOptions): Promise<ChangeSummary>;
  /** The stack outputs with their values (secrets included, flagged `secret`). */
  outputs(): Promise<OutputMap>;
}

/** Opens the driver for a stack; called only once every input check has passed. */
export type OpenDriver = (stack: string) => Promise<StackDriver>;
