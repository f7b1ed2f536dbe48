import * as pulumi from "@pulumi/pulumi";
import {
  AptRepoFiles,
  aptRepoFiles,
  FileSpec,
  HostEntry,
  hostsBlockFile,
  knownCephReleases,
  noNagHookFile,
  normalizePackages,
  sshdUsersFile,
  supersededAptFiles,
  SudoMode,
  sudoersFile,
} from "../infra/baseline";
import { AbsentFiles } from "../infra/providers/linux/absent-files";
import type { NodeConnection } from "../infra/providers/connection";
import { DEFAULT_SHELL, LinuxUser } from "../infra/providers/linux/linux-user";
import { Packages } from "../infra/providers/linux/packages";
import { RemoteFile } from "../infra/providers/linux/remote-file";

/** One login account on the node. */
export interface BaselineUser {
  /** Login name ([a-z_][a-z0-9_-]*, not root). */
  name: string;
  /** Public keys allowed to log in; ~/.ssh/authorized_keys holds exactly these. */
  sshKeys: string[];
  /** Login shell; must exist on the node. Defaults to "/bin/bash". */
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
   * node with `chpasswd -e` (stdin) when the node's hash differs, so
   * `sudo: "password"` works; with passwordLogin false it is still refused
   * by sshd. Defaults to none: the password is not managed (and locked when
   * passwordLogin is false).
   */
  passwordHash?: pulumi.Input<string>;
  /** Remove the account and its home when the user is dropped from the config. Defaults to false (kept). */
  removeOnDelete?: boolean;
}

/** Arguments of one node's baseline. */
export interface NodeBaselineArgs {
  /** How to reach the node over SSH (name, address, port, user, pinned host key). */
  connection: NodeConnection;
  /** Root SSH private key; a secret. Omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /**
   * Proxmox VE major version (8: bookworm, .list files; 9: trixie, deb822
   * .sources), usually the node's detected version. Decides the repository
   * files' paths and format.
   */
  pveMajor: pulumi.Input<number>;
  /** Ceph release whose no-subscription repository is enabled. Defaults to "squid". */
  cephRelease?: string;
  /** Debian packages to install ("sudo" is added when a user has sudo rights). Defaults to none. */
  packages?: string[];
  /** Remove the "No valid subscription" dialog with an apt hook that survives upgrades. Defaults to false. */
  removeSubscriptionNag?: boolean;
  /** /etc/hosts block `cluster-nodes`: every cluster node by management and cluster-link name. Defaults to no block. */
  hosts?: HostEntry[];
  /** Local login accounts. Defaults to none. */
  users?: BaselineUser[];
}

/**
 * The baseline of one Proxmox VE node: APT repositories (no-subscription on,
 * enterprise off), packages, optionally the subscription-nag hook, the
 * cluster's names in /etc/hosts, and local admin/automation accounts with
 * SSH keys and sudo.
 *
 * Order: repositories → packages → users (→ their sudoers files, which need
 * visudo from the sudo package). The sshd drop-in that keeps passwords off SSH
 * comes before the users, so no password is ever set while sshd would still
 * accept it. Hosts and the nag hook do not depend on anything.
 */
export class NodeBaseline extends pulumi.ComponentResource {
  /** The node name. */
  readonly nodeName: string;
  /** The packages resource (undefined without packages), for `dependsOn`. */
  readonly packages?: Packages;
  /** Login accounts by user name. */
  readonly users: Record<string, LinuxUser> = {};
  /** Every resource a later step may need to wait for. */
  readonly ready: pulumi.Resource[] = [];

