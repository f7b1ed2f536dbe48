/**
 * `verify`: the health of a running environment (cluster quorate with every
 * member online; Ceph HEALTH_OK with capacity per pool; each Thunderbolt
 * cable's throughput; HA placement), and with `drill` the failover drill
 * (./drill.ts). Read-only unless `drill` is set.
 */
import { openFirst } from "../../../infra/providers/sessions";
import { nodeConnection } from "../../../stacks/connections";
import type { OperatedEnvironment } from "../target";
import { runDrill, type DrillOptions } from "./drill";
import { healthSteps } from "./health";
import { verifyReport, type VerifyReport } from "./steps";

export type { VerifyReport, VerifyStep } from "./steps";
export type { DrillBounds, DrillOptions } from "./drill";

/** Every step verify can report (the README lists them). */
export const VERIFY_STEPS = [
  "cluster",
  "ceph-health",
  "ceph-capacity",
  "ring-link",
  "ha-placement",
  "drill:preconditions",
  "drill:power-off",
  "drill:quorum",
  "drill:ha-recovery",
  "drill:ceph-writable",
  "drill:power-on",
  "drill:rejoin",
  "drill:ceph-health-ok",
] as const;

export interface VerifyOptions extends DrillOptions {
  /** Run the failover drill after the health steps (only when they pass). */
  drill?: boolean;
  /** iperf3 seconds per ring cable. Defaults to thunderbolt.verify.iperfSeconds. */
  iperfSeconds?: number;
}

export async function verify(target: OperatedEnvironment, options: VerifyOptions = {}): Promise<VerifyReport> {
  const env = target.stackFile.environment;
  if (!env) {
    return verifyReport([{ name: "stack-file", ok: false, detail: `${target.stackFile.file}: ${target.stackFile.issues.join("; ")}`, fix: "fix the stack file (`npm run validate -- <stack>`)", durationSeconds: 0 }]);
  }
  const key = env.ssh.useAgent ? undefined : target.sshPrivateKey;
  const opened = await openFirst(env.nodes.map((n) => ({ connection: nodeConnection(env, n) })), key);
  if (!opened.session) {
    return verifyReport([{ name: "reach", ok: false, detail: `no node answers: ${opened.failures.map((f) => f.message).join("; ")}`, fix: "check the nodes are powered on and reachable (preflight says which)", durationSeconds: 0 }]);
  }
  let steps;
  try {
    steps = await healthSteps(opened.session, env, key, options.iperfSeconds);
  } finally {
    opened.session.close();
  }
  if (options.drill) {
    if (!steps.every((s) => s.ok)) {
      steps.push({ name: "drill:preconditions", ok: false, detail: "the drill was not run: the environment is not healthy (see the failed steps)", fix: "fix those first; a drill takes a node down", durationSeconds: 0 });
    } else {
      steps.push(...(await runDrill(env, key, options)));
    }
  }
  return verifyReport(steps);
}
