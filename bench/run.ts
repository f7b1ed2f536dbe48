/**
 * `npm run bench [-- options]`: every benchmark, results to bench/results.json
 * compared with the previous file there.
 *
 *   --only=ops,converge,eval   a subset (default: all three)
 *   --quick                    one evaluation run per size instead of 3, 300 ms per ops figure
 *   --latency=<ms>             injected per SSH command (default 100; env BENCH_LATENCY_MS)
 *   --stack=<name>             the converged stack (default matrix)
 *   --no-write                 print only; leave results.json alone
 *   --readme                   also rewrite the README's figures between the bench markers
 *   --readme-only              rewrite the README's figures from bench/results.json, measure nothing
 *
 * The figures are printed, not asserted: the targets are checked and shown
 * beside them, and a figure more than 20% worse than the previous file's is
 * flagged (printed; the exit status stays 0, timings vary with the machine). The converge needs root (the simulated cluster).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { measureConverge } from "./converge";
import { measureEvaluation } from "./evaluate";
import { measureOps } from "./ops";
import { checkTargets, compare, markdown, type Results } from "./results";

const RESULTS = path.join(__dirname, "results.json");
const README = path.resolve(__dirname, "..", "README.md");
const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

function option(name: string): string | undefined {
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : (arg.split("=")[1] ?? "");
}

async function main(): Promise<number> {
  const known = ["only", "quick", "latency", "stack", "no-write", "readme", "readme-only"];
  const unknown = process.argv.slice(2).filter((a) => !known.includes(a.replace(/^--/, "").split("=")[0]));
  if (unknown.length > 0) throw new Error(`unknown option(s) ${unknown.join(" ")}; see bench/run.ts`);
  if (option("readme-only") !== undefined) {
    writeReadme(markdown(JSON.parse(fs.readFileSync(RESULTS, "utf8")) as Results));
    return 0;
  }
  const only = new Set((option("only") ?? "ops,converge,eval").split(","));
  const quick = option("quick") !== undefined;
  const latencyMs = Number(option("latency") ?? process.env.BENCH_LATENCY_MS ?? 100);
  if (!Number.isInteger(latencyMs) || latencyMs < 0) throw new Error(`--latency: ${latencyMs} is not a whole number of milliseconds`);

  const partial: Omit<Results, "targets"> = { date: new Date().toISOString() };
  if (only.has("ops")) {
    console.log("validation and rendering:");
    partial.opsPerSecond = measureOps(quick ? 300 : 1000);
  }
  if (only.has("converge")) {
    partial.latencyMs = latencyMs;
    partial.converge = await measureConverge(option("stack") ?? "matrix", latencyMs);
  }
  if (only.has("eval")) {
    console.log("program evaluation (generated environments, plain mocks):");
    partial.evaluation = await measureEvaluation([3, 30, 100], quick ? 1 : 3);
  }
  const results: Results = { ...partial, targets: checkTargets(partial) };

  console.log("\ntargets:");
  for (const t of results.targets) console.log(`  ${t.met ? "met   " : "MISSED"} ${t.name}: ${t.value} (limit ${t.limit})`);

  let regressions: string[] = [];
  if (fs.existsSync(RESULTS)) {
    const previous = JSON.parse(fs.readFileSync(RESULTS, "utf8")) as Results;
    const diff = compare(previous, results);
    regressions = diff.regressions;
    console.log(`\ncompared with ${path.relative(process.cwd(), RESULTS)} of ${previous.date}:`);
    for (const line of diff.lines) console.log(`  ${line}`);
    if (regressions.length > 0) console.log(`\n${regressions.length} figure(s) more than 20% worse: ${regressions.join(", ")}`);
  }
  const table = markdown(results);
  if (option("no-write") === undefined) {
    fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), RESULTS)}`);
  }
  if (option("readme") !== undefined) {
    writeReadme(table);
  } else {
    console.log(`\n${table}`);
  }
  return 0;
}

function writeReadme(table: string): void {
  const text = fs.readFileSync(README, "utf8");
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md has no ${START} … ${END} section`);
  fs.writeFileSync(README, `${text.slice(0, from + START.length)}\n${table}\n${text.slice(to)}`);
  console.log("rewrote the README's figures");
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
