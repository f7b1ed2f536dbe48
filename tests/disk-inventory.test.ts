/**
 * The disk inventory over real SSH against a simulated node's disks: every
 * disk with its by-id path, size, model, serial, rotational flag and what uses
 * it (partitions, filesystems, LVM, mounts, Ceph OSDs from ceph-volume), read
 * only, refreshed by `read`; the provider loaded from its serialized text.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preferredById } from "../infra/parse/disks";
import { DISK_INVENTORY_PROVIDER_VERSION, diskInventoryProvider, type DiskInventoryOutputs } from "../infra/providers/linux/disk-inventory";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { isMutating } from "./sim/mutating";

let sim: SimCluster;
const OSD_FSID = "0b5e0f3a-0000-4000-8000-0000000000aa";

beforeAll(async () => {
  sim = await startSimCluster([{ name: "d1" }]);
  sim.setDisks("d1", [
    { name: "nvme0n1", model: "Samsung SSD 990 PRO 2TB", serial: "S7DNNJ0X123456", size: 2_000_398_934_016 },
    { name: "sdb", model: "WDC WD40EFRX-68N32N0", serial: "WD-WCC7K1234567", partitions: [{ fstype: "ext4", mountpoint: "/srv" }, { fstype: "xfs" }] },
    { name: "sdd", lvm: "vg-backup" },
    {
      name: "nvme1n1",
      lvm: {
        vg: "ceph-3b1f",
        lvs: [
          {
            name: "osd-block-3b1f",
            size: 900_000_000_000,
            tags: { "ceph.osd_id": "4", "ceph.type": "block", "ceph.cluster_fsid": OSD_FSID, "ceph.osd_fsid": "x", "ceph.crush_device_class": "nvme" },
          } as { name: string; size: number },
        ],
      },
    },
  ]);
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("disk inventory", () => {
  let outs: DiskInventoryOutputs;

  it("lists every disk with its by-id path and what uses it, and changes nothing", async () => {
    const loaded = serializeProvider("infra/providers/linux/disk-inventory.ts", "diskInventoryProvider").load() as typeof diskInventoryProvider;
    sim.clearLog();
    outs = ((await loaded.create!({ providerVersion: DISK_INVENTORY_PROVIDER_VERSION, ...simConnection(sim, "d1") })) as { outs: DiskInventoryOutputs }).outs;
    expect(outs.disks.map((d) => d.device)).toEqual(["/dev/sda", "/dev/nvme0n1", "/dev/sdb", "/dev/sdd", "/dev/nvme1n1"]);
    const by = (dev: string) => outs.disks.find((d) => d.device === dev)!;
    expect(by("/dev/nvme0n1")).toEqual({
      device: "/dev/nvme0n1",
      byId: "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X123456",
      sizeBytes: 2_000_398_934_016,
      model: "Samsung SSD 990 PRO 2TB",
      serial: "S7DNNJ0X123456",
      rotational: false,
      transport: "nvme",
      usedBy: [],
    });
    expect(by("/dev/sda").usedBy).toEqual(expect.arrayContaining([expect.stringMatching(/^a partition table \(3 partitions/), expect.stringMatching(/mounted at \/$/)]));
    expect(by("/dev/sdb")).toMatchObject({ byId: "/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K1234567", rotational: true });
    expect(by("/dev/sdb").usedBy).toEqual([expect.stringMatching(/^a partition table \(2 partitions/), "/dev/sdb1 mounted at /srv"]);
    expect(by("/dev/sdd").usedBy).toEqual([expect.stringMatching(/^LVM \(1 logical volume/)]);
    // Ceph is not installed yet (no ceph-volume): the OSD's LV is only LVM.
    expect(by("/dev/nvme1n1").usedBy).toEqual([expect.stringMatching(/^LVM \(1 logical volume/)]);
    expect(sim.commandLog().filter((e) => isMutating(e.command))).toEqual([]);
  }, 60_000);

  it("with Ceph installed, names the OSD on a disk from ceph-volume", async () => {
    const r = await sim.exec("d1", "pveceph install --repository no-subscription --version squid </dev/null");
    expect(r.code, r.stderr).toBe(0);
    outs = (await diskInventoryProvider.read!("d1", outs)).props as DiskInventoryOutputs;
    expect(outs.disks.find((d) => d.device === "/dev/nvme1n1")!.usedBy).toEqual([expect.stringMatching(/^LVM \(1 logical volume/), "Ceph OSD 4 (block)"]);
  });

  it("read re-reads the disks: a disk added later shows up; diff reports no change of its own", async () => {
    sim.setDisks("d1", [{ name: "nvme0n1", model: "Samsung SSD 990 PRO 2TB", serial: "S7DNNJ0X123456", size: 2_000_398_934_016 }, { name: "sde" }]);
    const read = (await diskInventoryProvider.read!("d1", outs)).props as DiskInventoryOutputs;
    expect(read.disks.map((d) => [d.device, d.usedBy.length === 0])).toEqual([
      ["/dev/sda", false],
      ["/dev/nvme0n1", true],
      ["/dev/sde", true],
    ]);
    expect((await diskInventoryProvider.diff!("d1", read, { providerVersion: DISK_INVENTORY_PROVIDER_VERSION, ...simConnection(sim, "d1") })).changes).toBe(false);
  });

  it("prefers the model and serial link over wwn-", () => {
    expect(preferredById(["disk/by-id/wwn-0x5000c500a1b2c3d4", "disk/by-id/ata-ST4000_ZC1", "disk/by-path/pci-0000:00:17.0-ata-1"])).toBe("/dev/disk/by-id/ata-ST4000_ZC1");
    expect(preferredById([])).toBe("");
  });
});
