/** The checks every deploy verb passes before the engine runs: the stack file, then preflight. */
import { summary } from "../../../stacks/stack-file";
import type { VerbContext } from "../context";
import { phaseFailure } from "../run";

/** The `validate` phase; `after` ends the failure line (what did not happen). */
export function checkStackFile(ctx: VerbContext, after = "nothing was run"): Promise<boolean> {
  return ctx.run.phase("validate", async () => {
    const result = ctx.deps.validateStack(ctx.stack);
    if (result.issues.length > 0 || !result.environment) {
      for (const issue of result.issues) ctx.log(issue);
      throw phaseFailure(`${ctx.stack}: ${result.issues.length} problem(s) in the stack file; ${after}`);
    }
    for (const warning of result.warnings ?? []) ctx.log(`warning: ${warning}`);
    ctx.log(summary(result.environment));
  });
}

/** `validate`, then `preflight` unless --skip-preflight; whether the deploy may go ahead. */
export async function prepareDeploy(ctx: VerbContext): Promise<boolean> {
  if (!(await checkStackFile(ctx))) return false;
  if (ctx.flags.skipPreflight) {
    ctx.log(`${ctx.stack}: preflight skipped (--skip-preflight)`);
    return true;
  }
  return ctx.run.phase("preflight", async () => {
    const outcome = await ctx.deps.preflight(ctx.stack, { verb: ctx.verb, log: ctx.log, stackOutputs: async () => (await ctx.driver()).outputs() });
    if (outcome.ok) return;
    for (const problem of outcome.problems) ctx.log(problem);
    throw phaseFailure(
      `${ctx.stack}: preflight found ${outcome.problems.length} problem(s); nothing was changed; fix them, or run with --skip-preflight`,
    );
  });
}
