"use strict";
// Fake `ha-manager` (pve-ha-manager src/PVE/CLI/ha_manager.pm), see /work/shared/reference/pve-cli.md §5.
// State and the pvesh endpoints live in pvesh-ha.cjs. Every change needs quorum
// ("cluster not ready - no quorum?"). Successful changes print nothing and exit 0; errors exit 255.
//   add <sid> [--state S] [--group G] [--max_restart N] [--max_relocate N] [--failback 0|1 (PVE 9)] [--comment C]
//   set <sid> [same] [--delete k1,k2]          remove <sid>
//   groupadd|groupset <G> --nodes "n1:2,n2" [--restricted 0|1] [--nofailback 0|1] [--comment C]   groupremove <G>
//   groupconfig
//   rules add|set node-affinity <id> --resources sids --nodes list [--strict 0|1] (PVE 9)
//   rules remove <id>        rules config|list [--output-format json]
//   status
//   migrate <sid> <node>   crm-command migrate <sid> <node>   (queued for the CRM, see pvesh-ha.cjs)
const lib = require("./lib.cjs");
const ha = require("./pvesh-ha.cjs");

const STATES = ["started", "stopped", "enabled", "disabled", "ignored"];
const USAGES = [
  "ha-manager add <sid> [OPTIONS]",
  "ha-manager crm-command <COMMAND> [ARGS] [OPTIONS]",
  "ha-manager migrate <sid> <node>",
  "ha-manager remove <sid> [OPTIONS]",
  "ha-manager set <sid> [OPTIONS]",
  "ha-manager groupadd <group> --nodes <string> [OPTIONS]",
  "ha-manager groupconfig",
  "ha-manager groupremove <group>",
  "ha-manager groupset <group> [OPTIONS]",
  "ha-manager rules <COMMAND> [ARGS] [OPTIONS]",
  "ha-manager status [OPTIONS]",
];

/** "100" or "vm:100" -> "vm:100" (a bare VMID is resolved against the cluster's guests). */
function resolveSid(state, nodeName, raw) {
  if (/^\d+$/.test(raw)) {
    if (!lib.findGuest(state, nodeName, raw)) lib.die(`unable to detect SID from VMID - VM/CT ${raw} does not exist\n`);
    return `vm:${raw}`;
  }
  if (!/^(vm|ct):\d+$/.test(raw)) lib.paramError({ sid: `value does not match the regex pattern` }, "ha-manager add <sid> [OPTIONS]");
  return raw;
}

function guestExists(state, nodeName, sid) {
  const [type, vmid] = sid.split(":");
  const g = lib.findGuest(state, nodeName, vmid);
  return !!g && type === "vm";
}

const RES_OPTS = { state: "string", group: "string", max_restart: "integer", max_relocate: "integer", failback: "boolean", comment: "string" };

function checkResourceOpts(state, nodeName, opts, usage) {
  if (opts.state !== undefined && !STATES.includes(opts.state))
    lib.paramError({ state: `value '${opts.state}' does not have a value in the enumeration '${STATES.join(", ")}'` }, usage);
  const v9 = ha.pveMajor(state, nodeName) >= 9;
  if (opts.failback !== undefined && !v9) lib.paramError({ failback: "property is not defined in schema and the schema does not allow additional properties" }, usage);
  if (opts.group !== undefined && opts.group !== "") {
    if (ha.groupsMigrated(state, nodeName)) lib.die("invalid parameter 'group': ha groups have been migrated to rules\n");
    if (!ha.haOf(state, nodeName).groups[opts.group]) lib.die(`group '${opts.group}' does not exist\n`);
  }
}

function applyResource(r, opts) {
  for (const k of ["state", "group", "max_restart", "max_relocate", "comment"]) if (opts[k] !== undefined) r[k] = opts[k];
  if (opts.failback !== undefined) r.failback = opts.failback ? 1 : 0;
  if (r.group === "") delete r.group;
}

