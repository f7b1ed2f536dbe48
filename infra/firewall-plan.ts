/**
 * The cluster firewall homelab writes, as data: aliases for the
 * environment's networks, IP sets for the admin networks (`management`, the
 * set PVE itself opens 22 and 8006 to) and the members' addresses, and the
 * cluster rules in order. The firewall layer turns it into native resources;
 * the schema and the verify step evaluate the same rules
 * (infra/parse/pve-firewall.ts), so what is checked is what is written.
 */
import type { FwConfig, FwRule } from "./parse/pve-firewall";

/** One cluster rule (direction IN). */
export interface PlannedRule {
  action: "ACCEPT" | "DROP" | "REJECT";
  proto?: "tcp" | "udp" | "icmp";
  /** Port, list or range in PVE's syntax (22, 5405:5412, 3300,6789). */
  dport?: string;
  /** An address, CIDR, `+ipset` or alias name. */
  source?: string;
  comment: string;
}

export interface FirewallPlanInput {
  adminNetworks: string[];
  /** Every environment network by name. */
  networks: { name: string; cidr: string }[];
  /** Every member address on every network the cluster uses between nodes. */
  memberAddresses: string[];
  /** The corosync link networks. */
  linkNetworks: string[];
  /** Ceph public and cluster networks (when Ceph is configured). */
  cephPublicNetwork?: string;
  cephClusterNetwork?: string;
  /** The live-migration network (when configured). */
  migrationNetwork?: string;
  /** The operator's own rules; they come first, as written. */
  extraRules: PlannedRule[];
}

export interface FirewallPlan {
  aliases: { name: string; cidr: string; comment: string }[];
  ipsets: { name: string; cidrs: string[]; comment: string }[];
  rules: PlannedRule[];
}

/** The alias homelab writes for an environment network (PVE alias names start with a letter). */
export function networkAlias(network: string): string {
  return `net-${network}`;
}

/** Aliases, IP sets and rules for one environment. */
export function firewallPlan(input: FirewallPlanInput): FirewallPlan {
  const aliases = input.networks.map((n) => ({ name: networkAlias(n.name), cidr: n.cidr, comment: `homelab network ${n.name}` }));
  const ipsets = [
    { name: "management", cidrs: [...input.adminNetworks], comment: "homelab admin networks (SSH and API)" },
    { name: "members", cidrs: [...new Set(input.memberAddresses)].sort(), comment: "homelab cluster members" },
  ];
  const fromNetwork = (network: string) => `${networkAlias(network)}`;
  const rules: PlannedRule[] = [
    ...input.extraRules,
    // The management path first of homelab's own rules: SSH and the API from the admin networks.
    { action: "ACCEPT", proto: "tcp", dport: "22", source: "+management", comment: "homelab: SSH from admin networks" },
    { action: "ACCEPT", proto: "tcp", dport: "8006", source: "+management", comment: "homelab: API from admin networks" },
    { action: "ACCEPT", proto: "udp", dport: "5405:5412", source: "+members", comment: "homelab: corosync between members" },
    ...input.linkNetworks.map(
      (n): PlannedRule => ({ action: "ACCEPT", proto: "udp", dport: "5405:5412", source: fromNetwork(n), comment: `homelab: corosync on ${n}` }),
    ),
    { action: "ACCEPT", proto: "tcp", dport: "22", source: "+members", comment: "homelab: SSH between members (join, migration)" },
    {
      action: "ACCEPT",
      proto: "tcp",
      dport: "60000:60050",
      source: input.migrationNetwork ? fromNetwork(input.migrationNetwork) : "+members",
      comment: "homelab: live migration",
    },
  ];
  if (input.cephPublicNetwork) {
    rules.push({ action: "ACCEPT", proto: "tcp", dport: "3300,6789", source: fromNetwork(input.cephPublicNetwork), comment: "homelab: Ceph monitors" });
    rules.push({ action: "ACCEPT", proto: "tcp", dport: "6800:7300", source: fromNetwork(input.cephPublicNetwork), comment: "homelab: Ceph OSDs and managers (public)" });
  }
  if (input.cephClusterNetwork && input.cephClusterNetwork !== input.cephPublicNetwork) {
    rules.push({ action: "ACCEPT", proto: "tcp", dport: "6800:7300", source: fromNetwork(input.cephClusterNetwork), comment: "homelab: Ceph OSDs (cluster)" });
  }
  return { aliases, ipsets, rules };
}

/** A planned rule as PVE writes it in a .fw file. */
export function ruleLine(rule: PlannedRule): string {
  return [
    `IN ${rule.action}`,
    rule.source ? `-source ${rule.source}` : "",
    rule.proto ? `-p ${rule.proto}` : "",
    rule.dport ? `-dport ${rule.dport}` : "",
    `# ${rule.comment}`,
  ]
    .filter((s) => s !== "")
    .join(" ");
}

/** cluster.fw as PVE would write it for this plan (options as given). */
export function clusterFwText(plan: FirewallPlan, options: Record<string, string>): string {
  const out: string[] = ["[OPTIONS]", "", ...Object.entries(options).map(([k, v]) => `${k}: ${v}`), ""];
  out.push("[ALIASES]", "", ...plan.aliases.map((a) => `${a.name} ${a.cidr} # ${a.comment}`), "");
  for (const s of [...plan.ipsets].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push(`[IPSET ${s.name}] # ${s.comment}`, "", ...[...s.cidrs].sort(), "");
  }
  out.push("[RULES]", "", ...plan.rules.map(ruleLine), "");
  return out.join("\n");
}

/** The plan as the evaluator reads a parsed cluster.fw. */
export function planAsFwConfig(plan: FirewallPlan, policyIn: string): FwConfig {
  const rules: FwRule[] = plan.rules.map((r) => ({
    line: 0,
    text: ruleLine(r),
    enabled: true,
    type: "in",
    action: r.action,
    source: r.source,
    proto: r.proto,
    dport: r.dport,
  }));
  return {
    options: { policy_in: policyIn },
    aliases: Object.fromEntries(plan.aliases.map((a) => [a.name.toLowerCase(), a.cidr])),
    ipsets: Object.fromEntries(plan.ipsets.map((s) => [s.name, s.cidrs])),
    rules,
    groups: {},
    problems: [],
  };
}
