/** `plan <stack>` and `diagram <stack>`: offline views of the program and the stack file (no Pulumi CLI, no network). */
import * as fs from "node:fs";
import * as path from "node:path";
import type { VerbSpec } from "../context";
import { renderDiagram } from "../diagram";
import { renderPlan } from "../plan";

export const plan: VerbSpec = {
  summary: "print the program's plan under mocks: resources, parents, inputs, dependencies, secrets masked (no Pulumi CLI)",
  engine: false,
  destructive: false,
  run: async (ctx) => {
    await ctx.run.phase("plan", async () => {
      const text = await renderPlan(ctx.stack);
      for (const line of text.replace(/\n$/, "").split("\n")) ctx.log(line);
    });
  },
};

export const diagram: VerbSpec = {
  summary: "draw the environment's topology from the stack file: .homelab/diagrams/<stack>.mmd and .svg",
  engine: false,
  destructive: false,
  run: async (ctx) => {
    const files: string[] = [];
    await ctx.run.phase("diagram", async () => {
      const drawn = renderDiagram(ctx.stack);
      const dir = path.join(ctx.deps.root, ".homelab", "diagrams");
      fs.mkdirSync(dir, { recursive: true });
      for (const [ext, text] of [["mmd", drawn.mermaid], ["svg", drawn.svg]] as const) {
        const file = path.join(dir, `${ctx.stack}.${ext}`);
        fs.writeFileSync(file, text);
        files.push(file);
        ctx.log(`wrote ${file}`);
      }
    });
    return { files };
  },
};
