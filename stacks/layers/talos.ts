import * as pulumi from "@pulumi/pulumi";
import type { ApiAccess } from "../../components/api-access";
import { HaPlacementComponent } from "../../components/ha";
import { TalosCluster, type TalosNode } from "../../components/talos-cluster";
import { TalosVms } from "../../components/talos-vms";
import { INSTALLER_DRIVE } from "../../components/vm";
import { InstallerEject } from "../../infra/providers/proxmox/installer-eject";
import { prefixLength } from "../../infra/ipv4";
import { RescueInstall } from "../../infra/providers/talos/rescue-install";
import { talosFirewallPatch } from "../../infra/talos-firewall";
import { sshDefaults } from "../connections";
import { networkByName } from "../lookup";
import type { TalosClusterConfig, TalosNodeConfig } from "../schema";
import type { EnvironmentContext } from "./context";
import type { KubernetesOutput } from "./k3s";

/** One Talos cluster's stack output: K3s's shape, plus the talosconfig (a secret) and the Talos API endpoints. */
export interface TalosKubernetesOutput extends KubernetesOutput {
  /** talosconfig with its endpoints set; a secret. */
  talosconfig: pulumi.Output<string>;
  /** Control planes' addresses (Talos API endpoints). */
  endpoints: pulumi.Output<string[]>;
}

/** Where the Proxmox flavour's VMs get their provider and storage. */
export interface TalosProxmox {
  api: ApiAccess;
  /** Storage the VMs wait for (the Ceph health gate). */
  storage: pulumi.Resource[];
}

/** The Factory disk image a VPS gets. */
export function talosDiskImageUrl(schematic: string, talosVersion: string, platform: string): string {
  return `https://factory.talos.dev/image/${schematic}/${talosVersion}/${platform}-amd64.raw.xz`;
}

/**
 * Each Talos cluster of one flavour: on Proxmox, its VMs (the Factory ISO
 * once per node, the VMs, HA placements) and then the cluster; on VPS hosts,
 * the image written from each host's rescue system, then the cluster, with
 * Talos's ingress firewall restricting its APIs to the admin networks.
 */
export function buildTalos(ctx: EnvironmentContext, flavour: "proxmox" | "vps", proxmox?: TalosProxmox): Record<string, TalosKubernetesOutput> {
  const out: Record<string, TalosKubernetesOutput> = {};
  for (const c of ctx.env.talos.clusters) {
    if (flavour === "proxmox" && c.proxmox && proxmox) {
      const vms = proxmoxMachines(ctx, c, proxmox);
      const { output, cluster } = buildOne(ctx, c, [vms], []);
      ejectInstallers(ctx, c, vms, cluster);
      out[c.name] = output;
    }
    if (flavour === "vps" && c.vps) out[c.name] = buildOne(ctx, c, vpsMachines(ctx, c), vpsPatches(c)).output;
  }
  return out;
}

function nodesOf(c: TalosClusterConfig): TalosNodeConfig[] {
  return [...c.controlPlanes, ...c.workers];
}

function buildOne(
  ctx: EnvironmentContext,
  c: TalosClusterConfig,
  machines: pulumi.Resource[],
  extraClusterPatches: string[],
): { output: TalosKubernetesOutput; cluster: TalosCluster } {
  const node = (n: TalosNodeConfig): TalosNode => ({
    name: n.name,
    address: n.address,
    // On Proxmox the nocloud meta-data names the node; a VPS's platform does not, and Talos would pick a random name.
    patches: c.vps ? [hostnamePatch(n.name), ...n.patches] : n.patches,
    installDisk: n.installDisk ?? (c.proxmox ? "/dev/vda" : n.disk),
  });
  const cluster = new TalosCluster(
    `${ctx.env.name}-${c.name}`,
    {
      clusterName: c.name,
      talosVersion: c.talosVersion,
      kubernetesVersion: c.kubernetesVersion,
      talosctl: c.talosctl,
      schematic: c.schematic,
      controlPlanes: c.controlPlanes.map(node),
      workers: c.workers.map(node),
      vip: c.vip,
      patches: { cluster: [...c.patches.cluster, ...extraClusterPatches], controlPlane: c.patches.controlPlane, worker: c.patches.worker },
      cni: c.cni,
      ciliumVersion: c.ciliumVersion,
      secretsRotation: c.secretsRotation,
      readyTimeoutSeconds: c.readyTimeoutSeconds,
    },
    { dependsOn: machines },
  );
  return {
    output: {
      kubeconfig: cluster.kubeconfig,
      talosconfig: cluster.talosconfig,
      apiEndpoint: pulumi.output(cluster.apiEndpoint),
      endpoints: pulumi.output(cluster.endpoints),
      nodes: pulumi.output(cluster.nodes),
    },
    cluster,
  };
}

