/**
 * The policy pack served the way the Pulumi CLI runs it (`--policy-pack
 * stacks/policy`): loaded by the Node.js policy host, asked over the analyzer
 * protocol for its policies and to judge resources and stacks, secrets
 * arriving wrapped as the engine sends them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENVIRONMENT_MARKER_TYPE } from "../components/environment-marker";
import { policyPackPath } from "../stacks/policy/path";
import { POLICIES } from "../stacks/policy/policies";
import { TYPES } from "../stacks/policy/rules";
import { startPolicyAnalyzer, type PolicyAnalyzer } from "./helpers/policy-analyzer";
import { SECRET_SIG } from "./helpers/pulumi-mocks";

const secret = (value: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value });

let pack: PolicyAnalyzer;
beforeAll(async () => {
  pack = await startPolicyAnalyzer(policyPackPath());
}, 120_000);
afterAll(() => pack?.stop());

describe("the policy pack under the policy host", () => {
  it("serves every policy", async () => {
    expect(await pack.policies()).toEqual(POLICIES.map((p) => p.name));
  });

  it("refuses a 2-node cluster and a plain secret, and passes a complying resource", async () => {
    expect(await pack.analyze({ type: TYPES.cluster, name: "pair", properties: { nodes: [{}, {}], rootPassword: "hunter2" } })).toEqual([
      "proxmox-cluster-quorum: pair: a Proxmox cluster of 2 nodes (2 votes) loses quorum when one member fails; add members or a QDevice, or set allowSmallCluster: true",
      "no-plain-secret-inputs: pair (pulumi-nodejs:dynamic/proxmox:Cluster): rootPassword holds a secret but rootPassword is not in additionalSecretOutputs",
    ]);
    const complying = { nodes: [{}, {}, {}], rootPassword: secret("hunter2") };
    expect(await pack.analyze({ type: TYPES.cluster, name: "trio", properties: complying, additionalSecretOutputs: ["rootPassword"] })).toEqual([]);
  });

  it("refuses a wipe that is not the device's own boolean", async () => {
    const osds = (wipe: unknown) => pack.analyze({ type: TYPES.osds, name: "osds-a", properties: { devices: [{ device: "/dev/sdb", wipe }] } });
    expect(await osds("yes")).toEqual(['ceph-osd-wipe-per-device: osds-a: /dev/sdb has wipe: "yes"; only wipe: true (a boolean) on the device itself zaps it']);
    expect(await osds(true)).toEqual([]);
  });

  it("refuses destroy switches in a production stack only", async () => {
    const stack = (production: boolean) =>
      pack.analyzeStack([
        { type: ENVIRONMENT_MARKER_TYPE, name: "lab", properties: { name: "lab", production } },
        { type: "pulumi-nodejs:dynamic/ceph:Pool", name: "vm_ssd", properties: { destroyOnDelete: true } },
      ]);
    expect(await stack(true)).toEqual([
      "no-destroy-switches-in-production: vm_ssd (pulumi-nodejs:dynamic/ceph:Pool): destroyOnDelete is on in a production environment; set it false (or mark the environment production: false)",
    ]);
    expect(await stack(false)).toEqual([]);
  });
});
