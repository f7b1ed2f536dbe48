/**
 * Proxmox VE privileges per major version, and the default automation role.
 *
 * Source: `$privgroups` in proxmox/pve-access-control `src/PVE/AccessControl.pm`
 * (plus `Permissions.Modify`, which is valid but in no group).
 *  - PVE 8: libpve-access-control 8.2.2 (commit 25dd375, the last bookworm release).
 *    `Sys.AccessNetwork` only exists from libpve-access-control 8.1.2 (PVE 8.1, Feb 2024);
 *    a node older than that rejects it (the providers translate that error).
 *  - PVE 9: libpve-access-control 9.1.1 (commit 5ccd07d). 9.0.2 dropped `VM.Monitor`
 *    (commit 0706945) after adding `VM.GuestAgent.*` (922f710); 9.0.3 added `VM.Replicate`
 *    (5f7544f). Every PVE 9 release (9.0 GA shipped access-control 9.0.3+) has this set.
 *
 * Pure data and functions: safe to import from the stack schema and from dynamic providers.
 */

/*
 * Serialization note: functions below only reference the module-private
 * constants (PRIVILEGES, ...). TypeScript compiles a reference to an exported
 * const as `exports.X`, which Pulumi's closure serializer does not capture, so
 * provider code would see `undefined`. The exported names are aliases.
 */

/** PVE 8 (libpve-access-control 8.2.2), sorted. */
const PVE8_PRIVILEGES: readonly string[] = [
  "Datastore.Allocate",
  "Datastore.AllocateSpace",
  "Datastore.AllocateTemplate",
  "Datastore.Audit",
  "Group.Allocate",
  "Mapping.Audit",
  "Mapping.Modify",
  "Mapping.Use",
  "Permissions.Modify",
  "Pool.Allocate",
  "Pool.Audit",
  "Realm.Allocate",
  "Realm.AllocateUser",
  "SDN.Allocate",
  "SDN.Audit",
  "SDN.Use",
  "Sys.AccessNetwork",
  "Sys.Audit",
  "Sys.Console",
  "Sys.Incoming",
  "Sys.Modify",
  "Sys.PowerMgmt",
  "Sys.Syslog",
  "User.Modify",
  "VM.Allocate",
  "VM.Audit",
  "VM.Backup",
  "VM.Clone",
  "VM.Config.CDROM",
  "VM.Config.CPU",
  "VM.Config.Cloudinit",
  "VM.Config.Disk",
  "VM.Config.HWType",
  "VM.Config.Memory",
  "VM.Config.Network",
  "VM.Config.Options",
  "VM.Console",
  "VM.Migrate",
  "VM.Monitor",
  "VM.PowerMgmt",
  "VM.Snapshot",
  "VM.Snapshot.Rollback",
];

/** What PVE 9 changed: `VM.Monitor` dropped, guest-agent privileges and `VM.Replicate` added. */
const PVE9_REMOVED: readonly string[] = ["VM.Monitor"];
const PVE9_ADDED: readonly string[] = ["VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Replicate"];

/** Privileges of every supported Proxmox VE major version, sorted. */
const PRIVILEGES: Readonly<Record<number, readonly string[]>> = {
  8: PVE8_PRIVILEGES,
  9: [...PVE8_PRIVILEGES.filter((p) => !PVE9_REMOVED.includes(p)), ...PVE9_ADDED].sort(),
};

/** Privileges of every supported Proxmox VE major version, sorted. */
export const PVE_PRIVILEGES = PRIVILEGES;

const SUPPORTED_MAJORS: readonly number[] = Object.keys(PRIVILEGES).map(Number);
/** Major versions we know the privilege set of. */
export const SUPPORTED_PVE_MAJORS = SUPPORTED_MAJORS;

/**
 * Built-in roles (`$special_roles`): they exist on every node, cannot be created,
 * modified or deleted, and their names cannot be reused.
 */