function parseNodes(state, nodeName, spec, what) {
  const known = new Set(lib.visibleNodes(state, nodeName).map((n) => n.name));
  const bad = [];
  for (const part of String(spec).split(/[,;\s]+/).filter(Boolean)) {
    const m = /^([a-zA-Z0-9.-]+)(?::(\d+))?$/.exec(part);
    if (!m) lib.paramError({ nodes: `invalid format - value does not look like a valid node name` }, `ha-manager ${what}`);
    if (!known.has(m[1])) bad.push(m[1]);
  }
  return bad;
}

function haRules(argv, sim, state, nodeName) {
  const sub = argv[0];
  const subs = ["add", "config", "list", "remove", "set"];
  if (!subs.includes(sub)) lib.unknownCommand("ha-manager rules", sub, subs.map((s) => `ha-manager rules ${s}`));
  if (ha.pveMajor(state, nodeName) < 9) lib.die(`ERROR: unknown command 'ha-manager rules'\nUSAGE: ha-manager <COMMAND> [ARGS] [OPTIONS]\n`);
  if (sub === "config" || sub === "list") {
    const { opts } = lib.parseCli(argv.slice(1), { usage: `ha-manager rules ${sub} [OPTIONS]`, options: { "output-format": "string", noborder: "boolean", noheader: "boolean", type: "string", resource: "string" }, aliases: { output: "output-format" } });
    lib.printApiResult(ha.ruleRows(state, nodeName), opts["output-format"] || "text");
    return 0;
  }
  if (sub === "remove") {
    const { args } = lib.parseCli(argv.slice(1), { usage: "ha-manager rules remove <rule>", args: ["rule"] });
    ha.requireQuorum(state, nodeName);
    let missing = false;
    ha.mutateHa(sim, nodeName, (h) => {
      if (!h.rules[args.rule]) missing = true;
      else delete h.rules[args.rule];
    });
    if (missing) lib.die(`HA rule '${args.rule}' does not exist\n`);
    return 0;
  }
  const usage = `ha-manager rules ${sub} <type> <rule> [OPTIONS]`;
  const { args, opts } = lib.parseCli(argv.slice(1), { usage, args: ["type", "rule"], options: { resources: "string", nodes: "string", strict: "boolean", comment: "string", disable: "boolean", affinity: "string", delete: "string" } });
  if (args.type !== "node-affinity") lib.die(`pve-sim: rule type '${args.type}' is not simulated\n`, 70);
  ha.requireQuorum(state, nodeName);
  if (sub === "add" && !ha.groupsMigrated(state, nodeName)) lib.die("cannot create ha rule: ha groups have not been migrated yet\n");
  if (sub === "add" && (!opts.resources || !opts.nodes)) lib.paramError({ ...(opts.resources ? {} : { resources: "property is missing and it is not optional" }), ...(opts.nodes ? {} : { nodes: "property is missing and it is not optional" }) }, usage);
  const verb = sub === "add" ? "create" : "update";
  if (opts.resources !== undefined) {
    const unmanaged = opts.resources.split(",").filter(Boolean).filter((sid) => !ha.haOf(state, nodeName).resources[sid]);
    if (unmanaged.length) lib.die(`${verb} ha rule failed: cannot use unmanaged resource(s) ${unmanaged.join(", ")}.\n`);
  }
  if (opts.nodes !== undefined) {
    const bad = parseNodes(state, nodeName, opts.nodes, `rules ${sub}`);
    if (bad.length) lib.die(`${verb} ha rule failed: cannot use non-existent node(s) ${bad.join(", ")}.\n`);
  }
  let problem = null;
  ha.mutateHa(sim, nodeName, (h) => {
    const existing = h.rules[args.rule];
    if (sub === "add" && existing) return (problem = `create ha rule failed: HA rule '${args.rule}' already defined\n`);
    if (sub === "set" && !existing) return (problem = `update ha rule failed: HA rule '${args.rule}' does not exist\n`);
    const r = existing || { rule: args.rule, type: "node-affinity" };
    if (opts.resources !== undefined) r.resources = opts.resources;
    if (opts.nodes !== undefined) r.nodes = opts.nodes;
    if (opts.strict !== undefined) r.strict = opts.strict ? 1 : 0;
    if (opts.comment !== undefined) r.comment = opts.comment;
    for (const k of String(opts.delete || "").split(",").filter(Boolean)) delete r[k];
    h.rules[args.rule] = r;
  });
  if (problem) lib.die(problem);
  return 0;
}

