/**
 * Helper process for tests/sim-cluster.test.ts: starts a simulated cluster, prints
 * {"dir","stateDir","hosts"} as one JSON line, then either
 *   "exit"  - leaves through process.exit() without calling stop() (the 'exit' handler must clean up)
 *   "hang"  - waits forever (the test SIGKILLs it; the watchdog must clean up)
 */
import * as path from "node:path";
import { startSimCluster } from "./cluster";

async function main(): Promise<void> {
  const mode = process.argv[2];
  const sim = await startSimCluster([{ name: "crash1" }, { name: "crash2" }]);
  const dir = path.dirname(sim.stateDir);
  process.stdout.write(JSON.stringify({ dir, stateDir: sim.stateDir, hosts: sim.nodes.map((n) => n.host) }) + "\n");
  if (mode === "exit") process.exit(0);
  setInterval(() => undefined, 1000);
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
