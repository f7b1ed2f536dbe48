/**
 * LinuxUser provider and the sudoers drop-ins against the simulated cluster:
 * real useradd/usermod/visudo/sudo inside each node's private /etc and /home,
 * and real SSH logins as the created users.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sudoersFile } from "../infra/baseline";
import type { ConnectionArgs } from "../infra/providers/connection";
import { LINUX_USER_PROVIDER_VERSION, LinuxUserInputs, LinuxUserOutputs, linuxUserProvider } from "../infra/providers/linux-user";
import { REMOTE_FILE_PROVIDER_VERSION, remoteFileProvider } from "../infra/providers/remote-file";
import { withSession } from "../infra/ssh";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;
let keyDir: string;
const keys: Record<string, { priv: string; pub: string }> = {};

function conn(name: string): ConnectionArgs {
  const n = sim.node(name);
  return {
    connection: {
      node: n.name,
      host: n.host,
      port: n.port,
      user: "root",
      hostKey: n.hostKeyFingerprint,
      options: { connectTimeoutMs: 3000, retries: 1, retryBaseDelayMs: 50 },
    },
    sshPrivateKey: sim.clientPrivateKey,
  };
}

function user(node: string, extra: Partial<LinuxUserInputs> & { name: string }): LinuxUserInputs {
  return {
    ...conn(node),
    providerVersion: LINUX_USER_PROVIDER_VERSION,
    sshKeys: [],
    shell: "/bin/bash",
    groups: [],
    passwordLogin: false,
    removeOnDelete: false,
    ...extra,
  };
}

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`setup command failed (${r.code}): ${cmd}: ${r.stderr}`);
  return r.stdout;
}

const MUTATING = /\b(useradd|usermod|userdel|chpasswd|mv -f|chown|chmod|mkdir)\b/;
const mutating = () => sim.commandLog().map((e) => e.command).filter((c) => MUTATING.test(c));

/** Log in as `username` with `key` and run a command. */
async function runAs(node: string, username: string, key: string, cmd: string) {
  const n = sim.node(node);
  return withSession(
    { node: n.name, host: n.host, port: n.port, username, privateKey: key, hostKey: n.hostKeyFingerprint },
    (s) => s.run(cmd),
    { connectTimeoutMs: 3000, retries: 0 },
  );
}

