/** `preview`, `up`, `refresh`, `destroy`: one engine operation each (up previews first). */
import type { OutputMap } from "../driver";
import type { VerbSpec } from "../context";
import { describeSummary, plannedSteps, type Operation } from "../steps";
import { prepareDeploy } from "./prepare";

function operationVerb(op: Operation, summary: string, destructive = false): VerbSpec {
  return {
    summary,
    engine: true,
    destructive,
    run: async (ctx) => {
      if (!(await prepareDeploy(ctx))) return;
      let outputs: OutputMap | undefined;
      for (const step of plannedSteps(op, { refreshFirst: !ctx.flags.noRefresh })) {
        const ok = await ctx.run.phase(step.op, async (onEvent) => {
          const driver = await ctx.driver();
          const options = { onEvent, refresh: step.refresh ?? false };
          if (step.op !== "up") return driver[step.op](options);
          const result = await driver.up(options);
          outputs = result.outputs;
          return result.changes;
        });
        if (!ok) return;
        ctx.log(describeSummary(step.op, ctx.run.phases[ctx.run.phases.length - 1].changes));
      }
      return { outputs };
    },
  };
}

export const preview = operationVerb("preview", "plan against the nodes' real state (--no-refresh: against the recorded state); writes nothing");
export const up = operationVerb("up", "preview, then apply (--no-refresh: without reading the nodes first)");
export const refresh = operationVerb("refresh", "read the nodes and write what is there into the state");
export const destroy = operationVerb("destroy", "remove every resource of the stack (asks, or --yes)", true);