/**
 * `ha-manager migrate <sid> <node>` (alias of `crm-command migrate`): PVE::API2::HA::Resources
 * migrate only queues a CRM command and prints nothing; the CRM moves the service later.
 */
function haMigrate(argv, sim, state, nodeName, usage) {
  const { args } = lib.parseCli(argv, { usage, args: ["sid", "node"] });
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(args.node)) lib.paramError({ node: "invalid format - value does not look like a valid node name" }, usage);
  let sid = args.sid;
  if (/^\d+$/.test(sid)) {
    if (!lib.findGuest(state, nodeName, sid)) lib.die(`unable to detect SID from VMID - VM/CT ${sid} does not exist\n`);
    sid = `vm:${sid}`;
  } else if (!/^(\S+):(\S+)$/.test(sid)) lib.die(`unable to parse service id '${sid}'\n`);
  ha.crmTick(sim);
  sim.mutate((st) => ha.requestMigration(st, nodeName, sid, args.node));
  return 0;
}

lib.main(() => {
  const sim = lib.context();
  const nodeName = sim.nodeName;
  const { state } = sim.self();
  const argv = process.argv.slice(2);
  const cmd = argv[0];
  const rest = argv.slice(1);
  switch (cmd) {
    case "add": {
      const usage = "ha-manager add <sid> [OPTIONS]";
      const { args, opts } = lib.parseCli(rest, { usage, args: ["sid"], options: RES_OPTS });
      const sid = resolveSid(state, nodeName, args.sid);
      ha.requireQuorum(state, nodeName);
      checkResourceOpts(state, nodeName, opts, usage);
      if (!guestExists(state, nodeName, sid)) lib.die(`resource '${sid}' does not exist in cluster\n`);
      let dup = false;
      ha.mutateHa(sim, nodeName, (h) => {
        if (h.resources[sid]) return (dup = true);
        const r = { sid, type: sid.split(":")[0], state: "started", max_restart: 1, max_relocate: 1 };
        applyResource(r, opts);
        h.resources[sid] = r;
        h.crmStarted = true;
      });
      if (dup) lib.die(`create resource failed: resource ID '${sid}' already defined\n`);
      return 0;
    }
    case "set": {
      const usage = "ha-manager set <sid> [OPTIONS]";
      const { args, opts } = lib.parseCli(rest, { usage, args: ["sid"], options: { ...RES_OPTS, delete: "string", digest: "string" } });
      const sid = resolveSid(state, nodeName, args.sid);
      ha.requireQuorum(state, nodeName);
      checkResourceOpts(state, nodeName, opts, usage);
      let missing = false;
      ha.mutateHa(sim, nodeName, (h) => {
        const r = h.resources[sid];
        if (!r) return (missing = true);
        applyResource(r, opts);
        for (const k of String(opts.delete || "").split(",").filter(Boolean)) delete r[k];
      });
      if (missing) lib.die(`update resource failed: no such resource '${sid}'\n`);
      return 0;
    }
    case "remove": {
      const { args } = lib.parseCli(rest, { usage: "ha-manager remove <sid> [OPTIONS]", args: ["sid"], options: { purge: "boolean" } });
      const sid = resolveSid(state, nodeName, args.sid);
      ha.requireQuorum(state, nodeName);
      let missing = false;
      ha.mutateHa(sim, nodeName, (h) => {
        if (!h.resources[sid]) return (missing = true);
        delete h.resources[sid];
        for (const rule of Object.values(h.rules)) {
          const left = String(rule.resources || "").split(",").filter((s) => s && s !== sid);
          if (left.length) rule.resources = left.join(",");
          else delete h.rules[rule.rule];
        }
      });
      if (missing) lib.die(`delete resource failed: no such resource '${sid}'\n`);
      return 0;
    }
    case "groupadd":
    case "groupset": {
      const usage = `ha-manager ${cmd} <group> [OPTIONS]`;
      const { args, opts } = lib.parseCli(rest, { usage, args: ["group"], options: { nodes: "string", restricted: "boolean", nofailback: "boolean", comment: "string", delete: "string", digest: "string" } });
      const verb = cmd === "groupadd" ? "create" : "update";
      if (ha.groupsMigrated(state, nodeName)) lib.die(`cannot ${verb} group: ha groups have been migrated to rules\n`);
      if (cmd === "groupadd" && !opts.nodes) lib.paramError({ nodes: "property is missing and it is not optional" }, usage);
      ha.requireQuorum(state, nodeName);
      if (opts.nodes !== undefined) {
        const bad = parseNodes(state, nodeName, opts.nodes, cmd);
        if (bad.length) lib.die(`${verb} ha group failed: cannot use non-existent node(s) ${bad.join(", ")}.\n`);
      }
      let problem = null;
      ha.mutateHa(sim, nodeName, (h) => {
        const g = h.groups[args.group];
        if (cmd === "groupadd" && g) return (problem = `create ha group failed: ha group ID '${args.group}' already defined\n`);
        if (cmd === "groupset" && !g) return (problem = `update ha group failed: no such ha group '${args.group}'\n`);
        const n = g || { group: args.group };
        if (opts.nodes !== undefined) n.nodes = opts.nodes;
        if (opts.restricted !== undefined) n.restricted = opts.restricted ? 1 : 0;
        if (opts.nofailback !== undefined) n.nofailback = opts.nofailback ? 1 : 0;
        if (opts.comment !== undefined) n.comment = opts.comment;
        for (const k of String(opts.delete || "").split(",").filter(Boolean)) delete n[k];
        h.groups[args.group] = n;
      });
      if (problem) lib.die(problem);
      return 0;
    }
    case "groupremove": {
      const { args } = lib.parseCli(rest, { usage: "ha-manager groupremove <group>", args: ["group"] });
      if (ha.groupsMigrated(state, nodeName)) lib.die("cannot delete group: ha groups have been migrated to rules\n");
      ha.requireQuorum(state, nodeName);
      let problem = null;
      ha.mutateHa(sim, nodeName, (h) => {
        if (!h.groups[args.group]) return (problem = `delete ha group failed: no such ha group '${args.group}'\n`);
        const user = Object.values(h.resources).find((r) => r.group === args.group);
        if (user) return (problem = `delete ha group failed: ha group '${args.group}' is used by resource '${user.sid}'\n`);
        delete h.groups[args.group];
      });
      if (problem) lib.die(problem);
      return 0;
    }
    case "groupconfig": {
      const groups = ha.groupRows(state, nodeName, "index groups");
      for (const g of groups) {
        lib.line(`group: ${g.group}`);
        for (const k of ["comment", "nodes", "nofailback", "restricted"]) if (g[k] !== undefined) lib.line(`\t${k} ${g[k]}`);
        lib.line("");
      }
      return 0;
    }
    case "rules":
      return haRules(rest, sim, state, nodeName);
    case "migrate":
      return haMigrate(rest, sim, state, nodeName, "ha-manager migrate <sid> <node>");
    case "crm-command": {
      const sub = rest[0];
      const subs = ["arm-ha", "disarm-ha", "migrate", "node-maintenance", "relocate", "stop"];
      if (!subs.includes(sub)) return lib.unknownCommand("ha-manager crm-command", sub, subs.map((x) => `ha-manager crm-command ${x}`));
      if (sub !== "migrate") lib.die(`pve-sim: 'ha-manager crm-command ${sub}' is not simulated\n`, 70);
      return haMigrate(rest.slice(1), sim, state, nodeName, "ha-manager crm-command migrate <sid> <node>");
    }
    case "status": {
      for (const r of ha.statusRows(ha.crmTick(sim) || state, nodeName)) {
        if (r.type === "quorum") lib.line(`quorum ${r.status}`);
        else if (r.type === "service") lib.line(`service ${r.status}`);
        else lib.line(`${r.type} ${r.status}`);
      }
      return 0;
    }
    default:
      return lib.unknownCommand("ha-manager", cmd, USAGES);
  }
});
