/**
 * The Talos stack files (ms01's cluster on its VMs, FluoData's single host,
 * the rescue-mode VPS) run through the real program under Pulumi mocks:
 * VMs → Talos cluster → Cilium → nodes Ready, the ISO once per node with its
 * checksum, the VMs' boot order and fast stop, the VPS install and its
 * firewall, and no kubeconfig, talosconfig or Talos secret in plain text.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { CILIUM_TALOS_VALUES, TALOS_CLUSTER_TYPE } from "../components/talos-cluster";
import { TALOS_VMS_TYPE, talosIsoUrl } from "../components/talos-vms";
import { VM_TYPE } from "../components/vm";
import { HA_PLACEMENT_TYPE } from "../components/ha";
import { talosFirewallPatch } from "../infra/talos-firewall";
import { hostnamePatch } from "../stacks/layers/talos";
import { runProgram } from "../stacks/program";
import { talosClusterProblems, type TalosClusterInputs } from "../infra/providers/talos/talos-cluster";
import { isSecretValue, plainStrings, type Registration, runStack, settled, type StackRun } from "./helpers/pulumi-mocks";
import { orderedAfter } from "./helpers/ordering";

const ROOT = path.resolve(__dirname, "..");
const runs = new Map<string, StackRun>();
async function run(stack: string): Promise<StackRun> {
  if (!runs.has(stack)) runs.set(stack, await settled(await runStack(path.join(ROOT, `Pulumi.${stack}.yaml`), runProgram)));
  return runs.get(stack)!;
}

const TALOS = "pulumi-nodejs:dynamic/talos:Cluster";
const READY = "pulumi-nodejs:dynamic/kubernetes:NodesReady";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const ISO = "proxmoxve:download/file:File";
const RESCUE = "pulumi-nodejs:dynamic/talos:RescueInstall";

/** The Talos VMs (tagged talos) and the Factory ISO downloads (the templates' images are downloads too). */
const talosVms = (r: StackRun) => r.registrations.filter((x) => x.type === VM && (x.rawInputs.tags as string[] | undefined)?.includes("talos"));
const factoryIsos = (r: StackRun) => r.byType(ISO).filter((x) => String(x.rawInputs.url).startsWith("https://factory.talos.dev/"));

const only = (r: StackRun, type: string): Registration => {
  const list = r.byType(type);
  expect(list.map((x) => x.name), type).toHaveLength(1);
  return list[0];
};

