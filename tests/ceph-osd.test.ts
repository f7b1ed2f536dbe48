/**
 * The Ceph OSD provider driven directly (create/read/diff/update/delete)
 * against the simulated cluster over real SSH. The Proxmox cluster and the
 * Ceph base (install, init, three monitors) are set up directly in the fakes'
 * state and with unlogged `sim.exec` calls, so the command log only shows
 * what the provider ran.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CEPH_OSDS_PROVIDER_VERSION,
  CephOsdsInputs,
  CephOsdsOutputs,
  OsdDeviceSpec,
  cephOsdsProvider,
  osdDrift,
  osdInputProblems,
  planOsds,
} from "../infra/providers/ceph/ceph-osd";
import { cephConfFsid, describeContents, hostsWithOsds, parseCrushRules, parseLsblkTree, parseOsdTreeJson, parseVolumeList } from "../infra/parse/ceph-osd";
import { CEPH_POOL_PROVIDER_VERSION, cephPoolProvider } from "../infra/providers/ceph/ceph-pool";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { seedQuorateCluster } from "./helpers/sim-state";
import { failure } from "./helpers/failure";

const FAST = { connectTimeoutMs: 3000, retries: 1, retryBaseDelayMs: 50 };
const NODES = ["o1", "o2", "o3"];
/** Commands that change disks or OSDs. */
const MUTATING = /pveceph osd (create|destroy)|ceph-volume lvm zap|\bwipefs\b|\bsgdisk\b|\bosd (out|in)\b|systemctl stop/;

let sim: SimCluster;

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A quorate PVE cluster of the nodes plus Ceph installed, initialised and a monitor on each. */
async function cephBase(s: SimCluster, names: string[], clusterName: string): Promise<void> {
  seedQuorateCluster(s, clusterName, names);
  names.forEach((n, i) => s.setAddresses(n, [s.node(n).host, `10.10.0.${i + 1}`]));
  for (const n of names) {
    const r = await s.exec(n, "pveceph install --repository no-subscription --version squid </dev/null");
    if (r.code !== 0) throw new Error(`${n}: pveceph install: ${r.stderr}`);
  }
  const init = await s.exec(names[0], "pveceph init --network 10.10.0.0/24");
  if (init.code !== 0) throw new Error(`pveceph init: ${init.stderr}`);
  for (const n of names) {
    const r = await s.exec(n, "pveceph mon create");
    if (r.code !== 0) throw new Error(`${n}: pveceph mon create: ${r.stderr}`);
  }
}

function inputs(node: string, devices: OsdDeviceSpec[], extra: Partial<CephOsdsInputs> = {}): CephOsdsInputs {
  const n = sim.node(node);
  return {
    providerVersion: CEPH_OSDS_PROVIDER_VERSION,
    connection: { node, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST },
    sshPrivateKey: sim.clientPrivateKey,
    devices,
    upTimeoutSeconds: 10,
    pollIntervalSeconds: 0.1,
    ...extra,
  };
}

const NVME: OsdDeviceSpec[] = [
  { device: "/dev/nvme0n1", osdsPerDevice: 2, deviceClass: "nvme" },
  { device: "/dev/nvme1n1", osdsPerDevice: 2, deviceClass: "nvme" },
];

function mutating(): { node: string; command: string }[] {
  return sim
    .commandLog()
    .filter((e) => MUTATING.test(e.command))
    .map((e) => ({ node: e.node, command: e.command }));
}

async function create(i: CephOsdsInputs): Promise<CephOsdsOutputs> {
  return ((await cephOsdsProvider.create!(i)) as { outs: CephOsdsOutputs }).outs;
}

async function tree(node = "o1") {
  return parseOsdTreeJson(await sh(node, "ceph osd tree -f json"), node);
}

