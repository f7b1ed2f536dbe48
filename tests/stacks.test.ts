/**
 * The real program, run for each reference stack file under Pulumi mocks:
 * what gets registered, in which order, and what stays secret.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runProgram } from "../stacks/program";
import { allStrings, isSecretValue, prepareStack, Registration, runStack, StackRun } from "./helpers/pulumi-mocks";

const ROOT = path.resolve(__dirname, "..");

const STACKS = {
  matrix: ["foxtrot", "golf", "hotel"],
  ms01: ["frege", "russell", "wittgenstein"],
} as const;

const runs = new Map<string, StackRun>();
async function run(stack: keyof typeof STACKS): Promise<StackRun> {
  if (!runs.has(stack)) runs.set(stack, await runStack(path.join(ROOT, `Pulumi.${stack}.yaml`), runProgram));
  return runs.get(stack)!;
}

describe.each(Object.keys(STACKS) as (keyof typeof STACKS)[])("stack %s", (stack) => {
  it("registers one Proxmox node component per configured node, each checking its facts over SSH", async () => {
    const r = await run(stack);
    const nodes = r.byType("homelab:proxmox:Node");
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
      const leaked = allStrings(unwrap(reg.rawInputs)).filter((s) => s.includes("mock-secret:"));
      expect(leaked, `${reg.type} ${reg.name}`).toEqual([]);
    }
    for (const [name, value] of Object.entries(r.outputs)) {
      if (r.secretOutputs[name]) continue;
      expect(allStrings(value).filter((s) => s.includes("mock-secret:")), `output ${name}`).toEqual([]);
    }
  });

  it("exports each node's address and Proxmox version", async () => {
    const r = await run(stack);
    const nodes = r.outputs.nodes as Record<string, { address: string; pveVersion: string }>;
    expect(Object.keys(nodes).sort()).toEqual([...STACKS[stack]].sort());
    for (const n of Object.values(nodes)) expect(n.pveVersion).toBe("8.4.14");
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
