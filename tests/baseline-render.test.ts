/** Pure renderers and parsers of the node baseline. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  aptRepoFiles,
  hostsBlockFile,
  knownCephReleases,
  noNagHookFile,
  noNagPatchScript,
  normalizePackages,
  renderHostsBlock,
  renderNoNagHook,
  renderSshdUsers,
  renderSudoers,
  sshdUsersFile,
  sudoersFile,
} from "../infra/baseline";
import { isCryptHash } from "../infra/providers/linux/linux-user";
import { normalizeKeys, parseAccountState, parseAuthorizedKeys, parsePasswdLine } from "../infra/parse/accounts";
import { installedOf, isInstalled, parseDpkgQuery } from "../infra/parse/dpkg";

describe("hosts block", () => {
  it("renders one line per address, names de-duplicated, in the given order", () => {
    expect(
      renderHostsBlock([
        { address: "10.0.0.12", names: ["ms02", "ms02-link0", "ms02"] },
        { address: "10.0.0.11", names: [" ms01 ", "ms01-link0"] },
        { address: "fd00::11", names: ["ms01-v6"] },
      ]),
    ).toBe("10.0.0.12 ms02 ms02-link0\n10.0.0.11 ms01 ms01-link0\nfd00::11 ms01-v6\n");
    expect(renderHostsBlock([])).toBe("");
  });

  it("refuses an address twice, a name on two addresses, an empty name list and junk", () => {
    expect(() => renderHostsBlock([{ address: "10.0.0.1", names: ["a"] }, { address: "10.0.0.1", names: ["b"] }])).toThrow(
      "hosts: address 10.0.0.1 is listed twice; merge its names into one entry",
    );
    expect(() => renderHostsBlock([{ address: "10.0.0.1", names: ["A"] }, { address: "10.0.0.2", names: ["a"] }])).toThrow(
      "hosts: name a is given to both 10.0.0.1 and 10.0.0.2",
    );
    expect(() => renderHostsBlock([{ address: "10.0.0.1", names: [" "] }])).toThrow("hosts: address 10.0.0.1 has no names");
    expect(() => renderHostsBlock([{ address: "10.0.0.1; rm", names: ["a"] }])).toThrow('hosts: "10.0.0.1; rm" is not an IP address');
    expect(() => renderHostsBlock([{ address: "10.0.0.1", names: ["a b"] }])).toThrow('hosts: "a b" is not a valid host name');
  });

  it("is a block of /etc/hosts with the id cluster-nodes", () => {
    expect(hostsBlockFile([{ address: "10.0.0.1", names: ["a"] }])).toEqual({
      path: "/etc/hosts",
      blockId: "cluster-nodes",
      content: "10.0.0.1 a\n",
    });
  });
});

describe("sudoers", () => {
  it("password: all commands after the user's password; nopasswd: without; none: no file", () => {
    expect(renderSudoers("kellen", "password")).toBe("# Managed by Pulumi (homelab); edits are overwritten.\nkellen ALL=(ALL:ALL) ALL\n");
    expect(renderSudoers("ansible", "nopasswd")).toBe(
      "# Managed by Pulumi (homelab); edits are overwritten.\nansible ALL=(ALL:ALL) NOPASSWD: ALL\n",
    );
    expect(renderSudoers("guest", "none")).toBeUndefined();
    expect(sudoersFile("guest", "none")).toBeUndefined();
  });

  it("is a 0440 root file under /etc/sudoers.d without a dot in its name, validated by visudo", () => {
    expect(sudoersFile("ops-bot", "nopasswd")).toMatchObject({
      path: "/etc/sudoers.d/homelab-ops-bot",
      fileMode: "0440",
      owner: "root",
      group: "root",
      validateCommand: ["visudo", "-cf", "{}"],
    });
  });

  it("refuses a name that could change the rule", () => {
    expect(() => renderSudoers("a ALL=(ALL) NOPASSWD: ALL\nb", "password")).toThrow("is not a valid Linux user name");
  });
});

describe("APT repository files", () => {
  it("PVE 8: bookworm one-line .list files, enterprise commented out, Ceph exactly as pveceph install writes it", () => {
    const meta = { fileMode: "0644", owner: "root", group: "root" };
    expect(aptRepoFiles(8, "squid")).toEqual({
      pveEnterprise: {
        ...meta,
        path: "/etc/apt/sources.list.d/pve-enterprise.list",
        content: "# deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise\n",
      },
      pveNoSubscription: {
        ...meta,
        path: "/etc/apt/sources.list.d/pve-no-subscription.list",
        content: "deb http://download.proxmox.com/debian/pve bookworm pve-no-subscription\n",
      },
      ceph: {
        ...meta,
        path: "/etc/apt/sources.list.d/ceph.list",
        content: "deb http://download.proxmox.com/debian/ceph-squid bookworm no-subscription\n",
      },
    });
    expect(aptRepoFiles(8, "reef").ceph.content).toBe("deb http://download.proxmox.com/debian/ceph-reef bookworm no-subscription\n");
  });

  it("PVE 9: trixie deb822 .sources files, enterprise kept with Enabled: false, stanzas as the admin guide and pveceph write them", () => {
    const meta = { fileMode: "0644", owner: "root", group: "root" };
    expect(aptRepoFiles(9, "squid")).toEqual({
      pveEnterprise: {
        ...meta,
        path: "/etc/apt/sources.list.d/pve-enterprise.sources",
        content: [
          "Types: deb",
          "URIs: https://enterprise.proxmox.com/debian/pve",
          "Suites: trixie",
          "Components: pve-enterprise",
          "Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg",
          "Enabled: false",
          "",
        ].join("\n"),
      },
      pveNoSubscription: {
        ...meta,
        path: "/etc/apt/sources.list.d/proxmox.sources",
        content: [
          "Types: deb",
          "URIs: http://download.proxmox.com/debian/pve",
          "Suites: trixie",
          "Components: pve-no-subscription",
          "Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg",
          "",
        ].join("\n"),
      },
      ceph: {
        ...meta,
        path: "/etc/apt/sources.list.d/ceph.sources",
        content: [
          "Types: deb",
          "URIs: http://download.proxmox.com/debian/ceph-squid",
          "Suites: trixie",
          "Components: no-subscription",
          "Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg",
          "",
        ].join("\n"),
      },
    });
  });

  it("refuses an unknown major version", () => {
    expect(() => aptRepoFiles(7, "squid")).toThrow("pveMajor 7 is not supported; supported: 8, 9");
    expect(() => aptRepoFiles(10, "squid")).toThrow("pveMajor 10 is not supported; supported: 8, 9");
  });

  it("Ceph releases exist per PVE major: quincy/reef/squid on 8, only squid on 9", () => {
    expect(knownCephReleases()).toEqual(["quincy", "reef", "squid"]);
    expect(aptRepoFiles(8, "quincy").ceph.content).toContain("/debian/ceph-quincy bookworm no-subscription");
    expect(() => aptRepoFiles(9, "reef")).toThrow('cephRelease "reef" has no repository on Proxmox VE 9; use one of: squid');
    expect(() => aptRepoFiles(8, "pacific")).toThrow('cephRelease "pacific" has no repository on Proxmox VE 8; use one of: quincy, reef, squid');
  });
});

describe("subscription nag", () => {
  it("the hook is one apt.conf statement without characters apt.conf strings cannot hold", () => {
    const hook = renderNoNagHook();
    const statement = hook.split("\n").filter((l) => l && !l.startsWith("//"));
    expect(statement).toHaveLength(1);
    expect(statement[0]).toMatch(/^DPkg::Post-Invoke \{ "[^"\\]*"; \};$/);
    expect(statement[0]).toContain("|| true");
  });

  it("the patch is idempotent (checks its marker) and targets proxmoxlib.js", () => {
    expect(noNagPatchScript()).toContain("! grep -q NoMoreNagging /usr/share/javascript/proxmox-widget-toolkit/proxmoxlib.js");
    expect(() => noNagPatchScript("/tmp/x y")).toThrow("is not a plain absolute path");
  });

  it("the hook file is validated with apt-config and applied once on change", () => {
    expect(noNagHookFile()).toMatchObject({
      path: "/etc/apt/apt.conf.d/86homelab-no-nag",
      validateCommand: ["apt-config", "-c", "{}", "dump"],
      onChangeCommand: ["sh", "-c", noNagPatchScript()],
    });
  });
});

describe("package names", () => {
  it("sorts, de-duplicates and trims", () => {
    expect(normalizePackages(["sudo", " htop", "sudo", "lm-sensors", "g++"])).toEqual(["g++", "htop", "lm-sensors", "sudo"]);
  });

  it("refuses shell syntax, options and arch qualifiers", () => {
    expect(() => normalizePackages(["htop;reboot"])).toThrow('packages: "htop;reboot" is not a Debian package name');
    expect(() => normalizePackages(["-y"])).toThrow("is not a Debian package name");
    expect(() => normalizePackages(["libc6:i386"])).toThrow("is not a Debian package name");
  });
});

describe("dpkg-query output", () => {
  const out = [
    "bash install ok installed",
    "htop deinstall ok config-files",
    "jq install reinstreq half-installed",
    "libfoo hold ok installed",
    "libbar install ok triggers-pending",
    "",
  ].join("\n");

  it("counts only fully installed packages", () => {
    const s = parseDpkgQuery(out);
    expect(isInstalled(s.get("bash"))).toBe(true);
    expect(isInstalled(s.get("htop"))).toBe(false);
    expect(isInstalled(s.get("jq"))).toBe(false);
    expect(isInstalled(s.get("libfoo"))).toBe(true);
    expect(isInstalled(s.get("libbar"))).toBe(true);
    expect(isInstalled(s.get("missing"))).toBe(false);
  });

  it("answers in the order asked", () => {
    expect(installedOf(["sudo", "libfoo", "bash", "htop"], out)).toEqual(["libfoo", "bash"]);
  });

  it("a package installed for one of two architectures counts as installed", () => {
    expect(installedOf(["libx"], "libx install ok installed\nlibx deinstall ok config-files\n")).toEqual(["libx"]);
  });
});

describe("sshd per-user drop-in", () => {
  it("turns off password and keyboard-interactive logins for the key-only users, in one Match block at the end", () => {
    expect(renderSshdUsers(["kellen", "ansible", "kellen"])).toBe(
      "# Managed by Pulumi (homelab); edits are overwritten.\n" +
        "# SSH keys only for these users; their passwords still work for sudo and on the console.\n" +
        "Match User kellen,ansible\n\tPasswordAuthentication no\n\tKbdInteractiveAuthentication no\n",
    );
    expect(renderSshdUsers([])).toBe(
      "# Managed by Pulumi (homelab); edits are overwritten.\n# No managed user is limited to SSH keys: sshd's global settings apply.\n",
    );
    expect(() => renderSshdUsers(["kellen,root"])).toThrow('sshd: "kellen,root" is not a valid Linux user name');
    expect(() => renderSshdUsers(["*"])).toThrow("not a valid Linux user name");
  });

  it("is a whole 0644 root file, checked as part of the whole sshd configuration, and reloads ssh", () => {
    const f = sshdUsersFile(["kellen", "ansible"]);
    expect(f).toMatchObject({
      path: "/etc/ssh/sshd_config.d/50-homelab-users.conf",
      fileMode: "0644",
      owner: "root",
      group: "root",
      onChangeCommand: ["systemctl", "reload", "ssh"],
    });
    expect(f.blockId).toBeUndefined();
    expect(f.validateCommand!.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(f.validateCommand!.slice(3)).toEqual(["sshd-check", "{}", "/etc/ssh/sshd_config.d/50-homelab-users.conf", "kellen", "ansible"]);
    const script = f.validateCommand![2];
    expect(script).toContain('sshd -t -f "$d/sshd_config"');
    expect(script).toContain('sshd -T -f "$d/sshd_config" -C "user=$u,host=homelab-check,addr=127.0.0.1"');
    // the check must work under dash (sh on Debian)
    expect(execFileSync("sh", ["-n", "-c", script]).toString()).toBe("");
  });
});

describe("password hashes", () => {
  it("accepts crypt(3) hashes of the schemes Debian verifies and refuses the rest", () => {
    for (const ok of [
      "$y$j9T$6msjunOWhOYYsHsmwaSnx0$xidXSVB3LhbMoNkZiujVPCWaIYSM9THbZdd221WyBK9",
      "$6$aYwcCCjlm0bVdp.r$olSDIqi9iBSkRN07Yk1W0Y8KoDFfNuZ0yzJYMRW/wwzSqBKPTN.SPnURDbQxkZJ/MXrEVpAJcVvX2RPm/CEYT0",
      "$6$rounds=656000$saltsaltsalt$" + "a".repeat(86),
      "$5$saltsalt$" + "b".repeat(43),
      "$2b$12$" + "c".repeat(53),
      "$gy$j9T$salt$hash",
    ]) {
      expect(isCryptHash(ok)).toBe(true);
    }
    for (const bad of [
      "hunter2", // a password, not a hash
      "",
      "abJnggxhB/yWI", // DES
      "$1$saltsalt$" + "d".repeat(22), // MD5-crypt
      "!$6$salt$hash", // locked
      "*",
      "$6$salt$hash\nroot:$6$x$y", // a second chpasswd line
      "$6$salt$ha:sh",
      "$6$salt",
    ]) {
      expect(isCryptHash(bad)).toBe(false);
    }
  });
});

describe("account state", () => {
  it("parses a getent passwd line", () => {
    expect(parsePasswdLine("kellen:x:1001:1001:Kellen,,,:/home/kellen:/bin/bash")).toEqual({
      name: "kellen",
      uid: 1001,
      gid: 1001,
      home: "/home/kellen",
      shell: "/bin/bash",
    });
    expect(parsePasswdLine("garbage")).toBeUndefined();
  });

  it("parses the read script's output, keys verbatim after the separator", () => {
    const s = parseAccountState(
      [
        "passwd:kellen:x:1001:1001::/home/kellen:/bin/bash",
        "groups:kellen adm",
        "primary:kellen",
        "password:none",
        "sshdir:700 kellen kellen",
        "keysfile:600 kellen kellen",
        "---",
        "ssh-ed25519 AAA a\n# comment\n\nssh-ed25519 BBB b\n",
      ].join("\n"),
    );
    expect(s.groups).toEqual(["kellen", "adm"]);
    expect(s.password).toBe("none");
    expect(s.hashMatch).toBe("unset");
    expect(s.sshDir).toEqual({ mode: "0700", owner: "kellen", group: "kellen" });
    expect(parseAuthorizedKeys(s.keysText)).toEqual(["ssh-ed25519 AAA a", "ssh-ed25519 BBB b"]);
  });

  it("reads the on-node hash comparison, never a hash", () => {
    const state = (hash: string) => parseAccountState(`passwd:a:x:1:1::/h:/bin/sh\npassword:usable\nhash:${hash}\n---\n`);
    expect(state("same").hashMatch).toBe("same");
    expect(state("different").hashMatch).toBe("different");
    expect(() => state("$6$salt$hash")).toThrow("account state has an unknown hash comparison");
    expect(() => state("$6$salt$hash")).not.toThrow("$6$salt$hash");
  });

  it("refuses output without the separator or with an unknown password state", () => {
    expect(() => parseAccountState("passwd:x")).toThrow("no separator");
    expect(() => parseAccountState("passwd:a:x:1:1::/h:/bin/sh\npassword:maybe\n---\n")).toThrow('unknown password state "maybe"');
  });

  it("compares keys as sets with whitespace folded", () => {
    expect(normalizeKeys(["ssh-ed25519  BBB b ", "ssh-ed25519 AAA a", "ssh-ed25519 AAA a"])).toEqual([
      "ssh-ed25519 AAA a",
      "ssh-ed25519 BBB b",
    ]);
  });
});

describe("host identity", () => {
  it("refuses a bad host name, an FQDN that does not start with it, and a malformed time zone", async () => {
    const { checkTimezone, fqdnHostsBlock, hostnameFile } = await import("../infra/baseline");
    expect(() => hostnameFile("Web_1")).toThrow('hostname: "Web_1" is not a host name (lowercase letters, digits and "-", at most 63)');
    expect(() => fqdnHostsBlock("db.lab.example", "web")).toThrow('fqdn: "db.lab.example" does not start with the hostname "web"');
    expect(() => fqdnHostsBlock("web", "web")).toThrow('fqdn: "web" is not a fully qualified domain name');
    expect(() => checkTimezone("../../etc/passwd")).toThrow('timezone: "../../etc/passwd" is not a tz database name like "Europe/Berlin" or "UTC"');
    expect(() => checkTimezone("America/Argentina/Buenos_Aires")).not.toThrow();
  });
});