describe.each(["ms01", "fluodata", "vps"])("stack %s: the Talos cluster", (stack) => {
  it("orders the machines, then the Talos cluster resource, then Cilium, then the wait for Ready nodes", async () => {
    const r = await run(stack);
    const cluster = only(r, TALOS);
    const cilium = only(r, RELEASE);
    const ready = only(r, READY);
    const machines = [...talosVms(r), ...r.byType(RESCUE)];
    expect(machines.length).toBeGreaterThan(0);
    for (const m of machines) expect(orderedAfter(r.registrations, cluster.urn, m.urn), m.name).toBe(true);
    expect(orderedAfter(r.registrations, cilium.urn, cluster.urn)).toBe(true);
    expect(orderedAfter(r.registrations, ready.urn, cilium.urn)).toBe(true);
    // Cilium goes through a Kubernetes provider built from the cluster's kubeconfig.
    expect(cilium.provider).toMatch(/kubernetes/);
    expect(cilium.rawInputs).toMatchObject({ chart: "cilium", version: "1.18.0", namespace: "kube-system", repositoryOpts: { repo: "https://helm.cilium.io/" } });
    expect(cilium.rawInputs.values).toEqual(CILIUM_TALOS_VALUES);
    expect(CILIUM_TALOS_VALUES).toMatchObject({ kubeProxyReplacement: true, k8sServiceHost: "localhost", k8sServicePort: 7445 });
    expect(cluster.rawInputs).toMatchObject({ cniNone: true, talosctl: { path: "talosctl", version: "v1.11.5" }, talosVersion: "v1.11.5" });
    expect(cluster.rawInputs.installImage).toMatch(/^factory\.talos\.dev\/installer\/[0-9a-f]{64}:v1\.11\.5$/);
    expect(r.byType(TALOS_CLUSTER_TYPE)).toHaveLength(1);
  });

  it("hands the talosctl provider inputs its own check accepts (what the component composes, the provider takes)", async () => {
    const r = await run(stack);
    const inputs = only(r, TALOS).rawInputs as unknown as Partial<TalosClusterInputs>;
    expect(talosClusterProblems(inputs)).toEqual([]);
    expect(inputs.kubernetesVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("never has the kubeconfig, the talosconfig or the cluster secrets in plain text, in inputs or stack outputs", async () => {
    const r = await run(stack);
    const cluster = only(r, TALOS);
    expect(cluster.additionalSecretOutputs).toEqual(expect.arrayContaining(["secrets", "talosconfig", "kubeconfig"]));
    expect(isSecretValue(only(r, READY).rawInputs.kubeconfig)).toBe(true);
    const provider = r.registrations.find((x) => x.type === "pulumi:providers:kubernetes")!;
    expect(isSecretValue(provider.rawInputs.kubeconfig)).toBe(true);
    for (const reg of r.registrations) {
      const leaked = plainStrings(reg.rawInputs).filter((s) => s.includes("mock-secret:") || s.includes("PRIVATE KEY"));
      expect(leaked, `${reg.type} ${reg.name}`).toEqual([]);
    }
    expect(r.secretOutputs.kubernetes).toBe(true);
    const [name, out] = Object.entries(r.outputs.kubernetes as Record<string, Record<string, unknown>>)[0];
    expect(out.kubeconfig).toBe(`mock-secret:kubeconfig-${stack}-${name}-cluster`);
    expect(out.talosconfig).toBe(`mock-secret:talosconfig-${stack}-${name}-cluster`);
    expect(out.endpoints).toEqual((cluster.rawInputs.nodes as { role: string; address: string }[]).filter((n) => n.role === "controlplane").map((n) => n.address));
    expect(out.nodes).toEqual((cluster.rawInputs.nodes as { name: string }[]).map((n) => n.name));
  });
});

describe.each([
  ["ms01", ["frege", "russell", "wittgenstein"], 6],
  ["fluodata", ["fluo"], 3],
])("stack %s: Talos VMs on Proxmox", (stack, nodes, vmCount) => {
  it("downloads the Factory ISO once per node, checksum pinned, before that node's VMs", async () => {
    const r = await run(stack);
    const isos = factoryIsos(r);
    expect(isos.map((i) => i.rawInputs.nodeName).sort()).toEqual([...nodes].sort());
    const talos = only(r, TALOS);
    const schematic = /installer\/([0-9a-f]{64}):/.exec(talos.rawInputs.installImage as string)![1];
    for (const iso of isos) {
      expect(iso.rawInputs).toMatchObject({ contentType: "iso", checksumAlgorithm: "sha256", url: talosIsoUrl(schematic, "v1.11.5"), overwrite: false });
      expect(iso.rawInputs.checksum).toMatch(/^[0-9a-f]{64}$/);
    }
    const vms = talosVms(r);
    expect(vms).toHaveLength(vmCount);
    for (const vm of vms) {
      const iso = isos.find((i) => i.rawInputs.nodeName === vm.rawInputs.nodeName)!;
      expect(orderedAfter(r.registrations, vm.urn, iso.urn), vm.name).toBe(true);
      expect(vm.rawInputs.cdrom).toEqual({ fileId: `${iso.name}-id`, interface: "ide3" });
    }
  });

  it("takes the installer ISO out of each VM once the cluster is up, on whichever member runs the VM", async () => {
    const r = await run(stack);
    const talos = only(r, TALOS);
    const ejects = r.byType("pulumi-nodejs:dynamic/vm:InstallerEject");
    const vms = talosVms(r);
    expect(ejects.map((e) => e.rawInputs.vmid).sort()).toEqual(vms.map((v) => v.rawInputs.vmId).sort());
    for (const e of ejects) {
      expect(orderedAfter(r.registrations, e.urn, talos.urn), e.name).toBe(true);
      const vm = vms.find((v) => v.rawInputs.vmId === e.rawInputs.vmid)!;
      expect(e.rawInputs).toMatchObject({ drive: "ide3", isoVolid: (vm.rawInputs.cdrom as { fileId: string }).fileId });
      expect(e.rawInputs.isoVolid).toMatch(/-iso-/);
      expect((e.rawInputs.connections as { node: string }[]).length).toBeGreaterThan(0);
      expect(isSecretValue(e.rawInputs.sshPrivateKey)).toBe(true);
    }
  });

  it("boots each VM from its disk first (never the installer again), stops it at once on destroy, and gives it its static address through nocloud", async () => {
    const r = await run(stack);
    const talos = only(r, TALOS);
    const addresses = new Map((talos.rawInputs.nodes as { name: string; address: string }[]).map((n) => [n.name, n.address]));
    const vms = talosVms(r);
    for (const vm of vms) {
      expect(vm.rawInputs.bootOrders, vm.name).toEqual(["virtio0", "ide3"]);
      expect(vm.rawInputs.stopOnDestroy, vm.name).toBe(true);
      expect(vm.rawInputs.clone, vm.name).toBeUndefined();
      const init = vm.rawInputs.initialization as { type: string; interface: string; ipConfigs: { ipv4: { address: string; gateway: string } }[]; userAccount?: unknown };
      expect(init.type).toBe("nocloud");
      expect(init.interface).toBe("ide2");
      expect(init.userAccount).toBeUndefined();
      expect(init.ipConfigs[0].ipv4.address).toBe(`${addresses.get(vm.rawInputs.name as string)}/24`);
      // No guest-agent wait: the Talos resource checks each node itself.
      expect(r.registrations.some((x) => x.type === "pulumi-nodejs:dynamic/vm:GuestAddress" && x.rawInputs.name === vm.rawInputs.name)).toBe(false);
    }
    expect(r.byType(TALOS_VMS_TYPE)).toHaveLength(1);
    expect(r.byType(VM_TYPE).length).toBeGreaterThanOrEqual(vmCount);
  });
});

describe("stack ms01: Talos specifics", () => {
  it("places each control plane on its own node under HA, after its VM, and points the cluster at the VIP", async () => {
    const r = await run("ms01");
    const placements = r.byType(HA_PLACEMENT_TYPE).map((p) => p.name);
    expect(placements).toEqual(expect.arrayContaining(["ms01-k8s-ha-talos-cp-frege", "ms01-k8s-ha-talos-cp-russell", "ms01-k8s-ha-talos-cp-wittgenstein"]));
    for (const [n, node] of [[1, "frege"], [2, "russell"], [3, "wittgenstein"]] as const) {
      const vm = r.byName(`ms01-k8s-vms-talos-cp-${n}-vm`);
      expect(vm.rawInputs.nodeName).toBe(node);
      const resource = r.registrations.find((x) => x.type === "pulumi-nodejs:dynamic/ha:Resource" && x.rawInputs.vmid === 3100 + n)!;
      expect(orderedAfter(r.registrations, resource.urn, vm.urn)).toBe(true);
    }
    const talos = only(r, TALOS);
    expect(talos.rawInputs).toMatchObject({ vip: "10.203.3.50", endpoint: "10.203.3.50" });
    const roles = (talos.rawInputs.nodes as { role: string; installDisk: string }[]).map((n) => n.role);
    expect(roles).toEqual(["controlplane", "controlplane", "controlplane", "worker", "worker", "worker"]);
    expect((talos.rawInputs.nodes as { installDisk: string }[]).every((n) => n.installDisk === "/dev/vda")).toBe(true);
  });
});

describe("stack fluodata: one standalone host", () => {
  it("has no Proxmox cluster and no Ceph, and still gets API access (after the host's networks) for its Talos VMs", async () => {
    const r = await run("fluodata");
    expect(r.byType("homelab:proxmox:Cluster")).toEqual([]);
    expect(r.registrations.filter((x) => x.type.includes("ceph"))).toEqual([]);
    const api = only(r, "homelab:proxmox:ApiAccess");
    expect(orderedAfter(r.registrations, api.urn, r.byName("fluodata-fluo-network").urn)).toBe(true);
    for (const vm of r.byType(VM)) expect(vm.provider).toMatch(/proxmoxve/);
  });
});

describe("stack vps: rescue-mode install", () => {
  it("writes the pinned image from the rescue system, then restricts the Talos and Kubernetes APIs to the admin networks", async () => {
    const r = await run("vps");
    const install = only(r, RESCUE);
    expect(install.rawInputs).toMatchObject({ disk: "/dev/sda", connection: { node: "edge-1", host: "192.0.2.10", user: "root", port: 22 } });
    expect(install.rawInputs.imageUrl).toMatch(/^https:\/\/factory\.talos\.dev\/image\/[0-9a-f]{64}\/v1\.11\.5\/metal-amd64\.raw\.xz$/);
    expect(install.rawInputs.imageSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(isSecretValue(install.rawInputs.sshPrivateKey)).toBe(true);
    expect(install.additionalSecretOutputs).toContain("sshPrivateKey");
    const talos = only(r, TALOS);
    const patches = talos.rawInputs.clusterPatches as string[];
    expect(patches).toEqual([talosFirewallPatch(["203.0.113.0/24"], { controlPlanes: ["192.0.2.10"], workers: [] })]);
    expect(patches[0]).toContain("kind: NetworkDefaultActionConfig\ningress: block");
    expect(patches[0]).toMatch(/name: apid-ingress\nportSelector:\n {2}ports:\n {4}- 50000\n {2}protocol: tcp\ningress:\n {2}- subnet: 203\.0\.113\.0\/24\n {2}- subnet: 192\.0\.2\.10\/32/);
    expect(patches[0]).toMatch(/name: kubernetes-api-ingress\nportSelector:\n {2}ports:\n {4}- 6443\n {2}protocol: tcp\ningress:\n {2}- subnet: 203\.0\.113\.0\/24\n/);
    expect(patches[0]).not.toContain("0.0.0.0/0");
    expect(talos.rawInputs).toMatchObject({ endpoint: "192.0.2.10", nodes: [{ name: "edge-1", role: "controlplane", installDisk: "/dev/sda" }] });
    // the metal platform names no node: the node's name is set, so the Ready wait finds it
    expect((talos.rawInputs.nodes as { patches: string[] }[])[0].patches).toEqual([hostnamePatch("edge-1")]);
    expect(only(r, READY).rawInputs.nodeNames).toEqual(["edge-1"]);
    expect(r.byType(VM)).toEqual([]);
  });
});

describe("an environment with K3s and Talos clusters", () => {
  it("exports both under kubernetes.<name>", async () => {
    // matrix (K3s "lab" on its VMs) plus fluodata's Talos cluster, moved onto matrix's nodes and network
    const matrix = parse(fs.readFileSync(path.join(ROOT, "Pulumi.matrix.yaml"), "utf8"));
    const talos = parse(fs.readFileSync(path.join(ROOT, "Pulumi.fluodata.yaml"), "utf8")).config["homelab:environment"].talos;
    const cluster = talos.clusters[0];
    cluster.proxmox.network = "management";
    [...cluster.controlPlanes, ...cluster.workers].forEach((n: { node: string; address: string; vmid: number }, i: number) => {
      n.node = "foxtrot";
      n.address = `192.168.3.${81 + i}`;
      n.vmid = 3201 + i;
    });
    matrix.config["homelab:environment"].talos = talos;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stacks-talos-"));
    try {
      const file = path.join(dir, "Pulumi.both.yaml");
      fs.writeFileSync(file, stringify(matrix));
      const r = await settled(await runStack(file, runProgram));
      expect(Object.keys(r.outputs.kubernetes as object).sort()).toEqual(["fluo", "lab"]);
      expect(r.secretOutputs.kubernetes).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
