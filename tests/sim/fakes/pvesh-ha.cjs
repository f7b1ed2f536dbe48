"use strict";
// pvesh endpoints of the HA fake (loaded by pvesh.cjs) plus the HA state helpers that
// ha-manager.cjs shares. Follows /work/shared/reference/pve-cli.md §5.
//
// STATE: state.ha[<scope>] where scope is the cluster name, or "node:<name>" on a standalone node:
//   { resources: { "vm:100": { sid, type, state, max_restart, max_relocate, group?, failback?, comment? } },
//     groups:    { G: { group, nodes: "n1:2,n2", restricted?, nofailback?, comment? } },
//     rules:     { id: { rule, type: "node-affinity", resources: "vm:100,vm:101", nodes: "n1:2,n2", strict? } } }
// Groups are "migrated" (PVE 9, pve-ha-manager 5.x) when the node runs PVE >= 9 and no group is
// left; then every group endpoint fails with "ha groups have been migrated to rules".
//   GET /cluster/ha/resources        -> [{ digest, sid, type, state, max_restart, max_relocate, group? … }]
//   GET /cluster/ha/groups           -> [{ digest, group, nodes, type: "group", restricted?, nofailback? }]
//   GET /cluster/ha/rules            -> [{ digest, rule, type, resources, nodes, strict?, order }]  (PVE 9)
//   GET /cluster/ha/status/current   -> quorum row (+ master/lrm/service rows once HA is used)
//
// Migrations through HA (`ha-manager migrate`, `qm migrate` of an HA-managed VM) are queued in
//   state.ha[<scope>].migrations[<sid>] = { sid, source, target, requestedAt, dueAt, upid }
// The service shows as "migrate" on its source node until dueAt = request + state.sim.haMigrationDelayMs
// (default 0: done before the command returns), and while state.sim.haMigrationHold is true (a test
// holds the CRM back, then releases it, whatever the machine's speed). Then the CRM/LRM run the qmigrate task that was
// started on the source node (see pvesh-tasks.cjs). The CRM runs "in the background": whoever
// looks at HA status or at the task list after dueAt sees its finished work (crmTick).
//
// Recovery of a dead node's services (pve-ha-manager src/PVE/HA/Manager.pm, fence then recover):
// while the cluster keeps quorum, a started service whose node is offline shows "fence" until
// state.sim.haFenceDelayMs (default 0) after the node went down (nodes[n].offlineSince), then the
// CRM starts it on an online node its placement allows (group or node-affinity rule: highest
// priority first, then the node with the fewest services, then by name); the guest moves there
// running. The dead node's lrm row reads "old timestamp - dead?". haMigrationHold holds this too.
const crypto = require("node:crypto");
const lib = require("./lib.cjs");
const tasks = require("./pvesh-tasks.cjs");

function scopeOf(state, nodeName) {
  const c = lib.clusterOf(state, nodeName);
  return c ? c.name : `node:${nodeName}`;
}

function emptyHa() {
  return { resources: {}, groups: {}, rules: {} };
}

/** Read-only view of the HA config seen from nodeName. */
function haOf(state, nodeName) {
  const all = state.ha || {};
  return all[scopeOf(state, nodeName)] || emptyHa();
}

/** Locked read-modify-write of nodeName's HA config. */
function mutateHa(sim, nodeName, fn) {
  return sim.mutate((state) => {
    state.ha ??= {};
    const scope = scopeOf(state, nodeName);
    state.ha[scope] ??= emptyHa();
    return fn(state.ha[scope], state);
  });
}

function pveMajor(state, nodeName) {
  return lib.parseVersion(state.nodes[nodeName].pveVersion).major;
}

/** PVE 9 with no groups left: groups are migrated to rules. */
function groupsMigrated(state, nodeName) {
  return pveMajor(state, nodeName) >= 9 && Object.keys(haOf(state, nodeName).groups).length === 0;
}

