/**
 * An environment's topology, read from its validated stack file alone: the
 * networks (CIDR, MTU and what runs on them: corosync links, Ceph public and
 * cluster, the Thunderbolt ring, migration), the machines with their
 * interfaces (NICs, bonds, bridges, VLANs, ring ports), the ring's cables and
 * the Kubernetes clusters with the machines that carry them. The Mermaid and
 * SVG renderers draw this; nothing here touches a node.
 */
import { ipInCidr } from "../../infra/ipv4";
import { interfaceMtu } from "../../stacks/lookup";
import type { Environment, Interface, Node } from "../../stacks/schema";

export interface TopoNetwork {
  name: string;
  cidr: string;
  mtu: number;
  gateway?: string;
  /** What runs on it, in a fixed order: corosync link0…, Ceph public, Ceph cluster, ring, migration. */
  roles: string[];
}

export interface TopoInterface {
  name: string;
  /** nic, bond, bridge, vlan, thunderbolt or loopback. */
  type: string;
  /** One line: mode, VLAN id, ports… */
  detail: string;
  mtu: number;
  network?: string;
  address?: string;
  /** Interfaces of the same machine this one is built on (bond slaves, bridge ports, a VLAN's device). */
  lower: string[];
}

export interface TopoMachine {
  name: string;
  /** proxmox (a Proxmox VE node), host (an existing Linux host), linode (a Linode instance) or vm. */
  kind: "proxmox" | "host" | "linode" | "vm";
  /** Short facts: address, OSDs, the node a VM runs on, a region. */
  details: string[];
  interfaces: TopoInterface[];
  /** The Proxmox node a VM runs on. */
  carrier?: string;
}

export interface RingLink {
  a: { node: string; port: string };
  b: { node: string; port: string };
}

export interface KubernetesCluster {
  /** The distribution, as a word for the label (K3s, Talos). */
  kind: string;
  name: string;
  version: string;
  members: { machine: string; role: string }[];
}

/** The Proxmox cluster: corosync links (network per link number) and the Ceph networks. */
export interface TopoCluster {
  name: string;
  links: string[];
  ceph?: { publicNetwork: string; clusterNetwork: string };
}

export interface Topology {
  name: string;
  cluster?: TopoCluster;
  networks: TopoNetwork[];
  machines: TopoMachine[];
  ring: RingLink[];
  /** The ring's MTU on its ports (when there is a ring). */
  ringMtu?: number;
  kubernetes: KubernetesCluster[];
}

export function topology(env: Environment): Topology {
  return {
    name: env.name,
    ...(env.cluster
      ? {
          cluster: {
            name: env.cluster.name,
            links: [...env.cluster.links],
            ...(env.ceph ? { ceph: { publicNetwork: env.ceph.publicNetwork, clusterNetwork: env.ceph.clusterNetwork ?? env.ceph.publicNetwork } } : {}),
          },
        }
      : {}),
    networks: env.networks.map((n) => ({
      name: n.name,
      cidr: n.cidr,
      mtu: n.mtu ?? (env.thunderbolt?.network === n.name ? env.thunderbolt.mtu : 1500),
      ...(n.gateway ? { gateway: n.gateway } : {}),
      roles: networkRoles(env, n.name),
    })),
    machines: [
      ...env.nodes.map((node) => proxmoxNode(env, node)),
      ...env.hosts.map((h): TopoMachine => ({ name: h.name, kind: "host", details: [h.address, `${h.distro} ${h.arch}`], interfaces: attach(env, "eth", h.address) })),
      ...(env.linode?.instances ?? []).map(
        (i): TopoMachine => ({ name: i.label, kind: "linode", details: [`Linode ${i.type} in ${i.region ?? env.linode!.region}`], interfaces: [] }),
      ),
      ...env.vms.map((vm): TopoMachine => {
        // ipv4 is a static address/prefix or "dhcp" (then the address is only known at run time).
        const address = vm.cloudInit.ipv4 && vm.cloudInit.ipv4 !== "dhcp" ? vm.cloudInit.ipv4.split("/")[0] : undefined;
        return {
          name: vm.name,
          kind: "vm",
          carrier: vm.node,
          details: [`VM on ${vm.node}`, ...vm.networks.map((n) => `${n.bridge}${n.vlanId ? ` VLAN ${n.vlanId}` : ""}`), ...(address ? [address] : [])],
          interfaces: address ? attach(env, "net0", address) : [],
        };
      }),
      ...env.talos.clusters.flatMap((c) =>
        [...c.controlPlanes, ...c.workers].map(
          (n): TopoMachine =>
            c.proxmox && n.node
              ? { name: n.name, kind: "vm", carrier: n.node, details: [`Talos VM on ${n.node}`, n.address], interfaces: attach(env, "net0", n.address) }
              : { name: n.name, kind: "host", details: ["Talos on a VPS", n.address], interfaces: [] },
        ),
      ),
    ],
    ring: ringLinks(env.nodes),
    ...(env.thunderbolt ? { ringMtu: env.thunderbolt.mtu } : {}),
    kubernetes: [
      ...env.k3s.clusters.map((c) => ({
        kind: "K3s",
        name: c.name,
        version: c.version,
        members: [...c.servers.map((m) => ({ machine: m, role: "server" })), ...c.agents.map((m) => ({ machine: m, role: "agent" }))],
      })),
      ...env.talos.clusters.map((c) => ({
        kind: "Talos",
        name: c.name,
        version: `${c.talosVersion}, Kubernetes ${c.kubernetesVersion}`,
        members: [...c.controlPlanes.map((n) => ({ machine: n.name, role: "control plane" })), ...c.workers.map((n) => ({ machine: n.name, role: "worker" }))],
      })),
    ],
  };
}

