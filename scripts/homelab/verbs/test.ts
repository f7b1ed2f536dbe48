/**
 * `test <stack>`: up → verify → destroy, for a disposable stack. The destroy
 * runs whatever happened before it, so a failed test leaves nothing behind.
 */
import type { OutputMap } from "../driver";
import type { VerbSpec } from "../context";
import { phaseFailure } from "../run";
import { prepareDeploy } from "./prepare";

export const test: VerbSpec = {
  summary: "up, verify, then destroy: for a disposable stack (asks, or --yes)",
  engine: true,
  destructive: true,
  run: async (ctx) => {
    if (!(await prepareDeploy(ctx))) return;
    let outputs: OutputMap = {};
    const upDone = await ctx.run.phase("up", async (onEvent) => {
      const result = await (await ctx.driver()).up({ onEvent, refresh: !ctx.flags.noRefresh });
      outputs = result.outputs;
      return result.changes;
    });
    if (upDone) {
      await ctx.run.phase("verify", async () => {
        const outcome = await ctx.deps.verify(ctx.stack, { outputs, log: ctx.log });
        if (outcome.ok) return;
        throw phaseFailure(`${ctx.stack}: verify failed: ${outcome.problems.join("; ")}`);
      });
    }
    await ctx.run.phase("destroy", async (onEvent) => (await ctx.driver()).destroy({ onEvent }));
    return { outputs };
  },
};