beforeAll(async () => {
  sim = await startSimCluster(NODES.map((name) => ({ name })));
  await cephBase(sim, NODES, "lab");
  for (const n of NODES) {
    sim.setDisks(n, [
      { name: "nvme0n1" },
      { name: "nvme1n1" },
      { name: "sdb", partitions: [{ fstype: "ext4" }, { fstype: "xfs" }] },
      { name: "sdc" },
      { name: "sdd", lvm: "vg-backup" },
    ]);
  }
  // o2 also has disks that a config names by /dev/disk/by-id link (see the by-id tests).
  sim.setDisks("o2", [
    { name: "nvme0n1" },
    { name: "nvme1n1" },
    { name: "sdb", partitions: [{ fstype: "ext4" }, { fstype: "xfs" }] },
    { name: "sdc" },
    { name: "sdd", lvm: "vg-backup" },
    { name: "nvme2n1", model: "Samsung SSD 990 PRO 2TB", serial: "S7DNNJ0X123456" },
    { name: "sdf", model: "WDC WD40EFRX-68N32N0", serial: "WD-WCC7K1234567", partitions: 2 },
  ]);
  // o3/sde: an OSD left over from another Ceph cluster (ceph-volume lists it, with another fsid).
  const oldFsid = "0b5e0f3a-0000-4000-8000-00000000dead";
  sim.setDisks("o3", [
    { name: "nvme0n1" },
    { name: "nvme1n1" },
    { name: "sdc" },
    // a data disk with a separate DB and WAL device (the DB/WAL tests)
    { name: "sdg" },
    { name: "nvme3n1", size: 256_060_514_304 },
    { name: "nvme4n1", size: 128_035_676_160 },
    {
      name: "sde",
      lvm: {
        vg: "ceph-0ld",
        lvs: [
          {
            name: "osd-block-0ld",
            size: 400_000_000_000,
            tags: { "ceph.osd_id": "7", "ceph.type": "block", "ceph.cluster_fsid": oldFsid, "ceph.osd_fsid": "x", "ceph.crush_device_class": "" },
          } as { name: string; size: number },
        ],
      },
    },
  ]);
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

describe("input validation (no SSH)", () => {
  it("refuses osdsPerDevice > 1 with a DB device, naming node and device", () => {
    const p = osdInputProblems("o1", [{ device: "/dev/nvme0n1", osdsPerDevice: 2, dbDevice: "/dev/nvme1n1" }]);
    expect(p).toEqual([expect.stringContaining("o1: device /dev/nvme0n1: osdsPerDevice 2 cannot be combined with dbDevice")]);
  });

  it("refuses a non-/dev path, duplicates and a bad class", () => {
    const p = osdInputProblems("o1", [{ device: "nvme0n1" }, { device: "/dev/sdb", deviceClass: "NVMe!" }, { device: "/dev/sdb" }]);
    expect(p.join("\n")).toMatch(/device "nvme0n1" is not a \/dev\/ path/);
    expect(p.join("\n")).toMatch(/\/dev\/sdb is listed twice/);
    expect(p.join("\n")).toMatch(/deviceClass "NVMe!"/);
  });

  it("check() reports the problems as failures before anything runs", async () => {
    const r = await cephOsdsProvider.check!({} as CephOsdsInputs, inputs("o1", [{ device: "/dev/nvme0n1", osdsPerDevice: 2, walDevice: "/dev/sdc" }]));
    expect(r.failures).toEqual([{ property: "devices", reason: expect.stringContaining("cannot be combined with walDevice") }]);
  });

  it("create refuses invalid input without running a command", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("o1", [{ device: "/dev/nvme0n1", osdsPerDevice: 2, dbDevice: "/dev/sdc" }])));
    expect(err.message).toMatch(/o1: device \/dev\/nvme0n1: osdsPerDevice 2 cannot be combined with dbDevice/);
    expect(sim.commandLog()).toEqual([]);
  });

  it("describes what is on a device", () => {
    const lsblk = parseLsblkTree(
      JSON.stringify({
        blockdevices: [
          { name: "/dev/sdb", type: "disk", size: 10, fstype: null, mountpoint: null, children: [{ name: "/dev/sdb1", type: "part", size: 5, fstype: "ext4", mountpoint: "/srv" }] },
        ],
      }),
      "x",
    );
    const d = describeContents(lsblk[0]);
    expect(d.what[0]).toBe("a partition table (1 partition: /dev/sdb1)");
    expect(d.mounted).toEqual(["/dev/sdb1 mounted at /srv"]);
  });

  it("parses `{}` from ceph-volume as no OSDs", () => {
    expect(parseVolumeList("{}\n", "x")).toEqual([]);
  });

  it("parses ceph JSON after its leading empty line", () => {
    const t = parseOsdTreeJson(
      '\n{"nodes":[{"id":-1,"name":"default","type":"root","children":[-3]},{"id":-3,"name":"golf","type":"host","children":[1,0]},{"id":0,"device_class":"nvme","name":"osd.0","type":"osd","status":"up","reweight":1},{"id":1,"device_class":"ssd","name":"osd.1","type":"osd","status":"down","reweight":0}],"stray":[]}\n',
      "x",
    );
    expect(t).toEqual([
      { id: 0, host: "golf", deviceClass: "nvme", up: true, in: true },
      { id: 1, host: "golf", deviceClass: "ssd", up: false, in: false },
    ]);
    expect(hostsWithOsds(t, "nvme")).toEqual(["golf"]);
    expect(hostsWithOsds(t, "hdd")).toEqual([]);
    const rules = parseCrushRules('\n[{"rule_id":1,"rule_name":"replicated_nvme","type":1,"steps":[{"op":"take","item":-1,"item_name":"default~nvme"},{"op":"chooseleaf_firstn","num":0,"type":"host"},{"op":"emit"}]}]\n', "x");
    expect(rules).toEqual([{ id: 1, name: "replicated_nvme", deviceClass: "nvme", failureDomain: "host" }]);
    expect(cephConfFsid("[global]\n\tauth_client_required = cephx\n\tfsid = 5e9d058e-1f60\n")).toBe("5e9d058e-1f60");
  });

  it("refuses garbage instead of JSON, naming the node and tool", () => {
    expect(() => parseVolumeList("No valid Ceph lvm devices found", "golf")).toThrow(/golf: ceph-volume lvm list did not print JSON/);
  });
});

