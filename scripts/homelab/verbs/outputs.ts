/** `outputs <stack>`: the stack outputs; secrets shown only with --show-secrets (and never in reports). */
import type { VerbSpec } from "../context";

export const outputs: VerbSpec = {
  summary: "print the stack outputs (secrets redacted unless --show-secrets)",
  engine: true,
  destructive: false,
  run: async (ctx) => {
    let found = {};
    await ctx.run.phase("outputs", async () => {
      found = await (await ctx.driver()).outputs();
    });
    return { outputs: found };
  },
};
