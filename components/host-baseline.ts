import * as pulumi from "@pulumi/pulumi";
import {
  checkTimezone,
  FileSpec,
  fqdnHostsBlock,
  HostEntry,
  hostnameFile,
  hostsBlockFile,
  normalizePackages,
  sshdUsersFile,
  SudoMode,
  sudoersFile,
} from "../infra/baseline";
import type { HostAccess } from "../infra/providers/connection";
import { DEFAULT_SHELL, LinuxUser } from "../infra/providers/linux/linux-user";
import { Packages } from "../infra/providers/linux/packages";
import { RemoteFile } from "../infra/providers/linux/remote-file";
import { Timezone } from "../infra/providers/linux/timezone";
import { childOptions, refuse } from "./child-options";

/** Type token of the HostBaseline component. */
export const HOST_BASELINE_TYPE = "homelab:host:Baseline";

/** One login account on the host. */
export interface BaselineUser {
  /** Login name ([a-z_][a-z0-9_-]*, not root). */
  name: string;
  /** Public keys allowed to log in; ~/.ssh/authorized_keys holds exactly these. */
  sshKeys: string[];
  /** Login shell; must exist on the host. Defaults to "/bin/bash". */
  shell?: string;
  /** Supplementary groups, which must already exist. Defaults to none. */
  groups?: string[];
  /**
   * sudo rights: "none", "password" (full sudo after typing the user's
   * password, so it needs `passwordHash`) or "nopasswd".
   */
  sudo: SudoMode;
  /**
   * Allow logging in over SSH with the account's password. Defaults to false:
   * SSH keys only, enforced by sshd (the user is listed in the `Match User`
   * drop-in /etc/ssh/sshd_config.d/50-homelab-users.conf with password and
   * keyboard-interactive authentication off); without `passwordHash` the
   * password is also locked. True leaves it to sshd's global settings.
   */
  passwordLogin?: boolean;
  /**
   * The account's password as a crypt(3) hash (`mkpasswd -m yescrypt`,
   * `openssl passwd -6`), never the password itself; a secret. Set on the
   * host with `chpasswd -e` (stdin) when the host's hash differs, so
   * `sudo: "password"` works; with passwordLogin false it is still refused
   * by sshd. Defaults to none: the password is not managed (and locked when
   * passwordLogin is false).
   */
  passwordHash?: pulumi.Input<string>;
  /** Remove the account and its home when the user is dropped from the config. Defaults to false (kept). */
  removeOnDelete?: boolean;
}

/**
 * Package managers the baseline can drive: apt (Debian, Ubuntu, Raspberry Pi
 * OS), dnf (Rocky and the other RHEL-likes), or "auto": whichever the host's
 * /etc/os-release names, decided on the host at each run.
 */
export type PackageManager = "apt" | "dnf" | "auto";

/** Arguments of one Linux host's baseline. */
export interface HostBaselineArgs {
  /** How to reach the host over SSH (name, address, port, user, pinned host key, key). */
  access: HostAccess;
  /** Packages to install ("sudo" is added when a user has sudo rights). Defaults to none. */
  packages?: string[];
  /** The host's package manager. Defaults to "apt" (the Proxmox nodes' baseline relies on it). */
  packageManager?: PackageManager;
  /** Host name (/etc/hostname, set with hostnamectl). Defaults to unmanaged. */
  hostname?: string;
  /** Fully qualified name, starting with `hostname`; /etc/hosts block `hostname` (127.0.1.1). Defaults to none. */
  fqdn?: string;
  /** Time zone, a tz database name ("Europe/Berlin"). Defaults to unmanaged. */
  timezone?: string;
  /** What the package installation waits for, e.g. the repositories it installs from. Defaults to nothing. */
  packagesAfter?: pulumi.Resource[];
  /** /etc/hosts block `cluster-nodes`: the names of the hosts it works with. Defaults to no block. */
  hosts?: HostEntry[];
  /** Local login accounts. Defaults to none. */
  users?: BaselineUser[];
  /**
   * The resource these children were registered under before this component
   * existed (NodeBaseline, whose children they were): each child gets an alias
   * with that parent, so existing stacks keep them instead of replacing them.
   * Defaults to none.
   */
  adoptedFrom?: pulumi.Resource;
}

/**
 * The generic Linux baseline of one host (Debian/Ubuntu with apt, Rocky with
 * dnf, amd64 or arm64): packages, host name, FQDN and time zone, the names of
 * its peers in /etc/hosts, and local admin/automation accounts with SSH keys
 * and sudo.
 *
 * Order: packages → users (→ their sudoers files, which need visudo from the
 * sudo package). The sshd drop-in that keeps passwords off SSH comes before
 * the users, so no password is ever set while sshd would still accept it.
 * The hosts block does not depend on anything; the FQDN block (the same
 * file) waits for it. Host name and time zone are independent.
 */
export class HostBaseline extends pulumi.ComponentResource {
  /** The host name. */
  readonly nodeName: string;
  /** The packages resource (undefined without packages), for `dependsOn`. */
  readonly packages?: Packages;
  /** Login accounts by user name. */
  readonly users: Record<string, LinuxUser> = {};
  /** Every resource a later step may need to wait for. */
  readonly ready: pulumi.Resource[] = [];

