"use strict";
/**
 * Shared library for the simulated Proxmox cluster's fake tools.
 *
 * HOW THE FAKES RUN
 *   Every file in this directory except lib.cjs is one fake tool. tests/sim/cluster.ts writes a
 *   tiny shell shim per tool into a directory that is bind-mounted over /usr/local/sbin inside
 *   each node's namespace (first in sshd's PATH), e.g.
 *       #!/bin/sh
 *       PVE_SIM_TOOL=pvecm exec /usr/bin/node /…/tests/sim/fakes/pvecm.cjs "$@"
 *   The tool name is the file name (pvecm.cjs -> pvecm). A file that implements several tools
 *   names them in a header line `// @tools apt-get apt systemctl`, see system.cjs; the shim
 *   sets PVE_SIM_TOOL so the file knows which one it is. A file whose header says `// @tools`
 *   with nothing after it (like this one) gets no shim.
 *   The environment gives each invocation its node and the shared state directory:
 *       PVE_SIM_NODE=<node name>   PVE_SIM_STATE=<state dir>
 *
 * STATE (one JSON document, <state dir>/state.json)
 *   {
 *     format: 1,
 *     sim:      { joinDelayMs, stderrChatter },  // knobs of the simulation itself (stderrChatter: see chatterFor)
 *     nodes: {  <name>: {
 *         name, ip,                              // ip = the node's loopback address (its sshd)
 *         addresses: [ip, …],                    // "local" IPs (pvecm add checks links against them)
 *         root,                                  // host path holding this node's /etc, /root, /home
 *         online: true|false,                    // false while its sshd is stopped ("node down")
 *         pveVersion, kernel, repoid, sslFingerprint, bootTime,
 *         guests: { <vmid>: { name, status: "running"|"stopped", template: bool, config: {k: v},
 *                             raw?: true (made by `qm create`: config is complete), nextDisk?: n } },
 *         cluster: null | <cluster name>, nodeid: null | n, links: { link0: addr, link1: addr },
 *     } },
 *     clusters: { <name>: {
 *         name, configVersion, ringSeq, expectedVotes (runtime `pvecm expected` override or null),
 *         authkey (base64), interfaces: { "0": { linknumber: 0, knet_link_priority? } },
 *         nodes: [ { name, nodeid, votes, ip, links: { link0: addr, … } } ],
 *     } },
 *     // later fakes add their own top-level sections (ceph, access, ha, …): create them lazily
 *     // inside mutate(), e.g. `state.ceph ??= { pools: {} }`. Never rename existing fields.
 *   }
 *   Read with sim.read() (no lock; writes are atomic renames). Change it ONLY through
 *   sim.mutate(state => …): it takes the state lock, re-reads, applies, writes atomically and then
 *   re-renders the files that pmxcfs would show (see renderPmxcfs). Other serialisation (e.g. the
 *   cluster-side corosync.conf lock, /var/lock/pvecm.lock) uses sim.withLock / withLockFile.
 *   Other files in the state dir: commands.jsonl (every SSH command, written by sshwrap.sh),
 *   tools.jsonl (argv of the system fakes), faults.sh (+ faults.fired/), locks/.
 *
 * PVE CONVENTIONS (see /work/shared/reference/pve-cli.md, section 0)
 *   die(msg)            -> message on stderr, exit 255 (Perl's die).   die(msg, 2) for errno leaks.
 *   paramError(errs, u) -> "400 Parameter verification failed." + "k: msg" lines + usage, exit 255.
 *   worker(fn, {upidExit}) -> a fork_worker task: all output (incl. warn) on stdout; a failure prints
 *                          only the folded message on stderr and exits 0 (255 with upidExit).
 *   toJson(v)           -> compact, keys sorted, like PVE's to_json(canonical). printApiResult()
 *                          implements --output-format json|json-pretty|text|yaml.
 *   Write output with out()/err() (synchronous), never console.log.
 *
 * Start a fake with:  lib.main(() => { const sim = lib.context(); … });
 */
// @tools

const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");

// ---------------------------------------------------------------------------------------------
// process / output helpers

class DieError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function writeAll(fd, text) {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code === "EAGAIN") {
        sleepMs(2);
        continue;
      }
      if (e.code === "EPIPE") return;
      throw e;
    }
  }
}
const out = (text) => writeAll(1, text);
const err = (text) => writeAll(2, text);
const line = (text = "") => out(text + "\n");

/** Perl `die "msg\n"`: stderr, exit 255 unless a code is given. */
function die(message, code = 255) {
  throw new DieError(message, code);
}

/** Exit with a code and no message (e.g. corosync-quorumtool's 2 for "not quorate"). */
function exit(code) {
  throw new DieError("", code);
}

/** 400 parameter exception, printed like PVE::Exception::stringify plus the usage line. */
function paramError(errors, usage) {
  let msg = "400 Parameter verification failed.\n";
  for (const [k, v] of Object.entries(errors)) msg += `${k}: ${v}\n`;
  if (usage) msg += usage + "\n";
  die(msg, 255);
}

