/**
 * Parsers for `pveum ... --output-format json` and for pveum's error texts
 * (pve-cli.md §4 and Appendix A rows 14–16). Pure functions.
 *
 * PVE prints booleans as 0/1 and, in `token add`, `info.privsep` as the
 * string "0"/"1"; everything is normalized here.
 */
import { asBool, asNumber, parseToolJson } from "./json";

export interface PveumRole {
  roleid: string;
  /** Sorted privilege names ("" in the JSON means none). */
  privs: string[];
  /** Built-in role (Administrator, PVEVMAdmin, ...). */
  special: boolean;
}

export interface PveumUser {
  userid: string;
  enable: boolean;
  expire: number;
  comment?: string;
}

export interface PveumAcl {
  path: string;
  type: "user" | "group" | "token";
  /** userid, group name, or full token id `user@realm!name`. */
  ugid: string;
  roleid: string;
  propagate: boolean;
}

export interface PveumToken {
  tokenid: string;
  privsep: boolean;
  expire: number;
  comment?: string;
}

/** A freshly generated (or regenerated) token. `value` is the secret. */
export interface PveumNewToken {
  fullTokenId: string;
  value: string;
  privsep: boolean;
}

function asArray(data: unknown, node: string, what: string): Record<string, unknown>[] {
  if (!Array.isArray(data)) throw new Error(`${node}: ${what} printed ${typeof data} instead of a JSON array`);
  return data.filter((x): x is Record<string, unknown> => !!x && typeof x === "object");
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : v === undefined || v === null ? undefined : String(v));

/** `pveum role list --output-format json`: `[{"privs":"A,B","roleid":"R","special":0}, ...]`. */
export function parseRoleList(stdout: string, node: string): PveumRole[] {
  return asArray(parseToolJson(stdout, node, "pveum role list"), node, "pveum role list").map((r) => ({
    roleid: str(r.roleid) ?? "",
    privs: (str(r.privs) ?? "")
      .split(/[\s,;]+/)
      .filter((p) => p !== "")
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    special: asBool(r.special),
  }));
}

/** `pveum user list --output-format json`. */
export function parseUserList(stdout: string, node: string): PveumUser[] {
  return asArray(parseToolJson(stdout, node, "pveum user list"), node, "pveum user list").map((u) => ({
    userid: str(u.userid) ?? "",
    // `enable` defaults to 1 when absent from user.cfg.
    enable: u.enable === undefined ? true : asBool(u.enable),
    expire: asNumber(u.expire) ?? 0,
    comment: str(u.comment),
  }));
}

/** `pveum acl list --output-format json`. */
export function parseAclList(stdout: string, node: string): PveumAcl[] {
  return asArray(parseToolJson(stdout, node, "pveum acl list"), node, "pveum acl list").map((a) => {
    const type = str(a.type);
    if (type !== "user" && type !== "group" && type !== "token") {
      throw new Error(`${node}: pveum acl list printed an entry of unknown type ${JSON.stringify(type)}`);
    }
    return {
      path: str(a.path) ?? "",
      type,
      ugid: str(a.ugid) ?? "",
      roleid: str(a.roleid) ?? "",
      // propagate defaults to 1 in PVE.
      propagate: a.propagate === undefined ? true : asBool(a.propagate),
    };
  });
}

/** `pveum user token list USER --output-format json` (privsep is a number here). */
export function parseTokenList(stdout: string, node: string): PveumToken[] {
  return asArray(parseToolJson(stdout, node, "pveum user token list"), node, "pveum user token list").map((t) => ({
    tokenid: str(t.tokenid) ?? "",
    // privsep defaults to 1 (token-privsep standard option).
    privsep: t.privsep === undefined ? true : asBool(t.privsep),
    expire: asNumber(t.expire) ?? 0,
    comment: str(t.comment),
  }));
}