function quorate(state, nodeName) {
  const c = lib.clusterOf(state, nodeName);
  return !c || lib.quorumInfo(state, c).quorate;
}

function requireQuorum(state, nodeName) {
  if (!quorate(state, nodeName)) lib.die("cluster not ready - no quorum?\n");
}

function digest(v) {
  return crypto.createHash("sha1").update(JSON.stringify(v)).digest("hex");
}

function withDigest(list) {
  const d = digest(list);
  return list.map((e) => ({ ...e, digest: d }));
}

function resourceRows(state, nodeName) {
  return withDigest(Object.values(haOf(state, nodeName).resources).map((r) => ({ ...r })));
}

function groupRows(state, nodeName, what = "index groups") {
  if (groupsMigrated(state, nodeName)) lib.die(`cannot ${what}: ha groups have been migrated to rules\n`);
  return withDigest(Object.values(haOf(state, nodeName).groups).map((g) => ({ ...g, type: "group" })));
}

function ruleRows(state, nodeName) {
  return withDigest(Object.values(haOf(state, nodeName).rules).map((r, i) => ({ ...r, order: i + 1 })));
}

function statusRows(state, nodeName) {
  const ha = haOf(state, nodeName);
  const rows = [{ id: "quorum", node: nodeName, quorate: quorate(state, nodeName) ? 1 : 0, status: quorate(state, nodeName) ? "OK" : `No quorum on node '${nodeName}'!`, type: "quorum" }];
  const sids = Object.keys(ha.resources);
  if (sids.length === 0 && !ha.crmStarted) return rows;
  const now = Math.floor(Date.now() / 1000);
  const nodes = lib.visibleNodes(state, nodeName);
  const master = nodes.find((n) => n.online) || nodes[0];
  rows.push({ id: "master", node: master.name, status: `${master.name} (active, ${new Date(now * 1000).toString()})`, timestamp: now, type: "master" });
  for (const n of nodes) {
    const active = sids.some((sid) => {
      const g = lib.findGuest(state, nodeName, sid.split(":")[1]);
      return g && g.node === n.name;
    });
    const lrm = n.online ? (active ? "active" : "idle") : "old timestamp - dead?";
    const seen = n.online ? now : Math.floor((n.offlineSince || Date.now()) / 1000);
    rows.push({ id: `lrm:${n.name}`, node: n.name, status: `${n.name} (${lrm}, ${new Date(seen * 1000).toString()})`, timestamp: seen, type: "lrm" });
  }
  const v9 = pveMajor(state, nodeName) >= 9;
  for (const sid of sids.sort()) {
    const r = ha.resources[sid];
    const g = lib.findGuest(state, nodeName, sid.split(":")[1]);
    const node = g ? g.node : nodeName;
    const moving = ha.migrations && ha.migrations[sid];
    const dead = g && state.nodes[g.node] && !state.nodes[g.node].online && r.state === "started";
    const st = moving ? "migrate" : dead ? "fence" : r.state === "started" ? (g && g.guest.status === "running" ? "started" : "starting") : r.state === "disabled" ? "stopped" : r.state;
    const row = { crm_state: st, id: `service:${sid}`, max_relocate: r.max_relocate ?? 1, max_restart: r.max_restart ?? 1, node, request_state: r.state, sid, state: st, status: `${sid} (${node}, ${st})`, type: "service" };
    if (v9) row.failback = r.failback ?? 1;
    if (!v9 && r.group) row.group = r.group;
    rows.push(row);
  }
  return rows;
}

const pveshRoutes = [
  { get: "/cluster/ha/resources", options: { type: "string" }, handler: ({ state, self }) => resourceRows(state, self.name) },
  {
    get: "/cluster/ha/resources/{sid}",
    handler: ({ state, self, params }) => {
      const r = haOf(state, self.name).resources[params.sid];
      if (!r) lib.die(`no such resource '${params.sid}'\n`);
      return { ...r, digest: digest(r) };
    },
  },
  { get: "/cluster/ha/groups", handler: ({ state, self }) => groupRows(state, self.name) },
  {
    get: "/cluster/ha/rules",
    options: { type: "string", resource: "string" },
    handler: ({ state, self }) => {
      if (pveMajor(state, self.name) < 9) lib.die("No 'get' handler defined for '/cluster/ha/rules'\n", 1);
      return ruleRows(state, self.name);
    },
  },
  { get: "/cluster/ha/status/current", handler: ({ sim, state, self }) => statusRows(crmTick(sim) || state, self.name) },
];

