/**
 * `npm run homelab -- <verb> <stack> [--json] [...]` (also the `homelab` bin).
 *
 * Input problems (usage, unknown verb or stack, a destroy with neither --yes
 * nor a terminal to ask on, no Pulumi CLI, no passphrase) are one line on
 * stderr and exit 2, before anything is opened. A run exits 0 when it passed
 * and 1 when it failed, and leaves its reports under reports/.
 */
import * as readline from "node:readline/promises";
import { knownStacks, REPO_ROOT, validateStackFile } from "../../stacks/stack-file";
import { parseCommandLine, USAGE } from "./args";
import { automationDriver } from "./automation-driver";
import type { VerbContext, VerbDeps, VerbOutcome } from "./context";
import type { StackDriver } from "./driver";
import { engineProblem } from "./environment";
import { sshPreflight, sshVerify } from "./ssh-checks";
import { outputValues, type RunResult } from "./result";
import { writeReports } from "./reports";
import { RunRecorder } from "./run";
import { VERBS } from "./verbs";

export interface Stream {
  write: (text: string) => void;
  isTTY: boolean;
}

export interface CliDeps extends VerbDeps {
  env: NodeJS.ProcessEnv;
  knownStacks: () => string[];
  stdout: Stream;
  stderr: Stream;
  stdinIsTTY: boolean;
  /** Asks on the terminal; true when the operator typed `expected`. */
  confirm: (question: string, expected: string) => Promise<boolean>;
  /** Milliseconds since the epoch. */
  now: () => number;
}

async function askOnTerminal(question: string, expected: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === expected;
  } finally {
    rl.close();
  }
}

export function defaultDeps(): CliDeps {
  return {
    openDriver: (stack) => automationDriver(stack),
    validateStack: (stack) => validateStackFile(stack),
    preflight: sshPreflight(),
    verify: sshVerify(),
    root: REPO_ROOT,
    env: process.env,
    knownStacks: () => knownStacks(REPO_ROOT),
    stdout: { write: (t) => process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) },
    stderr: { write: (t) => process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) },
    stdinIsTTY: Boolean(process.stdin.isTTY),
    confirm: askOnTerminal,
    now: () => Date.now(),
  };
}

export function helpText(): string {
  const width = Math.max(...Object.keys(VERBS).map((v) => v.length));
  return [`usage: ${USAGE}`, "", ...Object.entries(VERBS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.summary}`)].join("\n");
}

/** The first input problem, as the one line to print; undefined when the run may start. */
function inputProblem(verb: string, stack: string, yes: boolean, deps: CliDeps): string | undefined {
  const spec = Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
  if (!spec) return `homelab: unknown verb "${verb}"; use one of: ${Object.keys(VERBS).join(", ")}`;
  const stacks = deps.knownStacks();
  if (!stacks.includes(stack)) return `homelab: unknown stack "${stack}" (no Pulumi.${stack}.yaml here); known stacks: ${stacks.join(", ")}`;
  if (spec.destructive && !yes && !deps.stdinIsTTY) {
    return `${stack}: ${verb} removes the stack's resources; pass --yes to confirm (there is no terminal to ask on); nothing changed`;
  }
  if (spec.engine) {
    const problem = engineProblem(deps.env, deps.root);
    if (problem) return `${stack}: ${problem}`;
  }
  return undefined;
}

export async function main(argv: string[], deps: CliDeps = defaultDeps()): Promise<number> {
  const error = (line: string) => deps.stderr.write(`${line}\n`);
  const parsed = parseCommandLine(argv);
  if ("help" in parsed) {
    deps.stdout.write(`${helpText()}\n`);
    return 0;
  }
  if ("error" in parsed) {
    error(`homelab: ${parsed.error}; usage: ${USAGE} (verbs: ${Object.keys(VERBS).join(", ")})`);
    return 2;
  }
  const { verb, stack, flags } = parsed;
  const problem = inputProblem(verb, stack, flags.yes, deps);
  if (problem) {
    error(problem);
    return 2;
  }
  const spec = VERBS[verb];
  if (spec.destructive && !flags.yes) {
    const agreed = await deps.confirm(`${verb} removes every resource of stack "${stack}". Type the stack name to go ahead: `, stack);
    if (!agreed) {
      error(`${stack}: ${verb} not confirmed; nothing changed`);
      return 1;
    }
  }

  // With --json, stdout carries only the result object; everything else goes to stderr.
  const lines = flags.json ? deps.stderr : deps.stdout;
  const log = (line: string) => lines.write(`${line}\n`);
  const startedAt = deps.now();
  const run = new RunRecorder({ stack, now: deps.now, log, progress: { tty: lines.isTTY, write: lines.write } });
  let opened: Promise<StackDriver> | undefined;
  const ctx: VerbContext = { stack, verb, flags, deps, run, log, driver: () => (opened ??= deps.openDriver(stack)) };
  let outcome: VerbOutcome = {};
  try {
    outcome = (await spec.run(ctx)) ?? {};
  } catch (err) {
    run.fail(undefined, err);
  }

  const result: RunResult = {
    stack,
    verb,
    success: run.success,
    startedAt: new Date(startedAt).toISOString(),
    durationSeconds: Math.max(0, deps.now() - startedAt) / 1000,
    phases: run.phases,
    outputs: outputValues(outcome.outputs ?? {}),
    ...(outcome.drift ? { drift: outcome.drift } : {}),
    ...(outcome.files ? { files: outcome.files } : {}),
    ...(run.error ? { error: run.error } : {}),
  };
  let reports: RunResult["reports"];
  try {
    reports = writeReports(deps.root, result);
  } catch (err) {
    error(`homelab: the report was not written: ${(err as Error).message}`);
  }
  // Secrets reach the terminal only when asked for, and never the report files.
  const shown = outputValues(outcome.outputs ?? {}, flags.showSecrets);
  if (flags.json) {
    deps.stdout.write(`${JSON.stringify({ ...result, outputs: shown, ...(reports ? { reports } : {}) }, null, 2)}\n`);
  } else {
    for (const [name, value] of Object.entries(shown)) log(`output ${name}: ${JSON.stringify(value)}`);
    log(`${stack}: ${verb} ${result.success ? "passed" : "failed"} in ${result.durationSeconds.toFixed(1)} s`);
    if (reports) log(`report: ${reports.markdown}`);
  }
  return result.success ? 0 : 1;
}

/** Runs with the process's arguments and sets its exit code. */
export function runFromProcess(): void {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`homelab: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runFromProcess();
