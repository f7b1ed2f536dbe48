/**
 * The EnvironmentGate provider against simulated nodes over real SSH: it
 * refuses the whole environment, naming every problem with its node, and it
 * never runs a command that changes a node, whatever it finds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeConnection } from "../infra/providers/connection";
import {
  ENVIRONMENT_GATE_PROVIDER_VERSION,
  EnvironmentGateInputs,
  EnvironmentGateOutputs,
  environmentGateProvider,
} from "../infra/providers/proxmox/environment-gate";
import { failure } from "./helpers/failure";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";

const FAST = { connectTimeoutMs: 2000, retries: 0, retryBaseDelayMs: 50 };
/** The only commands the gate may run: it reads, nothing else. */
const READS = new Set(["hostname", "LC_ALL=C pveversion", "LC_ALL=C pvesh get /cluster/status --output-format json"]);

let sim: SimCluster;

function connection(name: string): NodeConnection {
  const n = sim.node(name);
  return { node: name, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST };
}

function inputs(names: string[], clusterName?: string): EnvironmentGateInputs {
  return {
    providerVersion: ENVIRONMENT_GATE_PROVIDER_VERSION,
    nodes: names.map(connection),
    sshPrivateKey: sim.clientPrivateKey,
    clusterName,
  };
}

/** Every command the gate ran that is not one of its reads. */
function nonReads(): string[] {
  return sim
    .commandLog()
    .filter((e) => !READS.has(e.command))
    .map((e) => `${e.node}: ${e.command}`);
}

async function create(i: EnvironmentGateInputs): Promise<EnvironmentGateOutputs> {
  return ((await environmentGateProvider.create(i)) as { outs: EnvironmentGateOutputs }).outs;
}