/** A plain 400 (e.g. "not enough arguments") followed by the usage line. */
function usageError(message, usage) {
  die(`400 ${message}\n${usage}\n`, 255);
}

/**
 * Lock and progress lines the real tools print on stderr while they work, successful or not
 * (pve-cli.md 0.4): PVE::Tools::lock_file_full's "trying to acquire lock... OK" and
 * PVE::Cluster's "trying to acquire cfs lock '<id>' ...". Only with the knob sim.stderrChatter,
 * so tests can check that providers judge the node's state, not stderr.
 */
function chatterFor(tool, argv) {
  const words = argv.filter((a) => !a.startsWith("-"));
  const sub = words.slice(0, 2).join(" ");
  const flock = "trying to acquire lock... OK\n";
  const cfs = (id) => `trying to acquire cfs lock '${id}' ...\n`;
  if (tool === "pvecm" && (words[0] === "create" || words[0] === "add")) return flock + cfs("file-corosync_conf");
  if (tool === "pveceph" && sub === "pool create") return flock + (argv.includes("--add_storages") ? cfs("file-storage_cfg") : "");
  if (tool === "pveceph" && ["mon create", "mgr create", "osd create"].includes(sub)) return cfs("file-ceph_conf") + flock;
  if (tool === "qm" && ["create", "set", "importdisk", "resize", "template", "destroy", "clone", "migrate", "start", "stop", "shutdown"].includes(words[0])) return flock;
  if (tool === "pveum" && words.some((w) => ["add", "modify", "delete", "set", "update"].includes(w))) return cfs("file-user_cfg");
  return "";
}

function stderrChatter() {
  const stateDir = process.env.PVE_SIM_STATE;
  if (!stateDir) return "";
  try {
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, "state.json"), "utf8"));
    if (!state.sim || !state.sim.stderrChatter) return "";
  } catch {
    return "";
  }
  return chatterFor(process.env.PVE_SIM_TOOL || path.basename(process.argv[1], ".cjs"), process.argv.slice(2));
}

/** Entry point for every fake: runs fn, maps DieError to stderr + exit code. */
function main(fn) {
  let code = 0;
  try {
    const chatter = stderrChatter();
    if (chatter) err(chatter);
    const r = fn();
    if (typeof r === "number") code = r;
  } catch (e) {
    if (e instanceof DieError) {
      if (e.message) err(e.message.endsWith("\n") ? e.message : e.message + "\n");
      code = e.code;
    } else {
      err(`pve-sim internal error in ${process.env.PVE_SIM_TOOL || path.basename(process.argv[1])}: ${e && e.stack ? e.stack : e}\n`);
      code = 70;
    }
  }
  process.exit(code);
}

/**
 * Run fn as a fork_worker task (synchronous CLI worker). Output is whatever fn writes with out()
 * (warn lines included, since the worker merges stderr into stdout). If fn dies, only the
 * message goes to stderr with newlines folded to spaces; the exit code is 0 for commands without
 * upid_exit (pvecm create/add, qm template, pveceph pool …) and 255 with it.
 */
function worker(fn, { upidExit = false } = {}) {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DieError)) throw e;
    const msg = e.message.replace(/\n+$/, "").replace(/\n/g, " ");
    if (msg) err(msg + "\n");
    if (upidExit) die("", 255);
  }
}

function sleepMs(ms) {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---------------------------------------------------------------------------------------------
// stdin (synchronous, line by line, not over-reading beyond what a caller asked for)

let stdinBuf = Buffer.alloc(0);
let stdinEof = false;
/** Read one line from stdin; returns null on EOF with nothing read. Trailing "\n" removed. */
function readLine() {
  for (;;) {
    const nl = stdinBuf.indexOf(10);
    if (nl >= 0) {
      const l = stdinBuf.subarray(0, nl).toString("utf8");
      stdinBuf = stdinBuf.subarray(nl + 1);
      return l.replace(/\r$/, "");
    }
    if (stdinEof) {
      if (stdinBuf.length === 0) return null;
      const l = stdinBuf.toString("utf8");
      stdinBuf = Buffer.alloc(0);
      return l;
    }
    const chunk = Buffer.alloc(4096);
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") {
        sleepMs(5);
        continue;
      }
      if (e.code === "EOF" || e.code === "EBADF") n = 0;
      else throw e;
    }
    if (n === 0) stdinEof = true;
    else stdinBuf = Buffer.concat([stdinBuf, chunk.subarray(0, n)]);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON / output formats (PVE::CLIFormatter)

function sortKeysDeep(v) {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) o[k] = sortKeysDeep(v[k]);
    return o;
  }
  return v;
}
/** to_json($data, {canonical, allow_nonref}): compact, keys sorted. No trailing newline. */
function toJson(v) {
  return JSON.stringify(sortKeysDeep(v) ?? null);
}
/** to_json(pretty, canonical): 3-space indent, " : " separator (JSON::PP/XS style). */
function toJsonPretty(v, indent = "") {
  const i2 = indent + "   ";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return "[\n" + v.map((x) => i2 + toJsonPretty(x, i2)).join(",\n") + "\n" + indent + "]";
  }
  if (v && typeof v === "object") {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    if (keys.length === 0) return "{}";
    return "{\n" + keys.map((k) => `${i2}${JSON.stringify(k)} : ${toJsonPretty(v[k], i2)}`).join(",\n") + "\n" + indent + "}";
  }
  return JSON.stringify(v ?? null);
}

