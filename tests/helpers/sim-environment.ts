import { EnvironmentSchema, type Environment } from "../../stacks/schema";
import type { SimCluster } from "../sim/cluster";

/**
 * A valid environment whose nodes are simulated ones (same names, their
 * addresses and pinned host keys, one management network on the sim's /24),
 * fast SSH settings for tests, and `extra` on top (cluster, ceph, templates…;
 * its `networks` come after the management one; `nodeExtra` per node, e.g. osds).
 */
export function simEnvironment(
  sim: SimCluster,
  names: readonly string[],
  extra: Record<string, unknown> = {},
  nodeExtra: (name: string) => Record<string, unknown> = () => ({}),
): Environment {
  const base = sim.node(names[0]).host.replace(/\.\d+$/, "");
  const { networks = [], ...rest } = extra as { networks?: unknown[] };
  return EnvironmentSchema.parse({
    name: "sim",
    ssh: { connectTimeoutSeconds: 3, retries: 0 },
    networks: [{ name: "management", cidr: `${base}.0/24` }, ...networks],
    nodes: names.map((name) => {
      const n = sim.node(name);
      return {
        name,
        address: n.host,
        hostKey: n.hostKeyFingerprint,
        interfaces: [
          { type: "nic", name: "eno1" },
          { type: "bridge", name: "vmbr0", ports: ["eno1"], network: "management", address: n.host },
        ],
        ...nodeExtra(name),
      };
    }),
    ...rest,
  });
}

/** Every node's /etc/hosts names every node at its management address (what a deploy expects to find). */
export async function writeHostsFiles(sim: SimCluster, names: readonly string[]): Promise<void> {
  const lines = names.map((n) => `${sim.node(n).host} ${n}.sim.lan ${n}`).join("\n");
  for (const n of names) {
    const r = await sim.exec(n, `printf '127.0.0.1 localhost\\n%s\\n' '${lines}' > /etc/hosts`);
    if (r.code !== 0) throw new Error(`${n}: writing /etc/hosts failed: ${r.stderr}`);
  }
}
