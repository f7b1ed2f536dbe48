/**
 * Packages provider against the simulated cluster. The fake apt-get installs
 * nothing but logs its argv; the fake dpkg-query replays that log, so what
 * "apt-get install" installed is what dpkg-query reports afterwards.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ConnectionArgs } from "../infra/providers/connection";
import { PACKAGES_PROVIDER_VERSION, PackagesInputs, PackagesOutputs, packagesProvider } from "../infra/providers/linux/packages";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { simConnection } from "./helpers/sim-connection";

let sim: SimCluster;

function conn(name: string): ConnectionArgs {
  return simConnection(sim, name);
}

function inputs(node: string, packages: string[]): PackagesInputs {
  return { ...conn(node), providerVersion: PACKAGES_PROVIDER_VERSION, packages };
}

const commands = () => sim.commandLog().map((e) => e.command);
const aptCommands = () => commands().filter((c) => /\bapt-get\b/.test(c));
const aptInstalls = () => aptCommands().filter((c) => / install /.test(c));

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf", pveVersion: "9.1.1" }, { name: "hotel" }]);
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => {
  sim.clearLog();
  sim.clearFaults();
});

describe("create", () => {
  it("reads first, then installs only the missing packages, once", async () => {
    const { id, outs } = await packagesProvider.create!(inputs("foxtrot", ["sudo", "htop", "bash", "sudo"]));
    expect(id).toBe("foxtrot:packages");
    expect(outs!.packages).toEqual(["bash", "htop", "sudo"]);
    const cmds = commands();
    expect(cmds[0]).toBe("LC_ALL=C dpkg-query -W '--showformat=${Package} ${Status}\\n' -- bash htop sudo");
    expect(aptCommands()).toEqual([
      "LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold update -q",
      "LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install -y -q --no-install-recommends -- htop sudo",
    ]);
    // and it checked the result afterwards
    expect(cmds[cmds.length - 1]).toContain("dpkg-query -W");
  });

  it("a second run performs zero apt-get calls", async () => {
    const { outs } = await packagesProvider.create!(inputs("foxtrot", ["htop", "sudo", "bash"]));
    expect(outs!.installed).toEqual(["bash", "htop", "sudo"]);
    expect(aptCommands()).toEqual([]);
    sim.clearLog();
    await packagesProvider.update!("foxtrot:packages", outs!, inputs("foxtrot", ["htop", "sudo", "bash"]));
    expect(aptCommands()).toEqual([]);
  });

  it("on a node that already has everything (lost state) runs no mutating command", async () => {
    sim.mutateState((s) => {
      s.dpkg = { hotel: { installed: ["htop", "jq"] } };
    });
    await packagesProvider.create!(inputs("hotel", ["jq", "htop"]));
    expect(commands()).toHaveLength(1);
    expect(commands()[0]).toContain("dpkg-query");
  });

  it("installs on a PVE 9 node the same way", async () => {
    await packagesProvider.create!(inputs("golf", ["ethtool"]));
    expect(aptInstalls()).toHaveLength(1);
    expect(aptInstalls()[0]).toMatch(/ -- ethtool$/);
  });

  it("fails naming the node and apt-get when the install fails, and does not claim success", async () => {
    sim.injectFault({ node: "foxtrot", match: "apt-get", mode: "fail", exitCode: 100, stderr: "E: Unable to locate package nosuchpkg\n" });
    const err = await packagesProvider.create!(inputs("foxtrot", ["nosuchpkg"])).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^foxtrot: apt-get failed \(exit 100\): E: Unable to locate package nosuchpkg/);
  });

  it("notices when apt-get exits 0 but the package is still not installed", async () => {
    // apt-get "succeeds" without doing anything (the fault swallows the real call)
    sim.injectFault({ node: "foxtrot", match: "install -y", mode: "fail", exitCode: 0, stderr: "" });
    const err = await packagesProvider.create!(inputs("foxtrot", ["tcpdump"])).catch((e: Error) => e);
    expect((err as Error).message).toBe("foxtrot: apt-get install succeeded but tcpdump still not installed (dpkg-query)");
  });
});

describe("read, drift and update", () => {
  let outs: PackagesOutputs;

  it("read reports the installed packages", async () => {
    outs = (await packagesProvider.create!(inputs("foxtrot", ["htop", "sudo"]))).outs!;
    const read = await packagesProvider.read!("foxtrot:packages", outs);
    expect(read.id).toBe("foxtrot:packages");
    expect(read.props!.packages).toEqual(["htop", "sudo"]);
    expect((await packagesProvider.diff!("id", read.props!, inputs("foxtrot", ["sudo", "htop"]))).changes).toBe(false);
  });

  it("a package removed by hand shows as drift, and update installs just that one", async () => {
    const r = await sim.exec("foxtrot", "apt-get remove -y htop");
    expect(r.code).toBe(0);
    const read = await packagesProvider.read!("foxtrot:packages", outs);
    expect(read.props!.packages).toEqual(["sudo"]);
    expect(read.props!.installed).toEqual(["sudo"]);
    const diff = await packagesProvider.diff!("id", read.props!, inputs("foxtrot", ["htop", "sudo"]));
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    sim.clearLog();
    await packagesProvider.update!("id", read.props!, inputs("foxtrot", ["htop", "sudo"]));
    expect(aptInstalls()).toHaveLength(1);
    expect(aptInstalls()[0]).toMatch(/ -- htop$/);
  });

  it("delete leaves the packages installed and runs nothing", async () => {
    await packagesProvider.delete!("foxtrot:packages", outs);
    expect(commands()).toEqual([]);
    const read = await packagesProvider.read!("foxtrot:packages", outs);
    expect(read.props!.packages).toEqual(["htop", "sudo"]);
  });
});

describe("diff", () => {
  const base = () => ({ ...inputs("foxtrot", ["a1", "b2"]), installed: ["a1", "b2"] });

  it("ignores order and duplicates, updates on a new package, replaces only for another node", async () => {
    const o = base();
    expect((await packagesProvider.diff!("id", o, inputs("foxtrot", ["b2", "a1", "a1"]))).changes).toBe(false);
    expect(await packagesProvider.diff!("id", o, inputs("foxtrot", ["a1", "b2", "c3"]))).toMatchObject({ changes: true, replaces: [] });
    expect((await packagesProvider.diff!("id", o, { ...inputs("foxtrot", ["a1", "b2"]), sshPrivateKey: "other" })).changes).toBe(false);
    expect((await packagesProvider.diff!("id", o, inputs("golf", ["a1", "b2"]))).replaces).toEqual(["connection"]);
  });

  it("treats an unknown (preview) package list as a change", async () => {
    const unknown = inputs("foxtrot", ["04da6b54-80e4-46f7-96ec-b56ff0331ba9"]);
    expect((await packagesProvider.diff!("id", base(), unknown)).changes).toBe(true);
    const whole = { ...inputs("foxtrot", []), packages: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } as unknown as PackagesInputs;
    expect((await packagesProvider.diff!("id", base(), whole)).changes).toBe(true);
  });

  it("refuses something that is not a package name before touching the node", async () => {
    await expect(packagesProvider.create!(inputs("foxtrot", ["htop; reboot"]))).rejects.toThrow(
      'packages: "htop; reboot" is not a Debian package name',
    );
  });
});

describe("serialization", () => {
  it("serializes without secrets or key material and creates through the loaded copy", async () => {
    const s = serializeProvider("infra/providers/linux/packages.ts", "packagesProvider");
    expect(s.containsSecrets).toBe(false);
    expect(s.text).not.toMatch(/PRIVATE KEY/);
    const provider = s.load();
    sim.clearLog();
    const { outs } = await provider.create!(inputs("golf", ["jq"]));
    expect(outs.installed).toEqual(["jq"]);
    expect(aptInstalls()).toHaveLength(1);
  });
});
