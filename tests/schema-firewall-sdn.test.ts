/**
 * The `firewall` and `sdn` sections of a stack file: every mistake is an
 * error by path before anything runs, the lock-out guard included (the same
 * evaluation the verify step runs on the nodes).
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { clusterFwText, firewallPlan } from "../infra/firewall-plan";
import { acceptsFrom, emptyFwConfig, parseFirewallStatus, parseFwConfig, parseLocalnet } from "../infra/parse/pve-firewall";
import { environmentIssues } from "../stacks/errors";
import { stackConfig } from "./helpers/pulumi-mocks";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Env = any;

function matrix(): Env {
  return JSON.parse(stackConfig(path.resolve(__dirname, "..", "Pulumi.matrix.yaml")).config["homelab:environment"]);
}

function issuesAfter(mutate: (e: Env) => void): string[] {
  const env = matrix();
  mutate(env);
  return environmentIssues(env);
}

describe("firewall", () => {
  it("accepts matrix as it is", () => {
    expect(environmentIssues(matrix())).toEqual([]);
  });

  it("refuses an operator rule that would block SSH from an admin network, at the rule", () => {
    expect(
      issuesAfter((e) => (e.firewall.rules = [{ action: "DROP", proto: "tcp", dport: "22", source: "192.168.0.0/16", comment: "no ssh" }])),
    ).toEqual([
      "firewall.rules[0]: would block tcp/22 (SSH) from admin network 192.168.3.0/24: dropped by cluster.fw: " +
        "IN DROP -source 192.168.0.0/16 -p tcp -dport 22 # no ssh; the operator would be locked out",
    ]);
  });

  it("refuses a rule that rejects everything from the admin networks, for SSH and the API", () => {
    const issues = issuesAfter((e) => (e.firewall.rules = [{ action: "REJECT", source: "net-management" }]));
    expect(issues).toEqual([
      expect.stringMatching(/^firewall\.rules\[0\]: would block tcp\/22 \(SSH\) from admin network 192\.168\.3\.0\/24: dropped by cluster\.fw: IN REJECT -source net-management # operator rule;/),
      expect.stringMatching(/^firewall\.rules\[0\]: would block tcp\/8006 \(the API\) from admin network 192\.168\.3\.0\/24/),
    ]);
  });

  it("accepts operator rules that leave the management path open", () => {
    expect(
      issuesAfter((e) => {
        e.firewall.rules = [
          { action: "DROP", proto: "tcp", dport: "22", source: "10.9.9.0/24" },
          { action: "ACCEPT", proto: "tcp", dport: "9100", source: "+members" },
        ];
      }),
    ).toEqual([]);
  });

  it("refuses no admin network, a bad CIDR, an unknown rule source, a port without a protocol", () => {
    expect(issuesAfter((e) => (e.firewall.adminNetworks = []))).toEqual([
      "firewall.adminNetworks: empty; the firewall needs at least one admin network (SSH and the API are only open to them)",
    ]);
    expect(issuesAfter((e) => (e.firewall.adminNetworks = ["192.168.3.5/24"]))).toEqual([
      'firewall.adminNetworks[0]: "192.168.3.5/24" has host bits set; the network address is 192.168.3.0/24',
    ]);
    expect(issuesAfter((e) => (e.firewall.rules = [{ action: "ACCEPT", source: "+office" }]))).toEqual([
      'firewall.rules[0].source: "+office" names no IP set or alias homelab writes (+management, +members, net-management, net-corosync, net-ceph-public, net-ceph-private)',
    ]);
    expect(issuesAfter((e) => (e.firewall.rules = [{ action: "ACCEPT", dport: "9100" }]))).toEqual([
      "firewall.rules[0].dport: needs proto tcp or udp (Proxmox refuses a port without one)",
    ]);
    expect(issuesAfter((e) => (e.firewall.rules = [{ action: "ACCEPT", proto: "tcp", dport: "70000" }]))).toEqual([
      'firewall.rules[0].dport: "70000" is not a port, list or range (443, 80,443, 9000:9100)',
    ]);
  });

  it("needs the cluster and the API", () => {
    expect(issuesAfter((e) => delete e.apiAccess)).toContain("firewall: needs apiAccess: the firewall rules are written through the Proxmox API");
    expect(
      issuesAfter((e) => {
        delete e.cluster;
        delete e.ceph;
        for (const n of e.nodes) delete n.osds;
      }),
    ).toContain("firewall: needs cluster: the firewall is cluster-wide (cluster first, firewall after)");
  });
});

describe("sdn", () => {
  const dev = (e: Env) => e.sdn.networks[0];

  it("refuses overlapping subnets, with each other and with the environment's networks", () => {
    expect(issuesAfter((e) => e.sdn.networks.push({ name: "lab", cidr: "10.60.0.0/16", gateway: "10.60.255.1" }))).toEqual([
      "sdn.networks[1].cidr: 10.60.0.0/16 overlaps sdn.networks[0] (10.60.0.0/24)",
    ]);
    expect(issuesAfter((e) => (dev(e).cidr = "192.168.5.0/24"))).toEqual(
      expect.arrayContaining(['sdn.networks[0].cidr: 192.168.5.0/24 overlaps network "ceph-public" (192.168.5.0/24)']),
    );
  });

  it("refuses a DHCP range outside its subnet, reversed, or holding the gateway; a gateway outside", () => {
    expect(issuesAfter((e) => (dev(e).dhcp.end = "10.60.1.20"))).toEqual([
      'sdn.networks[0].dhcp.end: "10.60.1.20" is not inside 10.60.0.0/24; the DHCP range must lie inside its subnet',
    ]);
    expect(issuesAfter((e) => (dev(e).dhcp = { start: "10.60.0.200", end: "10.60.0.100" }))).toEqual([
      'sdn.networks[0].dhcp.end: "10.60.0.100" comes before start "10.60.0.200"',
    ]);
    expect(issuesAfter((e) => (dev(e).dhcp = { start: "10.60.0.1", end: "10.60.0.100" }))).toEqual([
      "sdn.networks[0].dhcp: the range 10.60.0.1–10.60.0.100 holds the gateway 10.60.0.1",
    ]);
    expect(issuesAfter((e) => (dev(e).gateway = "10.61.0.1"))).toEqual([
      'sdn.networks[0].gateway: "10.61.0.1" is not inside 10.60.0.0/24',
    ]);
  });

  it("refuses what a zone type cannot do, a duplicate name or VXLAN id, and a bad name", () => {
    expect(
      issuesAfter((e) => {
        dev(e).type = "vxlan";
      }),
    ).toEqual([
      "sdn.networks[0]: missing vxlanTag; a vxlan zone needs a VXLAN id",
      "sdn.networks[0].dhcp: DHCP is only served on simple zones; use a simple zone or a DHCP server on the VXLAN",
      "sdn.networks[0].snat: SNAT is only done on simple zones; route a vxlan network through a gateway VM",
    ]);
    expect(
      issuesAfter((e) => {
        e.sdn.networks.push({ name: "ovl1", type: "vxlan", cidr: "10.70.0.0/24", vxlanTag: 100 });
        e.sdn.networks.push({ name: "ovl1", type: "vxlan", cidr: "10.71.0.0/24", vxlanTag: 100 });
      }),
    ).toEqual([
      'sdn.networks[2].name: "ovl1" is already the name of sdn.networks[1]',
      "sdn.networks[2].vxlanTag: 100 is already the VXLAN id of sdn.networks[1]",
    ]);
    expect(issuesAfter((e) => (dev(e).name = "development"))).toEqual([
      'sdn.networks[0].name: "development" is not an SDN name (a lowercase letter, then lowercase letters and digits, at most 8)',
    ]);
    expect(issuesAfter((e) => delete dev(e).gateway)).toEqual([
      "sdn.networks[0].dhcp: needs a gateway: the node serves DHCP from the gateway address",
      "sdn.networks[0].snat: needs a gateway: SNAT routes the subnet through the node",
    ]);
  });

  it("refuses a VM on an unknown VNet, or on a VNet and a bridge at once", () => {
    expect(issuesAfter((e) => (e.vms[2].networks = [{ vnet: "prod" }]))).toEqual(['vms[2].networks[0].vnet: no guest network named "prod" in sdn.networks']);
    expect(issuesAfter((e) => (e.vms[2].networks = [{ vnet: "dev", bridge: "vmbr0" }]))).toEqual([
      "vms[2].networks[0]: has both bridge and vnet; a network interface attaches to one",
    ]);
  });
});

describe("firewall files", () => {
  const plan = firewallPlan({
    adminNetworks: ["10.1.0.0/24"],
    networks: [{ name: "lan", cidr: "10.1.0.0/24" }],
    memberAddresses: ["10.1.0.11"],
    linkNetworks: ["lan"],
    extraRules: [],
  });

  it("reads back what homelab writes: the rules accept SSH and the API from the admin network", () => {
    const conf = parseFwConfig(clusterFwText(plan, { enable: "1", policy_in: "DROP" }), "cluster.fw");
    expect(conf.problems).toEqual([]);
    expect(conf.ipsets.management).toEqual(["10.1.0.0/24"]);
    expect(acceptsFrom(conf, emptyFwConfig(), "10.1.0.0/24", 22, undefined)).toEqual({
      accepted: true,
      reason: "accepted by cluster.fw line 20: IN ACCEPT -source +management -p tcp -dport 22 # homelab: SSH from admin networks",
    });
    // Another network only through the policy.
    expect(acceptsFrom(conf, emptyFwConfig(), "10.2.0.0/24", 22, undefined)).toEqual({ accepted: false, reason: "no rule accepts it; policy_in is DROP" });
  });

  it("follows PVE: host rules first, disabled rules skipped, the management IP set and local_network, a disabled host firewall", () => {
    const cluster = parseFwConfig("[OPTIONS]\npolicy_in: DROP\n[IPSET management]\n10.3.0.0/16\n[RULES]\n|IN DROP -p tcp -dport 22\n", "cluster.fw");
    const host = parseFwConfig("[RULES]\nIN SSH(DROP) -source 10.3.1.0/24\n", "host.fw");
    expect(acceptsFrom(cluster, emptyFwConfig(), "10.3.1.0/24", 22, undefined).reason).toBe("accepted by the management IP set (or local_network)");
    expect(acceptsFrom(cluster, host, "10.3.1.0/24", 22, undefined)).toEqual({ accepted: false, reason: "dropped by host.fw line 2: IN SSH(DROP) -source 10.3.1.0/24" });
    expect(acceptsFrom(cluster, host, "10.3.1.0/24", 8006, undefined).accepted).toBe(true);
    expect(acceptsFrom(emptyFwConfig(), emptyFwConfig(), "10.4.0.0/24", 8006, "10.4.0.0/24").accepted).toBe(true);
    expect(acceptsFrom(cluster, parseFwConfig("[OPTIONS]\nenable: 0\n", "host.fw"), "10.9.0.0/24", 22, undefined).accepted).toBe(true);
  });

  it("counts an ACCEPT only when it surely covers the whole admin network, a DROP when it may touch it", () => {
    const conf = parseFwConfig("[RULES]\nIN ACCEPT -source 10.5.0.0/25 -p tcp -dport 22\nIN DROP -source 10.5.0.128/25 -p tcp -dport 22:23\n", "cluster.fw");
    expect(acceptsFrom(conf, emptyFwConfig(), "10.5.0.0/24", 22, undefined)).toEqual({
      accepted: false,
      reason: "may be dropped by cluster.fw line 3: IN DROP -source 10.5.0.128/25 -p tcp -dport 22:23",
    });
  });

  it("reads pve-firewall's status and localnet texts", () => {
    expect(parseFirewallStatus("Status: enabled/running (pending changes)\n")).toEqual({ enabled: true, running: true, pending: true });
    expect(parseFirewallStatus("Status: disabled/stopped\n")).toEqual({ enabled: false, running: false, pending: false });
    expect(parseLocalnet("local hostname: a\nlocal IP address: 10.0.0.5\nnetwork auto detect: 10.0.0.0/24\nusing detected local_network: 10.0.0.0/24\n")).toBe("10.0.0.0/24");
  });
});