describe("OSDs on 3 nodes × 2 NVMe × 2 OSDs", () => {
  let outs: Record<string, CephOsdsOutputs> = {};

  it("creates 12 OSDs, all up, class nvme", async () => {
    sim.clearLog();
    outs = {};
    for (const n of NODES) outs[n] = await create(inputs(n, NVME));
    const ids = NODES.flatMap((n) => outs[n].osdIds);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    for (const n of NODES) {
      expect(outs[n].osds.map((o) => [o.device, o.ids.length, o.deviceClass, o.up])).toEqual([
        ["/dev/nvme0n1", 2, "nvme", 2],
        ["/dev/nvme1n1", 2, "nvme", 2],
      ]);
    }
    const t = await tree();
    expect(t.filter((o) => o.up)).toHaveLength(12);
    expect(new Set(t.map((o) => o.host))).toEqual(new Set(NODES));
    const creates = mutating().filter((m) => /pveceph osd create/.test(m.command));
    expect(creates).toHaveLength(6);
    expect(creates[0].command).toContain("pveceph osd create /dev/nvme0n1 --crush-device-class nvme --osds-per-device 2");
    // Nothing else was touched.
    expect(mutating().filter((m) => !/pveceph osd create/.test(m.command))).toEqual([]);
  });

  it("a second run performs zero mutating commands", async () => {
    sim.clearLog();
    for (const n of NODES) {
      const again = await create(inputs(n, NVME));
      expect(again.osdIds).toEqual(outs[n].osdIds);
    }
    expect(sim.commandLog().length).toBeGreaterThan(0);
    expect(mutating()).toEqual([]);
  });

  it("with the two matrix pools on top, Ceph reaches HEALTH_OK", async () => {
    const n = sim.node("o1");
    const base = {
      providerVersion: CEPH_POOL_PROVIDER_VERSION,
      connection: { node: "o1", host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST },
      sshPrivateKey: sim.clientPrivateKey,
      size: 3,
      minSize: 2,
      osdHosts: 3,
      autoscale: false,
      application: "rbd",
      addStorage: true,
    };
    await cephPoolProvider.create!({ ...base, name: "vm_ssd", pgNum: 128, deviceClass: "nvme" });
    await cephPoolProvider.create!({ ...base, name: "vm_containers", pgNum: 64 });
    const health = JSON.parse((await sh("o1", "ceph health -f json")).trim()) as { status: string; checks: object };
    expect(health).toMatchObject({ status: "HEALTH_OK", checks: {} });
  });

  it("read reports the OSD ids per device; diff sees no change, then drift", async () => {
    const r = await cephOsdsProvider.read!("o2", outs.o2);
    expect((r.props as CephOsdsOutputs).osds).toEqual(outs.o2.osds);
    const same = await cephOsdsProvider.diff!("o2", r.props as CephOsdsOutputs, inputs("o2", NVME));
    expect(same.changes).toBe(false);
    const drifted = { ...outs.o2, osds: [outs.o2.osds[0], { device: "/dev/nvme1n1", ids: [], deviceClass: "", up: 0 }] };
    expect(osdDrift(drifted, inputs("o2", NVME))).toEqual(["/dev/nvme1n1: no OSD"]);
    expect((await cephOsdsProvider.diff!("o2", drifted, inputs("o2", NVME))).changes).toBe(true);
    const moved = await cephOsdsProvider.diff!("o2", outs.o2, inputs("o3", NVME));
    expect(moved.replaces).toEqual(["connection"]);
  });

  it("refuses a wanted count that differs from the existing OSDs", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("o1", [{ device: "/dev/nvme0n1", osdsPerDevice: 1 }])));
    expect(err.message).toMatch(/o1: \/dev\/nvme0n1 already carries 2 OSD\(s\) .* but osdsPerDevice is 1/);
    expect(mutating()).toEqual([]);
  });
});

