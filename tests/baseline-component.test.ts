/**
 * homelab:node:Baseline under Pulumi mocks: which resources it registers,
 * with which inputs, parents, order (dependsOn) and secrets.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { HOST_BASELINE_TYPE } from "../components/host-baseline";
import { NODE_BASELINE_TYPE, NodeBaseline, NodeBaselineArgs } from "../components/node-baseline";
import { beginMarker } from "../infra/managed-block";
import { allStrings, isSecretValue, runStack, StackRun, stubProviderSerialization } from "./helpers/pulumi-mocks";

// Under vitest, provider code is loaded through vite's module runner, whose dynamic-import helper
// cannot be closure-serialized; every dynamic resource would then fail to register. Serialization
// is tested for real per provider (tests/baseline-packages|users.test.ts, remote-file via the
// helper); here a stub stands in so the component's wiring can be inspected.
stubProviderSerialization();

const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "baseline-component-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");

const KEY = "fake-ssh-private-key-for-mock-tests";
/** kellen's password hash, passed as a plain string: the component must make it a secret. */
const HASH = "$y$j9T$mockSaltmockSalt$mockHashValueNotARealOneAtAllxxxxxxxxxxxxxx";
const warn = vi.spyOn(pulumi.log, "warn");

const T = {
  baseline: NODE_BASELINE_TYPE,
  host: HOST_BASELINE_TYPE,
  packages: "pulumi-nodejs:dynamic/node:Packages",
  user: "pulumi-nodejs:dynamic/node:LinuxUser",
  file: "pulumi-nodejs:dynamic/node:RemoteFile",
  absent: "pulumi-nodejs:dynamic/node:AbsentFiles",
};

/** The three repository files, by resource-name suffix. */
const REPOS = ["apt-ceph", "apt-pve-enterprise", "apt-pve-no-subscription"];
const repoNames = (v: string) => REPOS.map((r) => `${v}-baseline-${r}`);
/** The repository files plus the removal of the files they supersede (apt runs after all four). */
const aptNames = (v: string) => [...repoNames(v), `${v}-baseline-apt-superseded`];

function baseArgs(extra: Partial<NodeBaselineArgs> = {}): NodeBaselineArgs {
  return {
    access: { connection: { node: "ms01", host: "10.0.0.11", port: 22, user: "root", hostKey: "SHA256:abc" }, sshPrivateKey: KEY },
    pveMajor: 8,
    packages: ["htop", "jq"],
    hosts: [
      { address: "10.0.0.11", names: ["ms01", "ms01-link0"] },
      { address: "10.0.0.12", names: ["ms02", "ms02-link0"] },
    ],
    users: [
      { name: "kellen", sshKeys: ["ssh-ed25519 AAAAkellen kellen@laptop"], sudo: "password", passwordHash: HASH },
      { name: "ansible", sshKeys: ["ssh-ed25519 AAAAansible ansible@ci"], sudo: "nopasswd", groups: ["adm"] },
    ],
    ...extra,
  };
}

/**
 * One program, several baselines (one per variant under test): Pulumi's mock monitor is per
 * process, so a second runStack would receive the first run's late registrations.
 * v9 passes pveMajor as an Output, as the lead does from the node's detected version.
 */
const VARIANTS: Record<string, Partial<NodeBaselineArgs>> = {
  ms01: {},
  v9: { pveMajor: pulumi.output(Promise.resolve(9)) },
  reef: { cephRelease: "reef" },
  bare: { packages: [], users: [{ name: "guest", sshKeys: [], sudo: "none" }] },
  nag: { removeSubscriptionNag: true },
  // every user may use a password over SSH: the sshd drop-in restricts nobody
  pw: { users: [{ name: "kellen", sshKeys: [], sudo: "password", passwordLogin: true, passwordHash: HASH }] },
};

let stackRun: Promise<StackRun> | undefined;
function run(): Promise<StackRun> {
  stackRun ??= runStack(STACK_FILE, () => {
    const out: Record<string, unknown> = {};
    const built: Record<string, NodeBaseline> = {};
    for (const [v, extra] of Object.entries(VARIANTS)) {
      const b = new NodeBaseline(`${v}-baseline`, baseArgs(extra));
      built[v] = b;
      // Outputs that wait for every registration (runStack resolves them before it returns).
      out[v] = { urn: b.urn, ready: b.ready.map((x) => x.urn) };
    }
    // a baseline ordered after something else (as the stack orders it after the node facts)
    const after = new NodeBaseline("after-baseline", baseArgs({}), { dependsOn: [built.bare] });
    out.after = { urn: after.urn, ready: after.ready.map((x) => x.urn) };
    return out;
  });
  return stackRun;
}

