/**
 * The host baseline's providers on simulated plain hosts, Debian (apt) and
 * Rocky (dnf): packages with the manager detected from /etc/os-release, host
 * name, FQDN, time zone, a user with sudo. Converge, then a second run
 * changes nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fqdnHostsBlock, hostnameFile, sudoersFile } from "../infra/baseline";
import { LINUX_USER_PROVIDER_VERSION, linuxUserProvider } from "../infra/providers/linux/linux-user";
import { PACKAGES_PROVIDER_VERSION, packagesProvider } from "../infra/providers/linux/packages";
import { REMOTE_FILE_PROVIDER_VERSION, remoteFileProvider } from "../infra/providers/linux/remote-file";
import { TIMEZONE_PROVIDER_VERSION, timezoneProvider } from "../infra/providers/linux/timezone";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;

beforeAll(async () => {
  sim = await startSimCluster([
    { name: "deb1", distro: "debian" },
    { name: "rocky1", distro: "rocky" },
  ]);
}, 60_000);

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => {
  sim.clearLog();
});

/** Every step of the baseline for one host, through the providers' create (a run with no state). */
async function converge(node: string): Promise<void> {
  const conn = simConnection(sim, node);
  await packagesProvider.create!({ ...conn, providerVersion: PACKAGES_PROVIDER_VERSION, packages: ["htop", "sudo"], manager: "auto" });
  for (const spec of [hostnameFile("web1"), fqdnHostsBlock("web1.lab.example", "web1"), sudoersFile("ops", "nopasswd")!]) {
    await remoteFileProvider.create!({ ...conn, providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...spec });
  }
  await timezoneProvider.create!({ ...conn, providerVersion: TIMEZONE_PROVIDER_VERSION, timezone: "Europe/Berlin" });
  await linuxUserProvider.create!({
    ...conn,
    providerVersion: LINUX_USER_PROVIDER_VERSION,
    name: "ops",
    sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhomelabtestkeyopsopsopsopsopsopsopsops ops"],
    shell: "/bin/bash",
    groups: [],
    passwordLogin: false,
    removeOnDelete: false,
  });
}

/** What changes a host in these providers' commands (installs, file writes through mktemp, identity tools, accounts). */
const MUTATING = /apt-get|\bdnf\b|hostnamectl|timedatectl|\bln -s|mktemp|useradd|usermod|chpasswd/;

describe.each([
  ["deb1", "apt-get", /^LC_ALL=C dpkg-query/],
  ["rocky1", "dnf", /^LC_ALL=C rpm -q --queryformat/],
])("%s", (node, installer, query) => {
  it(`converges with ${installer}: packages, host name, FQDN, time zone, a sudoer`, async () => {
    await converge(node);
    // the commands the second run must not repeat: install, file writes, hostnamectl, timedatectl, useradd
    expect(sim.commandLog().filter((e) => e.node === node && MUTATING.test(e.command)).length).toBeGreaterThanOrEqual(8);
    const installs = sim.toolLog().filter((e) => e.node === node && (e.tool === "apt-get" || e.tool === "dnf") && e.argv.includes("install"));
    expect(installs.map((e) => e.tool)).toEqual([installer]);
    expect(installs[0].argv.slice(-2)).toEqual(["htop", "sudo"]);
    expect(sim.commandLog().some((e) => e.node === node && query.test(e.command))).toBe(true);
    const facts = await sim.exec(node, "hostname; cat /etc/hostname; readlink /etc/localtime; grep 127.0.1.1 /etc/hosts; id -u ops >/dev/null && echo ops; cat /etc/sudoers.d/homelab-ops");
    expect(facts.stdout.split("\n").slice(0, 5)).toEqual(["web1", "web1", "../usr/share/zoneinfo/Europe/Berlin", "127.0.1.1\tweb1.lab.example web1", "ops"]);
    expect(facts.stdout).toContain("ops ALL=(ALL:ALL) NOPASSWD: ALL");
  });

  it("a second run changes nothing", async () => {
    await converge(node);
    expect(sim.commandLog().filter((e) => e.node === node && MUTATING.test(e.command))).toEqual([]);
  });
});

describe("package names and managers", () => {
  it("refuses an unknown distribution instead of guessing a package manager", async () => {
    await sim.exec("deb1", "cp /etc/os-release /root/os-release.saved; printf 'ID=plan9\\n' > /etc/os-release");
    try {
      await expect(
        packagesProvider.create!({ ...simConnection(sim, "deb1"), providerVersion: PACKAGES_PROVIDER_VERSION, packages: ["htop"], manager: "auto" }),
      ).rejects.toThrow('deb1: no package manager known for this distribution (/etc/os-release: plan9); set packageManager to "apt" or "dnf"');
    } finally {
      await sim.exec("deb1", "cp /root/os-release.saved /etc/os-release");
    }
  });
});
