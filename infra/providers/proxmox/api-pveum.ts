/**
 * Shared pieces of the API access providers (api-role, api-user, api-token):
 * running `pveum` on one node and reading the cluster-wide user database
 * (/etc/pve/user.cfg is shared by every cluster member, so any node answers).
 *
 * Every command runs in the C locale and, where pveum has one, with
 * `--output-format json`. Reads never change anything; the providers decide
 * which writes to run from what they read.
 */
import { parsePveversion } from "../../parse/pveversion";
import {
  PveumAcl,
  PveumRole,
  PveumToken,
  PveumUser,
  invalidPrivileges,
  isNoSuchUser,
  parseAclList,
  parseRoleList,
  parseTokenList,
  parseUserList,
} from "../../parse/pveum";
import { Arg, command, inCLocale } from "../../shell";
import { CommandResult, RunOptions, SshSession, redact, summarize } from "../../ssh";
import { errorMessage } from "../../errors";

/** The realm and user part of a Proxmox user id (`PVE::Auth::Plugin` user_regex@realm_regex). */
const USERID = /^[^\s:/@]+@[A-Za-z][A-Za-z0-9.\-_]+$/;
/** Token names (`token_subid_regex` = realm_regex). */
const TOKEN_NAME = /^[A-Za-z][A-Za-z0-9.\-_]+$/;
/** ACL paths we accept: `/` or `/segment/...` without empty segments. */
const ACL_PATH = /^\/(?:[A-Za-z0-9.\-_:]+(?:\/[A-Za-z0-9.\-_:]+)*)?$/;

/** Returns the problem with a user id, or undefined. */
export function validateUserid(userid: string): string | undefined {
  if (!USERID.test(userid)) {
    return `user id ${JSON.stringify(userid)} is not of the form name@realm (e.g. automation@pve)`;
  }
  if (userid === "root@pam") return "user root@pam cannot be managed here; use a dedicated user such as automation@pve";
  return undefined;
}

/** Returns the problem with a token name, or undefined. */
export function validateTokenName(tokenName: string): string | undefined {
  return TOKEN_NAME.test(tokenName)
    ? undefined
    : `token name ${JSON.stringify(tokenName)} must start with a letter and contain only letters, digits, ".", "-", "_" (at least 2 characters)`;
}

/** Returns the problem with an ACL path, or undefined. */
export function validateAclPath(path: string): string | undefined {
  return ACL_PATH.test(path) ? undefined : `ACL path ${JSON.stringify(path)} must be "/" or an absolute path such as /vms or /storage/local`;
}

/*
 * Errors: only plain `Error` objects are thrown from this code. Pulumi's closure
 * serializer turns `class X extends Error` into a function calling
 * `Error.call(this, msg)`, which drops the message (and `new.target` is
 * undefined there), so a subclass thrown by the engine-run provider arrives
 * empty. Hence `session.run` + these helpers instead of `session.check`.
 */

/** A node-prefixed plain Error carrying a `name` for callers to recognise. */
export function nodeError(node: string, message: string, name = "NodeError", extra: Record<string, unknown> = {}): Error {
  const err = new Error(`${node}: ${message}`);
  err.name = name;
  return Object.assign(err, { node }, extra);
}

/**
 * The error for a failed command, worded like ssh.ts's CommandFailedError
 * (`<node>: pveum user failed (exit 255): <stderr>` + the command), as a plain Error
 * with `node`, `command` and `result` attached.
 */
export function commandFailed(session: SshSession, commandLine: string, result: CommandResult, secrets: readonly string[] = []): Error {
  const shown = redact(commandLine, secrets);
  const text = result.stderr.trim() || result.stdout.trim();
  const lines = text.split("\n");
  const detail = redact(lines.length <= 20 ? text : lines.slice(-20).join("\n"), secrets);
  return nodeError(session.node, `${summarize(shown)} failed (exit ${result.code}): ${detail || "(no output)"}\n  command: ${shown}`, "CommandFailedError", {
    command: shown,
    result,
  });
}

