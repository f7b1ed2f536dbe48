/**
 * API access: the schema of `apiAccess` (automation user, role, token) and its
 * checks (needs a cluster, or a single standalone node; privileges exist in a supported Proxmox version).
 */
import { apiAccessProblems } from "../../components/api-access";
import { validatePrivileges } from "../../infra/pve-privileges";
import { bool, list, mapping, safeText, text } from "./fields";
import { isDnsName } from "./certificates";
import { isIPv4, isRecord, isString } from "./predicates";
import type { PathIssue } from "./views";

/** The component's checks of names need no connection. */
const NO_ACCESS = { connection: { node: "", host: "", port: 22, user: "root" } };

const PRIVILEGE = /^[A-Z][A-Za-z]*(\.[A-Z][A-Za-z]*)+$/;

export const ApiAccessSchema = mapping(
  {
    /** Automation user. Defaults to automation@pve. */
    userid: text("a Proxmox user id (name@pve or name@pam)", (v) => /^[A-Za-z0-9._-]{1,64}@(pve|pam)$/.test(v)).default("automation@pve"),
    /** API token name. Defaults to pulumi. */
    tokenName: text("a token name (a letter, then letters, digits, . _ -)", (v) => /^[A-Za-z][A-Za-z0-9._-]{0,63}$/.test(v)).default("pulumi"),
    /** Role granted on /. Defaults to Automation. */
    roleName: text("a role name (letters, digits, . _ -; not starting with PVE)", (v) => /^[A-Za-z][A-Za-z0-9._-]{0,63}$/.test(v) && !/^pve/i.test(v)).default("Automation"),
    /** Privileges of the role. Defaults to the list for the cluster's Proxmox major version. */
    privileges: list(text("a privilege name (e.g. VM.Allocate)", (v) => PRIVILEGE.test(v)), "a list of privileges").optional(),
    /** Token with its own ACL (privilege separation). Defaults to true. */
    privsep: bool().default(true),
    /** Change this text to rotate the token secret on the next `pulumi up`. Defaults to "" (never). */
    rotation: safeText().default(""),
    /**
     * Host of the API endpoint. Defaults to the first node's address. When the first node's API
     * serves an ACME or custom certificate, set it to a name that certificate carries, so the
     * native provider can verify it (on the run that issues it, the address still works through
     * the cluster CA).
     */
    apiHost: text("a DNS name or an IPv4 address", (v) => isIPv4(v) || isDnsName(v)).optional(),
    /** Skip TLS verification of the API (self-signed certificates). Defaults to false. */
    insecureTls: bool().default(false),
  },
  "a mapping of API access settings",
);

/** apiAccess needs a cluster; each privilege exists in some supported Proxmox VE major version. */
export function checkApiAccess(value: Record<string, unknown>): PathIssue[] {
  const issues: PathIssue[] = [];
  const cluster = isRecord(value.cluster) ? value.cluster : undefined;
  // A single standalone node has its own user database; several nodes share one only once clustered.
  const standalone = Array.isArray(value.nodes) && value.nodes.length === 1;
  if (isRecord(value.apiAccess) && !cluster && !standalone) {
    issues.push({
      path: ["apiAccess"],
      message: "needs cluster: the API user and token are created once the cluster exists (its user database is shared); only a single node works without one",
    });
  }
  // Names and rotation as the API access component judges them (root@pam, built-in roles, the rotation's characters).
  const apiAccess = isRecord(value.apiAccess) ? value.apiAccess : {};
  for (const key of ["userid", "tokenName", "roleName", "rotation"] as const) {
    const v = apiAccess[key];
    // Only a value that passed its own field check: one mistake, one message.
    if (!isString(v) || !ApiAccessSchema.safeParse({ [key]: v }).success) continue;
    for (const problem of apiAccessProblems({ access: NO_ACCESS, [key]: v })) issues.push({ path: ["apiAccess", key], message: problem });
  }
  const privileges = isRecord(value.apiAccess) && Array.isArray(value.apiAccess.privileges) ? value.apiAccess.privileges : [];
  privileges.forEach((priv, i) => {
    // The running major version is only known on the node; here a privilege must exist in some supported version.
    if (isString(priv) && validatePrivileges([priv], 8).length > 0 && validatePrivileges([priv], 9).length > 0) {
      issues.push({ path: ["apiAccess", "privileges", i], message: validatePrivileges([priv], 9)[0] });
    }
  });
  return issues;
}
