"use strict";
// Node task list of the fakes (proxmox/pve-manager PVE/API2/Tasks.pm) and the task logs the fakes
// write, plus the qmigrate worker (proxmox/qemu-server src/PVE/QemuMigrate.pm on top of
// proxmox/pve-guest-common src/PVE/AbstractMigrate.pm) that `qm migrate` and the HA CRM share.
// Loaded by pvesh.cjs (routes), qm.cjs and pvesh-ha.cjs (helpers).
//
// STATE: state.tasks[<node>] = [ { upid, node, pid, pstart, starttime, type, id, user,
//          endtime?, status?, log: [line, …] } ]   oldest first, at most MAX_TASKS per node.
//   A task without endtime is running. `status` is "OK" or the TASK ERROR text; the log file a
//   real node keeps ends with "TASK OK" / "TASK ERROR: <msg>", which the log endpoint adds.
// UPIDs as PVE::UPID::encode: UPID:<node>:<pid %08X>:<pstart %08X>:<starttime %08X>:<type>:<id>:<user>:
//
//   GET /nodes/{node}/tasks             [--start N] [--limit N] [--typefilter T] [--vmid N] [--userfilter U]
//                                       [--errors 0|1] [--source archive|active|all] [--since T] [--until T]
//                                       [--statusfilter ok,warning,error,unknown]   newest first
//   GET /nodes/{node}/tasks/{upid}/log  [--start N] [--limit N (0 = all)]          [{ n, t }]
//   GET /nodes/{node}/tasks/{upid}/status                                          { …, status: running|stopped, exitstatus? }
//
// Knobs (state.sim) read by the qmigrate worker:
//   failQmMigrate: [vmid | { vmid, reason }]  one-shot: the next migration of that VM aborts inside
//       the task with "ERROR: migration aborted (duration …): <reason>" (default reason: a config
//       lock timeout, as when a backup holds the VM).
//   migrationDowntimeMs: n | { <vmid>: n }     downtime QEMU reports (default 20–99 ms per VMID).
const fs = require("node:fs");
const crypto = require("node:crypto");
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

const MAX_TASKS = 200;
const UPID_RE = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;
const hex8 = (n) => n.toString(16).toUpperCase().padStart(8, "0");

// ---------------------------------------------------------------------------------------------
// task store

/** Clock ticks since boot at which this process started (what PVE puts into a UPID as pstart). */
function procStart() {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]) || 1;
  } catch {
    return 1;
  }
}

/** Start a task on `node` (no endtime yet); returns the stored entry. `starttime` in seconds. */
function startTask(state, node, { type, id, user = "root@pam", starttime = Math.floor(Date.now() / 1000), log = [] }) {
  state.tasks ??= {};
  const list = (state.tasks[node] ??= []);
  const pid = process.pid;
  let pstart = procStart();
  // one process may start several tasks in the same second: keep UPIDs unique as real workers are
  while (list.some((t) => t.pid === pid && t.pstart === pstart && t.starttime === starttime && t.type === type && t.id === String(id))) pstart++;
  const task = { upid: `UPID:${node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${type}:${id}:${user}:`, node, pid, pstart, starttime, type, id: String(id), user, log: [...log] };
  list.push(task);
  if (list.length > MAX_TASKS) list.splice(0, list.length - MAX_TASKS);
  return task;
}

/** Finish a task: append log lines, set endtime and status ("OK" or the error text). */
function finishTask(task, { lines = [], error = null, endtime = Math.floor(Date.now() / 1000) }) {
  task.log.push(...lines);
  task.endtime = Math.max(endtime, task.starttime);
  task.status = error ? String(error).replace(/\n+$/, "").replace(/\n/g, " ") : "OK";
  return task;
}

function findTask(state, node, upid) {
  return ((state.tasks && state.tasks[node]) || []).find((t) => t.upid === upid) || null;
}

// ---------------------------------------------------------------------------------------------
// formatting helpers shared with qm.cjs

/** strftime("%F %H:%M:%S", localtime) */
function stamp(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** PVE::Format::render_bytes($value, $precision) */
function renderBytes(value, precision = 2) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let u = 0;
  if (value > 1023) {
    u = Math.min(units.length - 1, Math.floor(Math.log(value) / Math.log(1024)));
    value /= 1024 ** u;
  }
  return `${value.toFixed(precision)} ${units[u]}`;
}

