import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { validateTokenName, validateUserid } from "../infra/providers/proxmox/api-pveum";
import { PveApiToken } from "../infra/providers/proxmox/api-token";
import { PveRole } from "../infra/providers/proxmox/api-role";
import { PveUser } from "../infra/providers/proxmox/api-user";
import { validatePrivileges, validateRoleName } from "../infra/pve-privileges";
import { childOptions, refuse } from "./child-options";

/** Type token of the ApiAccess component. */
export const API_ACCESS_TYPE = "homelab:proxmox:ApiAccess";

/** Arguments of the API access of one cluster (or standalone node). */
export interface ApiAccessArgs {
  /**
   * The node pveum runs on. The cluster shares one user database, so any one
   * member will do; order this component after cluster formation (`dependsOn`).
   */
  access: NodeAccess;
  /** The automation user, `name@realm`. Defaults to "automation@pve" (`@pve` needs no Linux account). */
  userid?: string;
  /** Token name (after the `!`). Defaults to "pulumi". */
  tokenName?: string;
  /** Custom role granted to the user (and token) on `/`. Defaults to "Automation". */
  roleName?: string;
  /**
   * Privileges of the role. Defaults to the automation list of the node's
   * Proxmox VE major version (infra/pve-privileges.ts), detected on the node.
   */
  privileges?: string[];
  /**
   * The cluster's Proxmox VE major version when known at preview time; used only
   * to reject invalid `privileges` before anything runs. The provider always
   * re-checks against the version it detects. Defaults to no early check.
   */
  pveMajor?: number;
  /**
   * Privilege separation: the token gets its own ACL (same role, on `/`) instead
   * of inheriting the user's rights, so it can later be narrowed without touching
   * the user. Defaults to true (Proxmox's own default).
   */
  privsep?: boolean;
  /**
   * Rotation marker. Change it (e.g. "2026-11" → "2027-05") to regenerate the
   * token secret on the next `pulumi up`; also the way to recover a token whose
   * secret was lost with the state. Defaults to "" (never rotated).
   */
  rotation?: string;
  /** Address of the Proxmox API (endpoint `https://<address>:<apiPort>/`). Defaults to `access.connection.host`. */
  apiAddress?: string;
  /** Port of the Proxmox API. Defaults to 8006. */
  apiPort?: number;
  /**
   * Skip TLS certificate verification of the API. Exists because a fresh Proxmox
   * node serves a self-signed certificate (pve-ssl.pem, signed by the cluster's
   * own CA), which no client trusts. Turning it on lets anyone on the path
   * impersonate the API and steal the token; prefer trusting the cluster CA
   * (`npm run trust-ca -- <stack>`, then SSL_CERT_FILE) or a trusted
   * certificate (ACME, or your CA). Defaults to false (verify).
   */
  insecureTls?: boolean;
}

/**
 * API access for the native provider: an automation role whose privileges match
 * the running Proxmox VE major version, a user granted that role on `/`, an API
 * token (its secret kept only in the state, as a secret), and a
 * `proxmoxve.Provider` authenticated with it. Every native resource takes
 * `provider` from here, so none runs before API access exists.
 */
export class ApiAccess extends pulumi.ComponentResource {
  /** `user@realm!name` (not secret). */
  readonly tokenId: pulumi.Output<string>;
  /** `user@realm!name=<secret>`, as the provider's `apiToken` expects. Secret. */
  readonly tokenSecret: pulumi.Output<string>;
  /** The native provider; pass it as `{ provider }` to every proxmoxve resource. */
  readonly provider: proxmoxve.Provider;
  /** The API endpoint URL. */
  readonly endpoint: string;
  readonly role: PveRole;
  readonly user: PveUser;
  readonly token: PveApiToken;

