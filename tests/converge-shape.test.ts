/**
 * What validates must apply, on an environment shaped unlike the reference
 * stacks (tests/fixtures/stacks/Pulumi.lab5.yaml): five Proxmox VE 8 nodes,
 * bonded management, corosync on a VLAN, monitors on three nodes and OSDs on
 * all five, OSD devices named by /dev/disk/by-id links. The whole program runs
 * the way the engine runs it (tests/engine) against the simulated cluster,
 * with the tools' lock and progress chatter on stderr, twice: the first run
 * converges in one go, the second changes nothing.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateStackFile } from "../stacks/stack-file";
import { CHANGING_OPS, runOnce, type RunResult } from "./engine/harness";
import { checkSimCluster } from "./engine/sim-check";
import { prepareSimStack, readStackFile, simNodeSpecs, type SimStackConfig } from "./engine/sim-stack";
import { startSimCluster, type SimCluster } from "./sim/cluster";
import { mutatingCommands } from "./sim/mutating";

const FILE = path.resolve(__dirname, "fixtures/stacks/Pulumi.lab5.yaml");
const NODES = ["ash", "birch", "cedar", "alder", "elm"];

let sim: SimCluster;
let prepared: SimStackConfig;
let first: RunResult;
let firstMutating: string[];
let second: RunResult;
let secondMutating: string[];

async function converge(state?: RunResult["state"]): Promise<{ result: RunResult; mutating: string[] }> {
  sim.clearLog();
  const result = await runOnce({ stack: "lab5", config: prepared.config, secretKeys: prepared.secretKeys, state });
  return { result, mutating: mutatingCommands(sim.commandLog()).map((c) => `${c.node}: ${c.command}`) };
}

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  const stack = readStackFile(FILE);
  sim = await startSimCluster(simNodeSpecs(stack), { stderrChatter: true });
  prepared = await prepareSimStack(sim, stack);
  ({ result: first, mutating: firstMutating } = await converge());
  ({ result: second, mutating: secondMutating } = await converge(first.state));
}, 900_000);

afterAll(async () => {
  await sim?.stop();
});

describe("a 5-node Proxmox 8 environment with bonds, monitors on 3 nodes and by-id OSD devices", () => {
  it("is valid as written", () => {
    expect(validateStackFile(FILE).issues).toEqual([]);
  });

  it("converges in one run despite the tools' stderr chatter, and the check passes", async () => {
    expect(first.error, first.error).toBeUndefined();
    expect(first.ok).toBe(true);
    expect(firstMutating.length).toBeGreaterThan(0);
    const check = await checkSimCluster(sim, { ...prepared, ceph: true });
    expect(check.filter((c) => !c.ok).map((c) => c.text)).toEqual([]);
    expect(check.map((c) => c.text)).toContain("cluster quorate: yes, 5/5 nodes");
  });

  it("runs monitors on the three monitor nodes only, and an OSD on every node's by-id device", async () => {
    const mons = JSON.parse(await sh("alder", "ceph mon dump -f json")) as { mons: { name: string }[] };
    expect(mons.mons.map((m) => m.name).sort()).toEqual(["ash", "birch", "cedar"]);
    const tree = JSON.parse(await sh("ash", "ceph osd tree -f json")) as { nodes: { type: string; name: string; children?: number[] }[] };
    const hosts = tree.nodes.filter((n) => n.type === "host");
    expect(hosts.map((h) => h.name).sort()).toEqual([...NODES].sort());
    for (const h of hosts) expect(h.children, h.name).toHaveLength(1);
    // The configured link resolved on the node: the OSD sits on the kernel device it points to.
    const volumes = await sh("elm", "ceph-volume lvm list --format json");
    expect(volumes).toContain("/dev/nvme0n1");
  });

  it("bonds the management NICs under vmbr0 on every node", async () => {
    for (const node of NODES) {
      const interfaces = await sh(node, "cat /etc/network/interfaces");
      expect(interfaces, node).toMatch(/iface bond0 inet manual\n(\t.*\n)*\tbond-slaves eno1 eno2\n/);
      expect(interfaces, node).toMatch(/iface vmbr0 inet static\n(\t.*\n)*\tbridge-ports bond0\n/);
    }
  });

  it("changes nothing on the second run: no step changes, no mutating command", () => {
    expect(second.error, second.error).toBeUndefined();
    expect(second.ok).toBe(true);
    expect(second.steps.filter((s) => CHANGING_OPS.has(s.op)).map((s) => `${s.type} ${s.name} ${s.op}`)).toEqual([]);
    expect(secondMutating).toEqual([]);
  });
});