beforeAll(async () => {
  keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "baseline-users-"));
  for (const k of ["kellen", "ansible", "intruder"]) {
    const file = path.join(keyDir, k);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${k}@test`, "-f", file]);
    keys[k] = { priv: fs.readFileSync(file, "utf8"), pub: fs.readFileSync(`${file}.pub`, "utf8").trim() };
  }
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf", pveVersion: "9.1.1" }]);
});

afterAll(async () => {
  await sim?.stop();
  if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
});

beforeEach(() => {
  sim.clearLog();
  sim.clearFaults();
});

describe("kellen: admin with sudo after password, SSH key only", () => {
  let outs: LinuxUserOutputs;

  it("creates the account with the key, owned by the user, 0600 in a 0700 ~/.ssh", async () => {
    const created = await linuxUserProvider.create!(user("foxtrot", { name: "kellen", sshKeys: [keys.kellen.pub] }));
    outs = created.outs!;
    expect(created.id).toBe("foxtrot:user:kellen");
    expect(outs.home).toBe("/home/kellen");
    expect(outs.uid).toBeGreaterThanOrEqual(1000);
    expect((await sh("foxtrot", "getent passwd kellen")).trim()).toMatch(/^kellen:x:\d+:\d+::\/home\/kellen:\/bin\/bash$/);
    expect(await sh("foxtrot", "cat /home/kellen/.ssh/authorized_keys")).toBe(keys.kellen.pub + "\n");
    expect((await sh("foxtrot", "stat -c '%a %U %G' /home/kellen/.ssh /home/kellen/.ssh/authorized_keys")).trim().split("\n")).toEqual([
      "700 kellen kellen",
      "600 kellen kellen",
    ]);
    const useradd = sim.commandLog().find((e) => e.command.startsWith("useradd"));
    expect(useradd?.command).toBe("useradd --create-home --shell /bin/bash --password '*' --user-group -- kellen");
  });

  it("has password login locked (passwd -S shows L) while the key still logs in", async () => {
    expect((await sh("foxtrot", "passwd -S kellen")).split(" ")[1]).toBe("L");
    const r = await runAs("foxtrot", "kellen", keys.kellen.priv, "id -un; echo HOME=$HOME");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("kellen\nHOME=/home/kellen\n");
  });

  it("refuses a key that is not configured", async () => {
    const err = await runAs("foxtrot", "kellen", keys.intruder.priv, "true").catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^foxtrot: authentication as kellen/);
  });

  it("a second run performs zero mutating commands", async () => {
    await linuxUserProvider.update!("foxtrot:user:kellen", outs, user("foxtrot", { name: "kellen", sshKeys: [keys.kellen.pub] }));
    expect(sim.commandLog().length).toBeGreaterThan(0);
    expect(mutating()).toEqual([]);
    sim.clearLog();
    // lost state: create against the existing, matching account
    await linuxUserProvider.create!(user("foxtrot", { name: "kellen", sshKeys: [keys.kellen.pub] }));
    expect(mutating()).toEqual([]);
  });

  it("gets full sudo with a password: the drop-in passes visudo and says so", async () => {
    const spec = sudoersFile("kellen", "password")!;
    await remoteFileProvider.create!({ ...conn("foxtrot"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...spec });
    expect(await sh("foxtrot", "cat /etc/sudoers.d/homelab-kellen")).toBe(
      "# Managed by Pulumi (homelab); edits are overwritten.\nkellen ALL=(ALL:ALL) ALL\n",
    );
    expect((await sh("foxtrot", "stat -c '%a %U %G' /etc/sudoers.d/homelab-kellen")).trim()).toBe("440 root root");
    expect(sim.commandLog().some((e) => e.command.includes("visudo -cf"))).toBe(true);
    // sudo itself agrees: all commands, password required
    const list = await sh("foxtrot", "sudo -l -U kellen");
    expect(list).toContain("(ALL : ALL) ALL");
    expect(list).not.toContain("NOPASSWD");
    // and without a password (-n) kellen is asked for one, i.e. refused
    const r = await runAs("foxtrot", "kellen", keys.kellen.priv, "sudo -n true");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/password is required/);
  });

  it("shows a key added by hand as drift, and the next apply restores exactly the configured keys", async () => {
    await sh("foxtrot", `echo '${keys.intruder.pub}' >> /home/kellen/.ssh/authorized_keys`);
    const read = await linuxUserProvider.read!("foxtrot:user:kellen", outs);
    expect(read.props!.sshKeys).toEqual([keys.kellen.pub, keys.intruder.pub]);
    const want = user("foxtrot", { name: "kellen", sshKeys: [keys.kellen.pub] });
    expect(await linuxUserProvider.diff!("id", read.props!, want)).toMatchObject({ changes: true, replaces: [] });
    sim.clearLog();
    await linuxUserProvider.update!("id", read.props!, want);
    expect(await sh("foxtrot", "cat /home/kellen/.ssh/authorized_keys")).toBe(keys.kellen.pub + "\n");
    expect(mutating().some((c) => c.includes("useradd") || c.includes("usermod"))).toBe(false);
    await expect(runAs("foxtrot", "kellen", keys.intruder.priv, "true")).rejects.toThrow(/authentication/);
  });

  it("shows a shell changed by hand as drift and changes only the shell back", async () => {
    await sh("foxtrot", "usermod --shell /bin/sh kellen");
    const read = await linuxUserProvider.read!("foxtrot:user:kellen", outs);
    expect(read.props!.shell).toBe("/bin/sh");
    const want = user("foxtrot", { name: "kellen", sshKeys: [keys.kellen.pub] });
    expect((await linuxUserProvider.diff!("id", read.props!, want)).changes).toBe(true);
    sim.clearLog();
    await linuxUserProvider.update!("id", read.props!, want);
    expect(mutating()).toEqual(["usermod --shell /bin/bash -- kellen"]);
  });

  it("shows a password set by hand as drift and locks it again", async () => {
    await sh("foxtrot", "echo 'kellen:hunter2-hunter2' | chpasswd");
    expect((await sh("foxtrot", "passwd -S kellen")).split(" ")[1]).toBe("P");
    const read = await linuxUserProvider.read!("foxtrot:user:kellen", outs);
    expect(read.props!.passwordLogin).toBe(true);
    sim.clearLog();
    await linuxUserProvider.update!("id", read.props!, user("foxtrot", { name: "kellen", sshKeys: [keys.kellen.pub] }));
    expect(mutating()).toEqual(["usermod --lock -- kellen"]);
    expect((await sh("foxtrot", "passwd -S kellen")).split(" ")[1]).toBe("L");
    const again = await linuxUserProvider.read!("foxtrot:user:kellen", outs);
    expect(again.props!.passwordLogin).toBe(false);
  });

  it("passwordLogin true unlocks a locked password, and never touches an account without one", async () => {
    sim.clearLog();
    await linuxUserProvider.update!("id", outs, user("foxtrot", { name: "kellen", sshKeys: [keys.kellen.pub], passwordLogin: true }));
    expect(mutating()).toEqual(["usermod --unlock -- kellen"]);
    expect((await sh("foxtrot", "passwd -S kellen")).split(" ")[1]).toBe("P");
    // back to locked for the rest of the file
    await linuxUserProvider.update!("id", outs, user("foxtrot", { name: "kellen", sshKeys: [keys.kellen.pub] }));
    expect((await sh("foxtrot", "passwd -S kellen")).split(" ")[1]).toBe("L");
  });

  it("delete keeps the account and its home by default", async () => {
    await linuxUserProvider.delete!("foxtrot:user:kellen", outs);
    expect(mutating()).toEqual([]);
    expect((await sim.exec("foxtrot", "getent passwd kellen")).code).toBe(0);
    expect((await sim.exec("foxtrot", "test -d /home/kellen")).code).toBe(0);
  });
});

describe("ansible: automation account with passwordless sudo", () => {
  it("is created in the given groups, gets NOPASSWD sudo, and can really sudo without a password", async () => {
    const { outs } = await linuxUserProvider.create!(
      user("golf", { name: "ansible", sshKeys: [keys.ansible.pub], groups: ["adm", "systemd-journal"] }),
    );
    expect(outs!.groups).toEqual(["adm", "systemd-journal"]);
    expect((await sh("golf", "id -nG ansible")).trim().split(" ").sort()).toEqual(["adm", "ansible", "systemd-journal"]);
    await remoteFileProvider.create!({ ...conn("golf"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...sudoersFile("ansible", "nopasswd")! });
    expect(await sh("golf", "cat /etc/sudoers.d/homelab-ansible")).toContain("ansible ALL=(ALL:ALL) NOPASSWD: ALL\n");
    const r = await runAs("golf", "ansible", keys.ansible.priv, "sudo -n id -un");
    expect(r.stdout).toBe("root\n");
    expect(r.code).toBe(0);
  });

  it("shows group drift and sets exactly the configured supplementary groups", async () => {
    await sh("golf", "usermod -a -G sudo ansible && gpasswd -d ansible adm >/dev/null");
    const outs = { ...user("golf", { name: "ansible", sshKeys: [keys.ansible.pub], groups: ["adm", "systemd-journal"] }), uid: 0, home: "" };
    const read = await linuxUserProvider.read!("golf:user:ansible", outs);
    expect(read.props!.groups).toEqual(["sudo", "systemd-journal"]);
    sim.clearLog();
    await linuxUserProvider.update!("id", read.props!, outs);
    expect(mutating()).toEqual(["usermod --groups adm,systemd-journal -- ansible"]);
  });

  it("a broken sudoers candidate is refused and the old file kept", async () => {
    const good = sudoersFile("ansible", "nopasswd")!;
    const broken = { ...conn("golf"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...good, content: "ansible ALL=(ALL:ALL NOPASSWD: ALL\n" };
    const err = await remoteFileProvider.update!("id", broken, broken).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^golf: visudo failed/);
    expect(await sh("golf", "cat /etc/sudoers.d/homelab-ansible")).toBe(good.content);
    const r = await runAs("golf", "ansible", keys.ansible.priv, "sudo -n true");
    expect(r.code).toBe(0);
  });

  it("removing sudo (the sudoers resource deleted) takes the rights away", async () => {
    const spec = { ...conn("golf"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...sudoersFile("ansible", "nopasswd")! };
    await remoteFileProvider.delete!("id", spec);
    expect((await sim.exec("golf", "test -e /etc/sudoers.d/homelab-ansible")).code).not.toBe(0);
    const r = await runAs("golf", "ansible", keys.ansible.priv, "sudo -n true");
    expect(r.code).not.toBe(0);
  });

  it("removeOnDelete removes the account and its home", async () => {
    const outs = { ...user("golf", { name: "ansible", removeOnDelete: true }), uid: 0, home: "" };
    await linuxUserProvider.delete!("golf:user:ansible", outs);
    expect(mutating()).toEqual(["userdel --remove -- ansible"]);
    expect((await sim.exec("golf", "getent passwd ansible")).code).toBe(2);
    expect((await sim.exec("golf", "test -e /home/ansible")).code).not.toBe(0);
    expect((await linuxUserProvider.read!("golf:user:ansible", outs)).id).toBe("");
  });
});

describe("edge cases", () => {
  it("uses an existing group of the same name as the primary group", async () => {
    await sh("foxtrot", "groupadd ops");
    await linuxUserProvider.create!(user("foxtrot", { name: "ops", sshKeys: [] }));
    expect(mutating()[0]).toBe("useradd --create-home --shell /bin/bash --password '*' --gid ops -- ops");
    expect((await sh("foxtrot", "id -gn ops")).trim()).toBe("ops");
    expect(await sh("foxtrot", "cat /home/ops/.ssh/authorized_keys")).toBe("");
  });

  it("passwordLogin true on an account without any password changes nothing (and reads back as no drift)", async () => {
    sim.clearLog();
    const want = user("foxtrot", { name: "ops", sshKeys: [], passwordLogin: true });
    await linuxUserProvider.update!("id", want as LinuxUserOutputs, want);
    expect(mutating()).toEqual([]);
    expect((await sh("foxtrot", "passwd -S ops")).split(" ")[1]).toBe("L");
    const read = await linuxUserProvider.read!("id", { ...want, uid: 0, home: "" });
    expect((await linuxUserProvider.diff!("id", read.props!, want)).changes).toBe(false);
  });

  it("refuses a shell that does not exist on the node, before creating anything", async () => {
    const err = await linuxUserProvider.create!(user("foxtrot", { name: "zed", shell: "/usr/bin/zsh-nope" })).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      "foxtrot: shell /usr/bin/zsh-nope of user zed does not exist on the node (install its package first)",
    );
    expect(mutating()).toEqual([]);
  });

  it("refuses root, bad names and keys with line breaks without running anything", async () => {
    await expect(linuxUserProvider.create!(user("foxtrot", { name: "root" }))).rejects.toThrow(/does not manage root/);
    await expect(linuxUserProvider.create!(user("foxtrot", { name: "x;reboot" }))).rejects.toThrow(/not a valid Linux user name/);
    await expect(linuxUserProvider.create!(user("foxtrot", { name: "eve", sshKeys: ["ssh-ed25519 AAAA\nssh-rsa BBBB"] }))).rejects.toThrow(
      /contains a line break/,
    );
    expect(sim.commandLog()).toEqual([]);
  });

  it("refuses to write keys through a symlinked ~/.ssh", async () => {
    await linuxUserProvider.create!(user("foxtrot", { name: "mallory", sshKeys: [] }));
    await sh("foxtrot", "rm -rf /home/mallory/.ssh && ln -s /etc /home/mallory/.ssh");
    const err = await linuxUserProvider
      .update!("id", user("foxtrot", { name: "mallory" }) as LinuxUserOutputs, user("foxtrot", { name: "mallory", sshKeys: [keys.intruder.pub] }))
      .catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^foxtrot: .*is a symlink; refusing to write through it/);
    expect((await sim.exec("foxtrot", "test -e /etc/authorized_keys")).code).not.toBe(0);
  });
});

describe("diff", () => {
  const base = () => ({ ...user("foxtrot", { name: "kellen", sshKeys: ["ssh-ed25519 AAA a", "ssh-ed25519 BBB b"] }), uid: 1000, home: "/home/kellen" });

  it("replaces (delete first) on a new name or node, updates in place otherwise", async () => {
    const o = base();
    expect(await linuxUserProvider.diff!("id", o, { ...o, name: "kellen2" })).toMatchObject({
      changes: true,
      replaces: ["name"],
      deleteBeforeReplace: true,
    });
    expect((await linuxUserProvider.diff!("id", o, { ...o, connection: { ...o.connection, node: "golf" } })).replaces).toEqual(["connection"]);
    expect(await linuxUserProvider.diff!("id", o, { ...o, shell: "/bin/sh" })).toMatchObject({ changes: true, replaces: [] });
    expect(await linuxUserProvider.diff!("id", o, { ...o, removeOnDelete: true })).toMatchObject({ changes: true, replaces: [] });
  });

  it("ignores key order, group order and the SSH private key", async () => {
    const o = { ...base(), groups: ["adm", "sudo"] };
    expect((await linuxUserProvider.diff!("id", o, { ...o, sshKeys: [...o.sshKeys].reverse(), groups: ["sudo", "adm"] })).changes).toBe(false);
    expect((await linuxUserProvider.diff!("id", o, { ...o, sshPrivateKey: "other" })).changes).toBe(false);
  });

  it("treats unknown preview values as changes", async () => {
    const o = base();
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect((await linuxUserProvider.diff!("id", o, { ...o, sshKeys: [unknown] })).changes).toBe(true);
    expect((await linuxUserProvider.diff!("id", o, { ...o, name: unknown })).replaces).toEqual(["name"]);
    // whole lists unknown
    const whole = { ...o, sshKeys: unknown, groups: unknown } as unknown as LinuxUserInputs;
    expect((await linuxUserProvider.diff!("id", o, whole)).changes).toBe(true);
  });
});

describe("serialization", () => {
  it("serializes without secrets or key material and creates through the loaded copy", async () => {
    const s = serializeProvider("infra/providers/linux-user.ts", "linuxUserProvider");
    expect(s.containsSecrets).toBe(false);
    expect(s.text).not.toMatch(/PRIVATE KEY/);
    const provider = s.load();
    const { outs } = await provider.create!(user("golf", { name: "serial", sshKeys: [keys.kellen.pub] }));
    expect(outs.home).toBe("/home/serial");
    const r = await runAs("golf", "serial", keys.kellen.priv, "id -un");
    expect(r.stdout).toBe("serial\n");
  });
});
