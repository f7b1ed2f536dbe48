"use strict";
// Fake `rados` (ceph/ceph src/tools/rados/rados.cc), enough to prove a pool takes writes:
//   rados -p|--pool POOL put OBJ INFILE|-    (stdin with "-"; silent, exit 0)
//   rados -p|--pool POOL rm OBJ              (silent, exit 0)
//   rados -p|--pool POOL stat OBJ            ("POOL/OBJ mtime <time>, size N")
//   rados lspools                            (one pool name per line)
// Connecting is the `ceph` client's (ceph-lib connectClient, with rados.cc's "couldn't connect to
// cluster: (110) Connection timed out"). Errors as rados.cc prints them, exit 1: "error opening pool
// P: (2) No such file or directory", "error removing P>OBJ: …", " error stat-ing P/OBJ: …" (sic,
// leading space), and the usage on stderr for a command without a pool or an argument.
// A write to a pool whose PGs are not active (fewer up hosts than min_size) blocks, as the real
// client waits for the PGs; the caller bounds it (`timeout`). Objects count in `ceph df`.
const fs = require("node:fs");
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

function parse(argv) {
  const o = { pool: null, words: [], conf: null, connectTimeout: null, client: "rados" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-p" || a === "--pool") o.pool = argv[++i];
    else if (a.startsWith("--pool=")) o.pool = a.slice(7);
    else if (a === "-c" || a === "--conf") o.conf = argv[++i];
    else o.words.push(a);
  }
  return o;
}

const USAGE = "usage: rados [options] [commands]\nPOOL COMMANDS\n   lspools                          list pools\n";

function openPool(cluster, name) {
  const pool = cluster.pools[name];
  if (!pool) lib.die(`error opening pool ${name}: (2) No such file or directory\n`, 1);
  return pool;
}

/** Block like a client waiting for inactive PGs, until the caller's timeout ends it. */
function waitForever() {
  for (;;) lib.sleepMs(60_000);
}

lib.main(() => {
  const sim = lib.context();
  const o = parse(process.argv.slice(2));
  const [verb, obj, infile] = o.words;
  if (!verb) lib.die("rados: you must give an action. Try --help\n", 1);
  const { state, node, cluster, live } = ceph.connectClient(sim, o);
  const pool = o.pool ? openPool(cluster, o.pool) : null;
  if (verb === "lspools") {
    for (const p of Object.values(cluster.pools).sort((a, b) => a.id - b.id)) lib.line(p.name);
    return 0;
  }
  if (!["put", "rm", "stat"].includes(verb)) lib.die(`unrecognized command ${verb}; -h or --help for usage\n`, 1);
  if (!pool || !obj || (verb === "put" && !infile)) lib.die(USAGE, 1);
  const knobs = ceph.simKnobs(state);
  if (verb !== "stat" && ceph.poolPgState(cluster, live, pool, knobs.settleMs, Date.now()).state.includes("peered")) waitForever();
  if (verb === "put") {
    const data = infile === "-" ? fs.readFileSync(0) : fs.readFileSync(infile);
    ceph.mutate(sim, (s) => {
      const p = ceph.clusterOf(s, node.name).pools[pool.name];
      p.radosObjects ??= {};
      const old = p.radosObjects[obj];
      p.radosObjects[obj] = { size: data.length, mtime: Date.now() };
      p.objects = (p.objects || 0) + (old ? 0 : 1);
      p.stored = (p.stored || 0) + data.length - (old ? old.size : 0);
    });
    return 0;
  }
  const entry = (pool.radosObjects || {})[obj];
  if (!entry) lib.die(verb === "rm" ? `error removing ${pool.name}>${obj}: (2) No such file or directory\n` : ` error stat-ing ${pool.name}/${obj}: (2) No such file or directory\n`, 1);
  if (verb === "stat") {
    lib.line(`${pool.name}/${obj} mtime ${ceph.utime(entry.mtime)}, size ${entry.size}`);
    return 0;
  }
  ceph.mutate(sim, (s) => {
    const p = ceph.clusterOf(s, node.name).pools[pool.name];
    delete p.radosObjects[obj];
    p.objects = Math.max(0, (p.objects || 0) - 1);
    p.stored = Math.max(0, (p.stored || 0) - entry.size);
  });
  return 0;
});
