/**
 * SdnApply against simulated nodes over real SSH: zones, VNets and subnets
 * are written the way the API writes them (pending until applied); the apply
 * runs `pvesh set /cluster/sdn` once when something is pending, reads the
 * pending state back, and a re-run with nothing pending runs nothing that
 * changes a node. Refresh shows changes made behind its back as pending.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeConnection } from "../infra/providers/connection";
import { SDN_APPLY_PROVIDER_VERSION, sdnApplyProvider, type SdnApplyInputs, type SdnApplyOutputs } from "../infra/providers/proxmox/sdn-apply";
import { failure } from "./helpers/failure";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";

const FAST = { connectTimeoutMs: 2000, retries: 0, retryBaseDelayMs: 50 };
const APPLY = "LC_ALL=C pvesh set /cluster/sdn";

let sim: SimCluster;

function connection(name: string): NodeConnection {
  const n = sim.node(name);
  return { node: name, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST };
}

function inputs(config = "dev"): SdnApplyInputs {
  return { providerVersion: SDN_APPLY_PROVIDER_VERSION, nodes: [connection("sdn1")], sshPrivateKey: sim.clientPrivateKey, config };
}

/** What the native zone, VNet and subnet resources do through the API. */
async function writeNetwork(name: string, cidr: string): Promise<void> {
  for (const cmd of [
    `pvesh create /cluster/sdn/zones --zone ${name} --type simple --dhcp dnsmasq --ipam pve`,
    `pvesh create /cluster/sdn/vnets --vnet ${name} --zone ${name}`,
    `pvesh create /cluster/sdn/vnets/${name}/subnets --subnet ${cidr} --type subnet --gateway ${cidr.replace(/0\/24$/, "1")} --snat 1`,
  ]) {
    const r = await sim.exec("sdn1", cmd);
    expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
  }
}

function applies(): number {
  return sim.commandLog().filter((e) => e.command === APPLY).length;
}

function mutating(): string[] {
  return sim
    .commandLog()
    .map((e) => e.command)
    .filter((c) => !c.startsWith("LC_ALL=C pvesh get "));
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "sdn1" }]);
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("SdnApply", () => {
  it("applies the pending zone, VNet and subnet once, and reads the pending state back empty", async () => {
    await writeNetwork("dev", "10.60.0.0/24");
    const pending = await sim.exec("sdn1", "pvesh get /cluster/sdn/zones --pending 1 --output-format json");
    expect(JSON.parse(pending.stdout)).toEqual([expect.objectContaining({ zone: "dev", type: "simple", state: "new" })]);
    sim.clearLog();
    const { outs } = (await sdnApplyProvider.create(inputs())) as { outs: SdnApplyOutputs };
    expect(outs).toMatchObject({ pending: [], applied: true });
    expect(applies()).toBe(1);
    expect(mutating()).toEqual([APPLY]);
    const after = await sim.exec("sdn1", "pvesh get /cluster/sdn/vnets/dev/subnets --pending 1 --output-format json");
    expect(JSON.parse(after.stdout)).toEqual([expect.not.objectContaining({ state: expect.anything() })]);
  });

  it("runs nothing that changes the node when nothing is pending (a re-run, or a config change already applied)", async () => {
    sim.clearLog();
    const { outs } = (await sdnApplyProvider.create(inputs())) as { outs: SdnApplyOutputs };
    expect(outs).toMatchObject({ pending: [], applied: false });
    const updated = await sdnApplyProvider.update!("sdn-apply", outs, inputs("dev, changed"));
    expect(updated.outs).toMatchObject({ applied: false });
    expect(mutating()).toEqual([]);
    expect(sim.commandLog().length).toBeGreaterThan(0);
  });

  it("shows a network added behind its back as pending on refresh, and the next run applies it once", async () => {
    await writeNetwork("lab", "10.61.0.0/24");
    const { outs } = (await sdnApplyProvider.create(inputs())) as { outs: SdnApplyOutputs };
    void outs;
    await sim.exec("sdn1", "pvesh create /cluster/sdn/zones --zone late --type simple");
    const refreshed = await sdnApplyProvider.read!("sdn-apply", { ...inputs(), pending: [], applied: false });
    expect(refreshed.props!.pending).toEqual(["zone late (new)"]);
    const diff = await sdnApplyProvider.diff!("sdn-apply", refreshed.props as SdnApplyOutputs, inputs());
    expect(diff.changes).toBe(true);
    // Through the serialized provider, as the engine runs it.
    const provider = serializeProvider("infra/providers/proxmox/sdn-apply.ts", "sdnApplyProvider").load();
    sim.clearLog();
    const again = await provider.update!("sdn-apply", refreshed.props, inputs());
    expect(again.outs).toMatchObject({ pending: [], applied: true });
    expect(applies()).toBe(1);
  });

  it("fails naming the node and the command when the apply fails, and the next run applies what is still pending", async () => {
    await sim.exec("sdn1", "pvesh create /cluster/sdn/zones --zone stuck --type simple");
    sim.injectFault({ node: "sdn1", match: "pvesh set /cluster/sdn", mode: "fail-once", exitCode: 255, stderr: "could not commit SDN config" });
    const err = await failure(sdnApplyProvider.create(inputs()));
    expect(err.message).toBe("sdn1: pvesh set failed (exit 255): could not commit SDN config\n  command: LC_ALL=C pvesh set /cluster/sdn");
    sim.clearFaults();
    const refreshed = await sdnApplyProvider.read!("sdn-apply", { ...inputs(), pending: [], applied: false });
    expect(refreshed.props!.pending).toEqual(["zone stuck (new)"]);
    const { outs } = (await sdnApplyProvider.create(inputs())) as { outs: SdnApplyOutputs };
    expect(outs).toMatchObject({ pending: [], applied: true });
  });
});
