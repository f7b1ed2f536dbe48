/**
 * AbsentFiles against a simulated node: the APT .list files a PVE 9 baseline
 * supersedes are removed once, only when present, and refresh sees them return.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { supersededAptFiles } from "../infra/baseline";
import { ABSENT_FILES_PROVIDER_VERSION, AbsentFilesInputs, absentFilesProvider } from "../infra/providers/linux/absent-files";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;
const LISTS = supersededAptFiles(9);

function inputs(paths: string[] = LISTS): AbsentFilesInputs {
  return { ...simConnection(sim, "frege"), providerVersion: ABSENT_FILES_PROVIDER_VERSION, paths };
}

async function sh(cmd: string): Promise<string> {
  const r = await sim.exec("frege", cmd);
  if (r.code !== 0) throw new Error(`setup failed (${r.code}): ${cmd}: ${r.stderr}`);
  return r.stdout;
}

/** What an upgraded PVE 8 node still has: its bookworm one-line files. */
async function leftFromPve8(): Promise<void> {
  await sh(
    "mkdir -p /etc/apt/sources.list.d && cd /etc/apt/sources.list.d && " +
      "echo '# deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise' > pve-enterprise.list && " +
      "echo 'deb http://download.proxmox.com/debian/pve bookworm pve-no-subscription' > pve-no-subscription.list && " +
      "echo 'deb http://download.proxmox.com/debian/ceph-squid bookworm no-subscription' > ceph.list && " +
      "echo 'Types: deb' > proxmox.sources",
  );
}

const removals = () =>
  sim
    .commandLog()
    .map((e) => e.command)
    .filter((c) => /\brm\b/.test(c));

beforeAll(async () => {
  sim = await startSimCluster([{ name: "frege", pveVersion: "9.1.1" }]);
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.clearLog());

describe("AbsentFiles", () => {
  it("names the three one-line files PVE 9's .sources replace, and none before PVE 9", () => {
    expect(supersededAptFiles(8)).toEqual([]);
    expect(LISTS).toEqual(["/etc/apt/sources.list.d/pve-enterprise.list", "/etc/apt/sources.list.d/pve-no-subscription.list", "/etc/apt/sources.list.d/ceph.list"]);
  });

  it("removes the leftovers of PVE 8 in one rm, keeps everything else, and a second run removes nothing", async () => {
    await leftFromPve8();
    const before = (await sh("ls /etc/apt/sources.list.d")).trim().split("\n");
    expect(before).toEqual(expect.arrayContaining(["ceph.list", "pve-no-subscription.list", "proxmox.sources"]));
    const { id, outs } = await absentFilesProvider.create!(inputs());
    expect(id).toBe("frege");
    expect(outs!.present).toEqual([]);
    expect(removals()).toEqual([`rm -f -- ${LISTS.join(" ")}`]);
    const kept = before.filter((f) => !LISTS.includes(`/etc/apt/sources.list.d/${f}`));
    expect((await sh("ls /etc/apt/sources.list.d")).trim().split("\n")).toEqual(kept);
    expect(kept).toContain("proxmox.sources");

    sim.clearLog();
    await absentFilesProvider.create!(inputs());
    expect(sim.commandLog().length).toBeGreaterThan(0); // it did look
    expect(removals()).toEqual([]);
  });

  it("refresh sees a file that came back; diff then wants an update, which removes it", async () => {
    const { id, outs } = await absentFilesProvider.create!(inputs());
    await sh("echo 'deb http://download.proxmox.com/debian/ceph-squid bookworm no-subscription' > /etc/apt/sources.list.d/ceph.list");
    const read = await absentFilesProvider.read!(id, outs);
    expect(read.props!.present).toEqual(["/etc/apt/sources.list.d/ceph.list"]);
    expect(await absentFilesProvider.diff!(id, read.props!, inputs())).toMatchObject({ changes: true, replaces: [] });
    expect(await absentFilesProvider.diff!(id, outs!, inputs())).toMatchObject({ changes: false });
    await absentFilesProvider.update!(id, read.props!, inputs());
    expect(await sh("test -e /etc/apt/sources.list.d/ceph.list && echo there || echo gone")).toBe("gone\n");
  });

  it("refuses paths that are not absolute file paths, before connecting", async () => {
    await expect(absentFilesProvider.create!(inputs(["/etc/apt/../shadow", "relative.list"]))).rejects.toThrow(
      /^frege: not absolute file paths: \/etc\/apt\/\.\.\/shadow, relative\.list$/,
    );
    expect(sim.commandLog()).toEqual([]);
  });

  it("works after serialization, the way the engine runs it", async () => {
    await leftFromPve8();
    const provider = serializeProvider("infra/providers/linux/absent-files.ts", "absentFilesProvider").load();
    const { outs } = await provider.create!(inputs());
    expect(outs.present).toEqual([]);
    expect(await sh("ls /etc/apt/sources.list.d")).not.toMatch(/^(ceph|pve-no-subscription|pve-enterprise)\.list$/m);
  });
});
