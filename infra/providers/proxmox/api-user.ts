/**
 * PveUser: one Proxmox user (`pveum user add`), enabled, with one role granted
 * on one ACL path (`pveum acl modify PATH --users U --roles R`, propagating).
 *
 * Reads first (`pveum user list`, `pveum acl list`), so a user that already
 * exists with the grant is adopted without any write. The cluster shares one
 * user database: run it on any one member, after the cluster is formed.
 * `@pve` users are the usual choice: `@pam` users also need a Linux account.
 */
import * as pulumi from "@pulumi/pulumi";
import { isUserExists } from "../../parse/pveum";
import { SshSession, withSession } from "../../ssh";
import {
  grantedRoles,
  isUnknown,
  listAcls,
  listUsers,
  pveum,
  pveumFailed,
  pveumRun,
  validateAclPath,
  validateUserid,
} from "./api-pveum";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { sshResourceInputs, sshResourceOptions } from "../resource";

export const PVE_USER_PROVIDER_VERSION = "1";

/** Comment put on users this provider creates. */
export const DEFAULT_USER_COMMENT = "managed by homelab (Pulumi)";

export interface PveUserInputs extends ConnectionArgs {
  providerVersion: string;
  /** `name@realm`, e.g. "automation@pve". */
  userid: string;
  /** Role granted to the user on `aclPath`. */
  roleName: string;
  /** ACL path of the grant. */
  aclPath: string;
  /** User comment. */
  comment: string;
}

export interface PveUserOutputs extends PveUserInputs {
  /** The user is enabled on the node. */
  enabled: boolean;
  /** Roles granted (propagating) to the user on `aclPath`, as read. */
  aclRoles: string[];
}

function check(inputs: PveUserInputs): void {
  const problem = validateUserid(inputs.userid) ?? validateAclPath(inputs.aclPath);
  if (problem) throw new Error(`${inputs.connection.node}: ${problem}`);
}

interface UserState {
  exists: boolean;
  enabled: boolean;
  comment?: string;
  aclRoles: string[];
}

async function readUser(session: SshSession, userid: string, aclPath: string): Promise<UserState> {
  const user = (await listUsers(session)).find((u) => u.userid === userid);
  if (!user) return { exists: false, enabled: false, aclRoles: [] };
  const acls = await listAcls(session);
  return { exists: true, enabled: user.enable, comment: user.comment, aclRoles: grantedRoles(acls, "user", userid, aclPath) };
}

/**
 * Converge: user present and enabled, comment as given, role granted on the
 * path; `previous` (the old grant on update) is revoked when it moved.
 */
export async function applyUser(
  inputs: PveUserInputs,
  previous?: { roleName: string; aclPath: string },
): Promise<Pick<PveUserOutputs, "enabled" | "aclRoles">> {
  check(inputs);
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const { userid, roleName, aclPath, comment } = inputs;
      let state = await readUser(session, userid, aclPath);
      if (!state.exists) {
        const add = ["user", "add", userid, "--comment", comment];
        const result = await pveumRun(session, add);
        // Appendix A row 14: created concurrently since we looked; fall through to converge.
        if (result.code !== 0 && !isUserExists(result.stderr)) throw pveumFailed(session, add, result);
        state = await readUser(session, userid, aclPath);
      }
      const modify: (string | number)[] = [];
      if (!state.enabled) modify.push("--enable", 1);
      if ((state.comment ?? "") !== comment) modify.push("--comment", comment);
      if (modify.length > 0) await pveum(session, ["user", "modify", userid, ...modify]);
      if (!state.aclRoles.includes(roleName)) {
        await pveum(session, ["acl", "modify", aclPath, "--users", userid, "--roles", roleName, "--propagate", 1]);
      }
      if (previous && (previous.roleName !== roleName || previous.aclPath !== aclPath)) {
        const old = grantedRoles(await listAcls(session), "user", userid, previous.aclPath);
        if (old.includes(previous.roleName)) {
          await pveum(session, ["acl", "delete", previous.aclPath, "--users", userid, "--roles", previous.roleName]);
        }
      }
      const after = await readUser(session, userid, aclPath);
      if (!after.exists || !after.enabled || !after.aclRoles.includes(roleName)) {
        throw new Error(
          `${session.node}: user ${userid} is not ${!after.exists ? "present" : !after.enabled ? "enabled" : `granted ${roleName} on ${aclPath}`} ` +
            `after pveum reported success`,
        );
      }
      return { enabled: after.enabled, aclRoles: after.aclRoles };
    },
    sshOptions(inputs),
  );
}

export const pveUserProvider: pulumi.dynamic.ResourceProvider<PveUserInputs, PveUserOutputs> = {
  async create(inputs) {
    const applied = await applyUser(inputs);
    return { id: inputs.userid, outs: { ...inputs, ...applied } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const state = await withSession(sshTarget(props), (s) => readUser(s, props.userid, props.aclPath), sshOptions(props));
    if (!state.exists) return { id: "", props };
    return {
      id,
      props: { ...props, enabled: state.enabled, comment: state.comment ?? "", aclRoles: state.aclRoles },
    };
  },

  async diff(_id, olds, news) {
    const replaces = olds.userid !== news.userid || isUnknown(news.userid) ? ["userid"] : [];
    const keys: (keyof PveUserInputs)[] = ["roleName", "aclPath", "comment", "providerVersion", "connection"];
    const differs = (k: keyof PveUserInputs) => isUnknown(news[k]) || JSON.stringify(olds[k]) !== JSON.stringify(news[k]);
    const drift = olds.enabled === false || !(olds.aclRoles ?? []).includes(news.roleName);
    const changes = replaces.length > 0 || keys.some(differs) || drift;
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, olds, news) {
    const applied = await applyUser(news, { roleName: olds.roleName, aclPath: olds.aclPath });
    return { outs: { ...news, ...applied } };
  },

  async delete(_id, props) {
    await withSession(
      sshTarget(props),
      async (session) => {
        if (!(await listUsers(session)).some((u) => u.userid === props.userid)) return;
        // Deleting a user also removes its ACL entries and API tokens.
        await pveum(session, ["user", "delete", props.userid]);
      },
      sshOptions(props),
    );
  },
};

/** Resource inputs as a program passes them. */
export interface PveUserArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** `name@realm`, e.g. "automation@pve". */
  userid: pulumi.Input<string>;
  /** Role granted to the user on `aclPath`. */
  roleName: pulumi.Input<string>;
  /** ACL path of the grant. Defaults to "/". */
  aclPath?: pulumi.Input<string>;
  /** User comment. Defaults to "managed by homelab (Pulumi)". */
  comment?: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:PveUser`. */
export class PveUser extends pulumi.dynamic.Resource {
  declare readonly userid: pulumi.Output<string>;
  declare readonly enabled: pulumi.Output<boolean>;
  declare readonly aclRoles: pulumi.Output<string[]>;

  constructor(name: string, args: PveUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      pveUserProvider,
      name,
      {
        ...args,
        aclPath: args.aclPath ?? "/",
        comment: args.comment ?? DEFAULT_USER_COMMENT,
        ...sshResourceInputs(args.sshPrivateKey, PVE_USER_PROVIDER_VERSION),
        enabled: undefined,
        aclRoles: undefined,
      },
      sshResourceOptions(opts),
      "proxmox",
      "PveUser",
    );
  }
}
