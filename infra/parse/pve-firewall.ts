/**
 * Proxmox VE firewall configuration files (/etc/pve/firewall/cluster.fw,
 * /etc/pve/nodes/<node>/host.fw) and the one question homelab asks of them:
 * would this rule set still accept a TCP port (SSH, the API) from an admin
 * network once the firewall is on?
 *
 * The format and the evaluation order follow PVE::Firewall: sections
 * [OPTIONS], [ALIASES], [IPSET name], [RULES], [group name]; a rule line is
 * `[|]TYPE ACTION [-i iface] [-source s] [-dest d] [-p proto] [-dport p] …
 * [# comment]` (a leading `|` disables it); the host input chain runs the
 * host's rules, then the cluster's, first match wins; then PVE itself
 * accepts 22, 8006 (and the console, SPICE and migration ports) from the
 * `management` IP set, which always also holds `local_network`; then
 * `policy_in` (default DROP).
 *
 * `pve-firewall compile` cannot answer this before the firewall is on: it
 * compiles nothing while cluster.fw has `enable: 0` (PVE::Firewall::compile
 * returns empty rule sets). So the files are evaluated here, conservatively:
 * an ACCEPT only counts when it surely matches the whole admin network, a
 * DROP or REJECT counts when it may match any of it.
 *
 * Exported functions only, no module constants: providers call these from
 * serialized closures.
 */
import { cidrRange, ipv4ToInt } from "../ipv4";

export interface FwRule {
  /** Line number in its file (0 for rules built from config). */
  line: number;
  /** The rule as written (for messages). */
  text: string;
  enabled: boolean;
  /** in, out, forward or group. */
  type: string;
  /** ACCEPT, DROP, REJECT, or a security group's name for `group` rules. */
  action: string;
  macro?: string;
  iface?: string;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
}

export interface FwConfig {
  options: Record<string, string>;
  /** Lower-case alias name → CIDR or address. */
  aliases: Record<string, string>;
  /** Lower-case IP set name → entries (`!` marks nomatch). */
  ipsets: Record<string, string[]>;
  rules: FwRule[];
  /** Lower-case security group name → its rules. */
  groups: Record<string, FwRule[]>;
  /** Lines PVE would warn about and skip, as `<file> (line N): <problem>`. */
  problems: string[];
}

/** An empty configuration (an absent file). */
export function emptyFwConfig(): FwConfig {
  return { options: {}, aliases: {}, ipsets: {}, rules: [], groups: {}, problems: [] };
}

