/**
 * Local account state as our LinuxUser read script prints it (see
 * infra/providers/linux-user.ts `READ_SCRIPT`), and the pieces it is made of:
 * a `getent passwd` line, `id -nG` groups, an authorized_keys file.
 */

/** One `getent passwd` entry. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** `name:x:uid:gid:gecos:home:shell`. */
export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const f = line.trim().split(":");
  if (f.length !== 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name: f[0], uid, gid, home: f[5], shell: f[6] };
}

/**
 * Where the account's password stands, without the hash ever leaving the node:
 * - "none": no password was ever set (`!`, `*`, `!*`): nothing to log in with;
 * - "locked": a hash behind `!` (usermod -L / passwd -l);
 * - "usable": a hash that works for password logins;
 * - "empty": an empty field, i.e. login WITHOUT a password (treated as usable, and locked when asked).
 */
export type PasswordState = "none" | "locked" | "usable" | "empty";

/**
 * How the shadow hash compares with the configured one, compared on the node
 * (the configured hash goes in on stdin, the node's hash never comes out):
 * "unset" when no hash was given, "same" or "different" otherwise.
 */
export type HashMatch = "unset" | "same" | "different";

/** Mode, owner and group as `stat -c '%a %U %G'` prints them; undefined when missing. */
export interface FileMeta {
  mode: string;
  owner: string;
  group: string;
}

export interface AccountState {
  passwd: PasswdEntry;
  /** Every group the account is in, primary included (`id -nG`). */
  groups: string[];
  /** Name of the primary group (`id -gn`). */
  primaryGroup: string;
  password: PasswordState;
  /** The shadow hash against the configured one ("unset" when none was given or the line is absent). */
  hashMatch: HashMatch;
  /** ~/.ssh: missing, a symlink (never written through), or its metadata. */
  sshDir: FileMeta | "missing" | "symlink";
  /** ~/.ssh/authorized_keys: missing or its metadata. */
  keysFile: FileMeta | "missing" | "symlink";
  /** Raw authorized_keys content ("" when missing). */
  keysText: string;
}

function parseMeta(value: string): FileMeta | "missing" | "symlink" {
  if (value === "missing" || value === "symlink") return value;
  const [mode, owner, group] = value.split(" ");
  return { mode: (mode ?? "").padStart(4, "0"), owner: owner ?? "", group: group ?? "" };
}

/**
 * Parse the read script's output: `key:value` lines, then a `---` line, then
 * the authorized_keys content verbatim.
 */
export function parseAccountState(stdout: string): AccountState {
  const sep = stdout.indexOf("\n---\n");
  if (sep < 0) throw new Error(`account state output has no separator: ${JSON.stringify(stdout.slice(0, 200))}`);
  const head = stdout.slice(0, sep).split("\n");
  const keysText = stdout.slice(sep + 5);
  const fields = new Map<string, string>();
  for (const line of head) {
    const i = line.indexOf(":");
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1));
  }
  const passwd = parsePasswdLine(fields.get("passwd") ?? "");
  if (!passwd) throw new Error(`account state has no valid passwd line: ${JSON.stringify(fields.get("passwd"))}`);
  const password = fields.get("password") ?? "";
  if (!["none", "locked", "usable", "empty"].includes(password)) throw new Error(`unknown password state "${password}"`);
  const hashMatch = fields.get("hash") ?? "unset";
  // The value is not shown: whatever is there is not ours to print.
  if (!["unset", "same", "different"].includes(hashMatch)) throw new Error("account state has an unknown hash comparison");
  return {
    passwd,
    groups: (fields.get("groups") ?? "").split(/\s+/).filter((g) => g !== ""),
    primaryGroup: (fields.get("primary") ?? "").trim(),
    password: password as PasswordState,
    hashMatch: hashMatch as HashMatch,
    sshDir: parseMeta(fields.get("sshdir") ?? "missing"),
    keysFile: parseMeta(fields.get("keysfile") ?? "missing"),
    keysText,
  };
}

/** The keys of an authorized_keys file: trimmed lines, no blanks, no comments. */
export function parseAuthorizedKeys(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** A key list in one comparable form: trimmed, whitespace runs folded, unique, sorted. */
export function normalizeKeys(keys: readonly string[]): string[] {
  return [...new Set(keys.map((k) => k.trim().replace(/\s+/g, " ")).filter((k) => k !== ""))].sort();
}
