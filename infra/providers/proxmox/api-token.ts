/**
 * PveApiToken: one Proxmox API token (`pveum user token add USER NAME`), and,
 * with privilege separation, the token's own ACL (`pveum acl modify PATH
 * --tokens USER!NAME --roles ROLE`).
 *
 * Proxmox shows a token's secret once, when it is generated. So:
 *  - the secret lives only in the Pulumi state, as the secret output `tokenValue`;
 *    it never appears on a command line, in a log or in an error;
 *  - an existing token is never silently rotated. If the token exists but the
 *    state has no secret for it (state lost, `pulumi import`, a token made by
 *    hand), create fails and names the one command that rotates it
 *    (`pulumi config set --path environment.apiAccess.rotation recover-…`);
 *  - rotation is an input: change `rotation` (e.g. "2026-11" → "2027-05") and the
 *    next update regenerates the secret (`pveum user token modify ... --regenerate 1`,
 *    or remove + add where pveum predates --regenerate). The current rotation is
 *    also written into the token's comment, so after a lost state a *new*
 *    rotation value is recognised as the explicit request it is;
 *  - `read` keeps the stored secret and reports the token gone (empty id) when it
 *    was deleted on the node, so `pulumi refresh` + `up` creates a fresh one.
 *
 * A dynamic provider rather than the native `proxmoxve.user.Token` because it
 * creates the very token the native provider authenticates with.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  PveumNewToken,
  PveumToken,
  isNoSuchUser,
  isRegenerateUnsupported,
  isTokenExists,
  parseTokenAdd,
  parseTokenRegenerate,
} from "../../parse/pveum";
import { CommandResult, SshSession, withSession } from "../../ssh";
import {
  grantedRoles,
  isUnknown,
  listAcls,
  listTokens,
  nodeError,
  pveum,
  pveumFailed,
  pveumRun,
  validateAclPath,
  validateTokenName,
  validateUserid,
} from "./api-pveum";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { sshResourceInputs, sshResourceOptions } from "../resource";

export const PVE_API_TOKEN_PROVIDER_VERSION = "1";

/** Output names that must stay secret. */
export const API_TOKEN_SECRET_OUTPUTS = ["tokenValue"];

export interface PveApiTokenInputs extends ConnectionArgs {
  providerVersion: string;
  /** Owner, `name@realm`. */
  userid: string;
  /** Token name (the part after `!`). */
  tokenName: string;
  /** Privilege separation: the token only gets what its own ACL grants. */
  privsep: boolean;
  /** Role of the token's own ACL (used when `privsep`). */
  roleName: string;
  /** Path of the token's own ACL (used when `privsep`). */
  aclPath: string;
  /** Rotation marker; changing it regenerates the secret. "" = never rotated. */
  rotation: string;
}

export interface PveApiTokenOutputs extends PveApiTokenInputs {
  /** `user@realm!name`. */
  tokenId: string;
  /** The secret (a UUID). Secret output. */
  tokenValue: string;
  /** Roles granted to the token itself on `aclPath`, as read. */
  tokenAclRoles: string[];
}

/**
 * The error when the token exists on the node but the state holds no secret
 * for it. A plain Error named "TokenSecretLostError" (Error subclasses lose
 * their message when the provider is serialized; see api-pveum.ts).
 */
export function tokenSecretLost(node: string, tokenId: string, rotation: string): Error {
  return nodeError(
    node,
    `API token ${tokenId} already exists, but its secret is not in the Pulumi state ` +
      `(Proxmox shows a token secret only once, so it cannot be read back). Nothing was changed. ` +
      `To replace the secret, set the token's rotation input to a new value ` +
      `(currently ${rotation === "" ? "unset" : JSON.stringify(rotation)}): in a homelab stack run ` +
      `\`pulumi config set --path environment.apiAccess.rotation ${suggestRotation(rotation)}\` and then \`pulumi up\`; ` +
      `the token is then regenerated and the new secret stored. Programs that use the old secret lose access.`,
    "TokenSecretLostError",
  );
}

/** A rotation value that differs from `current`: `recover-<UTC date and minute>`. */
function suggestRotation(current: string): string {
  const stamp = `recover-${new Date().toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-")}`;
  return stamp === current ? `${stamp}-2` : stamp;
}

const COMMENT_PREFIX = "managed by homelab";

/** The token comment carrying the rotation marker. */
export function tokenComment(rotation: string): string {
  return rotation === "" ? COMMENT_PREFIX : `${COMMENT_PREFIX}; rotation ${rotation}`;
}

/** The rotation marker in a token comment ("" when none). */
export function rotationOf(comment: string | undefined): string {
  const m = /; rotation (.+)$/.exec(comment ?? "");
  return m ? m[1] : "";
}

const ROTATION = /^[A-Za-z0-9._:-]{0,64}$/;

