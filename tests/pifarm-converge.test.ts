/**
 * The whole composition for machines outside Proxmox, run the way the engine
 * runs it (tests/engine) against simulated hosts: the Pi farm's stack file,
 * with the four Pis as simulated arm64 Debian hosts (their addresses and host
 * keys, and checksums the fake release answers to, swapped in). Host →
 * baseline → K3s converges in one run; the second run changes nothing.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { CHANGING_OPS, runOnce, type RunResult } from "./engine/harness";
import { SECRET_MARKER } from "./engine/protocol";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { mutatingCommands } from "./sim/mutating";

const FILE = path.resolve(__dirname, "../Pulumi.pifarm.yaml");
const PIS = ["pi-1", "pi-2", "pi-3", "pi-4"];
const k3sFakes = createRequire(__filename)("./sim/fakes/k3s-lib.cjs") as {
  fakeArtifacts(version: string): { installScriptSha256: string; arm64: { binarySha256: string } };
};

type Raw = Record<string, unknown>;
let sim: SimCluster;
let config: Record<string, string>;
let first: RunResult;
let firstMutating: string[];
let second: RunResult;
let secondMutating: string[];

/** The stack file's environment, pointed at the simulated Pis; fresh secrets. */
function simConfig(): Record<string, string> {
  const doc = YAML.parse(fs.readFileSync(FILE, "utf8")) as { config: Raw };
  const env = structuredClone(doc.config["homelab:environment"]) as Raw;
  for (const host of env.hosts as Raw[]) {
    const sn = sim.node(String(host.name));
    host.address = sn.host;
    host.hostKey = sn.hostKeyFingerprint;
  }
  for (const cluster of (env.k3s as { clusters: Raw[] }).clusters) {
    const a = k3sFakes.fakeArtifacts(String(cluster.version));
    cluster.artifacts = { installScriptSha256: a.installScriptSha256, arm64: { binarySha256: a.arm64.binarySha256 } };
  }
  return { "homelab:environment": JSON.stringify(env), "homelab:secrets": JSON.stringify({ sshPrivateKey: sim.clientPrivateKey }) };
}

async function converge(state?: RunResult["state"]): Promise<{ result: RunResult; mutating: string[] }> {
  sim.clearLog();
  const result = await runOnce({ stack: "pifarm", config, secretKeys: ["homelab:secrets"], state });
  return { result, mutating: mutatingCommands(sim.commandLog()).map((c) => `${c.node}: ${c.command}`) };
}

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  sim = await startSimCluster(PIS.map((name) => ({ name, distro: "debian", arch: "arm64" })));
  config = simConfig();
  ({ result: first, mutating: firstMutating } = await converge());
  ({ result: second, mutating: secondMutating } = await converge(first.state));
}, 900_000);

afterAll(async () => {
  await sim?.stop();
});

describe("the Pi farm: hosts → baseline → K3s, under the engine", () => {
  it("converges in one run: every Pi has its baseline, and K3s runs one server and three agents", async () => {
    expect(first.error, first.error).toBeUndefined();
    expect(first.ok).toBe(true);
    for (const pi of PIS) {
      expect(await sh(pi, "cat /etc/hostname")).toBe(`${pi}\n`);
      expect(await sh(pi, "cat /etc/hosts")).toContain(`${pi}.farm.home.arpa ${pi}`);
      expect(await sh(pi, "readlink /etc/localtime")).toContain("Europe/Berlin");
    }
    const nodes = JSON.parse(await sh("pi-1", "kubectl get nodes -o json")) as { items: { metadata: { name: string; labels: Record<string, string> } }[] };
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(PIS);
    // The stack file's labels and taints reached the nodes.
    expect(nodes.items.find((n) => n.metadata.name === "pi-4")!.metadata.labels["homelab.example/storage"]).toBe("ssd");
    const pi1 = nodes.items.find((n) => n.metadata.name === "pi-1") as unknown as { spec: { taints?: { key: string; effect: string }[] } };
    expect(pi1.spec.taints).toContainEqual(expect.objectContaining({ key: "node-role.kubernetes.io/control-plane", effect: "PreferNoSchedule" }));
    // The kubeconfig is a secret stack output: the engine shows only the marker.
    const kubernetes = first.outputs.kubernetes as Record<string, Record<string, unknown>>;
    expect(Object.keys(kubernetes)).toEqual(["farm"]);
    expect(kubernetes.farm.kubeconfig).toBe(SECRET_MARKER);
  });

  it("installs K3s only after every Pi's baseline", () => {
    const k3s = first.steps.find((s) => s.type === "pulumi-nodejs:dynamic/k3s:Cluster" && s.op === "create")!;
    expect(k3s).toBeDefined();
    for (const pi of PIS) {
      const baselineSteps = first.steps.filter((s) => s.urn.includes(`pifarm-${pi}-baseline`) && CHANGING_OPS.has(s.op));
      expect(baselineSteps.length, pi).toBeGreaterThan(0);
      for (const s of baselineSteps) expect(s.startedAt + s.durationMs, s.name).toBeLessThanOrEqual(k3s.startedAt);
    }
    expect(firstMutating.some((c) => c.startsWith("pi-1: ") && /install\.sh|INSTALL_K3S/.test(c))).toBe(true);
  });

  it("changes nothing on the second run", () => {
    expect(second.error, second.error).toBeUndefined();
    expect(second.steps.filter((s) => CHANGING_OPS.has(s.op)).map((s) => `${s.op} ${s.name}`)).toEqual([]);
    expect(secondMutating).toEqual([]);
  });
});