describe("foreign data", () => {
  it("refuses a disk with a foreign partition table and changes nothing, not even the clean disk", async () => {
    const before = await sh("o1", "lsblk -J -b -p -o NAME,TYPE,SIZE,FSTYPE,MOUNTPOINT");
    sim.clearLog();
    const err = await failure(create(inputs("o1", [...NVME, { device: "/dev/sdc" }, { device: "/dev/sdb" }, { device: "/dev/sdd" }])));
    expect(err.message).toContain("nothing was changed");
    expect(err.message).toMatch(/o1: \/dev\/sdb carries a partition table \(2 partitions: \/dev\/sdb1, \/dev\/sdb2\).*set wipe: true for \/dev\/sdb/);
    expect(err.message).toMatch(/o1: \/dev\/sdd carries LVM \(1 logical volume/);
    expect(mutating()).toEqual([]);
    expect(sim.commandLog().some((e) => /zap/.test(e.command))).toBe(false);
    expect(await sh("o1", "lsblk -J -b -p -o NAME,TYPE,SIZE,FSTYPE,MOUNTPOINT")).toBe(before);
  });

  it("an OSD of another Ceph cluster is foreign: refused, then zapped with wipe: true", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("o3", [{ device: "/dev/sde" }])));
    expect(err.message).toMatch(/o3: \/dev\/sde carries LVM \(1 logical volume.* and OSD data of another Ceph cluster \(fsid 0b5e0f3a-0000-4000-8000-00000000dead\)/);
    expect(mutating()).toEqual([]);
    const outs = await create(inputs("o3", [{ device: "/dev/sde", wipe: true }]));
    expect(mutating().map((m) => m.command)).toEqual([expect.stringMatching(/ceph-volume lvm zap --destroy \/dev\/sde$/), expect.stringMatching(/pveceph osd create \/dev\/sde$/)]);
    expect(outs.osds[0].ids).toHaveLength(1);
    expect(outs.osds[0].up).toBe(1);
  });

  it("refuses the mounted system disk even with wipe: true", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("o1", [{ device: "/dev/sda", wipe: true }])));
    expect(err.message).toMatch(/o1: \/dev\/sda is in use \(.*mounted at \/.*\); refusing to touch it, even with wipe: true/);
    expect(mutating()).toEqual([]);
  });

  it("with wipe: true zaps the foreign disk and creates the OSD; a re-run does not zap again", async () => {
    sim.clearLog();
    const devices: OsdDeviceSpec[] = [...NVME, { device: "/dev/sdb", wipe: true, deviceClass: "hdd" }];
    const outs = await create(inputs("o1", devices));
    const m = mutating().map((x) => x.command);
    expect(m).toHaveLength(2);
    expect(m[0]).toMatch(/ceph-volume lvm zap --destroy \/dev\/sdb$/);
    expect(m[1]).toMatch(/pveceph osd create \/dev\/sdb --crush-device-class hdd$/);
    expect(outs.osds[2]).toMatchObject({ device: "/dev/sdb", deviceClass: "hdd", up: 1 });
    expect(outs.osds[2].ids).toHaveLength(1);
    sim.clearLog();
    await create(inputs("o1", devices));
    expect(mutating()).toEqual([]);
  });
});

