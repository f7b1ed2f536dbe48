import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { GuestAddress } from "../infra/providers/proxmox/guest-address";
import { GuestHostKey } from "../infra/providers/proxmox/guest-host-key";
import { childOptions, refuse } from "./child-options";

/** The cdrom drive an installer ISO goes in: ide2 is the cloud-init drive's (the native provider's default). */
export const INSTALLER_DRIVE = "ide3";

/** Type token of the Vm component. */
export const VM_TYPE = "homelab:vm:Vm";

/** One network interface of a VM. */
export interface VmNetwork {
  /** Bridge, e.g. vmbr0. */
  bridge: string;
  /** VLAN tag on a VLAN-aware bridge. Defaults to untagged. */
  vlanId?: number;
  /** MTU; 1 means "the bridge's MTU". Defaults to 1. */
  mtu?: number;
}

/** One disk of a VM (the first one resizes the template's boot disk). */
export interface VmDisk {
  /** Bus and slot, e.g. virtio0 or scsi1. */
  interface: string;
  /** Size in GiB. */
  sizeGb: number;
  /** Storage. Defaults to the VM's `storage`. */
  storage?: string;
}

/** Cloud-init settings. */
export interface VmCloudInit {
  /** Login user. Defaults to the template's. */
  user?: string;
  /** SSH public keys of that user. Defaults to none (no user account: a Talos VM has no login). */
  sshKeys?: pulumi.Input<string[]>;
  /** "dhcp", or a static IPv4 with prefix, e.g. 192.168.3.50/24. Defaults to dhcp. */
  ipv4?: string;
  /** Gateway for a static address. */
  gateway?: string;
  /** DNS servers. Defaults to the node's. */
  dnsServers?: string[];
  /** DNS search domain. */
  dnsDomain?: string;
}

/** Arguments of a VM cloned from a template, or booted from an installer ISO. */
export interface VmArgs {
  /** API provider (ApiAccess.provider). */
  provider: proxmoxve.Provider;
  /** A cluster member to ask the guest agent through (any node: the API finds the VM). */
  access: NodeAccess;
  /** Node the VM runs on. */
  node: string;
  /** VMID (explicit, or vmidBase + index, allocated and checked for collisions by the stack schema). */
  vmid: number;
  /** VM name (a DNS label). */
  name: string;
  /** VMID of the template to clone. Without it the VM starts with empty disks and boots `installerIso`. */
  templateVmid?: pulumi.Input<number>;
  /**
   * Installer ISO volid (`local:iso/…`) on the cdrom, for a VM that is not a
   * clone. The first disk stays first in the boot order: while it is empty
   * the firmware falls through to the ISO, and once the installer has written
   * it the VM boots its disk, never the installer again.
   */
  installerIso?: pulumi.Input<string>;
  /** The guest runs qemu-guest-agent. Defaults to true. */
  guestAgent?: boolean;
  /**
   * Wait (bounded) for the guest agent to report the address. Defaults to
   * true; false for a VM whose address is static and whose readiness another
   * resource checks (a Talos node), so the address output is the static one.
   */
  waitForAddress?: boolean;
  /**
   * Hard-stop on destroy instead of the ACPI shutdown first (for a guest whose
   * disk holds nothing to flush cleanly, like a Talos node being removed). Defaults to false.
   */
  stopOnDestroy?: boolean;
  /** Node holding the template (needed for templates on local storage). Defaults to `node`. */
  templateNode?: string;
  /** Full clone (independent disks). Defaults to true; false makes a linked clone (same storage as the template). */
  fullClone?: boolean;
  /** Storage for the clone's disks and cloud-init drive. */
  storage: string;
  /** Cores. Defaults to 2. */
  cores?: number;
  /** Memory in MiB. Defaults to 2048. */
  memoryMb?: number;
  /** Disks. Defaults to the template's. */
  disks?: VmDisk[];
  /** Network interfaces. Defaults to one on vmbr0. */
  networks?: VmNetwork[];
  /** Cloud-init. */
  cloudInit: VmCloudInit;
  /** Tags. Defaults to none. */
  tags?: string[];
  /** Start at boot. Defaults to true. */
  onBoot?: boolean;
  /**
   * Cloud-init vendor snippet volid (the template's, e.g. the guest-agent
   * installer). Set on the clone explicitly so the provider keeps it. Defaults to none.
   */
  vendorSnippet?: pulumi.Input<string>;
  /** Seconds to wait for the guest agent to report an address (then the apply fails). Defaults to 300. */
  agentTimeoutSeconds?: number;
  /**
   * Read the SSH host key cloud-init generated through the guest agent (`hostKey`),
   * so the first SSH connection to the VM pins it. Defaults to false.
   */
  readHostKey?: boolean;
}

/**
 * A VM cloned from a cloud-init template on the native provider's production
 * VM resource (`VmLegacy` with its clone block; the provider marks `Vm` and
 * `cloned.Vm` experimental). The QEMU guest agent is on and the VM is started;
 * a GuestAddress waits (bounded) until the agent reports the VM's address. Destroy is fast and safe: a short ACPI
 * shutdown, then stop — never the multi-minute default wait.
 */
