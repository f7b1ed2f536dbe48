/**
 * Isolated guest networks (Proxmox SDN): the schema of `sdn`, and its checks
 * (names unique, subnets apart from each other and from the environment's
 * networks, gateway and DHCP range inside their subnet, what each zone type
 * supports, VMs on VNets that exist).
 */
import { cidrsOverlap, ipInCidr, ipv4ToInt } from "../../infra/ipv4";
import { bool, cidr, hostName, integer, ipv4, list, mapping, oneOf, text } from "./fields";
import { show } from "./messages";
import { hostAddressProblem } from "./networks";
import { isCidr, isIPv4, isInt, isLabel, isRecord, isString } from "./predicates";
import type { PathIssue } from "./views";

/** Proxmox zone and VNet IDs: a letter, then letters and digits, at most 8. */
export const isSdnId = (v: unknown): v is string => isString(v) && /^[a-z][a-z0-9]{0,7}$/.test(v);

export const SdnNetworkSchema = mapping(
  {
    /** The zone's and the VNet's ID; VMs attach with `networks: [{ vnet: <name> }]`. */
    name: text("an SDN name (a lowercase letter, then lowercase letters and digits, at most 8)", isSdnId),
    /** simple: one node's bridge with DHCP and SNAT on the node; vxlan: one layer-2 network across the nodes. Defaults to simple. */
    type: oneOf(["simple", "vxlan"] as const, "a zone type").default("simple"),
    cidr: cidr(),
    /** The subnet's gateway (on a simple zone, the node's address on the VNet). */
    gateway: ipv4().optional(),
    /** Source-NAT the subnet out of the node (simple zones). Defaults to true on a simple zone with a gateway. */
    snat: bool().optional(),
    /** A DHCP range served by the node's dnsmasq (simple zones; needs a gateway). */
    dhcp: mapping({ start: ipv4(), end: ipv4(), dnsServer: ipv4().optional() }, "a mapping with start and end").optional(),
    /** VXLAN network identifier (vxlan zones). */
    vxlanTag: integer("a VXLAN id", 1, 16777215).optional(),
    /** Nodes the zone is on. Defaults to every node. */
    nodes: list(hostName(), "a list of node names").optional(),
    /** MTU of the zone (VXLAN needs 50 bytes less than the underlay). */
    mtu: integer("an MTU", 576, 65520).optional(),
  },
  "a guest network (a mapping with name and cidr)",
);

export const SdnSchema = mapping(
  {
    /** One zone, VNet and subnet each. Defaults to none. */
    networks: list(SdnNetworkSchema, "a list of guest networks").default([]),
  },
  "a mapping with networks",
);

