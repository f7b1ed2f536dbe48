import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { childOptions } from "./child-options";
import { Vm } from "./vm";

/** Type token of the TalosVms component. */
export const TALOS_VMS_TYPE = "homelab:talos:Vms";

/** One Talos VM. */
export interface TalosVmSpec {
  /** VM name, also the Talos node's name. */
  name: string;
  /** Proxmox node it runs on. */
  node: string;
  vmid: number;
  /** Static IPv4 address (without prefix). */
  address: string;
  cores: number;
  memoryMb: number;
  diskGb: number;
}

/** Arguments of the VMs of one Talos cluster. */
export interface TalosVmsArgs {
  /** API provider (ApiAccess.provider). */
  provider: proxmoxve.Provider;
  /** Each Proxmox node's access (the VM component's, for its node). */
  access: (node: string) => NodeAccess;
  /** Cluster name (tags, file names). */
  clusterName: string;
  /** Talos release, e.g. v1.11.5. */
  talosVersion: string;
  /** Image Factory schematic id. */
  schematic: string;
  /** sha256 of the Factory's nocloud-amd64.iso for that schematic and release. */
  isoSha256: string;
  /** Storage the ISO goes to on each node (iso content). */
  isoStorage: string;
  /** Storage of the VMs' disks and cloud-init drives. */
  storage: string;
  bridge: string;
  vlanId?: number;
  /** Prefix length of the nodes' network. */
  prefix: number;
  gateway: string;
  dnsServers: string[];
  /** The schematic holds qemu-guest-agent (Proxmox may then use the agent for shutdown). */
  guestAgent: boolean;
  vms: TalosVmSpec[];
}

/** The Factory's nocloud ISO of one schematic and release (nocloud: Talos reads the cloud-init drive's network-config). */
export function talosIsoUrl(schematic: string, talosVersion: string): string {
  return `https://factory.talos.dev/image/${schematic}/${talosVersion}/nocloud-amd64.iso`;
}

/**
 * The VMs of a Talos cluster on Proxmox: the Factory ISO downloaded once per
 * node that runs one of them (native download.File, sha256 pinned), then
 * each VM on the Vm component, booting that ISO with its disk first in the
 * boot order and its static address on the nocloud cloud-init drive. Talos
 * VMs are stopped at once on destroy (no ACPI wait); their readiness is the
 * Talos cluster resource's to check, so no guest-agent wait here.
 */
export class TalosVms extends pulumi.ComponentResource {
  /** The VMs by name, for `dependsOn` (the cluster, HA placements). */
  readonly vms: Map<string, Vm>;
  /** The ISO download per Proxmox node. */
  readonly isos: Map<string, proxmoxve.download.File>;

  constructor(name: string, args: TalosVmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TALOS_VMS_TYPE, name, { clusterName: args.clusterName, vms: args.vms.map((v) => v.name) }, opts);
    const fileName = `talos-${args.talosVersion}-${args.schematic.slice(0, 12)}-nocloud-amd64.iso`;
    this.isos = new Map();
    for (const node of [...new Set(args.vms.map((v) => v.node))]) {
      this.isos.set(
        node,
        new proxmoxve.download.File(
          `${name}-iso-${node}`,
          {
            nodeName: node,
            datastoreId: args.isoStorage,
            contentType: "iso",
            url: talosIsoUrl(args.schematic, args.talosVersion),
            fileName,
            // Pinned: a file that does not match fails the download.
            checksum: args.isoSha256,
            checksumAlgorithm: "sha256",
            overwrite: false,
          },
          { ...childOptions(this, opts), provider: args.provider },
        ),
      );
    }
    this.vms = new Map();
    for (const v of args.vms) {
      const iso = this.isos.get(v.node)!;
      const vm = new Vm(
        `${name}-${v.name}`,
        {
          provider: args.provider,
          access: args.access(v.node),
          node: v.node,
          vmid: v.vmid,
          name: v.name,
          installerIso: iso.id,
          storage: args.storage,
          cores: v.cores,
          memoryMb: v.memoryMb,
          disks: [{ interface: "virtio0", sizeGb: v.diskGb }],
          networks: [{ bridge: args.bridge, vlanId: args.vlanId }],
          cloudInit: { ipv4: `${v.address}/${args.prefix}`, gateway: args.gateway, dnsServers: args.dnsServers },
          guestAgent: args.guestAgent,
          waitForAddress: false,
          stopOnDestroy: true,
          tags: ["talos", args.clusterName],
        },
        childOptions(this, opts, [iso]),
      );
      this.vms.set(v.name, vm);
    }
    this.registerOutputs({ vms: args.vms.map((v) => v.name) });
  }
}
