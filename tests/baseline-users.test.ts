/**
 * LinuxUser provider and the sudoers drop-ins against the simulated cluster:
 * real useradd/usermod/visudo/sudo inside each node's private /etc and /home,
 * and real SSH logins as the created users.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "ssh2";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SSHD_USERS_PATH, sshdUsersFile, sudoersFile } from "../infra/baseline";
import type { ConnectionArgs } from "../infra/providers/connection";
import { LINUX_USER_PROVIDER_VERSION, LinuxUserInputs, LinuxUserOutputs, linuxUserProvider } from "../infra/providers/linux/linux-user";
import { REMOTE_FILE_PROVIDER_VERSION, remoteFileProvider } from "../infra/providers/linux/remote-file";
import { withSession } from "../infra/ssh";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { simConnection } from "./helpers/sim-connection";

let sim: SimCluster;
let keyDir: string;
const keys: Record<string, { priv: string; pub: string }> = {};

function conn(name: string): ConnectionArgs {
  return simConnection(sim, name);
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

/** Log in as `username` with `key` and run a command (stdin: what the command reads). */
async function runAs(node: string, username: string, key: string, cmd: string, stdin?: string) {
  const n = sim.node(node);
  return withSession(
    { node: n.name, host: n.host, port: n.port, username, privateKey: key, hostKey: n.hostKeyFingerprint },
    (s) => s.run(cmd, { stdin }),
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

/**
 * Tries a password login (password, then keyboard-interactive answering the password) and reports
 * what the server offered after "none" and whether it let the user in. Only authentication is
 * looked at: "ready" fires once sshd accepted the user, before any session.
 */
function tryPasswordLogin(host: string, port: number, username: string, password: string) {
  return new Promise<{ offered: string[]; accepted: boolean }>((resolve) => {
    const c = new Client();
    let offered: string[] = [];
    const tried = new Set<string>();
    c.on("ready", () => {
      c.end();
      resolve({ offered, accepted: true });
    });
    c.on("error", () => resolve({ offered, accepted: false }));
    c.on("keyboard-interactive", (_name, _instr, _lang, prompts, finish) => finish(prompts.map(() => password)));
    c.connect({
      host,
      port,
      username,
      readyTimeout: 5000,
      hostVerifier: () => true,
      authHandler: (methodsLeft, _partial, next) => {
        // null on the first call (ssh2's typings do not say so)
        if ((methodsLeft as string[] | null) === null) return next({ type: "none", username });
        if (offered.length === 0) offered = [...methodsLeft];
        if (methodsLeft.includes("password") && !tried.has("password")) {
          tried.add("password");
          return next({ type: "password", username, password });
        }
        if (methodsLeft.includes("keyboard-interactive") && !tried.has("kbd")) {
          tried.add("kbd");
          return next({ type: "keyboard-interactive", username, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)) });
        }
        // false: no more methods (ssh2 accepts it; its typings do not list it)
        return (next as (method: unknown) => void)(false);
      },
    });
  });
}

/** A SHA-512 crypt hash of `password`, made at run time (the password goes in on stdin). */
function sha512Crypt(password: string): string {
  return execFileSync("openssl", ["passwd", "-6", "-stdin"], { input: `${password}\n` }).toString().trim();
}

