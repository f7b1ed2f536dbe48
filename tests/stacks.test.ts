/**
 * The real program, run for each reference stack file under Pulumi mocks:
 * what gets registered, in which order, and what stays secret.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { orderedAfter } from "./helpers/ordering";
import { IMAGE_CATALOG } from "../infra/images";
import { runProgram } from "../stacks/program";
import { allStrings, isSecretValue, prepareStack, Registration, runStack, settled, StackRun } from "./helpers/pulumi-mocks";
import { PROXMOX_NODE_TYPE } from "../components/proxmox-node";
import { NODE_BASELINE_TYPE } from "../components/node-baseline";
import { NODE_NETWORK_TYPE } from "../components/node-network";
import { PROXMOX_CLUSTER_TYPE } from "../components/proxmox-cluster";
import { API_ACCESS_TYPE } from "../components/api-access";
import { THUNDERBOLT_RING_TYPE } from "../components/thunderbolt-ring";
import { CEPH_CLUSTER_TYPE } from "../components/ceph-cluster";
import { inputProblems, type CephClusterInputs } from "../infra/providers/ceph/ceph-cluster";
import { CEPH_HEALTH_TYPE } from "../components/ceph-health";
import { GUEST_AGENT_SNIPPET_TYPE } from "../components/guest-agent-snippet";

const ROOT = path.resolve(__dirname, "..");

const STACKS = {
  matrix: ["foxtrot", "golf", "hotel"],
  ms01: ["frege", "russell", "wittgenstein"],
} as const;

const runs = new Map<string, StackRun>();
async function run(stack: keyof typeof STACKS): Promise<StackRun> {
  // settled: the program finishes registering (the stack outputs last) before the next run installs its mocks.
  if (!runs.has(stack)) runs.set(stack, await settled(await runStack(path.join(ROOT, `Pulumi.${stack}.yaml`), runProgram)));
  return runs.get(stack)!;
}

describe.each(Object.keys(STACKS) as (keyof typeof STACKS)[])("stack %s", (stack) => {
  it("registers one Proxmox node component per configured node, each checking its facts over SSH", async () => {
    const r = await run(stack);
    const nodes = r.byType(PROXMOX_NODE_TYPE);
    expect(nodes.map((n) => n.name).sort()).toEqual(STACKS[stack].map((n) => `${stack}-${n}`).sort());
    for (const name of STACKS[stack]) {
      const facts = r.byName(`${stack}-${name}-facts`);
      expect(facts.type).toBe("pulumi-nodejs:dynamic/proxmox:NodeFacts");
      expect(facts.parent).toBe(r.byName(`${stack}-${name}`).urn);
      const connection = facts.rawInputs.connection as Record<string, unknown>;
      expect(connection.node).toBe(name);
      expect(connection.hostKey).toMatch(/^SHA256:/);
    }
  });

  it("keeps the SSH private key secret on every resource that carries it", async () => {
    const r = await run(stack);
    const carriers = r.registrations.filter((x) => "sshPrivateKey" in x.rawInputs);
    expect(carriers.length).toBeGreaterThan(0);
    for (const c of carriers) {
      expect(isSecretValue(c.rawInputs.sshPrivateKey), `${c.name}.sshPrivateKey`).toBe(true);
      expect(c.additionalSecretOutputs, c.name).toContain("sshPrivateKey");
    }
  });

  it("never shows a secret value outside a secret wrapper, in inputs or stack outputs", async () => {
    const r = await run(stack);
    const unwrap = (v: unknown): unknown => {
      if (isSecretValue(v)) return undefined;
      if (Array.isArray(v)) return v.map(unwrap);
      if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
      return v;
    };
    for (const reg of r.registrations) {
      const leaked = allStrings(unwrap(reg.rawInputs)).filter((s) => s.includes("mock-secret:") || s.includes("MOCKSECRET"));
      expect(leaked, `${reg.type} ${reg.name}`).toEqual([]);
    }
    for (const [name, value] of Object.entries(r.outputs)) {
      if (r.secretOutputs[name]) continue;
      expect(allStrings(value).filter((s) => s.includes("mock-secret:") || s.includes("MOCKSECRET")), `output ${name}`).toEqual([]);
    }
  });

  it("exports each node's address and Proxmox version", async () => {
    const r = await run(stack);
    const nodes = r.outputs.nodes as Record<string, { address: string; pveVersion: string }>;
    expect(Object.keys(nodes).sort()).toEqual([...STACKS[stack]].sort());
    for (const n of Object.values(nodes)) expect(n.pveVersion).toBe("8.4.14");
  });

  it("gives every node the baseline's sysctls (ms01: the ring's socket buffers), loaded and read back after the file is written", async () => {
    const r = await run(stack);
    const settings = r.byType("pulumi-nodejs:dynamic/node:KernelSettings");
    if (stack !== "ms01") {
      expect(settings).toEqual([]);
      return;
    }
    expect(settings.map((x) => x.name).sort()).toEqual(STACKS[stack].map((n) => `${stack}-${n}-baseline-kernel`).sort());
    for (const s of settings) {
      expect(s.rawInputs.sysctls).toMatchObject({ "net.core.rmem_max": "67108864", "net.ipv4.tcp_rmem": "4096 87380 67108864" });
      const node = (s.rawInputs.connection as { node: string }).node;
      const file = r.byName(`${stack}-${node}-baseline-sysctls`);
      expect(file.rawInputs.path).toBe("/etc/sysctl.d/90-homelab.conf");
      expect(orderedAfter(r.registrations, s.urn, file.urn)).toBe(true);
    }
  });

  it("reads each node's disks (read-only) after its facts, for the nodes output", async () => {
    const r = await run(stack);
    const inventories = r.byType("pulumi-nodejs:dynamic/node:DiskInventory");
    expect(inventories.map((x) => x.name).sort()).toEqual(STACKS[stack].map((n) => `${stack}-${n}-disks`).sort());
    for (const inv of inventories) {
      const node = (inv.rawInputs.connection as { node: string }).node;
      expect(inv.parent).toBe(r.byName(`${stack}-${node}`).urn);
      expect(orderedAfter(r.registrations, inv.urn, r.byName(`${stack}-${node}-facts`).urn)).toBe(true);
      expect(inv.additionalSecretOutputs).toContain("sshPrivateKey");
    }
    expect(Object.keys(r.outputs.nodes as Record<string, { disks?: unknown }>).sort()).toEqual([...STACKS[stack]].sort());
  });

  it("reads every node through one environment gate before any resource can change a node", async () => {
    const r = await run(stack);
    const [gate, ...more] = r.byType("pulumi-nodejs:dynamic/proxmox:EnvironmentGate");
    expect(more).toEqual([]);
    expect(gate.name).toBe(`${stack}-gate`);
    expect((gate.rawInputs.nodes as { node: string }[]).map((n) => n.node).sort()).toEqual([...STACKS[stack]].sort());
    const acting = r.registrations.filter((x) => x.custom && x.urn !== gate.urn && !x.type.startsWith("pulumi:providers:"));
    expect(acting.length).toBeGreaterThan(10);
    expect(acting.filter((x) => !orderedAfter(r.registrations, x.urn, gate.urn)).map((x) => `${x.type} ${x.name}`)).toEqual([]);
  });
});

describe("validation before registration", () => {
  it("registers nothing when the environment is invalid", async () => {
    const registered: Registration[] = [];
    const bad = path.join(ROOT, "tests/fixtures/bad.yaml");
    await prepareStack(bad, registered);
    expect(() => runProgram()).toThrow(
      [
        "invalid environment:",
        '  nodes[1].address: "10.1.0.300" is not an IPv4 address',
        '  nodes[1].interfaces[1].address: "10.1.0.300" is not an IPv4 address',
        '  nodes[2].interfaces[1].ports[0]: "eno2" is not declared as an interface of this node (add { type: nic, name: eno2 } or a bond)',
      ].join("\n"),
    );
    expect(registered).toEqual([]);
  });
});

describe.each(Object.keys(STACKS) as (keyof typeof STACKS)[])("stack %s: cluster as code", (stack) => {
  const urnsOf = (r: StackRun, type: string) => r.byType(type).map((x) => x.urn);

  it("gives every node a baseline and a network, in that order, after its facts", async () => {
    const r = await run(stack);
    for (const name of STACKS[stack]) {
      const facts = r.byName(`${stack}-${name}-facts`);
      const baseline = r.byName(`${stack}-${name}-baseline`);
      const network = r.byName(`${stack}-${name}-network`);
      expect(baseline.type).toBe(NODE_BASELINE_TYPE);
      expect(network.type).toBe(NODE_NETWORK_TYPE);
      expect(baseline.dependsOn).toContain(facts.urn);
      const interfaces = r.registrations.find(
        (x) => x.type === "pulumi-nodejs:dynamic/network:Interfaces" && x.parent === network.urn,
      )!;
      expect(interfaces, `${name} interfaces`).toBeDefined();
      // Networks wait for the baseline's resources (packages, users, files).
      const baselineChildren = r.registrations.filter((x) => x.parent === baseline.urn && x.custom).map((x) => x.urn);
      expect(baselineChildren.length).toBeGreaterThan(0);
      expect(network.dependsOn).toEqual(expect.arrayContaining(baselineChildren));
    }
  });

  it("forms the cluster only after every node's baseline and network, with the founder's root password secret", async () => {
    const r = await run(stack);
    const [membership] = r.byType("pulumi-nodejs:dynamic/proxmox:Cluster");
    expect(membership).toBeDefined();
    const clusterComponent = r.byType(PROXMOX_CLUSTER_TYPE)[0];
    expect(membership.parent).toBe(clusterComponent.urn);
    const interfaces = urnsOf(r, "pulumi-nodejs:dynamic/network:Interfaces");
    expect(interfaces).toHaveLength(3);
    expect(clusterComponent.dependsOn).toEqual(expect.arrayContaining(interfaces));
    // The engine sees it on the resource itself too (destroy/replace ordering), not only on the component.
    expect(membership.dependsOn).toEqual(expect.arrayContaining(interfaces));
    const nodePackages = r
      .byType("pulumi-nodejs:dynamic/node:Packages")
      .filter((p) => (STACKS[stack] as readonly string[]).includes((p.rawInputs.connection as { node: string }).node));
    expect(clusterComponent.dependsOn).toEqual(expect.arrayContaining(nodePackages.map((p) => p.urn)));
    expect(isSecretValue(membership.rawInputs.rootPassword)).toBe(true);
    const nodes = membership.rawInputs.nodes as { connection: { node: string }; links: Record<string, string> }[];
    expect(nodes.map((n) => n.connection.node)).toEqual([...STACKS[stack]]);
    for (const n of nodes) expect(Object.keys(n.links).sort()).toEqual(["link0", "link1"]);
  });

  it("creates API access after the cluster and serves native resources with the token provider", async () => {
    const r = await run(stack);
    const api = r.byType(API_ACCESS_TYPE)[0];
    const membership = r.byType("pulumi-nodejs:dynamic/proxmox:Cluster")[0];
    expect(api.dependsOn).toContain(membership.urn);
    expect(r.byType("pulumi-nodejs:dynamic/proxmox:PveRole")[0].dependsOn).toContain(membership.urn);
    const [provider] = r.byType("pulumi:providers:proxmoxve");
    expect(isSecretValue(provider.rawInputs.apiToken)).toBe(true);
    const [options] = r.byType("proxmoxve:cluster/options:Options");
    expect(options.dependsOn).toContain(membership.urn);
    expect(options.provider.startsWith(`${provider.urn}::`)).toBe(true);
    expect(options.rawInputs.migrationCidr).toBe(stack === "ms01" ? "10.100.0.0/24" : "192.168.7.0/24");
    expect(r.secretOutputs.api).toBe(true);
  });

  it("hands the native provider no SSH, and uses no native resource that would need it", async () => {
    const r = await run(stack);
    const [provider] = r.byType("pulumi:providers:proxmoxve");
    // its SSH client would trust unknown host keys on first use (no pinning), as root
    expect(provider.rawInputs.ssh).toBeUndefined();
    expect(JSON.stringify(provider.rawInputs)).not.toMatch(/privateKey|agentSocket/);
    // what would make it SSH: file uploads (FileLegacy), containers, disks imported from a fileId
    const native = r.registrations.filter((x) => x.type.startsWith("proxmoxve:"));
    expect(native.length).toBeGreaterThan(0);
    expect(native.filter((x) => /^proxmoxve:index\/(fileLegacy|containerLegacy):/.test(x.type)).map((x) => x.type)).toEqual([]);
    for (const vm of r.byType("proxmoxve:index/vmLegacy:VmLegacy")) {
      for (const disk of (vm.rawInputs.disks as { fileId?: string }[] | undefined) ?? []) expect(disk.fileId, vm.name).toBeUndefined();
    }
  });
});

describe("stack ms01: Thunderbolt ring and users", () => {
  it("builds the ring after the nodes' networks and forms the cluster after the ring is verified", async () => {
    const r = await run("ms01");
    const [ring] = r.byType(THUNDERBOLT_RING_TYPE);
    expect(ring).toBeDefined();
    const [verify] = r.byType("pulumi-nodejs:dynamic/network:RingVerify");
    expect(r.byType(PROXMOX_CLUSTER_TYPE)[0].dependsOn).toContain(verify.urn);
    const interfaces = r.byType("pulumi-nodejs:dynamic/network:Interfaces").map((x) => x.urn);
    const ringChildren = r.registrations.filter((x) => x.parent === ring.urn && x.custom);
    expect(ringChildren.length).toBeGreaterThan(0);
    expect(ringChildren.some((c) => interfaces.some((i) => c.dependsOn.includes(i)))).toBe(true);
  });

  it("creates kellen (sudo with password) and ansible (passwordless sudo) on every node and VM clone, key login only", async () => {
    const r = await run("ms01");
    const users = r.byType("pulumi-nodejs:dynamic/node:LinuxUser");
    const machines = ["frege", "russell", "wittgenstein", "rocky9-01", "rocky10-01", "debian12-01"];
    expect(users.map((u) => `${(u.rawInputs.connection as { node: string }).node}:${String(u.rawInputs.name)}`).sort()).toEqual(
      machines.flatMap((m) => [`${m}:ansible`, `${m}:kellen`]).sort(),
    );
    for (const u of users) expect(u.rawInputs.passwordLogin).toBe(false);
    // kellen's password (for sudo) comes from the secrets as a secret; ansible has none.
    for (const u of users) {
      if (u.rawInputs.name === "kellen") expect(isSecretValue(u.rawInputs.passwordHash)).toBe(true);
      else expect(u.rawInputs.passwordHash).toBeUndefined();
    }
    const sudoers = r.byType("pulumi-nodejs:dynamic/node:RemoteFile").filter((f) => String(f.rawInputs.path).startsWith("/etc/sudoers.d/"));
    const contents = sudoers.map((f) => String(f.rawInputs.content));
    expect(contents.filter((c) => /^kellen ALL=\(ALL:ALL\) ALL$/m.test(c))).toHaveLength(6);
    expect(contents.filter((c) => /^ansible ALL=\(ALL:ALL\) NOPASSWD: ALL$/m.test(c))).toHaveLength(6);
  });
});

describe.each(Object.keys(STACKS) as (keyof typeof STACKS)[])("stack %s: Ceph", (stack) => {
  it("runs Ceph after the cluster, OSDs after Ceph, pools after OSDs, the health gate last", async () => {
    const r = await run(stack);
    const membership = r.byType("pulumi-nodejs:dynamic/proxmox:Cluster")[0];
    const [cephCluster] = r.byType("pulumi-nodejs:dynamic/ceph:Cluster");
    const cephComponent = r.byType(CEPH_CLUSTER_TYPE)[0];
    expect(cephComponent.dependsOn).toContain(membership.urn);
    expect(cephCluster.parent).toBe(cephComponent.urn);
    const osds = r.byType("pulumi-nodejs:dynamic/ceph:Osds");
    expect(osds).toHaveLength(3);
    for (const o of osds) expect(o.dependsOn).toContain(cephCluster.urn);
    const pools = r.byType("pulumi-nodejs:dynamic/ceph:Pool");
    expect(pools.map((p) => p.rawInputs.name)).toEqual(stack === "matrix" ? ["vm_ssd", "vm_containers"] : ["vm_ssd"]);
    for (const p of pools) expect(p.dependsOn).toEqual(expect.arrayContaining(osds.map((o) => o.urn)));
    // Data stays on pulumi destroy unless ceph.destroyOnDelete says otherwise.
    for (const x of [...osds, ...pools]) expect(x.rawInputs.destroyOnDelete, x.name).toBe(false);
    const gate = r.byType(CEPH_HEALTH_TYPE)[0];
    expect(gate.dependsOn).toEqual(expect.arrayContaining([...osds, ...pools].map((x) => x.urn)));
  });

  it("declares the OSD devices of the environment", async () => {
    const r = await run(stack);
    const devices = r.byType("pulumi-nodejs:dynamic/ceph:Osds").flatMap((o) => o.rawInputs.devices as { osdsPerDevice?: number }[]);
    const osdCount = devices.reduce((n, d) => n + (d.osdsPerDevice ?? 1), 0);
    expect(osdCount).toBe(stack === "matrix" ? 12 : 3);
  });
});

/** Template clones and their images (ms01's Talos VMs and their ISO are tests/stacks-talos.test.ts's). */
const clones = (r: StackRun): Registration[] => r.byType("proxmoxve:index/vmLegacy:VmLegacy").filter((v) => v.rawInputs.clone !== undefined);
const templateDownloads = (r: StackRun): Registration[] =>
  r.byType("proxmoxve:download/file:File").filter((d) => !String(d.rawInputs.url).startsWith("https://factory.talos.dev/"));

