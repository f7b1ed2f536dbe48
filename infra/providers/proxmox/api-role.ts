/**
 * PveRole: one custom Proxmox role (`pveum role add/modify`), with a privilege
 * list that matches the node's Proxmox VE major version.
 *
 * The node's version is read (`pveversion`) and the privilege list validated
 * against it before any pveum call, so a PVE 8 list on a PVE 9 cluster fails
 * with `role Automation: privilege "VM.Monitor" does not exist on Proxmox VE 9;
 * remove it or use VM.GuestAgent.Audit` instead of pveum's 400.
 * Without `privileges` the role gets the default automation list of the
 * detected version (infra/pve-privileges.ts), so a PVE 8 → 9 upgrade followed by
 * `pulumi refresh && pulumi up` converges the role to the PVE 9 list.
 *
 * A dynamic provider rather than the native `proxmoxve.RoleLegacy` because it
 * runs before any API token exists (it creates the token's role).
 */
import * as pulumi from "@pulumi/pulumi";
import { isRoleExists } from "../../parse/pveum";
import {
  assertValidPrivileges,
  defaultAutomationPrivileges,
  normalizePrivileges,
  validateRoleName,
} from "../../pve-privileges";
import { SshSession, withSession } from "../../ssh";
import { detectPveMajor, explainPrivilegeRejection, isUnknown, listRoles, pveum, pveumFailed, pveumRun } from "./api-pveum";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { errorMessage } from "../../errors";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const PVE_ROLE_PROVIDER_VERSION = "1";

export interface PveRoleInputs extends ConnectionArgs {
  providerVersion: string;
  /** Role id, e.g. "Automation". */
  roleName: string;
  /** Explicit privileges; absent = the default automation list of the node's major version. */
  privileges?: string[];
}

export interface PveRoleOutputs extends PveRoleInputs {
  /** Proxmox VE major version of the node when last applied/read. */
  pveMajor: number;
  /** The role's privileges on the node (sorted). */
  effectivePrivileges: string[];
}

/** The list a role should have: the explicit one, or the default of `major`. */
export function desiredPrivileges(privileges: string[] | undefined, major: number): string[] {
  return privileges === undefined ? defaultAutomationPrivileges(major) : normalizePrivileges(privileges);
}

/** Read the node, validate, and add/modify the role only when it differs. */
export async function applyRole(inputs: PveRoleInputs): Promise<Pick<PveRoleOutputs, "pveMajor" | "effectivePrivileges">> {
  const nameProblem = validateRoleName(inputs.roleName);
  if (nameProblem) throw new Error(`${inputs.connection.node}: ${nameProblem}`);
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const { major, version } = await detectPveMajor(session);
      // Validation before any pveum call: nothing runs with a list the node would refuse.
      let want: string[];
      try {
        want = desiredPrivileges(inputs.privileges, major);
        assertValidPrivileges(inputs.roleName, want, major);
      } catch (err) {
        throw new Error(`${session.node}: ${errorMessage(err)}`);
      }
      const current = (await listRoles(session)).find((r) => r.roleid === inputs.roleName);
      if (current?.special) {
        throw new Error(`${session.node}: role ${inputs.roleName} is a built-in Proxmox role and cannot be modified; choose another name`);
      }
      if (current && sameList(current.privs, want)) return { pveMajor: major, effectivePrivileges: current.privs };
      try {
        if (current) await modifyRole(session, inputs.roleName, want);
        else await addRole(session, inputs.roleName, want);
      } catch (err) {
        throw explainPrivilegeRejection(err, session.node, inputs.roleName, version);
      }
      const after = (await listRoles(session)).find((r) => r.roleid === inputs.roleName);
      if (!after || !sameList(after.privs, want)) {
        throw new Error(
          `${session.node}: role ${inputs.roleName} does not have the expected privileges after pveum reported success ` +
            `(has ${after ? after.privs.join(",") || "none" : "no role"}, want ${want.join(",")})`,
        );
      }
      return { pveMajor: major, effectivePrivileges: after.privs };
    },
    sshOptions(inputs),
  );
}

async function addRole(session: SshSession, roleName: string, privs: string[]): Promise<void> {
  const argv = ["role", "add", roleName, "--privs", privs.join(",")];
  const result = await pveumRun(session, argv);
  if (result.code === 0) return;
  // Appendix A row 15: created concurrently since we looked; converge with modify.
  if (isRoleExists(result.stderr)) return modifyRole(session, roleName, privs);
  throw pveumFailed(session, argv, result);
}

async function modifyRole(session: SshSession, roleName: string, privs: string[]): Promise<void> {
  // `role modify --privs` replaces the set (no --append).
  await pveum(session, ["role", "modify", roleName, "--privs", privs.join(",")]);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
}

export const pveRoleProvider: pulumi.dynamic.ResourceProvider<PveRoleInputs, PveRoleOutputs> = {
  async create(inputs) {
    const applied = await applyRole(inputs);
    return { id: inputs.roleName, outs: { ...inputs, ...applied } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return withSession(
      sshTarget(props),
      async (session) => {
        const { major } = await detectPveMajor(session);
        const role = (await listRoles(session)).find((r) => r.roleid === props.roleName);
        if (!role) return { id: "", props };
        return { id, props: { ...props, pveMajor: major, effectivePrivileges: role.privs } };
      },
      sshOptions(props),
    );
  },

  async diff(_id, olds, news) {
    const replaces = olds.roleName !== news.roleName || isUnknown(news.roleName) ? ["roleName"] : [];
    let privilegesDiffer: boolean;
    if (isUnknown(news.privileges)) privilegesDiffer = true;
    else {
      try {
        privilegesDiffer = !sameList(olds.effectivePrivileges ?? [], desiredPrivileges(news.privileges, olds.pveMajor));
      } catch {
        privilegesDiffer = true; // unknown major: let update report it
      }
    }
    const changes =
      replaces.length > 0 ||
      privilegesDiffer ||
      JSON.stringify(normalizeOptional(olds.privileges)) !== JSON.stringify(normalizeOptional(news.privileges)) ||
      olds.providerVersion !== news.providerVersion ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    // A new name is a new role; the old one is deleted after the users moved over.
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const applied = await applyRole(news);
    return { outs: { ...news, ...applied } };
  },

  async delete(_id, props) {
    await withSession(
      sshTarget(props),
      async (session) => {
        const role = (await listRoles(session)).find((r) => r.roleid === props.roleName);
        if (!role || role.special) return;
        await pveum(session, ["role", "delete", props.roleName]);
      },
      sshOptions(props),
    );
  },
};

function normalizeOptional(privs: string[] | undefined): string[] | null {
  return privs === undefined ? null : normalizePrivileges(privs);
}

/** Resource inputs as a program passes them. */
export interface PveRoleArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Role id. Must not be a built-in role or start with "PVE". */
  roleName: pulumi.Input<string>;
  /** Privileges. Defaults to the automation list of the node's Proxmox VE major version. */
  privileges?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:PveRole`. */
export class PveRole extends pulumi.dynamic.Resource {
  declare readonly roleName: pulumi.Output<string>;
  declare readonly pveMajor: pulumi.Output<number>;
  declare readonly effectivePrivileges: pulumi.Output<string[]>;

  constructor(name: string, args: PveRoleArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      pveRoleProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, PVE_ROLE_PROVIDER_VERSION),
        pveMajor: undefined,
        effectivePrivileges: undefined,
      },
      sshResourceOptions(opts),
      "proxmox",
      "PveRole",
    );
  }
}
