import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionArgs } from "../infra/providers/connection";
import { NODE_FACTS_PROVIDER_VERSION, nodeFactsProvider, NodeFactsInputs } from "../infra/providers/proxmox/node-facts";
import { parsePveversion } from "../infra/parse/pveversion";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;

function inputs(name: string, host?: string): NodeFactsInputs {
  const n = sim.node(name);
  const conn: ConnectionArgs = {
    connection: { node: name, host: host ?? n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: { retries: 0 } },
    sshPrivateKey: sim.clientPrivateKey,
  };
  return { ...conn, providerVersion: NODE_FACTS_PROVIDER_VERSION };
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot", pveVersion: "8.4.14" }, { name: "golf", pveVersion: "9.1.1" }]);
});
afterAll(async () => {
  await sim?.stop();
});

describe("NodeFacts provider", () => {
  it("reports the node's Proxmox version and runs only read-only commands", async () => {
    sim.clearLog();
    const { id, outs } = await nodeFactsProvider.create(inputs("golf"));
    expect(id).toBe("golf");
    expect(outs).toMatchObject({ hostname: "golf", pveVersion: "9.1.1", pveRelease: "9.1" });
    expect(sim.commandLog().map((c) => c.command)).toEqual(["hostname", "LC_ALL=C pveversion"]);
  });

  it("refuses a host that is not the configured node (wrong address in config)", async () => {
    const wrong = { ...inputs("foxtrot"), connection: { ...inputs("foxtrot").connection, host: sim.node("golf").host, hostKey: sim.node("golf").hostKeyFingerprint } };
    await expect(nodeFactsProvider.create(wrong)).rejects.toThrow(
      /^foxtrot: the host at .* calls itself "golf"; check nodes\[\]\.address for foxtrot/,
    );
  });

  it("read shows an upgrade done behind our back as changed facts", async () => {
    const { outs } = await nodeFactsProvider.create(inputs("foxtrot"));
    sim.mutateState((s) => {
      s.nodes.foxtrot.pveVersion = "8.4.16";
    });
    const refreshed = await nodeFactsProvider.read!("foxtrot", outs);
    expect(refreshed.props?.pveVersion).toBe("8.4.16");
  });

  it("survives serialization the way the engine runs it", async () => {
    const serialized = serializeProvider("infra/providers/proxmox/node-facts.ts", "nodeFactsProvider");
    expect(serialized.containsSecrets).toBe(false);
    expect(serialized.text).not.toContain("PRIVATE KEY");
    const { outs } = await serialized.load().create(inputs("golf"));
    expect(outs.pveVersion).toBe("9.1.1");
  });
});

describe("parsePveversion", () => {
  it("parses PVE 8 and 9 lines and rejects other text", () => {
    expect(parsePveversion("pve-manager/8.4.14/b502d23c55afcba1 (running kernel: 6.8.12-15-pve)\n")).toEqual({
      version: "8.4.14", release: "8.4", major: 8, kernel: "6.8.12-15-pve",
    });
    expect(parsePveversion("pve-manager/9.2.2/b9984c6d90a4bd80")?.release).toBe("9.2");
    expect(parsePveversion("bash: pveversion: command not found")).toBeUndefined();
  });
});

describe("NodeFacts errors under the engine", () => {
  it("keeps the node name and message when the serialized provider fails to connect", async () => {
    const provider = serializeProvider("infra/providers/proxmox/node-facts.ts", "nodeFactsProvider").load();
    const args = inputs("foxtrot");
    const unreachable = { ...args, connection: { ...args.connection, port: 1, options: { retries: 0, connectTimeoutMs: 1000 } } };
    const err = await provider.create(unreachable).catch((e: Error) => e);
    // The engine reports only `e.message` (cmd/dynamic-provider grpcResponseFromError).
    expect((err as Error).message).toMatch(/^foxtrot: cannot connect to .+:1 after 1 attempt\(s\)/);
    expect((err as Error).name).toBe("NodeUnreachableError");
  });
});
