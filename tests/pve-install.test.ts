/**
 * Proxmox VE on plain Debian hosts, over real SSH against simulated hosts that
 * become Proxmox nodes (tests/sim/fakes/debian-lib.cjs): the provider loaded
 * from its serialized text as the engine runs it, a fresh install through the
 * reboot, a second run with no changing command, a half-finished install that
 * resumes at the reboot, a Debian release that does not carry the requested
 * major refused before any change, and refresh showing a removed Proxmox VE.
 */
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installRefusals, pendingSteps, pveInstallSource, type InstallFacts } from "../infra/pve-install";
import { ENVIRONMENT_GATE_PROVIDER_VERSION, environmentGateProvider, type EnvironmentGateOutputs } from "../infra/providers/proxmox/environment-gate";
import { PVE_INSTALL_PROVIDER_VERSION, pveInstallProvider, type PveInstallInputs, type PveInstallOutputs } from "../infra/providers/proxmox/pve-install";
import { failure } from "./helpers/failure";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, simKeyringDigest, startSimCluster } from "./sim/cluster";
import { isMutating } from "./sim/mutating";

let sim: SimCluster;
let loaded: typeof pveInstallProvider;

/** The real source of the major, with the release key pinned to the one the simulated download serves. */
function simSource(major: 8 | 9) {
  const source = pveInstallSource(major);
  return { ...source, key: { ...source.key, digest: simKeyringDigest(source.key.url, source.key.digest.startsWith("sha512:") ? "sha512" : "sha256") } };
}

function inputs(node: string, major: 8 | 9, extra: Partial<PveInstallInputs> = {}): PveInstallInputs {
  return {
    providerVersion: PVE_INSTALL_PROVIDER_VERSION,
    ...simConnection(sim, node),
    pveMajor: major,
    address: sim.node(node).host,
    source: simSource(major),
    rebootTimeoutSeconds: 60,
    pollIntervalSeconds: 0.5,
    ...extra,
  };
}

function mutating(node: string): string[] {
  return sim
    .commandLog()
    .filter((e) => e.node === node && isMutating(e.command))
    .map((e) => e.command.replace(/^LC_ALL=C DEBIAN_FRONTEND=noninteractive /, ""));
}

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const APT = "-y -o Dpkg::Options::=--force-confold";

