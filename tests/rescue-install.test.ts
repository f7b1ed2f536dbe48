/**
 * The rescue install provider against a simulated VPS in rescue mode: the
 * pinned image written to its disk, read back and the host rebooted; a
 * second run writes nothing; a wrong checksum and an installed system are
 * refused, naming the host, before anything is written.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RESCUE_INSTALL_PROVIDER_VERSION, rescueInstallProvider, type RescueInstallInputs } from "../infra/providers/talos/rescue-install";
import { talosDiskImageUrl } from "../stacks/layers/talos";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

const talosImage = createRequire(__filename)("./sim/fakes/talos-image.cjs") as {
  image(url: string): { xz: Buffer; raw: Buffer; xzSha256: string; rawSha256: string } | null;
};

const SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
const URL = talosDiskImageUrl(SCHEMATIC, "v1.11.5", "metal");
const DISK_BYTES = 1024 * 1024;

let sim: SimCluster;

beforeAll(async () => {
  sim = await startSimCluster([
    { name: "vps1", distro: "debian", rescue: { disks: { "/dev/sda": DISK_BYTES } } },
    { name: "vps2", distro: "debian", rescue: { disks: { "/dev/sda": DISK_BYTES }, active: false } },
  ]);
}, 60_000);

afterAll(async () => {
  await sim?.stop();
});

/** The tool log is the package fakes' memory and is never cleared: each test reads from its own start. */
let mark = 0;
beforeEach(async () => {
  // A host the previous test rebooted is back before this one connects.
  await sim.rebootsDone();
  mark = sim.toolLog().length;
});

const inputs = (node: string, over: Partial<RescueInstallInputs> = {}): RescueInstallInputs => ({
  ...simConnection(sim, node),
  providerVersion: RESCUE_INSTALL_PROVIDER_VERSION,
  imageUrl: URL,
  imageSha256: talosImage.image(URL)!.xzSha256,
  disk: "/dev/sda",
  ...over,
});

const diskFile = (node: string) => sim.readState().rescue![node].disks["/dev/sda"].file;
const tools = (node: string, tool: string) => sim.toolLog().slice(mark).filter((t) => t.node === node && t.tool === tool);
const writes = (node: string) => tools(node, "dd").filter((t) => t.argv.some((a) => a.startsWith("of=")));

describe("rescue install", () => {
  it("writes the pinned image to the disk with dd (fsync), reads it back, and reboots", async () => {
    const image = talosImage.image(URL)!;
    const result = await rescueInstallProvider.create!(inputs("vps1"));
    expect(result.id).toBe("vps1:/dev/sda");
    expect(result.outs).toMatchObject({ diskSha256: image.rawSha256, imageBytes: image.raw.length });
    const disk = fs.readFileSync(diskFile("vps1"));
    expect(disk.length).toBe(DISK_BYTES);
    expect(disk.subarray(0, image.raw.length).equals(image.raw)).toBe(true);
    expect(writes("vps1").map((t) => t.argv)).toEqual([["of=/dev/sda", "bs=4M", "conv=fsync", "status=none"]]);
    expect(tools("vps1", "reboot")).toHaveLength(1);
    expect(tools("vps1", "curl").map((t) => t.argv.at(-1))).toEqual([URL]);
  });

  it("a second run on a disk that holds the image writes nothing", async () => {
    await rescueInstallProvider.create!(inputs("vps1"));
    expect(writes("vps1")).toEqual([]);
    // read back, not assumed: the disk was read with dd
    expect(tools("vps1", "dd").length).toBeGreaterThan(0);
  });

  it("read reports what the disk holds; a changed disk is drift", async () => {
    const { id, outs } = await rescueInstallProvider.create!(inputs("vps1"));
    // The create rebooted the host: read once it is back (the simulated host boots into rescue again).
    await sim.rebootsDone();
    // a refresh right after create reports no change
    const fresh = await rescueInstallProvider.read!(id, outs);
    expect(fresh).toEqual({ id, props: outs });
    expect(fresh.props).toMatchObject({ diskSha256: talosImage.image(URL)!.rawSha256 });
    const fd = fs.openSync(diskFile("vps1"), "r+");
    fs.writeSync(fd, Buffer.from("scribbled"), 0, 9, 0);
    fs.closeSync(fd);
    const drifted = await rescueInstallProvider.read!(id, outs);
    expect(drifted.props!.diskSha256).not.toBe(outs!.diskSha256);
  });

  it("a wrong checksum fails naming the host and both digests, and writes nothing", async () => {
    const wrong = "0".repeat(64);
    const before = fs.readFileSync(diskFile("vps1"));
    await expect(rescueInstallProvider.create!(inputs("vps1", { imageSha256: wrong }))).rejects.toThrow(
      new RegExp(`^vps1: sha256sum /tmp/talos-image\\.raw\\.xz: the image from ${URL.replace(/[.]/g, "\\.")} has sha256 ${talosImage.image(URL)!.xzSha256}, not the pinned ${wrong}; nothing was written$`),
    );
    expect(writes("vps1")).toEqual([]);
    expect(tools("vps1", "reboot")).toEqual([]);
    expect(fs.readFileSync(diskFile("vps1")).equals(before)).toBe(true);
  });

  it("a disk that does not exist is refused naming the host and the disk", async () => {
    await expect(rescueInstallProvider.create!(inputs("vps1", { disk: "/dev/vdb" }))).rejects.toThrow(/^vps1: disk \/dev\/vdb not found \(blockdev --getsize64 \/dev\/vdb exited 1: blockdev: cannot open \/dev\/vdb: No such file or directory\)$/);
    expect(tools("vps1", "curl")).toEqual([]);
  });

  it("a host that is not in rescue mode is refused before anything is downloaded or written", async () => {
    await expect(rescueInstallProvider.create!(inputs("vps2"))).rejects.toThrow(/^vps2: not in rescue mode \(the root filesystem is ext4, on a disk, not in memory\); boot the provider's rescue system first/);
    expect(tools("vps2", "curl")).toEqual([]);
    expect(writes("vps2")).toEqual([]);
    expect(tools("vps2", "reboot")).toEqual([]);
  });

  it("diff replaces on a new image or disk, and changes nothing otherwise", async () => {
    const olds = { ...inputs("vps1"), diskSha256: "x", imageBytes: 1 };
    expect(await rescueInstallProvider.diff!("id", olds, inputs("vps1"))).toMatchObject({ changes: false, replaces: [] });
    expect(await rescueInstallProvider.diff!("id", olds, inputs("vps1", { imageSha256: "1".repeat(64) }))).toMatchObject({ changes: true, replaces: ["imageSha256"] });
    expect(await rescueInstallProvider.diff!("id", olds, inputs("vps1", { disk: "/dev/vda" }))).toMatchObject({ changes: true, replaces: ["disk"] });
  });
});
