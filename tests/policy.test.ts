/**
 * The policy pack (stacks/policy): each rule on a violating and a complying
 * resource, the policies as the engine calls them, and real programs run
 * under mocks (our stacks, and small programs built from our providers and
 * components) whose registrations are fed to the rules the way the policy
 * engine shows them: inputs and outputs with secrets unwrapped, plus
 * additionalSecretOutputs.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyResource as EngineResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { ENVIRONMENT_MARKER_TYPE, EnvironmentMarker } from "../components/environment-marker";
import { CephOsds } from "../infra/providers/ceph/ceph-osd";
import type { NodeConnection } from "../infra/providers/connection";
import { RemoteFile } from "../infra/providers/linux/remote-file";
import { ProxmoxClusterMembership } from "../infra/providers/proxmox/cluster";
import { parseEnvironment } from "../stacks/errors";
import { policyPackPath } from "../stacks/policy/path";
import { POLICIES } from "../stacks/policy/policies";
import {
  clusterSizeViolations,
  destroySwitchViolations,
  osdWipeViolations,
  plainSecretViolations,
  TYPES,
  type PolicyResource,
} from "../stacks/policy/rules";
import { runProgram } from "../stacks/program";
import { defaultState, isSecretValue, runStack, settled, type Registration, type StateFor } from "./helpers/pulumi-mocks";

const ROOT = path.resolve(__dirname, "..");
const MATRIX = path.join(ROOT, "Pulumi.matrix.yaml");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-policy-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const KEY_LABEL = ["OPENSSH", "PRIVATE", "KEY"].join(" ");
const PRIVATE_KEY = `-----BEGIN ${KEY_LABEL}-----\nAAAA\n-----END ${KEY_LABEL}-----\n`;

const resource = (type: string, props: Record<string, unknown>, additionalSecretOutputs: string[] = [], name = "r"): PolicyResource => ({
  type,
  name,
  props,
  additionalSecretOutputs,
});

// ---------------------------------------------------------------------------------------------
// What the policy engine shows: secrets unwrapped, unknown values absent.

function unwrap(v: unknown): unknown {
  if (isSecretValue(v)) return unwrap((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  return v;
}

/** A registration as a resource policy sees it (inputs), and as a stack policy sees it (outputs: the mocks' state). */
function engineViews(r: Registration, stateFor: StateFor): { inputs: PolicyResource; outputs: PolicyResource } {
  const inputs = unwrap(r.rawInputs) as Record<string, unknown>;
  delete inputs.__provider; // the dynamic provider's code, not an input
  const outputs = r.custom ? (stateFor(r.type, r.name, inputs) as Record<string, unknown>) : inputs;
  return {
    inputs: resource(r.type, inputs, r.additionalSecretOutputs, r.name),
    outputs: resource(r.type, outputs, r.additionalSecretOutputs, r.name),
  };
}

/** Every violation the pack reports for a program's registrations. */
function violations(registrations: Registration[], stateFor: StateFor = defaultState): string[] {
  const views = registrations.map((r) => engineViews(r, stateFor));
  return [
    ...views.flatMap((v) => [...clusterSizeViolations(v.inputs), ...osdWipeViolations(v.inputs), ...plainSecretViolations(v.inputs)]),
    ...destroySwitchViolations(views.map((v) => v.outputs)),
    ...views.flatMap((v) => plainSecretViolations(v.outputs)),
  ];
}

async function mocked(program: () => void, stateFor: StateFor = defaultState): Promise<Registration[]> {
  const run = await settled(
    await runStack(
      MATRIX,
      () => {
        program();
        return {};
      },
      stateFor,
    ),
  );
  return run.registrations;
}

const connection = (node: string): NodeConnection => ({ node, host: "192.0.2.10", port: 22, user: "root", hostKey: "SHA256:" + "A".repeat(43) });
const links = (n: number) => ({ link0: `192.0.2.${n}` });

// ---------------------------------------------------------------------------------------------

