/**
 * The ordering promise, at the component level under Pulumi mocks: with the
 * node component ordered after the EnvironmentGate, every resource that
 * changes a node (its facts, and the baseline ordered after the facts) is
 * created only after the gate has read every node. Also: the gate's key is a
 * secret input and output.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { NodeBaseline } from "../components/node-baseline";
import { ProxmoxNode } from "../components/proxmox-node";
import type { NodeConnection } from "../infra/providers/connection";
import { EnvironmentGate } from "../infra/providers/proxmox/environment-gate";
import { orderedAfter } from "./helpers/ordering";
import { isSecretValue, runStack, StackRun } from "./helpers/pulumi-mocks";

const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "environment-gate-wiring-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");
const KEY = "fake-ssh-private-key-for-mock-tests";

function conn(node: string, i: number): NodeConnection {
  return { node, host: `10.0.0.${i}`, port: 22, user: "root", hostKey: "SHA256:abc" };
}

/** Two nodes wired the way the environment wires them, gated; one more left ungated to show the check can fail. */
let stackRun: Promise<StackRun> | undefined;
function run(): Promise<StackRun> {
  stackRun ??= runStack(STACK_FILE, () => {
    const nodes = [conn("alpha", 11), conn("bravo", 12)];
    const gate = new EnvironmentGate("env-gate", { nodes, sshPrivateKey: KEY, clusterName: "lab" });
    const urns = [gate.urn];
    for (const connection of [...nodes, conn("ungated", 13)]) {
      const gated = connection.node === "ungated" ? [] : [gate];
      const facts = new ProxmoxNode(`env-${connection.node}`, { access: { connection, sshPrivateKey: KEY } }, { dependsOn: gated });
      const baseline = new NodeBaseline(
        `env-${connection.node}-baseline`,
        { access: { connection, sshPrivateKey: KEY }, pveMajor: 8, packages: ["jq"], hosts: [], users: [] },
        { dependsOn: [facts] },
      );
      urns.push(facts.urn, baseline.urn);
    }
    // A plain Debian node marked for an install: Proxmox VE first, then its facts, both after the gate.
    const debian = conn("debian1", 14);
    const installGate = new EnvironmentGate("install-gate", { nodes: [debian], sshPrivateKey: KEY, pveInstalls: { debian1: 9 } });
    const installed = new ProxmoxNode(
      "inst-debian1",
      { access: { connection: debian, sshPrivateKey: KEY }, install: { pveMajor: 9, address: "10.0.0.14", rebootTimeoutSeconds: 900 } },
      { dependsOn: [installGate] },
    );
    urns.push(installGate.urn, installed.urn);
    return { urns };
  });
  return stackRun;
}

const GATE = "pulumi-nodejs:dynamic/proxmox:EnvironmentGate";

describe("EnvironmentGate wiring", () => {
  it("orders every resource of a gated node after the gate, and the check sees an ungated one", async () => {
    const r = await run();
    const gate = r.byType(GATE).filter((g) => g.name === "env-gate");
    expect(gate).toHaveLength(1);
    const onNode = (node: string) =>
      r.registrations.filter((x) => x.custom && x.type !== GATE && x.name.startsWith(`env-${node}-`));
    for (const node of ["alpha", "bravo", "ungated"]) expect(onNode(node).length).toBeGreaterThanOrEqual(5);
    for (const node of ["alpha", "bravo"]) {
      const unordered = onNode(node).filter((x) => !orderedAfter(r.registrations, x.urn, gate[0].urn)).map((x) => x.name);
      expect(unordered, node).toEqual([]);
    }
    expect(onNode("ungated").filter((x) => orderedAfter(r.registrations, x.urn, gate[0].urn))).toEqual([]);
  });

  it("installs Proxmox VE on a marked Debian node after the gate and before its facts; the gate knows the node is to be installed", async () => {
    const r = await run();
    const gate = r.byType(GATE).find((g) => g.name === "install-gate")!;
    expect(gate.rawInputs.pveInstalls).toEqual({ debian1: 9 });
    const install = r.byType("pulumi-nodejs:dynamic/proxmox:PveInstall");
    expect(install.map((x) => x.name)).toEqual(["inst-debian1-install"]);
    expect(install[0].rawInputs).toMatchObject({ pveMajor: 9, address: "10.0.0.14", rebootTimeoutSeconds: 900 });
    expect(isSecretValue(install[0].rawInputs.sshPrivateKey)).toBe(true);
    const facts = r.registrations.find((x) => x.name === "inst-debian1-facts")!;
    expect(orderedAfter(r.registrations, install[0].urn, gate.urn)).toBe(true);
    expect(orderedAfter(r.registrations, facts.urn, install[0].urn)).toBe(true);
  });

  it("keeps the SSH key secret in the gate's inputs and outputs", async () => {
    const gate = (await run()).byType(GATE).find((g) => g.name === "env-gate")!;
    expect(isSecretValue(gate.rawInputs.sshPrivateKey)).toBe(true);
    expect(gate.additionalSecretOutputs).toContain("sshPrivateKey");
    expect(gate.rawInputs.clusterName).toBe("lab");
  });
});
