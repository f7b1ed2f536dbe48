import * as pulumi from "@pulumi/pulumi";
import type { CloudImage } from "../infra/images";
import type { NodeAccess } from "../infra/providers/connection";
import { CloudTemplate as CloudTemplateResource, DEFAULT_TEMPLATE_HARDWARE, TemplateHardware } from "../infra/providers/proxmox/cloud-template";
import { childOptions } from "./child-options";

/** Type token of the CloudTemplate component. */
export const CLOUD_TEMPLATE_TYPE = "homelab:vm:CloudTemplate";

/** Arguments of one cloud-init VM template. */
export interface CloudTemplateArgs {
  /**
   * The node that builds and holds the template. On shared storage (Ceph RBD)
   * one template serves the whole cluster; on local storage the config names
   * the node (create one component per node for a template on each node).
   */
  access: NodeAccess;
  /** VMID of the template. Required; a VMID held by a guest not built by homelab is refused. */
  vmid: number;
  /** VM name of the template. Defaults to `<image name>-template`. */
  templateName?: string;
  /** The catalog entry (see `resolveImage` in infra/images.ts). */
  image: CloudImage;
  /**
   * Absolute path of the downloaded image on the node, e.g. the path behind the
   * volid of a `proxmoxve.download.File` (`/var/lib/vz/template/iso/<fileName>`
   * for `local:iso/<fileName>`). Pass an Output so the template depends on the download.
   */
  imagePath: pulumi.Input<string>;
  /** Storage for the template's disks (efidisk, system disk, cloud-init drive). Defaults to "local-lvm". */
  storage?: string;
  /** Bridge of net0. Defaults to "vmbr0". */
  bridge?: string;
  /** Size of the system disk (the image is grown to it). Defaults to "32G". */
  diskSize?: string;
  /**
   * Hardware overrides. Defaults to the script: ostype from the image (l26), memory 4096,
   * balloon 1, agent 1, bios ovmf + efidisk0 pre-enrolled-keys=0, machine q35, cpu host, cores 4,
   * numa 1, vga serial0, serial0 socket, net0 virtio mtu=1, scsihw virtio-scsi-pci.
   */
  hardware?: Partial<TemplateHardware>;
  /** Cloud-init user. Defaults to the image's default user (rocky / debian). */
  ciUser?: string;
  /** SSH public keys authorized for the cloud-init user. Defaults to none. */
  sshKeys?: string[];
  /** Cloud-init `ipconfig0`. Defaults to "ip=dhcp". */
  ipconfig0?: string;
  /** Tags of the template. Defaults to the image's tags (e.g. rocky9, cloudinit). */
  tags?: string[];
  /**
   * Cloud-init vendor snippet volid (`--cicustom vendor=...`), e.g. the
   * `GuestAgentSnippet` component's, which installs qemu-guest-agent on images
   * without it. Defaults to none.
   */
  vendorSnippet?: pulumi.Input<string>;
}

/** A cloud-init VM template built with qm on one node (`homelab:vm:CloudTemplate`). */
export class CloudTemplate extends pulumi.ComponentResource {
  /** VMID of the template. */
  readonly vmid: number;
  /** Node that holds it. */
  readonly nodeName: string;
  /** The template's system disk volume (`<storage>:base-<vmid>-disk-N`). */
  readonly diskVolume: pulumi.Output<string>;
  /** The dynamic resource, for `dependsOn`. */
  readonly template: CloudTemplateResource;

  constructor(name: string, args: CloudTemplateArgs, opts?: pulumi.ComponentResourceOptions) {
    const templateName = args.templateName ?? `${args.image.name}-template`;
    super(
      CLOUD_TEMPLATE_TYPE,
      name,
      { node: args.access.connection.node, vmid: args.vmid, image: args.image.name, templateName },
      opts,
    );
    this.vmid = args.vmid;
    this.nodeName = args.access.connection.node;
    const hardware: TemplateHardware = { ...DEFAULT_TEMPLATE_HARDWARE, ostype: args.image.ostype || "l26", ...(args.hardware ?? {}) };
    this.template = new CloudTemplateResource(
      `${name}-template`,
      {
        ...args.access,
        vmid: args.vmid,
        name: templateName,
        imagePath: args.imagePath,
        // The pinned checksum identifies the content: a new pin rebuilds the template.
        imageChecksum: `${args.image.checksumAlgorithm}:${args.image.checksum}`,
        storage: args.storage ?? "local-lvm",
        bridge: args.bridge ?? "vmbr0",
        diskSize: args.diskSize ?? "32G",
        hardware,
        ciUser: args.ciUser ?? args.image.defaultUser,
        sshKeys: args.sshKeys ?? [],
        ipconfig0: args.ipconfig0 ?? "ip=dhcp",
        tags: args.tags ?? args.image.tags,
        vendorSnippet: args.vendorSnippet,
      },
      childOptions(this, opts),
    );
    this.diskVolume = this.template.diskVolume;
    this.registerOutputs({ vmid: this.vmid, node: this.nodeName, diskVolume: this.diskVolume });
  }
}
