/**
 * GuestHostKey against the simulated cluster, run from its serialized text as
 * the engine runs it: the VM's SSH host key read through the guest agent
 * once cloud-init has finished, so the first SSH connection already pins it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { GUEST_HOST_KEY_PROVIDER_VERSION, GuestHostKeyInputs, GuestHostKeyOutputs } from "../infra/providers/proxmox/guest-host-key";
import { openSshFingerprint } from "../infra/ssh";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;
let provider: pulumi.dynamic.ResourceProvider;

function inputs(vmid: number, extra: Partial<GuestHostKeyInputs> = {}): GuestHostKeyInputs {
  return { ...simConnection(sim, "foxtrot"), providerVersion: GUEST_HOST_KEY_PROVIDER_VERSION, vmid, name: `vm${vmid}`, timeoutSeconds: 20, pollSeconds: 1, ...extra };
}

/** A running clone on `node` with the agent enabled; `guest` adds fake-agent knobs. */
function addVm(node: string, vmid: number, guest: Record<string, unknown> = {}): void {
  sim.addGuest(node, vmid, `vm${vmid}`, { status: "running" });
  sim.mutateState((s) => {
    const g = s.nodes[node].guests[String(vmid)] as unknown as Record<string, unknown>;
    g.config = { agent: "1", net0: "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0", ipconfig0: "ip=dhcp" };
    Object.assign(g, { startedAt: Math.floor(Date.now() / 1000) }, guest);
  });
}

const fileReads = () =>
  sim
    .commandLog()
    .map((e) => e.command)
    .filter((c) => c.includes("/agent/file-read"));

/** The key the fake guest generated, as the agent hands it out. */
async function guestKeyLine(node: string, vmid: number): Promise<string> {
  const r = await sim.exec(node, `pvesh get /nodes/${node}/qemu/${vmid}/agent/file-read --file /etc/ssh/ssh_host_ed25519_key.pub --output-format json`);
  return (JSON.parse(r.stdout) as { content: string }).content.trim();
}

beforeAll(async () => {
  provider = serializeProvider("infra/providers/proxmox/guest-host-key.ts", "guestHostKeyProvider").load();
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf" }]);
  seedQuorateCluster(sim, "matrix", ["foxtrot", "golf"]);
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.clearLog());

describe("GuestHostKey", () => {
  it("reads the VM's ed25519 key through the agent, on whatever node runs it, and pins its fingerprint", async () => {
    addVm("golf", 400);
    const { id, outs } = await provider.create!(inputs(400));
    const line = await guestKeyLine("golf", 400);
    expect(id).toBe("vm/400/host-key");
    expect(outs).toMatchObject({ publicKey: line, hostKey: openSshFingerprint(line) });
    expect((outs as GuestHostKeyOutputs).hostKey).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fileReads()).toEqual([
      "LC_ALL=C pvesh get /nodes/golf/qemu/400/agent/file-read --file /var/lib/cloud/instance/boot-finished --output-format json",
      "LC_ALL=C pvesh get /nodes/golf/qemu/400/agent/file-read --file /etc/ssh/ssh_host_ed25519_key.pub --output-format json",
    ]);
  });

  it("waits for cloud-init to finish before reading (cloud-init replaces the image's keys)", async () => {
    addVm("foxtrot", 401, { cloudInitSeconds: 2 });
    const { outs } = await provider.create!(inputs(401));
    expect(outs.hostKey).toBe(openSshFingerprint(await guestKeyLine("foxtrot", 401)));
    const checks = fileReads().filter((c) => c.includes("boot-finished"));
    expect(checks.length).toBeGreaterThan(1);
  });

  it("gives up after the timeout naming the VM and what it waited for", async () => {
    addVm("foxtrot", 402, { cloudInitSeconds: 3600 });
    await expect(provider.create!(inputs(402, { timeoutSeconds: 2 }))).rejects.toThrow(
      "foxtrot: VM 402 (vm402): no host key through the guest agent within 2 s; last answer: cloud-init has not finished (no /var/lib/cloud/instance/boot-finished)",
    );
  });

  it("refuses a VM without the agent, naming it", async () => {
    addVm("golf", 403);
    sim.mutateState((s) => {
      (s.nodes.golf.guests["403"] as unknown as { config: Record<string, string> }).config.agent = "0";
    });
    await expect(provider.create!(inputs(403))).rejects.toThrow("foxtrot: VM 403 (vm403) has no QEMU guest agent configured (agent: enabled=1), so its host key cannot be read");
  });

  it("sees a reinstalled guest's new key on refresh, and a gone VM as gone", async () => {
    addVm("golf", 404);
    const { id, outs } = await provider.create!(inputs(404));
    sim.mutateState((s) => {
      (s.nodes.golf.guests["404"] as unknown as Record<string, unknown>).hostKeySeed = "reinstalled";
    });
    const read = await provider.read!(id, outs);
    expect(read.props.hostKey).not.toBe(outs.hostKey);
    expect(read.props.hostKey).toBe(openSshFingerprint(await guestKeyLine("golf", 404)));
    sim.mutateState((s) => {
      delete s.nodes.golf.guests["404"];
    });
    expect((await provider.read!(id, outs)).id).toBe("");
  });
});
