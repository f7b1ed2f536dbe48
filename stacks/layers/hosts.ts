import type * as pulumi from "@pulumi/pulumi";
import { HostBaseline, type BaselineUser, type PackageManager } from "../../components/host-baseline";
import type { HostEntry } from "../../infra/baseline";
import type { HostAccess } from "../../infra/providers/connection";
import { SshReady } from "../../infra/providers/linux/ssh-ready";
import { hostConnection, sshDefaults } from "../connections";
import type { Host } from "../schema";
import type { EnvironmentContext } from "./context";
import type { GuestOutputs } from "./guests";

/** A Linux machine ready for what runs on it (K3s): reachable, pinned, baseline applied. */
export interface ProvisionedHost {
  name: string;
  access: HostAccess;
  /** The address its peers reach it on (a Linode instance's private address). */
  clusterAddress: pulumi.Input<string>;
  /** The address people reach it on (a Linode instance's public address). */
  publicAddress: pulumi.Input<string>;
  arch: string;
  /** What the next step waits for: the machine's readiness and its whole baseline. */
  ready: pulumi.Resource[];
}

/** The baseline on one machine (packages, users, peers' names), after what makes it reachable. */
export function provisionHost(
  ctx: EnvironmentContext,
  name: string,
  access: HostAccess,
  users: BaselineUser[],
  after: pulumi.Resource[],
  hosts: HostEntry[] = [],
  distro?: Host["distro"],
): HostBaseline {
  return new HostBaseline(
    `${ctx.env.name}-${name}-baseline`,
    // The config's name is the host's name (and its K3s node name).
    {
      access,
      hostname: name,
      fqdn: ctx.env.baseline.domain === undefined ? undefined : `${name}.${ctx.env.baseline.domain}`,
      timezone: ctx.env.baseline.timezone,
      packages: ctx.env.baseline.packages,
      packageManager: packageManager(distro),
      hosts,
      users,
    },
    { dependsOn: after },
  );
}

/** The package manager of a distribution; unknown (a new machine's image): asked on the host. */
function packageManager(distro: Host["distro"] | undefined): PackageManager {
  if (distro === undefined) return "auto";
  return distro === "rocky" || distro === "alma" ? "dnf" : "apt";
}

/** Existing plain hosts: each gets the baseline (unless baseline: false), with the other hosts in /etc/hosts. */
export function buildHosts(ctx: EnvironmentContext, users: BaselineUser[]): ProvisionedHost[] {
  const { env } = ctx;
  const peers: HostEntry[] = env.hosts.map((h) => ({ address: h.address, names: [h.name] }));
  return env.hosts.map((host) => {
    const access: HostAccess = { connection: hostConnection(env, host), sshPrivateKey: ctx.sshPrivateKey };
    const baseline = host.baseline ? provisionHost(ctx, host.name, access, users, [], peers, host.distro) : undefined;
    return {
      name: host.name,
      access,
      clusterAddress: host.address,
      publicAddress: host.address,
      arch: host.arch,
      ready: baseline ? [baseline, ...baseline.ready] : [],
    };
  });
}

/**
 * The VM clones with the baseline: each is reached as its cloud-init user
 * with the host key read through the guest agent (pinned from the first
 * connection), once SSH answers; then the baseline.
 */
export function buildVmHosts(ctx: EnvironmentContext, users: BaselineUser[], vms: NonNullable<GuestOutputs["vms"]>): ProvisionedHost[] {
  const { env } = ctx;
  return env.vms.flatMap((vm) => {
    const guest = vms[vm.name];
    if (!vm.baseline || !guest?.hostKey || !guest.sshUser) return [];
    const address = guest.address;
    const connection = { ...sshDefaults(env), node: vm.name, host: address, user: guest.sshUser, ...(guest.sshUser !== "root" ? { sudo: true } : {}), hostKey: guest.hostKey };
    const ready = new SshReady(`${env.name}-${vm.name}-ssh`, { connection, sshPrivateKey: ctx.sshPrivateKey, trustOnFirstUse: false });
    const access: HostAccess = { connection, sshPrivateKey: ctx.sshPrivateKey };
    // The package manager is asked on the VM (its image decides).
    const baseline = provisionHost(ctx, vm.name, access, users, [ready]);
    return [{ name: vm.name, access, clusterAddress: address, publicAddress: address, arch: "amd64", ready: [ready, baseline, ...baseline.ready] }];
  });
}
