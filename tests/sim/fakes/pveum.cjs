"use strict";
// Fake `pveum` (proxmox/pve-access-control src/PVE/CLI/pveum.pm + API2/{User,Role,ACL}.pm).
// Implemented: user add|modify|delete|list, user token add|modify|delete|remove|list,
// role add|modify|delete|list, acl modify|delete|list, and the old aliases
// (useradd, usermod, userdel, roleadd, rolemod, roledel, aclmod, acldel).
//
// State: state.access.dbs[key] is one /etc/pve/user.cfg, shared by a cluster ("cluster:<name>") or
// private to a standalone node ("node:<name>"). A cluster's database starts as a copy of its first
// member's standalone one (pvecm create keeps the creator's /etc/pve). The stored form is the "raw"
// file: every invocation parses it like PVE::AccessControl::parse_user_config, printing
// "user config - ignore ..." warnings on stderr for privileges the running version does not know
// (VM.Monitor after an upgrade to 9), ACL entries of deleted tokens or roles, and keeps the parsed
// form when it writes. So a `token remove` leaves a stale ACL line that warns until the next write.
// Token secrets are stored as sha256 (tokenHash), never in clear.
//
// Version differences (by the running node's pveVersion):
//   PVE 9: no VM.Monitor; VM.GuestAgent.{Audit,FileRead,FileWrite,FileSystemMgmt,Unrestricted}, VM.Replicate.
//   PVE 8.0/8.1 (libpve-access-control < 8.1.2): no Sys.AccessNetwork; no `user token delete` (only remove).
//   `user token modify --regenerate` only from PVE 9.2 (libpve-access-control 9.1.0, 2026-04);
//   older versions fail in Getopt: "Unknown option: regenerate" + "400 unable to parse option" + usage.
const crypto = require("node:crypto");
const lib = require("./lib.cjs");

// ---------------------------------------------------------------------------------------------
// privileges ($privgroups of AccessControl.pm)

function privGroups(version) {
  const { major, minor } = lib.parseVersion(version);
  const pve9 = major >= 9;
  const accessNetwork = major > 8 || (major === 8 && minor >= 2);
  return {
    VM: {
      root: [],
      admin: [
        "VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.HWType", "VM.Config.Options",
        "VM.Allocate", "VM.Clone", ...(pve9 ? ["VM.GuestAgent.Unrestricted"] : []), "VM.Migrate",
        ...(pve9 ? ["VM.Replicate"] : ["VM.Monitor"]), "VM.Snapshot", "VM.Snapshot.Rollback",
      ],
      user: [
        "VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.Backup",
        ...(pve9 ? ["VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite"] : []), "VM.PowerMgmt",
      ],
      audit: ["VM.Audit", ...(pve9 ? ["VM.GuestAgent.Audit"] : [])],
    },
    Sys: {
      root: ["Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", ...(accessNetwork ? ["Sys.AccessNetwork"] : [])],
      admin: ["Sys.Console", "Sys.Syslog"],
      user: [],
      audit: ["Sys.Audit"],
    },
    Datastore: { root: [], admin: ["Datastore.Allocate", "Datastore.AllocateTemplate"], user: ["Datastore.AllocateSpace"], audit: ["Datastore.Audit"] },
    SDN: { root: [], admin: ["SDN.Allocate", "SDN.Audit"], user: ["SDN.Use"], audit: ["SDN.Audit"] },
    User: { root: ["Realm.Allocate"], admin: ["User.Modify", "Group.Allocate", "Realm.AllocateUser"], user: [], audit: [] },
    Pool: { root: [], admin: ["Pool.Allocate"], user: ["Pool.Audit"], audit: ["Pool.Audit"] },
    Mapping: { root: [], admin: ["Mapping.Modify"], user: ["Mapping.Use"], audit: ["Mapping.Audit"] },
  };
}

/** { valid: Set, special: { role: Set } } like create_roles(). */
function accessModel(version) {
  const groups = privGroups(version);
  const valid = new Set(["Permissions.Modify"]);
  const special = { NoAccess: new Set(), Administrator: valid };
  const add = (role, privs) => {
    special[role] ??= new Set();
    for (const p of privs) special[role].add(p);
  };
  for (const [cat, cd] of Object.entries(groups)) {
    for (const p of [...cd.root, ...cd.admin, ...cd.user, ...cd.audit]) valid.add(p);
    add(`PVE${cat}Admin`, [...cd.admin, ...cd.user, ...cd.audit]);
    add("PVEAdmin", [...cd.admin, ...cd.user, ...cd.audit]);
    if (cd.user.length) add(`PVE${cat}User`, [...cd.user, ...cd.audit]);
    add("PVEAuditor", cd.audit);
  }
  special.PVEAdmin.delete("Mapping.Modify");
  special.PVETemplateUser = new Set(["VM.Clone", "VM.Audit"]);
  return { valid, special };
}