function networkRoles(env: Environment, name: string): string[] {
  const roles = (env.cluster?.links ?? []).flatMap((link, i) => (link === name ? [`corosync link${i}`] : []));
  if (env.ceph?.publicNetwork === name) roles.push("Ceph public");
  if ((env.ceph?.clusterNetwork ?? env.ceph?.publicNetwork) === name) roles.push("Ceph cluster");
  if (env.thunderbolt?.network === name) roles.push("Thunderbolt ring");
  if (env.cluster?.migration?.network === name) roles.push("migration");
  return roles;
}

function proxmoxNode(env: Environment, node: Node): TopoMachine {
  const osds = node.osds.reduce((sum, d) => sum + d.osdsPerDevice, 0);
  const interfaces = node.interfaces.map((i) => topoInterface(env, i));
  if (node.thunderbolt && env.thunderbolt) {
    for (const port of node.thunderbolt.ports) {
      interfaces.push({ name: port.name, type: "thunderbolt", detail: `thunderbolt to ${port.peer}`, mtu: env.thunderbolt.mtu, lower: [] });
    }
    interfaces.push({
      name: "lo",
      type: "loopback",
      detail: "ring loopback /32",
      mtu: env.thunderbolt.mtu,
      network: env.thunderbolt.network,
      address: node.thunderbolt.loopback,
      lower: node.thunderbolt.ports.map((p) => p.name),
    });
  }
  const details = [node.address, ...(osds > 0 ? [`${osds} OSD${osds === 1 ? "" : "s"} on ${node.osds.map((d) => d.device).join(", ")}`] : [])];
  return { name: node.name, kind: "proxmox", details, interfaces };
}

function topoInterface(env: Environment, i: Interface): TopoInterface {
  const base = { name: i.name, type: i.type, mtu: interfaceMtu(env, i), ...(i.network ? { network: i.network } : {}), ...(i.address ? { address: i.address } : {}) };
  switch (i.type) {
    case "nic":
      return { ...base, detail: "nic", lower: [] };
    case "bond":
      return { ...base, detail: `bond ${i.mode}${i.primary ? ` primary ${i.primary}` : ""}`, lower: [...i.slaves] };
    case "bridge": {
      const vlans = i.vlanAware ? ` vlan-aware${i.vlanIds ? ` ${i.vlanIds.join(",")}` : ""}` : "";
      return { ...base, detail: `bridge${vlans}`, lower: [...i.ports] };
    }
    case "vlan":
      return { ...base, detail: `VLAN ${i.vlanId} on ${i.device}`, lower: [i.device] };
  }
}

/** A machine outside Proxmox, attached to the network its address is in (if the stack has one). */
function attach(env: Environment, name: string, address: string): TopoInterface[] {
  const network = env.networks.find((n) => ipInCidr(address, n.cidr));
  return network ? [{ name, type: "nic", detail: "nic", mtu: network.mtu ?? 1500, network: network.name, address, lower: [] }] : [];
}

/** Each cable once: a port naming a peer, matched in order with the peer's ports naming it back. */
export function ringLinks(nodes: Node[]): RingLink[] {
  const links: RingLink[] = [];
  const used = new Set<string>();
  for (const node of nodes) {
    for (const port of node.thunderbolt?.ports ?? []) {
      const key = `${node.name}/${port.name}`;
      if (used.has(key)) continue;
      const peer = nodes.find((n) => n.name === port.peer);
      const back = peer?.thunderbolt?.ports.find((p) => p.peer === node.name && !used.has(`${peer.name}/${p.name}`));
      if (!peer || !back) continue;
      used.add(key).add(`${peer.name}/${back.name}`);
      links.push({ a: { node: node.name, port: port.name }, b: { node: peer.name, port: back.name } });
    }
  }
  return links;
}
