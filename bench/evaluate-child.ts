/**
 * One program evaluation, in its own process (bench/evaluate.ts forks it
 * with ts-node, as the CLI loads the program): a generated environment of N
 * nodes under plain mocks (every resource answers with its inputs at once),
 * each dynamic provider serialized as under the CLI. Sends back how long the
 * program took from its first line to its last registration (wall and CPU
 * time; one process, so CPU time ≈ wall time on an idle machine), how many
 * registrations it made, and the process's peak RSS.
 */
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { defaultState } from "../tests/helpers/pulumi-mocks";
import { generatedConfig } from "./generate";

export interface EvaluationResult {
  nodes: number;
  ok: boolean;
  error?: string;
  evalMs: number;
  /** CPU time (user + system) of the same span: what the program costs, whatever else the machine runs. */
  evalCpuMs: number;
  registrations: number;
  peakRssMb: number;
}

async function evaluate(nodeCount: number): Promise<EvaluationResult> {
  const { config, secretKeys } = generatedConfig(nodeCount);
  pulumi.runtime.setAllConfig(config, secretKeys);
  let registrations = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registrations++;
        return { id: args.custom ? `${args.name}-id` : undefined, state: defaultState(args.type, args.name, args.inputs as Record<string, unknown>) };
      },
      call: (args) => {
        throw new Error(`unexpected provider function call ${args.token}`);
      },
    },
    "homelab",
    `generated-${nodeCount}`,
    false,
  );
  const started = performance.now();
  const cpu = process.cpuUsage();
  await pulumi.runtime.runInPulumiStack(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ...require(path.resolve(__dirname, "../stacks/index.ts")) };
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
  const evalMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { nodes: nodeCount, ok: true, evalMs, evalCpuMs: (used.user + used.system) / 1000, registrations, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

const nodeCount = Number(process.argv[2]);
evaluate(nodeCount).then(
  (r) => process.send!(r, () => process.exit(0)),
  (e: unknown) =>
    process.send!({ nodes: nodeCount, ok: false, error: e instanceof Error ? e.message : String(e), evalMs: 0, evalCpuMs: 0, registrations: 0, peakRssMb: 0 }, () => process.exit(0)),
);