/** Parse one rule line (without its comment); undefined when PVE could not parse it either. */
export function parseFwRule(raw: string, line: number): FwRule | undefined {
  let rest = raw.replace(/#.*$/, "").trim();
  const enabled = !rest.startsWith("|");
  rest = rest.replace(/^\|/, "");
  const head = /^(\S+)\s+(\S+)\s*/.exec(rest);
  if (!head) return undefined;
  const rule: FwRule = { line, text: raw.trim(), enabled, type: head[1].toLowerCase(), action: head[2] };
  const macro = /^(\S+)\((ACCEPT|DROP|REJECT)\)$/.exec(rule.action);
  if (macro) {
    rule.macro = macro[1];
    rule.action = macro[2];
  }
  rest = rest.slice(head[0].length);
  // The flags PVE's parser takes, in its syntax; sport, log and icmp-type do not matter here (no field).
  const flags: [RegExp, "iface" | "proto" | "dport" | "source" | "dest" | undefined][] = [
    [/^-i (\S+)\s*/, "iface"],
    [/^(?:-p|--?proto) (\S+)\s*/, "proto"],
    [/^--?dport (\S+)\s*/, "dport"],
    [/^--?sport (\S+)\s*/, undefined],
    [/^--?source (\S+)\s*/, "source"],
    [/^--?dest (\S+)\s*/, "dest"],
    [/^--?log \S+\s*/, undefined],
    [/^--?icmp-type \S+\s*/, undefined],
  ];
  while (rest.length > 0) {
    const hit = flags.find(([re]) => re.test(rest));
    if (!hit) return undefined;
    const m = hit[0].exec(rest)!;
    if (hit[1] !== undefined) rule[hit[1]] = m[1];
    rest = rest.slice(m[0].length);
  }
  return rule;
}

/** Parse a .fw file's text; lines PVE would skip are listed in `problems`. */
export function parseFwConfig(text: string, file: string): FwConfig {
  const conf = emptyFwConfig();
  let section: { kind: string; name?: string } | undefined;
  text.split("\n").forEach((rawLine, i) => {
    const line = rawLine.trim();
    const nr = i + 1;
    if (line === "" || line.startsWith("#")) return;
    const header = /^\[(options|aliases|rules|ipset|group)(?:\s+(\S+))?\]\s*(?:#.*)?$/i.exec(line);
    if (header) {
      const kind = header[1].toLowerCase();
      const name = header[2]?.toLowerCase();
      section = { kind, name };
      if (kind === "ipset" && name) conf.ipsets[name] = [];
      if (kind === "group" && name) conf.groups[name] = [];
      return;
    }
    const problem = (what: string) => void conf.problems.push(`${file} (line ${nr}): ${what}`);
    if (!section) return problem("skip line - no section");
    const body = line.replace(/\s*#.*$/, "");
    if (section.kind === "options") {
      const m = /^([a-z_]+):\s*(\S+)$/i.exec(body);
      if (m) conf.options[m[1].toLowerCase()] = m[2];
      else problem(`unable to parse option: ${line}`);
    } else if (section.kind === "aliases") {
      const m = /^(\S+)\s+(\S+)$/.exec(body);
      if (m) conf.aliases[m[1].toLowerCase()] = m[2];
      else problem(`unable to parse alias: ${line}`);
    } else if (section.kind === "ipset" && section.name) {
      conf.ipsets[section.name].push(body);
    } else {
      const rule = parseFwRule(line, nr);
      if (!rule) return problem(`unable to parse rule: ${line}`);
      if (section.kind === "rules") conf.rules.push(rule);
      else if (section.name) conf.groups[section.name].push(rule);
    }
  });
  return conf;
}

/** Address range as integers. */
interface Span {
  first: number;
  last: number;
}

function spanOf(entry: string): Span | undefined {
  if (/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(entry)) return cidrRange(entry);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(entry)) return { first: ipv4ToInt(entry), last: ipv4ToInt(entry) };
  const range = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)$/.exec(entry);
  if (range) return { first: ipv4ToInt(range[1]), last: ipv4ToInt(range[2]) };
  return undefined;
}

/** A source, resolved: the spans it matches and the spans excluded (nomatch); undefined when a name is unknown. */
function resolveSource(source: string, cluster: FwConfig, host: FwConfig): { match: Span[]; except: Span[] } | undefined {
  const match: Span[] = [];
  const except: Span[] = [];
  const aliasSpan = (name: string) => {
    const key = name.replace(/^(dc|guest)\//i, "").toLowerCase();
    const value = host.aliases[key] ?? cluster.aliases[key];
    return value === undefined ? undefined : spanOf(value);
  };
  for (const part of source.split(",")) {
    if (part.startsWith("+")) {
      const entries = cluster.ipsets[part.slice(1).replace(/^(dc|guest)\//i, "").toLowerCase()];
      if (!entries) return undefined;
      for (const e of entries) {
        const nomatch = e.startsWith("!");
        const span = spanOf(e.replace(/^!/, "")) ?? aliasSpan(e.replace(/^!/, ""));
        if (!span) return undefined;
        (nomatch ? except : match).push(span);
      }
    } else {
      const span = spanOf(part) ?? aliasSpan(part);
      if (!span) return undefined;
      match.push(span);
    }
  }
  return { match, except };
}

/** Well-known service names PVE rules may use for the ports homelab checks. */
function portNumber(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  const known: Record<string, number> = { ssh: 22 };
  return known[name.toLowerCase()];
}

/** Whether a dport spec surely / possibly matches `port`. */
function portMatch(spec: string | undefined, port: number): "yes" | "no" | "maybe" {
  if (spec === undefined) return "yes";
  let unsure = false;
  for (const item of spec.split(",")) {
    const [lo, hi] = item.split(":").map(portNumber);
    if (lo === undefined || (item.includes(":") && hi === undefined)) {
      unsure = true;
      continue;
    }
    if (port >= lo && port <= (hi ?? lo)) return "yes";
  }
  return unsure ? "maybe" : "no";
}

/** How one rule meets `tcp/<port>` from `admin`: surely all of it, possibly some of it, or not at all. */
function ruleMatch(rule: FwRule, admin: Span, port: number, cluster: FwConfig, host: FwConfig): "all" | "some" | "none" {
  let unsure = false;
  if (rule.macro !== undefined) {
    if (rule.macro.toUpperCase() !== "SSH") unsure = true;
    else if (port !== 22) return "none";
  } else {
    const proto = rule.proto?.toLowerCase();
    if (proto !== undefined && proto !== "tcp" && proto !== "6") return "none";
    const ports = portMatch(rule.dport, port);
    if (ports === "no") return "none";
    if (ports === "maybe") unsure = true;
  }
  if (rule.iface !== undefined || rule.dest !== undefined) unsure = true;
  if (rule.source !== undefined) {
    const resolved = resolveSource(rule.source, cluster, host);
    if (!resolved) {
      unsure = true;
    } else {
      const overlaps = (s: Span) => s.first <= admin.last && admin.first <= s.last;
      const covers = (s: Span) => s.first <= admin.first && admin.last <= s.last;
      if (!resolved.match.some(overlaps)) return "none";
      if (!resolved.match.some(covers) || resolved.except.some(overlaps)) unsure = true;
    }
  }
  return unsure ? "some" : "all";
}

/** The verdict for one admin network and port. */
export interface PortVerdict {
  accepted: boolean;
  /** What decided it, in words (the rule's file and line, the management IP set, the policy). */
  reason: string;
}

/**
 * Would the node's input chain accept new TCP connections to `port` from
 * every address of `adminCidr`? `localNetwork` is what `pve-firewall
 * localnet` reports (PVE adds it to the management IP set).
 */
export function acceptsFrom(
  cluster: FwConfig,
  host: FwConfig,
  adminCidr: string,
  port: number,
  localNetwork: string | undefined,
): PortVerdict {
  if (host.options.enable === "0") return { accepted: true, reason: "the node's host firewall is disabled (host.fw enable: 0)" };
  const admin = cidrRange(adminCidr);
  const chain: { rule: FwRule; file: string }[] = [];
  const push = (rules: FwRule[], file: string) => {
    for (const rule of rules) {
      if (!rule.enabled) continue;
      if (rule.type === "group") {
        const group = cluster.groups[rule.action.toLowerCase()];
        if (!group) continue; // PVE skips a rule naming a group that does not exist
        push(
          group.filter((r) => r.type === "in").map((r) => ({ ...r, iface: r.iface ?? rule.iface })),
          `${file} (group ${rule.action})`,
        );
      } else if (rule.type === "in") {
        chain.push({ rule, file });
      }
    }
  };
  push(host.rules, "host.fw");
  push(cluster.rules, "cluster.fw");
  for (const { rule, file } of chain) {
    const m = ruleMatch(rule, admin, port, cluster, host);
    if (m === "none") continue;
    const where = rule.line > 0 ? `${file} line ${rule.line}` : file;
    if (rule.action === "ACCEPT") {
      if (m === "all") return { accepted: true, reason: `accepted by ${where}: ${rule.text}` };
      continue;
    }
    if (rule.action === "DROP" || rule.action === "REJECT") {
      return { accepted: false, reason: `${m === "all" ? "dropped" : "may be dropped"} by ${where}: ${rule.text}` };
    }
  }
  const managementPorts = [22, 8006, 3128, ...Array.from({ length: 100 }, (_, i) => 5900 + i)];
  if (managementPorts.includes(port) || (port >= 60000 && port <= 60050)) {
    const local = cluster.aliases.local_network ?? localNetwork;
    const inManagement = (cluster.ipsets.management ?? [])
      .filter((e) => !e.startsWith("!"))
      .concat(local ? [local] : [])
      .map((e) => spanOf(e) ?? (cluster.aliases[e.toLowerCase()] ? spanOf(cluster.aliases[e.toLowerCase()]) : undefined))
      .some((s) => s !== undefined && s.first <= admin.first && admin.last <= s.last);
    const excluded = (cluster.ipsets.management ?? [])
      .filter((e) => e.startsWith("!"))
      .map((e) => spanOf(e.slice(1)))
      .some((s) => s !== undefined && s.first <= admin.last && admin.first <= s.last);
    if (inManagement && !excluded) return { accepted: true, reason: "accepted by the management IP set (or local_network)" };
  }
  const policy = (cluster.options.policy_in ?? "DROP").toUpperCase();
  return policy === "ACCEPT"
    ? { accepted: true, reason: "accepted by policy_in ACCEPT" }
    : { accepted: false, reason: `no rule accepts it; policy_in is ${policy}` };
}

/** `pve-firewall localnet`'s local network ("using detected local_network: 192.168.3.0/24"). */
export function parseLocalnet(text: string): string | undefined {
  return /using (?:detected|user defined) local_network: (\S+)/.exec(text)?.[1];
}

/** `pve-firewall status`: "Status: enabled/running (pending changes)". */
export function parseFirewallStatus(text: string): { enabled: boolean; running: boolean; pending: boolean } | undefined {
  const m = /^Status: (enabled|disabled)\/(\w+)( \(pending changes\))?$/m.exec(text);
  return m ? { enabled: m[1] === "enabled", running: m[2] === "running", pending: m[3] !== undefined } : undefined;
}