// ---------------------------------------------------------------------------------------------
// migration through HA (pve-ha-manager src/PVE/API2/HA/Resources.pm migrate, src/PVE/HA/Manager.pm)

/** PVE::HA::Config::vm_is_ha_managed: a resource whose state is not "ignored". */
function isHaManaged(state, nodeName, sid) {
  const r = haOf(state, nodeName).resources[sid];
  return !!r && r.state !== "ignored";
}

/**
 * Request a migration like `ha-manager migrate <sid> <node>` (call inside sim.mutate): dies with
 * the API's texts; queues the CRM command. The CRM ignores a target that is not an online member
 * ("crm command error - node not online") and a service already there. Returns the queued
 * migration or null.
 */
function requestMigration(state, nodeName, sid, target, now = Date.now()) {
  if (!isHaManaged(state, nodeName, sid)) lib.die(`resource '${sid}' is not HA managed\n`);
  if (!quorate(state, nodeName)) lib.die("cfs-lock 'domain-ha' error: no quorum!\n");
  state.ha ??= {};
  const h = (state.ha[scopeOf(state, nodeName)] ??= emptyHa());
  h.migrations ??= {};
  const vmid = sid.split(":")[1];
  const g = lib.findGuest(state, nodeName, vmid);
  const t = lib.visibleNodes(state, nodeName).find((n) => n.name === target);
  if (!g || !t || !t.online || g.node === target || h.migrations[sid]) return null;
  const task = tasks.startTask(state, g.node, { type: "qmigrate", id: vmid, starttime: Math.floor(now / 1000), log: ["task started by HA resource agent"] });
  const delay = Number((state.sim && state.sim.haMigrationDelayMs) || 0);
  const m = { sid, source: g.node, target, requestedAt: now, dueAt: now + Math.max(0, delay), upid: task.upid };
  h.migrations[sid] = m;
  g.guest.config ??= {};
  g.guest.config.lock = "migrate";
  if (delay <= 0 && !held(state)) completeDue(state, now);
  return m;
}

/** A test holds the CRM back (state.sim.haMigrationHold). */
function held(state) {
  return Boolean(state.sim && state.sim.haMigrationHold);
}

/** The CRM/LRM work that is due: run each queued migration's qmigrate task. */
function completeDue(state, now) {
  if (held(state)) return;
  for (const h of Object.values(state.ha || {})) {
    for (const m of Object.values(h.migrations || {})) {
      if (m.dueAt > now) continue;
      delete h.migrations[m.sid];
      const vmid = m.sid.split(":")[1];
      const src = state.nodes[m.source];
      const task = tasks.findTask(state, m.source, m.upid);
      const guest = src && src.guests[vmid];
      if (guest && guest.config) delete guest.config.lock;
      if (!guest || !src.online) {
        if (task) tasks.finishTask(task, { error: guest ? "received interrupt" : `Configuration file 'nodes/${m.source}/qemu-server/${vmid}.conf' does not exist` });
        continue;
      }
      // PVE::HA::Resources::PVEVM::migrate: online, force and with-local-disks
      const res = tasks.runQmigrate(state, m.source, m.target, vmid, { online: true, withLocalDisks: true, start: task ? task.starttime : Math.floor(m.requestedAt / 1000) });
      if (task) tasks.finishTask(task, { lines: res.lines, error: res.error, endtime: res.endtime });
    }
  }
}

