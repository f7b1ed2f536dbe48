/**
 * Benchmarks of the work every `pulumi preview` does before it talks to a
 * node: reading and validating a stack file, and rendering each node's
 * managed /etc/network/interfaces block, in ops/s.
 */
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { renderNodeInterfaces } from "../components/node-network";
import { validateStackFile } from "../stacks/stack-file";

const ROOT = path.resolve(__dirname, "..");

function bench(name: string, fn: () => void, minMs: number, log: (line: string) => void): number {
  for (let i = 0; i < 20; i++) fn(); // warm up
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    runs++;
  }
  const ms = (performance.now() - start) / runs;
  log(`  ${name.padEnd(40)} ${(1000 / ms).toFixed(0).padStart(8)} ops/s  ${ms.toFixed(3)} ms/op`);
  return 1000 / ms;
}

export function measureOps(minMs = 1000, log: (line: string) => void = console.log): Record<string, number> {
  const out: Record<string, number> = {};
  for (const stack of ["matrix", "ms01"]) {
    out[`validate Pulumi.${stack}.yaml`] = bench(
      `validate Pulumi.${stack}.yaml`,
      () => {
        const result = validateStackFile(stack, ROOT);
        if (result.issues.length > 0) throw new Error(result.issues.join("\n"));
      },
      minMs,
      log,
    );
    const env = validateStackFile(stack, ROOT).environment!;
    out[`render interfaces (${stack}, all nodes)`] = bench(
      `render interfaces (${stack}, all nodes)`,
      () => {
        for (const node of env.nodes) {
          renderNodeInterfaces({
            interfaces: node.interfaces,
            networks: env.networks,
            thunderbolt: node.thunderbolt ? { loopback: node.thunderbolt.loopback, ports: node.thunderbolt.ports } : undefined,
          });
        }
      },
      minMs,
      log,
    );
  }
  return out;
}
