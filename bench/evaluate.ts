/**
 * Program evaluation time and peak memory for generated environments
 * (bench/generate.ts), each in a fresh process (bench/evaluate-child.ts).
 */
import { fork } from "node:child_process";
import * as path from "node:path";
import type { EvaluationResult } from "./evaluate-child";

const ROOT = path.resolve(__dirname, "..");

export type { EvaluationResult };

export function evaluateOnce(nodeCount: number): Promise<EvaluationResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, "evaluate-child.ts"), [String(nodeCount)], {
      cwd: ROOT,
      execArgv: ["-r", "ts-node/register/transpile-only"],
      env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    let result: EvaluationResult | undefined;
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("message", (m: EvaluationResult) => (result = m));
    child.once("error", reject);
    child.once("exit", (code) => (result ? resolve(result) : reject(new Error(`evaluation of ${nodeCount} nodes ended (exit ${code}) without a result: ${stderr.slice(-2000)}`))));
  });
}

/** The median (by CPU time) of `runs` evaluations per size (wall time varies with the machine's load). */
export async function measureEvaluation(sizes: number[], runs: number, log: (line: string) => void = console.log): Promise<EvaluationResult[]> {
  const results: EvaluationResult[] = [];
  for (const nodes of sizes) {
    const all: EvaluationResult[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await evaluateOnce(nodes);
      if (!r.ok) throw new Error(`evaluation of ${nodes} nodes failed: ${r.error}`);
      all.push(r);
    }
    all.sort((a, b) => a.evalCpuMs - b.evalCpuMs);
    const median = all[Math.floor(all.length / 2)];
    log(`  evaluation, ${nodes} nodes: ${median.evalCpuMs.toFixed(0)} ms CPU (${median.evalMs.toFixed(0)} ms wall), ${median.registrations} registrations, peak RSS ${median.peakRssMb.toFixed(0)} MB`);
    results.push(median);
  }
  return results;
}