/** "n1:2,n2" -> [{ node, priority }] */
function placementNodes(spec) {
  return String(spec || "")
    .split(",")
    .filter(Boolean)
    .map((e) => {
      const [node, prio] = e.split(":");
      return { node, priority: Number(prio || 0) };
    });
}

/** Nodes a service may run on, by priority: its group (PVE 8) or node-affinity rule (PVE 9), else every member. */
function allowedFor(h, sid, members) {
  const r = h.resources[sid];
  const group = r && r.group ? h.groups[r.group] : null;
  const rule = Object.values(h.rules || {}).find((x) => x.type === "node-affinity" && String(x.resources).split(",").includes(sid) && !x.disable);
  const spec = group ? { nodes: placementNodes(group.nodes), strict: !!group.restricted } : rule ? { nodes: placementNodes(rule.nodes), strict: !!rule.strict } : null;
  if (!spec) return members.map((m) => ({ node: m, priority: 0 }));
  const listed = spec.nodes.filter((n) => members.includes(n.node));
  return spec.strict ? listed : [...listed, ...members.filter((m) => !listed.some((n) => n.node === m)).map((m) => ({ node: m, priority: -1 }))];
}

/** Services on dead nodes, due for recovery: [{ scope, sid, vmid, from }]. */
function recoveriesDue(state, now) {
  const out = [];
  const delay = Number((state.sim && state.sim.haFenceDelayMs) || 0);
  for (const [scope, h] of Object.entries(state.ha || {})) {
    const cluster = state.clusters[scope];
    if (!cluster || !lib.quorumInfo(state, cluster).quorate) continue;
    for (const sid of Object.keys(h.resources || {})) {
      const r = h.resources[sid];
      if (r.state !== "started" || (h.migrations && h.migrations[sid])) continue;
      const vmid = sid.split(":")[1];
      const from = cluster.nodes.map((m) => state.nodes[m.name]).find((n) => n && n.guests[vmid]);
      if (!from || from.online || now < (from.offlineSince || 0) + delay) continue;
      out.push({ scope, sid, vmid, from: from.name });
    }
  }
  return out;
}

/** Fence done: start each due service on the best allowed online node (inside sim.mutate). */
function recoverDue(state, now) {
  if (held(state)) return;
  for (const { scope, sid, vmid, from } of recoveriesDue(state, now)) {
    const h = state.ha[scope];
    const members = state.clusters[scope].nodes.map((m) => m.name).filter((n) => state.nodes[n] && state.nodes[n].online);
    const load = (n) => Object.keys(h.resources).filter((x) => state.nodes[n].guests[x.split(":")[1]]).length;
    const target = allowedFor(h, sid, members)
      .filter((c) => members.includes(c.node))
      .sort((a, b) => b.priority - a.priority || load(a.node) - load(b.node) || a.node.localeCompare(b.node))[0];
    if (!target) continue; // nowhere allowed: it stays fenced
    const guest = state.nodes[from].guests[vmid];
    delete state.nodes[from].guests[vmid];
    if (guest.config) delete guest.config.lock;
    state.nodes[target.node].guests[vmid] = { ...guest, status: "running", startedAt: Math.floor(now / 1000) };
  }
}

/** Let the background CRM catch up; returns the new state when it did something, else null. */
function crmTick(sim) {
  const now = Date.now();
  const current = sim.read();
  if (held(current)) return null;
  const due = Object.values(current.ha || {}).some((h) => Object.values(h.migrations || {}).some((m) => m.dueAt <= now)) || recoveriesDue(current, now).length > 0;
  if (!due) return null;
  return sim.mutate((state) => {
    completeDue(state, Date.now());
    recoverDue(state, Date.now());
    return state;
  });
}

module.exports = {
  pveshRoutes,
  scopeOf,
  haOf,
  mutateHa,
  pveMajor,
  groupsMigrated,
  quorate,
  requireQuorum,
  resourceRows,
  groupRows,
  ruleRows,
  statusRows,
  isHaManaged,
  requestMigration,
  crmTick,
};