/**
 * `pveum user token add ... --output-format json`:
 * `{"full-tokenid":"u@pve!t","info":{"privsep":"0"},"value":"<uuid>"}`.
 * Errors never include the printed text (it holds the secret).
 */
export function parseTokenAdd(stdout: string, node: string): PveumNewToken {
  return newToken(parseSecretJson(stdout, node, "pveum user token add"), node, "pveum user token add", true);
}

/**
 * `pveum user token modify ... --regenerate 1 --output-format json`: a flat
 * object, `{"expire":0,"full-tokenid":"u@pve!t","privsep":0,"value":"<uuid>"}`.
 */
export function parseTokenRegenerate(stdout: string, node: string): PveumNewToken {
  return newToken(parseSecretJson(stdout, node, "pveum user token modify"), node, "pveum user token modify", false);
}

function parseSecretJson(stdout: string, node: string, what: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(stdout.trim());
  } catch {
    // Never echo the output: it may contain the token secret.
    throw new Error(`${node}: ${what} did not print JSON (${stdout.trim().length} characters, not shown: may hold the token secret)`);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new Error(`${node}: ${what} did not print a JSON object`);
  return data as Record<string, unknown>;
}

function newToken(o: Record<string, unknown>, node: string, what: string, nested: boolean): PveumNewToken {
  const value = str(o.value);
  const fullTokenId = str(o["full-tokenid"]);
  if (!value || !fullTokenId) {
    throw new Error(`${node}: ${what} printed no ${!value ? "value" : "full-tokenid"} (keys: ${Object.keys(o).sort().join(", ")})`);
  }
  const info = nested && o.info && typeof o.info === "object" ? (o.info as Record<string, unknown>) : o;
  return { fullTokenId, value, privsep: info.privsep === undefined ? true : asBool(info.privsep) };
}

// ---------------------------------------------------------------------------------------------
// error texts

/** `no such user ('x@pve')` (user/token commands on a missing user). */
export function isNoSuchUser(stderr: string): boolean {
  return /no such user \('[^']*'\)/.test(stderr);
}

/** Appendix A row 14: `create user failed: user 'u@pve' already exists`. */
export function isUserExists(stderr: string): boolean {
  return /create user failed: user '[^']*' already exists/.test(stderr);
}

/** Appendix A row 15: `create role failed: role 'R' already exists`. */
export function isRoleExists(stderr: string): boolean {
  return /create role failed: role '[^']*' already exists/.test(stderr);
}

/**
 * Appendix A row 16: `400 Parameter verification failed.` + `tokenid: Token already exists.`
 * (the check before the lock), or `generating token failed: Token already exists.` (the
 * same check repeated inside the lock when two runs race).
 */
export function isTokenExists(stderr: string): boolean {
  return /tokenid: Token already exists\.|generating token failed: Token already exists\./.test(stderr);
}

/** `no such token 't' for user 'u@pve'` (token modify/remove, acl modify --tokens). */
export function isNoSuchToken(stderr: string): boolean {
  return /no such token '[^']*' for user '[^']*'/.test(stderr);
}

/**
 * Privileges pveum rejected. Real PVE checks the `pve-priv-list` format before
 * the handler runs (`400 Parameter verification failed.` /
 * `privs: invalid format - invalid privilege 'VM.Monitor'`, verbatim in several
 * public bug reports); pve-cli.md §4.2 reconstructs it as
 * `create role failed: invalid privilege 'VM.Monitor'`. Both are recognised.
 */
export function invalidPrivileges(stderr: string): string[] {
  return [...stderr.matchAll(/invalid privilege '([^']*)'/g)].map((m) => m[1]);
}

/**
 * `pveum user token modify --regenerate` on libpve-access-control < 9.1.0
 * (before April 2026: every PVE 8 and early PVE 9): Getopt rejects the option.
 */
export function isRegenerateUnsupported(stderr: string): boolean {
  return /Unknown option: regenerate|regenerate: property is not defined in schema/.test(stderr);
}