function versionAtLeast(version, major, minor) {
  const v = lib.parseVersion(version);
  return v.major > major || (v.major === major && v.minor >= minor);
}

// ---------------------------------------------------------------------------------------------
// the user database

const ROOT_USER = { enable: 1, expire: 0, email: "root@localhost", tokens: {} };

function freshDb() {
  return { users: { "root@pam": structuredClone(ROOT_USER) }, roles: {}, acl: [] };
}

function dbKey(state, nodeName) {
  const node = state.nodes[nodeName];
  return node.cluster ? `cluster:${node.cluster}` : `node:${nodeName}`;
}

/** The raw database of this node (creating it lazily inside a mutate, or virtually for reads). */
function rawDb(state, nodeName, create) {
  state.access ??= { dbs: {} };
  state.access.dbs ??= {};
  const key = dbKey(state, nodeName);
  let db = state.access.dbs[key];
  if (!db) {
    const cluster = lib.clusterOf(state, nodeName);
    const first = cluster && [...cluster.nodes].sort((a, b) => a.nodeid - b.nodeid)[0];
    const seed = first && state.access.dbs[`node:${first.name}`];
    db = seed ? structuredClone(seed) : freshDb();
    if (create) state.access.dbs[key] = db;
  }
  return db;
}

const splitList = (s) => String(s ?? "").split(/[\s,;]+/).filter((x) => x !== "");
const tokenOf = (ugid) => {
  const m = /^([^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$/.exec(ugid);
  return m ? { user: m[1], token: m[2] } : null;
};

/** parse_user_config: the view PVE works with, plus the warnings the parser prints. */
function parseDb(raw, model) {
  const warnings = [];
  const db = { users: structuredClone(raw.users), roles: {}, acl: [] };
  for (const [role, privs] of Object.entries(raw.roles)) {
    db.roles[role] = [];
    for (const p of privs) {
      if (model.valid.has(p)) db.roles[role].push(p);
      else warnings.push(`user config - ignore invalid privilege '${p}'`);
    }
  }
  const roleExists = (r) => !!db.roles[r] || !!model.special[r];
  for (const e of raw.acl) {
    if (!roleExists(e.roleid)) {
      warnings.push(`user config - ignore invalid acl role '${e.roleid}'`);
      continue;
    }
    if (e.type === "token") {
      const t = tokenOf(e.ugid);
      if (!t || !db.users[t.user] || !db.users[t.user].tokens[t.token]) {
        warnings.push(`user config - ignore invalid acl token '${e.ugid}'`);
        continue;
      }
    } else if (e.type === "user" && !db.users[e.ugid]) {
      warnings.push(`user config - ignore invalid acl member '${e.ugid}'`);
    }
    db.acl.push({ ...e });
  }
  return { db, warnings };
}

// ---------------------------------------------------------------------------------------------
// command-line handling

const FORMAT_OPTIONS = { "output-format": "string", noborder: "boolean", noheader: "boolean", quiet: "boolean", "human-readable": "boolean" };

/**
 * Getopt::Long rejects options the method does not define before any schema check:
 * "Unknown option: x" (a Getopt warning) + "400 unable to parse option" + the usage line.
 */
function parse(argv, schema) {
  const names = Object.keys(schema.options || {});
  for (const a of argv) {
    if (a === "--") break;
    const m = /^--?([A-Za-z][A-Za-z0-9_-]*)(=.*)?$/.exec(a);
    if (!m) continue;
    const raw = m[1];
    const known = names.includes(raw) || names.filter((n) => n.startsWith(raw)).length === 1;
    if (!known) lib.die(`Unknown option: ${raw}\n400 unable to parse option\n${schema.usage}\n`);
  }
  return lib.parseCli(argv, schema);
}

function format(opts) {
  const f = opts["output-format"] ?? "text";
  return f;
}

function print(data, opts, extra = {}) {
  lib.printApiResult(data, format(opts), { quiet: !!opts.quiet, noborder: !!opts.noborder, noheader: !!opts.noheader, ...extra });
}

function verifyUserid(userid, usage, field = "userid") {
  const len = userid.length;
  let problem = null;
  if (len < 3) problem = `user name '${userid}' is too short`;
  else if (len > 64) problem = `user name '${userid}' is too long (${len} > 64)`;
  else if (!/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(userid)) problem = `value '${userid}' does not look like a valid user name`;
  if (problem) lib.paramError({ [field]: `invalid format - ${problem}` }, usage);
}

function verifyPrivs(privs, model, usage) {
  for (const p of splitList(privs)) {
    if (!model.valid.has(p)) lib.paramError({ privs: `invalid format - invalid privilege '${p}'` }, usage);
  }
}

function verifyRoleid(roleid, usage, field = "roleid") {
  if (!/^[A-Za-z0-9.\-_]+$/.test(roleid)) lib.paramError({ [field]: `invalid format - role name '${roleid}' contains invalid characters` }, usage);
}

function normalizePath(p) {
  if (!p) return null;
  let path = p.replace(/\/+/g, "/").replace(/\/$/, "");
  if (!path) path = "/";
  if (!path.startsWith("/")) path = "/" + path;
  return /^[A-Za-z0-9.\-_/]+$/.test(path) ? path : null;
}

const CHECK_PATH =
  /^(\/|\/access|\/access\/groups|\/access\/groups\/[A-Za-z0-9.\-_]+|\/access\/realm|\/access\/realm\/[A-Za-z0-9.\-_]+|\/nodes|\/nodes\/[A-Za-z0-9.\-_]+|\/pool|\/pool\/[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}|\/sdn(?:\/[A-Za-z0-9.\-_/]+)?|\/storage|\/storage\/[A-Za-z0-9.\-_]+|\/vms|\/vms\/\d+|\/mapping(?:\/[A-Za-z0-9.\-_/]+)?)$/;

// ---------------------------------------------------------------------------------------------

class Ctx {
  constructor(sim) {
    this.sim = sim;
    const { state, node } = sim.self();
    this.version = node.pveVersion;
    this.model = accessModel(node.pveVersion);
    const { db, warnings } = parseDb(rawDb(state, node.name, false), this.model);
    this.db = db;
    // RPCEnvironment::init_request parses user.cfg for every command: warnings come first.
    for (const w of warnings) lib.err(w + "\n");
  }

  role(name) {
    if (this.db.roles[name]) return { privs: this.db.roles[name], special: false };
    if (this.model.special[name]) return { privs: [...this.model.special[name]], special: true };
    return null;
  }

  /** lock_user_config: cfs lock (needs quorum), re-read, apply, write the parsed form. */
  write(errmsg, fn) {
    let result;
    this.sim.mutate((state) => {
      const cluster = lib.clusterOf(state, this.sim.nodeName);
      if (cluster && !lib.quorumInfo(state, cluster).quorate) lib.die(`${errmsg}: cfs-lock 'file-user_cfg' error: no quorum!\n`);
      const raw = rawDb(state, this.sim.nodeName, true);
      const { db } = parseDb(raw, this.model);
      try {
        result = fn(db);
      } catch (e) {
        if (e instanceof lib.DieError && e.message) throw new lib.DieError(`${errmsg}: ${e.message}`, e.code);
        throw e;
      }
      state.access.dbs[dbKey(state, this.sim.nodeName)] = db;
    });
    return result;
  }
}

function checkUser(db, userid) {
  if (!db.users[userid]) lib.die(`no such user ('${userid}')\n`);
  return db.users[userid];
}

function checkToken(db, userid, tokenid) {
  const user = checkUser(db, userid);
  if (!user.tokens[tokenid]) lib.die(`no such token '${tokenid}' for user '${userid}'\n`);
  return user.tokens[tokenid];
}

const tokenHash = (value) => crypto.createHash("sha256").update(value).digest("hex");

// ---------------------------------------------------------------------------------------------
// user

const USER_OPTS = { comment: "string", email: "string", enable: "boolean", expire: "integer", firstname: "string", lastname: "string", groups: "string", keys: "string" };

const USER = {
  add(ctx, argv) {
    const usage = "pveum user add <userid> [OPTIONS]";
    const { args, opts } = parse(argv, { usage, args: ["userid"], options: { ...USER_OPTS, password: "string" } });
    verifyUserid(args.userid, usage);
    const realm = args.userid.split("@").pop();
    ctx.write("create user failed", (db) => {
      if (!["pam", "pve"].includes(realm)) lib.die(`auth domain '${realm}' does not exist\n`);
      if (db.users[args.userid]) lib.die(`user '${args.userid}' already exists\n`);
      if (opts.groups) lib.die(`no such group '${splitList(opts.groups)[0]}'\n`);
      const u = { enable: opts.enable ?? 1, tokens: {} };
      if (opts.expire) u.expire = opts.expire;
      for (const k of ["firstname", "lastname", "email", "comment", "keys"]) if (opts[k]) u[k] = opts[k];
      db.users[args.userid] = u;
    });
    return 0;
  },

  modify(ctx, argv) {
    const usage = "pveum user modify <userid> [OPTIONS]";
    const { args, opts } = parse(argv, { usage, args: ["userid"], options: { ...USER_OPTS, append: "boolean" } });
    verifyUserid(args.userid, usage);
    ctx.write("update user failed", (db) => {
      const u = checkUser(db, args.userid);
      if (opts.groups) lib.die(`no such group '${splitList(opts.groups)[0]}'\n`);
      if (opts.enable !== undefined) u.enable = opts.enable;
      if (opts.expire !== undefined) u.expire = opts.expire;
      for (const k of ["firstname", "lastname", "email", "comment", "keys"]) {
        if (opts[k] !== undefined) {
          if (opts[k] === "") delete u[k];
          else u[k] = opts[k];
        }
      }
    });
    return 0;
  },

  delete(ctx, argv) {
    const usage = "pveum user delete <userid>";
    const { args } = parse(argv, { usage, args: ["userid"], options: {} });
    verifyUserid(args.userid, usage);
    ctx.write("delete user failed", (db) => {
      // API2::User::delete_user: no existence check; the user, its tokens and its (user) ACLs go.
      delete db.users[args.userid];
      db.acl = db.acl.filter((e) => !(e.type === "user" && e.ugid === args.userid));
    });
    return 0;
  },

  list(ctx, argv) {
    const usage = "pveum user list  [OPTIONS] [FORMAT_OPTIONS]";
    const { opts } = parse(argv, { usage, args: [], options: { enabled: "boolean", full: "boolean", ...FORMAT_OPTIONS } });
    const rows = [];
    for (const userid of Object.keys(ctx.db.users).sort()) {
      const u = ctx.db.users[userid];
      const row = { userid, enable: u.enable ?? 1, expire: u.expire ?? 0, "realm-type": userid.split("@").pop() };
      for (const k of ["firstname", "lastname", "email", "comment", "keys"]) if (u[k] !== undefined) row[k] = u[k];
      if (opts.enabled !== undefined && !!row.enable !== !!opts.enabled) continue;
      if (opts.full) {
        row.groups = "";
        row.tokens = Object.keys(u.tokens).sort().map((t) => tokenInfo(t, u.tokens[t]));
      }
      rows.push(row);
    }
    print(rows, opts, { columns: ["userid", "enable", "expire", "firstname", "lastname", "email", "comment"] });
    return 0;
  },
};

function tokenInfo(tokenid, t) {
  const row = { tokenid, privsep: t.privsep, expire: t.expire ?? 0 };
  if (t.comment) row.comment = t.comment;
  return row;
}

// ---------------------------------------------------------------------------------------------
// user token

const TOKEN_OPTS = { comment: "string", expire: "integer", privsep: "boolean" };

function tokenArgs(argv, usage, options) {
  const r = parse(argv, { usage, args: ["userid", "tokenid"], options });
  verifyUserid(r.args.userid, usage);
  if (!/^[A-Za-z][A-Za-z0-9.\-_]+$/.test(r.args.tokenid)) lib.paramError({ tokenid: "invalid format - value does not match the regex pattern" }, usage);
  return r;
}

/** The raw CLI value of a boolean option (pveum keeps it as the string it was given). */
function rawBool(argv, name) {
  for (let i = 0; i < argv.length; i++) {
    const m = new RegExp(`^--?${name}(?:=(.*))?$`).exec(argv[i]);
    if (m) return m[1] ?? (argv[i + 1] !== undefined && /^(0|1)$/.test(argv[i + 1]) ? argv[i + 1] : "1");
  }
  return undefined;
}

const TOKEN = {
  add(ctx, argv) {
    const usage = "pveum user token add <userid> <tokenid> [OPTIONS] [FORMAT_OPTIONS]";
    const { args, opts } = tokenArgs(argv, usage, { ...TOKEN_OPTS, ...FORMAT_OPTIONS });
    // before the lock: user check (plain die), then the 400 "already exists"
    checkUser(ctx.db, args.userid);
    if (ctx.db.users[args.userid].tokens[args.tokenid]) lib.paramError({ tokenid: "Token already exists." }, usage);
    const value = crypto.randomUUID();
    const rawPrivsep = rawBool(argv, "privsep");
    const info = ctx.write("generating token failed", (db) => {
      const user = checkUser(db, args.userid);
      if (user.tokens[args.tokenid]) lib.die("Token already exists.\n");
      const t = { privsep: opts.privsep ?? 1, tokenHash: tokenHash(value) };
      if (opts.expire !== undefined) t.expire = opts.expire;
      if (opts.comment) t.comment = opts.comment;
      user.tokens[args.tokenid] = t;
      // the API returns the params as given: privsep is the string from the command line
      const i = { privsep: rawPrivsep ?? 1 };
      if (opts.expire !== undefined) i.expire = opts.expire;
      if (opts.comment) i.comment = opts.comment;
      return i;
    });
    print({ "full-tokenid": `${args.userid}!${args.tokenid}`, info, value }, opts);
    return 0;
  },

  modify(ctx, argv) {
    const usage = "pveum user token modify <userid> <tokenid> [OPTIONS] [FORMAT_OPTIONS]";
    const regenerateKnown = versionAtLeast(ctx.version, 9, 2);
    const { args, opts } = tokenArgs(argv, usage, {
      ...TOKEN_OPTS,
      delete: "string",
      ...(regenerateKnown ? { regenerate: "boolean" } : {}),
      ...FORMAT_OPTIONS,
    });
    checkToken(ctx.db, args.userid, args.tokenid);
    const rawPrivsep = rawBool(argv, "privsep");
    const value = opts.regenerate ? crypto.randomUUID() : undefined;
    const res = ctx.write("updating token info failed", (db) => {
      const t = checkToken(db, args.userid, args.tokenid);
      if (opts.privsep !== undefined) t.privsep = opts.privsep;
      if (opts.expire !== undefined) t.expire = opts.expire;
      if (opts.comment !== undefined) t.comment = opts.comment;
      if (!t.comment) delete t.comment;
      for (const k of splitList(opts.delete)) {
        if (k !== "comment") lib.paramError({ delete: `unknown option '${k}'` }, usage);
        delete t.comment;
      }
      if (value) t.tokenHash = tokenHash(value);
      const r = { privsep: rawPrivsep ?? t.privsep, expire: t.expire ?? 0 };
      if (t.comment) r.comment = t.comment;
      return r;
    });
    if (value) Object.assign(res, { value, "full-tokenid": `${args.userid}!${args.tokenid}` });
    print(res, opts);
    return 0;
  },

  remove(ctx, argv, name = "remove") {
    const usage = `pveum user token ${name} <userid> <tokenid> [FORMAT_OPTIONS]`;
    const { args } = tokenArgs(argv, usage, { ...FORMAT_OPTIONS });
    checkToken(ctx.db, args.userid, args.tokenid);
    ctx.write("deleting token failed", (db) => {
      checkToken(db, args.userid, args.tokenid);
      // The token's ACL lines stay in the written file (write_user_config does not check them);
      // the next parse drops them with "ignore invalid acl token".
      delete db.users[args.userid].tokens[args.tokenid];
    });
    return 0;
  },

  list(ctx, argv) {
    const usage = "pveum user token list <userid> [FORMAT_OPTIONS]";
    const { args, opts } = parse(argv, { usage, args: ["userid"], options: { ...FORMAT_OPTIONS } });
    verifyUserid(args.userid, usage);
    const user = checkUser(ctx.db, args.userid);
    const rows = Object.keys(user.tokens).sort().map((t) => tokenInfo(t, user.tokens[t]));
    print(rows, opts, { columns: ["tokenid", "comment", "expire", "privsep"] });
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------
// role

const ROLE = {
  add(ctx, argv) {
    const usage = "pveum role add <roleid> [OPTIONS]";
    const { args, opts } = parse(argv, { usage, args: ["roleid"], options: { privs: "string" } });
    verifyRoleid(args.roleid, usage);
    if (opts.privs !== undefined) verifyPrivs(opts.privs, ctx.model, usage);
    if (/^PVE/i.test(args.roleid)) lib.paramError({ roleid: "cannot use role ID starting with the (case-insensitive) 'PVE' namespace" }, usage);
    ctx.write("create role failed", (db) => {
      if (db.roles[args.roleid] || ctx.model.special[args.roleid]) lib.die(`role '${args.roleid}' already exists\n`);
      db.roles[args.roleid] = [...new Set(splitList(opts.privs))].sort();
    });
    return 0;
  },

  modify(ctx, argv) {
    const usage = "pveum role modify <roleid> [OPTIONS]";
    const { args, opts } = parse(argv, { usage, args: ["roleid"], options: { privs: "string", append: "boolean" } });
    verifyRoleid(args.roleid, usage);
    if (opts.privs !== undefined) verifyPrivs(opts.privs, ctx.model, usage);
    if (opts.append && opts.privs === undefined) lib.paramError({ append: "parameter 'append' requires 'privs'" }, usage);
    if (ctx.model.special[args.roleid]) lib.die(`auto-generated role '${args.roleid}' cannot be modified\n`);
    ctx.write("update role failed", (db) => {
      if (!db.roles[args.roleid]) lib.die(`role '${args.roleid}' does not exist\n`);
      const base = opts.append ? db.roles[args.roleid] : [];
      db.roles[args.roleid] = [...new Set([...base, ...splitList(opts.privs)])].sort();
    });
    return 0;
  },

  delete(ctx, argv) {
    const usage = "pveum role delete <roleid>";
    const { args } = parse(argv, { usage, args: ["roleid"], options: {} });
    verifyRoleid(args.roleid, usage);
    if (ctx.model.special[args.roleid]) lib.die(`auto-generated role '${args.roleid}' cannot be deleted\n`);
    ctx.write("delete role failed", (db) => {
      if (!db.roles[args.roleid]) lib.die(`role '${args.roleid}' does not exist\n`);
      // "fixme: delete role from acl?": the ACL lines stay and warn on the next parse.
      delete db.roles[args.roleid];
    });
    return 0;
  },

  list(ctx, argv) {
    const usage = "pveum role list  [FORMAT_OPTIONS]";
    const { opts } = parse(argv, { usage, args: [], options: { ...FORMAT_OPTIONS } });
    const names = new Set([...Object.keys(ctx.db.roles), ...Object.keys(ctx.model.special)]);
    const rows = [...names].sort().map((roleid) => {
      const r = ctx.role(roleid);
      return { roleid, privs: [...r.privs].sort().join(","), special: r.special ? 1 : 0 };
    });
    print(rows, opts, { columns: ["roleid", "privs", "special"] });
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------
// acl

function aclUpdate(ctx, argv, del) {
  const verb = del ? "delete" : "modify";
  const usage = `pveum acl ${verb} <path> --roles <string> [OPTIONS]`;
  const { args, opts } = parse(argv, {
    usage,
    args: ["path"],
    options: { roles: "string", users: "string", groups: "string", tokens: "string", propagate: "boolean" },
  });
  if (opts.roles === undefined) lib.paramError({ roles: "property is missing and it is not optional" }, usage);
  for (const r of splitList(opts.roles)) verifyRoleid(r, usage, "roles");
  for (const u of splitList(opts.users)) verifyUserid(u, usage, "users");
  for (const t of splitList(opts.tokens)) if (!tokenOf(t)) lib.paramError({ tokens: `invalid format - value '${t}' does not look like a valid token ID` }, usage);
  if (!opts.users && !opts.groups && !opts.tokens) {
    lib.paramError(
      {
        groups: "either 'users', 'groups' or 'tokens' is required.",
        tokens: "either 'users', 'groups' or 'tokens' is required.",
        users: "either 'users', 'groups' or 'tokens' is required.",
      },
      usage,
    );
  }
  const path = normalizePath(args.path);
  if (!path || (!del && !CHECK_PATH.test(path))) lib.paramError({ path: `invalid ACL path '${args.path}'` }, usage);
  const propagate = opts.propagate === undefined ? 1 : opts.propagate ? 1 : 0;
  ctx.write("ACL update failed", (db) => {
    const set = (type, ugid, roleid) => {
      db.acl = db.acl.filter((e) => !(e.path === path && e.type === type && e.ugid === ugid && e.roleid === roleid));
      if (!del) db.acl.push({ path, type, ugid, roleid, propagate });
    };
    for (const role of splitList(opts.roles)) {
      if (!db.roles[role] && !ctx.model.special[role]) lib.die(`role '${role}' does not exist\n`);
      for (const g of splitList(opts.groups)) lib.die(`group '${g}' does not exist\n`);
      for (const u of splitList(opts.users)) {
        if (!db.users[u]) lib.die(`user '${u}' does not exist\n`);
        set("user", u, role);
      }
      for (const t of splitList(opts.tokens)) {
        const { user, token } = tokenOf(t);
        checkToken(db, user, token);
        set("token", t, role);
      }
    }
  });
  return 0;
}

const TYPE_ORDER = { user: 0, group: 1, token: 2 };

const ACL = {
  modify: (ctx, argv) => aclUpdate(ctx, argv, false),
  delete: (ctx, argv) => aclUpdate(ctx, argv, true),
  list(ctx, argv) {
    const usage = "pveum acl list  [FORMAT_OPTIONS]";
    const { opts } = parse(argv, { usage, args: [], options: { ...FORMAT_OPTIONS } });
    const rows = [...ctx.db.acl]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || a.ugid.localeCompare(b.ugid) || a.roleid.localeCompare(b.roleid)))
      .map((e) => ({ path: e.path, propagate: e.propagate, roleid: e.roleid, type: e.type, ugid: e.ugid }));
    print(rows, opts, { columns: ["path", "type", "ugid", "roleid", "propagate"] });
    return 0;
  },
};

// ---------------------------------------------------------------------------------------------

const USAGES = [
  "pveum acl delete <path> --roles <string> [OPTIONS]",
  "pveum acl list  [FORMAT_OPTIONS]",
  "pveum acl modify <path> --roles <string> [OPTIONS]",
  "pveum role add <roleid> [OPTIONS]",
  "pveum role delete <roleid>",
  "pveum role list  [FORMAT_OPTIONS]",
  "pveum role modify <roleid> [OPTIONS]",
  "pveum user add <userid> [OPTIONS]",
  "pveum user delete <userid>",
  "pveum user list  [OPTIONS] [FORMAT_OPTIONS]",
  "pveum user modify <userid> [OPTIONS]",
  "pveum user token add <userid> <tokenid> [OPTIONS] [FORMAT_OPTIONS]",
  "pveum user token list <userid> [FORMAT_OPTIONS]",
  "pveum user token modify <userid> <tokenid> [OPTIONS] [FORMAT_OPTIONS]",
  "pveum user token remove <userid> <tokenid> [FORMAT_OPTIONS]",
];

const ALIASES = {
  useradd: ["user", "add"],
  usermod: ["user", "modify"],
  userdel: ["user", "delete"],
  roleadd: ["role", "add"],
  rolemod: ["role", "modify"],
  roledel: ["role", "delete"],
  aclmod: ["acl", "modify"],
  acldel: ["acl", "delete"],
};

lib.main(() => {
  const sim = lib.context();
  let argv = process.argv.slice(2);
  if (ALIASES[argv[0]]) argv = [...ALIASES[argv[0]], ...argv.slice(1)];
  const [group, sub, ...rest] = argv;
  const tables = { user: USER, role: ROLE, acl: ACL };
  if (!Object.prototype.hasOwnProperty.call(tables, group)) lib.unknownCommand("pveum", group, USAGES);
  if (group === "user" && sub === "token") {
    const [tsub, ...trest] = rest;
    const deleteKnown = versionAtLeast(sim.self().node.pveVersion, 8, 2);
    if (tsub === "remove" || (tsub === "delete" && deleteKnown)) return TOKEN.remove(new Ctx(sim), trest, tsub);
    if (!["add", "modify", "list"].includes(tsub)) lib.unknownCommand("pveum", tsub === undefined ? undefined : `user token ${tsub}`, USAGES);
    return TOKEN[tsub](new Ctx(sim), trest);
  }
  const table = tables[group];
  if (!Object.prototype.hasOwnProperty.call(table, sub)) lib.unknownCommand("pveum", sub === undefined ? undefined : `${group} ${sub}`, USAGES);
  return table[sub](new Ctx(sim), rest);
});
