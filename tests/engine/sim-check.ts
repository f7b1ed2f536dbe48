/**
 * The demo's own check, read from the simulated nodes directly (not from the
 * program's outputs): the cluster is quorate, Ceph reports HEALTH_OK, every
 * OSD the stack asks for is up and in, and its pools exist.
 */
import type { SimCluster } from "../sim/cluster";

export interface CheckLine {
  ok: boolean;
  text: string;
}

async function run(sim: SimCluster, node: string, command: string): Promise<string> {
  const r = await sim.exec(node, command);
  if (r.code !== 0) throw new Error(`${node}: ${command} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export async function checkSimCluster(sim: SimCluster, expect: { expectedOsds: number; pools: string[]; ceph: boolean }): Promise<CheckLine[]> {
  const node = sim.nodes[0].name;
  const lines: CheckLine[] = [];
  const pvecm = await run(sim, node, "pvecm status");
  const quorate = /^Quorate:\s+Yes\b/m.test(pvecm);
  const members = Number(/^Nodes:\s+(\d+)/m.exec(pvecm)?.[1] ?? 0);
  lines.push({ ok: quorate && members === sim.nodes.length, text: `cluster quorate: ${quorate ? "yes" : "no"}, ${members}/${sim.nodes.length} nodes` });
  if (!expect.ceph) return lines;

  const status = JSON.parse(await run(sim, node, "ceph status -f json")) as {
    health: { status: string };
    osdmap: { num_osds: number; num_up_osds: number; num_in_osds: number };
  };
  lines.push({ ok: status.health.status === "HEALTH_OK", text: `ceph health: ${status.health.status}` });
  const { num_osds: total, num_up_osds: up, num_in_osds: inCount } = status.osdmap;
  lines.push({
    ok: total === expect.expectedOsds && up === total && inCount === total,
    text: `OSDs: ${total} (stack asks for ${expect.expectedOsds}), ${up} up, ${inCount} in`,
  });
  const pools = (await run(sim, node, "ceph osd pool ls")).split("\n").map((l) => l.trim()).filter(Boolean);
  const missing = expect.pools.filter((p) => !pools.includes(p));
  lines.push({ ok: missing.length === 0, text: `pools: ${expect.pools.join(", ")}${missing.length ? ` (missing: ${missing.join(", ")})` : " present"}` });
  return lines;
}
