/**
 * StorageContent against the simulated cluster: `snippets` added to `local`
 * once, kept on re-runs, drift seen by read, and clear refusals.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { STORAGE_CONTENT_PROVIDER_VERSION, StorageContentInputs, storageContentProvider } from "../infra/providers/proxmox/storage-content";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;

function inputs(extra: Partial<StorageContentInputs> = {}): StorageContentInputs {
  return { ...simConnection(sim, "foxtrot"), providerVersion: STORAGE_CONTENT_PROVIDER_VERSION, storage: "local", content: ["snippets"], ...extra };
}

function storageSets(): string[] {
  return sim
    .commandLog()
    .map((e) => e.command)
    .filter((c) => /pvesh set \/storage/.test(c));
}

async function localContent(node: string): Promise<string> {
  const r = await sim.exec(node, "pvesh get /storage/local --output-format json");
  return JSON.parse(r.stdout).content;
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf" }]);
  seedQuorateCluster(sim, "matrix", ["foxtrot", "golf"]);
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.clearLog());

describe("StorageContent", () => {
  it("adds snippets to local, keeping its other types, cluster-wide; a second run changes nothing", async () => {
    const { id, outs } = await storageContentProvider.create!(inputs());
    expect(id).toBe("local");
    expect(outs).toMatchObject({ storageType: "dir", effectiveContent: ["backup", "iso", "snippets", "vztmpl"] });
    expect(storageSets()).toEqual(["LC_ALL=C pvesh set /storage/local --content backup,iso,snippets,vztmpl"]);
    // storage.cfg is cluster-wide: the other member sees it too
    expect((await localContent("golf")).split(",").sort()).toEqual(["backup", "iso", "snippets", "vztmpl"]);

    sim.clearLog();
    const again = await storageContentProvider.create!(inputs());
    expect(again.outs).toEqual(outs);
    expect(sim.commandLog().length).toBeGreaterThan(0); // it did look
    expect(storageSets()).toEqual([]);
  });

  it("read shows drift when the type is removed by hand, diff wants an update, update restores it", async () => {
    const { id, outs } = await storageContentProvider.create!(inputs());
    await sim.exec("golf", "pvesh set /storage/local --content iso,vztmpl,backup");
    const read = await storageContentProvider.read!(id, outs);
    expect(read.props!.effectiveContent).toEqual(["backup", "iso", "vztmpl"]);
    const diff = await storageContentProvider.diff!(id, read.props!, inputs());
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    sim.clearLog();
    await storageContentProvider.update!(id, read.props!, inputs());
    expect(storageSets()).toHaveLength(1);
    expect(await localContent("foxtrot")).toContain("snippets");
  });

  it("a new storage ID replaces; no change means no diff", async () => {
    const { id, outs } = await storageContentProvider.create!(inputs());
    expect(await storageContentProvider.diff!(id, outs!, inputs())).toMatchObject({ changes: false });
    expect(await storageContentProvider.diff!(id, outs!, inputs({ storage: "shared-dir" }))).toMatchObject({ changes: true, replaces: ["storage"] });
  });

  it("refuses a block storage and a missing one, naming the node, without changing anything", async () => {
    await expect(storageContentProvider.create!(inputs({ storage: "local-lvm" }))).rejects.toThrow(
      /^foxtrot: storage 'local-lvm' is of type lvmthin, which cannot hold snippets; use a directory-type storage/,
    );
    await expect(storageContentProvider.create!(inputs({ storage: "nfs-snippets" }))).rejects.toThrow(/^foxtrot: storage 'nfs-snippets' does not exist/);
    expect(storageSets()).toEqual([]);
  });

  it("delete keeps the content type (VMs may still reference their snippets)", async () => {
    const { id, outs } = await storageContentProvider.create!(inputs());
    sim.clearLog();
    await storageContentProvider.delete!(id, outs!);
    expect(sim.commandLog()).toEqual([]);
    expect(await localContent("foxtrot")).toContain("snippets");
  });

  it("works after serialization, the way the engine runs it", async () => {
    const provider = serializeProvider("infra/providers/proxmox/storage-content.ts", "storageContentProvider").load();
    const { outs } = await provider.create!(inputs());
    expect(outs.effectiveContent).toContain("snippets");
  });
});
