/** `preflight <stack>` and `verify <stack> [--drill]`: the SSH checks on their own (no Pulumi CLI). */
import type { VerbSpec } from "../context";
import { phaseFailure } from "../run";

export const preflightVerb: VerbSpec = {
  summary: "check the nodes before a deploy: SSH with pinned keys, one Proxmox release, names, clocks, OSD disks, snippet storage",
  engine: false,
  destructive: false,
  run: async (ctx) => {
    await ctx.run.phase("preflight", async () => {
      const outcome = await ctx.deps.preflight(ctx.stack, { verb: "preflight", log: ctx.log });
      if (!outcome.ok) throw phaseFailure(`${ctx.stack}: preflight failed:\n${outcome.problems.map((p) => `  ${p}`).join("\n")}`);
    });
  },
};

export const verifyVerb: VerbSpec = {
  summary: "check a running environment: quorum, Ceph health and capacity, ring links, HA placement; --drill takes a node down",
  engine: false,
  destructive: false,
  run: async (ctx) => {
    await ctx.run.phase(ctx.flags.drill ? "verify --drill" : "verify", async () => {
      const outcome = await ctx.deps.verify(ctx.stack, { outputs: {}, log: ctx.log, drill: ctx.flags.drill });
      if (!outcome.ok) throw phaseFailure(`${ctx.stack}: verify failed:\n${outcome.problems.map((p) => `  ${p}`).join("\n")}`);
    });
  },
};
