"use strict";
// pvesh endpoints of the Ceph fakes (loaded by pvesh.cjs): the storage configuration, which
// `pveceph pool create --add_storages` extends with RBD storages (state.storage[<scope>], where
// scope is "cluster:<name>" or "node:<name>" as in ceph-lib.cjs). Every node also has the two
// storages of a default installation: local (dir) and local-lvm (lvmthin).
//   GET /storage                 -> [{ storage, type, content, digest, … }]   (storage.cfg order)
//   GET /storage/{storage}       -> one entry, or "storage '<id>' does not exist" (exit 255)
//   PUT /storage/{storage} (--content) -> changes the content types (defaults included)
//   POST /storage (type rbd only) -> { storage, type }; an existing ID dies with
//                                    "create storage failed: storage ID '<id>' already defined" (exit 255)
const crypto = require("node:crypto");
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

const DEFAULT_STORAGES = [
  { storage: "local", type: "dir", path: "/var/lib/vz", content: "iso,vztmpl,backup" },
  { storage: "local-lvm", type: "lvmthin", thinpool: "data", vgname: "pve", content: "rootdir,images" },
];
// pve-storage plugindata content types per plugin
const VALID_CONTENT = {
  dir: ["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import", "none"],
  lvmthin: ["images", "rootdir", "none"],
  rbd: ["images", "rootdir", "none"],
};

function storages(state, nodeName) {
  const scope = ceph.scopeOf(state, nodeName);
  const extra = (state.storage && state.storage[scope]) || {};
  // an entry in the state with a default's ID is that default, changed by `pvesh set`
  const list = [
    ...DEFAULT_STORAGES.map((d) => ({ ...d, ...(extra[d.storage] || {}) })),
    ...Object.values(extra).filter((e) => !DEFAULT_STORAGES.some((d) => d.storage === e.storage)).map((e) => ({ ...e })),
  ];
  const digest = crypto.createHash("sha1").update(JSON.stringify(list)).digest("hex");
  return list.map((e) => ({ ...e, digest }));
}

const pveshRoutes = [
  {
    get: "/storage",
    options: { type: "string" },
    handler: ({ state, self, opts }) => storages(state, self.name).filter((s) => !opts.type || s.type === opts.type),
  },
  {
    create: "/storage",
    options: { storage: "string", type: "string", pool: "string", content: "string", krbd: "boolean", nodes: "string" },
    handler: ({ sim, self, opts }) => {
      if (!opts.storage || !opts.type) lib.paramError({ ...(opts.storage ? {} : { storage: "property is missing and it is not optional" }), ...(opts.type ? {} : { type: "property is missing and it is not optional" }) }, "pvesh create /storage [OPTIONS] [FORMAT_OPTIONS]");
      if (opts.type !== "rbd") lib.die(`pve-sim: storage type '${opts.type}' is not simulated (only rbd)\n`, 70);
      if (!ceph.pveQuorate(sim.read(), self.name)) lib.die("cluster not ready - no quorum?\n");
      let exists = false;
      ceph.mutate(sim, (s) => {
        s.storage ??= {};
        const scope = ceph.scopeOf(s, self.name);
        s.storage[scope] ??= {};
        if (s.storage[scope][opts.storage] || opts.storage === "local" || opts.storage === "local-lvm") {
          exists = true;
          return;
        }
        s.storage[scope][opts.storage] = { type: "rbd", pool: opts.pool || "rbd", storage: opts.storage, krbd: opts.krbd ? 1 : 0, content: opts.content || "images" };
      });
      if (exists) lib.die(`create storage failed: storage ID '${opts.storage}' already defined\n`);
      return { storage: opts.storage, type: "rbd" };
    },
  },
  {
    // PUT /storage/{storage}: synchronous, prints nothing. Content types the plugin does not
    // support are warned about and dropped (pve-storage Plugin::check_value: `warn "storage does
    // not support content type '$c'\n"; next;`), so the call still exits 0.
    set: "/storage/{storage}",
    options: { content: "string", digest: "string" },
    handler: ({ sim, self, params, opts }) => {
      if (!ceph.pveQuorate(sim.read(), self.name)) lib.die("cluster not ready - no quorum?\n");
      const current = storages(sim.read(), self.name).find((e) => e.storage === params.storage);
      if (!current) lib.die(`update storage failed: storage '${params.storage}' does not exist\n`);
      if (opts.content === undefined) return null;
      const valid = VALID_CONTENT[current.type] || [];
      const kept = [];
      for (const c of String(opts.content).split(/[,;\s]+/).filter(Boolean)) {
        if (!valid.includes(c)) lib.err(`storage does not support content type '${c}'\n`);
        else if (!kept.includes(c)) kept.push(c);
      }
      if (kept.includes("none") && kept.length > 1) lib.die("unable to combine 'none' with other content types\n");
      ceph.mutate(sim, (s) => {
        s.storage ??= {};
        const scope = ceph.scopeOf(s, self.name);
        s.storage[scope] ??= {};
        s.storage[scope][params.storage] = { ...(s.storage[scope][params.storage] || { storage: params.storage }), content: kept.join(",") };
      });
      return null;
    },
  },
  {
    get: "/storage/{storage}",
    handler: ({ state, self, params }) => {
      const hit = storages(state, self.name).find((s) => s.storage === params.storage);
      if (!hit) lib.die(`storage '${params.storage}' does not exist\n`);
      return hit;
    },
  },
];

module.exports = { pveshRoutes };