function duration(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h, m, s].map((x) => String(x).padStart(2, "0")).join(":");
}

/** PVE::QemuMigrate::round_powerof2 */
function roundPowerOf2(x) {
  if (x < 2) return 1;
  return 2 * 2 ** Math.floor(Math.log(x - 1) / Math.log(2));
}

/** A deterministic number in [0, 1) for a seed. */
function unit(seed) {
  return crypto.createHash("sha256").update(String(seed)).digest().readUInt32BE(0) / 2 ** 32;
}

// ---------------------------------------------------------------------------------------------
// storage facts the migration needs (the fake knows local, local-lvm, local-zfs and Ceph pools)

const LOCAL_STORAGES = { local: "dir", "local-lvm": "lvmthin", "local-zfs": "zfspool" };

const DRIVE_KEY = /^(virtio\d+|scsi\d+|sata\d+|ide\d+|efidisk0|tpmstate0)$/;

/** Volumes of a guest config like PVE::QemuServer::foreach_volid: { volid, key, cdrom, attached, size }. */
function guestVolumes(conf) {
  const vols = [];
  for (const [key, raw] of Object.entries(conf)) {
    const isDrive = DRIVE_KEY.test(key);
    if (!isDrive && !/^unused\d+$/.test(key)) continue;
    const parts = String(raw).split(",");
    const volid = parts[0];
    const cdrom = parts.includes("media=cdrom");
    const sm = /(?:^|,)size=([^,]+)/.exec(String(raw));
    vols.push({ key, volid, cdrom, attached: isDrive, size: sm ? lib.sizeToBytes(sm[1]) : 0 });
  }
  return vols.sort((a, b) => (a.volid < b.volid ? -1 : a.volid > b.volid ? 1 : 0));
}

/** remote_node_ip: the member's address in the cluster's node list. */
function nodeIp(state, name) {
  const c = lib.clusterOf(state, name);
  const m = c && c.nodes.find((x) => x.name === name);
  return (m && m.ip) || (state.nodes[name] && state.nodes[name].ip);
}

/** PVE::SSHInfo::ssh_info_to_command as PVE::Tools::cmd2string prints it. */
function sshCommand(target, ip) {
  return `/usr/bin/ssh -e none -o BatchMode=yes -o HostKeyAlias=${target} -o UserKnownHostsFile=/etc/pve/nodes/${target}/ssh_known_hosts -o GlobalKnownHostsFile=none root@${ip}`;
}

function downtimeFor(state, vmid) {
  const k = state.sim && state.sim.migrationDowntimeMs;
  if (typeof k === "number") return k;
  if (k && typeof k === "object" && k[String(vmid)] !== undefined) return Number(k[String(vmid)]);
  return 20 + Math.floor(unit(`downtime/${vmid}`) * 80);
}

/** Consume the one-shot failure knob; returns the abort reason or null. */
function takeMigrateFault(state, vmid) {
  const list = (state.sim && state.sim.failQmMigrate) || [];
  const idx = list.findIndex((e) => Number(e && typeof e === "object" ? e.vmid : e) === Number(vmid));
  if (idx < 0) return null;
  const e = list[idx];
  state.sim.failQmMigrate = list.filter((_, i) => i !== idx);
  return (e && typeof e === "object" && e.reason) || `can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout`;
}

/** `--targetstorage`: a storage ID, "1" (identity) or "src:dst,…" (PVE::JSONSchema::parse_idmap). */
function parseStorageMap(spec) {
  if (spec === undefined || spec === "1") return { identity: true, entries: {} };
  const map = { entries: {} };
  for (const part of String(spec).split(/[,;]/).filter(Boolean)) {
    const [a, b] = part.split(":");
    if (b === undefined) map.default = a;
    else map.entries[a] = b;
  }
  return map;
}
function mapStorage(map, sid) {
  if (!map || map.identity) return sid;
  return map.entries[sid] || map.default || sid;
}