const BUILTINS: readonly string[] = [
  "Administrator",
  "NoAccess",
  "PVEAdmin",
  "PVEAuditor",
  "PVEDatastoreAdmin",
  "PVEDatastoreUser",
  "PVEMappingAdmin",
  "PVEMappingUser",
  "PVEPoolAdmin",
  "PVEPoolUser",
  "PVESDNAdmin",
  "PVESDNUser",
  "PVESysAdmin",
  "PVETemplateUser",
  "PVEUserAdmin",
  "PVEVMAdmin",
  "PVEVMUser",
];
export const BUILTIN_ROLES = BUILTINS;

/**
 * What the automation token needs to drive the native provider (bpg /
 * pulumi-proxmoxve) over VMs and templates, storages and downloads, Ceph pools,
 * HA and SDN. Based on the bpg provider's documented Terraform role
 * (Datastore.*, Pool.Allocate, Sys.Audit/Console/Modify, SDN.Use, VM.*,
 * User.Modify), extended with what the APIs we use check:
 *  - Sys.Modify on `/`: Ceph pools, cluster options, node network, APT repositories,
 *    and downloads (download-url accepts Sys.Audit+Sys.Modify instead of Sys.AccessNetwork).
 *  - Sys.Console on `/`: every HA resource/rule write (pve-ha-manager API2/HA).
 *  - SDN.Allocate/SDN.Audit: SDN zones, vnets, fabrics; SDN.Use: NICs on SDN bridges.
 *  - VM.Snapshot(.Rollback), VM.Backup, Pool.Audit: snapshots, backup jobs, pools.
 * Per version: PVE 8 needs VM.Monitor for guest-agent reads (the provider reads VM IPs
 * through the agent); PVE 9 replaces it by VM.GuestAgent.Audit (read-only agent calls)
 * and guards replication with VM.Replicate. Guest-agent file access and exec
 * (VM.GuestAgent.FileRead/FileWrite/Unrestricted) are deliberately left out; add them
 * through `privileges` when a workload needs them.
 */
const AUTOMATION_COMMON: readonly string[] = [
  "Datastore.Allocate",
  "Datastore.AllocateSpace",
  "Datastore.AllocateTemplate",
  "Datastore.Audit",
  "Pool.Allocate",
  "Pool.Audit",
  "SDN.Allocate",
  "SDN.Audit",
  "SDN.Use",
  "Sys.Audit",
  "Sys.Console",
  "Sys.Modify",
  "User.Modify",
  "VM.Allocate",
  "VM.Audit",
  "VM.Backup",
  "VM.Clone",
  "VM.Config.CDROM",
  "VM.Config.CPU",
  "VM.Config.Cloudinit",
  "VM.Config.Disk",
  "VM.Config.HWType",
  "VM.Config.Memory",
  "VM.Config.Network",
  "VM.Config.Options",
  "VM.Console",
  "VM.Migrate",
  "VM.PowerMgmt",
  "VM.Snapshot",
  "VM.Snapshot.Rollback",
];

const AUTOMATION_DEFAULTS: Readonly<Record<number, readonly string[]>> = {
  8: sortPrivileges([...AUTOMATION_COMMON, "VM.Monitor"]),
  9: sortPrivileges([...AUTOMATION_COMMON, "VM.GuestAgent.Audit", "VM.Replicate"]),
};
/** Default privileges of the automation role, per major version (sorted). */
export const DEFAULT_AUTOMATION_PRIVILEGES = AUTOMATION_DEFAULTS;

/** What to use instead of a privilege that does not exist on a major version. */
const REPLACEMENTS: Readonly<Record<number, Readonly<Record<string, string>>>> = {
  8: {
    "VM.GuestAgent.Audit": "VM.Monitor",
    "VM.GuestAgent.FileRead": "VM.Monitor",
    "VM.GuestAgent.FileWrite": "VM.Monitor",
    "VM.GuestAgent.FileSystemMgmt": "VM.Monitor",
    "VM.GuestAgent.Unrestricted": "VM.Monitor",
    // PVE 8 guards guest replication with Datastore.Allocate on /storage.
    "VM.Replicate": "Datastore.Allocate",
  },
  9: {
    "VM.Monitor": "VM.GuestAgent.Audit",
  },
};

