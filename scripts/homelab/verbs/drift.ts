/**
 * `drift <stack>`: a refresh that writes nothing, then what differs between
 * the nodes and the state. Drift fails the run (exit 1), so CI notices it.
 */
import type { VerbSpec } from "../context";
import { DriftCollector } from "../drift";
import type { DriftItem } from "../result";
import { phaseFailure } from "../run";
import { prepareDeploy } from "./prepare";

export function describeDrift(item: DriftItem): string {
  const what = item.kind === "deleted" ? "gone from the nodes" : `differs: ${item.properties.join(", ") || "(properties not named)"}`;
  return `drift: ${item.type} ${item.name} ${what}`;
}

export const drift: VerbSpec = {
  summary: "read the nodes without writing the state and report what differs from it (exit 1 when anything does)",
  engine: true,
  destructive: false,
  run: async (ctx) => {
    if (!(await prepareDeploy(ctx))) return;
    const collector = new DriftCollector();
    const ran = await ctx.run.phase("drift", async (onEvent) =>
      (await ctx.driver()).previewRefresh({
        onEvent: (event) => {
          onEvent(event);
          collector.onEvent(event);
        },
      }),
    );
    if (!ran) return;
    const items = collector.items();
    for (const item of items) ctx.log(describeDrift(item));
    if (items.length === 0) {
      ctx.log(`${ctx.stack}: no drift; the nodes match the state`);
    } else {
      ctx.run.fail(
        undefined,
        phaseFailure(
          `${ctx.stack}: ${items.length} resource(s) drifted from the state; \`npm run homelab -- up ${ctx.stack}\` puts them back, ` +
            `\`npm run homelab -- refresh ${ctx.stack}\` accepts what is there`,
        ),
      );
    }
    return { drift: items };
  },
};