/**
 * The qmigrate worker for a VM of `source` moving to `target` (PVE::AbstractMigrate::migrate with
 * PVE::QemuMigrate's phases). Changes the state like the real one (the guest, its status kept,
 * moves to the target on success) and returns { lines, error, endtime }: the task log lines
 * (timestamped as AbstractMigrate's log() does) and the TASK ERROR text or null.
 * opts: { online, withLocalDisks, migrationNetwork, migrationType, bwlimit, targetstorage, ha, start }
 * The clock is simulated from `start` (seconds), so durations look like a real migration's.
 */
function runQmigrate(state, source, target, vmid, opts = {}) {
  const lines = [];
  let t = opts.start ?? Math.floor(Date.now() / 1000);
  const log = (msg, level = "info") => {
    for (const l of String(msg).replace(/\n+$/, "").split("\n")) lines.push(`${stamp(t)}${level === "err" ? " ERROR:" : ""} ${l}`);
  };
  const raw = (msg) => lines.push(msg);
  const src = state.nodes[source];
  const tgt = state.nodes[target];
  const guest = src.guests[String(vmid)];
  const major = lib.parseVersion(src.pveVersion).major;
  const minor = lib.parseVersion(src.pveVersion).minor;
  if (opts.ha) raw("task started by HA resource agent");
  const fail = (err) => ({ lines, error: err, endtime: t });

  // migrate(): SSH info of the target, with the migration network through `pvecm mtunnel` on it
  let ip = nodeIp(state, target);
  if (opts.migrationNetwork) {
    const cmd = `${sshCommand(target, ip)} pvecm mtunnel -migration_network ${opts.migrationNetwork} -get_migration_ip`;
    if (!tgt.online) {
      raw(`ssh: connect to host ${ip} port 22: Connection refused`);
      return fail(`command '${cmd}' failed: exit code 255`);
    }
    const ips = [...new Set((tgt.addresses || [tgt.ip]).filter((a) => ceph.ipInCidr(a, opts.migrationNetwork)))];
    if (ips.length === 0) {
      raw(`could not get migration ip: no IP address configured on local node for network '${opts.migrationNetwork}'`);
      return fail(`command '${cmd}' failed: exit code 255`);
    }
    ip = ips[0];
  }
  const startedAt = t;
  const aborted = (reason) => {
    log(`migration aborted (duration ${duration(t - startedAt)}): ${reason}`, "err");
    return fail("migration aborted");
  };

  // lock_vm: the configuration lock (the fault knob models a lock held elsewhere, e.g. by a backup)
  const fault = takeMigrateFault(state, vmid);
  if (fault) {
    if (/got timeout/.test(fault)) t += 10;
    return aborted(fault);
  }

  // prepare()
  const conf = lib.guestConfig(source, vmid, guest);
  const running = guest.status === "running" && !!opts.online;
  if (running && major >= 9) log("conntrack state migration not supported or disabled, active connections might get dropped", "warn");
  const ssh = sshCommand(target, ip);
  if (!tgt.online || tgt.cluster !== src.cluster) {
    t += 3;
    log(`# ${ssh} /bin/true`);
    log(`ssh: connect to host ${ip} port 22: Connection refused`);
    return aborted("Can't connect to destination address using public key");
  }
  if (opts.migrationNetwork) log(`use dedicated network address for sending migration traffic (${ip})`);

  // phase1: scan_local_volumes, sync_offline_local_volumes
  log(`starting migration of VM ${vmid} to node '${target}' (${ip})`);
  const storageMap = parseStorageMap(opts.targetstorage);
  const local = [];
  const errors = [];
  for (const v of guestVolumes(conf)) {
    if (v.cdrom && (v.volid === "none" || v.volid === "cdrom")) {
      if (v.volid === "cdrom") errors.push({ volid: null, msg: "can't migrate local cdrom drive" });
      continue;
    }
    const sid = v.volid.split(":")[0];
    if (!LOCAL_STORAGES[sid]) continue; // shared (Ceph RBD): nothing to copy
    const cloudinit = v.cdrom && /vm-\d+-cloudinit/.test(v.volid);
    const ref = cloudinit ? "generated" : v.attached ? "attached" : "unused";
    if (v.cdrom && !cloudinit) {
      errors.push({ volid: v.volid, msg: "local cdrom image" });
      continue;
    }
    local.push({ ...v, sid, ref, targetsid: mapStorage(storageMap, sid) });
  }
  for (const v of local) {
    if (v.ref === "attached" && running && !opts.withLocalDisks) errors.push({ volid: v.volid, msg: "can't live migrate attached local disks without with-local-disks option" });
    if (v.ref === "generated") log(`found generated disk '${v.volid}' (in current VM config)`);
    else log(`found local disk '${v.volid}' (${v.ref})`);
  }
  for (const e of errors.filter((x) => x.volid)) log(`can't migrate local disk '${e.volid}': ${e.msg}`, "warn");
  for (const e of errors.filter((x) => !x.volid)) log(e.msg, "warn");
  if (errors.length) {
    const err = "Problem found while scanning volumes - can't migrate VM - check log";
    log(err, "err");
    log("aborting phase 1 - cleanup resources");
    return aborted(err);
  }
  const newVolid = (v) => `${v.targetsid}:${v.volid.slice(v.sid.length + 1)}`;
  const offline = local.filter((v) => !(running && v.ref === "attached"));
  const online = local.filter((v) => running && v.ref === "attached");
  if (offline.length) log("copying local disk images");
  for (const v of offline) {
    const name = v.volid.slice(v.sid.length + 1);
    if (LOCAL_STORAGES[v.targetsid] === "lvmthin") log(`  Logical volume "${name}" created.`);
    t += Math.max(1, Math.ceil((v.size || 4 * 1024 ** 2) / (420 * 1024 ** 2)));
    log(`successfully imported '${newVolid(v)}'`);
    log(`volume '${v.volid}' is '${newVolid(v)}' on the target`);
  }

  // phase2: live migration
  let downtime = null;
  if (running) {
    log(`starting VM ${vmid} on remote node '${target}'`);
    for (const v of online) log(`volume '${v.volid}' is '${newVolid(v)}' on the target`);
    t += 3;
    log("start remote tunnel");
    t += 1;
    log("ssh tunnel ver 1");
    if (online.length) {
      log("starting storage migration");
      for (const v of online) {
        log(`${v.key}: start migration to nbd:unix:/run/qemu-server/${vmid}_nbd.migrate:exportname=drive-${v.key}`);
        raw(`drive mirror is starting for drive-${v.key}`);
        const total = renderBytes(v.size || 32 * 1024 ** 3, 1);
        const secs = Math.max(1, Math.ceil((v.size || 32 * 1024 ** 3) / (480 * 1024 ** 2)));
        raw(`drive-${v.key}: transferred 0.0 B of ${total} (0.00%) in 0s`);
        raw(`drive-${v.key}: transferred ${total} of ${total} (100.00%) in ${secs >= 60 ? `${Math.floor(secs / 60)}m ${secs % 60}s` : `${secs}s`}, ready`);
        t += secs;
      }
      raw("all 'mirror' jobs are ready");
      log("switching mirror jobs to actively synced mode");
      for (const v of online) {
        raw(`drive-${v.key}: switching to actively synced mode`);
        raw(`drive-${v.key}: successfully switched to actively synced mode`);
      }
    }
    const uri = opts.migrationType === "insecure" ? `tcp:${ip}:60000` : `unix:/run/qemu-server/${vmid}.migrate`;
    log(`starting online/live migration on ${uri}`);
    log("set migration capabilities");
    let speedCap = Infinity;
    if (opts.bwlimit) {
      speedCap = opts.bwlimit * 1024;
      log(`migration speed limit: ${renderBytes(speedCap, 1)}/s`);
    }
    log("migration downtime limit: 100 ms");
    const mem = Number(conf.memory || 2048) * 1024 ** 2;
    log(`migration cachesize: ${renderBytes(roundPowerOf2(Math.floor(mem / 10)), 1)}`);
    log("set migration parameters");
    log(`start migrate command to ${uri}`);
    const total = mem + Math.floor(mem / 128);
    const goal = Math.floor(total * 0.62);
    let sent = 0;
    let i = 0;
    const progress = [];
    while (sent < goal && i < 600) {
      i++;
      const speed = Math.min(speedCap, (380 + Math.floor(unit(`speed/${vmid}/${i}`) * 220)) * 1024 ** 2);
      sent = Math.min(goal, sent + speed);
      progress.push({ at: t + i, sent, speed });
    }
    const shown = progress.length <= 12 ? progress : progress.filter((_, k) => k % Math.ceil(progress.length / 12) === 0);
    for (const p of shown) {
      t = p.at;
      log(`migration active, transferred ${renderBytes(p.sent, 1)} of ${renderBytes(total, 1)} VM-state, ${renderBytes(p.speed, 1)}/s`);
    }
    t = (progress.length ? progress[progress.length - 1].at : t) + 1;
    const delay = Math.max(1, i + 1);
    downtime = downtimeFor(state, vmid);
    log(`average migration speed: ${renderBytes(total / delay, 1)}/s - downtime ${downtime} ms`);
    // qemu-server 8.3.9 (PVE 8.4) added the transfer summary
    if (major > 8 || (major === 8 && minor >= 4)) log(`migration completed, transferred ${renderBytes(sent + Math.floor(mem / 512), 1)} VM-state`);
    log("migration status: completed");
    if (online.length) {
      raw("all 'mirror' jobs are ready");
      for (const v of online) {
        raw(`drive-${v.key}: Completing block job...`);
        raw(`drive-${v.key}: Completed successfully.`);
        raw(`drive-${v.key}: mirror-job finished`);
      }
    }
  }

  // phase3_cleanup: move the config, free the source volumes
  t += running ? 4 : 1;
  if (online.length) log("stopping NBD storage migration server on target.");
  for (const v of local) {
    if (LOCAL_STORAGES[v.sid] === "lvmthin") raw(`  Logical volume "${v.volid.slice(v.sid.length + 1)}" successfully removed.`);
  }
  delete src.guests[String(vmid)];
  guest.config ||= {};
  delete guest.config.lock;
  for (const v of local) {
    if (v.targetsid === v.sid) continue;
    guest.config[v.key] = String(conf[v.key]).replace(v.volid, newVolid(v));
    if (guest.volumes && guest.volumes[v.volid] !== undefined) {
      guest.volumes[newVolid(v)] = guest.volumes[v.volid];
      delete guest.volumes[v.volid];
    }
  }
  tgt.guests[String(vmid)] = guest;
  log(`migration finished successfully (duration ${duration(t - startedAt)})`);
  return { lines, error: null, endtime: t, downtime };
}