beforeAll(async () => {
  sim = await startSimCluster([
    { name: "ok1" },
    { name: "ok2" },
    { name: "ok3" },
    { name: "newer1", pveVersion: "9.1.1" },
    { name: "member1" },
    { name: "renamed1" },
    { name: "down1" },
  ]);
  // Seeded outside SSH (unlogged): member1 founded cluster "beta", renamed1's hostname is not its name, down1 is off.
  const made = await sim.exec("member1", `pvecm create beta --link0 ${sim.node("member1").host}`);
  expect(sim.readState().nodes.member1.cluster, made.stderr).toBe("beta");
  await sim.exec("renamed1", "hostname imposter");
  await sim.stopNode("down1");
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("EnvironmentGate", () => {
  it("passes nodes that agree, records what each said, and only reads", async () => {
    sim.clearLog();
    const outs = await create(inputs(["ok1", "ok2", "ok3"], "alpha"));
    expect(outs.observed).toEqual(
      ["ok1", "ok2", "ok3"].map((node) =>
        expect.objectContaining({ node, readError: "", hostname: node, pveVersion: "8.4.14", pveRelease: "8.4", clusterName: "" }),
      ),
    );
    expect(sim.commandLog()).toHaveLength(9);
    expect(nonReads()).toEqual([]);
  });

  it("passes a node that is already in the configured cluster", async () => {
    const outs = await create(inputs(["member1"], "beta"));
    expect(outs.observed[0].clusterName).toBe("beta");
  });

  it("refuses mixed Proxmox releases, naming each node with its version", async () => {
    sim.clearLog();
    const err = await failure(create(inputs(["ok1", "ok2", "newer1"], "alpha")));
    expect(err.message).toBe(
      "Refusing to change anything:\n" +
        "  - Proxmox VE versions differ; all nodes need the same major.minor release: ok1 8.4.14, ok2 8.4.14, newer1 9.1.1",
    );
    expect(err.name).toBe("EnvironmentRefusedError");
    expect(nonReads()).toEqual([]);
  });

  it("refuses an unreachable node, after reading the others", async () => {
    sim.clearLog();
    const err = await failure(create(inputs(["ok1", "down1"], "alpha")));
    expect(err.message).toMatch(/^Refusing to change anything:\n {2}- down1: cannot connect to [\d.]+:22 after 1 attempt\(s\)/);
    expect(sim.commandLog().filter((e) => e.node === "ok1").map((e) => e.command)).toHaveLength(3);
    expect(nonReads()).toEqual([]);
  });

  it("refuses a node that is in another cluster, and one in any cluster when the config has none", async () => {
    sim.clearLog();
    const other = await failure(create(inputs(["ok1", "member1"], "alpha")));
    expect(other.message).toBe(
      "Refusing to change anything:\n" +
        '  - member1 is already a member of cluster "beta", not "alpha"; a node cannot be in two clusters and Proxmox ' +
        "cannot rename a cluster (set cluster.name: beta to manage that cluster, or take member1 out of it first)",
    );
    const none = await failure(create(inputs(["ok1", "member1"])));
    expect(none.message).toBe(
      "Refusing to change anything:\n" +
        '  - member1 is a member of cluster "beta" but the config has no cluster; add cluster (name: beta) to manage it, ' +
        "or take member1 out of it first",
    );
    expect(nonReads()).toEqual([]);
  });

  it("refuses a host whose hostname is not its configured name", async () => {
    sim.clearLog();
    const err = await failure(create(inputs(["ok1", "renamed1"], "alpha")));
    expect(err.message).toBe(
      "Refusing to change anything:\n" +
        `  - renamed1: the host at ${sim.node("renamed1").host} calls itself "imposter"; check nodes[].address for renamed1 ` +
        "(a Proxmox node's hostname must match its name)",
    );
    expect(nonReads()).toEqual([]);
  });

  it("lists every problem of every node in one refusal", async () => {
    sim.clearLog();
    const err = await failure(create(inputs(["ok1", "newer1", "member1", "renamed1", "down1"], "alpha")));
    const lines = err.message.split("\n");
    expect(lines[0]).toBe("Refusing to change anything:");
    expect(lines.slice(1).map((l) => l.replace(/^ {2}- (\S+).*/s, "$1"))).toEqual([
      "down1:",
      "renamed1:",
      "Proxmox",
      "member1",
    ]);
    expect(err.message).toContain("ok1 8.4.14, newer1 9.1.1, member1 8.4.14, renamed1 8.4.14");
    expect(nonReads()).toEqual([]);
  });

  it("refuses inputs that name a node twice without connecting", async () => {
    sim.clearLog();
    const err = await failure(create(inputs(["ok1", "ok1"])));
    expect(err.message).toBe("Refusing to change anything:\n  - node ok1 is listed twice in nodes");
    expect(sim.commandLog()).toEqual([]);
  });
});

describe("EnvironmentGate drift and diff", () => {
  it("read shows an upgrade done later; diff then re-checks, and the update refuses", async () => {
    const outs = await create(inputs(["ok1", "ok2", "ok3"], "alpha"));
    const same = await environmentGateProvider.diff!("environment", outs, inputs(["ok1", "ok2", "ok3"], "alpha"));
    expect(same.changes).toBe(false);

    sim.mutateState((s) => {
      s.nodes.ok3.pveVersion = "9.1.1";
    });
    try {
      sim.clearLog();
      const refreshed = (await environmentGateProvider.read!("environment", outs)).props as EnvironmentGateOutputs;
      expect(refreshed.observed.map((o) => o.pveVersion)).toEqual(["8.4.14", "8.4.14", "9.1.1"]);
      const drift = await environmentGateProvider.diff!("environment", refreshed, inputs(["ok1", "ok2", "ok3"], "alpha"));
      expect(drift).toMatchObject({ changes: true, replaces: [] });
      const err = await failure(environmentGateProvider.update!("environment", refreshed, inputs(["ok1", "ok2", "ok3"], "alpha")));
      expect(err.message).toContain("ok3 9.1.1");
      expect(nonReads()).toEqual([]);
    } finally {
      sim.mutateState((s) => {
        s.nodes.ok3.pveVersion = "8.4.14";
      });
    }
  });

  it("diff: a changed node set or cluster name is an update (re-check), never a replace", async () => {
    const outs = await create(inputs(["ok1", "ok2"], "alpha"));
    const added = await environmentGateProvider.diff!("environment", outs, inputs(["ok1", "ok2", "ok3"], "alpha"));
    expect(added).toMatchObject({ changes: true, replaces: [] });
    const renamed = await environmentGateProvider.diff!("environment", outs, inputs(["ok1", "ok2"], "gamma"));
    expect(renamed).toMatchObject({ changes: true, replaces: [] });
    const none = await environmentGateProvider.diff!("environment", outs, inputs(["ok1", "ok2"]));
    expect(none.changes).toBe(true);
    const rotated = await environmentGateProvider.diff!("environment", outs, { ...inputs(["ok1", "ok2"], "alpha"), sshPrivateKey: "another key" });
    expect(rotated).toMatchObject({ changes: true, replaces: [] });
  });

  it("refuses the same way when run as the engine runs it (serialized)", async () => {
    const provider = serializeProvider("infra/providers/proxmox/environment-gate.ts", "environmentGateProvider").load();
    const err = await failure(provider.create(inputs(["ok1", "newer1"], "alpha")));
    expect(err.message).toBe(
      "Refusing to change anything:\n" +
        "  - Proxmox VE versions differ; all nodes need the same major.minor release: ok1 8.4.14, newer1 9.1.1",
    );
    expect(err.name).toBe("EnvironmentRefusedError");
  });
});