describe.each(Object.keys(STACKS) as (keyof typeof STACKS)[])("stack %s: templates, VMs and HA", (stack) => {
  it("builds Rocky 9, Rocky 10 and Debian 12 templates from checksum-verifiable downloads, after the Ceph pools", async () => {
    const r = await run(stack);
    const templates = r.byType("pulumi-nodejs:dynamic/vm:CloudTemplate");
    expect(templates.map((t) => t.rawInputs.vmid).sort()).toEqual([7000, 7001, 7002]);
    const downloads = templateDownloads(r);
    expect(downloads).toHaveLength(3);
    const pools = r.byType("pulumi-nodejs:dynamic/ceph:Pool").map((p) => p.urn);
    for (const t of templates) {
      expect(t.dependsOn).toEqual(expect.arrayContaining(pools));
      expect(downloads.some((d) => t.dependsOn.includes(d.urn))).toBe(true);
    }
    // every download is verified against the catalog's pinned digest
    for (const d of downloads) {
      const image = Object.values(IMAGE_CATALOG).find((i) => i.url === d.rawInputs.url);
      expect(image, `catalog entry for ${String(d.rawInputs.url)}`).toBeDefined();
      expect(d.rawInputs).toMatchObject({ checksum: image!.checksum, checksumAlgorithm: image!.checksumAlgorithm, fileName: image!.fileName, contentType: "iso" });
    }
  });

  it("installs the guest agent on the Debian template through a vendor snippet on every node, after the cluster's API exists", async () => {
    const r = await run(stack);
    const content = r.byType("pulumi-nodejs:dynamic/storage:StorageContent");
    expect(content).toHaveLength(1);
    expect(content[0].rawInputs).toMatchObject({ storage: "local", content: ["snippets"] });
    const snippet = r.byType(GUEST_AGENT_SNIPPET_TYPE)[0];
    const api = r.byType(API_ACCESS_TYPE)[0];
    // the engine sees a component dependency as its resources: the token, and so the cluster before it
    const token = r.byType("pulumi-nodejs:dynamic/proxmox:PveApiToken").find((t) => t.parent === api.urn)!;
    expect(snippet.dependsOn).toContain(token.urn);
    const files = r.byType("pulumi-nodejs:dynamic/node:RemoteFile").filter((f) => f.parent === snippet.urn);
    expect(files.map((f) => (f.rawInputs.connection as { node: string }).node).sort()).toEqual(
      stack === "matrix" ? ["foxtrot", "golf", "hotel"] : ["frege", "russell", "wittgenstein"],
    );
    const volid = "local:snippets/homelab-qemu-guest-agent.yaml";
    const templates = r.byType("pulumi-nodejs:dynamic/vm:CloudTemplate");
    const debian = templates.find((t) => t.rawInputs.vmid === 7002)!;
    expect(debian.rawInputs.vendorSnippet).toBe(volid);
    expect(debian.dependsOn).toEqual(expect.arrayContaining(files.map((f) => f.urn)));
    // Rocky's images ship the agent
    for (const t of templates.filter((x) => x !== debian)) expect(t.rawInputs.vendorSnippet).toBeUndefined();
    const vms = clones(r);
    const clone = vms.find((v) => (v.rawInputs.clone as { vmId: number }).vmId === 7002)!;
    expect((clone.rawInputs.initialization as { vendorDataFileId?: string }).vendorDataFileId).toBe(volid);
  });

  it("clones at least one VM per template, each after its template and the Ceph storage, and exports its addresses", async () => {
    const r = await run(stack);
    const templates = r.byType("pulumi-nodejs:dynamic/vm:CloudTemplate");
    const vms = clones(r);
    const pools = r.byType("pulumi-nodejs:dynamic/ceph:Pool").map((p) => p.urn);
    for (const t of templates) {
      const clones = vms.filter((v) => (v.rawInputs.clone as { vmId: number }).vmId === t.rawInputs.vmid);
      expect(clones.length, `clones of ${t.rawInputs.vmid}`).toBeGreaterThanOrEqual(1);
      for (const v of clones) {
        expect(v.dependsOn).toContain(t.urn);
        expect(v.dependsOn).toEqual(expect.arrayContaining(pools));
      }
    }
    const out = r.outputs.vms as Record<string, { vmid: number; address: string; ipv4: string[] }>;
    const kube = stack === "matrix" ? ["kube-1", "kube-2", "kube-3"] : [];
    expect(Object.keys(out).sort()).toEqual(["debian12-01", ...kube, "rocky10-01", "rocky9-01"]);
    expect(out["rocky9-01"]).toMatchObject({ vmid: 200, address: "10.99.0.200", ipv4: ["10.99.0.200"] });
    // each VM waits for its guest agent address after it exists
    for (const w of r.byType("pulumi-nodejs:dynamic/vm:GuestAddress")) {
      expect(w.dependsOn).toContain(vms.find((v) => v.rawInputs.vmId === w.rawInputs.vmid)!.urn);
    }
    expect(r.byType("pulumi-nodejs:dynamic/vm:GuestAddress")).toHaveLength(vms.length);
  });

  it("makes the VMs that ask for it highly available after they exist, once each", async () => {
    const r = await run(stack);
    const vms = clones(r);
    const ha = r.byType("pulumi-nodejs:dynamic/ha:Resource").filter((h) => vms.some((v) => v.rawInputs.vmId === h.rawInputs.vmid));
    expect(ha.map((h) => h.rawInputs.vmid).sort()).toEqual([200, 201]);
    for (const h of ha) {
      const vm = vms.find((v) => v.rawInputs.vmId === h.rawInputs.vmid)!;
      expect(h.dependsOn).toContain(vm.urn);
    }
    const [placement] = r.byType("pulumi-nodejs:dynamic/ha:Placement").filter((p) => p.rawInputs.name === "spread");
    expect(placement.rawInputs.resources).toEqual(["vm:200", "vm:201"]);
  });
});

describe("fixture mon-subset: monitors on 3 of 4 nodes", () => {
  it("gives a monAddress to the monitor nodes only, so the Ceph provider's check accepts the composition", async () => {
    const r = await runStack(path.join(ROOT, "tests/fixtures/mon-subset.yaml"), runProgram);
    const [cephCluster] = r.byType("pulumi-nodejs:dynamic/ceph:Cluster");
    const nodes = cephCluster.rawInputs.nodes as { connection: { node: string }; monAddress?: string }[];
    expect(Object.fromEntries(nodes.map((n) => [n.connection.node, n.monAddress]))).toEqual({
      alpha: "10.1.0.10",
      beta: "10.1.0.11",
      gamma: "10.1.0.12",
      delta: undefined,
    });
    expect(cephCluster.rawInputs.monNodes).toEqual(["alpha", "beta", "gamma"]);
    expect(inputProblems(cephCluster.rawInputs as unknown as CephClusterInputs)).toEqual([]);
  });
});
