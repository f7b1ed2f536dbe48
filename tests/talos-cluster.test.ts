/**
 * TalosCluster and KubernetesNodesReady providers against the simulated
 * talosctl and kubectl (tests/sim/talos.ts): per-node Talos state in a temp
 * dir, the real tools' texts and exit codes. The providers run as the engine
 * runs them where it matters (serialized, tests/serialization.test.ts); here
 * their methods are called directly, as the engine would call them in order.
 */
import * as fs from "node:fs";
import YAML from "yaml";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KUBERNETES_NODES_READY_PROVIDER_VERSION, kubernetesNodesReadyProvider, type KubernetesNodesReadyInputs } from "../infra/providers/talos/nodes-ready";
import {
  TALOS_CLUSTER_PROVIDER_VERSION,
  talosClusterProvider,
  type TalosClusterDiff,
  type TalosClusterInputs,
  type TalosClusterOutputs,
  type TalosNodeSpec,
} from "../infra/providers/talos/talos-cluster";
import { failure } from "./helpers/failure";
import { serializeProvider } from "./helpers/serialize";
import { SimTalos, startSimTalos } from "./sim/talos";

const SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";
const TALOS = "v1.11.5";

let sim: SimTalos;

beforeAll(() => {
  sim = startSimTalos();
});

afterAll(() => {
  sim?.stop();
});

beforeEach(() => {
  sim.clearLog();
});

/** A cluster of `cps` control planes and `workers` workers on 10.<net>.0.x, every node in maintenance mode. */
function cluster(net: number, cps = 3, workers = 2, over: Partial<TalosClusterInputs> = {}): TalosClusterInputs {
  const nodes: TalosNodeSpec[] = [];
  for (let i = 1; i <= cps; i++) nodes.push({ name: `c${net}-cp-${i}`, address: `10.${net}.0.${10 + i}`, role: "controlplane", patches: [] });
  for (let i = 1; i <= workers; i++) nodes.push({ name: `c${net}-w-${i}`, address: `10.${net}.0.${20 + i}`, role: "worker", patches: [] });
  for (const n of nodes) sim.addNode(n.address, "maintenance", n.name);
  return {
    providerVersion: TALOS_CLUSTER_PROVIDER_VERSION,
    clusterName: `lab${net}`,
    talosVersion: TALOS,
    kubernetesVersion: "1.34.1",
    talosctl: { path: sim.talosctlPath, version: TALOS },
    installImage: `factory.talos.dev/installer/${SCHEMATIC}:${TALOS}`,
    endpoint: `10.${net}.0.10`,
    vip: `10.${net}.0.10`,
    nodes,
    clusterPatches: [],
    controlPlanePatches: [],
    workerPatches: ["machine:\n  kubelet:\n    extraArgs:\n      max-pods: \"150\"\n"],
    cniNone: true,
    // Generous: a wait ends as soon as the node answers; only a node that never does waits it out.
    readyTimeoutMs: 30_000,
    ...over,
  };
}

const calls = (sub: string) => sim.commandLog().filter((c) => c.tool === "talosctl" && c.args[0] === sub);
const argOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
/** What changes a node or makes new secrets; gen config, patch and reads change nothing. */
const mutating = () => sim.commandLog().filter((c) => c.tool === "talosctl" && (["apply-config", "bootstrap"].includes(c.args[0]) || (c.args[0] === "gen" && c.args[1] === "secrets")));
const appliedTo = () => calls("apply-config").map((c) => `${argOf(c.args, "--nodes")}${c.args.includes("--insecure") ? " insecure" : ""}`);

async function create(inputs: TalosClusterInputs): Promise<TalosClusterOutputs> {
  return (await talosClusterProvider.create!(inputs)).outs as TalosClusterOutputs;
}

/** The partial state a failed run hands the engine (ErrorResourceInitFailed). */
function partial(err: Error): TalosClusterOutputs {
  return (err as Error & { properties: TalosClusterOutputs }).properties;
}

