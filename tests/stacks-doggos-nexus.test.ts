/**
 * The inventory's other clusters, doggos (3 nodes, Ceph, ACME) and nexus
 * (2 nodes, a QDevice, certificates of its own CA), run as the real program
 * under Pulumi mocks: what gets registered, in which order, what stays secret.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { API_ACCESS_TYPE } from "../components/api-access";
import { API_CERTIFICATES_TYPE } from "../components/api-certificates";
import { CEPH_CLUSTER_TYPE } from "../components/ceph-cluster";
import { PROXMOX_CLUSTER_TYPE } from "../components/proxmox-cluster";
import { runProgram } from "../stacks/program";
import { validateStackFile } from "../stacks/stack-file";
import { orderedAfter } from "./helpers/ordering";
import { isSecretValue, plainStrings, runStack, type StackRun } from "./helpers/pulumi-mocks";

const ROOT = path.resolve(__dirname, "..");
const STACKS = { doggos: ["holly", "lloyd", "mable"], nexus: ["alpha", "bravo"] } as const;
type Stack = keyof typeof STACKS;

const runs = new Map<string, StackRun>();
async function run(stack: Stack): Promise<StackRun> {
  if (!runs.has(stack)) {
    const r = await runStack(path.join(ROOT, `Pulumi.${stack}.yaml`), runProgram);
    // Registrations that wait on other components' children can land after the program returned.
    for (let seen = -1; seen !== r.registrations.length; ) {
      seen = r.registrations.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    runs.set(stack, r);
  }
  return runs.get(stack)!;
}

describe.each(Object.keys(STACKS) as Stack[])("stack %s", (stack) => {
  it("validates", () => {
    const result = validateStackFile(stack, ROOT);
    expect(result.issues).toEqual([]);
  });

  it("forms one cluster of its nodes, after every node's network, and API access after it", async () => {
    const r = await run(stack);
    const [membership] = r.byType("pulumi-nodejs:dynamic/proxmox:Cluster");
    expect((membership.rawInputs.nodes as { connection: { node: string } }[]).map((n) => n.connection.node)).toEqual([...STACKS[stack]]);
    for (const i of r.byType("pulumi-nodejs:dynamic/network:Interfaces")) expect(orderedAfter(r.registrations, membership.urn, i.urn)).toBe(true);
    expect(r.byType(API_ACCESS_TYPE)[0].dependsOn).toContain(membership.urn);
    // Then each node's own certificate is checked against its address.
    const certs = r.byType("pulumi-nodejs:dynamic/proxmox:NodeCertificate");
    expect(certs.map((c) => (c.rawInputs.connection as { node: string }).node)).toEqual([...STACKS[stack]]);
    for (const c of certs) expect(c.dependsOn).toContain(membership.urn);
  });

  it("orders every certificate resource after the cluster and API access, on the token provider", async () => {
    const r = await run(stack);
    const [component] = r.byType(API_CERTIFICATES_TYPE);
    expect(component).toBeDefined();
    const membership = r.byType("pulumi-nodejs:dynamic/proxmox:Cluster")[0];
    const [provider] = r.byType("pulumi:providers:proxmoxve");
    const children = r.registrations.filter((x) => x.parent === component.urn);
    expect(children.length).toBeGreaterThan(0);
    for (const c of children) {
      expect(orderedAfter(r.registrations, c.urn, membership.urn), c.name).toBe(true);
      expect(orderedAfter(r.registrations, c.urn, r.byType("pulumi-nodejs:dynamic/proxmox:PveApiToken")[0].urn), c.name).toBe(true);
      expect(c.provider.startsWith(`${provider.urn}::`), c.name).toBe(true);
    }
  });

  it("never shows a secret outside a secret wrapper", async () => {
    const r = await run(stack);
    for (const reg of r.registrations) {
      expect(plainStrings(reg.rawInputs).filter((s) => s.includes("mock-secret:")), `${reg.type} ${reg.name}`).toEqual([]);
    }
  });
});

describe("stack doggos", () => {
  it("runs Ceph on its three nodes", async () => {
    const r = await run("doggos");
    expect(r.byType(CEPH_CLUSTER_TYPE)).toHaveLength(1);
    const osds = r.byType("pulumi-nodejs:dynamic/ceph:Osds");
    expect(osds.map((o) => (o.rawInputs.connection as { node: string }).node).sort()).toEqual(["holly", "lloyd", "mable"]);
  });

  it("orders an ACME certificate per node through one account and the DNS plugin, whose API data stay secret", async () => {
    const r = await run("doggos");
    const [account] = r.byType("proxmoxve:acme/account:Account");
    expect(account.rawInputs).toMatchObject({ name: "default", contact: "ops@doggos.example.org" });
    const [plugin] = r.byType("proxmoxve:acme/dns/plugin:Plugin");
    expect(plugin.rawInputs).toMatchObject({ plugin: "cloudflare", api: "cf", validationDelay: 30 });
    expect(isSecretValue(plugin.rawInputs.data)).toBe(true);
    expect(plugin.additionalSecretOutputs).toContain("data");
    const certs = r.byType("proxmoxve:acme/certificate:Certificate");
    expect(certs.map((c) => c.rawInputs.nodeName).sort()).toEqual(["holly", "lloyd", "mable"]);
    for (const c of certs) {
      expect(c.dependsOn).toEqual(expect.arrayContaining([account.urn, plugin.urn]));
      expect(c.rawInputs.domains).toEqual([{ domain: `${c.rawInputs.nodeName}.doggos.example.org`, plugin: "cloudflare" }]);
    }
  });
});

describe("stack nexus", () => {
  it("has no Ceph: two nodes and a QDevice give Ceph's monitors no quorum", async () => {
    const r = await run("nexus");
    expect(r.byType(CEPH_CLUSTER_TYPE)).toEqual([]);
  });

  it("sets up the QDevice after the cluster forms, reaching the qnetd host as root with its pinned key", async () => {
    const r = await run("nexus");
    const [qdevice] = r.byType("pulumi-nodejs:dynamic/proxmox:QDevice");
    const membership = r.byType("pulumi-nodejs:dynamic/proxmox:Cluster")[0];
    expect(qdevice.parent).toBe(r.byType(PROXMOX_CLUSTER_TYPE)[0].urn);
    expect(qdevice.dependsOn).toContain(membership.urn);
    expect(qdevice.rawInputs).toMatchObject({ clusterName: "nexus", qnetd: { node: "quorum-pi", host: "192.168.30.5", user: "root" } });
    expect((qdevice.rawInputs.qnetd as { hostKey: string }).hostKey).toMatch(/^SHA256:/);
    expect((qdevice.rawInputs.members as { node: string }[]).map((m) => m.node)).toEqual(["alpha", "bravo"]);
    expect(isSecretValue(qdevice.rawInputs.sshPrivateKey)).toBe(true);
    expect(qdevice.additionalSecretOutputs).toContain("sshPrivateKey");
    // The membership alone is two nodes: the QDevice's vote is what allows it.
    expect(membership.rawInputs.allowSmallCluster).toBe(true);
    expect(Object.keys(r.outputs.cluster as object)).toContain("qdeviceVotes");
  });

  it("installs each node's own certificate and key, the key a secret", async () => {
    const r = await run("nexus");
    const certs = r.byType("proxmoxve:index/certificateLegacy:CertificateLegacy");
    expect(certs.map((c) => c.rawInputs.nodeName).sort()).toEqual(["alpha", "bravo"]);
    for (const c of certs) {
      expect(isSecretValue(c.rawInputs.privateKey)).toBe(true);
      expect(isSecretValue(c.rawInputs.certificate)).toBe(true);
      expect(c.additionalSecretOutputs).toContain("privateKey");
    }
  });
});