describe("kellen with a passwordHash: full sudo with his password, SSH key only (enforced by sshd)", () => {
  const password = `pw-${crypto.randomBytes(9).toString("base64url")}`;
  const hash = sha512Crypt(password);
  const other = `other-${crypto.randomBytes(9).toString("base64url")}`;
  let handHash = ""; // a hash set by hand on the node (yescrypt, made by the node's chpasswd)
  const TEST_SSHD_PORT = 2222;
  const withHash = (extra: Partial<LinuxUserInputs> = {}) =>
    user("golf", { name: "kellen", sshKeys: [keys.kellen.pub], passwordHash: hash, ...extra });
  let outs: LinuxUserOutputs;
  const sshdSpec = () => ({ ...conn("golf"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...sshdUsersFile(["kellen", "ansible"]) });
  const shadowField = async (u: string) => (await sh("golf", `getent shadow ${u}`)).split(":")[1];
  const effective = async (u: string) =>
    (await sh("golf", `sshd -T -C user=${u},host=x,addr=127.0.0.1`))
      .split("\n")
      .filter((l) => /^(passwordauthentication|kbdinteractiveauthentication) /.test(l))
      .sort();

  afterEach(() => {
    // Neither the hash nor the password ever reaches a command line (the sim logs every one).
    for (const e of sim.commandLog()) {
      expect(e.command).not.toContain(hash);
      expect(e.command).not.toContain(password);
      if (handHash) expect(e.command).not.toContain(handHash);
    }
  });

  afterAll(async () => {
    // the extra sshd started below, by its pid file
    await sim?.exec("golf", "if [ -f /run/homelab-test-sshd.pid ]; then kill $(cat /run/homelab-test-sshd.pid); fi");
  });

  it("the node's sshd reads sshd_config.d/*.conf first, and password logins are on by default (the premise)", async () => {
    expect(await sh("golf", "grep -n '^Include' /etc/ssh/sshd_config")).toMatch(/^\d+:Include \/etc\/ssh\/sshd_config\.d\/\*\.conf$/m);
    expect((await sim.exec("golf", "sshd -t")).code).toBe(0);
    expect(await effective("kellen")).toEqual(["kbdinteractiveauthentication no", "passwordauthentication yes"]);
  });

  it("writes the sshd drop-in, validated against the whole configuration first, then reloads ssh", async () => {
    const tools = sim.toolLog().length;
    await remoteFileProvider.create!(sshdSpec());
    expect(await sh("golf", `cat ${SSHD_USERS_PATH}`)).toBe(
      "# Managed by Pulumi (homelab); edits are overwritten.\n" +
        "# SSH keys only for these users; their passwords still work for sudo and on the console.\n" +
        "Match User kellen,ansible\n\tPasswordAuthentication no\n\tKbdInteractiveAuthentication no\n",
    );
    expect((await sh("golf", `stat -c '%a %U %G' ${SSHD_USERS_PATH}`)).trim()).toBe("644 root root");
    const install = sim.commandLog().find((e) => e.command.includes("mktemp"))!.command;
    expect(install).toContain("sshd -t -f");
    expect(install.indexOf("sshd -t -f")).toBeLessThan(install.indexOf("mv -f"));
    expect(sim.toolLog().slice(tools).map((t) => [t.tool, ...t.argv].join(" "))).toEqual(["systemctl reload ssh"]);
    // sshd itself now says: no password for kellen and ansible, nothing changed for anyone else
    expect(await effective("kellen")).toEqual(["kbdinteractiveauthentication no", "passwordauthentication no"]);
    expect(await effective("ansible")).toEqual(["kbdinteractiveauthentication no", "passwordauthentication no"]);
    expect(await effective("pwuser")).toEqual(["kbdinteractiveauthentication no", "passwordauthentication yes"]);
    // unchanged: no rewrite, no reload
    sim.clearLog();
    await remoteFileProvider.update!("id", sshdSpec(), sshdSpec());
    expect(mutating()).toEqual([]);
    expect(sim.toolLog().length).toBe(tools + 1);
  });

  it("sets kellen's shadow hash with chpasswd -e (hash on stdin), and the password stays usable", async () => {
    const created = await linuxUserProvider.create!(withHash());
    outs = created.outs!;
    expect(await shadowField("kellen")).toBe(hash);
    expect((await sh("golf", "passwd -S kellen")).split(" ")[1]).toBe("P");
    expect(mutating().filter((c) => /^(useradd|usermod|chpasswd)/.test(c))).toEqual([
      "useradd --create-home --shell /bin/bash --password '*' --user-group -- kellen",
      "chpasswd -e",
    ]);
    // echoed as the (secret) passwordHash output only; no other output carries it
    expect(outs.passwordHash).toBe(hash);
    expect(JSON.stringify({ ...outs, passwordHash: undefined })).not.toContain(hash);
  });

  it("kellen logs in with his key and sudo -S -v takes his password (and refuses a wrong one)", async () => {
    await remoteFileProvider.create!({ ...conn("golf"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...sudoersFile("kellen", "password")! });
    const who = await runAs("golf", "kellen", keys.kellen.priv, "id -un");
    expect(who).toMatchObject({ code: 0, stdout: "kellen\n" });
    const wrong = await runAs("golf", "kellen", keys.kellen.priv, "sudo -k -S -v", `${other}\n`);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/incorrect password/);
    // -v caches the credential, so the -n run after it needs no password
    const right = await runAs("golf", "kellen", keys.kellen.priv, "sudo -k; sudo -S -v && sudo -n id -un", `${password}\n`);
    expect(right.stderr).not.toMatch(/incorrect password|Sorry/);
    expect(right).toMatchObject({ code: 0, stdout: "root\n" });
  });

  it("sshd refuses kellen's password (only publickey offered) while it takes another user's", async () => {
    // pwuser: a hash and passwordLogin true, so not in the Match: the control that password logins work at all
    await linuxUserProvider.create!(user("golf", { name: "pwuser", passwordHash: hash, passwordLogin: true }));
    // An sshd of the node's own /etc/ssh/sshd_config (UsePAM yes, the drop-in included), on another port.
    const n = sim.node("golf");
    await sh(
      "golf",
      `/usr/sbin/sshd -f /etc/ssh/sshd_config -o ListenAddress=${n.host}:${TEST_SSHD_PORT} -o PidFile=/run/homelab-test-sshd.pid -E /tmp/homelab-test-sshd.log`,
    );
    for (let i = 0; i < 100 && (await sim.exec("golf", "test -s /run/homelab-test-sshd.pid")).code !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    const control = await tryPasswordLogin(n.host, TEST_SSHD_PORT, "pwuser", password);
    expect(control).toEqual({ offered: expect.arrayContaining(["publickey", "password"]), accepted: true });
    const kellen = await tryPasswordLogin(n.host, TEST_SSHD_PORT, "kellen", password);
    expect(kellen).toEqual({ offered: ["publickey"], accepted: false });
    const log = await sh("golf", "cat /tmp/homelab-test-sshd.log");
    expect(log).toMatch(/Accepted password for pwuser/);
    expect(log).not.toMatch(/password for kellen/);
  });

  it("a second apply (and a create with lost state) runs no mutating command", async () => {
    await linuxUserProvider.update!("golf:user:kellen", outs, withHash());
    expect(sim.commandLog().length).toBeGreaterThan(0);
    expect(mutating()).toEqual([]);
    sim.clearLog();
    await linuxUserProvider.create!(withHash());
    expect(mutating()).toEqual([]);
    // read: no drift
    const read = await linuxUserProvider.read!("golf:user:kellen", outs);
    expect(read.props!.passwordHash).toBe(hash);
    expect(read.props!.passwordLogin).toBe(false);
    expect((await linuxUserProvider.diff!("id", read.props!, withHash())).changes).toBe(false);
  });

  it("a password changed by hand shows as drift (without the node's hash) and the next apply restores the hash", async () => {
    await sh("golf", `echo 'kellen:${other}' | chpasswd`);
    handHash = await shadowField("kellen");
    expect(handHash).toMatch(/^\$y\$/);
    const read = await linuxUserProvider.read!("golf:user:kellen", outs);
    expect(read.props!.passwordHash).not.toBe(hash);
    expect(JSON.stringify(read.props)).not.toContain(handHash);
    expect(read.props!.passwordLogin).toBe(false); // a usable password is what is wanted here, not drift
    expect(await linuxUserProvider.diff!("id", read.props!, withHash())).toMatchObject({ changes: true, replaces: [] });
    sim.clearLog();
    await linuxUserProvider.update!("id", read.props!, withHash());
    expect(mutating()).toEqual(["chpasswd -e"]);
    expect(await shadowField("kellen")).toBe(hash);
    const again = await linuxUserProvider.read!("golf:user:kellen", outs);
    expect(again.props!.passwordHash).toBe(hash);
  });

  it("a password locked by hand is drift too, and unlocked by setting the hash again", async () => {
    await sh("golf", "usermod --lock kellen");
    expect((await linuxUserProvider.read!("golf:user:kellen", outs)).props!.passwordHash).not.toBe(hash);
    sim.clearLog();
    await linuxUserProvider.update!("id", outs, withHash());
    expect(mutating()).toEqual(["chpasswd -e"]);
    expect(await shadowField("kellen")).toBe(hash);
  });

  it("a new hash in the config is set; diff sees it, and an unknown (preview) hash as a change", async () => {
    const newHash = sha512Crypt(other);
    expect(await linuxUserProvider.diff!("id", outs, withHash({ passwordHash: newHash }))).toMatchObject({ changes: true, replaces: [] });
    expect((await linuxUserProvider.diff!("id", outs, withHash({ passwordHash: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }))).changes).toBe(true);
    await linuxUserProvider.update!("id", outs, withHash({ passwordHash: newHash }));
    expect(await shadowField("kellen")).toBe(newHash);
    await linuxUserProvider.update!("id", outs, withHash());
    expect(await shadowField("kellen")).toBe(hash);
  });

  it("a failing chpasswd names node and tool, and its output never shows the hash", async () => {
    await sh("golf", "usermod --lock kellen");
    sim.injectFault({ node: "golf", match: "chpasswd", mode: "fail-once", exitCode: 1, stderr: `chpasswd: line 1: cannot update kellen:${hash}` });
    const err = (await linuxUserProvider.update!("id", outs, withHash()).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^golf: chpasswd failed \(exit 1\): chpasswd: line 1: cannot update kellen:\*\*\*/);
    expect(err.message).not.toContain(hash);
    expect(JSON.stringify(err)).not.toContain(hash);
    sim.clearFaults();
    await linuxUserProvider.update!("id", outs, withHash());
    expect(await shadowField("kellen")).toBe(hash);
  });

  it("refuses something that is not a crypt hash without showing it or running anything", async () => {
    for (const bad of ["hunter2-hunter2", "$1$abcdefgh$0123456789abcdefghijkl", `${hash}\n`, `${hash}:x`, "!" + hash]) {
      const err = (await linuxUserProvider.create!(withHash({ passwordHash: bad })).catch((e: Error) => e)) as Error;
      expect(err.message).toMatch(/^golf: passwordHash of kellen is not a crypt\(3\) hash/);
      expect(err.message).not.toContain(bad.slice(0, 12));
    }
    expect(sim.commandLog()).toEqual([]);
  });

  it("the sshd drop-in's check refuses a broken candidate, an earlier drop-in that wins, and a config without the Include", async () => {
    const good = sshdSpec();
    const before = await sh("golf", `cat ${SSHD_USERS_PATH}`);
    const tools = sim.toolLog().length;
    // a keyword sshd does not allow inside Match
    const broken = { ...good, content: good.content + "\tPort 2200\n" };
    let err = (await remoteFileProvider.update!("id", good, broken).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/^golf: sh failed \(exit 86\): sshd -t rejects the configuration with the new \/etc\/ssh\/sshd_config\.d\/50-homelab-users\.conf:\n/);
    expect(err.message).toContain("/etc/ssh/sshd_config.d/50-homelab-users.conf line 6: Directive 'Port' is not allowed within a Match block");
    // an earlier drop-in's Match wins for kellen ("first obtained value")
    await sh("golf", "printf 'Match User kellen\\n\\tPasswordAuthentication yes\\n' > /etc/ssh/sshd_config.d/10-local.conf");
    err = (await remoteFileProvider.update!("id", good, { ...good, content: good.content + "# touched\n" }).catch((e: Error) => e)) as Error;
    expect(err.message).toContain("sshd still has passwordauthentication on for kellen (an earlier setting wins)");
    await sh("golf", "rm /etc/ssh/sshd_config.d/10-local.conf");
    // a main config that does not include sshd_config.d
    await sh("golf", "cp -p /etc/ssh/sshd_config /root/sshd_config.orig && sed -i '/^Include/d' /etc/ssh/sshd_config");
    err = (await remoteFileProvider.update!("id", good, { ...good, content: good.content + "# touched\n" }).catch((e: Error) => e)) as Error;
    await sh("golf", "mv /root/sshd_config.orig /etc/ssh/sshd_config");
    expect(err.message).toContain("/etc/ssh/sshd_config does not include /etc/ssh/sshd_config.d/*.conf, so sshd would ignore /etc/ssh/sshd_config.d/50-homelab-users.conf");
    // nothing replaced, no reload, no temp files left
    expect(await sh("golf", `cat ${SSHD_USERS_PATH}`)).toBe(before);
    expect(sim.toolLog().length).toBe(tools);
    expect(await sh("golf", "ls -A /etc/ssh/sshd_config.d")).toBe("50-homelab-users.conf\n");
  });

  it("delete keeps the account but locks the password it set", async () => {
    sim.clearLog();
    await linuxUserProvider.delete!("golf:user:kellen", outs);
    expect(mutating()).toEqual(["usermod --lock -- kellen"]);
    expect((await sh("golf", "passwd -S kellen")).split(" ")[1]).toBe("L");
    expect((await sim.exec("golf", "test -d /home/kellen")).code).toBe(0);
    expect(await shadowField("kellen")).toBe(`!${hash}`);
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

  it("updates in place when the password hash is added, changed or removed; unset spellings are equal", async () => {
    const o = base();
    const h = "$6$saltsalt$" + "x".repeat(86);
    expect(await linuxUserProvider.diff!("id", o, { ...o, passwordHash: h })).toMatchObject({ changes: true, replaces: [] });
    expect(await linuxUserProvider.diff!("id", { ...o, passwordHash: h }, { ...o, passwordHash: h + "y" })).toMatchObject({ changes: true, replaces: [] });
    expect((await linuxUserProvider.diff!("id", { ...o, passwordHash: h }, o)).changes).toBe(true);
    expect((await linuxUserProvider.diff!("id", { ...o, passwordHash: h }, { ...o, passwordHash: h })).changes).toBe(false);
    expect((await linuxUserProvider.diff!("id", { ...o, passwordHash: "" }, o)).changes).toBe(false);
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
    const s = serializeProvider("infra/providers/linux/linux-user.ts", "linuxUserProvider");
    expect(s.containsSecrets).toBe(false);
    expect(s.text).not.toMatch(/PRIVATE KEY/);
    const provider = s.load();
    const hash = sha512Crypt(crypto.randomBytes(9).toString("base64url"));
    const { outs } = await provider.create!(user("golf", { name: "serial", sshKeys: [keys.kellen.pub], passwordHash: hash }));
    expect(outs.home).toBe("/home/serial");
    const r = await runAs("golf", "serial", keys.kellen.priv, "id -un");
    expect(r.stdout).toBe("serial\n");
    expect((await sh("golf", "getent shadow serial")).split(":")[1]).toBe(hash);
    // the loaded copy compares on the node too: no second chpasswd
    sim.clearLog();
    await provider.update!("golf:user:serial", outs, user("golf", { name: "serial", sshKeys: [keys.kellen.pub], passwordHash: hash }));
    expect(mutating()).toEqual([]);
  });
});
