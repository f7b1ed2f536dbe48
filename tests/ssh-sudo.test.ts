/**
 * A login user that is not root (a cloud image's default user, a Pi's admin
 * account), with `sudo` on its connection: every command runs through
 * `sudo -n`, stdin included, and a user without passwordless sudo fails at
 * once with the node and our command in the message (not sudo's wrapper, not
 * a hang waiting for a password). Without `sudo`, commands run as the user.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshTarget } from "../infra/providers/connection";
import { CommandFailedError, withSession } from "../infra/ssh";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;

/** A user with root's authorized key, with or without passwordless sudo. */
async function addUser(name: string, sudo: boolean): Promise<void> {
  const home = `/home/${name}`;
  const steps = [
    // "*": no password, but not locked ("!"), which sshd without PAM would refuse.
    `useradd -m -s /bin/bash -p '*' ${name}`,
    `install -d -m 700 -o ${name} ${home}/.ssh`,
    `install -m 600 -o ${name} /root/.ssh/authorized_keys ${home}/.ssh/authorized_keys`,
    sudo ? `echo '${name} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-${name} && chmod 440 /etc/sudoers.d/90-${name}` : "true",
  ];
  const r = await sim.exec("vm1", steps.join(" && "));
  expect(r.code, r.stderr).toBe(0);
}

function as(user: string, sudo = user !== "root") {
  const conn = simConnection(sim, "vm1");
  return sshTarget({ ...conn, connection: { ...conn.connection, user, sudo } });
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "vm1", distro: "debian" }]);
  // The command log is shared by every login user of the simulated host.
  for (const file of ["commands.jsonl", "commands.lock"]) {
    fs.appendFileSync(path.join(sim.stateDir, file), "");
    fs.chmodSync(path.join(sim.stateDir, file), 0o666);
  }
  await addUser("debian", true);
  await addUser("guest", false);
}, 60_000);

afterAll(async () => {
  await sim?.stop();
});

describe("commands of a login user that is not root", () => {
  it("run as root through sudo, with stdin passed through", async () => {
    const out = await withSession(as("debian"), async (s) => {
      await s.check("cat > /root/written-through-sudo", { stdin: "hello\n" });
      return (await s.check("id -un; cat /root/written-through-sudo")).stdout;
    });
    expect(out).toBe("root\nhello\n");
    expect(sim.commandLog().map((e) => e.command)).toContain("sudo -n -- sh -c 'id -un; cat /root/written-through-sudo'");
  });

  it("fail at once without passwordless sudo, naming the node and our command", async () => {
    const err = await withSession(as("guest"), (s) => s.check("id -un")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect(String(err)).toMatch(/^.*vm1: id failed \(exit 1\).*a password is required/s);
  });

  it("leave root's commands, and a user's without sudo, as they are", async () => {
    sim.clearLog();
    await withSession(as("root"), (s) => s.check("id -un"));
    expect(await withSession(as("debian", false), (s) => s.check("id -un"))).toMatchObject({ stdout: "debian\n" });
    expect(sim.commandLog().map((e) => e.command)).toEqual(["id -un", "id -un"]);
  });
});
