"use strict";
// Fake `pve-firewall` (proxmox/pve-firewall src/PVE/Service/pve_firewall.pm): the read-only
// commands `status`, `compile` and `localnet`. It reads the node's own /etc/pve/firewall/cluster.fw
// and /etc/pve/local/host.fw (tests write them the way the API does; pmxcfs shares them).
//
//   status    "Status: <enabled|disabled>/<running|stopped>" (cluster.fw `enable`); the daemon runs
//             unless state.firewall.stopped lists the node.
//   compile   warns on stderr, as PVE's parser does, about every line it skips
//             ("<file> (line N): unable to parse rule: …"); prints the three cmdlist headers, then
//             "no changes", then "firewall disabled" when cluster.fw has no `enable: 1`
//             (PVE::Firewall::compile returns empty rule sets then: nothing is compiled).
//   localnet  the node's /24, or cluster.fw's local_network alias.
const fs = require("node:fs");
const lib = require("./lib.cjs");

const CLUSTER_FW = "/etc/pve/firewall/cluster.fw";
const HOST_FW = "/etc/pve/local/host.fw";

function readOptional(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Parse like PVE::Firewall::generic_fw_config_parser; returns options, aliases and warnings. */
function parse(file) {
  const text = readOptional(file);
  const res = { options: {}, aliases: {}, warnings: [] };
  let section;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    const prefix = `${file} (line ${i + 1})`;
    if (line === "" || line.startsWith("#")) return;
    const header = /^\[(options|aliases|rules|ipset|group)(?:\s+(\S+))?\]\s*(?:#.*)?$/i.exec(line);
    if (header) {
      section = header[1].toLowerCase();
      return;
    }
    if (!section) return res.warnings.push(`${prefix}: skip line - no section`);
    const body = line.replace(/\s*#.*$/, "");
    if (section === "options") {
      const m = /^([a-z_]+):\s*(\S+)$/i.exec(body);
      if (m) res.options[m[1].toLowerCase()] = m[2];
      else res.warnings.push(`${prefix}: unable to parse option: ${body}`);
    } else if (section === "aliases") {
      const m = /^(\S+)\s+(\S+)$/.exec(body);
      if (m) res.aliases[m[1].toLowerCase()] = m[2];
      else res.warnings.push(`${prefix}: unable to parse alias: ${body}`);
    } else if (section === "rules" || section === "group") {
      const rule = body.replace(/^\|/, "");
      const head = /^(in|out|forward|group)\s+(\S+)\s*(.*)$/i.exec(rule);
      if (!head) return res.warnings.push(`${prefix}: unable to parse rule: ${body}`);
      const flags = head[3].replace(/(^|\s)(-i|-p|--?proto|--?dport|--?sport|--?source|--?dest|--?log|--?icmp-type) \S+/g, "").trim();
      if (flags !== "") res.warnings.push(`${prefix}: unable to parse rule parameters: ${flags}`);
    }
  });
  return res;
}

lib.main(() => {
  const sim = lib.context();
  const { state, node } = sim.self();
  const cmd = process.argv[2];
  const usages = ["pve-firewall compile", "pve-firewall help [<extra-args>] [OPTIONS]", "pve-firewall localnet", "pve-firewall restart", "pve-firewall simulate [OPTIONS]", "pve-firewall start [OPTIONS]", "pve-firewall status", "pve-firewall stop"];
  if (!["status", "compile", "localnet"].includes(cmd)) lib.unknownCommand("pve-firewall", cmd, usages);
  const cluster = parse(CLUSTER_FW);
  const enabled = cluster.options.enable === "1";
  if (cmd === "status") {
    const stopped = ((state.firewall && state.firewall.stopped) || []).includes(node.name);
    lib.line(`Status: ${enabled ? "enabled" : "disabled"}/${stopped ? "stopped" : "running"}`);
    return 0;
  }
  if (cmd === "localnet") {
    const detected = `${node.ip.split(".").slice(0, 3).join(".")}.0/24`;
    lib.line(`local hostname: ${node.name}`);
    lib.line(`local IP address: ${node.ip}`);
    lib.line(`network auto detect: ${detected}`);
    if (cluster.aliases.local_network) lib.line(`using user defined local_network: ${cluster.aliases.local_network}`);
    else lib.line(`using detected local_network: ${detected}`);
    return 0;
  }
  const host = parse(HOST_FW);
  for (const w of [...cluster.warnings, ...host.warnings]) lib.err(w + "\n");
  lib.line("ipset cmdlist:");
  lib.line("");
  lib.line("iptables cmdlist:");
  lib.line("");
  lib.line("ip6tables cmdlist:");
  lib.line("no changes");
  if (!enabled) lib.line("firewall disabled");
  return 0;
});