function toYaml(v, indent = "") {
  const scalar = (x) => {
    if (x === null || x === undefined) return "~";
    if (typeof x === "number" || typeof x === "boolean") return String(x);
    const s = String(x);
    return /^[A-Za-z0-9_./@:-][A-Za-z0-9_ ./@:,=-]*$/.test(s) && !/^(true|false|null|~|\d+(\.\d+)?)$/i.test(s) ? s : JSON.stringify(s);
  };
  if (Array.isArray(v)) {
    if (v.length === 0) return indent + "[]\n";
    return v
      .map((x) => {
        if (x && typeof x === "object") {
          const body = toYaml(x, indent + "  ");
          return indent + "- " + body.slice(indent.length + 2);
        }
        return indent + "- " + scalar(x) + "\n";
      })
      .join("");
  }
  if (v && typeof v === "object") {
    const keys = Object.keys(v).sort();
    if (keys.length === 0) return indent + "{}\n";
    return keys
      .map((k) => {
        const x = v[k];
        if (x && typeof x === "object") return `${indent}${k}:\n` + toYaml(x, indent + "  ");
        return `${indent}${k}: ${scalar(x)}\n`;
      })
      .join("");
  }
  return indent + scalar(v) + "\n";
}

/** Box-drawing table like PVE's text output (close enough; the project always asks for JSON). */
function textTable(rows, columns, { border = true, header = true } = {}) {
  const cell = (v) => (v === undefined || v === null ? "" : typeof v === "object" ? toJson(v) : String(v));
  const widths = columns.map((c) => Math.max(header ? c.length : 0, ...rows.map((r) => cell(r[c]).length)));
  const fmt = (vals) =>
    border ? "│ " + vals.map((v, i) => v.padEnd(widths[i])).join(" │ ") + " │" : vals.map((v, i) => v.padEnd(widths[i])).join(" ").trimEnd();
  const rule = (l, m, r, f) => l + widths.map((w) => f.repeat(w + 2)).join(m) + r;
  const lines = [];
  if (border) lines.push(rule("┌", "┬", "┐", "─"));
  if (header) {
    lines.push(fmt(columns));
    if (border) lines.push(rule("╞", "╪", "╡", "═"));
  }
  rows.forEach((r, idx) => {
    lines.push(fmt(columns.map((c) => cell(r[c]))));
    if (border && idx < rows.length - 1) lines.push(rule("├", "┼", "┤", "─"));
  });
  if (border) lines.push(rule("└", "┴", "┘", "─"));
  return lines.join("\n") + "\n";
}