describe("a fresh cluster of 3 control planes and 2 workers", () => {
  let inputs: TalosClusterInputs;
  let outs: TalosClusterOutputs;
  let firstLog: ReturnType<SimTalos["commandLog"]> = [];

  it("applies each node's config in maintenance mode once, bootstraps once, and returns kubeconfig and talosconfig", async () => {
    inputs = cluster(1);
    outs = await create(inputs);
    expect(appliedTo()).toEqual(["10.1.0.11 insecure", "10.1.0.12 insecure", "10.1.0.13 insecure", "10.1.0.21 insecure", "10.1.0.22 insecure"]);
    expect(calls("bootstrap").map((c) => argOf(c.args, "--nodes"))).toEqual(["10.1.0.11"]);
    expect(calls("gen").filter((c) => c.args[1] === "secrets")).toHaveLength(1);
    expect(outs.bootstrapNode).toBe("c1-cp-1");
    for (const n of inputs.nodes) expect(sim.node(n.address)).toMatchObject({ stage: "installed", applies: 1 });
    expect(Object.keys(outs.configHashes).sort()).toEqual(inputs.nodes.map((n) => n.name).sort());
    const kube = YAML.parse(outs.kubeconfig);
    expect(kube.clusters[0].cluster.server).toBe("https://10.1.0.10:6443");
    expect(kube["current-context"]).toBe("admin@lab1");
    firstLog = sim.commandLog();
  });

  it("sets the talosconfig's endpoints to the control planes (never the VIP; an empty list is the gen config trap)", () => {
    const tc = YAML.parse(outs.talosconfig);
    expect(tc.context).toBe("lab1");
    expect(tc.contexts.lab1.endpoints).toEqual(["10.1.0.11", "10.1.0.12", "10.1.0.13"]);
  });

  it("puts CNI none, kube-proxy off and the VIP into the configs, the VIP only on control planes", () => {
    const cp = YAML.parse(sim.node("10.1.0.11").config!);
    const w = YAML.parse(sim.node("10.1.0.21").config!);
    expect(cp.cluster.network.cni).toEqual({ name: "none" });
    expect(cp.cluster.proxy.disabled).toBe(true);
    expect(cp.machine.network.interfaces).toEqual([{ deviceSelector: { physical: true }, vip: { ip: "10.1.0.10" } }]);
    expect(w.machine.network.interfaces).toBeUndefined();
    expect(w.machine.kubelet.extraArgs).toEqual({ "max-pods": "150" });
    expect(cp.machine.install.image).toBe(inputs.installImage);
  });

  it("puts no secret on a command line and leaves no temp file behind", () => {
    const secretValues = [...outs.secrets.matchAll(/:\s+(\S{12,})$/gm)].map((m) => m[1]);
    expect(secretValues.length).toBeGreaterThan(5);
    const argv = firstLog.flatMap((c) => c.args).join("\n");
    for (const v of secretValues) expect(argv).not.toContain(v);
    const tempDirs = new Set(firstLog.flatMap((c) => c.args.filter((a) => a.includes("homelab-talosctl-")).map((a) => a.replace(/(homelab-talosctl-[^/]+).*/, "$1"))));
    expect(tempDirs.size).toBeGreaterThan(0);
    for (const d of tempDirs) expect(fs.existsSync(d)).toBe(false);
  });

  it("a refresh right after create returns what create stored", async () => {
    const read = await talosClusterProvider.read!("talos:lab1", outs);
    expect(read.id).toBe("talos:lab1");
    expect(read.props).toEqual(outs);
  });

  it("a second run (read, diff, update forced anyway) makes zero mutating talosctl calls", async () => {
    const read = await talosClusterProvider.read!("talos:lab1", outs);
    const diff = (await talosClusterProvider.diff!("talos:lab1", read.props as TalosClusterOutputs, inputs)) as TalosClusterDiff;
    expect(diff).toMatchObject({ changes: false, replaces: [], diffs: [] });
    const again = (await talosClusterProvider.update!("talos:lab1", outs, inputs)).outs as TalosClusterOutputs;
    expect(mutating()).toEqual([]);
    expect(again).toEqual(outs);
  });

  it("a create with lost state does not touch the running nodes: they trust other secrets, and it says so", async () => {
    const err = await failure(talosClusterProvider.create!(inputs));
    expect(err.message).toMatch(/^c1-cp-1: talosctl get machinestatus: 10\.1\.0\.11 runs Talos configured by another cluster's secrets \(.*x509: certificate signed by unknown authority.*\); reset it to maintenance mode or remove it from nodes$/);
    expect(mutating().map((c) => c.args.slice(0, 2).join(" "))).toEqual(["gen secrets"]);
  });

  it("a per-node patch re-applies on that node only (through the talosconfig), and the diff names it", async () => {
    const news = { ...inputs, nodes: inputs.nodes.map((n) => (n.name === "c1-w-1" ? { ...n, patches: ['machine:\n  nodeLabels:\n    zone: "rack2"\n'] } : n)) };
    const diff = (await talosClusterProvider.diff!("talos:lab1", outs, news)) as TalosClusterDiff;
    expect(diff).toMatchObject({ changes: true, replaces: [], diffs: ["nodes"], reboots: [] });
    expect(diff.detailedDiff).toEqual({ "configHashes.c1-w-1": { kind: "update", inputDiff: false } });
    expect(mutating()).toEqual([]);
    const updated = (await talosClusterProvider.update!("talos:lab1", outs, news)).outs as TalosClusterOutputs;
    expect(appliedTo()).toEqual(["10.1.0.21"]);
    expect(calls("bootstrap")).toEqual([]);
    expect(updated.secrets).toBe(outs.secrets);
    expect(updated.kubeconfig).toBe(outs.kubeconfig);
    expect(updated.configHashes["c1-w-1"]).not.toBe(outs.configHashes["c1-w-1"]);
    expect({ ...updated.configHashes, "c1-w-1": "" }).toEqual({ ...outs.configHashes, "c1-w-1": "" });
    expect(YAML.parse(sim.node("10.1.0.21").config!).machine.nodeLabels).toEqual({ zone: "rack2" });
    inputs = news;
    outs = updated;
  });

  it("says which nodes reboot: a new install disk", async () => {
    const news = { ...inputs, nodes: inputs.nodes.map((n) => (n.name === "c1-w-2" ? { ...n, installDisk: "/dev/vda" } : n)) };
    const diff = (await talosClusterProvider.diff!("talos:lab1", outs, news)) as TalosClusterDiff;
    expect(Object.keys(diff.detailedDiff)).toEqual(["configHashes.c1-w-2"]);
    expect(diff.reboots).toEqual(["c1-w-2"]);
    const updated = (await talosClusterProvider.update!("talos:lab1", outs, news)).outs as TalosClusterOutputs;
    expect(appliedTo()).toEqual(["10.1.0.22"]);
    expect(sim.node("10.1.0.22")).toMatchObject({ stage: "installed", reboots: 2 });
    inputs = news;
    outs = updated;
  });

  it("a new node gets its config in maintenance mode, with the same secrets", async () => {
    sim.addNode("10.1.0.23", "maintenance", "c1-w-3");
    const news = { ...inputs, nodes: [...inputs.nodes, { name: "c1-w-3", address: "10.1.0.23", role: "worker" as const, patches: [] }] };
    const updated = (await talosClusterProvider.update!("talos:lab1", outs, news)).outs as TalosClusterOutputs;
    expect(appliedTo()).toEqual(["10.1.0.23 insecure"]);
    expect(mutating().map((c) => c.args[0])).toEqual(["apply-config"]);
    expect(updated.secrets).toBe(outs.secrets);
    inputs = news;
    outs = updated;
  });

  it("refresh sees a node back in maintenance mode, and the next update gives it its config again", async () => {
    sim.wipeNode("10.1.0.23");
    const read = (await talosClusterProvider.read!("talos:lab1", outs)).props as TalosClusterOutputs;
    expect(read.configHashes["c1-w-3"]).toBe("");
    expect(await talosClusterProvider.diff!("talos:lab1", read, inputs)).toMatchObject({ changes: true });
    await talosClusterProvider.update!("talos:lab1", read, inputs);
    expect(appliedTo()).toEqual(["10.1.0.23 insecure"]);
  });

  it("refuses a new secretsRotation while nodes run with the current secrets, before changing anything", async () => {
    const err = await failure(talosClusterProvider.update!("talos:lab1", outs, { ...inputs, secretsRotation: "2027-01" }));
    expect(err.message).toBe(
      'lab1: secretsRotation changed, but c1-cp-1, c1-cp-2, c1-cp-3, c1-w-1, c1-w-2, c1-w-3 still run(s) with the current secrets; new secrets would lock this cluster out of them. Rotate a running cluster\'s CAs with `talosctl rotate-ca`, or reset the nodes to maintenance mode to rebuild it; or put secretsRotation back to ""',
    );
    expect(mutating()).toEqual([]);
  });

  it("a secretsRotation on wiped nodes makes new secrets and a new cluster; nothing else makes new secrets", async () => {
    for (const n of inputs.nodes) sim.wipeNode(n.address);
    const news = { ...inputs, secretsRotation: "2027-01" };
    const diff = (await talosClusterProvider.diff!("talos:lab1", outs, news)) as TalosClusterDiff;
    expect(diff.diffs).toEqual(["secretsRotation"]);
    expect(Object.keys(diff.detailedDiff)).toHaveLength(6);
    const rotated = (await talosClusterProvider.update!("talos:lab1", outs, news)).outs as TalosClusterOutputs;
    expect(calls("gen").filter((c) => c.args[1] === "secrets")).toHaveLength(1);
    expect(rotated.secrets).not.toBe(outs.secrets);
    expect(rotated.talosconfig).not.toBe(outs.talosconfig);
    expect(rotated.kubeconfig).not.toBe(outs.kubeconfig);
    expect(appliedTo().every((a) => a.endsWith(" insecure"))).toBe(true);
    expect(calls("bootstrap")).toHaveLength(1);
  });
});

describe("half-finished runs finish without repeating", () => {
  it("configs applied, no bootstrap: the re-run bootstraps once and applies nothing", async () => {
    const inputs = cluster(2, 1, 1);
    sim.failNextCommand({ command: "bootstrap", stderr: "error executing bootstrap: rpc error: code = PermissionDenied desc = not authorized" });
    const err = await failure(talosClusterProvider.create!(inputs));
    expect(err.message).toMatch(/^c2-cp-1: talosctl bootstrap failed \(exit 1\): error executing bootstrap: rpc error: code = PermissionDenied desc = not authorized\n {2}command: talosctl bootstrap --talosconfig <tmp>\/talosconfig --endpoints 10\.2\.0\.11 --nodes 10\.2\.0\.11$/);
    const state = partial(err);
    expect(state).toMatchObject({ bootstrapNode: "", kubeconfig: "" });
    expect(Object.keys(state.configHashes)).toEqual(["c2-cp-1", "c2-w-1"]);
    expect((err as Error & { id: string }).id).toBe("talos:lab2");
    sim.clearLog();
    expect(await talosClusterProvider.diff!("talos:lab2", state, inputs)).toMatchObject({ changes: true });
    const outs = (await talosClusterProvider.update!("talos:lab2", state, inputs)).outs as TalosClusterOutputs;
    expect(mutating().map((c) => c.args[0])).toEqual(["bootstrap"]);
    expect(outs.secrets).toBe(state.secrets);
    expect(outs.bootstrapNode).toBe("c2-cp-1");
    expect(outs.kubeconfig).toContain("server: https://10.2.0.10:6443");
  });

  it("bootstrapped but its reply lost: the re-run sees etcd running and does not bootstrap again", async () => {
    const inputs = cluster(3, 1, 0);
    sim.failNextCommand({ command: "bootstrap", afterEffect: true, stderr: "error executing bootstrap: rpc error: code = Unavailable desc = error reading from server: EOF" });
    // Unavailable is retried: the retry meets AlreadyExists and counts as done.
    const outs = await create(inputs);
    expect(calls("bootstrap")).toHaveLength(2);
    expect(outs.bootstrapNode).toBe("c3-cp-1");
  });

  it("bootstrap done, no kubeconfig: the re-run fetches it and neither applies nor bootstraps", async () => {
    const inputs = cluster(4, 1, 1);
    sim.failNextCommand({ command: "kubeconfig", stderr: "error copying: rpc error: code = Internal desc = failed to generate kubeconfig" });
    const err = await failure(talosClusterProvider.create!(inputs));
    expect(err.message).toMatch(/^c4-cp-1: talosctl kubeconfig failed \(exit 1\): error copying: rpc error: code = Internal desc = failed to generate kubeconfig\n/);
    const state = partial(err);
    expect(state).toMatchObject({ bootstrapNode: "c4-cp-1", kubeconfig: "" });
    sim.clearLog();
    const outs = (await talosClusterProvider.update!("talos:lab4", state, inputs)).outs as TalosClusterOutputs;
    expect(mutating()).toEqual([]);
    expect(calls("kubeconfig")).toHaveLength(1);
    expect(outs.kubeconfig).toContain("server: https://10.4.0.10:6443");
  });

  it("a node not up yet fails naming it with nothing applied, and the re-run finishes", async () => {
    const inputs = cluster(5, 1, 2, { readyTimeoutMs: 600 });
    sim.setNodeUp("10.5.0.22", false);
    const err = await failure(talosClusterProvider.create!(inputs));
    expect(err.message).toBe(
      'c5-w-2: talosctl get machinestatus: not up after 1 s; its Talos API (10.5.0.22:50000) does not answer: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.5.0.22:50000: connect: connection refused"',
    );
    expect(mutating().filter((c) => c.args[0] !== "gen")).toEqual([]);
    sim.setNodeUp("10.5.0.22", true);
    sim.clearLog();
    const outs = await create({ ...inputs, readyTimeoutMs: 30_000 });
    expect(appliedTo()).toHaveLength(3);
    expect(calls("bootstrap")).toHaveLength(1);
    expect(outs.bootstrapNode).toBe("c5-cp-1");
  });

  it("an apply that fails names the node and the command, and keeps the state reached", async () => {
    const inputs = cluster(6, 1, 1);
    sim.failNextCommand({ command: "apply-config", node: "10.6.0.21", stderr: "error applying new configuration: rpc error: code = InvalidArgument desc = configuration validation failed: 1 error occurred:\n\t* install disk or diskSelector should be defined" });
    const err = await failure(talosClusterProvider.create!(inputs));
    expect(err.message).toBe(
      "c6-w-1: talosctl apply-config failed (exit 1): error applying new configuration: rpc error: code = InvalidArgument desc = configuration validation failed: 1 error occurred:\n\t* install disk or diskSelector should be defined\n  command: talosctl apply-config --insecure --nodes 10.6.0.21 --file <tmp>/gen/worker.yaml",
    );
    expect(Object.keys(partial(err).configHashes)).toEqual(["c6-cp-1"]);
    sim.clearLog();
    await talosClusterProvider.update!("talos:lab6", partial(err), inputs);
    expect(appliedTo()).toEqual(["10.6.0.21 insecure"]);
  });
});

describe("the provider as the engine runs it (serialized, loaded from its text)", () => {
  it("converges a one-node cluster, and a second run changes nothing", async () => {
    const provider = serializeProvider("infra/providers/talos/talos-cluster.ts", "talosClusterProvider").load();
    const inputs = cluster(11, 1, 0, { vip: undefined, endpoint: "10.11.0.11" });
    delete inputs.vip;
    const { id, outs } = await provider.create!(inputs);
    expect(outs.kubeconfig).toContain("server: https://10.11.0.11:6443");
    expect(YAML.parse(outs.talosconfig).contexts.lab11.endpoints).toEqual(["10.11.0.11"]);
    sim.clearLog();
    const read = await provider.read!(id, outs);
    expect(read.props).toEqual(outs);
    expect(await provider.diff!(id, read.props, inputs)).toMatchObject({ changes: false });
    expect(mutating()).toEqual([]);
  });
});

describe("refusals before any change", () => {
  it("refuses a talosctl whose client version is not the pinned one", async () => {
    const inputs = cluster(7, 1, 0);
    sim.setClientVersion("v1.10.7");
    try {
      const err = await failure(talosClusterProvider.create!(inputs));
      expect(err.message).toBe(`lab7: talosctl at ${sim.talosctlPath} is v1.10.7, but talosctl.version pins v1.11.5; install talosctl v1.11.5 there (or change the pin) before anything is changed`);
      expect(sim.commandLog().map((c) => c.args.join(" "))).toEqual(["version --client"]);
    } finally {
      sim.setClientVersion(TALOS);
    }
  });

  it("check refuses what the inputs alone decide", async () => {
    const inputs = cluster(8, 2, 0, { installImage: `factory.talos.dev/installer/${SCHEMATIC}:v1.11.4` });
    const { failures } = await talosClusterProvider.check!({} as TalosClusterInputs, inputs);
    expect(failures).toEqual([
      { property: "installImage", reason: `installImage: "factory.talos.dev/installer/${SCHEMATIC}:v1.11.4" is not factory.talos.dev/installer/<64 hex schematic>:v1.11.5` },
      { property: "nodes", reason: "nodes: 2 control planes; etcd needs an odd number (1, 3, 5) to keep quorum" },
    ]);
  });
});

describe("KubernetesNodesReady", () => {
  let kubeconfig = "";
  const ready = (over: Partial<KubernetesNodesReadyInputs> = {}): KubernetesNodesReadyInputs => ({
    providerVersion: KUBERNETES_NODES_READY_PROVIDER_VERSION,
    kubeconfig,
    nodeNames: ["c9-cp-1", "c9-w-1"],
    timeoutMs: 400,
    kubectlPath: sim.kubectlPath,
    ...over,
  });

  beforeAll(async () => {
    sim.setCni(false);
    kubeconfig = (await create(cluster(9, 1, 1))).kubeconfig;
  });

  it("fails naming the nodes that are not Ready and why (no CNI yet), and the ones never registered", async () => {
    const err = await failure(kubernetesNodesReadyProvider.create!(ready({ nodeNames: ["c9-cp-1", "c9-w-1", "c9-w-9"] })));
    const cni = "Ready=False (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized)";
    expect(err.message).toBe(`kubernetes: 3 node(s) not Ready after 0 s:\n  - c9-cp-1: ${cni}\n  - c9-w-1: ${cni}\n  - c9-w-9: not registered`);
    const kubectl = sim.commandLog().filter((c) => c.tool === "kubectl");
    expect(kubectl.length).toBeGreaterThan(0);
    for (const c of kubectl) expect(fs.existsSync(argOf(c.args, "--kubeconfig"))).toBe(false);
  });

  it("succeeds once the CNI runs; a refresh right after create returns what create stored", async () => {
    sim.setCni(true);
    const { id, outs } = await kubernetesNodesReadyProvider.create!(ready());
    const read = await kubernetesNodesReadyProvider.read!(id, outs);
    expect(read).toEqual({ id, props: outs });
    expect(await kubernetesNodesReadyProvider.diff!(id, outs!, ready())).toMatchObject({ changes: false });
  });

  it("refresh drops a node that is no longer Ready, so the next update waits for it", async () => {
    const { id, outs } = await kubernetesNodesReadyProvider.create!(ready());
    sim.setNodeUp("10.9.0.21", false);
    const read = (await kubernetesNodesReadyProvider.read!(id, outs)).props!;
    expect(read.nodeNames).toEqual(["c9-cp-1"]);
    expect(await kubernetesNodesReadyProvider.diff!(id, read, ready())).toMatchObject({ changes: true });
    const err = await failure(kubernetesNodesReadyProvider.update!(id, read, ready()));
    expect(err.message).toBe("kubernetes: 1 node(s) not Ready after 0 s:\n  - c9-w-1: Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)");
    sim.setNodeUp("10.9.0.21", true);
    await kubernetesNodesReadyProvider.update!(id, read, ready());
  });

  it("reports an API that does not answer with kubectl's words", async () => {
    const inputs = cluster(10, 1, 0);
    const err = await failure(kubernetesNodesReadyProvider.create!(ready({ kubeconfig: kubeconfig.replace(/10\.9\.0\.10/g, "10.10.0.10").replace(/certificate-authority-data: \S+/, "certificate-authority-data: bm9uZQ==") })));
    expect(err.message).toBe("kubernetes: kubectl get nodes failed for 0 s: The connection to the server 10.10.0.10:6443 was refused - did you specify the right host or port?");
    expect(inputs.nodes).toHaveLength(1);
  });
});
