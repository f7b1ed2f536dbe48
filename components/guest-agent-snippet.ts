import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { RemoteFile } from "../infra/providers/linux/remote-file";
import { StorageContent } from "../infra/providers/proxmox/storage-content";
import { childOptions } from "./child-options";

/** Type token of the GuestAgentSnippet component. */
export const GUEST_AGENT_SNIPPET_TYPE = "homelab:vm:GuestAgentSnippet";

/** File name of the vendor snippet that installs the QEMU guest agent. */
export const GUEST_AGENT_SNIPPET_FILE = "homelab-qemu-guest-agent.yaml";

/** Cloud-init vendor data: install and start qemu-guest-agent on first boot (Debian's cloud images lack it). */
export const GUEST_AGENT_VENDOR_DATA = [
  "#cloud-config",
  "packages:",
  "  - qemu-guest-agent",
  "runcmd:",
  "  - [systemctl, enable, --now, qemu-guest-agent]",
  "",
].join("\n");

/** Arguments of the guest-agent vendor snippet. */
export interface GuestAgentSnippetArgs {
  /** The node that enables the `snippets` content type (storage config is cluster-wide; any member). */
  configNode: NodeAccess;
  /**
   * Every node that may start a VM using the snippet: the file is written on
   * each. Clones keep the `cicustom` reference, and HA may start them anywhere.
   */
  nodes: NodeAccess[];
  /** A directory-type storage present on every node. Defaults to "local". */
  storage?: string;
  /** That storage's path on the nodes. Defaults to "/var/lib/vz" (local's). */
  storagePath?: string;
}

/**
 * The cloud-init vendor snippet that installs qemu-guest-agent
 * (`homelab:vm:GuestAgentSnippet`): enables `snippets` on the storage, writes
 * the file on every node, and exposes its volid for `cicustom vendor=`.
 */
export class GuestAgentSnippet extends pulumi.ComponentResource {
  /** `<storage>:snippets/homelab-qemu-guest-agent.yaml`, known once the files exist. */
  readonly volid: pulumi.Output<string>;
  /** The resources a template or VM using the snippet must wait for. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: GuestAgentSnippetArgs, opts?: pulumi.ComponentResourceOptions) {
    const storage = args.storage ?? "local";
    super(GUEST_AGENT_SNIPPET_TYPE, name, { storage, nodes: args.nodes.map((n) => n.connection.node) }, opts);
    const dir = `${(args.storagePath ?? "/var/lib/vz").replace(/\/+$/, "")}/snippets`;
    const content = new StorageContent(
      `${name}-content`,
      { ...args.configNode, storage, content: ["snippets"] },
      childOptions(this, opts),
    );
    const files = args.nodes.map(
      (node) =>
        new RemoteFile(
          `${name}-${node.connection.node}`,
          {
            ...node,
            path: `${dir}/${GUEST_AGENT_SNIPPET_FILE}`,
            content: GUEST_AGENT_VENDOR_DATA,
            fileMode: "0644",
            // Templates and VMs keep referencing it; removing it would stop them from starting.
            onDelete: "keep",
          },
          { parent: this, dependsOn: [content] },
        ),
    );
    this.ready = [content, ...files];
    this.volid = pulumi.all(files.map((f) => f.path)).apply(() => `${storage}:snippets/${GUEST_AGENT_SNIPPET_FILE}`);
    this.registerOutputs({ volid: this.volid });
  }
}
