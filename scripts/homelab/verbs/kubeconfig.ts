/** `kubeconfig <stack>`: each cluster's kubeconfig (and talosconfig) into .homelab/kube/<stack>/. */
import type { VerbSpec } from "../context";
import { writeKubeFiles } from "../kube-files";

export const kubeconfig: VerbSpec = {
  summary: "write each cluster's kubeconfig (and talosconfig) to .homelab/kube/<stack>/ (mode 0600)",
  engine: true,
  destructive: false,
  run: async (ctx) => {
    let files: string[] = [];
    await ctx.run.phase("kubeconfig", async () => {
      files = writeKubeFiles(ctx.deps.root, ctx.stack, await (await ctx.driver()).outputs());
      for (const file of files) ctx.log(`wrote ${file}`);
    });
    return { files };
  },
};