beforeAll(async () => {
  sim = await startSimCluster([
    { name: "deb13", distro: "debian", debianVersion: 13 },
    { name: "half", distro: "debian", debianVersion: 13 },
    { name: "deb12", distro: "debian", debianVersion: 12 },
    { name: "pve8" },
  ]);
  // Debian's installer names the host on 127.0.1.1, which Proxmox VE cannot run with.
  await sh("deb13", `sed -i '/deb13/d' /etc/hosts && printf '127.0.1.1\\tdeb13.lab.example deb13\\n' >> /etc/hosts`);
  loaded = serializeProvider("infra/providers/proxmox/pve-install.ts", "pveInstallProvider").load() as typeof pveInstallProvider;
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

describe("plan (pure)", () => {
  const facts: InstallFacts = {
    osId: "debian",
    versionId: "13",
    codename: "trixie",
    packages: ["linux-image-amd64", "linux-image-6.12.57+deb13-amd64", "os-prober"],
    runningKernel: "6.12.57+deb13-amd64",
    pveVersion: "",
    hostnameAddresses: ["192.168.3.5"],
    keyDigest: "",
    repositoryContent: "",
  };
  const t = { node: "golf", pveMajor: 9, address: "192.168.3.5", source: pveInstallSource(9) };

  it("a fresh Debian 13 host needs every step, in the wiki's order", () => {
    expect(pendingSteps(t, facts)).toEqual(["key", "repository", "kernel", "reboot", "proxmox-ve", "remove-debian-kernel", "remove-os-prober"]);
    expect(pendingSteps(t, { ...facts, hostnameAddresses: ["127.0.1.1"] })[0]).toBe("hosts");
  });

  it("refuses Debian 12 for Proxmox VE 9 and a node running another major", () => {
    expect(installRefusals(t, { ...facts, versionId: "12", codename: "bookworm" })).toEqual([
      "golf: runs Debian 12 (bookworm), but Proxmox VE 9 installs on Debian 13 (trixie); refusing to change anything",
    ]);
    expect(installRefusals(t, { ...facts, pveVersion: "8.4.14" })[0]).toMatch(/golf: runs Proxmox VE 8\.4\.14, not 9; a major upgrade is not an install/);
  });

  it("the pinned keys are the wiki's", () => {
    expect(pveInstallSource(9).key).toEqual({
      url: "https://enterprise.proxmox.com/debian/proxmox-archive-keyring-trixie.gpg",
      path: "/usr/share/keyrings/proxmox-archive-keyring.gpg",
      digest: "sha256:136673be77aba35dcce385b28737689ad64fd785a797e57897589aed08db6e45",
    });
    expect(pveInstallSource(8).key.digest).toMatch(/^sha512:7da6fe34168adc6e/);
    expect(pveInstallSource(9).repository).toEqual({
      path: "/etc/apt/sources.list.d/proxmox.sources",
      content:
        "Types: deb\nURIs: http://download.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-no-subscription\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\n",
    });
  });
});

describe("the environment gate with plain Debian hosts", () => {
  const gate = (names: string[], pveInstalls?: Record<string, number>) =>
    environmentGateProvider.create!({
      providerVersion: ENVIRONMENT_GATE_PROVIDER_VERSION,
      nodes: names.map((n) => simConnection(sim, n).connection),
      sshPrivateKey: sim.clientPrivateKey,
      pveInstalls,
    });

  it("refuses an unmarked Debian host, saying how to mark it; only reads", async () => {
    sim.clearLog();
    const err = await failure(gate(["deb13", "pve8"]));
    expect(err.message).toBe(
      "Refusing to change anything:\n" +
        "  - deb13: runs Debian 13 (trixie) without Proxmox VE (no pveversion); to install Proxmox VE 9 on it, mark it in the stack file " +
        "(nodes[].install: { from: debian } and proxmox.major: 9)",
    );
    expect(sim.commandLog().filter((e) => isMutating(e.command))).toEqual([]);
  });

  it("accepts a marked host of the release that carries the major, and refuses one that does not, before any change", async () => {
    const outs = ((await gate(["deb13"], { deb13: 9 })) as { outs: EnvironmentGateOutputs }).outs;
    expect(outs.observed[0]).toMatchObject({ node: "deb13", pveVersion: "", osId: "debian", osVersionId: "13", osCodename: "trixie" });
    sim.clearLog();
    const err = await failure(gate(["deb12", "pve8"], { deb12: 9, pve8: 9 }));
    expect(err.message).toBe(
      "Refusing to change anything:\n" +
        "  - deb12: runs Debian 12 (bookworm), but Proxmox VE 9 installs on Debian 13 (trixie); refusing to change anything\n" +
        "  - pve8: runs Proxmox VE 8.4.14, not 9; a major upgrade is not an install (set proxmox.major: 8, or upgrade it first)",
    );
    expect(sim.commandLog().filter((e) => isMutating(e.command))).toEqual([]);
  });
});

describe("a plain Debian 13 host becomes Proxmox VE 9", () => {
  let outs: PveInstallOutputs;

  it("installs through the reboot, the provider loaded from its serialized text", async () => {
    expect((await sim.exec("deb13", "pveversion")).code).toBe(127);
    sim.clearLog();
    outs = ((await loaded.create!(inputs("deb13", 9))) as { outs: PveInstallOutputs }).outs;
    expect(outs).toMatchObject({ pveVersion: "9.1.1", kernel: "6.17.2-2-pve", pending: [] });
    const m = mutating("deb13");
    const at = (re: RegExp) => m.findIndex((c) => re.test(c));
    // The documented order: hosts, key, repository, update, full-upgrade, kernel, reboot, proxmox-ve, kernel and os-prober removed.
    const order = [
      /^sed -i -E .*\/etc\/hosts/,
      /^mkdir -p \/usr\/share\/keyrings && curl -fsSL --retry 3 -o \/usr\/share\/keyrings\/proxmox-archive-keyring\.gpg\.download https:\/\/enterprise\.proxmox\.com\/debian\/proxmox-archive-keyring-trixie\.gpg$/,
      /^install -m 0644 \/usr\/share\/keyrings\/proxmox-archive-keyring\.gpg\.download \/usr\/share\/keyrings\/proxmox-archive-keyring\.gpg$/,
      /> \/etc\/apt\/sources\.list\.d\/proxmox\.sources/,
      new RegExp(`^apt-get update ${APT}$`),
      new RegExp(`^apt-get full-upgrade ${APT}$`),
      new RegExp(`^apt-get install ${APT} proxmox-default-kernel$`),
      /^systemctl reboot$/,
      new RegExp(`^apt-get install ${APT} proxmox-ve postfix open-iscsi chrony$`),
      new RegExp(`^apt-get remove ${APT} linux-image-6\\.12\\.57\\+deb13-amd64 linux-image-amd64$`),
      /^LC_ALL=C update-grub$/,
      new RegExp(`^apt-get remove ${APT} os-prober$`),
    ];
    const positions = order.map(at);
    expect(positions.every((p) => p >= 0), `${JSON.stringify(m, null, 1)}`).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // What the node says now.
    expect((await sh("deb13", "uname -r")).trim()).toBe("6.17.2-2-pve");
    expect((await sh("deb13", "pveversion")).trim()).toBe("pve-manager/9.1.1/42db4a6cf33dac83 (running kernel: 6.17.2-2-pve)");
    expect((await sh("deb13", "hostname --ip-address")).trim()).toBe(sim.node("deb13").host);
    expect((await sim.exec("deb13", "test -d /etc/pve")).code).toBe(0);
    // The key went to the node's own /usr/share/keyrings, not the machine running the simulation.
    expect(await sh("deb13", "cat /usr/share/keyrings/proxmox-archive-keyring.gpg")).toContain("pve-sim keyring");
    const hostKeyring = "/usr/share/keyrings/proxmox-archive-keyring.gpg";
    expect(fs.existsSync(hostKeyring) ? fs.readFileSync(hostKeyring, "utf8") : "").not.toContain("pve-sim");
    expect((await sim.exec("deb13", "dpkg-query -W linux-image-amd64 os-prober -f '${Package} ${db:Status-Abbrev}\\n'")).stdout).toBe(
      "linux-image-amd64 rc \nos-prober rc \n",
    );
  }, 120_000);

  it("a second run performs zero mutating commands; read and diff see no change", async () => {
    sim.clearLog();
    const again = ((await pveInstallProvider.create!(inputs("deb13", 9))) as { outs: PveInstallOutputs }).outs;
    expect(again).toEqual(outs);
    expect(sim.commandLog().length).toBeGreaterThan(0);
    expect(mutating("deb13")).toEqual([]);
    const read = (await pveInstallProvider.read!("deb13", outs)).props as PveInstallOutputs;
    expect(read.pending).toEqual([]);
    expect((await pveInstallProvider.diff!("deb13", read, inputs("deb13", 9))).changes).toBe(false);
  });

  it("refresh shows Proxmox VE removed behind our back, and the update installs it again", async () => {
    await sh("deb13", "apt-get remove -y proxmox-ve");
    const read = (await pveInstallProvider.read!("deb13", outs)).props as PveInstallOutputs;
    expect(read.pending).toEqual(["proxmox-ve"]);
    expect((await pveInstallProvider.diff!("deb13", read, inputs("deb13", 9))).changes).toBe(true);
    sim.clearLog();
    await pveInstallProvider.update!("deb13", read, inputs("deb13", 9));
    expect(mutating("deb13")).toEqual([`apt-get install ${APT} proxmox-ve postfix open-iscsi chrony`]);
  });
});

describe("a half-finished install", () => {
  it("with the Proxmox kernel installed and no reboot yet, resumes at the reboot", async () => {
    const source = simSource(9);
    await sh("half", `mkdir -p /usr/share/keyrings && curl -fsSL -o ${source.key.path} ${source.key.url}`);
    await sh("half", `printf '%s' '${source.repository.content}' > ${source.repository.path}`);
    await sh("half", "apt-get update && apt-get full-upgrade -y && apt-get install -y proxmox-default-kernel");
    expect((await sh("half", "uname -r")).trim()).toBe("6.12.57+deb13-amd64");
    sim.clearLog();
    const outs = ((await pveInstallProvider.create!(inputs("half", 9))) as { outs: PveInstallOutputs }).outs;
    expect(outs.pveVersion).toBe("9.1.1");
    const m = mutating("half");
    expect(m[0]).toBe("systemctl reboot");
    expect(m.some((c) => /proxmox-default-kernel|full-upgrade|curl|proxmox\.sources/.test(c))).toBe(false);
    expect(m).toContain(`apt-get install ${APT} proxmox-ve postfix open-iscsi chrony`);
  }, 120_000);
});

describe("refusals and nodes that already run Proxmox VE", () => {
  it("refuses Debian 12 for Proxmox VE 9 before any change, through the serialized provider", async () => {
    sim.clearLog();
    const err = await failure(loaded.create!(inputs("deb12", 9)));
    expect(err.message).toBe(
      "deb12: Proxmox VE 9 install: refusing to change anything:\n" +
        "  - deb12: runs Debian 12 (bookworm), but Proxmox VE 9 installs on Debian 13 (trixie); refusing to change anything",
    );
    expect(mutating("deb12")).toEqual([]);
  });

  it("leaves a node that already runs Proxmox VE alone: no mutating command", async () => {
    sim.clearLog();
    const outs = ((await pveInstallProvider.create!(inputs("pve8", 8))) as { outs: PveInstallOutputs }).outs;
    expect(outs.pveVersion).toBe("8.4.14");
    expect(mutating("pve8")).toEqual([]);
  });

  it("refuses a node running another major than requested", async () => {
    sim.clearLog();
    const err = await failure(pveInstallProvider.create!(inputs("pve8", 9)));
    expect(err.message).toContain("pve8: runs Proxmox VE 8.4.14, not 9; a major upgrade is not an install");
    expect(mutating("pve8")).toEqual([]);
  });

  it("refuses a release key whose digest is not the pinned one, before installing it", async () => {
    const source = pveInstallSource(8); // the real pin; the simulated download serves another key
    sim.clearLog();
    const err = await failure(pveInstallProvider.create!(inputs("deb12", 8, { source })));
    expect(err.message).toMatch(/^deb12: the Proxmox release key from https:\/\/enterprise\.proxmox\.com\/debian\/proxmox-release-bookworm\.gpg has digest sha512:[0-9a-f]+, not the pinned sha512:7da6fe34/);
    expect(mutating("deb12").some((c) => /^install -m 0644/.test(c))).toBe(false);
    expect((await sim.exec("deb12", "test -e /etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg")).code).not.toBe(0);
  });
});
