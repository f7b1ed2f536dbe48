import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMAGE_CATALOG } from "../infra/images";
import {
  templateInputsHash,
  CLOUD_TEMPLATE_PROVIDER_VERSION,
  cloudTemplateProvider,
  CloudTemplateInputs,
  CloudTemplateOutputs,
  DEFAULT_TEMPLATE_HARDWARE,
} from "../infra/providers/proxmox/cloud-template";
import { parseQmConfig, templateDescription } from "../infra/parse/qm";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx7example admin@laptop";

function inputs(node: string, vmid: number, image: keyof typeof IMAGE_CATALOG, over: Partial<CloudTemplateInputs> = {}): CloudTemplateInputs {
  const img = IMAGE_CATALOG[image];
  return {
    ...simConnection(sim, node),
    providerVersion: CLOUD_TEMPLATE_PROVIDER_VERSION,
    vmid,
    name: `${image}-template`,
    imagePath: `/root/images/${img.fileName}`,
    imageChecksum: img.url,
    storage: "local-lvm",
    bridge: "vmbr0",
    diskSize: "32G",
    hardware: { ...DEFAULT_TEMPLATE_HARDWARE },
    ciUser: img.defaultUser,
    sshKeys: [KEY],
    ipconfig0: "ip=dhcp",
    tags: img.tags,
    ...over,
  };
}

/** The provider's create with its outputs typed (they are always returned). */
async function create(i: CloudTemplateInputs): Promise<{ id: string; outs: CloudTemplateOutputs }> {
  const r = await cloudTemplateProvider.create(i);
  return { id: r.id, outs: r.outs as CloudTemplateOutputs };
}

const MUTATING = /\bqm (create|importdisk|disk import|set|resize|disk resize|template|destroy)\b|mktemp/;
const mutating = () => sim.commandLog().filter((c) => MUTATING.test(c.command)).map((c) => c.command);

async function qmConfig(node: string, vmid: number): Promise<Record<string, string>> {
  const r = await sim.exec(node, `qm config ${vmid}`);
  expect(r.code).toBe(0);
  return parseQmConfig(r.stdout);
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot", pveVersion: "8.4.14" }, { name: "golf", pveVersion: "9.1.1" }, { name: "hotel", pveVersion: "8.2.4" }]);
  for (const node of ["foxtrot", "golf", "hotel"]) {
    const files = Object.values(IMAGE_CATALOG).map((i) => `/root/images/${i.fileName}`);
    const r = await sim.exec(node, `mkdir -p /root/images && for f in ${files.join(" ")}; do truncate -s 10G "$f"; done && truncate -s 12G /root/images/rocky9-new.img`);
    expect(r.code).toBe(0);
  }
  // foxtrot and golf form a cluster (VMIDs are cluster-wide); hotel stays standalone
  seedQuorateCluster(sim, "lab", ["foxtrot", "golf"]);
}, 120_000);
afterAll(async () => {
  await sim?.stop();
});

