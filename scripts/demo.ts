/**
 * `npm run demo [-- <stack>] [--pulumi]`: a stack's Proxmox layers converged
 * on a simulated cluster, twice.
 *
 * Starts one simulated node per stack node (same names, NICs and OSD disks),
 * runs the program the way the Pulumi engine does (tests/engine: dynamic
 * providers driven for real, native resources mocked), prints each step as
 * it finishes, the stack outputs (secrets redacted) and a check read from
 * the nodes, then runs again and expects 0 changes and 0 mutating commands.
 * Stops the simulation and leaves nothing behind. Exit status 0 only when
 * the check passed and the second run changed nothing.
 *
 * With --pulumi (the Pulumi CLI on PATH), the real `pulumi up` runs instead,
 * on a throwaway local-backend stack against the same simulated nodes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { CHANGING_OPS, runOnce, type RunResult } from "../tests/engine/harness";
import { formatOutputs, formatStep, summarize } from "../tests/engine/progress";
import { checkSimCluster } from "../tests/engine/sim-check";
import { prepareSimStack, readStackFile, simNodeSpecs, type SimStackConfig } from "../tests/engine/sim-stack";
import { mutatingCommands } from "../tests/sim/mutating";
import { startSimCluster, type SimCluster } from "../tests/sim/cluster";
import { resolveStackFile } from "../stacks/stack-file";
import { pulumiCliOnPath } from "../stacks/esc";
import { ensurePrerequisites } from "./prerequisites";
import { pulumiUpTwice } from "./demo-pulumi";

const NOTICE =
  "This is a harness for the simulated target, not a replacement for `pulumi up`: the program runs the way the\n" +
  "engine runs it (each dynamic provider loaded from its serialized text and driven over SSH, in dependency order,\n" +
  "independent resources in parallel); native resources (@muhlba91/pulumi-proxmoxve, Linode) are mocked and marked so.";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function parseArgs(argv: string[]): { stack: string; pulumi: boolean } {
  const positional = argv.filter((a) => !a.startsWith("--"));
  const unknown = argv.filter((a) => a.startsWith("--") && a !== "--pulumi");
  if (unknown.length > 0 || positional.length > 1) throw new Error(`usage: npm run demo [-- <stack>] [--pulumi]  (got: ${argv.join(" ")})`);
  return { stack: positional[0] ?? "matrix", pulumi: argv.includes("--pulumi") };
}

function printRun(title: string, result: RunResult, mutating: number): void {
  const counts = Object.entries(summarize(result.steps))
    .map(([op, n]) => `${n} ${op}`)
    .join(", ");
  console.log(`${title}: ${result.ok ? "done" : "FAILED"} in ${seconds(result.durationMs)} (${counts || "no steps"}); ${mutating} mutating commands on the nodes`);
}

async function converge(sim: SimCluster, stackName: string, prepared: SimStackConfig, state?: RunResult["state"]): Promise<{ result: RunResult; mutating: number }> {
  sim.clearLog();
  console.log("  (loading the program with ts-node and serializing its providers, as the CLI does)");
  const result = await runOnce({
    stack: stackName,
    config: prepared.config,
    secretKeys: prepared.secretKeys,
    state,
    onStep: (e) => console.log(formatStep(e)),
  });
  return { result, mutating: mutatingCommands(sim.commandLog()).length };
}

/** The check read from the nodes; true when every line is ok. */
async function printCheck(sim: SimCluster, prepared: SimStackConfig): Promise<boolean> {
  const check = await checkSimCluster(sim, { ...prepared, ceph: prepared.expectedOsds > 0 || prepared.pools.length > 0 });
  console.log(`\ncheck:\n${check.map((c) => `  ${c.ok ? "ok  " : "FAIL"} ${c.text}`).join("\n")}`);
  return check.every((c) => c.ok);
}

async function main(): Promise<number> {
  const started = performance.now();
  const args = parseArgs(process.argv.slice(2));
  if (args.pulumi && !pulumiCliOnPath(process.env.PATH)) throw new Error("--pulumi needs the Pulumi CLI on PATH (https://www.pulumi.com/docs/install/)");
  console.log(`homelab demo: stack ${args.stack} on a simulated cluster\n${NOTICE}\n`);
  ensurePrerequisites();

  const file = resolveStackFile(args.stack);
  if (!fs.existsSync(file)) {
    const known = fs.readdirSync(path.dirname(file)).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
    throw new Error(`no stack file ${file} (stacks here: ${known.join(", ") || "none"})`);
  }
  const stack = readStackFile(file);
  const specs = simNodeSpecs(stack);
  const sim = await startSimCluster(specs);
  try {
    const prepared = await prepareSimStack(sim, stack);
    console.log(`simulated nodes: ${sim.nodes.map((n) => `${n.name} ${n.host}:${n.port}`).join(", ")}`);
    if (prepared.dropped.length > 0) console.log(`left out (they need machines the simulator does not start — VMs, Linode instances, plain hosts — or are native-only configuration: firewall rules, SDN zones): ${prepared.dropped.join(", ")}`);
    if (args.pulumi) {
      const code = await pulumiUpTwice(args.stack, prepared);
      const check = await printCheck(sim, prepared);
      return code === 0 && check ? 0 : 1;
    }

    console.log("\nfirst run:");
    const first = await converge(sim, args.stack, prepared);
    printRun("first run", first.result, first.mutating);
    if (!first.result.ok) {
      console.log(`error: ${first.result.error}`);
      return 1;
    }
    console.log(`\noutputs (secrets redacted):\n${formatOutputs(first.result.outputs)}`);

    const checked = await printCheck(sim, prepared);

    console.log("\nsecond run:");
    const second = await converge(sim, args.stack, prepared, first.result.state);
    printRun("second run", second.result, second.mutating);
    const changes = second.result.steps.filter((s) => CHANGING_OPS.has(s.op));
    console.log(`\n${changes.length} changes, ${second.mutating} mutating commands`);
    for (const c of changes) console.log(`  changed: ${c.type} ${c.name} (${c.op})`);
    for (const c of mutatingCommands(sim.commandLog())) console.log(`  mutating: ${c.node}: ${c.command.split("\n")[0].slice(0, 160)}`);

    const ok = checked && second.result.ok && changes.length === 0 && second.mutating === 0;
    console.log(`\ndemo ${ok ? "passed" : "FAILED"} in ${seconds(performance.now() - started)}`);
    return ok ? 0 : 1;
  } finally {
    await sim.stop();
  }
}

// Ctrl-C: exit through process.exit so the simulator's exit handler stops every node and removes its
// files. (npm run demo uses `node --import tsx`: the tsx CLI would SIGKILL this process mid-cleanup.)
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`demo: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