// ---------------------------------------------------------------------------------------------
// pvesh routes

/** The HA CRM acts in the background; anyone looking at tasks sees its finished work. */
function observe(sim, state) {
  const ha = require("./pvesh-ha.cjs");
  return ha.crmTick(sim) || state;
}

function statusType(status) {
  if (!status) return "unknown";
  if (status === "OK") return "ok";
  if (/^WARNINGS: \d+$/.test(status)) return "warning";
  if (status === "unexpected status") return "unknown";
  return "error";
}

function taskRow(t) {
  const row = { id: t.id, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, upid: t.upid, user: t.user };
  if (t.endtime !== undefined) {
    row.endtime = t.endtime;
    row.status = t.status;
  } else {
    row.status = "RUNNING";
  }
  return row;
}

const usageOf = (p) => `pvesh get ${p} [OPTIONS] [FORMAT_OPTIONS]`;

const pveshRoutes = [
  {
    get: "/nodes/{node}/tasks",
    options: { start: "integer", limit: "integer", userfilter: "string", typefilter: "string", vmid: "integer", errors: "boolean", source: "string", since: "integer", until: "integer", statusfilter: "string" },
    handler: ({ sim, state, self, params, opts, path }) => {
      const LIST_USAGE = usageOf(path);
      const source = opts.source ?? "archive";
      if (!["archive", "active", "all"].includes(source)) lib.paramError({ source: `value '${source}' does not have a value in the enumeration 'archive, active, all'` }, LIST_USAGE);
      for (const k of ["start", "limit"]) if (opts[k] !== undefined && opts[k] < 0) lib.paramError({ [k]: `value must have a minimum value of 0` }, LIST_USAGE);
      if (opts.vmid !== undefined && (opts.vmid < 100 || opts.vmid > 999999999)) lib.paramError({ vmid: "invalid format - value must be in the range 100 - 999999999" }, LIST_USAGE);
      lib.apiTargetNode(state, self, params.node);
      const st = observe(sim, state);
      const tasks = ((st.tasks && st.tasks[params.node]) || []).slice().sort((a, b) => b.starttime - a.starttime || (a.upid < b.upid ? 1 : -1));
      let statusfilter = { ok: 1, warning: 1, error: 1, unknown: 1 };
      if (opts.statusfilter !== undefined && !opts.errors) {
        statusfilter = { ok: 0, warning: 0, error: 0, unknown: 0 };
        for (const f of opts.statusfilter.split(/[,;\s]+/).filter(Boolean)) statusfilter[f.toLowerCase()] = 1;
      } else if (opts.errors) statusfilter.ok = 0;
      const start = opts.start ?? 0;
      let limit = opts.limit ?? 50;
      let count = 0;
      // PVE::API2::Tasks node_tasks $filter_task
      const skip = (t) => {
        if (opts.userfilter && !t.user.toLowerCase().includes(opts.userfilter.toLowerCase())) return true;
        if (opts.typefilter && t.type !== opts.typefilter) return true;
        if (opts.vmid && t.id !== String(opts.vmid)) return true;
        if (opts.since !== undefined && t.starttime < opts.since) return true;
        if (opts.until !== undefined && t.starttime > opts.until) return true;
        if (!statusfilter[statusType(t.endtime === undefined ? undefined : t.status)]) return true;
        if (count++ < start) return true;
        return limit <= 0;
      };
      const rows = [];
      const take = (list) => {
        for (const t of list) {
          if (skip(t)) continue;
          rows.push(taskRow(t));
          limit--;
        }
      };
      if (source !== "archive") take(tasks.filter((x) => x.endtime === undefined));
      if (source !== "active") take(tasks.filter((x) => x.endtime !== undefined));
      return rows;
    },
  },
  {
    get: "/nodes/{node}/tasks/{upid}/log",
    options: { start: "integer", limit: "integer", download: "boolean" },
    handler: ({ sim, state, self, params, opts, path }) => {
      const usage = usageOf(path);
      for (const k of ["start", "limit"]) if (opts[k] !== undefined && opts[k] < 0) lib.paramError({ [k]: `value must have a minimum value of 0` }, usage);
      lib.apiTargetNode(state, self, params.node);
      if (!UPID_RE.test(params.upid)) lib.paramError({ upid: "unable to parse worker upid" }, usage);
      if (opts.download && (opts.start !== undefined || opts.limit !== undefined)) lib.die("'download' cannot be used together with 'start' or 'limit' parameters\n");
      const task = findTask(observe(sim, state), params.node, params.upid);
      if (!task) return [{ n: 1, t: "unable to open file - No such file or directory" }];
      const text = [...task.log];
      if (task.endtime !== undefined) text.push(task.status === "OK" ? "TASK OK" : /^WARNINGS: \d+$/.test(task.status) ? `TASK ${task.status}` : `TASK ERROR: ${task.status}`);
      const start = opts.start ?? 0;
      const limit = opts.limit ?? 50;
      const rows = [];
      text.forEach((t, i) => {
        if (i < start) return;
        if (limit !== 0 && rows.length >= limit) return;
        rows.push({ n: i + 1, t });
      });
      return rows;
    },
  },
  {
    get: "/nodes/{node}/tasks/{upid}/status",
    handler: ({ sim, state, self, params, path }) => {
      const usage = usageOf(path);
      lib.apiTargetNode(state, self, params.node);
      const m = UPID_RE.exec(params.upid);
      if (!m) lib.paramError({ upid: "unable to parse worker upid" }, usage);
      const task = findTask(observe(sim, state), params.node, params.upid);
      if (!task) lib.paramError({ upid: "no such task" }, usage);
      const r = { id: task.id, node: task.node, pid: task.pid, pstart: task.pstart, starttime: task.starttime, status: task.endtime === undefined ? "running" : "stopped", type: task.type, upid: task.upid, user: task.user };
      if (task.endtime !== undefined) r.exitstatus = task.status;
      return r;
    },
  },
];

module.exports = { pveshRoutes, UPID_RE, startTask, finishTask, findTask, stamp, renderBytes, duration, runQmigrate, nodeIp, LOCAL_STORAGES };