describe("CloudTemplate provider against the simulator", () => {
  const built: Record<string, CloudTemplateOutputs> = {};

  it.each([
    ["rocky9", 9000],
    ["rocky10", 9001],
    ["debian12", 9002],
  ] as const)("builds the %s template with the issue's hardware", async (image, vmid) => {
    sim.clearLog();
    const { id, outs } = await create(inputs("foxtrot", vmid, image));
    built[image] = outs;
    expect(id).toBe(String(vmid));
    expect(outs.diskVolume).toBe(`local-lvm:base-${vmid}-disk-1`);
    const conf = await qmConfig("foxtrot", vmid);
    expect(conf).toMatchObject({
      template: "1",
      name: `${image}-template`,
      ostype: "l26",
      memory: "4096",
      balloon: "1",
      agent: "1",
      bios: "ovmf",
      machine: "q35",
      cpu: "host",
      cores: "4",
      numa: "1",
      vga: "serial0",
      serial0: "socket",
      scsihw: "virtio-scsi-pci",
      boot: "order=virtio0",
      ciuser: IMAGE_CATALOG[image].defaultUser,
      ipconfig0: "ip=dhcp",
      tags: IMAGE_CATALOG[image].tags.join(";"),
    });
    expect(conf.efidisk0).toMatch(new RegExp(`^local-lvm:base-${vmid}-disk-0,pre-enrolled-keys=0,size=4M$`));
    expect(conf.virtio0).toBe(`local-lvm:base-${vmid}-disk-1,discard=on,size=32G`);
    expect(conf.scsi1).toBe(`local-lvm:vm-${vmid}-cloudinit,media=cdrom`);
    expect(conf.net0).toMatch(/^virtio=BC:24:11:[0-9A-F:]+,bridge=vmbr0,mtu=1$/);
    expect(decodeURIComponent(conf.sshkeys)).toBe(KEY + "\n");
    expect(conf.description).toContain(`inputs-sha256=${outs.inputsHash}`);
    expect(Object.keys(conf).filter((k) => k.startsWith("unused"))).toEqual([]);
    // each step ran once, in order
    expect(mutating().map((c) => c.replace(/^LC_ALL=C /, "").split(" ").slice(0, 2).join(" "))).toEqual([
      "qm create",
      "qm importdisk",
      "qm set",
      "f=$(mktemp) &&",
      "qm resize",
      "qm template",
    ]);
  });

  it("second run (create after lost state, and update) runs zero mutating commands", async () => {
    sim.clearLog();
    for (const [image, vmid] of [["rocky9", 9000], ["rocky10", 9001], ["debian12", 9002]] as const) {
      const { outs } = await create(inputs("foxtrot", vmid, image));
      expect(outs.inputsHash).toBe(built[image].inputsHash);
      const d = await cloudTemplateProvider.diff!(String(vmid), built[image], inputs("foxtrot", vmid, image));
      expect(d.changes).toBe(false);
      await cloudTemplateProvider.update!(String(vmid), built[image], inputs("foxtrot", vmid, image));
    }
    expect(sim.commandLog().length).toBeGreaterThan(0);
    expect(mutating()).toEqual([]);
  });

  it("a changed image replaces the template (diff) and the rebuild uses the new image", async () => {
    const changed = inputs("foxtrot", 9000, "rocky9", { imagePath: "/root/images/rocky9-new.img", imageChecksum: "sha256:" + "a".repeat(64) });
    const d = await cloudTemplateProvider.diff!("9000", built.rocky9, changed);
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual(expect.arrayContaining(["imagePath", "imageChecksum"]));
    expect(d.deleteBeforeReplace).toBe(true);
    const hw = await cloudTemplateProvider.diff!("9000", built.rocky9, inputs("foxtrot", 9000, "rocky9", { hardware: { ...DEFAULT_TEMPLATE_HARDWARE, cores: 8 } }));
    expect(hw.replaces).toEqual(["hardware"]);
    // connection-only changes never replace
    const conn = inputs("foxtrot", 9000, "rocky9");
    conn.connection = { ...conn.connection, options: { connectTimeoutMs: 9999 } };
    const c = await cloudTemplateProvider.diff!("9000", built.rocky9, conn);
    expect(c.replaces).toEqual([]);
    expect(c.changes).toBe(true);
    // the preview's unknown replaces too
    const unk = await cloudTemplateProvider.diff!("9000", built.rocky9, { ...inputs("foxtrot", 9000, "rocky9"), imagePath: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" });
    expect(unk.replaces).toEqual(["imagePath"]);

    // deleteBeforeReplace: delete then create
    await cloudTemplateProvider.delete!("9000", built.rocky9);
    const { outs } = await create(changed);
    expect(outs.inputsHash).not.toBe(built.rocky9.inputsHash);
    const conf = await qmConfig("foxtrot", 9000);
    expect(conf.virtio0).toBe("local-lvm:base-9000-disk-1,discard=on,size=32G");
    expect(conf.description).toContain(outs.inputsHash);
    built.rocky9 = outs;
  });

  it("a VMID held by a foreign VM is refused and left untouched", async () => {
    sim.addGuest("foxtrot", 9100, "database", { status: "running" });
    sim.addGuest("golf", 9101, "web");
    const before = await qmConfig("foxtrot", 9100);
    sim.clearLog();
    await expect(create(inputs("foxtrot", 9100, "debian12"))).rejects.toThrow(
      /^foxtrot: VMID 9100 is already used by VM "database" \(not built by homelab\); refusing to touch it/,
    );
    await expect(create(inputs("foxtrot", 9101, "debian12"))).rejects.toThrow(
      /^foxtrot: VMID 9101 is already used by VM "web" on node 'golf'/,
    );
    // delete of a resource whose VMID now holds a foreign guest refuses too
    await expect(cloudTemplateProvider.delete!("9100", { ...built.debian12, vmid: 9100 })).rejects.toThrow(/VMID 9100 is already used by VM "database"/);
    expect(mutating()).toEqual([]);
    expect(await qmConfig("foxtrot", 9100)).toEqual(before);
    expect((await sim.exec("golf", "qm status 9101")).stdout).toBe("status: stopped\n");
  });

  it("read reports drift: gone when destroyed by hand, replace when rebuilt by hand", async () => {
    const r = await cloudTemplateProvider.read!("9002", built.debian12);
    expect(r.id).toBe("9002");
    expect(r.props?.inputsHash).toBe(built.debian12.inputsHash);
    // rebuilt by hand from other inputs (our marker, another hash): refresh records it, diff replaces
    await sim.exec("foxtrot", `qm set 9002 --description '${templateDescription("b".repeat(64))}'`);
    const drifted = await cloudTemplateProvider.read!("9002", built.debian12);
    expect(drifted.props?.inputsHash).toBe("b".repeat(64));
    const d = await cloudTemplateProvider.diff!("9002", drifted.props as CloudTemplateOutputs, inputs("foxtrot", 9002, "debian12"));
    expect(d.replaces).toEqual(["inputsHash"]);
    // the marker removed by hand: no longer ours, read says gone
    await sim.exec("foxtrot", "qm set 9002 --description 'hand made'");
    const foreign = await cloudTemplateProvider.read!("9002", built.debian12);
    expect(foreign.id).toBe("");
    await sim.exec("foxtrot", "qm destroy 9002 --purge");
    const gone = await cloudTemplateProvider.read!("9002", built.debian12);
    expect(gone.id).toBe("");
    // delete of a gone template is a no-op
    sim.clearLog();
    await cloudTemplateProvider.delete!("9002", built.debian12);
    expect(mutating()).toEqual([]);
  });

  it("a build that fails after qm create removes its half-built VM and says so; one left by a dead apply is rebuilt", async () => {
    const args = inputs("golf", 9200, "debian12");
    sim.mutateState((s) => {
      const st = s as unknown as { sim: { failQmTemplate?: number[] } };
      st.sim.failQmTemplate = [9200];
    });
    sim.clearLog();
    const err = await create(args).then(
      () => undefined,
      (e: Error) => e.message,
    );
    // Judged by the VM read back, not by stderr; the error quotes what qm template said.
    expect(err).toMatch(
      /^golf: building template "debian12-template" \(VMID 9200\) failed: golf: qm template 9200 exited 0 but VM 9200 is not a template afterwards; qm template said: lvrename 'pve\/vm-9200-disk-0' to 'pve\/base-9200-disk-0' failed: simulated/,
    );
    expect(err).toContain("\n  undone: the half-built VM 9200 was removed (qm destroy 9200 --purge)");
    expect(mutating().map((c) => c.replace(/^LC_ALL=C /, "").split(" ").slice(0, 2).join(" ")).at(-1)).toBe("qm destroy");
    expect((await sim.exec("golf", "qm config 9200")).code).toBe(255);

    // an apply that died midway (no chance to undo) leaves a half-built VM with our marker: rebuilt
    const made = await sim.exec("golf", `qm create 9200 --name debian12-template --description '${templateDescription(templateInputsHash(args))}'`);
    expect(made.code).toBe(0);
    sim.clearLog();
    const { outs } = await create(args);
    const cmds = mutating().map((c) => c.replace(/^LC_ALL=C /, "").split(" ").slice(0, 2).join(" "));
    expect(cmds[0]).toBe("qm destroy");
    expect(cmds[1]).toBe("qm create");
    const conf = await qmConfig("golf", 9200);
    expect(conf.template).toBe("1");
    expect(conf.virtio0).toMatch(/^local-lvm:base-9200-disk-\d,discard=on,size=32G$/);
    expect(outs.diskVolume).toMatch(/^local-lvm:base-9200-disk-\d$/);
  });

  it("a failed disk import (after qm create made the VM and its EFI disk) is undone", async () => {
    sim.injectFault({ node: "golf", match: "qm importdisk 9500", mode: "fail-once", exitCode: 5, stderr: "storage full" });
    sim.clearLog();
    await expect(create(inputs("golf", 9500, "rocky9"))).rejects.toThrow(
      /^golf: building template "rocky9-template" \(VMID 9500\) failed: golf: qm importdisk failed \(exit 5\): storage full[\s\S]*\n {2}undone: the half-built VM 9500 was removed/,
    );
    sim.clearFaults();
    expect(mutating().map((c) => c.replace(/^LC_ALL=C /, "").split(" ").slice(0, 2).join(" "))).toEqual(["qm create", "qm importdisk", "qm destroy"]);
    expect((await sim.exec("golf", "qm config 9500")).code).toBe(255);
    expect((await sim.exec("golf", "pvesm list local-lvm")).stdout).not.toContain("9500");
  });

  it("accepts the pre-8.2.7 importdisk output (PVE 8.2 node)", async () => {
    const r = await sim.exec("hotel", "qm create 9300 --name t && truncate -s 1G /root/x.img && qm importdisk 9300 /root/x.img local-lvm && qm destroy 9300 --purge");
    expect(r.stdout).toContain("Successfully imported disk as 'unused0:local-lvm:vm-9300-disk-0'");
    const { outs } = await create(inputs("hotel", 9301, "rocky10"));
    expect(outs.diskVolume).toBe("local-lvm:base-9301-disk-1");
  });

  it("checks the image, the storage and the bridge before the first change, naming every one missing", async () => {
    sim.clearLog();
    await expect(create(inputs("golf", 9400, "rocky9", { imagePath: "/root/images/missing.img" }))).rejects.toThrow(
      'golf: template "rocky9-template" (VMID 9400) cannot be built; nothing was changed: ' +
        "image /root/images/missing.img is not on the node (has its download finished?)",
    );
    await expect(create(inputs("golf", 9400, "rocky9", { imagePath: "/root/images/missing.img", storage: "nvme_pool", bridge: "vmbr7" }))).rejects.toThrow(
      'golf: template "rocky9-template" (VMID 9400) cannot be built; nothing was changed: ' +
        "image /root/images/missing.img is not on the node (has its download finished?); " +
        "storage 'nvme_pool' does not exist (storages: local, local-lvm); bridge vmbr7 does not exist on the node",
    );
    expect(mutating()).toEqual([]);
    expect((await sim.exec("golf", "qm config 9400")).code).toBe(255);
    const { outs } = await create(inputs("golf", 9400, "rocky9"));
    expect(outs.inputsHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("passes a vendor snippet as cicustom and refuses to shrink the image", async () => {
    const { outs } = await create(inputs("golf", 9600, "debian12", { vendorSnippet: "local:snippets/homelab-qemu-guest-agent.yaml" }));
    expect((await qmConfig("golf", 9600)).cicustom).toBe("vendor=local:snippets/homelab-qemu-guest-agent.yaml");
    expect(outs.vendorSnippet).toBe("local:snippets/homelab-qemu-guest-agent.yaml");
    await expect(create(inputs("golf", 9601, "debian12", { diskSize: "8G" }))).rejects.toThrow(
      /^golf: building template "debian12-template" \(VMID 9601\) failed: golf: qm resize failed \(exit 255\): shrinking disks is not supported[\s\S]*undone: the half-built VM 9601 was removed/,
    );
    expect((await sim.exec("golf", "qm config 9601")).code).toBe(255);
  });

  it("check rejects a bad vmid, disk size or relative image path", async () => {
    const r = await cloudTemplateProvider.check!({} as CloudTemplateInputs, { ...inputs("golf", 99, "rocky9"), diskSize: "32GB", imagePath: "images/x.img" });
    expect(r.failures?.map((f) => f.property)).toEqual(["vmid", "diskSize", "imagePath"]);
    const ok = await cloudTemplateProvider.check!({} as CloudTemplateInputs, inputs("golf", 9000, "rocky9"));
    expect(ok.failures).toEqual([]);
  });

  it("delete destroys only our template", async () => {
    sim.clearLog();
    await cloudTemplateProvider.delete!("9400", (await create(inputs("golf", 9400, "rocky9"))).outs);
    expect(mutating().map((c) => c.replace(/^LC_ALL=C /, ""))).toEqual(["qm destroy 9400 --purge"]);
    expect((await sim.exec("golf", "qm config 9400")).code).toBe(255);
  });

  it("survives serialization the way the engine runs it", async () => {
    const serialized = serializeProvider("infra/providers/proxmox/cloud-template.ts", "cloudTemplateProvider");
    expect(serialized.containsSecrets).toBe(false);
    expect(serialized.text).not.toContain("PRIVATE KEY");
    const provider = serialized.load();
    const { id, outs } = await provider.create(inputs("golf", 9500, "rocky10"));
    expect(id).toBe("9500");
    // module constants survived (an exported const read as exports.X would be lost): same hash as in-process
    expect(outs.inputsHash).toBe(templateInputsHash(inputs("golf", 9500, "rocky10")));
    expect(outs.diskVolume).toBe("local-lvm:base-9500-disk-1");
    sim.clearLog();
    await provider.create(inputs("golf", 9500, "rocky10"));
    expect(mutating()).toEqual([]);
  }, 60_000);
});
