import type { ConnectionArgs } from "../../infra/providers/connection";
import type { SshOptions } from "../../infra/ssh";
import type { SimCluster } from "../sim/cluster";

/** Fast failure in tests: short connect timeout, one retry. */
const TEST_SSH_OPTIONS: SshOptions = { connectTimeoutMs: 3000, retries: 1, retryBaseDelayMs: 50 };

/** The connection inputs a provider gets for one simulated node (root, pinned host key, the sim's client key). */
export function simConnection(sim: SimCluster, name: string, options: SshOptions = {}): ConnectionArgs {
  const n = sim.node(name);
  return {
    connection: {
      node: n.name,
      host: n.host,
      port: n.port,
      user: "root",
      hostKey: n.hostKeyFingerprint,
      options: { ...TEST_SSH_OPTIONS, ...options },
    },
    sshPrivateKey: sim.clientPrivateKey,
  };
}