  constructor(name: string, args: HostBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    const users = args.users ?? [];
    super(HOST_BASELINE_TYPE, name, { node: args.access.connection.node, users: users.map((u) => u.name), packages: args.packages ?? [] }, opts);
    this.nodeName = args.access.connection.node;
    const conn = args.access;
    const aliases = args.adoptedFrom ? [{ parent: args.adoptedFrom }] : undefined;
    const child = (after: pulumi.Input<pulumi.Resource>[] = []): pulumi.CustomResourceOptions => ({ ...childOptions(this, opts, after), aliases });
    // Component refusals name the component's user-facing name (the node's baseline).
    const fail = (e: unknown): never => refuse(this, name, (e as Error).message);

    const seenUsers = new Set<string>();
    for (const u of users) {
      if (seenUsers.has(u.name)) refuse(this, name, `users: "${u.name}" is listed twice`);
      seenUsers.add(u.name);
    }

    // Packages (plus sudo when someone gets sudo rights: visudo validates their files).
    const wanted = [...(args.packages ?? []), ...(users.some((u) => u.sudo !== "none") ? ["sudo"] : [])];
    const manager = args.packageManager ?? "apt";
    let packageList: string[] = [];
    try {
      packageList = normalizePackages(wanted, manager === "apt" ? "deb" : "rpm");
    } catch (e) {
      fail(e);
    }
    if (packageList.length > 0) {
      this.packages = installPackages(manager, `${name}-packages`, { ...conn, packages: packageList }, child(args.packagesAfter ?? []));
    }
    const afterPackages = this.packages ? [this.packages] : (args.packagesAfter ?? []);

    let hostsBlock: RemoteFile | undefined;
    if (args.hosts && args.hosts.length > 0) {
      let spec: FileSpec = undefined as never;
      try {
        spec = hostsBlockFile(args.hosts);
      } catch (e) {
        fail(e);
      }
      hostsBlock = new RemoteFile(`${name}-hosts`, { ...conn, ...spec }, child());
      this.ready.push(hostsBlock);
    }

    // Identity: name, FQDN, time zone. The FQDN block waits for the other /etc/hosts block:
    // both rewrite the same file.
    if (args.fqdn !== undefined && args.hostname === undefined) fail(new Error("fqdn: set hostname too (the FQDN's first label)"));
    if (args.hostname !== undefined) {
      let spec: FileSpec = undefined as never;
      try {
        spec = hostnameFile(args.hostname);
      } catch (e) {
        fail(e);
      }
      this.ready.push(new RemoteFile(`${name}-hostname`, { ...conn, ...spec }, child()));
      if (args.fqdn !== undefined) {
        try {
          spec = fqdnHostsBlock(args.fqdn, args.hostname);
        } catch (e) {
          fail(e);
        }
        this.ready.push(new RemoteFile(`${name}-fqdn`, { ...conn, ...spec }, child(hostsBlock ? [hostsBlock] : [])));
      }
    }
    if (args.timezone !== undefined) {
      try {
        checkTimezone(args.timezone);
      } catch (e) {
        fail(e);
      }
      this.ready.push(new Timezone(`${name}-timezone`, { ...conn, timezone: args.timezone }, child()));
    }

    // "SSH key only" is an sshd rule, not a locked password: a password set for sudo must stay
    // usable. Written (validated, sshd reloaded) before any account, so a password never exists
    // while sshd would take it. Present whenever there are users, so taking the last one off the
    // list rewrites it (and reloads sshd) instead of deleting it without a reload.
    let sshdRules: RemoteFile | undefined;
    if (users.length > 0) {
      let spec: FileSpec = undefined as never;
      try {
        spec = sshdUsersFile(users.filter((u) => !(u.passwordLogin ?? false)).map((u) => u.name));
      } catch (e) {
        fail(e);
      }
      sshdRules = new RemoteFile(`${name}-sshd-users`, { ...conn, ...spec }, child());
      this.ready.push(sshdRules);
    }

    for (const u of users) {
      if (u.sudo === "password" && u.passwordHash === undefined && !(u.passwordLogin ?? false)) {
        pulumi.log.warn(
          `users: ${u.name} has sudo "password" but no passwordHash, and the password is locked, so sudo can never succeed; ` +
            "give the user a passwordHash",
          this,
        );
      }
      const user = new LinuxUser(
        `${name}-user-${u.name}`,
        {
          ...conn,
          name: u.name,
          sshKeys: u.sshKeys,
          shell: u.shell ?? DEFAULT_SHELL,
          groups: u.groups ?? [],
          passwordLogin: u.passwordLogin ?? false,
          passwordHash: u.passwordHash,
          removeOnDelete: u.removeOnDelete ?? false,
        },
        { parent: this, aliases, dependsOn: [...afterPackages, ...(sshdRules ? [sshdRules] : [])] },
      );
      this.users[u.name] = user;
      this.ready.push(user);
      const sudoers = sudoersFile(u.name, u.sudo);
      if (sudoers !== undefined) {
        // Validated with visudo before it replaces anything: a broken sudoers file can lock out sudo entirely.
        // Deleting this resource (sudo: "none", or the user dropped) removes the file.
        const file = new RemoteFile(`${name}-sudoers-${u.name}`, { ...conn, ...sudoers }, { parent: this, aliases, dependsOn: [user, ...afterPackages] });
        this.ready.push(file);
      }
    }

    if (this.packages) this.ready.push(this.packages);
    this.registerOutputs({ packages: this.packages?.installed, users: Object.keys(this.users) });
  }
}

/** The package installation of one host, by its package manager. */
function installPackages(
  manager: PackageManager,
  name: string,
  args: ConstructorParameters<typeof Packages>[1],
  opts: pulumi.CustomResourceOptions,
): Packages {
  // apt keeps no `manager` input, so the resources created before dnf existed see no change.
  return new Packages(name, manager === "apt" ? args : { ...args, manager }, opts);
}
