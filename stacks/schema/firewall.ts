/**
 * The cluster firewall: the schema of `firewall`, and its checks (it needs
 * the cluster and the API; rules name only what exists; no rule set that
 * would shut SSH or the API off from an admin network).
 */
import { firewallPlan, networkAlias, planAsFwConfig, ruleLine, type PlannedRule } from "../../infra/firewall-plan";
import { acceptsFrom, emptyFwConfig } from "../../infra/parse/pve-firewall";
import { bool, cidr, integer, list, mapping, oneOf, safeText, text } from "./fields";
import { show } from "./messages";
import { isCidr, isIPv4, isRecord, isString } from "./predicates";
import type { PathIssue } from "./views";

const LOG_LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog"] as const;
/** Ports homelab keeps open from the admin networks. */
export const MANAGEMENT_PORTS = [22, 8006] as const;

const isPortSpec = (v: string) =>
  v.split(",").every((item) => {
    const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(item);
    return m !== null && Number(m[1]) <= 65535 && (m[2] === undefined || (Number(m[2]) <= 65535 && Number(m[1]) <= Number(m[2])));
  });
/** A CIDR, an address, `+ipset` or an alias name (PVE accepts no names inside lists). */
const isRuleSource = (v: string) =>
  /^\+[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(v) || /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(v) || isIPv4(v) || isCidr(v);

export const FirewallRuleSchema = mapping(
  {
    action: oneOf(["ACCEPT", "DROP", "REJECT"] as const, "a rule action"),
    proto: oneOf(["tcp", "udp", "icmp"] as const, "a protocol").optional(),
    /** Port, list or range in PVE's syntax: 443, 80,443, 9000:9100. Needs proto tcp or udp. */
    dport: text("a port, list or range (443, 80,443, 9000:9100)", isPortSpec).optional(),
    /** A CIDR, an address, `+management`, `+members` or a network's alias `net-<network>`. Defaults to any. */
    source: text("a rule source (a CIDR, an address, +ipset or an alias)", isRuleSource).optional(),
    comment: safeText().default("operator rule"),
  },
  "a rule (a mapping with action)",
);

export const FirewallSchema = mapping(
  {
    /** Switch the firewall on (after the rules are in place and verified on every node). Defaults to true. */
    enabled: bool().default(true),
    /** Networks SSH and the API are opened to (the `management` IP set). */
    adminNetworks: list(cidr(), "a list of CIDRs").min(1, {
      error: "empty; the firewall needs at least one admin network (SSH and the API are only open to them)",
    }),
    /** Cluster input policy. Defaults to DROP. */
    inputPolicy: oneOf(["DROP", "REJECT", "ACCEPT"] as const, "a policy").default("DROP"),
    /** Cluster output policy. Defaults to ACCEPT. */
    outputPolicy: oneOf(["ACCEPT", "DROP", "REJECT"] as const, "a policy").default("ACCEPT"),
    /** The operator's own cluster rules, placed before homelab's, in this order. Defaults to none. */
    rules: list(FirewallRuleSchema, "a list of rules").default([]),
    /** Options of every node's host firewall. */
    nodeOptions: mapping(
      {
        /** Drop smurf packets. Defaults to true. */
        nosmurfs: bool().default(true),
        /** Log level of the input chain. Defaults to nolog. */
        logLevelIn: oneOf(LOG_LEVELS, "a log level").default("nolog"),
        /** Log level of illegal TCP flag combinations. Defaults to nolog. */
        tcpFlagsLogLevel: oneOf(LOG_LEVELS, "a log level").default("nolog"),
        /** Maximum tracked connections. Defaults to the node's. */
        nfConntrackMax: integer("a connection count", 32768, 999999999).optional(),
      },
      "a mapping of node firewall options",
    ).prefault({}),
  },
  "a mapping with adminNetworks",
);

/** The IP sets and aliases homelab writes, which rules may name. */
function knownNames(networks: string[]): Set<string> {
  return new Set(["+management", "+members", ...networks.map(networkAlias)]);
}

/**
 * Needs the cluster and the API (the rules are written through it); rules name
 * only IP sets and aliases homelab writes; dport only with tcp/udp (PVE refuses
 * it otherwise); and no rule set that would stop SSH or the API from any admin
 * network — the same evaluation the verify step runs on every node.
 */
export function checkFirewall(value: Record<string, unknown>): PathIssue[] {
  const fw = value.firewall;
  if (!isRecord(fw)) return [];
  const issues: PathIssue[] = [];
  if (!isRecord(value.cluster)) issues.push({ path: ["firewall"], message: "needs cluster: the firewall is cluster-wide (cluster first, firewall after)" });
  if (!isRecord(value.apiAccess)) issues.push({ path: ["firewall"], message: "needs apiAccess: the firewall rules are written through the Proxmox API" });
  const networks = Array.isArray(value.networks) ? value.networks.filter(isRecord) : [];
  const networkNames = networks.map((n) => n.name).filter(isString);
  const names = knownNames(networkNames);
  const rules = Array.isArray(fw.rules) ? fw.rules : [];
  let rulesValid = true;
  rules.forEach((r, i) => {
    if (!isRecord(r)) return void (rulesValid = false);
    const source = r.source;
    if (isString(source) && !isIPv4(source) && !isCidr(source) && !names.has(source)) {
      rulesValid = false;
      issues.push({ path: ["firewall", "rules", i, "source"], message: `${show(source)} names no IP set or alias homelab writes (${[...names].join(", ")})` });
    }
    if (r.dport !== undefined && r.proto !== "tcp" && r.proto !== "udp") {
      rulesValid = false;
      issues.push({ path: ["firewall", "rules", i, "dport"], message: "needs proto tcp or udp (Proxmox refuses a port without one)" });
    }
  });
  const admin = Array.isArray(fw.adminNetworks) ? fw.adminNetworks.filter(isCidr) : [];
  if (!rulesValid || admin.length === 0 || admin.length !== (fw.adminNetworks as unknown[]).length) return issues;
  const extraRules = rules.filter(isRecord).map((r) => ({ ...r, comment: isString(r.comment) ? r.comment : "operator rule" }) as PlannedRule);
  const plan = firewallPlan({
    adminNetworks: admin,
    networks: networks.filter((n) => isString(n.name) && isCidr(n.cidr)).map((n) => ({ name: n.name as string, cidr: n.cidr as string })),
    memberAddresses: [],
    linkNetworks: [],
    extraRules,
  });
  const policy = isString(fw.inputPolicy) ? fw.inputPolicy : "DROP";
  const config = planAsFwConfig(plan, policy);
  for (const [k, network] of admin.entries()) {
    for (const port of MANAGEMENT_PORTS) {
      const verdict = acceptsFrom(config, emptyFwConfig(), network, port, undefined);
      if (verdict.accepted) continue;
      // The operator's rule that decided it, if one did (homelab's own come after them).
      const line = extraRules.findIndex((r) => verdict.reason.endsWith(ruleLine(r)));
      issues.push({
        path: line >= 0 ? ["firewall", "rules", line] : ["firewall", "adminNetworks", k],
        message: `would block tcp/${port} (${port === 22 ? "SSH" : "the API"}) from admin network ${network}: ${verdict.reason}; the operator would be locked out`,
      });
    }
  }
  return issues;
}
