/**
 * Which engine operations a deploy verb runs, in which order, and how their
 * counts and failures read; kept apart from the Pulumi CLI so they are tested
 * without it.
 */

/** An engine operation on a stack. */
export type Operation = "preview" | "up" | "refresh" | "destroy";

/** A count of planned or performed operations per kind ("create", "update", …). */
export type ChangeSummary = Record<string, number>;

/** One operation of a deployment; `refresh` only on preview and up. */
export interface Step {
  op: Operation;
  refresh?: boolean;
}

/** The Pulumi CLI release matching the @pulumi/pulumi SDK in package.json (or any later v3). */
export const PULUMI_CLI_VERSION = "3.248.0";

/** The one line printed when the Pulumi CLI is not on PATH. */
export const PULUMI_CLI_MISSING =
  `the Pulumi CLI is not on PATH; install it with: curl -fsSL https://get.pulumi.com | sh -s -- --version ${PULUMI_CLI_VERSION} ` +
  `(then add ~/.pulumi/bin to PATH), or any later v3 release`;

/**
 * The steps an operation runs, in order. Refreshing is part of preview and up
 * (never a separate `refresh` step before them): a separate refresh writes
 * the state, and a preview must leave the state as it found it.
 */
export function plannedSteps(op: Operation, options: { refreshFirst?: boolean } = {}): Step[] {
  const refresh = options.refreshFirst ?? true;
  switch (op) {
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
export function describeSummary(step: string, summary: ChangeSummary): string {
  const parts = Object.entries(summary)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${n} ${op}`);
  return `${step}: ${parts.length > 0 ? parts.join(", ") : "no changes"}`;
}

/** A message a person can act on, for the errors the Automation API raises. */
export function explainFailure(stack: string, step: string, err: unknown): string {
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