describe("delete", () => {
  it("leaves the OSDs alone by default", async () => {
    const outs = await create(inputs("o2", [...NVME, { device: "/dev/sdc" }]));
    sim.clearLog();
    await cephOsdsProvider.delete!("o2", outs);
    expect(sim.commandLog()).toEqual([]);
    expect((await tree()).some((o) => o.id === outs.osds[2].ids[0])).toBe(true);
  });

  it("destroyOnDelete marks out, stops and destroys the OSDs of the configured devices", async () => {
    const outs = await create(inputs("o3", [{ device: "/dev/sdc" }], { destroyOnDelete: true }));
    const id = outs.osdIds[0];
    sim.clearLog();
    await cephOsdsProvider.delete!("o3", outs);
    const m = mutating().map((x) => x.command);
    expect(m[0]).toMatch(new RegExp(`osd out osd\\.${id}$`));
    expect(m[1]).toBe(`systemctl stop ceph-osd@${id}.service`);
    expect(sim.commandLog().some((e) => e.command.includes(`pveceph osd destroy ${id} --cleanup 1`))).toBe(true);
    expect((await tree()).some((o) => o.id === id)).toBe(false);
    // The other OSDs of o3 (4 NVMe, 1 on sde) are untouched.
    expect((await tree()).filter((o) => o.host === "o3")).toHaveLength(5);
  });
});

describe("plan (pure)", () => {
  it("treats a device with our ceph-volume entries as done even with wipe: true", () => {
    const lsblk = parseLsblkTree(JSON.stringify({ blockdevices: [{ name: "/dev/nvme0n1", type: "disk", size: 1, fstype: "LVM2_member", children: [{ name: "/dev/mapper/ceph--x-osd", type: "lvm", size: 1 }] }] }), "x");
    const volumes = [{ osdId: 4, type: "block", devices: ["/dev/nvme0n1"], deviceClass: "", clusterFsid: "f" }];
    const plan = planOsds("x", [{ device: "/dev/nvme0n1", wipe: true }], { lsblk, volumes, tree: [] });
    expect(plan).toEqual({ problems: [], zap: [], create: [] });
  });
});

describe("serialization", () => {
  it("serializes without secrets and runs create through the loaded provider", async () => {
    const s = serializeProvider("infra/providers/ceph/ceph-osd.ts", "cephOsdsProvider");
    expect(s.containsSecrets).toBe(false);
    expect(s.text).not.toContain("PRIVATE KEY");
    const loaded = s.load();
    sim.clearLog();
    const r = (await loaded.create!(inputs("o2", NVME))) as { id: string; outs: CephOsdsOutputs };
    expect(r.id).toBe("o2");
    expect(r.outs.osdIds).toHaveLength(4);
    expect(mutating()).toEqual([]);
  }, 120_000);
});

