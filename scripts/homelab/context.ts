/** What a verb gets to work with, and what it hands back. */
import type { StackFileResult } from "../../stacks/stack-file";
import type { OpenDriver, OutputMap, StackDriver } from "./driver";
import type { PreflightCheck, VerifyCheck } from "./hooks";
import type { DriftItem } from "./result";
import type { RunRecorder } from "./run";

export interface Flags {
  json: boolean;
  yes: boolean;
  showSecrets: boolean;
  skipPreflight: boolean;
  noRefresh: boolean;
  /** verify: take a node down and prove the cluster survives it. */
  drill: boolean;
}

export interface VerbDeps {
  openDriver: OpenDriver;
  validateStack: (stack: string) => StackFileResult;
  preflight: PreflightCheck;
  verify: VerifyCheck;
  /** The repository: `reports/` and `.homelab/kube/` are under it. */
  root: string;
}

export interface VerbContext {
  stack: string;
  verb: string;
  flags: Flags;
  deps: VerbDeps;
  run: RunRecorder;
  log: (line: string) => void;
  /** The stack's driver, opened on first use. */
  driver: () => Promise<StackDriver>;
}

export interface VerbOutcome {
  /** Stack outputs for the result (redacted there). */
  outputs?: OutputMap;
  drift?: DriftItem[];
  files?: string[];
}

export interface VerbSpec {
  /** One line for the usage text. */
  summary: string;
  /** Runs the engine: needs the Pulumi CLI and the passphrase. */
  engine: boolean;
  /** Destroys resources: asks on a terminal, else needs --yes. */
  destructive: boolean;
  run: (ctx: VerbContext) => Promise<VerbOutcome | void>;
}
