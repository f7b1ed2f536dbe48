"use strict";
// SDN endpoints of the fake pvesh (proxmox/pve-network src/PVE/API2/Network/SDN.pm, SDN/Zones.pm,
// SDN/Vnets.pm, SDN/Subnets.pm; pending state as PVE::Network::SDN::pending_config).
//
// STATE: state.sdn[<cluster name, or the node's name when standalone>] = {
//          config:  { zones: { id: {...} }, vnets: { id: {...} }, subnets: { id: {...} } },   // sdn/*.cfg
//          running: { zones, vnets, subnets },   // what the last apply committed (.running-config)
//          applies: n }                          // how many times `pvesh set /cluster/sdn` ran
//
//   GET    /cluster/sdn                              the directory index
//   PUT    /cluster/sdn                              commit config as running, start reloadnetworkall; prints the UPID
//   GET    /cluster/sdn/zones [--pending 1] [--running 1] [--type T]
//   POST   /cluster/sdn/zones --zone Z --type simple|vxlan [--nodes a,b] [--peers …] [--dhcp dnsmasq] [--ipam pve] [--mtu N]
//   GET    /cluster/sdn/vnets [--pending 1] [--running 1]
//   POST   /cluster/sdn/vnets --vnet V --zone Z [--tag N] [--alias A]
//   GET    /cluster/sdn/vnets/{vnet}/subnets [--pending 1] [--running 1]
//   POST   /cluster/sdn/vnets/{vnet}/subnets --subnet CIDR --type subnet [--gateway G] [--snat 1] [--dhcp-range start-address=…,end-address=…]
// With --pending an object that differs from the running config carries `state` (new, changed,
// deleted) and `pending` (the keys that would change); one that does not has neither.
const lib = require("./lib.cjs");
const tasks = require("./pvesh-tasks.cjs");

const KINDS = { zones: "zone", vnets: "vnet", subnets: "subnet" };

function scopeOf(state, nodeName) {
  const cluster = lib.clusterOf(state, nodeName);
  return cluster ? cluster.name : nodeName;
}

function sdnOf(state, nodeName) {
  const empty = () => ({ zones: {}, vnets: {}, subnets: {} });
  const s = (state.sdn && state.sdn[scopeOf(state, nodeName)]) || {};
  return { config: s.config || empty(), running: s.running || empty(), applies: s.applies || 0 };
}

function mutateSdn(sim, nodeName, fn) {
  return sim.mutate((state) => {
    state.sdn ??= {};
    const scope = scopeOf(state, nodeName);
    const cur = sdnOf(state, nodeName);
    state.sdn[scope] = cur;
    return fn(cur);
  });
}

/** PVE::Network::SDN::pending_config for one kind. */
function pendingRows(running, config, kind) {
  const idKey = KINDS[kind];
  const rows = [];
  const ids = [...new Set([...Object.keys(running), ...Object.keys(config)])].sort();
  for (const id of ids) {
    const r = running[id];
    const c = config[id];
    if (r && !c) {
      rows.push({ [idKey]: id, ...r, state: "deleted" });
      continue;
    }
    if (!r) {
      rows.push({ [idKey]: id, type: c.type, ...(c.vnet ? { vnet: c.vnet } : {}), state: "new", pending: { ...c } });
      continue;
    }
    const pending = {};
    for (const k of new Set([...Object.keys(r), ...Object.keys(c)])) {
      if (k === "type" || k === "vnet") continue;
      if (c[k] === undefined) pending[k] = "deleted";
      else if (String(c[k]) !== String(r[k])) pending[k] = c[k];
    }
    rows.push(Object.keys(pending).length > 0 ? { [idKey]: id, ...r, state: "changed", pending } : { [idKey]: id, ...r });
  }
  return rows;
}

