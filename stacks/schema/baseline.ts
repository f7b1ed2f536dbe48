/**
 * Baseline of every node: the schema of `baseline` (packages, repositories,
 * login accounts) and its check (unique user names).
 */
import { z } from "zod";
import { isFqdn, isTimezoneName, knownCephReleases } from "../../infra/baseline";
import { isKernelParameter, isSysctlName, isSysctlValue } from "../../infra/kernel-settings";
import { bool, list, mapping, oneOf, text } from "./fields";
import { notA, show } from "./messages";
import { isLinuxUser, isRecord, isSshPublicKey, isString } from "./predicates";
import type { PathIssue } from "./views";

const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]{1,100}$/;
const SHELL_PATH = /^\/[A-Za-z0-9_./-]{1,100}$/;

export const SUDO_MODES = ["none", "password", "nopasswd"] as const;

export const UserSchema = mapping(
  {
    /** Login name; not root (root's keys belong to the Proxmox cluster). */
    name: text("a Linux user name ([a-z_][a-z0-9_-], at most 32 characters)", (v) => isLinuxUser(v) && v !== "root"),
    /** Public keys allowed to log in (~/.ssh/authorized_keys holds exactly these). */
    sshKeys: list(text("an SSH public key (type, base64 key, optional comment, on one line)", isSshPublicKey), "a list of SSH public keys").min(1, {
      error: "empty; a user needs at least one SSH key",
    }),
    /** Login shell. Defaults to /bin/bash. */
    shell: text("an absolute shell path", (v) => SHELL_PATH.test(v) && !v.includes("..")).default("/bin/bash"),
    /** Supplementary groups (must exist). Defaults to none. */
    groups: list(text("a group name", isLinuxUser), "a list of group names").default([]),
    /** sudo rights: none, password (full sudo after the user's password) or nopasswd. Defaults to none. */
    sudo: oneOf(SUDO_MODES, "a sudo mode").default("none"),
    /** Allow SSH password logins. Defaults to false: SSH keys only, enforced by sshd (the password itself only serves sudo, and is locked unless secrets.userPasswordHashes has one). */
    passwordLogin: bool().default(false),
  },
  "a user (a mapping with name and sshKeys)",
);

export const BaselineSchema = mapping(
  {
    /** Debian packages every node gets. Defaults to none. */
    packages: list(text("a Debian package name", (v) => DEBIAN_PACKAGE.test(v)), "a list of package names").default([]),
    /** Remove the "No valid subscription" dialog (an apt hook). Defaults to false. */
    removeSubscriptionNag: bool().default(false),
    /** Ceph release whose no-subscription repository is configured. Defaults to squid. */
    cephRelease: oneOf(["quincy", "reef", "squid", "tentacle"] as const, "a Ceph release").default("squid"),
    /** Login accounts on every node. Defaults to none. */
    users: list(UserSchema, "a list of users").default([]),
    /** Time zone of every node, host, Linode instance and VM clone (a tz database name: "Europe/Berlin", "UTC"). Defaults to unmanaged. */
    timezone: text('a tz database name like "Europe/Berlin" or "UTC"', isTimezoneName).optional(),
    /**
     * DNS domain of the plain hosts, Linode instances and VM clones: each gets the FQDN
     * `<name>.<domain>` (/etc/hosts, `hostname -f`). Proxmox nodes keep the names their
     * installer gave them. Defaults to none.
     */
    domain: text("a DNS domain (lower-case labels separated by dots)", isFqdn).optional(),
    /**
     * Sysctls every node gets (/etc/sysctl.d/90-homelab.conf), applied and read back, e.g.
     * `net.core.rmem_max: 16777216`. Names and values are checked in checkKernelSettings. Defaults to none.
     */
    sysctls: z
      .record(z.string(), z.union([z.string(), z.number()]), {
        error: (iss) => (iss.code === "invalid_type" ? notA(iss.input, "a mapping of sysctl name to value") : undefined),
      })
      .transform((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])))
      .default({}),
    /** Kernel command-line parameters every node boots with (GRUB drop-in or /etc/kernel/cmdline), e.g. intel_iommu=on. Defaults to none. */
    kernelParameters: list(text("a kernel parameter (name or name=value, no spaces or quotes)", isKernelParameter), "a list of kernel parameters").default([]),
  },
  "a mapping of baseline settings",
);

/** Baseline user names are unique. */
export function checkUsers(value: Record<string, unknown>): PathIssue[] {
  const issues: PathIssue[] = [];
  const users = isRecord(value.baseline) && Array.isArray(value.baseline.users) ? value.baseline.users : [];
  const seen = new Map<string, number>();
  users.forEach((u, i) => {
    if (!isRecord(u) || !isLinuxUser(u.name)) return;
    const first = seen.get(u.name);
    if (first !== undefined) {
      issues.push({ path: ["baseline", "users", i, "name"], message: `${show(u.name)} is already baseline.users[${first}]` });
    } else seen.set(u.name, i);
  });
  return issues;
}

/** The Ceph release is one Proxmox ships for some supported major (the node's own major is checked at `up`). */
export function checkCephRelease(value: Record<string, unknown>): PathIssue[] {
  const release = isRecord(value.baseline) ? value.baseline.cephRelease : undefined;
  if (!isString(release) || !BaselineSchema.safeParse({ cephRelease: release }).success || knownCephReleases().includes(release)) return [];
  return [{ path: ["baseline", "cephRelease"], message: `${show(release)} is not a Ceph release Proxmox ships yet; use one of: ${knownCephReleases().join(", ")}` }];
}

/** Each sysctl is a sysctl name with a value on one line (the key in the path, as `sysctl` spells it). */
export function checkKernelSettings(value: Record<string, unknown>): PathIssue[] {
  const sysctls = isRecord(value.baseline) && isRecord(value.baseline.sysctls) ? value.baseline.sysctls : {};
  const issues: PathIssue[] = [];
  for (const [key, v] of Object.entries(sysctls)) {
    const path = ["baseline", "sysctls", key];
    if (!isSysctlName(key)) issues.push({ path, message: `${show(key)} is not a sysctl name (dotted, like net.ipv4.ip_forward)` });
    else if ((typeof v === "string" || typeof v === "number") && !isSysctlValue(String(v))) {
      issues.push({ path, message: `${show(String(v))} is not a value on one line (a newline or control character, or empty)` });
    }
  }
  return issues;
}
