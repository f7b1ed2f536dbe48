import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { SdnApply } from "../infra/providers/proxmox/sdn-apply";
import { childOptions, refuse, sharedSshKey } from "./child-options";

/** Type token of the GuestNetworks component. */
export const GUEST_NETWORKS_TYPE = "homelab:sdn:GuestNetworks";

/** One isolated guest network: its zone, VNet and subnet share the name. */
export interface GuestNetwork {
  /** Zone and VNet ID (a letter, then letters and digits, at most 8). */
  name: string;
  /** simple: a bridge on each node, DHCP and SNAT there; vxlan: one layer-2 network across the nodes. */
  type: "simple" | "vxlan";
  cidr: string;
  gateway?: string;
  /** Source-NAT out of the node (simple zones). */
  snat?: boolean;
  dhcp?: { start: string; end: string; dnsServer?: string };
  /** VXLAN network identifier (vxlan zones). */
  vxlanTag?: number;
  /** Nodes the zone is on. */
  nodes: string[];
  /** Underlay addresses of those nodes (vxlan peers). */
  peers: string[];
  mtu?: number;
}

export interface GuestNetworksArgs {
  /** API provider (ApiAccess.provider). */
  provider: proxmoxve.Provider;
  /** Cluster members; the apply runs on the first that answers. */
  nodes: NodeAccess[];
  networks: GuestNetwork[];
}

/**
 * Proxmox SDN guest networks through the native resources: per network a
 * zone (Simple with the dnsmasq DHCP plugin and PVE IPAM, or VXLAN with the
 * nodes as peers), a VNet and a subnet (gateway, SNAT, DHCP range); then ONE
 * apply (SdnApply, `pvesh set /cluster/sdn`) after all of them, which runs
 * only when something is pending (see its header for why not the native
 * Applier). VMs attach to a VNet by its name once `applied` is done.
 */
export class GuestNetworks extends pulumi.ComponentResource {
  /** The apply step: VMs on a VNet wait for it (the VNet's bridge only exists once applied). */
  readonly applied: SdnApply;
  /** VNet IDs by network name. */
  readonly vnets: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: GuestNetworksArgs, opts?: pulumi.ComponentResourceOptions) {
    super(GUEST_NETWORKS_TYPE, name, { networks: args.networks.map((n) => n.name) }, opts);
    if (args.networks.length === 0) refuse(this, name, "networks is empty; nothing to create");
    const dhcpOnVxlan = args.networks.filter((n) => n.type === "vxlan" && n.dhcp).map((n) => n.name);
    if (dhcpOnVxlan.length > 0) refuse(this, name, `${dhcpOnVxlan.join(", ")}: DHCP is only served on simple zones`);
    const native = (after: pulumi.Input<pulumi.Resource>[] = []) => ({ ...childOptions(this, opts, after), provider: args.provider });
    const all: pulumi.Resource[] = [];
    for (const n of args.networks) {
      const zone =
        n.type === "simple"
          ? new proxmoxve.sdn.zone.Simple(
              `${name}-zone-${n.name}`,
              { resourceId: n.name, nodes: n.nodes, mtu: n.mtu, ...(n.dhcp ? { dhcp: "dnsmasq", ipam: "pve" } : {}) },
              native(),
            )
          : new proxmoxve.sdn.zone.Vxlan(`${name}-zone-${n.name}`, { resourceId: n.name, nodes: n.nodes, peers: n.peers, mtu: n.mtu }, native());
      const vnet = new proxmoxve.sdn.Vnet(
        `${name}-vnet-${n.name}`,
        { resourceId: n.name, zone: zone.resourceId, tag: n.type === "vxlan" ? n.vxlanTag : undefined, alias: `homelab ${n.name}` },
        native([zone]),
      );
      const subnet = new proxmoxve.sdn.Subnet(
        `${name}-subnet-${n.name}`,
        {
          vnet: vnet.resourceId,
          cidr: n.cidr,
          gateway: n.gateway,
          snat: n.type === "simple" ? (n.snat ?? n.gateway !== undefined) : false,
          dhcpRange: n.dhcp ? { startAddress: n.dhcp.start, endAddress: n.dhcp.end } : undefined,
          dhcpDnsServer: n.dhcp?.dnsServer,
        },
        native([vnet]),
      );
      this.vnets[n.name] = vnet.resourceId;
      all.push(zone, vnet, subnet);
    }
    this.applied = new SdnApply(
      `${name}-apply`,
      {
        nodes: args.nodes.map((n) => n.connection),
        sshPrivateKey: sharedSshKey(this, name, args.nodes),
        // What was written: a change here re-reads the pending state and applies it.
        config: JSON.stringify(args.networks),
      },
      childOptions(this, opts, all),
    );
    this.registerOutputs({ vnets: this.vnets });
  }
}
