/**
 * Converge figures: a stack's Proxmox layers run the way the engine runs
 * them (tests/engine) against the simulated cluster (tests/sim), with every
 * SSH command delayed by a fixed latency, in three runs:
 *
 * - fresh: a new cluster converged from the installer's state;
 * - no-op: the same program again with the state (refresh → diff);
 * - lost state: again with an empty state, so every resource is created on
 *   nodes that already match (an idempotence check: nothing may mutate).
 *   The API token's state is kept: Proxmox shows a token's secret only once,
 *   so without it the provider refuses (by design) rather than rotate it.
 *
 * BENCH_COMMAND_LOGS=<dir> writes each run's command log and steps there.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CHANGING_OPS, runOnce, type RunResult } from "../tests/engine/harness";
import { prepareSimStack, readStackFile, simNodeSpecs, type SimStackConfig } from "../tests/engine/sim-stack";
import { startSimCluster, type SimCluster } from "../tests/sim/cluster";
import { isMutating } from "../tests/sim/mutating";
import { resolveStackFile } from "../stacks/stack-file";
import { attribute, criticalPath, type CriticalPath, type RunFigures } from "./metrics";

export interface ScenarioFigures extends RunFigures {
  ok: boolean;
  error?: string;
  /** Steps by what they did (create, same, update, …). */
  ops: Record<string, number>;
  /** Connections sshd accepted (its log), including any that ran no command. */
  sshdConnections: number;
  /** Mutating commands, first line each (for the lost-state and no-op runs). */
  mutatingCommands: string[];
}

export interface ConvergeFigures {
  stack: string;
  latencyMs: number;
  nodes: number;
  fresh: ScenarioFigures & { criticalPath: CriticalPath; wallOverBound: number };
  noop: ScenarioFigures;
  lostState: ScenarioFigures;
}

function sshdAccepted(sim: SimCluster): number {
  let n = 0;
  for (const node of sim.nodes) {
    const log = path.join(node.root, "sshd.log");
    if (fs.existsSync(log)) n += fs.readFileSync(log, "utf8").split("\n").filter((l) => l.includes("Accepted publickey")).length;
  }
  return n;
}

/** Resources whose state cannot be recovered from the node (a secret shown once). */
const UNRECOVERABLE_TYPES = new Set(["pulumi-nodejs:dynamic/proxmox:PveApiToken"]);

async function scenario(
  sim: SimCluster,
  name: string,
  stack: string,
  prepared: SimStackConfig,
  state: RunResult["state"] | undefined,
): Promise<{ result: RunResult; figures: ScenarioFigures }> {
  sim.clearLog();
  const acceptedBefore = sshdAccepted(sim);
  const result = await runOnce({ stack, config: prepared.config, secretKeys: prepared.secretKeys, state });
  const log = sim.commandLog();
  const dump = process.env.BENCH_COMMAND_LOGS;
  if (dump) {
    fs.mkdirSync(dump, { recursive: true });
    fs.writeFileSync(path.join(dump, `${name}.commands.jsonl`), log.map((e) => JSON.stringify(e)).join("\n"));
    fs.writeFileSync(path.join(dump, `${name}.steps.json`), JSON.stringify(result.steps, null, 1));
  }
  const figures = attribute(result.steps, log, result.durationMs);
  const ops: Record<string, number> = {};
  for (const s of result.steps) ops[s.op] = (ops[s.op] ?? 0) + 1;
  const mutatingCommands = log.filter((e) => isMutating(e.command)).map((e) => `${e.node}: ${e.command.split("\n")[0].slice(0, 160)}`);
  return {
    result,
    figures: { ...figures, ok: result.ok, error: result.error, ops, sshdConnections: sshdAccepted(sim) - acceptedBefore, mutatingCommands },
  };
}

export async function measureConverge(stackName: string, latencyMs: number, log: (line: string) => void = console.log): Promise<ConvergeFigures> {
  const stack = readStackFile(resolveStackFile(stackName));
  const sim = await startSimCluster(simNodeSpecs(stack));
  try {
    const prepared = await prepareSimStack(sim, stack);
    sim.setCommandLatency(latencyMs);
    log(`converge: stack ${stackName}, ${sim.nodes.length} simulated nodes, ${latencyMs} ms per command`);

    const fresh = await scenario(sim, "fresh", stackName, prepared, undefined);
    log(`  fresh converge: ${fresh.figures.ok ? "ok" : `FAILED: ${fresh.figures.error}`} in ${(fresh.figures.wallMs / 1000).toFixed(1)} s`);
    if (!fresh.result.ok) throw new Error(`fresh converge failed: ${fresh.result.error}`);
    const cp = criticalPath(fresh.result.steps);

    const noop = await scenario(sim, "noop", stackName, prepared, fresh.result.state);
    log(`  no-op up: ${noop.figures.ok ? "ok" : `FAILED: ${noop.figures.error}`} in ${(noop.figures.wallMs / 1000).toFixed(1)} s`);
    const changed = noop.result.steps.filter((s) => CHANGING_OPS.has(s.op));
    if (changed.length > 0) log(`  no-op up changed: ${changed.map((s) => `${s.name} (${s.op})`).join(", ")}`);

    const kept = Object.fromEntries(Object.entries(fresh.result.state).filter(([, r]) => UNRECOVERABLE_TYPES.has(r.type)));
    const lost = await scenario(sim, "lost-state", stackName, prepared, kept);
    log(`  lost-state create: ${lost.figures.ok ? "ok" : `FAILED: ${lost.figures.error}`} in ${(lost.figures.wallMs / 1000).toFixed(1)} s`);

    return {
      stack: stackName,
      latencyMs,
      nodes: sim.nodes.length,
      fresh: { ...fresh.figures, criticalPath: cp, wallOverBound: fresh.figures.stepsWallMs / cp.boundMs },
      noop: noop.figures,
      lostState: lost.figures,
    };
  } finally {
    await sim.stop();
  }
}