/**
 * Once the cluster is up (every node installed to its disk and rebooted),
 * the installer ISO comes out of each VM's cdrom drive, on whichever member
 * runs the VM.
 */
function ejectInstallers(ctx: EnvironmentContext, c: TalosClusterConfig, vms: TalosVms, cluster: TalosCluster): void {
  const { env } = ctx;
  const members = env.nodes.map((n) => ctx.access(n));
  for (const n of nodesOf(c)) {
    new InstallerEject(
      `${env.name}-${c.name}-${n.name}-eject`,
      {
        connections: members.map((m) => m.connection),
        sshPrivateKey: members[0].sshPrivateKey,
        vmid: n.vmid!,
        name: n.name,
        drive: INSTALLER_DRIVE,
        isoVolid: vms.isos.get(n.node!)!.id,
      },
      { dependsOn: [cluster.cluster] },
    );
  }
}

/** The cluster's VMs, then the HA placements of those that ask for one. */
function proxmoxMachines(ctx: EnvironmentContext, c: TalosClusterConfig, proxmox: TalosProxmox): TalosVms {
  const { env } = ctx;
  const flavour = c.proxmox!;
  const network = networkByName(env, flavour.network)!;
  const vms = new TalosVms(
    `${env.name}-${c.name}-vms`,
    {
      provider: proxmox.api.provider,
      access: (n) => ctx.access(n),
      clusterName: c.name,
      talosVersion: c.talosVersion,
      schematic: c.schematic,
      isoSha256: flavour.isoSha256,
      isoStorage: flavour.isoStorage,
      storage: flavour.storage,
      bridge: flavour.bridge,
      vlanId: flavour.vlanId,
      prefix: prefixLength(network.cidr),
      gateway: network.gateway!,
      dnsServers: flavour.dnsServers ?? [network.gateway!],
      guestAgent: c.extensions.includes("siderolabs/qemu-guest-agent"),
      vms: nodesOf(c).map((n) => ({
        name: n.name,
        node: n.node!,
        vmid: n.vmid!,
        address: n.address,
        cores: n.cores ?? flavour.cores,
        memoryMb: n.memoryMb ?? flavour.memoryMb,
        diskGb: n.diskGb ?? flavour.diskGb,
      })),
    },
    { dependsOn: proxmox.storage },
  );
  const placed = new Map<string, TalosNodeConfig[]>();
  for (const n of nodesOf(c)) if (n.ha) placed.set(n.ha.placement, [...(placed.get(n.ha.placement) ?? []), n]);
  for (const [name, members] of placed) {
    const placement = env.ha.placements.find((p) => p.name === name)!;
    new HaPlacementComponent(
      `${env.name}-${c.name}-ha-${name}`,
      {
        access: ctx.access(env.nodes[0]),
        placementName: name,
        nodes: placement.nodes,
        strict: placement.strict,
        nofailback: placement.nofailback,
        vms: members.map((m) => ({ vmid: m.vmid! })),
      },
      { dependsOn: members.map((m) => vms.vms.get(m.name)!) },
    );
  }
  return vms;
}

/** Each VPS disk written from its rescue system. */
function vpsMachines(ctx: EnvironmentContext, c: TalosClusterConfig): pulumi.Resource[] {
  const { env } = ctx;
  const vps = c.vps!;
  return nodesOf(c).map(
    (n) =>
      new RescueInstall(`${env.name}-${c.name}-${n.name}-install`, {
        connection: {
          ...sshDefaults(env),
          node: n.name,
          host: n.rescue!.address,
          port: n.rescue!.port,
          user: n.rescue!.user,
          hostKey: n.rescue!.hostKey,
        },
        sshPrivateKey: ctx.sshPrivateKey,
        imageUrl: talosDiskImageUrl(c.schematic, c.talosVersion, vps.platform),
        imageSha256: vps.imageSha256,
        disk: n.disk!,
      }),
  );
}

/** The node's host name (and so its Kubernetes node name), for platforms that do not supply one. */
export function hostnamePatch(name: string): string {
  return `machine:\n  network:\n    hostname: ${name}\n`;
}

/** Talos's ingress firewall, unless the stack explicitly leaves the APIs open. */
function vpsPatches(c: TalosClusterConfig): string[] {
  const vps = c.vps!;
  if (vps.adminCidrs.length === 0 && vps.allowOpenApi) return [];
  return [talosFirewallPatch(vps.adminCidrs, { controlPlanes: c.controlPlanes.map((n) => n.address), workers: c.workers.map((n) => n.address) })];
}