/** The resource name at the end of a URN (parent and dependsOn carry full URNs, with the parent type chain). */
const nameOf = (urn: string) => urn.split("::").pop()!;
const deps = (r: StackRun, name: string) => r.byName(name).dependsOn.map(nameOf).sort();
/** Registrations of one variant's baseline, optionally of one type. */
const ofVariant = (r: StackRun, v: string, type?: string) =>
  r.registrations.filter((x) => x.name.startsWith(`${v}-baseline-`) && (type === undefined || x.type === type));

describe("NodeBaseline", () => {
  it("registers the component, its Proxmox part as its own children and the generic Linux part under a HostBaseline of the same name", async () => {
    const r = await run();
    const c = r.byName("ms01-baseline");
    expect(c.type).toBe(T.baseline);
    expect(c.custom).toBe(false);
    expect(c.parent).toMatch(/pulumi:pulumi:Stack::homelab-test$/);
    const host = r.registrations.find((x) => x.type === T.host && x.name === "ms01-baseline")!;
    expect(host.parent).toBe(c.urn);
    const mine = r.registrations.filter((x) => x.name.startsWith("ms01-baseline-"));
    expect(mine.length).toBe(11);
    // Child names are the ones they had before the split (an alias keeps their URNs' history).
    expect(mine.filter((x) => x.parent === c.urn).map((x) => x.name).sort()).toEqual([
      "ms01-baseline-apt-ceph",
      "ms01-baseline-apt-pve-enterprise",
      "ms01-baseline-apt-pve-no-subscription",
      "ms01-baseline-apt-superseded",
    ]);
    expect(mine.filter((x) => x.parent === host.urn).map((x) => x.name).sort()).toEqual([
      "ms01-baseline-hosts",
      "ms01-baseline-packages",
      "ms01-baseline-sshd-users",
      "ms01-baseline-sudoers-ansible",
      "ms01-baseline-sudoers-kellen",
      "ms01-baseline-user-ansible",
      "ms01-baseline-user-kellen",
    ]);
    expect(JSON.stringify(host.rawInputs)).not.toContain(KEY);
    // the component's stored inputs hold no secret
    expect(JSON.stringify(c.rawInputs)).not.toContain(KEY);
  });

  it("passes its own dependsOn to the resources that start its work, so the engine orders them too", async () => {
    const r = await run();
    const bareChildren = ofVariant(r, "bare").filter((x) => x.custom).map((x) => x.urn);
    expect(bareChildren.length).toBeGreaterThan(0);
    const roots = ["apt-ceph", "apt-pve-enterprise", "apt-pve-no-subscription", "hosts", "sshd-users"];
    for (const root of roots) {
      expect(r.byName(`after-baseline-${root}`).dependsOn, root).toEqual(expect.arrayContaining(bareChildren));
    }
  });

  it("manages the repositories over SSH only: no native proxmoxve resource or provider anywhere", async () => {
    const r = await run();
    expect(r.registrations.filter((x) => x.type.startsWith("proxmoxve:") || x.type.startsWith("pulumi:providers:proxmoxve"))).toEqual([]);
    for (const v of Object.keys(VARIANTS)) {
      for (const n of repoNames(v)) expect(r.byName(n).type).toBe(T.file);
    }
  });

  it("PVE 8: three whole .list files, kept on the node when the stack is deleted", async () => {
    const r = await run();
    const inputs = (n: string) => r.byName(`ms01-baseline-${n}`).rawInputs;
    expect(inputs("apt-pve-enterprise")).toMatchObject({
      path: "/etc/apt/sources.list.d/pve-enterprise.list",
      content: "# deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise\n",
      onDelete: "keep",
    });
    expect(inputs("apt-pve-no-subscription")).toMatchObject({
      path: "/etc/apt/sources.list.d/pve-no-subscription.list",
      content: "deb http://download.proxmox.com/debian/pve bookworm pve-no-subscription\n",
      onDelete: "keep",
    });
    expect(inputs("apt-ceph")).toMatchObject({
      path: "/etc/apt/sources.list.d/ceph.list",
      content: "deb http://download.proxmox.com/debian/ceph-squid bookworm no-subscription\n",
      onDelete: "keep",
    });
    for (const n of REPOS) {
      // whole files, 0644 root:root as Proxmox writes them (spelled out: a refresh reads them back)
      expect(inputs(n).blockId).toBeUndefined();
      expect(inputs(n)).toMatchObject({ fileMode: "0644", owner: "root", group: "root" });
    }
  });

  it("PVE 9 (pveMajor an Output): deb822 .sources files at paths computed from it", async () => {
    const r = await run();
    const inputs = (n: string) => r.byName(`v9-baseline-${n}`).rawInputs;
    expect(inputs("apt-pve-enterprise").path).toBe("/etc/apt/sources.list.d/pve-enterprise.sources");
    expect(inputs("apt-pve-enterprise").content).toMatch(/^Types: deb\nURIs: https:\/\/enterprise\.proxmox\.com\/debian\/pve\n.*\nEnabled: false\n$/s);
    expect(inputs("apt-pve-no-subscription").path).toBe("/etc/apt/sources.list.d/proxmox.sources");
    expect(inputs("apt-pve-no-subscription").content).toContain("Components: pve-no-subscription\n");
    expect(inputs("apt-ceph").path).toBe("/etc/apt/sources.list.d/ceph.sources");
    expect(inputs("apt-ceph").content).toContain("URIs: http://download.proxmox.com/debian/ceph-squid\nSuites: trixie\nComponents: no-subscription\n");
    for (const n of REPOS) expect(inputs(n).onDelete).toBe("keep");
    // after a PVE 8 → 9 upgrade the one-line .list files would name the repositories again
    expect(inputs("apt-superseded").paths).toEqual([
      "/etc/apt/sources.list.d/pve-enterprise.list",
      "/etc/apt/sources.list.d/pve-no-subscription.list",
      "/etc/apt/sources.list.d/ceph.list",
    ]);
    expect(r.byName("ms01-baseline-apt-superseded").rawInputs.paths).toEqual([]);
    expect(r.byName("v9-baseline-apt-superseded").type).toBe(T.absent);
  });

  it("uses the configured Ceph release", async () => {
    const r = await run();
    expect(r.byName("reef-baseline-apt-ceph").rawInputs.content).toBe(
      "deb http://download.proxmox.com/debian/ceph-reef bookworm no-subscription\n",
    );
  });

  it("installs the packages after all three repository files, adding sudo because someone gets sudo rights", async () => {
    const r = await run();
    const p = r.byName("ms01-baseline-packages");
    expect(p.type).toBe(T.packages);
    expect(p.rawInputs.packages).toEqual(["htop", "jq", "sudo"]);
    expect(deps(r, "ms01-baseline-packages")).toEqual(aptNames("ms01").sort());
    expect(deps(r, "v9-baseline-packages")).toEqual(aptNames("v9").sort());
    // the repository files themselves wait for nothing; the superseded files go once they exist
    for (const n of repoNames("ms01")) expect(deps(r, n)).toEqual([]);
    expect(deps(r, "ms01-baseline-apt-superseded")).toEqual(repoNames("ms01").sort());
  });

  it("adds no sudo package when nobody gets sudo, and no Packages resource for an empty list", async () => {
    const r = await run();
    expect(ofVariant(r, "bare", T.packages)).toEqual([]);
    expect(ofVariant(r, "bare", T.user).map((x) => x.name)).toEqual(["bare-baseline-user-guest"]);
    expect(ofVariant(r, "bare", T.file).map((x) => x.name).sort()).toEqual(
      ["bare-baseline-hosts", "bare-baseline-sshd-users", ...repoNames("bare")].sort(),
    );
    // with no packages the users wait for the repositories (and the sshd rules) instead
    expect(deps(r, "bare-baseline-user-guest")).toEqual([...aptNames("bare"), "bare-baseline-sshd-users"].sort());
  });

  it("creates the users after the packages and the sshd rules, with defaults", async () => {
    const r = await run();
    const kellen = r.byName("ms01-baseline-user-kellen");
    expect(kellen.type).toBe(T.user);
    expect(kellen.rawInputs).toMatchObject({
      name: "kellen",
      sshKeys: ["ssh-ed25519 AAAAkellen kellen@laptop"],
      shell: "/bin/bash",
      groups: [],
      passwordLogin: false,
      removeOnDelete: false,
    });
    expect(r.byName("ms01-baseline-user-ansible").rawInputs.groups).toEqual(["adm"]);
    expect(r.byName("ms01-baseline-user-ansible").rawInputs.passwordHash).toBeUndefined();
    expect(deps(r, "ms01-baseline-user-kellen")).toEqual(["ms01-baseline-packages", "ms01-baseline-sshd-users"]);
  });

  it("passes kellen's passwordHash as a secret input and a secret output, and nowhere else", async () => {
    const r = await run();
    const kellen = r.byName("ms01-baseline-user-kellen");
    expect(isSecretValue(kellen.rawInputs.passwordHash)).toBe(true);
    expect((kellen.rawInputs.passwordHash as { value: string }).value).toBe(HASH);
    expect(kellen.additionalSecretOutputs).toEqual(expect.arrayContaining(["sshPrivateKey", "passwordHash"]));
    // every LinuxUser keeps the output secret, hash or not
    for (const u of r.byType(T.user)) expect(u.additionalSecretOutputs).toContain("passwordHash");
    // the hash appears in no registration except inside that secret wrapper
    for (const x of r.registrations) {
      const rest = Object.entries(x.rawInputs).filter(([k]) => k !== "passwordHash");
      expect(allStrings(rest).some((v) => v.includes(HASH))).toBe(false);
    }
    expect(JSON.stringify(r.byName("ms01-baseline").rawInputs)).not.toContain("mockSalt");
  });

  it("keeps passwords off SSH in sshd: a validated Match User drop-in for every key-only user, reloading ssh", async () => {
    const r = await run();
    const f = r.byName("ms01-baseline-sshd-users");
    expect(f.type).toBe(T.file);
    expect(f.rawInputs).toMatchObject({
      path: "/etc/ssh/sshd_config.d/50-homelab-users.conf",
      fileMode: "0644",
      owner: "root",
      group: "root",
      onChangeCommand: ["systemctl", "reload", "ssh"],
    });
    expect(f.rawInputs.content).toContain("Match User kellen,ansible\n\tPasswordAuthentication no\n\tKbdInteractiveAuthentication no\n");
    const check = f.rawInputs.validateCommand as string[];
    expect(check.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(check[2]).toContain('sshd -t -f "$d/sshd_config"');
    expect(check.slice(3)).toEqual(["sshd-check", "{}", "/etc/ssh/sshd_config.d/50-homelab-users.conf", "kellen", "ansible"]);
    // waits for nothing (openssh-server is part of Proxmox VE)
    expect(deps(r, "ms01-baseline-sshd-users")).toEqual([]);
    expect(r.byName("bare-baseline-sshd-users").rawInputs.content).toContain("Match User guest\n");
    // passwordLogin true: not in the Match, so sshd's global settings apply
    const pw = r.byName("pw-baseline-sshd-users");
    expect(pw.rawInputs.content).not.toContain("Match");
    expect((pw.rawInputs.validateCommand as string[]).slice(3)).toEqual(["sshd-check", "{}", "/etc/ssh/sshd_config.d/50-homelab-users.conf"]);
    expect(r.byName("pw-baseline-user-kellen").rawInputs.passwordLogin).toBe(true);
  });

  it("writes each user's sudoers drop-in after the user and the sudo package, validated with visudo", async () => {
    const r = await run();
    const kellen = r.byName("ms01-baseline-sudoers-kellen");
    expect(kellen.type).toBe(T.file);
    expect(kellen.rawInputs).toMatchObject({
      path: "/etc/sudoers.d/homelab-kellen",
      fileMode: "0440",
      owner: "root",
      group: "root",
      validateCommand: ["visudo", "-cf", "{}"],
    });
    expect(kellen.rawInputs.content).toContain("kellen ALL=(ALL:ALL) ALL\n");
    expect(r.byName("ms01-baseline-sudoers-ansible").rawInputs.content).toContain("ansible ALL=(ALL:ALL) NOPASSWD: ALL\n");
    expect(deps(r, "ms01-baseline-sudoers-kellen")).toEqual(["ms01-baseline-packages", "ms01-baseline-user-kellen"]);
  });

  it("writes the cluster-nodes block into /etc/hosts", async () => {
    const r = await run();
    const hosts = r.byName("ms01-baseline-hosts");
    expect(hosts.rawInputs).toMatchObject({
      path: "/etc/hosts",
      blockId: "cluster-nodes",
      content: "10.0.0.11 ms01 ms01-link0\n10.0.0.12 ms02 ms02-link0\n",
    });
    expect(String(hosts.rawInputs.content)).not.toContain(beginMarker("cluster-nodes")); // markers are RemoteFile's job
  });

  it("adds the nag hook only when asked", async () => {
    const r = await run();
    expect(r.registrations.some((x) => x.name === "ms01-baseline-no-nag")).toBe(false);
    const hook = r.byName("nag-baseline-no-nag");
    expect(hook.rawInputs).toMatchObject({
      path: "/etc/apt/apt.conf.d/86homelab-no-nag",
      fileMode: "0644",
      validateCommand: ["apt-config", "-c", "{}", "dump"],
    });
    expect(String(hook.rawInputs.content)).toMatch(/^DPkg::Post-Invoke \{ "if \[ -s /m);
    expect((hook.rawInputs.onChangeCommand as string[]).slice(0, 2)).toEqual(["sh", "-c"]);
  });

  it("keeps the SSH private key secret on every resource that carries it", async () => {
    const r = await run();
    // nag variant: 3 repository files, superseded-file removal, packages, 2 users, 2 sudoers files, hosts, sshd drop-in, nag hook
    expect(ofVariant(r, "nag").filter((x) => "sshPrivateKey" in x.rawInputs).length).toBe(12);
    const carriers = r.registrations.filter((x) => "sshPrivateKey" in x.rawInputs);
    // ms01, v9, reef, after: 11 each; bare: 4 apt, hosts, sshd drop-in, 1 user; nag: 12;
    // pw: 4 apt, packages, hosts, sshd drop-in, 1 user, 1 sudoers file
    expect(carriers.length).toBe(72);
    for (const x of carriers) {
      expect(isSecretValue(x.rawInputs.sshPrivateKey)).toBe(true);
      expect(x.additionalSecretOutputs).toContain("sshPrivateKey");
    }
  });

  it("fails early, naming the field, for a Ceph release Proxmox does not ship (on that PVE major), an unknown PVE major, a user listed twice or a name on two hosts", async () => {
    await run(); // mocks in place
    const make = (extra: Partial<NodeBaselineArgs>) => () => new NodeBaseline(`bad-${Math.random()}`, baseArgs(extra));
    expect(make({ cephRelease: "pacific" })).toThrow('cephRelease "pacific" is not a Ceph release Proxmox ships; use one of: quincy, reef, squid');
    const twice = { name: "kellen", sshKeys: [], sudo: "none" as const };
    expect(make({ users: [twice, twice] })).toThrow('users: "kellen" is listed twice');
    expect(make({ hosts: [{ address: "10.0.0.1", names: ["a"] }, { address: "10.0.0.2", names: ["a"] }] })).toThrow(
      "hosts: name a is given to both 10.0.0.1 and 10.0.0.2",
    );
    expect(make({ packages: ["htop;reboot"] })).toThrow('packages: "htop;reboot" is not a Debian package name');
    expect(make({ pveMajor: 9, cephRelease: "reef" })).toThrow('cephRelease "reef" has no repository on Proxmox VE 9; use one of: squid');
    expect(make({ pveMajor: 7 })).toThrow("pveMajor 7 is not supported; supported: 8, 9");
  });

  it("warns when sudo needs a password the user can never have (no passwordHash, password locked)", async () => {
    await run(); // mocks in place
    expect(warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes("passwordHash"))).toEqual([]);
    new NodeBaseline("nohash-baseline", baseArgs({ users: [{ name: "kellen", sshKeys: [], sudo: "password" }] }));
    expect(warn.mock.calls.map((c) => String(c[0]))).toContain(
      'users: kellen has sudo "password" but no passwordHash, and the password is locked, so sudo can never succeed; give the user a passwordHash',
    );
  });
});