  constructor(name: string, args: NodeBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    const users = args.users ?? [];
    super(
      "homelab:node:Baseline",
      name,
      { node: args.connection.node, users: users.map((u) => u.name), packages: args.packages ?? [] },
      opts,
    );
    this.nodeName = args.connection.node;
    const conn = { connection: args.connection, sshPrivateKey: args.sshPrivateKey };

    const cephRelease = args.cephRelease ?? "squid";
    if (!knownCephReleases().includes(cephRelease)) {
      throw new pulumi.ResourceError(
        `cephRelease "${cephRelease}" is not a Ceph release Proxmox ships; use one of: ${knownCephReleases().join(", ")}`,
        this,
      );
    }
    const seenUsers = new Set<string>();
    for (const u of users) {
      if (seenUsers.has(u.name)) throw new pulumi.ResourceError(`users: "${u.name}" is listed twice`, this);
      seenUsers.add(u.name);
    }

    // APT repositories as whole files over SSH (RemoteFile), not the native proxmoxve.apt.*
    // resources: those talk to the Proxmox API, but the baseline runs BEFORE the cluster and its
    // API token exist (sudo, frr and the other packages must be installed before cluster
    // formation), and the only API credential before that would be root@pam's password sent over
    // TLS to the node's self-signed certificate with verification off. SSH with the pinned host
    // key is the channel we already trust.
    // Each file is owned whole: the enterprise file keeps its entry, disabled (as Proxmox's GUI
    // does); proxmox.sources / pve-no-subscription.list adds no-subscription; the Ceph file holds
    // exactly what `pveceph install --repository no-subscription --version <release>` writes,
    // which also replaces the installer's enterprise Ceph entry. "keep" on delete: removing the
    // stack must not leave a node without repositories.
    const repoFilesFor = (major: number): AptRepoFiles => {
      try {
        return aptRepoFiles(major, cephRelease);
      } catch (e) {
        throw new pulumi.ResourceError((e as Error).message, this);
      }
    };
    // A plain number is checked right away; a detected version (an Output) when it resolves.
    if (typeof args.pveMajor === "number") repoFilesFor(args.pveMajor);
    const files = pulumi.output(args.pveMajor).apply(repoFilesFor);
    const repoFile = (suffix: string, key: keyof AptRepoFiles) => {
      const spec = files.apply((f) => f[key]);
      return new RemoteFile(
        `${name}-apt-${suffix}`,
        {
          ...conn,
          path: spec.apply((f) => f.path),
          content: spec.apply((f) => f.content),
          fileMode: spec.apply((f) => f.fileMode ?? "0644"),
          owner: spec.apply((f) => f.owner ?? "root"),
          group: spec.apply((f) => f.group ?? "root"),
          onDelete: "keep",
        },
        { parent: this, dependsOn: opts?.dependsOn },
      );
    };
    const repos: pulumi.Resource[] = [
      repoFile("pve-enterprise", "pveEnterprise"),
      repoFile("pve-no-subscription", "pveNoSubscription"),
      repoFile("ceph", "ceph"),
    ];
    // After a PVE 8 → 9 upgrade the old .list files would name the same repositories again
    // (or still bookworm): removed once the .sources files are in place, before apt runs.
    repos.push(
      new AbsentFiles(
        `${name}-apt-superseded`,
        { ...conn, paths: pulumi.output(args.pveMajor).apply((major) => supersededAptFiles(major)) },
        { parent: this, dependsOn: [...repos] },
      ),
    );

    // Packages (plus sudo when someone gets sudo rights: visudo validates their files).
    const wanted = [...(args.packages ?? []), ...(users.some((u) => u.sudo !== "none") ? ["sudo"] : [])];
    let packageList: string[];
    try {
      packageList = normalizePackages(wanted);
    } catch (e) {
      throw new pulumi.ResourceError((e as Error).message, this);
    }
    if (packageList.length > 0) {
      this.packages = new Packages(`${name}-packages`, { ...conn, packages: packageList }, { parent: this, dependsOn: repos });
    }
    const afterPackages = this.packages ? [this.packages] : repos;

    if (args.removeSubscriptionNag) {
      // The hook re-patches after every dpkg run; onChangeCommand applies it once right away.
      const hook = new RemoteFile(`${name}-no-nag`, { ...conn, ...noNagHookFile() }, { parent: this, dependsOn: opts?.dependsOn });
      this.ready.push(hook);
    }

    if (args.hosts && args.hosts.length > 0) {
      let spec: FileSpec;
      try {
        spec = hostsBlockFile(args.hosts);
      } catch (e) {
        throw new pulumi.ResourceError((e as Error).message, this);
      }
      const hosts = new RemoteFile(`${name}-hosts`, { ...conn, ...spec }, { parent: this, dependsOn: opts?.dependsOn });
      this.ready.push(hosts);
    }

    // "SSH key only" is an sshd rule, not a locked password: a password set for sudo must stay
    // usable. Written (validated, sshd reloaded) before any account, so a password never exists
    // while sshd would take it. Present whenever there are users, so taking the last one off the
    // list rewrites it (and reloads sshd) instead of deleting it without a reload.
    let sshdRules: RemoteFile | undefined;
    if (users.length > 0) {
      let spec: FileSpec;
      try {
        spec = sshdUsersFile(users.filter((u) => !(u.passwordLogin ?? false)).map((u) => u.name));
      } catch (e) {
        throw new pulumi.ResourceError((e as Error).message, this);
      }
      sshdRules = new RemoteFile(`${name}-sshd-users`, { ...conn, ...spec }, { parent: this, dependsOn: opts?.dependsOn });
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
        { parent: this, dependsOn: [...afterPackages, ...(sshdRules ? [sshdRules] : [])] },
      );
      this.users[u.name] = user;
      this.ready.push(user);
      const sudoers = sudoersFile(u.name, u.sudo);
      if (sudoers !== undefined) {
        // Validated with visudo before it replaces anything: a broken sudoers file can lock out sudo entirely.
        // Deleting this resource (sudo: "none", or the user dropped) removes the file.
        const file = new RemoteFile(`${name}-sudoers-${u.name}`, { ...conn, ...sudoers }, {
          parent: this,
          dependsOn: [user, ...afterPackages],
        });
        this.ready.push(file);
      }
    }

    this.ready.push(...repos, ...(this.packages ? [this.packages] : []));
    this.registerOutputs({ packages: this.packages?.installed, users: Object.keys(this.users) });
  }
}
