/**
 * homelab:host:Baseline on its own, as on any Debian host: packages, /etc/hosts,
 * users with sudo and the sshd drop-in, none of the Proxmox repositories.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { HOST_BASELINE_TYPE, HostBaseline } from "../components/host-baseline";
import { isSecretValue, runStack, settled, StackRun, stubProviderSerialization } from "./helpers/pulumi-mocks";

// Wiring only; each provider's serialization is tested on its own (tests/serialization.test.ts).
stubProviderSerialization();

const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "host-baseline-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");
const KEY = "fake-ssh-private-key-for-mock-tests";

const nameOf = (urn: string) => urn.split("::").pop()!;

describe("HostBaseline", () => {
  let r: StackRun;
  beforeAll(async () => {
    r = await settled(
      await runStack(STACK_FILE, () => {
        const host = new HostBaseline("web-baseline", {
          access: { connection: { node: "web", host: "10.0.0.20", port: 22, user: "root", hostKey: "SHA256:abc" }, sshPrivateKey: KEY },
          packages: ["htop"],
          hosts: [{ address: "10.0.0.21", names: ["db"] }],
          users: [{ name: "ops", sshKeys: ["ssh-ed25519 AAAA ops"], sudo: "nopasswd" }],
        });
        return { ready: host.ready.map((x) => x.urn) };
      }),
    );
  });

  it("registers packages (sudo added for a sudoer), the hosts block, the sshd drop-in, the user and their sudoers file, and no APT repository", () => {
    expect(r.byName("web-baseline").type).toBe(HOST_BASELINE_TYPE);
    const children = r.registrations.filter((x) => x.parent === r.byName("web-baseline").urn);
    expect(children.map((x) => x.name).sort()).toEqual([
      "web-baseline-hosts",
      "web-baseline-packages",
      "web-baseline-sshd-users",
      "web-baseline-sudoers-ops",
      "web-baseline-user-ops",
    ]);
    expect(r.byName("web-baseline-packages").rawInputs.packages).toEqual(["htop", "sudo"]);
    expect(r.registrations.some((x) => String(x.rawInputs.path ?? "").startsWith("/etc/apt/"))).toBe(false);
  });

  it("creates the user after the packages and the sshd rules, and keeps the key secret", () => {
    expect(r.byName("web-baseline-user-ops").dependsOn.map(nameOf).sort()).toEqual(["web-baseline-packages", "web-baseline-sshd-users"]);
    for (const x of r.registrations.filter((x) => x.custom)) {
      expect(isSecretValue(x.rawInputs.sshPrivateKey), x.name).toBe(true);
    }
  });
});

describe("HostBaseline on a Rocky host with identity", () => {
  let r: StackRun;
  beforeAll(async () => {
    r = await settled(
      await runStack(STACK_FILE, () => {
        new HostBaseline("db-baseline", {
          access: { connection: { node: "db", host: "10.0.0.21", port: 22, user: "root", hostKey: "SHA256:abc" }, sshPrivateKey: KEY },
          packageManager: "dnf",
          packages: ["NetworkManager", "htop"],
          hosts: [{ address: "10.0.0.20", names: ["web"] }],
          hostname: "db",
          fqdn: "db.lab.example",
          timezone: "Europe/Berlin",
        });
        return {};
      }),
    );
  });

  it("installs with dnf (RPM names), sets host name, FQDN block (after the other /etc/hosts block) and time zone", () => {
    expect(r.byName("db-baseline-packages").rawInputs).toMatchObject({ manager: "dnf", packages: ["NetworkManager", "htop"] });
    expect(r.byName("db-baseline-hostname").rawInputs).toMatchObject({ path: "/etc/hostname", content: "db\n", onChangeCommand: ["hostnamectl", "set-hostname", "db"] });
    expect(r.byName("db-baseline-fqdn").rawInputs).toMatchObject({ path: "/etc/hosts", blockId: "hostname", content: "127.0.1.1\tdb.lab.example db\n" });
    expect(r.byName("db-baseline-fqdn").dependsOn.map(nameOf)).toEqual(["db-baseline-hosts"]);
    expect(r.byName("db-baseline-timezone").rawInputs).toMatchObject({ timezone: "Europe/Berlin" });
  });

  it("keeps apt resources without a manager input (no change for the existing stacks)", async () => {
    const apt = await settled(
      await runStack(STACK_FILE, () => {
        new HostBaseline("web-baseline", { access: { connection: { node: "web", host: "10.0.0.20", port: 22, user: "root", hostKey: "SHA256:abc" }, sshPrivateKey: KEY }, packages: ["htop"] });
        return {};
      }),
    );
    expect(apt.byName("web-baseline-packages").rawInputs.manager).toBeUndefined();
  });
});