function check(inputs: PveApiTokenInputs): void {
  const problem =
    validateUserid(inputs.userid) ??
    validateTokenName(inputs.tokenName) ??
    validateAclPath(inputs.aclPath) ??
    (ROTATION.test(inputs.rotation) ? undefined : `rotation ${JSON.stringify(inputs.rotation)} may only hold letters, digits, ".", "_", ":", "-" (at most 64)`);
  if (problem) throw new Error(`${inputs.connection.node}: ${problem}`);
}

const fullId = (i: Pick<PveApiTokenInputs, "userid" | "tokenName">) => `${i.userid}!${i.tokenName}`;

/** A failed token command, with stdout dropped (it could only ever hold a secret). */
function tokenCommandFailed(session: SshSession, argv: (string | number)[], result: CommandResult): Error {
  return pveumFailed(session, argv, { ...result, stdout: "" });
}

async function requireTokens(session: SshSession, userid: string): Promise<PveumToken[]> {
  const tokens = await listTokens(session, userid);
  if (tokens === undefined) {
    throw nodeError(session.node, `user ${userid} does not exist, so its API token cannot be managed; create the user first`);
  }
  return tokens;
}

async function addToken(session: SshSession, inputs: PveApiTokenInputs): Promise<PveumNewToken> {
  const argv = [
    "user", "token", "add", inputs.userid, inputs.tokenName,
    "--privsep", inputs.privsep ? 1 : 0,
    "--comment", tokenComment(inputs.rotation),
    "--output-format", "json",
  ];
  const result = await pveumRun(session, argv);
  if (result.code !== 0) {
    // Appendix A row 16: someone created it since we looked; never take it over silently.
    if (isTokenExists(result.stderr)) throw tokenSecretLost(session.node, fullId(inputs), inputs.rotation);
    if (isNoSuchUser(result.stderr)) {
      throw nodeError(session.node, `user ${inputs.userid} does not exist, so its API token cannot be created; create the user first`);
    }
    throw tokenCommandFailed(session, argv, result);
  }
  return parseTokenAdd(result.stdout, session.node);
}

/** New secret for an existing token: `--regenerate 1`, or remove + add on older pveum. */
async function regenerateToken(session: SshSession, inputs: PveApiTokenInputs): Promise<PveumNewToken> {
  const argv = [
    "user", "token", "modify", inputs.userid, inputs.tokenName,
    "--regenerate", 1,
    "--privsep", inputs.privsep ? 1 : 0,
    "--comment", tokenComment(inputs.rotation),
    "--output-format", "json",
  ];
  const result = await pveumRun(session, argv);
  if (result.code === 0) return parseTokenRegenerate(result.stdout, session.node);
  if (!isRegenerateUnsupported(result.stderr)) throw tokenCommandFailed(session, argv, result);
  // libpve-access-control < 9.1.0: no --regenerate. The token's ACL goes with it and is re-granted below.
  await pveum(session, ["user", "token", "remove", inputs.userid, inputs.tokenName]);
  return addToken(session, inputs);
}

/**
 * Grant the token's own ACL when privsep, and revoke what a previous
 * configuration granted (`previous`) when it moved or privsep was turned off.
 */
async function convergeTokenAcl(
  session: SshSession,
  inputs: PveApiTokenInputs,
  previous?: Pick<PveApiTokenInputs, "privsep" | "roleName" | "aclPath">,
): Promise<string[]> {
  const id = fullId(inputs);
  let acls = await listAcls(session);
  if (inputs.privsep && !grantedRoles(acls, "token", id, inputs.aclPath).includes(inputs.roleName)) {
    await pveum(session, ["acl", "modify", inputs.aclPath, "--tokens", id, "--roles", inputs.roleName, "--propagate", 1]);
    acls = await listAcls(session);
  }
  const stillWanted = (p: { roleName: string; aclPath: string }) =>
    inputs.privsep && p.roleName === inputs.roleName && p.aclPath === inputs.aclPath;
  if (previous?.privsep && !stillWanted(previous) && grantedRoles(acls, "token", id, previous.aclPath).includes(previous.roleName)) {
    await pveum(session, ["acl", "delete", previous.aclPath, "--tokens", id, "--roles", previous.roleName]);
    acls = await listAcls(session);
  }
  return grantedRoles(acls, "token", id, inputs.aclPath);
}

/**
 * Converge the token. `olds` are the stored outputs on update (absent on create).
 * Returns the computed outputs; the secret is the stored one unless it was (re)generated.
 */