/** The checks of `sdn` and of VMs' `vnet` references. */
export function checkSdn(value: Record<string, unknown>): PathIssue[] {
  const issues: PathIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path: ["sdn", "networks", ...path], message });
  const sdn = isRecord(value.sdn) ? value.sdn : undefined;
  const list = sdn && Array.isArray(sdn.networks) ? sdn.networks : [];
  if (list.length > 0) {
    if (!isRecord(value.cluster)) issues.push({ path: ["sdn"], message: "needs cluster: SDN zones are cluster-wide" });
    if (!isRecord(value.apiAccess)) issues.push({ path: ["sdn"], message: "needs apiAccess: SDN zones are written through the Proxmox API" });
  }
  const envNetworks = (Array.isArray(value.networks) ? value.networks : []).filter(isRecord).filter((n) => isCidr(n.cidr));
  const nodeNames = (Array.isArray(value.nodes) ? value.nodes : []).filter(isRecord).map((n) => n.name);
  const seen = new Map<string, number>();
  const tags = new Map<number, number>();
  const cidrs: { cidr: string; index: number }[] = [];
  list.forEach((raw, i) => {
    if (!isRecord(raw)) return;
    const type = raw.type ?? "simple";
    if (isSdnId(raw.name)) {
      if (seen.has(raw.name)) add([i, "name"], `${show(raw.name)} is already the name of sdn.networks[${seen.get(raw.name)}]`);
      else seen.set(raw.name, i);
    }
    if (isCidr(raw.cidr)) {
      for (const other of cidrs) {
        if (cidrsOverlap(raw.cidr, other.cidr)) add([i, "cidr"], `${raw.cidr} overlaps sdn.networks[${other.index}] (${other.cidr})`);
      }
      for (const n of envNetworks) {
        if (cidrsOverlap(raw.cidr, n.cidr as string)) add([i, "cidr"], `${raw.cidr} overlaps network ${show(n.name)} (${n.cidr})`);
      }
      cidrs.push({ cidr: raw.cidr, index: i });
      if (isIPv4(raw.gateway)) {
        const problem = hostAddressProblem(raw.gateway, raw.cidr);
        if (problem) add([i, "gateway"], `${show(raw.gateway)} ${problem} ${raw.cidr}`);
      }
      if (isRecord(raw.dhcp)) checkDhcpRange(raw.dhcp, raw.cidr, raw.gateway, (k, m) => add([i, "dhcp", ...k], m));
    }
    if (type === "simple") {
      if (raw.vxlanTag !== undefined) add([i, "vxlanTag"], "only vxlan zones have a VXLAN id");
      if (isRecord(raw.dhcp) && raw.gateway === undefined) add([i, "dhcp"], "needs a gateway: the node serves DHCP from the gateway address");
      if (raw.snat === true && raw.gateway === undefined) add([i, "snat"], "needs a gateway: SNAT routes the subnet through the node");
    } else if (type === "vxlan") {
      if (raw.vxlanTag === undefined) add([i], "missing vxlanTag; a vxlan zone needs a VXLAN id");
      if (isRecord(raw.dhcp)) add([i, "dhcp"], "DHCP is only served on simple zones; use a simple zone or a DHCP server on the VXLAN");
      if (raw.snat === true) add([i, "snat"], "SNAT is only done on simple zones; route a vxlan network through a gateway VM");
      if (isInt(raw.vxlanTag, 1, 16777215)) {
        if (tags.has(raw.vxlanTag)) add([i, "vxlanTag"], `${raw.vxlanTag} is already the VXLAN id of sdn.networks[${tags.get(raw.vxlanTag)}]`);
        else tags.set(raw.vxlanTag, i);
      }
    }
    if (Array.isArray(raw.nodes)) {
      raw.nodes.forEach((n, k) => {
        if (isLabel(n) && nodeNames.every(isLabel) && !nodeNames.includes(n)) add([i, "nodes", k], `no node named ${show(n)}`);
      });
    }
  });
  // VMs attach by VNet name.
  const names = list.filter(isRecord).map((n) => n.name);
  const namesComplete = names.every(isSdnId);
  const vms = Array.isArray(value.vms) ? value.vms : [];
  vms.forEach((vm, i) => {
    if (!isRecord(vm) || !Array.isArray(vm.networks)) return;
    vm.networks.forEach((net, j) => {
      if (!isRecord(net)) return;
      if (net.vnet !== undefined && net.bridge !== undefined) {
        issues.push({ path: ["vms", i, "networks", j], message: "has both bridge and vnet; a network interface attaches to one" });
      }
      if (net.vnet !== undefined && net.vlanId !== undefined) {
        issues.push({ path: ["vms", i, "networks", j, "vlanId"], message: "a VNet carries no VLAN tag from the VM; leave vlanId out" });
      }
      if (isSdnId(net.vnet) && namesComplete && !names.includes(net.vnet)) {
        issues.push({ path: ["vms", i, "networks", j, "vnet"], message: `no guest network named ${show(net.vnet)} in sdn.networks` });
      }
    });
  });
  return issues;
}

function checkDhcpRange(dhcp: Record<string, unknown>, subnet: string, gateway: unknown, add: (path: string[], message: string) => void): void {
  const { start, end } = dhcp;
  for (const [key, ip] of [["start", start], ["end", end]] as const) {
    if (!isIPv4(ip)) continue;
    const problem = hostAddressProblem(ip, subnet);
    if (problem) add([key], `${show(ip)} ${problem} ${subnet}; the DHCP range must lie inside its subnet`);
  }
  if (!isIPv4(start) || !isIPv4(end) || !ipInCidr(start, subnet) || !ipInCidr(end, subnet)) return;
  if (ipv4ToInt(start) > ipv4ToInt(end)) add(["end"], `${show(end)} comes before start ${show(start)}`);
  else if (isIPv4(gateway) && ipv4ToInt(gateway) >= ipv4ToInt(start) && ipv4ToInt(gateway) <= ipv4ToInt(end)) {
    add([], `the range ${start}–${end} holds the gateway ${gateway}`);
  }
}
