/**
 * GuestAddress against the simulated cluster: the bounded wait for a VM's
 * guest agent to report an address, asked through the API from any member.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GUEST_ADDRESS_PROVIDER_VERSION, GuestAddressInputs, guestAddressProvider } from "../infra/providers/proxmox/guest-address";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;
const MAC = "BC:24:11:AA:BB:CC";

function inputs(vmid: number, extra: Partial<GuestAddressInputs> = {}): GuestAddressInputs {
  return {
    ...simConnection(sim, "foxtrot"),
    providerVersion: GUEST_ADDRESS_PROVIDER_VERSION,
    vmid,
    name: `vm${vmid}`,
    mac: MAC,
    timeoutSeconds: 30,
    pollSeconds: 1,
    ...extra,
  };
}

/** A running clone on `node` with the agent enabled; `guest` adds fake-agent knobs. */
function addVm(node: string, vmid: number, config: Record<string, string> = {}, guest: Record<string, unknown> = {}): void {
  sim.addGuest(node, vmid, `vm${vmid}`, { status: "running" });
  sim.mutateState((s) => {
    const g = s.nodes[node].guests[String(vmid)] as unknown as Record<string, unknown>;
    g.config = { agent: "1", net0: `virtio=${MAC},bridge=vmbr0`, ipconfig0: "ip=dhcp", ...config };
    Object.assign(g, guest);
  });
}

function agentQueries(): string[] {
  return sim
    .commandLog()
    .map((e) => e.command)
    .filter((c) => c.includes("/agent/network-get-interfaces"));
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf" }, { name: "hotel" }]);
  seedQuorateCluster(sim, "matrix", ["foxtrot", "golf", "hotel"]);
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.clearLog());

describe("GuestAddress", () => {
  it("finds the VM on another node and returns its DHCP address on net0, changing nothing", async () => {
    addVm("golf", 300);
    const { id, outs } = await guestAddressProvider.create!(inputs(300));
    expect(id).toBe("vm/300");
    expect(outs).toMatchObject({ runsOn: "golf", address: "10.99.1.51", addresses: ["10.99.1.51"] });
    const commands = sim.commandLog().map((e) => e.command);
    expect(commands.every((c) => /^LC_ALL=C pvesh get /.test(c))).toBe(true);
    expect(agentQueries()).toEqual(["LC_ALL=C pvesh get /nodes/golf/qemu/300/agent/network-get-interfaces --output-format json"]);
  });

  it("waits for the configured static address", async () => {
    addVm("hotel", 301, { ipconfig0: "ip=192.168.3.50/24,gw=192.168.3.1" });
    const { outs } = await guestAddressProvider.create!(inputs(301, { expected: "192.168.3.50" }));
    expect(outs!.address).toBe("192.168.3.50");
  });

  it("keeps asking while the agent starts, then returns", async () => {
    addVm("golf", 302, {}, { agentBootSeconds: 2 });
    const { outs } = await guestAddressProvider.create!(inputs(302));
    expect(outs!.address).toBe("10.99.1.53");
    expect(agentQueries().length).toBeGreaterThan(1);
  });

  it("gives up after the timeout with the node, the VMID and the agent's last answer", async () => {
    addVm("golf", 303, {}, { agentInstalled: false });
    await expect(guestAddressProvider.create!(inputs(303, { timeoutSeconds: 2 }))).rejects.toThrow(
      /^golf: VM 303 \(vm303\): no IPv4 address from the guest agent within 2 s; last answer: QEMU guest agent is not running$/,
    );
    // bounded: at most timeout / poll + 1 questions
    expect(agentQueries().length).toBeLessThanOrEqual(3);
  });

  it("says which address the guest has when it is not the configured one", async () => {
    addVm("golf", 304, { ipconfig0: "ip=192.168.3.60/24" });
    await expect(guestAddressProvider.create!(inputs(304, { expected: "192.168.3.61", timeoutSeconds: 1 }))).rejects.toThrow(
      /last answer: it has 192\.168\.3\.60, expected 192\.168\.3\.61$/,
    );
  });

  it("fails at once for a VM without the agent configured, or one that does not exist", async () => {
    addVm("golf", 305, { agent: "0" });
    await expect(guestAddressProvider.create!(inputs(305))).rejects.toThrow(
      /^foxtrot: VM 305 \(vm305\) has no QEMU guest agent configured/,
    );
    expect(agentQueries()).toHaveLength(1);
    await expect(guestAddressProvider.create!(inputs(399))).rejects.toThrow(/^foxtrot: VM 399 \(vm399\) does not exist in the cluster$/);
  });

  it("read sees a new lease, keeps the last address while the agent is silent, and reports a deleted VM", async () => {
    addVm("hotel", 306);
    const created = await guestAddressProvider.create!(inputs(306));
    const [id, outs] = [created.id, created.outs!];
    const lease = (ip: string) => [{ name: "eth0", "hardware-address": MAC.toLowerCase(), "ip-addresses": [{ "ip-address": ip, "ip-address-type": "ipv4", prefix: 24 }] }];
    sim.mutateState((s) => {
      (s.nodes.hotel.guests["306"] as unknown as Record<string, unknown>).agentInterfaces = lease("10.99.7.7");
    });
    const moved = await guestAddressProvider.read!(id, outs);
    expect(moved.props).toMatchObject({ address: "10.99.7.7", addresses: ["10.99.7.7"] });
    sim.mutateState((s) => {
      (s.nodes.hotel.guests["306"] as unknown as Record<string, unknown>).agentInstalled = false;
    });
    expect((await guestAddressProvider.read!(id, moved.props!)).props!.address).toBe("10.99.7.7");
    sim.mutateState((s) => {
      delete s.nodes.hotel.guests["306"];
    });
    expect((await guestAddressProvider.read!(id, moved.props!)).id).toBe("");
  });

  it("diff: a new VMID replaces; a lost static address makes it wait again", async () => {
    addVm("golf", 307, { ipconfig0: "ip=192.168.3.70/24" });
    const created = await guestAddressProvider.create!(inputs(307, { expected: "192.168.3.70" }));
    const [id, outs] = [created.id, created.outs!];
    expect(await guestAddressProvider.diff!(id, outs, inputs(307, { expected: "192.168.3.70" }))).toMatchObject({ changes: false });
    expect(await guestAddressProvider.diff!(id, outs, inputs(308, { expected: "192.168.3.70" }))).toMatchObject({ changes: true, replaces: ["vmid"] });
    expect(await guestAddressProvider.diff!(id, { ...outs, address: "10.99.1.58" }, inputs(307, { expected: "192.168.3.70" }))).toMatchObject({ changes: true, replaces: [] });
  });

  it("works after serialization, the way the engine runs it", async () => {
    addVm("golf", 309);
    const provider = serializeProvider("infra/providers/proxmox/guest-address.ts", "guestAddressProvider").load();
    const { outs } = await provider.create!(inputs(309));
    expect(outs.address).toBe("10.99.1.60");
  });
});