/** The command result attached to a failed-command error, if it is one. */
export function failedResult(err: unknown): CommandResult | undefined {
  const result = (err as { result?: CommandResult } | undefined)?.result;
  return result && typeof result.stderr === "string" ? result : undefined;
}

/** Run `pveum <argv>` (C locale); throws a CommandFailedError-style Error on a non-zero exit. */
export async function pveum(session: SshSession, argv: Arg[], opts: RunOptions = {}): Promise<CommandResult> {
  const result = await pveumRun(session, argv, opts);
  if (result.code !== 0) throw pveumFailed(session, argv, result, opts.secrets);
  return result;
}

/** Run `pveum <argv>` and return the result, failed or not. */
export function pveumRun(session: SshSession, argv: Arg[], opts: RunOptions = {}): Promise<CommandResult> {
  return session.run(inCLocale(command("pveum", ...argv)), opts);
}

/** The standard error for a failed pveum run (names the node, the command and stderr). */
export function pveumFailed(session: SshSession, argv: Arg[], result: CommandResult, secrets: readonly string[] = []): Error {
  return commandFailed(session, inCLocale(command("pveum", ...argv)), result, secrets);
}

/** The Proxmox VE major version of the node (`pveversion`). */
export async function detectPveMajor(session: SshSession): Promise<{ major: number; version: string }> {
  const commandLine = inCLocale(command("pveversion"));
  const result = await session.run(commandLine);
  if (result.code !== 0) throw commandFailed(session, commandLine, result);
  const v = parsePveversion(result.stdout);
  if (!v) throw nodeError(session.node, `pveversion printed ${JSON.stringify(result.stdout.trim())}; is this a Proxmox VE node?`);
  return { major: v.major, version: v.version };
}

export async function listRoles(session: SshSession): Promise<PveumRole[]> {
  return parseRoleList((await pveum(session, ["role", "list", "--output-format", "json"])).stdout, session.node);
}

export async function listUsers(session: SshSession): Promise<PveumUser[]> {
  return parseUserList((await pveum(session, ["user", "list", "--output-format", "json"])).stdout, session.node);
}

export async function listAcls(session: SshSession): Promise<PveumAcl[]> {
  return parseAclList((await pveum(session, ["acl", "list", "--output-format", "json"])).stdout, session.node);
}

/** The user's tokens, or undefined when the user does not exist (`no such user`, exit 255). */
export async function listTokens(session: SshSession, userid: string): Promise<PveumToken[] | undefined> {
  const argv = ["user", "token", "list", userid, "--output-format", "json"];
  const result = await pveumRun(session, argv);
  if (result.code !== 0) {
    if (isNoSuchUser(result.stderr)) return undefined;
    throw pveumFailed(session, argv, result);
  }
  return parseTokenList(result.stdout, session.node);
}

/** Roles granted to one user/token (`ugid`) on one path, sorted. */
export function grantedRoles(acls: readonly PveumAcl[], type: PveumAcl["type"], ugid: string, path: string): string[] {
  return acls
    .filter((a) => a.type === type && a.ugid === ugid && a.path === path && a.propagate)
    .map((a) => a.roleid)
    .sort();
}

/**
 * Turn pveum's "invalid privilege" rejection into the same sentence the
 * validation gives, naming the node's exact version (e.g. Sys.AccessNetwork
 * on a PVE 8.0 node, whose access control predates it). Other errors pass through.
 */
export function explainPrivilegeRejection(err: unknown, node: string, roleName: string, version: string): unknown {
  const result = failedResult(err);
  if (!result) return err;
  const bad = invalidPrivileges(result.stderr);
  if (bad.length === 0) return err;
  return nodeError(
    node,
    `role ${roleName}: privilege ${bad.map((p) => JSON.stringify(p)).join(", ")} ` +
      `does not exist on this node's Proxmox VE ${version}; remove it from privileges\n  (${errorMessage(err)})`,
  );
}

// Module-private: an exported const is referenced as `exports.X`, which the closure serializer misses.
const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The preview's "unknown" placeholder (pulumi/pulumi#6310). */
export const UNKNOWN = UNKNOWN_SENTINEL;

/** Whether a value is, or contains, the preview unknown placeholder. */
export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN_SENTINEL) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}