export async function applyToken(
  inputs: PveApiTokenInputs,
  olds?: PveApiTokenOutputs,
): Promise<Pick<PveApiTokenOutputs, "tokenId" | "tokenValue" | "tokenAclRoles">> {
  check(inputs);
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const existing = (await requireTokens(session, inputs.userid)).find((t) => t.tokenid === inputs.tokenName);
      let value = olds?.tokenValue ?? "";
      if (!existing) {
        // Absent (first run, or deleted on the node): a new token, nothing to rotate.
        value = (await addToken(session, inputs)).value;
      } else {
        // Which rotation the existing secret belongs to: the state's, else the token's own marker.
        const previousRotation = olds ? olds.rotation : rotationOf(existing.comment);
        if (previousRotation !== inputs.rotation) {
          value = (await regenerateToken(session, inputs)).value;
        } else if (value === "") {
          throw tokenSecretLost(session.node, fullId(inputs), inputs.rotation);
        } else {
          const modify: (string | number)[] = [];
          if (existing.privsep !== inputs.privsep) modify.push("--privsep", inputs.privsep ? 1 : 0);
          if ((existing.comment ?? "") !== tokenComment(inputs.rotation)) modify.push("--comment", tokenComment(inputs.rotation));
          if (modify.length > 0) {
            await pveum(session, ["user", "token", "modify", inputs.userid, inputs.tokenName, ...modify, "--output-format", "json"]);
          }
        }
      }
      const tokenAclRoles = await convergeTokenAcl(session, inputs, olds);
      const after = (await requireTokens(session, inputs.userid)).find((t) => t.tokenid === inputs.tokenName);
      if (!after || after.privsep !== inputs.privsep) {
        throw nodeError(
          session.node,
          `API token ${fullId(inputs)} is ${after ? `privsep=${after.privsep ? 1 : 0}` : "absent"} after pveum reported success`,
        );
      }
      if (inputs.privsep && !tokenAclRoles.includes(inputs.roleName)) {
        throw nodeError(session.node, `API token ${fullId(inputs)} lacks role ${inputs.roleName} on ${inputs.aclPath} after pveum reported success`);
      }
      return { tokenId: fullId(inputs), tokenValue: value, tokenAclRoles };
    },
    sshOptions(inputs),
  );
}

export const pveApiTokenProvider: pulumi.dynamic.ResourceProvider<PveApiTokenInputs, PveApiTokenOutputs> = {
  async create(inputs) {
    const applied = await applyToken(inputs);
    return { id: applied.tokenId, outs: { ...inputs, ...applied } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return withSession(
      sshTarget(props),
      async (session) => {
        const token = (await listTokens(session, props.userid))?.find((t) => t.tokenid === props.tokenName);
        // Gone on the node: report it; the stored secret is kept in props but useless.
        if (!token) return { id: "", props };
        const tokenAclRoles = grantedRoles(await listAcls(session), "token", fullId(props), props.aclPath);
        return { id, props: { ...props, privsep: token.privsep, tokenAclRoles } };
      },
      sshOptions(props),
    );
  },

  async diff(_id, olds, news) {
    const identity: (keyof PveApiTokenInputs)[] = ["userid", "tokenName"];
    const settings: (keyof PveApiTokenInputs)[] = ["privsep", "roleName", "aclPath", "rotation", "providerVersion", "connection"];
    const differs = (k: keyof PveApiTokenInputs) => isUnknown(news[k]) || JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null);
    const replaces = identity.filter(differs);
    const aclDrift = news.privsep === true && !(olds.tokenAclRoles ?? []).includes(news.roleName);
    const changes = replaces.length > 0 || settings.some(differs) || aclDrift;
    // A renamed token is a new token: create it first, so API access never lapses.
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, olds, news) {
    const applied = await applyToken(news, olds);
    return { outs: { ...news, ...applied } };
  },

  async delete(_id, props) {
    await withSession(
      sshTarget(props),
      async (session) => {
        const tokens = await listTokens(session, props.userid);
        if (!tokens?.some((t) => t.tokenid === props.tokenName)) return;
        await pveum(session, ["user", "token", "remove", props.userid, props.tokenName]);
      },
      sshOptions(props),
    );
  },
};

/** Resource inputs as a program passes them. */
export interface PveApiTokenArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Owner, `name@realm`; the user must exist. */
  userid: pulumi.Input<string>;
  /** Token name. */
  tokenName: pulumi.Input<string>;
  /** Privilege separation (the token gets its own ACL with `roleName`). Defaults to true. */
  privsep?: pulumi.Input<boolean>;
  /** Role of the token's own ACL. */
  roleName: pulumi.Input<string>;
  /** Path of the token's own ACL. Defaults to "/". */
  aclPath?: pulumi.Input<string>;
  /** Rotation marker; change it to regenerate the secret. Defaults to "" (never rotated). */
  rotation?: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:PveApiToken`. */
export class PveApiToken extends pulumi.dynamic.Resource {
  /** `user@realm!name` (not secret). */
  declare readonly tokenId: pulumi.Output<string>;
  /** The secret. */
  declare readonly tokenValue: pulumi.Output<string>;
  declare readonly tokenAclRoles: pulumi.Output<string[]>;

  constructor(name: string, args: PveApiTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      pveApiTokenProvider,
      name,
      {
        ...args,
        privsep: args.privsep ?? true,
        aclPath: args.aclPath ?? "/",
        rotation: args.rotation ?? "",
        ...sshResourceInputs(args.sshPrivateKey, PVE_API_TOKEN_PROVIDER_VERSION),
        tokenId: undefined,
        tokenValue: undefined,
        tokenAclRoles: undefined,
      },
      sshResourceOptions(opts, API_TOKEN_SECRET_OUTPUTS),
      "proxmox",
      "PveApiToken",
    );
  }
}
