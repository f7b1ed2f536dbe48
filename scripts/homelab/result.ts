/**
 * The one result object of a run (`--json`, and the JSON report), its schema,
 * and the error details read out of our failure texts
 * (`golf: pvecm add failed (exit 255): …\n  command: pvecm add …`, infra/ssh.ts).
 */
import { z } from "zod";

const changes = z.record(z.string(), z.number().int().nonnegative());

export const PhaseSchema = z
  .object({
    name: z.string().min(1),
    success: z.boolean(),
    durationSeconds: z.number().nonnegative(),
    /** Operations per kind (`create`, `same`, …); empty for phases that run no engine operation. */
    changes,
  })
  .strict();

export const RunErrorSchema = z
  .object({
    /** The phase that failed, when one did. */
    phase: z.string().min(1).optional(),
    message: z.string().min(1),
    node: z.string().min(1).optional(),
    /** The command's short name (`pvecm add`). */
    command: z.string().min(1).optional(),
    exitStatus: z.number().int().optional(),
    /** The whole (redacted) command line, when the error carried it. */
    commandLine: z.string().min(1).optional(),
  })
  .strict();

export const DriftSchema = z
  .object({
    urn: z.string().min(1),
    type: z.string().min(1),
    name: z.string().min(1),
    /** `changed`: the nodes differ from the state; `deleted`: gone from the nodes. */
    kind: z.enum(["changed", "deleted"]),
    /** Names of the properties that differ (never their values: they may be secret). */
    properties: z.array(z.string()),
  })
  .strict();

export const RunResultSchema = z
  .object({
    stack: z.string().min(1),
    verb: z.string().min(1),
    success: z.boolean(),
    startedAt: z.iso.datetime(),
    durationSeconds: z.number().nonnegative(),
    phases: z.array(PhaseSchema),
    /** Stack outputs, secrets replaced by REDACTED. */
    outputs: z.record(z.string(), z.unknown()),
    drift: z.array(DriftSchema).optional(),
    /** Files the run wrote (kubeconfigs, talosconfigs). */
    files: z.array(z.string()).optional(),
    error: RunErrorSchema.optional(),
    reports: z.object({ json: z.string(), markdown: z.string() }).strict().optional(),
  })
  .strict();

export type Phase = z.infer<typeof PhaseSchema>;
export type RunError = z.infer<typeof RunErrorSchema>;
export type DriftItem = z.infer<typeof DriftSchema>;
export type RunResult = z.infer<typeof RunResultSchema>;

/** What a secret output reads as everywhere but `outputs --show-secrets` on the terminal. */
export const REDACTED = "[secret]";

/** Output values by name, secrets replaced unless `showSecrets`. */
export function outputValues(outputs: Record<string, { value: unknown; secret: boolean }>, showSecrets = false): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([name, o]) => [name, o.secret && !showSecrets ? REDACTED : o.value]));
}

// The node is the last `word: ` before the command, which has no colon (`error: golf: pvecm add failed …`).
const FAILED = /(?:^|[\s'"])([A-Za-z0-9][A-Za-z0-9_.-]*): ([^:\n]*?) failed \(exit (-?\d+)\):/m;
const TIMED_OUT = /(?:^|[\s'"])([A-Za-z0-9][A-Za-z0-9_.-]*): ([^:\n]*?) timed out after /m;
const COMMAND_LINE = /^\s*command: (.+)$/m;

/** Node, command and exit status out of the first of `texts` that carries one of our failure texts. */
export function commandFailure(texts: readonly string[]): Pick<RunError, "node" | "command" | "exitStatus" | "commandLine"> {
  for (const text of texts) {
    const failed = FAILED.exec(text);
    const timedOut = failed ? undefined : TIMED_OUT.exec(text);
    const match = failed ?? timedOut;
    if (!match) continue;
    const commandLine = COMMAND_LINE.exec(text.slice(match.index))?.[1]?.trim();
    return {
      node: match[1],
      command: match[2],
      ...(failed ? { exitStatus: Number(failed[3]) } : {}),
      ...(commandLine ? { commandLine } : {}),
    };
  }
  return {};
}