/** PVE::CLIFormatter::print_api_result */
function printApiResult(data, format = "text", opts = {}) {
  if (opts.quiet) return;
  switch (format) {
    case "json":
      out(toJson(data) + "\n");
      return;
    case "json-pretty":
      out(toJsonPretty(data) + "\n");
      return;
    case "yaml":
      out("---\n" + toYaml(data));
      return;
    default: {
      if (data === null || data === undefined) return;
      if (Array.isArray(data)) {
        if (data.length === 0) return;
        if (data.every((r) => r && typeof r === "object" && !Array.isArray(r))) {
          const cols = opts.columns || [...new Set(data.flatMap((r) => Object.keys(r)))].sort();
          out(textTable(data, cols, { border: !opts.noborder, header: !opts.noheader }));
        } else {
          for (const x of data) out((typeof x === "object" ? toJson(x) : String(x)) + "\n");
        }
        return;
      }
      if (typeof data === "object") {
        const rows = Object.keys(data)
          .sort()
          .map((k) => ({ key: k, value: data[k] }));
        out(textTable(rows, ["key", "value"], { border: !opts.noborder, header: !opts.noheader }));
        return;
      }
      out(String(data) + "\n");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// command-line parsing (PVE::JSONSchema::get_options, simplified)

const BOOL_VALUES = { 1: 1, 0: 0, true: 1, false: 0, yes: 1, no: 0, on: 1, off: 0 };

/**
 * schema: { usage: "pvecm add <hostname> [OPTIONS]", args: ["hostname"], optionalArgs: [],
 *           options: { link0: "string", use_ssh: "boolean", nodeid: "integer" },
 *           aliases: { "output": "output-format" } }
 * Options may be given as --opt v, --opt=v, -opt v; booleans may omit the value.
 * Unknown options and bad values raise the PVE 400 parameter error with the usage line.
 */
function parseCli(argv, schema) {
  const options = schema.options || {};
  const names = Object.keys(options);
  const opts = {};
  const positional = [];
  const errors = {};
  let i = 0;
  let endOfOpts = false;
  const resolveName = (raw) => {
    if (options[raw]) return raw;
    if (schema.aliases && schema.aliases[raw]) return schema.aliases[raw];
    const pref = names.filter((n) => n.startsWith(raw));
    return pref.length === 1 ? pref[0] : null; // Getopt::Long auto_abbrev
  };
  while (i < argv.length) {
    const a = argv[i++];
    if (!endOfOpts && a === "--") {
      endOfOpts = true;
      continue;
    }
    if (!endOfOpts && /^--?[A-Za-z]/.test(a)) {
      let raw = a.replace(/^--?/, "");
      let value;
      const eq = raw.indexOf("=");
      if (eq >= 0) {
        value = raw.slice(eq + 1);
        raw = raw.slice(0, eq);
      }
      const name = resolveName(raw);
      if (!name) {
        errors[raw] = "property is not defined in schema and the schema does not allow additional properties";
        continue;
      }
      const type = options[name];
      if (type === "boolean") {
        if (value === undefined && i < argv.length && Object.prototype.hasOwnProperty.call(BOOL_VALUES, String(argv[i]).toLowerCase())) value = argv[i++];
        if (value === undefined) value = "1";
        const b = BOOL_VALUES[String(value).toLowerCase()];
        if (b === undefined) errors[name] = `type check ('boolean') failed - got '${value}'`;
        else opts[name] = b;
        continue;
      }
      if (value === undefined) {
        if (i >= argv.length) {
          die(`Option ${raw} requires an argument\n400 unable to parse option\n${schema.usage}\n`);
        }
        value = argv[i++];
      }
      if (type === "integer") {
        if (!/^-?\d+$/.test(value)) errors[name] = `type check ('integer') failed - got '${value}'`;
        else opts[name] = Number(value);
      } else if (type === "list") {
        (opts[name] ||= []).push(value);
      } else {
        opts[name] = value;
      }
      continue;
    }
    positional.push(a);
  }
  const args = {};
  const required = schema.args || [];
  const optional = schema.optionalArgs || [];
  if (Object.keys(errors).length) paramError(errors, schema.usage);
  if (positional.length < required.length) usageError("not enough arguments", schema.usage);
  if (positional.length > required.length + optional.length && !schema.restArgs) usageError("too many arguments", schema.usage);
  required.forEach((n, idx) => (args[n] = positional[idx]));
  optional.forEach((n, idx) => {
    if (positional[required.length + idx] !== undefined) args[n] = positional[required.length + idx];
  });
  const rest = positional.slice(required.length + optional.length);
  return { args, opts, rest };
}

/** PVE::CLIHandler's answer to an unknown or missing sub-command (stderr, exit 255). */
function unknownCommand(tool, cmd, usages) {
  let msg = cmd === undefined ? "ERROR: no command specified\n" : `ERROR: unknown command '${tool} ${cmd}'\n`;
  msg += `USAGE: ${tool} <COMMAND> [ARGS] [OPTIONS]\n`;
  for (const u of usages) msg += `       ${u}\n`;
  die(msg, 255);
}

// ---------------------------------------------------------------------------------------------
// locking

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

/**
 * Acquire an exclusive lock file (created with O_EXCL, holds our pid; stale locks of dead pids
 * are broken). Calls onWait() once if it has to wait. Returns a release function, or throws
 * die(timeoutMessage) after timeoutMs.
 */
function acquireLockFile(file, { timeoutMs = 10000, onWait, timeoutMessage } = {}) {
  const start = Date.now();
  let waited = false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (;;) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
    }
    let owner = NaN;
    let mtime = Date.now();
    try {
      owner = parseInt(fs.readFileSync(file, "utf8"), 10);
      mtime = fs.statSync(file).mtimeMs;
    } catch {
      continue; // vanished between open and read
    }
    if ((owner && !pidAlive(owner)) || (!owner && Date.now() - mtime > 2000)) {
      try {
        fs.unlinkSync(file);
      } catch {
        /* someone else broke it */
      }
      continue;
    }
    if (!waited) {
      waited = true;
      if (onWait) onWait();
    }
    if (Date.now() - start > timeoutMs) die(timeoutMessage || `can't lock file '${file}' - got timeout`);
    sleepMs(5 + Math.floor(Math.random() * 10));
  }
}

function withLockFile(file, opts, fn) {
  const release = acquireLockFile(file, opts);
  try {
    return fn();
  } finally {
    release();
  }
}

// ---------------------------------------------------------------------------------------------
// versions

const KNOWN_REPOIDS = { "8.4.14": "b502d23c55afcba1", "9.1.1": "42db4a6cf33dac83", "9.2.2": "b9984c6d90a4bd80" };

function parseVersion(v) {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v || "");
  if (!m) throw new Error(`bad pveVersion '${v}'`);
  return { major: +m[1], minor: +m[2], patch: +(m[3] || 0) };
}