/** Privileges sorted the way Proxmox lists them (`pveum role list`: plain string sort). */
export function sortPrivileges(privs: Iterable<string>): string[] {
  return [...new Set(privs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Split a privilege list the way pveum does (`split_list`: commas, semicolons,
 * whitespace) and sort it. Accepts an array (each element may itself be a list).
 */
export function normalizePrivileges(privs: string | readonly string[]): string[] {
  const parts = (typeof privs === "string" ? [privs] : privs).flatMap((p) => p.split(/[\s,;]+/));
  return sortPrivileges(parts.filter((p) => p !== ""));
}

/** The default automation privileges for a major version; throws for an unknown major. */
export function defaultAutomationPrivileges(major: number): string[] {
  const privs = AUTOMATION_DEFAULTS[major];
  if (!privs) throw new Error(unsupportedMajorMessage(major));
  return [...privs];
}

function unsupportedMajorMessage(major: number): string {
  return (
    `the privileges of Proxmox VE ${major} are not known (known: ${SUPPORTED_MAJORS.join(", ")}); ` +
    `add them to infra/pve-privileges.ts`
  );
}

/**
 * Check a privilege list against a major version. Returns one sentence per
 * problem (empty when valid), e.g.
 * `privilege "VM.Monitor" does not exist on Proxmox VE 9; remove it or use VM.GuestAgent.Audit`.
 * Pure: the stack schema can call it too (prefix the sentences with the role).
 */
export function validatePrivileges(privs: readonly string[], major: number): string[] {
  const known = PRIVILEGES[major];
  if (!known) return [unsupportedMajorMessage(major)];
  const knownSet = new Set(known);
  const issues: string[] = [];
  const seen = new Set<string>();
  for (const priv of privs.flatMap((p) => p.split(/[\s,;]+/)).filter((p) => p !== "")) {
    if (knownSet.has(priv) || seen.has(priv)) continue;
    seen.add(priv);
    const instead = REPLACEMENTS[major]?.[priv] ?? closestPrivilege(priv, known);
    issues.push(
      `privilege ${JSON.stringify(priv)} does not exist on Proxmox VE ${major}; ` +
        (instead ? `remove it or use ${instead}` : `remove it (valid privileges: ${known.join(", ")})`),
    );
  }
  return issues;
}

/** Throws one error naming the role and every invalid privilege. */
export function assertValidPrivileges(roleName: string, privs: readonly string[], major: number): void {
  const issues = validatePrivileges(privs, major);
  if (issues.length > 0) throw new Error(issues.map((i) => `role ${roleName}: ${i}`).join("\n"));
}

/**
 * Check a role name like pveum does before any call: `[A-Za-z0-9.\-_]+`, not a
 * built-in role, not in the reserved `PVE` namespace. Returns the problem or undefined.
 */
export function validateRoleName(roleName: string): string | undefined {
  if (!/^[A-Za-z0-9.\-_]+$/.test(roleName)) {
    return `role name ${JSON.stringify(roleName)} contains invalid characters (allowed: letters, digits, ".", "-", "_")`;
  }
  if (BUILTINS.includes(roleName)) {
    return `role ${roleName} is a built-in Proxmox role and cannot be modified; choose another name`;
  }
  if (/^pve/i.test(roleName)) {
    return `role ${roleName}: names starting with "PVE" (any case) are reserved by Proxmox; choose another name`;
  }
  return undefined;
}

/** A case-insensitive match or the nearest name by edit distance (≤ 3), for "did you mean". */
function closestPrivilege(priv: string, known: readonly string[]): string | undefined {
  const lower = priv.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = 4;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