  constructor(name: string, args: ApiAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    const userid = args.userid ?? "automation@pve";
    const tokenName = args.tokenName ?? "pulumi";
    const roleName = args.roleName ?? "Automation";
    // Only non-secret identity goes into the component's stored inputs.
    super(API_ACCESS_TYPE, name, { node: args.access.connection.node, userid, tokenName, roleName }, opts);

    const problems = apiAccessProblems({ ...args, userid, tokenName, roleName });
    if (problems.length > 0) refuse(this, name, problems);

    const conn = args.access;
    // The component's dependsOn (the cluster) holds for its first step.
    this.role = new PveRole(`${name}-role`, { ...conn, roleName, privileges: args.privileges }, childOptions(this, opts));
    this.user = new PveUser(
      `${name}-user`,
      { ...conn, userid, roleName: this.role.roleName, aclPath: "/" },
      { parent: this, dependsOn: [this.role] },
    );
    this.token = new PveApiToken(
      `${name}-token`,
      {
        ...conn,
        userid: this.user.userid,
        tokenName,
        privsep: args.privsep ?? true,
        roleName: this.role.roleName,
        aclPath: "/",
        rotation: args.rotation ?? "",
      },
      { parent: this, dependsOn: [this.user] },
    );

    this.tokenId = this.token.tokenId;
    this.tokenSecret = pulumi.secret(pulumi.interpolate`${this.token.tokenId}=${this.token.tokenValue}`);
    this.endpoint = apiEndpoint(args.apiAddress ?? conn.connection.host, args.apiPort ?? 8006);

    this.provider = new proxmoxve.Provider(
      `${name}-provider`,
      {
        endpoint: this.endpoint,
        apiToken: this.tokenSecret,
        insecure: args.insecureTls ?? false,
        // No `ssh` block, hence no root key: none of our native resources uses the
        // provider's SSH (download.File, VmLegacy clones/resizes/cloud-init and
        // cluster.Options are API calls). Its SSH client trusts unknown host keys on
        // first use and appends them to ~/.ssh/known_hosts, with no way to pin them.
        // What would need it back: proxmoxve.FileLegacy uploads (snippets), VmLegacy
        // disks with `fileId` (qm disk import), containers' mount points; do those
        // over our own SSH (pinned keys) instead, as GuestAgentSnippet does.
      },
      // Nothing native may run before the role, the user's grant and the token exist.
      { parent: this, dependsOn: [this.role, this.user, this.token] },
    );

    this.registerOutputs({ tokenId: this.tokenId, tokenSecret: this.tokenSecret, endpoint: this.endpoint });
  }
}

/** `https://<address>:<port>/`, with IPv6 literals bracketed. */
export function apiEndpoint(address: string, port: number): string {
  const host = address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
  return `https://${host}:${port}/`;
}

/**
 * Every problem with the arguments, as sentences naming the field (empty when
 * valid). The constructor raises them as one ResourceError; the stack schema
 * can call this too.
 */
export function apiAccessProblems(args: ApiAccessArgs): string[] {
  const roleName = args.roleName ?? "Automation";
  return [
    validateUserid(args.userid ?? "automation@pve"),
    validateTokenName(args.tokenName ?? "pulumi"),
    validateRoleName(roleName),
    args.apiPort !== undefined && !(Number.isInteger(args.apiPort) && args.apiPort > 0 && args.apiPort < 65536)
      ? `apiPort ${args.apiPort} is not a TCP port (1-65535)`
      : undefined,
    ...(args.privileges !== undefined && args.pveMajor !== undefined
      ? validatePrivileges(args.privileges, args.pveMajor).map((p) => `role ${roleName}: ${p}`)
      : []),
    ...(args.rotation !== undefined && !/^[A-Za-z0-9._:-]{0,64}$/.test(args.rotation)
      ? [`rotation ${JSON.stringify(args.rotation)} may only hold letters, digits, ".", "_", ":", "-" (at most 64)`]
      : []),
  ].filter((p): p is string => p !== undefined);
}