function kernelFor(version) {
  const { major, minor } = parseVersion(version);
  if (major >= 9) return minor >= 1 ? "6.17.2-2-pve" : "6.14.11-4-pve";
  if (major === 8) return minor >= 2 ? "6.8.12-15-pve" : "6.5.13-6-pve";
  if (major === 7) return "5.15.158-2-pve";
  return "5.4.203-1-pve";
}

function repoidFor(version) {
  return KNOWN_REPOIDS[version] || crypto.createHash("sha1").update("pve-manager " + version).digest("hex").slice(0, 16);
}

/** `pveversion -v` package list (format "<pkg>: <version>"), plausible per major version. */
function packageVersions(node) {
  const { major, minor } = parseVersion(node.pveVersion);
  const k = node.kernel;
  const kv = k.replace(/-pve$/, "");
  const kseries = kv.split(".").slice(0, 2).join(".");
  const pm9 = major >= 9;
  return [
    [`proxmox-ve`, `${major}.${minor}.0 (running kernel: ${k})`],
    [`pve-manager`, `${node.pveVersion} (running version: ${node.pveVersion}/${node.repoid})`],
    [`proxmox-kernel-helper`, pm9 ? "9.0.4" : "8.1.4"],
    [`proxmox-kernel-${k}-signed`, kv],
    [`proxmox-kernel-${kseries}`, kv],
    [`ceph-fuse`, pm9 ? "19.2.3-pve1" : "17.2.8-pve2"],
    [`corosync`, pm9 ? "3.1.9-pve2" : "3.1.9-pve1"],
    [`criu`, pm9 ? "4.1.1-1" : "3.17.1-2+deb12u2"],
    [`ifupdown2`, pm9 ? "3.3.0-1+pmx10" : "3.2.0-1+pmx11"],
    [`libjs-extjs`, "7.0.0-5"],
    [`libknet1`, pm9 ? "1.30-pve3" : "1.30-pve2"],
    [`libpve-access-control`, pm9 ? "9.0.4" : "8.2.2"],
    [`libpve-apiclient-perl`, pm9 ? "3.4.0" : "3.3.2"],
    [`libpve-cluster-api-perl`, pm9 ? "9.0.7" : "8.1.2"],
    [`libpve-common-perl`, pm9 ? "9.0.13" : "8.3.4"],
    [`libpve-guest-common-perl`, pm9 ? "6.0.2" : "5.2.2"],
    [`libpve-storage-perl`, pm9 ? "9.0.18" : "8.3.7"],
    [`lxc-pve`, pm9 ? "6.0.5-3" : "6.0.0-1"],
    [`proxmox-backup-client`, pm9 ? "4.0.20-1" : "3.4.7-1"],
    [`pve-cluster`, pm9 ? "9.0.7" : "8.1.2"],
    [`pve-container`, pm9 ? "6.0.18" : "5.3.3"],
    [`pve-firewall`, pm9 ? "6.0.4" : "5.1.2"],
    [`pve-ha-manager`, pm9 ? "5.0.8" : "4.0.7"],
    [`qemu-server`, pm9 ? "9.1.0" : "8.4.4"],
    [`zfsutils-linux`, pm9 ? "2.3.4-pve1" : "2.2.8-pve1"],
  ];
}

function fingerprintFor(seed) {
  const h = crypto.createHash("sha256").update("pve-ssl " + seed).digest("hex").toUpperCase();
  return h.match(/../g).join(":");
}

/** Fresh state entry for a node (used by cluster.ts when it creates the state). */
function newNodeState({ name, ip, root, pveVersion = "8.4.14" }) {
  return {
    name,
    ip,
    addresses: [ip],
    root,
    online: true,
    pveVersion,
    kernel: kernelFor(pveVersion),
    repoid: repoidFor(pveVersion),
    sslFingerprint: fingerprintFor(`${name}/${ip}/${root}`),
    bootTime: Math.floor(Date.now() / 1000),
    guests: {},
    cluster: null,
    nodeid: null,
    links: {},
  };
}

// ---------------------------------------------------------------------------------------------
// cluster model helpers (pure functions over a state object)

function clusterOf(state, nodeName) {
  const n = state.nodes[nodeName];
  return n && n.cluster ? state.clusters[n.cluster] || null : null;
}