function listRows(sim, self, kind, opts, filter = () => true) {
  const sdn = sdnOf(sim.read(), self.name);
  const pick = (cfg) => Object.fromEntries(Object.entries(cfg[kind]).filter(([id, v]) => filter(id, v)));
  if (opts.pending) return pendingRows(pick(sdn.running), pick(sdn.config), kind);
  const source = opts.running ? sdn.running : sdn.config;
  return Object.entries(pick(source)).map(([id, v]) => ({ [KINDS[kind]]: id, ...v }));
}

const LIST_OPTIONS = { pending: "boolean", running: "boolean", type: "string" };

const pveshRoutes = [
  { get: "/cluster/sdn", handler: () => ["vnets", "zones", "controllers", "ipams", "dns", "fabrics"].map((id) => ({ id })) },
  {
    set: "/cluster/sdn",
    options: { "lock-token": "string", "release-lock": "boolean" },
    handler: ({ sim, self }) =>
      sim.mutate((state) => {
        state.sdn ??= {};
        const sdn = sdnOf(state, self.name);
        sdn.running = JSON.parse(JSON.stringify(sdn.config));
        sdn.applies += 1;
        state.sdn[scopeOf(state, self.name)] = sdn;
        const task = tasks.startTask(state, self.name, { type: "reloadnetworkall", id: "" });
        tasks.finishTask(task, {});
        return task.upid;
      }),
  },
  {
    get: "/cluster/sdn/zones",
    options: LIST_OPTIONS,
    handler: ({ sim, self, opts }) => listRows(sim, self, "zones", opts, (_id, v) => !opts.type || v.type === opts.type),
  },
  {
    create: "/cluster/sdn/zones",
    options: { zone: "string", type: "string", nodes: "string", peers: "string", dhcp: "string", ipam: "string", mtu: "integer" },
    handler: ({ sim, self, opts }) =>
      mutateSdn(sim, self.name, (sdn) => {
        if (sdn.config.zones[opts.zone]) lib.die(`create sdn zone object failed: sdn zone object ID '${opts.zone}' already defined\n`);
        const { zone, ...rest } = opts;
        sdn.config.zones[zone] = rest;
        return null;
      }),
  },
  { get: "/cluster/sdn/vnets", options: LIST_OPTIONS, handler: ({ sim, self, opts }) => listRows(sim, self, "vnets", opts) },
  {
    create: "/cluster/sdn/vnets",
    options: { vnet: "string", zone: "string", tag: "integer", alias: "string" },
    handler: ({ sim, self, opts }) =>
      mutateSdn(sim, self.name, (sdn) => {
        if (!sdn.config.zones[opts.zone]) lib.die(`zone '${opts.zone}' doesn't exist\n`);
        const { vnet, ...rest } = opts;
        sdn.config.vnets[vnet] = { type: "vnet", ...rest };
        return null;
      }),
  },
  {
    get: "/cluster/sdn/vnets/{vnet}/subnets",
    options: LIST_OPTIONS,
    handler: ({ sim, self, opts, params }) => listRows(sim, self, "subnets", opts, (_id, v) => v.vnet === params.vnet),
  },
  {
    create: "/cluster/sdn/vnets/{vnet}/subnets",
    options: { subnet: "string", type: "string", gateway: "string", snat: "boolean", "dhcp-range": "string" },
    handler: ({ sim, self, opts, params }) =>
      mutateSdn(sim, self.name, (sdn) => {
        const vnet = sdn.config.vnets[params.vnet];
        if (!vnet) lib.die(`vnet '${params.vnet}' doesn't exist\n`);
        const [ip, prefix] = String(opts.subnet).split("/");
        const id = `${vnet.zone}-${ip}-${prefix}`;
        const { subnet, ...rest } = opts;
        sdn.config.subnets[id] = { ...rest, type: "subnet", vnet: params.vnet, zone: vnet.zone, cidr: subnet, network: ip, mask: Number(prefix) };
        return null;
      }),
  },
];

module.exports = { pveshRoutes, sdnOf };
