/**
 * The per-node plans of a Talos cluster: a preview names the nodes a change
 * reaches (a node's own patch: that node; a role's patch: that role; a new
 * installer: every node, as a reinstall), through each plan's diff as the
 * engine runs it (the serialized provider).
 */
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { TalosCluster, type TalosClusterArgs } from "../components/talos-cluster";
import { runStack, settled } from "./helpers/pulumi-mocks";
import { serializeProvider } from "./helpers/serialize";

const ROOT = path.resolve(__dirname, "..");
const PLAN = "pulumi-nodejs:dynamic/talos:NodePlan";

const base: TalosClusterArgs = {
  clusterName: "lab",
  talosVersion: "v1.11.5",
  kubernetesVersion: "v1.34.1",
  talosctl: { path: "talosctl", version: "v1.11.5" },
  schematic: "a".repeat(64),
  controlPlanes: ["cp-1", "cp-2", "cp-3"].map((name, i) => ({ name, address: `10.0.0.${11 + i}`, installDisk: "/dev/vda" })),
  workers: ["w-1", "w-2"].map((name, i) => ({ name, address: `10.0.0.${21 + i}`, installDisk: "/dev/vda" })),
  cni: "cilium",
  ciliumVersion: "1.18.0",
};

/** Each node's plan inputs for a cluster built from `args`. */
async function plans(args: TalosClusterArgs): Promise<Map<string, Record<string, unknown>>> {
  const r = await settled(await runStack(path.join(ROOT, "Pulumi.vps.yaml"), () => new TalosCluster("t", args)));
  return new Map(r.byType(PLAN).map((p) => [p.rawInputs.node as string, p.rawInputs]));
}

/** The nodes whose plan the serialized provider's diff reports as changed between two clusters. */
async function changed(before: TalosClusterArgs, after: TalosClusterArgs): Promise<string[]> {
  const provider: pulumi.dynamic.ResourceProvider = serializeProvider("infra/providers/talos/node-plan.ts", "talosNodePlanProvider").load();
  const [olds, news] = [await plans(before), await plans(after)];
  const out: string[] = [];
  for (const [node, o] of olds) {
    const created = await provider.create!(o);
    const read = await provider.read!(created.id, created.outs);
    if ((await provider.diff!(created.id, read.props, news.get(node)!)).changes) out.push(node);
  }
  return out;
}

describe("Talos node plans", () => {
  it("one per node, with its role", async () => {
    const p = await plans(base);
    expect([...p.keys()].sort()).toEqual(["cp-1", "cp-2", "cp-3", "w-1", "w-2"]);
    expect(p.get("cp-1")).toMatchObject({ cluster: "lab", role: "controlplane", install: `factory.talos.dev/installer/${"a".repeat(64)}:v1.11.5 on /dev/vda` });
    expect(p.get("w-2")).toMatchObject({ role: "worker" });
  }, 120_000);

  it("a node's own patch reaches that node only; a worker patch the workers; a new installer every node", async () => {
    const patched = { ...base, workers: [{ ...base.workers![0], patches: ["machine:\n  sysctls:\n    vm.nr_hugepages: \"64\"\n"] }, base.workers![1]] };
    expect(await changed(base, patched)).toEqual(["w-1"]);
    expect(await changed(base, { ...base, patches: { worker: ["machine:\n  kubelet:\n    extraArgs:\n      max-pods: \"200\"\n"] } })).toEqual(["w-1", "w-2"]);
    expect(await changed(base, { ...base, talosVersion: "v1.11.6", talosctl: { path: "talosctl", version: "v1.11.6" } })).toEqual(["cp-1", "cp-2", "cp-3", "w-1", "w-2"]);
    expect(await changed(base, base)).toEqual([]);
    // What the preview shows per node: `config` for a new config, `install` for a reinstall (a reboot).
    const [before, after] = [await plans(base), await plans(patched)];
    expect(after.get("w-1")!.config).not.toBe(before.get("w-1")!.config);
    expect(after.get("w-1")!.install).toBe(before.get("w-1")!.install);
  }, 300_000);
});
