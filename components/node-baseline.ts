import * as pulumi from "@pulumi/pulumi";
import { AptRepoFiles, aptRepoFiles, HostEntry, knownCephReleases, noNagHookFile, supersededAptFiles } from "../infra/baseline";
import { AbsentFiles } from "../infra/providers/linux/absent-files";
import type { NodeAccess } from "../infra/providers/connection";
import type { LinuxUser } from "../infra/providers/linux/linux-user";
import type { Packages } from "../infra/providers/linux/packages";
import { KernelSettings } from "../infra/providers/linux/kernel-settings";
import { RemoteFile } from "../infra/providers/linux/remote-file";
import { sysctlFileContent, sysctlFilePath } from "../infra/kernel-settings";
import { childOptions, refuse } from "./child-options";
import { BaselineUser, HostBaseline } from "./host-baseline";

export type { BaselineUser } from "./host-baseline";

/** Type token of the NodeBaseline component. */
export const NODE_BASELINE_TYPE = "homelab:node:Baseline";

/** Arguments of one node's baseline. */
export interface NodeBaselineArgs {
  /** How to reach the node over SSH (name, address, port, user, pinned host key). */
  access: NodeAccess;
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
  /** Time zone, a tz database name ("Europe/Berlin"). Defaults to unmanaged. */
  timezone?: string;
  /** Sysctls (name → value) written to /etc/sysctl.d, applied and read back. Defaults to none. */
  sysctls?: Record<string, string>;
  /** Kernel command-line parameters for the node's boot loader (in effect after a reboot). Defaults to none. */
  kernelParameters?: string[];
}

/**
 * The baseline of one Proxmox VE node: its APT repositories (no-subscription
 * on, enterprise off, the Ceph release's), optionally the subscription-nag
 * hook, then the generic Linux part as a HostBaseline child (packages from
 * those repositories, the cluster's names in /etc/hosts, local accounts with
 * SSH keys and sudo).
 *
 * The HostBaseline carries this component's name, and its children keep the
 * names they had when they were this component's own, with an alias to this
 * component as their former parent: existing stacks keep those resources.
 */
export class NodeBaseline extends pulumi.ComponentResource {
  /** The node name. */
  readonly nodeName: string;
  /** The generic Linux part. */
  readonly host: HostBaseline;
  /** The packages resource (undefined without packages), for `dependsOn`. */
  readonly packages?: Packages;
  /** Login accounts by user name. */
  readonly users: Record<string, LinuxUser>;
  /** Every resource a later step may need to wait for. */
  readonly ready: pulumi.Resource[] = [];
  /** Sysctls and kernel parameters, when the baseline has any. */
  readonly kernel?: KernelSettings;

  constructor(name: string, args: NodeBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    const users = args.users ?? [];
    super(
      NODE_BASELINE_TYPE,
      name,
      { node: args.access.connection.node, users: users.map((u) => u.name), packages: args.packages ?? [] },
      opts,
    );
    this.nodeName = args.access.connection.node;
    const conn = args.access;

    const cephRelease = args.cephRelease ?? "squid";
    if (!knownCephReleases().includes(cephRelease)) {
      refuse(this, name, `cephRelease "${cephRelease}" is not a Ceph release Proxmox ships; use one of: ${knownCephReleases().join(", ")}`);
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
        return refuse(this, name, (e as Error).message);
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
        childOptions(this, opts),
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

    // Packages come from the repositories above.
    this.host = new HostBaseline(
      name,
      { access: conn, packages: args.packages, packagesAfter: repos, hosts: args.hosts, users, timezone: args.timezone, adoptedFrom: this },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.packages = this.host.packages;
    this.users = this.host.users;

    // Sysctls: the file is a RemoteFile; KernelSettings loads it, reads every value back and puts the
    // kernel parameters where the boot loader takes them.
    const sysctls = args.sysctls ?? {};
    const kernelParameters = args.kernelParameters ?? [];
    if (Object.keys(sysctls).length > 0 || kernelParameters.length > 0) {
      const sysctlFile =
        Object.keys(sysctls).length > 0
          ? [new RemoteFile(`${name}-sysctls`, { ...conn, path: sysctlFilePath(), content: sysctlFileContent(sysctls), fileMode: "0644", owner: "root", group: "root" }, childOptions(this, opts))]
          : [];
      this.kernel = new KernelSettings(
        `${name}-kernel`,
        { ...conn, sysctlFile: sysctlFilePath(), sysctls, kernelParameters },
        childOptions(this, opts, sysctlFile),
      );
      this.ready.push(...sysctlFile, this.kernel);
    }

    if (args.removeSubscriptionNag) {
      // The hook re-patches after every dpkg run; onChangeCommand applies it once right away.
      this.ready.push(new RemoteFile(`${name}-no-nag`, { ...conn, ...noNagHookFile() }, childOptions(this, opts)));
    }

    this.ready.push(...this.host.ready, ...repos);
    this.registerOutputs({ packages: this.packages?.installed, users: Object.keys(this.users) });
  }
}
