/**
 * The decisions of a scripted deployment, kept apart from the Pulumi CLI so
 * they can be tested without it: validate first, which steps to run in which
 * order, and how each failure is reported.
 */
import { pulumiCliOnPath } from "../stacks/esc";
import type { StackFileResult } from "../stacks/stack-file";

export type Verb = "preview" | "up" | "refresh" | "destroy";

/** A count of planned or performed operations per kind ("create", "update", …). */
export type ChangeSummary = Record<string, number>;

/**
 * What a deployment needs from a Pulumi stack (the Automation API in real runs).
 * `refresh: true` on preview/up reads the nodes as part of that operation:
 * a preview with it plans against the real state without writing any.
 */
export interface StackOps {
  refresh(): Promise<ChangeSummary>;
  preview(opts: { refresh: boolean }): Promise<ChangeSummary>;
  up(opts: { refresh: boolean }): Promise<ChangeSummary>;
  destroy(): Promise<ChangeSummary>;
}

/** One operation of a deployment; `refresh` only on preview and up. */
export interface Step {
  op: Verb;
  refresh?: boolean;
}

/** The Pulumi CLI release matching the @pulumi/pulumi SDK in package.json (or any later v3). */
export const PULUMI_CLI_VERSION = "3.248.0";

/** The one line printed when the Pulumi CLI is not on PATH. */
export const PULUMI_CLI_MISSING =
  `the Pulumi CLI is not on PATH; install it with: curl -fsSL https://get.pulumi.com | sh -s -- --version ${PULUMI_CLI_VERSION} ` +
  `(then add ~/.pulumi/bin to PATH), or any later v3 release`;

export interface DeploymentOptions {
  /** Refresh from the nodes before preview/up so drift is part of the plan. Defaults to true. */
  refreshFirst?: boolean;
  /** `destroy` is refused unless this is set. */
  confirmDestroy?: boolean;
  /** The PATH to find the Pulumi CLI on; when given, a missing CLI stops the run before anything else. */
  pathEnv?: string;
}

/**
 * The steps a verb runs, in order. Refreshing is part of preview and up
 * (never a separate `refresh` step before them): a separate refresh writes
 * the state, and a preview must leave the state as it found it.
 */
export function plannedSteps(verb: Verb, options: DeploymentOptions = {}): Step[] {
  const refresh = options.refreshFirst ?? true;
  switch (verb) {
    case "preview":
      return [{ op: "preview", refresh }];
    case "up":
      // Preview before up: a failing plan stops before anything on the nodes changes.
      return [
        { op: "preview", refresh },
        { op: "up", refresh },
      ];
    case "refresh":
      return [{ op: "refresh" }];
    case "destroy":
      return [{ op: "destroy" }];
  }
}

/** One line per step: `up: 3 create, 1 update, 20 same`. */
export function describeSummary(step: Verb, summary: ChangeSummary): string {
  const parts = Object.entries(summary)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${n} ${op}`);
  return `${step}: ${parts.length > 0 ? parts.join(", ") : "no changes"}`;
}

/** A message a person can act on, for the errors the Automation API raises. */
export function explainFailure(stack: string, step: Verb, err: unknown): string {
  const name = (err as { name?: string })?.name;
  const message = err instanceof Error ? err.message : String(err);
  if (name === "ConcurrentUpdateError") {
    return `${stack}: ${step} refused: another update of this stack is running; wait for it, or run \`pulumi cancel --stack ${stack}\` if it died`;
  }
  if (name === "StackNotFoundError") {
    return `${stack}: no such stack; create it with \`pulumi stack init ${stack} --secrets-provider passphrase\` and set its secrets`;
  }
  const lastLines = message.trim().split("\n").slice(-15).join("\n");
  return `${stack}: ${step} failed: ${lastLines}`;
}

/**
 * Validate the stack file, then run the verb's steps. Returns the exit code;
 * every line of the report goes to `log`.
 */
export async function runDeployment(
  stack: string,
  verb: Verb,
  validation: StackFileResult,
  ops: () => Promise<StackOps>,
  log: (line: string) => void,
  options: DeploymentOptions = {},
): Promise<number> {
  if (validation.issues.length > 0) {
    for (const issue of validation.issues) log(issue);
    log(`${stack}: ${validation.issues.length} problem(s) in the stack file; nothing was run`);
    return 1;
  }
  for (const warning of validation.warnings ?? []) log(`warning: ${warning}`);
  if (verb === "destroy" && !options.confirmDestroy) {
    log(`${stack}: destroy needs --yes (the cluster itself stays unless cluster.dissolveOnDelete is set)`);
    return 1;
  }
  if (options.pathEnv !== undefined && !pulumiCliOnPath(options.pathEnv)) {
    log(`${stack}: ${PULUMI_CLI_MISSING}`);
    return 1;
  }
  let stackOps: StackOps;
  try {
    stackOps = await ops();
  } catch (err) {
    log(explainFailure(stack, verb, err));
    return 1;
  }
  for (const step of plannedSteps(verb, options)) {
    try {
      const refresh = step.refresh ?? false;
      const summary =
        step.op === "preview" || step.op === "up" ? await stackOps[step.op]({ refresh }) : await stackOps[step.op]();
      log(describeSummary(step.op, summary));
    } catch (err) {
      log(explainFailure(stack, step.op, err));
      return 1;
    }
  }
  return 0;
}