describe("the rules, one resource at a time", () => {
  it("quorum: 2 nodes are refused, 3 nodes, 2 nodes and a QDevice, or allowSmallCluster pass", () => {
    const two = [{}, {}];
    expect(clusterSizeViolations(resource(TYPES.cluster, { nodes: two }, [], "c"))).toEqual([
      "c: a Proxmox cluster of 2 nodes (2 votes) loses quorum when one member fails; add members or a QDevice, or set allowSmallCluster: true",
    ]);
    expect(clusterSizeViolations(resource(TYPES.cluster, { nodes: [{}], qdevice: { host: "192.0.2.9" } }, [], "c"))).toEqual([
      "c: a Proxmox cluster of 1 node and a QDevice (2 votes) loses quorum when one member fails; add members or a QDevice, or set allowSmallCluster: true",
    ]);
    expect(clusterSizeViolations(resource(TYPES.cluster, { nodes: [{}, {}, {}] }))).toEqual([]);
    expect(clusterSizeViolations(resource(TYPES.cluster, { nodes: two, qdevice: { host: "192.0.2.9" } }))).toEqual([]);
    expect(clusterSizeViolations(resource(TYPES.cluster, { nodes: two, allowSmallCluster: true }))).toEqual([]);
    expect(clusterSizeViolations(resource("other:index:Cluster", { nodes: two }))).toEqual([]);
  });

  it("OSD wipe: only a boolean on the device itself; no resource-wide wipe; no device twice", () => {
    const osds = (props: Record<string, unknown>) => osdWipeViolations(resource(TYPES.osds, props, [], "osds-golf"));
    expect(osds({ devices: [{ device: "/dev/sdb", wipe: "false" }] })).toEqual([
      'osds-golf: /dev/sdb has wipe: "false"; only wipe: true (a boolean) on the device itself zaps it',
    ]);
    expect(osds({ devices: [{ device: "/dev/sdb" }], wipeAll: true })).toEqual([
      "osds-golf: wipeAll applies to every device; say wipe: true on each device that may be zapped",
    ]);
    expect(osds({ devices: [{ device: "/dev/sdb" }, { device: "/dev/sdb", wipe: true }] })).toEqual([
      "osds-golf: /dev/sdb is listed twice; one entry per device says whether it may be wiped",
    ]);
    expect(osds({ devices: [{ device: "/dev/sdb", wipe: true }, { device: "/dev/sdc", wipe: false }, { device: "/dev/sdd" }] })).toEqual([]);
  });

  it("destroy switches: refused only when an environment marker says production", () => {
    const marker = (production: boolean) => resource(ENVIRONMENT_MARKER_TYPE, { name: "lab", production }, [], "lab");
    const switches = [
      resource("pulumi-nodejs:dynamic/proxmox:Cluster", { dissolveOnDelete: true }, [], "cluster"),
      resource("pulumi-nodejs:dynamic/k3s:Cluster", { uninstallOnDestroy: true }, [], "k3s"),
      resource("proxmoxve:index/vmLegacy:VmLegacy", { deleteUnreferencedDisksOnDestroy: true, purgeOnDestroy: true, stopOnDestroy: true }, [], "vm"),
    ];
    expect(destroySwitchViolations([marker(true), ...switches])).toEqual([
      "cluster (pulumi-nodejs:dynamic/proxmox:Cluster): dissolveOnDelete is on in a production environment; set it false (or mark the environment production: false)",
      "k3s (pulumi-nodejs:dynamic/k3s:Cluster): uninstallOnDestroy is on in a production environment; set it false (or mark the environment production: false)",
      "vm (proxmoxve:index/vmLegacy:VmLegacy): deleteUnreferencedDisksOnDestroy is on in a production environment; set it false (or mark the environment production: false)",
    ]);
    expect(destroySwitchViolations([marker(false), ...switches])).toEqual([]);
    expect(destroySwitchViolations(switches)).toEqual([]);
    expect(destroySwitchViolations([marker(true), resource("pulumi-nodejs:dynamic/ceph:Pool", { destroyOnDelete: false })])).toEqual([]);
  });

  it("secrets: a secret-named property or key material must be in additionalSecretOutputs", () => {
    const dyn = "pulumi-nodejs:dynamic/k3s:Cluster";
    expect(plainSecretViolations(resource(dyn, { kubeconfig: "apiVersion: v1", token: "K10" }, ["token"], "k"))).toEqual([
      "k (pulumi-nodejs:dynamic/k3s:Cluster): kubeconfig holds a secret but kubeconfig is not in additionalSecretOutputs",
    ]);
    expect(plainSecretViolations(resource(dyn, { nodes: [{ name: "a", rootPassword: "x" }] }, [], "k"))).toEqual([
      "k (pulumi-nodejs:dynamic/k3s:Cluster): nodes[0].rootPassword holds a secret but nodes is not in additionalSecretOutputs",
    ]);
    expect(plainSecretViolations(resource("pulumi-nodejs:dynamic/node:RemoteFile", { content: PRIVATE_KEY }, [], "f"))).toEqual([
      "f (pulumi-nodejs:dynamic/node:RemoteFile): content holds key material in plain text; make it a secret listed in additionalSecretOutputs",
    ]);
    // Complying: declared, not secrets by name (tokenName, passwordLogin), or a provider's own credentials.
    expect(plainSecretViolations(resource(dyn, { kubeconfig: "x", token: "y", tokenName: "pulumi", passwordLogin: false }, ["kubeconfig", "token"]))).toEqual([]);
    expect(plainSecretViolations(resource("pulumi-nodejs:dynamic/node:RemoteFile", { content: PRIVATE_KEY }, ["content"]))).toEqual([]);
    expect(plainSecretViolations(resource("pulumi:providers:linode", { token: "abc" }))).toEqual([]);
  });
});

