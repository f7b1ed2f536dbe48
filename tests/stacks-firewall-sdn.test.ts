/**
 * matrix's cluster firewall and its `dev` guest network, run through the real
 * program under Pulumi mocks: what is registered, and in which order (nothing
 * before the cluster; `enable` only after the rules and the verify step; one
 * SDN apply after every zone, VNet and subnet; the VM on `dev` after it).
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CLUSTER_FIREWALL_TYPE } from "../components/cluster-firewall";
import { GUEST_NETWORKS_TYPE } from "../components/guest-networks";
import { PROXMOX_CLUSTER_TYPE } from "../components/proxmox-cluster";
import { runProgram } from "../stacks/program";
import { orderedAfter } from "./helpers/ordering";
import { runStack, settled, type StackRun } from "./helpers/pulumi-mocks";

const ROOT = path.resolve(__dirname, "..");
const T = {
  alias: "proxmoxve:firewall/aliasLegacy:AliasLegacy",
  ipset: "proxmoxve:firewall/ipsetLegacy:IpsetLegacy",
  rules: "proxmoxve:firewall/rulesLegacy:RulesLegacy",
  nodeOptions: "proxmoxve:node/firewall:Firewall",
  clusterOptions: "proxmoxve:cluster/firewallLegacy:FirewallLegacy",
  verify: "pulumi-nodejs:dynamic/proxmox:FirewallVerify",
  sshCheck: "pulumi-nodejs:dynamic/proxmox:FirewallSshCheck",
  zone: "proxmoxve:sdn/zone/simple:Simple",
  vnet: "proxmoxve:sdn/vnet:Vnet",
  subnet: "proxmoxve:sdn/subnet:Subnet",
  apply: "pulumi-nodejs:dynamic/proxmox:SdnApply",
  vm: "proxmoxve:index/vmLegacy:VmLegacy",
};

let cached: StackRun | undefined;
async function run(): Promise<StackRun> {
  cached ??= await settled(await runStack(path.join(ROOT, "Pulumi.matrix.yaml"), runProgram));
  return cached;
}

describe("matrix firewall", () => {
  it("registers aliases for every network, the admin and member IP sets, one rule list, each node's options", async () => {
    const r = await run();
    expect(r.byType(CLUSTER_FIREWALL_TYPE).map((c) => c.name)).toEqual(["matrix-firewall"]);
    expect(r.byType(T.alias).map((a) => [a.rawInputs.name, a.rawInputs.cidr])).toEqual([
      ["net-management", "192.168.3.0/24"],
      ["net-corosync", "192.168.8.0/24"],
      ["net-ceph-public", "192.168.5.0/24"],
      ["net-ceph-private", "192.168.7.0/24"],
    ]);
    const management = r.byType(T.ipset).find((s) => s.rawInputs.name === "management")!;
    expect(management.rawInputs.cidrs).toEqual([{ name: "192.168.3.0/24" }]);
    const members = r.byType(T.ipset).find((s) => s.rawInputs.name === "members")!;
    expect((members.rawInputs.cidrs as { name: string }[]).map((c) => c.name)).toEqual(
      expect.arrayContaining(["192.168.3.5", "192.168.8.6", "192.168.7.7"]),
    );
    expect(r.byType(T.nodeOptions).map((n) => n.rawInputs.nodeName).sort()).toEqual(["foxtrot", "golf", "hotel"]);
    const [rules] = r.byType(T.rules);
    const list = rules.rawInputs.rules as { action: string; proto?: string; dport?: string; source?: string }[];
    // The management path comes first of homelab's own rules.
    expect(list.slice(0, 2)).toEqual([
      expect.objectContaining({ action: "ACCEPT", proto: "tcp", dport: "22", source: "+management" }),
      expect.objectContaining({ action: "ACCEPT", proto: "tcp", dport: "8006", source: "+management" }),
    ]);
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ proto: "udp", dport: "5405:5412", source: "+members" }),
        expect.objectContaining({ proto: "tcp", dport: "3300,6789", source: "net-ceph-public" }),
        expect.objectContaining({ proto: "tcp", dport: "6800:7300", source: "net-ceph-private" }),
        expect.objectContaining({ proto: "tcp", dport: "60000:60050", source: "net-ceph-private" }),
      ]),
    );
  });

  it("creates every firewall resource after the cluster", async () => {
    const r = await run();
    const [cluster] = r.byType(PROXMOX_CLUSTER_TYPE);
    for (const type of [T.alias, T.ipset, T.rules, T.nodeOptions, T.clusterOptions, T.verify, T.sshCheck]) {
      for (const reg of r.byType(type)) expect(orderedAfter(r.registrations, reg.urn, cluster.urn), reg.name).toBe(true);
    }
  });

  it("switches the firewall on only after the rules, the node options and the verify step, and checks SSH after", async () => {
    const r = await run();
    const [options] = r.byType(T.clusterOptions);
    const [verify] = r.byType(T.verify);
    const [rules] = r.byType(T.rules);
    const [check] = r.byType(T.sshCheck);
    expect(options.rawInputs.enabled).toBe(true);
    expect(options.rawInputs.inputPolicy).toBe("DROP");
    expect(orderedAfter(r.registrations, verify.urn, rules.urn)).toBe(true);
    for (const n of r.byType(T.nodeOptions)) expect(orderedAfter(r.registrations, verify.urn, n.urn), n.name).toBe(true);
    for (const a of [...r.byType(T.alias), ...r.byType(T.ipset)]) expect(orderedAfter(r.registrations, rules.urn, a.urn), a.name).toBe(true);
    expect(orderedAfter(r.registrations, options.urn, rules.urn)).toBe(true);
    expect(orderedAfter(r.registrations, options.urn, verify.urn)).toBe(true);
    expect(orderedAfter(r.registrations, check.urn, options.urn)).toBe(true);
    // Nothing of the rule set waits for the enable.
    expect(orderedAfter(r.registrations, rules.urn, options.urn)).toBe(false);
    expect(verify.rawInputs.adminNetworks).toEqual(["192.168.3.0/24"]);
    expect(verify.rawInputs.ports).toEqual([22, 8006]);
    expect((verify.rawInputs.nodes as { node: string }[]).map((n) => n.node)).toEqual(["foxtrot", "golf", "hotel"]);
    expect(verify.additionalSecretOutputs).toContain("sshPrivateKey");
    expect(check.additionalSecretOutputs).toContain("sshPrivateKey");
  });
});

describe("matrix dev guest network", () => {
  it("is one simple zone with DHCP, a VNet and a subnet with SNAT and the DHCP range, after the cluster", async () => {
    const r = await run();
    const [cluster] = r.byType(PROXMOX_CLUSTER_TYPE);
    expect(r.byType(GUEST_NETWORKS_TYPE).map((c) => c.name)).toEqual(["matrix-sdn"]);
    const [zone] = r.byType(T.zone);
    expect(zone.rawInputs).toMatchObject({ resourceId: "dev", dhcp: "dnsmasq", ipam: "pve", nodes: ["foxtrot", "golf", "hotel"] });
    const [vnet] = r.byType(T.vnet);
    expect(vnet.rawInputs).toMatchObject({ resourceId: "dev", zone: "dev" });
    const [subnet] = r.byType(T.subnet);
    expect(subnet.rawInputs).toMatchObject({
      cidr: "10.60.0.0/24",
      vnet: "dev",
      gateway: "10.60.0.1",
      snat: true,
      dhcpRange: { startAddress: "10.60.0.100", endAddress: "10.60.0.200" },
    });
    for (const reg of [zone, vnet, subnet, ...r.byType(T.apply)]) expect(orderedAfter(r.registrations, reg.urn, cluster.urn), reg.name).toBe(true);
  });

  it("installs dnsmasq on the nodes and turns Debian's default instance off before the zones (their DHCP runs their own)", async () => {
    const r = await run();
    const cluster = r.byType("pulumi-nodejs:dynamic/proxmox:Cluster")[0];
    const offs = r.byType("pulumi-nodejs:dynamic/host:UnitDisabled");
    expect(offs.map((o) => (o.rawInputs.connection as { node: string }).node).sort()).toEqual(["foxtrot", "golf", "hotel"]);
    for (const off of offs) {
      expect(off.rawInputs.unit).toBe("dnsmasq.service");
      expect(orderedAfter(r.registrations, off.urn, cluster.urn), off.name).toBe(true);
      for (const zone of r.byType(T.zone)) expect(orderedAfter(r.registrations, zone.urn, off.urn), zone.name).toBe(true);
    }
    const packages = r.byType("pulumi-nodejs:dynamic/node:Packages").filter((p) => ["foxtrot", "golf", "hotel"].includes((p.rawInputs.connection as { node: string }).node));
    for (const p of packages) expect(p.rawInputs.packages as string[]).toContain("dnsmasq");
  });

  it("applies once, after every zone, VNet and subnet", async () => {
    const r = await run();
    const applies = r.byType(T.apply);
    expect(applies).toHaveLength(1);
    for (const reg of [...r.byType(T.zone), ...r.byType(T.vnet), ...r.byType(T.subnet)]) {
      expect(orderedAfter(r.registrations, applies[0].urn, reg.urn), reg.name).toBe(true);
    }
    expect(applies[0].additionalSecretOutputs).toContain("sshPrivateKey");
  });

  it("attaches debian12-01 to the dev VNet by name, once SDN is applied; VMs without it do not wait", async () => {
    const r = await run();
    const [apply] = r.byType(T.apply);
    const vm = r.byName("matrix-vm-debian12-01-vm");
    expect((vm.rawInputs.networkDevices as { bridge: string }[]).map((n) => n.bridge)).toEqual(["vmbr0", "dev"]);
    expect(orderedAfter(r.registrations, vm.urn, apply.urn)).toBe(true);
    const other = r.byName("matrix-vm-rocky9-01-vm");
    expect(orderedAfter(r.registrations, other.urn, apply.urn)).toBe(false);
  });
});
