/**
 * InstallerEject against the simulated cluster, run from its serialized text
 * as the engine runs it: the installer ISO taken out of an installed VM's
 * cdrom drive on whichever member runs it, read back, and left alone after.
 */
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { INSTALLER_EJECT_PROVIDER_VERSION, type InstallerEjectInputs } from "../infra/providers/proxmox/installer-eject";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { mutatingCommands } from "./sim/mutating";

const ISO = "local:iso/talos-v1.11.5-nocloud-amd64.iso";
let sim: SimCluster;
let provider: pulumi.dynamic.ResourceProvider;

function inputs(vmid: number, extra: Partial<InstallerEjectInputs> = {}): InstallerEjectInputs {
  return {
    providerVersion: INSTALLER_EJECT_PROVIDER_VERSION,
    connections: ["foxtrot", "golf"].map((n) => simConnection(sim, n).connection),
    sshPrivateKey: sim.clientPrivateKey,
    vmid,
    name: `talos-${vmid}`,
    drive: "ide3",
    isoVolid: ISO,
    ...extra,
  };
}

/** An installed Talos VM on `node` whose ide3 still holds the installer. */
function addInstalledVm(node: string, vmid: number): void {
  sim.addGuest(node, vmid, `talos-${vmid}`, { status: "running" });
  sim.mutateState((s) => {
    const g = s.nodes[node].guests[String(vmid)] as unknown as Record<string, unknown>;
    g.config = { boot: "order=virtio0;ide3", ide3: `${ISO},media=cdrom`, virtio0: `local-lvm:vm-${vmid}-disk-0,size=32G` };
  });
}

const qmConfig = async (node: string, vmid: number) => (await sim.exec(node, `qm config ${vmid}`)).stdout;

beforeAll(async () => {
  provider = serializeProvider("infra/providers/proxmox/installer-eject.ts", "installerEjectProvider").load();
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf" }]);
  seedQuorateCluster(sim, "lab", ["foxtrot", "golf"]);
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.clearLog());

describe("InstallerEject", () => {
  it("empties the drive on the member that runs the VM, and reads it back", async () => {
    addInstalledVm("golf", 600);
    const { id, outs } = await provider.create!(inputs(600));
    expect(id).toBe("vm/600/ide3");
    expect(outs.driveValue).toBe("none,media=cdrom");
    expect(await qmConfig("golf", 600)).toMatch(/^ide3: none,media=cdrom$/m);
    expect(mutatingCommands(sim.commandLog()).map((c) => `${c.node}: ${c.command}`)).toEqual(["golf: qm set 600 --ide3 none,media=cdrom"]);
  });

  it("changes nothing on a VM whose drive is already empty, and a refresh sees no change", async () => {
    addInstalledVm("foxtrot", 601);
    const first = await provider.create!(inputs(601));
    sim.clearLog();
    const again = await provider.create!(inputs(601));
    expect(again.outs.driveValue).toBe("none,media=cdrom");
    const read = await provider.read!(first.id, first.outs);
    expect((await provider.diff!(first.id, read.props, inputs(601))).changes).toBe(false);
    expect(mutatingCommands(sim.commandLog())).toEqual([]);
  });

  it("sees the installer put back by hand as drift, and the next update ejects it again", async () => {
    addInstalledVm("golf", 602);
    const { id, outs } = await provider.create!(inputs(602));
    // Put back by hand (the GUI's "Use ISO image").
    sim.mutateState((st) => {
      (st.nodes.golf.guests["602"] as unknown as { config: Record<string, string> }).config.ide3 = `${ISO},media=cdrom`;
    });
    const read = await provider.read!(id, outs);
    expect(read.props.driveValue).toBe(`${ISO},media=cdrom`);
    expect((await provider.diff!(id, read.props, inputs(602))).changes).toBe(true);
    expect((await provider.update!(id, read.props, inputs(602))).outs.driveValue).toBe("none,media=cdrom");
  });

  it("fails naming the VM when it is not in the cluster", async () => {
    await expect(provider.create!(inputs(699))).rejects.toThrow("foxtrot: VM 699 (talos-699) does not exist in the cluster");
  });
});