describe("the policies as the engine calls them", () => {
  const byName = (name: string) => POLICIES.find((p) => p.name === name)!;
  const args = (type: string, props: Record<string, unknown>, aso: string[] = []) =>
    ({ type, name: "r", urn: `urn:pulumi:s::p::${type}::r`, props, opts: { additionalSecretOutputs: aso } }) as unknown as ResourceValidationArgs;

  it("has one policy per rule, all mandatory", () => {
    expect(POLICIES.map((p) => [p.name, p.enforcementLevel])).toEqual([
      ["proxmox-cluster-quorum", "mandatory"],
      ["ceph-osd-wipe-per-device", "mandatory"],
      ["no-destroy-switches-in-production", "mandatory"],
      ["no-plain-secret-inputs", "mandatory"],
      ["no-plain-secret-outputs", "mandatory"],
    ]);
    expect(fs.existsSync(path.join(policyPackPath(), "PulumiPolicy.yaml"))).toBe(true);
    expect(fs.readFileSync(path.join(policyPackPath(), "PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
  });

  it("reports through reportViolation, for resources and for the stack", async () => {
    const reported: string[] = [];
    const report = (m: string) => reported.push(m);
    const quorum = byName("proxmox-cluster-quorum") as ResourceValidationPolicy;
    await (quorum.validateResource as (a: ResourceValidationArgs, r: typeof report) => void)(args(TYPES.cluster, { nodes: [{}, {}] }), report);
    expect(reported).toHaveLength(1);
    const secrets = byName("no-plain-secret-inputs") as ResourceValidationPolicy;
    await (secrets.validateResource as (a: ResourceValidationArgs, r: typeof report) => void)(args("pulumi-nodejs:dynamic/x:Y", { token: "t" }, ["token"]), report);
    expect(reported).toHaveLength(1);
    const production = byName("no-destroy-switches-in-production") as StackValidationPolicy;
    const stack = [args(ENVIRONMENT_MARKER_TYPE, { production: true }), args("pulumi-nodejs:dynamic/ceph:Pool", { destroyOnDelete: true })];
    await production.validateStack({ resources: stack as unknown as EngineResource[], getConfig: () => ({}) } as never, report);
    expect(reported[1]).toMatch(/^r \(pulumi-nodejs:dynamic\/ceph:Pool\): destroyOnDelete is on in a production environment/);
  });
});

describe("programs under mocks", () => {
  it("our reference stacks comply, every registration checked in and out", async () => {
    for (const stack of ["matrix", "ms01", "linode", "pifarm"]) {
      const run = await settled(await runStack(path.join(ROOT, `Pulumi.${stack}.yaml`), runProgram));
      expect(run.registrations.length, stack).toBeGreaterThan(10);
      expect(violations(run.registrations), stack).toEqual([]);
    }
  }, 240_000);

  it("a production environment registers its marker, and complies with its switches off", async () => {
    const text = fs.readFileSync(MATRIX, "utf8").replace("    name: matrix\n", "    name: matrix\n    production: true\n");
    const file = path.join(tmp, "Pulumi.matrix.yaml");
    fs.writeFileSync(file, text);
    const run = await settled(await runStack(file, runProgram));
    const marker = run.byType(ENVIRONMENT_MARKER_TYPE);
    expect(marker.map((m) => m.rawInputs)).toEqual([{ name: "matrix", production: true }]);
    expect(violations(run.registrations)).toEqual([]);
  }, 120_000);

  it("a cluster of 2 nodes is refused unless allowed", async () => {
    const cluster = (allowSmallCluster: boolean) => () =>
      new ProxmoxClusterMembership("pair", {
        clusterName: "pair",
        nodes: [
          { connection: connection("a"), links: links(1) },
          { connection: connection("b"), links: links(2) },
        ],
        sshPrivateKey: pulumi.secret("k"),
        rootPassword: pulumi.secret("p"),
        allowSmallCluster,
      });
    expect(violations(await mocked(cluster(false)))).toEqual([
      "pair: a Proxmox cluster of 2 nodes (2 votes) loses quorum when one member fails; add members or a QDevice, or set allowSmallCluster: true",
    ]);
    expect(violations(await mocked(cluster(true)))).toEqual([]);
  }, 60_000);

  it("an OSD device with a wipe that is not the device's own boolean is refused", async () => {
    const osds = (wipe: unknown) => () =>
      new CephOsds("osds-a", { connection: connection("a"), sshPrivateKey: pulumi.secret("k"), devices: [{ device: "/dev/sdb", wipe: wipe as boolean }] });
    expect(violations(await mocked(osds("no")))).toEqual(['osds-a: /dev/sdb has wipe: "no"; only wipe: true (a boolean) on the device itself zaps it']);
    expect(violations(await mocked(osds(true)))).toEqual([]);
  }, 60_000);

  it("a destroy switch is refused in a production environment only", async () => {
    const program = (production: boolean) => () => {
      new EnvironmentMarker("lab", { name: "lab", production });
      new CephOsds("osds-a", { connection: connection("a"), sshPrivateKey: pulumi.secret("k"), devices: [{ device: "/dev/sdb" }], destroyOnDelete: true });
    };
    expect(violations(await mocked(program(true)))).toEqual([
      "osds-a (pulumi-nodejs:dynamic/ceph:Osds): destroyOnDelete is on in a production environment; set it false (or mark the environment production: false)",
    ]);
    expect(violations(await mocked(program(false)))).toEqual([]);
  }, 60_000);

  it("key material in a plain input, or a secret output the resource does not declare, is refused", async () => {
    const file = (content: string) => () =>
      new RemoteFile("key-file", { connection: connection("a"), sshPrivateKey: pulumi.secret("k"), path: "/root/.ssh/id_ed25519", content });
    expect(violations(await mocked(file(PRIVATE_KEY)))).toEqual([
      "key-file (pulumi-nodejs:dynamic/node:RemoteFile): content holds key material in plain text; make it a secret listed in additionalSecretOutputs",
      "key-file (pulumi-nodejs:dynamic/node:RemoteFile): content holds key material in plain text; make it a secret listed in additionalSecretOutputs",
    ]);
    expect(violations(await mocked(file("ssh-ed25519 AAAA ops@lab\n")))).toEqual([]);

    // A provider that returns a kubeconfig it never declared secret.
    const leaky: pulumi.dynamic.ResourceProvider = { create: async () => ({ id: "x", outs: {} }) };
    const state: StateFor = (type, name, inputs) => (type === "pulumi-nodejs:dynamic/test:Leaky" ? { ...inputs, kubeconfig: "apiVersion: v1" } : defaultState(type, name, inputs));
    class Leaky extends pulumi.dynamic.Resource {
      constructor(aso: string[]) {
        super(leaky, "leaky", { kubeconfig: undefined }, { additionalSecretOutputs: aso }, "test", "Leaky");
      }
    }
    const program = (aso: string[]) => () => new Leaky(aso);
    expect(violations(await mocked(program([]), state), state)).toEqual([
      "leaky (pulumi-nodejs:dynamic/test:Leaky): kubeconfig holds a secret but kubeconfig is not in additionalSecretOutputs",
    ]);
    expect(violations(await mocked(program(["kubeconfig"]), state), state)).toEqual([]);
  }, 60_000);
});

describe("production in the stack file", () => {
  it("is refused with a destroy switch on, by path, before any resource", () => {
    const text = fs.readFileSync(MATRIX, "utf8");
    const raw = (YAML.parse(text) as { config: Record<string, Record<string, unknown>> }).config["homelab:environment"];
    const env = { ...raw, production: true, cluster: { ...(raw.cluster as object), dissolveOnDelete: true }, ceph: { ...(raw.ceph as object), destroyOnDelete: true } };
    expect(() => parseEnvironment(env, { sshPrivateKey: "k", rootPasswords: { foxtrot: "p" } })).toThrow(
      /cluster\.dissolveOnDelete: a destroy switch on a production environment[\s\S]*ceph\.destroyOnDelete: a destroy switch on a production environment/,
    );
    expect(() => parseEnvironment({ ...env, production: false }, { sshPrivateKey: "k", rootPasswords: { foxtrot: "p" } })).not.toThrow();
  });
});