/** Nodes visible from nodeName: its cluster's members, or just itself. */
function visibleNodes(state, nodeName) {
  const c = clusterOf(state, nodeName);
  if (!c) return [state.nodes[nodeName]];
  return c.nodes.map((m) => state.nodes[m.name]).filter(Boolean);
}

/** votequorum arithmetic (corosync exec/votequorum.c calculate_quorum). */
function quorumInfo(state, cluster) {
  const members = [...cluster.nodes].sort((a, b) => a.nodeid - b.nodeid);
  // online = up and in this cluster's membership (a separated node stays listed until pvecm delnode)
  const online = members.filter((m) => state.nodes[m.name] && state.nodes[m.name].online && state.nodes[m.name].cluster === cluster.name);
  // A QDevice (qnetd-lib.cjs) adds its configured votes to the expected ones and votes while reachable.
  const qdevice = cluster.qdevice ? require("./qnetd-lib.cjs").qdeviceVotes(state, cluster, online.length) : 0;
  const configured = members.reduce((s, m) => s + (m.votes ?? 1), 0) + (cluster.qdevice ? cluster.qdevice.votes ?? 1 : 0);
  const totalVotes = online.reduce((s, m) => s + (m.votes ?? 1), 0) + qdevice;
  const expected = cluster.expectedVotes ?? Math.max(configured, totalVotes);
  const quorum = Math.max(Math.floor((expected + 2) / 2), Math.floor((totalVotes + 2) / 2));
  // cluster.quorumHeldUntilMs: a membership change still settling (pvecm.cjs test knob)
  const settling = !!cluster.quorumHeldUntilMs && Date.now() < cluster.quorumHeldUntilMs;
  return { members, online, expected, highest: expected, totalVotes, quorum, quorate: totalVotes >= quorum && !settling, qdevice };
}

/** Storages the fakes know: the installer's local ones plus every Ceph pool (RBD storage of the same name). */
function knownStorage(state, storage) {
  if (["local", "local-lvm", "local-zfs"].includes(storage)) return true;
  const clusters = state.ceph && state.ceph.clusters ? Object.values(state.ceph.clusters) : [];
  if (clusters.some((c) => c && c.pools && c.pools[storage])) return true;
  return !!(state.ceph && state.ceph.pools && state.ceph.pools[storage]);
}

/** A node addressed in a pvesh /nodes/{node}/… path: visible from here, and reachable unless it is this node. */
function apiTargetNode(state, self, name) {
  const n = visibleNodes(state, self.name).find((x) => x.name === name);
  if (!n) die(`hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known\n`);
  if (!n.online && n.name !== self.name) die(`proxy handler failed: ssh: connect to host ${n.ip} port 22: Connection refused\n`);
  return n;
}

function guestsOf(state, nodeName) {
  return state.nodes[nodeName] ? state.nodes[nodeName].guests : {};
}

/** Find a guest anywhere in nodeName's cluster view: { node, vmid, guest } or null. */
function findGuest(state, nodeName, vmid) {
  for (const n of visibleNodes(state, nodeName)) {
    const g = n.guests[String(vmid)];
    if (g) return { node: n.name, vmid: Number(vmid), guest: g };
  }
  return null;
}

function hexBytes(seed, n) {
  return crypto.createHash("sha256").update(seed).digest().subarray(0, n);
}
function uuidFor(seed) {
  const h = crypto.createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The full qemu-server config of a guest (defaults + what addGuest/qm set stored). */
function guestConfig(nodeName, vmid, guest) {
  const mac = ["BC", "24", "11", ...[...hexBytes(`${nodeName}/${vmid}/mac`, 3)].map((b) => b.toString(16).toUpperCase().padStart(2, "0"))].join(":");
  if (guest.raw) {
    // Created by the fake `qm create`: exactly what qm create/set stored, no addGuest defaults.
    const raw = {
      meta: `creation-qemu=9.2.0,ctime=${guest.ctime || 1735689600}`,
      name: guest.name,
      smbios1: `uuid=${uuidFor(`${nodeName}/${vmid}/smbios`)}`,
      vmgenid: uuidFor(`${nodeName}/${vmid}/vmgenid`),
      ...(guest.config || {}),
    };
    if (guest.template) raw.template = 1;
    return raw;
  }
  const disk = guest.template ? `base-${vmid}-disk-0` : `vm-${vmid}-disk-0`;
  const conf = {
    boot: "order=scsi0;net0",
    cores: 1,
    memory: 2048,
    meta: `creation-qemu=9.2.0,ctime=${guest.ctime || 1735689600}`,
    name: guest.name,
    net0: `virtio=${mac},bridge=vmbr0`,
    ostype: "l26",
    scsi0: `local-lvm:${disk},size=32G`,
    scsihw: "virtio-scsi-pci",
    smbios1: `uuid=${uuidFor(`${nodeName}/${vmid}/smbios`)}`,
    vmgenid: uuidFor(`${nodeName}/${vmid}/vmgenid`),
    ...(guest.config || {}),
  };
  if (guest.template) conf.template = 1;
  return conf;
}

function sizeToBytes(s) {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(s || "");
  if (!m) return 0;
  const mult = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]];
  return Math.round(parseFloat(m[1]) * mult);
}