describe("devices given as /dev/disk/by-id links", () => {
  const NVME_ID = "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X123456";
  const PART_ID = "/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K1234567-part2";
  const BY_ID: OsdDeviceSpec[] = [
    { device: NVME_ID, deviceClass: "nvme" },
    { device: PART_ID, deviceClass: "hdd" },
  ];

  it("refuses a by-id path that does not exist on the node, naming it, before any change", async () => {
    sim.clearLog();
    const missing = "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X999999";
    const err = await failure(create(inputs("o2", [...BY_ID, { device: missing }])));
    expect(err.message).toContain("nothing was changed");
    expect(err.message).toContain(`o2: ${missing} does not exist on o2; check the path (ls -l /dev/disk/by-id on o2 lists the disks by id;`);
    expect(err.message).not.toContain(NVME_ID);
    expect(mutating()).toEqual([]);
  });

  it("creates the OSDs on the kernel devices the links point to, and reports them under the configured paths", async () => {
    sim.clearLog();
    const outs = await create(inputs("o2", BY_ID));
    expect(mutating().map((m) => m.command.replace(/^LC_ALL=C /, ""))).toEqual([
      "pveceph osd create /dev/nvme2n1 --crush-device-class nvme",
      "pveceph osd create /dev/sdf2 --crush-device-class hdd",
    ]);
    // Each read resolves every link in one command (before planning, and after creating).
    const resolves = sim.commandLog().filter((e) => e.command.includes("readlink"));
    expect(resolves.length).toBeGreaterThan(0);
    expect(new Set(resolves.map((e) => e.command))).toEqual(
      new Set([`for p in ${NVME_ID} ${PART_ID}; do printf '%s\\t%s\\n' "$p" "$(readlink -e -- "$p")"; done`]),
    );
    expect(outs.osds.map((o) => [o.device, o.ids.length, o.deviceClass, o.up])).toEqual([
      [NVME_ID, 1, "nvme", 1],
      [PART_ID, 1, "hdd", 1],
    ]);
    const volumes = parseVolumeList(await sh("o2", "ceph-volume lvm list --format json"), "o2");
    for (const [i, kernel] of [[0, "/dev/nvme2n1"], [1, "/dev/sdf2"]] as const) {
      expect(volumes.find((v) => v.osdId === outs.osds[i].ids[0])?.devices).toEqual([kernel]);
    }
  });

  it("a re-run performs zero mutating commands; read and diff see no drift", async () => {
    sim.clearLog();
    const again = await create(inputs("o2", BY_ID));
    expect(mutating()).toEqual([]);
    const read = (await cephOsdsProvider.read!("o2", again)).props as CephOsdsOutputs;
    expect(read.osds).toEqual(again.osds);
    expect((await cephOsdsProvider.diff!("o2", read, inputs("o2", BY_ID))).changes).toBe(false);
  });

  it("names the link with its kernel device when it refuses, and refuses a link and its kernel name together", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("o2", [{ device: NVME_ID, osdsPerDevice: 2 }, { device: "/dev/nvme2n1" }])));
    expect(err.message).toContain(`o2: /dev/nvme2n1 and ${NVME_ID} are the same device (/dev/nvme2n1); list it once`);
    expect(err.message).toContain(`o2: ${NVME_ID} (nvme2n1) already carries 1 OSD(s)`);
    expect(mutating()).toEqual([]);
  });
});

describe("separate DB and WAL devices", () => {
  const DB_WAL: OsdDeviceSpec[] = [{ device: "/dev/sdg", deviceClass: "hdd", dbDevice: "/dev/nvme3n1", walDevice: "/dev/nvme4n1" }];

  it("creates the OSD with --db_dev and --wal_dev; ceph-volume reads back block, db and wal on the three disks", async () => {
    sim.clearLog();
    const outs = await create(inputs("o3", DB_WAL));
    expect(mutating().map((m) => m.command.replace(/^LC_ALL=C /, ""))).toEqual([
      "pveceph osd create /dev/sdg --crush-device-class hdd --db_dev /dev/nvme3n1 --wal_dev /dev/nvme4n1",
    ]);
    expect(outs.osds).toEqual([{ device: "/dev/sdg", ids: [expect.any(Number)], deviceClass: "hdd", up: 1 }]);
    const id = outs.osds[0].ids[0];
    const volumes = parseVolumeList(await sh("o3", "ceph-volume lvm list --format json"), "o3").filter((v) => v.osdId === id);
    expect(volumes.map((v) => [v.type, v.devices])).toEqual([
      ["block", ["/dev/sdg"]],
      ["db", ["/dev/nvme3n1"]],
      ["wal", ["/dev/nvme4n1"]],
    ]);
    // The DB and WAL disks carry no OSD of their own.
    const raw = JSON.parse(await sh("o3", "ceph-volume lvm list --format json")) as Record<string, { type: string; tags: Record<string, string> }[]>;
    const block = raw[String(id)].find((e) => e.type === "block");
    expect(block?.tags["ceph.db_device"]).toMatch(/^\/dev\/ceph-/);
    expect(block?.tags["ceph.wal_device"]).toMatch(/^\/dev\/ceph-/);
  });

  it("a re-run performs zero mutating commands; read and diff see no drift", async () => {
    sim.clearLog();
    const again = await create(inputs("o3", DB_WAL));
    expect(mutating()).toEqual([]);
    const read = (await cephOsdsProvider.read!("o3", again)).props as CephOsdsOutputs;
    expect(read.osds).toEqual(again.osds);
    expect((await cephOsdsProvider.diff!("o3", read, inputs("o3", DB_WAL))).changes).toBe(false);
  });

  it("refuses a DB device that is not on the node, before any change", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("o3", [{ device: "/dev/sdc", dbDevice: "/dev/nvme9n1" }])));
    expect(err.message).toContain("o3: /dev/sdc: dbDevice /dev/nvme9n1 is not a block device on o3");
    expect(mutating()).toEqual([]);
  });
});