export class Vm extends pulumi.ComponentResource {
  /** The VMID. */
  readonly vmid: number;
  /** The VM's address: the static one once the guest has it, else net0's DHCP lease. */
  readonly address: pulumi.Output<string>;
  /** Addresses the guest agent reports, loopback and link-local left out. */
  readonly ipv4: pulumi.Output<string[]>;
  /** The native resource, for `dependsOn` (HA resources). */
  readonly vm: proxmoxve.VmLegacy;
  /** `SHA256:` fingerprint of the VM's ed25519 host key, with `readHostKey`. */
  readonly hostKey?: pulumi.Output<string>;

  constructor(name: string, args: VmArgs, opts?: pulumi.ComponentResourceOptions) {
    super(VM_TYPE, name, { node: args.node, vmid: args.vmid, name: args.name }, opts);
    const networks = args.networks ?? [{ bridge: "vmbr0" }];
    const init = args.cloudInit;
    const staticIp = init.ipv4 && init.ipv4 !== "dhcp";
    const agentTimeoutSeconds = args.agentTimeoutSeconds ?? 300;
    this.vmid = args.vmid;
    if ((args.templateVmid === undefined) === (args.installerIso === undefined)) {
      refuse(this, name, "give either templateVmid (a clone) or installerIso (boot an installer), exactly one");
    }
    const disks = args.disks ?? [];
    const installer = args.installerIso !== undefined;
    const guestAgent = args.guestAgent ?? true;
    this.vm = new proxmoxve.VmLegacy(
      `${name}-vm`,
      {
        nodeName: args.node,
        vmId: args.vmid,
        name: args.name,
        clone:
          args.templateVmid === undefined
            ? undefined
            : {
                vmId: args.templateVmid,
                nodeName: args.templateNode ?? args.node,
                full: args.fullClone ?? true,
                datastoreId: (args.fullClone ?? true) ? args.storage : undefined,
              },
        // Disk first: an installed VM never boots the installer again, with or without the ISO in the drive.
        cdrom: installer ? { fileId: args.installerIso, interface: INSTALLER_DRIVE } : undefined,
        bootOrders: installer && disks.length > 0 ? [disks[0].interface, INSTALLER_DRIVE] : undefined,
        operatingSystem: installer ? { type: "l26" } : undefined,
        agent: { enabled: guestAgent, timeout: `${agentTimeoutSeconds}s`, trim: true },
        cpu: { cores: args.cores ?? 2, type: "host" },
        memory: { dedicated: args.memoryMb ?? 2048 },
        disks: disks.map((d) => ({
          interface: d.interface,
          size: d.sizeGb,
          datastoreId: d.storage ?? args.storage,
          discard: "on",
          iothread: d.interface.startsWith("scsi") ? true : undefined,
        })),
        networkDevices: networks.map((n) => ({ bridge: n.bridge, model: "virtio", vlanId: n.vlanId, mtu: n.mtu ?? 1 })),
        initialization: {
          datastoreId: args.storage,
          // nocloud: Talos reads the network-config of this drive (its static address) in maintenance mode.
          type: installer ? "nocloud" : undefined,
          interface: installer ? "ide2" : undefined,
          userAccount: init.sshKeys ? { username: init.user, keys: init.sshKeys } : undefined,
          ipConfigs: [{ ipv4: staticIp ? { address: init.ipv4, gateway: init.gateway } : { address: "dhcp" } }],
          dns: init.dnsServers || init.dnsDomain ? { servers: init.dnsServers, domain: init.dnsDomain } : undefined,
          vendorDataFileId: args.vendorSnippet,
        },
        tags: args.tags,
        onBoot: args.onBoot ?? true,
        started: true,
        // Fast, safe destroy: 30 s of ACPI shutdown, then a hard stop (or the hard stop at once).
        stopOnDestroy: args.stopOnDestroy ?? false,
        timeoutShutdownVm: 30,
        timeoutStopVm: 30,
        purgeOnDestroy: true,
      },
      {
        ...childOptions(this, opts),
        provider: args.provider,
        // The installer leaves the drive once the guest has installed itself (InstallerEject): not drift.
        ...(installer ? { ignoreChanges: ["cdrom"] } : {}),
      },
    );
    if (args.waitForAddress === false) {
      if (!staticIp) refuse(this, name, "waitForAddress: false needs a static cloudInit.ipv4 (the address is not known otherwise)");
      const address = init.ipv4!.split("/")[0];
      this.address = pulumi.output(address);
      this.ipv4 = pulumi.output([address]);
      this.registerOutputs({ vmid: this.vmid, address: this.address, ipv4: this.ipv4 });
      return;
    }
    // The bounded wait for the agent's address, with an error that names the VM and the agent's last answer.
    const guest = new GuestAddress(
      `${name}-address`,
      {
        ...args.access,
        vmid: args.vmid,
        name: args.name,
        mac: this.vm.macAddresses.apply((macs) => macs?.[0]),
        expected: staticIp ? init.ipv4!.split("/")[0] : undefined,
        timeoutSeconds: agentTimeoutSeconds,
      },
      { parent: this, dependsOn: [this.vm] },
    );
    this.address = guest.address;
    this.ipv4 = guest.addresses;
    if (args.readHostKey) {
      const key = new GuestHostKey(
        `${name}-host-key`,
        { ...args.access, vmid: args.vmid, name: args.name, timeoutSeconds: agentTimeoutSeconds },
        { parent: this, dependsOn: [guest] },
      );
      this.hostKey = key.hostKey;
    }
    this.registerOutputs({ vmid: this.vmid, address: this.address, ipv4: this.ipv4, hostKey: this.hostKey });
  }
}