function guestBootDiskBytes(conf) {
  for (const k of ["scsi0", "virtio0", "sata0", "ide0"]) {
    const m = conf[k] && /(?:^|,)size=([^,]+)/.exec(conf[k]);
    if (m) return sizeToBytes(m[1]);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// corosync.conf rendering (PVE::Corosync::create_conf + write_conf)

function corosyncConfObject(cluster) {
  const nodelist = {};
  for (const m of cluster.nodes) {
    const e = { name: m.name, nodeid: m.nodeid, quorum_votes: m.votes ?? 1 };
    for (const [k, addr] of Object.entries(m.links || {})) {
      const num = k.replace(/^link/, "");
      e[`ring${num}_addr`] = addr;
    }
    nodelist[m.name] = e;
  }
  const interfaces = {};
  for (const [num, iface] of Object.entries(cluster.interfaces || { 0: { linknumber: 0 } })) interfaces[num] = { ...iface };
  return {
    logging: { debug: "off", to_syslog: "yes" },
    nodelist: { node: nodelist },
    quorum: cluster.qdevice
      ? {
          device: {
            model: "net",
            net: { algorithm: cluster.qdevice.algorithm, host: cluster.qdevice.host, tls: cluster.qdevice.tls || "on" },
            votes: cluster.qdevice.votes ?? 1,
          },
          provider: "corosync_votequorum",
        }
      : { provider: "corosync_votequorum" },
    totem: {
      cluster_name: cluster.name,
      config_version: cluster.configVersion,
      interface: interfaces,
      ip_version: "ipv4-6",
      link_mode: "passive",
      secauth: "on",
      token_coefficient: 125,
      version: 2,
    },
  };
}

function renderCorosyncConf(cluster) {
  const c = corosyncConfObject(cluster);
  const hashToArray = (h) => Object.keys(h).sort().map((k) => h[k]);
  c.nodelist.node = hashToArray(c.nodelist.node);
  c.totem.interface = hashToArray(c.totem.interface);
  const dump = (section, prefix) => {
    let raw = "";
    for (const k of Object.keys(section).sort()) {
      const v = section[k];
      if (Array.isArray(v)) {
        for (const child of v) raw += `${prefix}${k} {\n${dump(child, prefix + "  ")}${prefix}}\n`;
      } else if (v && typeof v === "object") {
        raw += `${prefix}${k} {\n${dump(v, prefix + "  ")}${prefix}}\n`;
        if (!prefix) raw += "\n";
      } else {
        raw += `${prefix}${k}: ${v}\n`;
      }
    }
    return raw;
  };
  return dump(c, "");
}

/** join_info (GET /cluster/config/join): values parsed from corosync.conf are strings. */
function joinInfo(state, cluster, nodeName) {
  const conf = renderCorosyncConf(cluster);
  const obj = corosyncConfObject(cluster);
  const stringify = (o) => {
    if (o && typeof o === "object") {
      const r = {};
      for (const [k, v] of Object.entries(o)) r[k] = stringify(v);
      return r;
    }
    return String(o);
  };
  const nodelist = Object.values(obj.nodelist.node).map((e) => {
    const s = stringify(e);
    const n = state.nodes[e.name];
    s.pve_addr = n ? n.ip : e.ring0_addr;
    s.pve_fp = n ? n.sslFingerprint : undefined;
    return s;
  });
  return {
    config_digest: crypto.createHash("sha1").update(conf).digest("hex"),
    nodelist,
    preferred_node: nodeName,
    totem: stringify(obj.totem),
  };
}

// ---------------------------------------------------------------------------------------------
// files pmxcfs would show (rendered from state into every node's private /etc after each mutate)

function writeIfChanged(file, content) {
  try {
    if (Buffer.isBuffer(content) ? fs.readFileSync(file).equals(content) : fs.readFileSync(file, "utf8") === content) return;
  } catch {
    /* missing */
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp.${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

function guestConfText(conf) {
  return Object.keys(conf)
    .sort()
    .map((k) => `${k}: ${conf[k]}\n`)
    .join("");
}

/**
 * Make every node's /etc/pve (and /etc/corosync/authkey) match the state:
 *  - clustered node: /etc/pve/corosync.conf and /etc/corosync/authkey of its cluster
 *    (a standalone node's corosync.conf is left alone, so tests can plant stray files);
 *  - /etc/pve/nodes/<n>/qemu-server/<vmid>.conf for every guest the node can see (own guests,
 *    plus all members' when clustered); stale .conf files in those directories are removed.
 */
function renderPmxcfs(state) {
  for (const node of Object.values(state.nodes)) {
    if (!node.root || !fs.existsSync(node.root)) continue;
    const etc = path.join(node.root, "etc");
    const cluster = clusterOf(state, node.name);
    if (cluster) {
      writeIfChanged(path.join(etc, "pve", "corosync.conf"), renderCorosyncConf(cluster));
      writeIfChanged(path.join(etc, "corosync", "authkey"), Buffer.from(cluster.authkey, "base64"));
    }
    for (const owner of visibleNodes(state, node.name)) {
      const dir = path.join(etc, "pve", "nodes", owner.name, "qemu-server");
      const want = new Set();
      for (const [vmid, g] of Object.entries(owner.guests)) {
        want.add(`${vmid}.conf`);
        writeIfChanged(path.join(dir, `${vmid}.conf`), guestConfText(guestConfig(owner.name, vmid, g)));
      }
      if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) if (/^\d+\.conf$/.test(f) && !want.has(f)) fs.rmSync(path.join(dir, f), { force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the context: state dir + node of this invocation

function context(opts = {}) {
  const stateDir = opts.stateDir || process.env.PVE_SIM_STATE;
  const nodeName = opts.node !== undefined ? opts.node : process.env.PVE_SIM_NODE;
  if (!stateDir) die("pve-sim: PVE_SIM_STATE is not set (fake tool run outside a simulated node?)", 127);
  const stateFile = path.join(stateDir, "state.json");
  const lockDir = path.join(stateDir, "locks");

  const read = () => JSON.parse(fs.readFileSync(stateFile, "utf8"));
  const write = (state) => {
    const tmp = `${stateFile}.tmp.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(state, null, 1));
    fs.renameSync(tmp, stateFile);
  };
  const withLock = (name, opts2, fn) => withLockFile(path.join(lockDir, `${name}.lock`), opts2 || {}, fn);
  const mutate = (fn) =>
    withLock("state", { timeoutMs: 30000, timeoutMessage: "pve-sim: state lock timeout" }, () => {
      const state = read();
      const result = fn(state);
      write(state);
      renderPmxcfs(state);
      return result;
    });
  const self = () => {
    const s = read();
    const n = s.nodes[nodeName];
    if (!n) die(`pve-sim: unknown node '${nodeName}'`, 127);
    return { state: s, node: n };
  };
  const logTool = (tool, argv) => {
    fs.appendFileSync(path.join(stateDir, "tools.jsonl"), JSON.stringify({ node: nodeName, tool, argv, time: Date.now() }) + "\n");
  };
  /** The logged calls of `tools` on `node`, oldest first (what the package fakes replay). */
  const toolCalls = (node, tools) => {
    let log = "";
    try {
      log = fs.readFileSync(path.join(stateDir, "tools.jsonl"), "utf8");
    } catch {
      return [];
    }
    const calls = [];
    for (const text of log.split("\n")) {
      if (!text.trim()) continue;
      try {
        const e = JSON.parse(text);
        if (e.node === node && tools.includes(e.tool)) calls.push(e);
      } catch {
        // a line being written
      }
    }
    return calls;
  };
  return { stateDir, nodeName, stateFile, read, write, mutate, withLock, self, logTool, toolCalls };
}

/**
 * A package manager's verb and its package arguments from argv (apt-get, dnf): options are
 * skipped, with the value of those in `withValue`; everything after "--" is a word.
 */
function verbAndWords(argv, withValue) {
  let verb = null;
  const words = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (withValue.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    if (verb === null) verb = a;
    else words.push(a);
  }
  return { verb, words };
}

/** The OpenSSH line of a VM's ed25519 host key: a 32-byte key derived from its VMID and a seed. */
function guestHostKey(vmid, seed, name) {
  const key = crypto.createHash("sha256").update(`guest-host-key ${vmid} ${seed}`).digest();
  const type = Buffer.from("ssh-ed25519");
  const u32 = (n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const blob = Buffer.concat([u32(type.length), type, u32(key.length), key]);
  return `ssh-ed25519 ${blob.toString("base64")} root@${name}\n`;
}

module.exports = {
  DieError,
  guestHostKey,
  out,
  err,
  line,
  die,
  exit,
  paramError,
  usageError,
  main,
  chatterFor,
  worker,
  sleepMs,
  readLine,
  toJson,
  toJsonPretty,
  toYaml,
  textTable,
  printApiResult,
  parseCli,
  verbAndWords,
  unknownCommand,
  acquireLockFile,
  withLockFile,
  parseVersion,
  kernelFor,
  repoidFor,
  packageVersions,
  fingerprintFor,
  newNodeState,
  clusterOf,
  visibleNodes,
  quorumInfo,
  knownStorage,
  apiTargetNode,
  guestsOf,
  findGuest,
  guestConfig,
  guestBootDiskBytes,
  sizeToBytes,
  corosyncConfObject,
  renderCorosyncConf,
  joinInfo,
  renderPmxcfs,
  context,
};
