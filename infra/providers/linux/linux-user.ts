/**
 * LinuxUser: a local login account on a node, reached by SSH key.
 *
 * Reads the account first (`getent passwd`, `id -nG`, the shadow password
 * state, ~/.ssh/authorized_keys) and runs useradd/usermod only for what
 * differs, so a second run (or a node that already matches) runs no mutating
 * command. `read` returns the real shell, groups, keys and password state, so
 * a key added by hand or a changed shell shows as drift on `pulumi refresh`.
 *
 * - authorized_keys holds exactly the configured keys, owned by the user,
 *   0600 in a 0700 ~/.ssh (sshd's StrictModes refuses anything looser).
 * - Supplementary groups are exactly the configured ones (usermod -G).
 * - passwordHash (secret, optional): a crypt(3) hash (`$y$…`, `$6$…`), never
 *   a plaintext password. The account's shadow hash is set to it with
 *   `chpasswd -e`, the `user:hash` line fed on stdin (never on a command
 *   line), and only when the node's hash differs: the comparison runs on the
 *   node (the configured hash goes in on stdin, the node's hash never comes
 *   out), so an unchanged account runs no mutating command. `read` reports a
 *   hash changed (or locked) on the node as drift without storing the node's
 *   hash. The hash is redacted from every error and stored only as a secret
 *   output. This is what makes `sudo: password` usable.
 * - With a passwordHash, `passwordLogin` no longer touches the password: the
 *   hash stays usable (for sudo, the console), and "SSH key only" is sshd's
 *   job (components/node-baseline.ts writes a `Match User` drop-in with
 *   PasswordAuthentication no for every user with passwordLogin false).
 * - Without a passwordHash, passwordLogin false means no password can be used
 *   at all. New accounts get the password field `*` (no password, passwd -S
 *   shows L); an existing password hash is locked with `usermod -L`. Key
 *   logins keep working: PVE's sshd runs with UsePAM yes, where a locked
 *   password does not block keys. (With UsePAM no, sshd treats a `!`-locked
 *   account as locked for keys too; `*` is not affected, which is why new
 *   accounts get `*`.)
 * - sudo is not this resource's job: the component writes
 *   /etc/sudoers.d/homelab-<user> as a RemoteFile validated with visudo.
 *
 * Delete keeps the account and its home unless `removeOnDelete` is true
 * (then `userdel --remove`): removing a user from the config by mistake must
 * not destroy a home directory, and a deleted uid gets reused, handing the
 * old user's files elsewhere on the system to whoever is created next. A kept
 * account whose hash this resource set gets its password locked (`usermod
 * -L`): the user left the config, and with it the sshd rule that kept the
 * password off SSH.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command, which has
 * no read (no drift) and no per-field diff.
 */
import * as pulumi from "@pulumi/pulumi";
import { AccountState, FileMeta, normalizeKeys, parseAccountState, parseAuthorizedKeys } from "../../parse/accounts";
import { command, sh } from "../../shell";
import { CommandFailedError, CommandResult, redact, SshSession, withSession } from "../../ssh";
import { CONNECTION_SECRET_OUTPUTS, ConnectionArgs, type ConnectionInput, sshOptions, sshTarget } from "../connection";
import { isUnknown } from "../diff";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const LINUX_USER_PROVIDER_VERSION = "2";


const LOGIN_SHELL = "/bin/bash";
/** Alias: provider code must not read an `export const` (it becomes `exports.X`, undefined once serialized). */
export const DEFAULT_SHELL = LOGIN_SHELL;

export interface LinuxUserInputs extends ConnectionArgs {
  providerVersion: string;
  /** Login name. */
  name: string;
  /** Public keys, one authorized_keys line each. */
  sshKeys: string[];
  /** Login shell. */
  shell: string;
  /** Supplementary groups (must exist). */
  groups: string[];
  /** Whether the account's password may be used to log in (without passwordHash: the password is locked when false). */
  passwordLogin: boolean;
  /** Secret crypt(3) hash to set as the account's password; undefined: not managed. */
  passwordHash?: string;
  /** On delete: remove the account and its home (userdel --remove). */
  removeOnDelete: boolean;
}

export interface LinuxUserOutputs extends LinuxUserInputs {
  uid: number;
  home: string;
}

/** Exit code of the read script when the account does not exist. */
const ABSENT = 3;

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function checkInputs(inputs: LinuxUserInputs): void {
  const node = inputs.connection.node;
  if (!USER_NAME.test(inputs.name)) throw new Error(`${node}: "${inputs.name}" is not a valid Linux user name`);
  if (inputs.name === "root") {
    // PVE's /root/.ssh/authorized_keys is a symlink into the cluster filesystem, shared by every node.
    throw new Error(`${node}: LinuxUser does not manage root; root's keys belong to the cluster setup`);
  }
  for (const key of inputs.sshKeys ?? []) {
    if (/[\r\n]/.test(key)) throw new Error(`${node}: an SSH key of ${inputs.name} contains a line break`);
  }
  if (!inputs.shell.startsWith("/")) throw new Error(`${node}: shell "${inputs.shell}" of ${inputs.name} is not an absolute path`);
  if (inputs.passwordHash !== undefined && !isCryptHash(inputs.passwordHash)) {
    // Never show the value: it may be a plaintext password pasted by mistake.
    throw new Error(
      `${node}: passwordHash of ${inputs.name} is not a crypt(3) hash (yescrypt $y$…, SHA-512 $6$…, SHA-256 $5$…, bcrypt $2b$…); ` +
        "make one with `mkpasswd -m yescrypt` or `openssl passwd -6` and store the hash, never the password",
    );
  }
}

/**
 * A crypt(3) hash of a scheme Debian's libxcrypt verifies and that is not
 * broken (no DES, no MD5-crypt), in the `$id$…$…` form; no `:` or line break,
 * which would corrupt the `user:hash` line chpasswd reads.
 */
export function isCryptHash(hash: string): boolean {
  return /^\$(y|gy|7|2[aby]|6|5)\$[A-Za-z0-9./=,$]+$/.test(hash) && hash.split("$").length >= 4 && hash.length <= 512;
}

/**
 * Prints the account state (see parseAccountState) or exits ABSENT. A hash to
 * compare with may come as the first line of stdin; it is only compared by
 * shell builtins (`read`, `[`), so it never shows in a process list either.
 */
function readScript(name: string): string {
  return (
    sh`u=${name}; ` +
    `IFS= read -r want || want=; ` +
    `pw=$(getent passwd "$u") || exit ${ABSENT}; ` +
    `printf 'passwd:%s\\n' "$pw"; ` +
    `printf 'groups:%s\\n' "$(id -nG "$u")"; ` +
    `printf 'primary:%s\\n' "$(id -gn "$u")"; ` +
    // The hash itself never leaves the node: only its kind is printed.
    `f=; if s=$(getent shadow "$u"); then f=$(printf '%s' "$s" | cut -d: -f2); ` +
    `case "$f" in '') st=empty ;; '!'|'*'|'!*'|'!!'|'*LK*') st=none ;; '!'*|'*'*) st=locked ;; *) st=usable ;; esac; ` +
    `else st=none; fi; ` +
    `printf 'password:%s\\n' "$st"; ` +
    `if [ -z "$want" ]; then m=unset; elif [ -n "$f" ] && [ "$f" = "$want" ]; then m=same; else m=different; fi; ` +
    `printf 'hash:%s\\n' "$m"; ` +
    `home=$(printf '%s' "$pw" | cut -d: -f6); d="$home/.ssh"; ` +
    `meta() { if [ -L "$1" ]; then echo symlink; elif [ -e "$1" ]; then stat -c '%a %U %G' -- "$1"; else echo missing; fi; }; ` +
    `printf 'sshdir:%s\\n' "$(meta "$d")"; ` +
    `printf 'keysfile:%s\\n' "$(meta "$d/authorized_keys")"; ` +
    `echo ---; ` +
    `if [ ! -L "$d" ] && [ ! -L "$d/authorized_keys" ] && [ -f "$d/authorized_keys" ]; then cat -- "$d/authorized_keys"; fi`
  );
}

/** Read the account; with `hash`, also compare its shadow hash with it (on the node). */
export async function readAccount(session: SshSession, name: string, hash?: string): Promise<AccountState | undefined> {
  const script = readScript(name);
  const secrets = hash ? [hash] : [];
  const result = await session.run(script, { stdin: hash ? `${hash}\n` : "", secrets });
  if (result.code === ABSENT) return undefined;
  if (result.code !== 0) throw new CommandFailedError(session.node, `read account ${name}`, redacted(result, secrets), secrets);
  return parseAccountState(result.stdout);
}

/** The result with every secret blanked out: a CommandFailedError keeps its result, not only its message. */
function redacted(result: CommandResult, secrets: readonly string[]): CommandResult {
  return { ...result, stdout: redact(result.stdout, secrets), stderr: redact(result.stderr, secrets) };
}

/** Set the account's shadow hash: `chpasswd -e` reads `user:hash` from stdin; the hash is redacted from any error. */
async function setPasswordHash(session: SshSession, name: string, hash: string): Promise<void> {
  const chpasswd = command("chpasswd", "-e");
  const result = await session.run(chpasswd, { stdin: `${name}:${hash}\n`, secrets: [hash] });
  if (result.code !== 0) throw new CommandFailedError(session.node, chpasswd, redacted(result, [hash]), [hash]);
  const after = await readAccount(session, name, hash);
  if (after?.hashMatch !== "same") {
    throw new Error(`${session.node}: chpasswd -e for ${name} succeeded but getent shadow does not show the configured hash`);
  }
}

/** Supplementary groups: all groups minus the primary one, sorted. */
function supplementary(state: AccountState): string[] {
  return [...new Set(state.groups.filter((g) => g !== state.primaryGroup))].sort();
}

function normGroups(groups: readonly string[] | undefined, primary?: string): string[] {
  return [...new Set((groups ?? []).map((g) => g.trim()).filter((g) => g !== "" && g !== primary))].sort();
}

/** sshd (StrictModes) ignores keys in a file or directory that others may write or that the user does not own. */
function strictModesOk(meta: FileMeta | "missing" | "symlink", owner: string): boolean {
  if (meta === "missing" || meta === "symlink") return false;
  return meta.owner === owner && (parseInt(meta.mode, 8) & 0o022) === 0;
}

/** The keys sshd would accept for this account. */
function effectiveKeys(state: AccountState): string[] {
  if (!strictModesOk(state.sshDir, state.passwd.name) || !strictModesOk(state.keysFile, state.passwd.name)) return [];
  return parseAuthorizedKeys(state.keysText);
}

function metaIs(meta: FileMeta | "missing" | "symlink", mode: string, owner: string, group: string): boolean {
  return typeof meta === "object" && meta.mode === mode && meta.owner === owner && meta.group === group;
}

/** What read reports as passwordHash when the node's hash is not the stored one (the node's hash is never stored). */
const HASH_DRIFT = "(changed on the node)";

function passwordLoginOf(state: AccountState, wanted: boolean): boolean {
  if (state.password === "usable" || state.password === "empty") return true;
  if (state.password === "locked") return false;
  return wanted; // no password at all satisfies either wish
}

async function writeKeys(session: SshSession, state: AccountState, keys: readonly string[]): Promise<void> {
  const user = state.passwd.name;
  const owner = `${user}:${state.primaryGroup}`;
  const text = keys.length === 0 ? "" : keys.join("\n") + "\n";
  const script =
    sh`set -e; d=${`${state.passwd.home}/.ssh`}; owner=${owner}; ` +
    `if [ -L "$d" ]; then echo "$d is a symlink; refusing to write through it" >&2; exit 1; fi; ` +
    `[ -d "$d" ] || mkdir -m 0700 -- "$d"; chown "$owner" "$d"; chmod 0700 "$d"; ` +
    `tmp=$(mktemp -- "$d/.authorized_keys.XXXXXX"); trap 'rm -f -- "$tmp"' EXIT; ` +
    `cat > "$tmp"; chown "$owner" "$tmp"; chmod 0600 "$tmp"; mv -f -- "$tmp" "$d/authorized_keys"; trap - EXIT`;
  await session.check(script, { stdin: text });
}

/** Converge one account to the inputs; returns its uid and home. */
export async function applyLinuxUser(inputs: LinuxUserInputs): Promise<{ uid: number; home: string }> {
  checkInputs(inputs);
  const name = inputs.name;
  const wantGroups = normGroups(inputs.groups);
  const hash = inputs.passwordHash;
  return withSession(
    sshTarget(inputs),
    async (session) => {
      let state = await readAccount(session, name, hash);
      const shellOk = await session.run(command("test", "-x", inputs.shell));
      if (shellOk.code !== 0) {
        throw new Error(`${session.node}: shell ${inputs.shell} of user ${name} does not exist on the node (install its package first)`);
      }
      if (!state) {
        const groupExists = (await session.run(command("getent", "group", name))).code === 0;
        const argv = ["useradd", "--create-home", "--shell", inputs.shell, "--password", "*"];
        argv.push(...(groupExists ? ["--gid", name] : ["--user-group"]));
        if (wantGroups.length > 0) argv.push("--groups", wantGroups.join(","));
        await session.check(command(...argv, "--", name));
        state = await readAccount(session, name, hash);
        if (!state) throw new Error(`${session.node}: useradd ${name} succeeded but getent passwd does not show the user`);
      } else {
        const mod: string[] = [];
        if (state.passwd.shell !== inputs.shell) mod.push("--shell", inputs.shell);
        const haveGroups = supplementary(state);
        const want = normGroups(inputs.groups, state.primaryGroup);
        if (JSON.stringify(haveGroups) !== JSON.stringify(want)) mod.push("--groups", want.join(","));
        if (mod.length > 0) await session.check(command("usermod", ...mod, "--", name));
      }

      const keys = [...new Set((inputs.sshKeys ?? []).map((k) => k.trim()).filter((k) => k !== ""))];
      const keysMatch = JSON.stringify(normalizeKeys(parseAuthorizedKeys(state.keysText))) === JSON.stringify(normalizeKeys(keys));
      const metaOk =
        metaIs(state.sshDir, "0700", name, state.primaryGroup) && metaIs(state.keysFile, "0600", name, state.primaryGroup);
      if (!keysMatch || !metaOk) await writeKeys(session, state, keys);

      if (hash !== undefined) {
        // The password stays usable (sudo); whether it may be used over SSH is sshd's rule.
        if (state.hashMatch !== "same") await setPasswordHash(session, name, hash);
      } else if (!inputs.passwordLogin && (state.password === "usable" || state.password === "empty")) {
        await session.check(command("usermod", "--lock", "--", name));
      } else if (inputs.passwordLogin && state.password === "locked") {
        await session.check(command("usermod", "--unlock", "--", name));
      }
      return { uid: state.passwd.uid, home: state.passwd.home };
    },
    sshOptions(inputs),
  );
}

function withDefaults(inputs: LinuxUserInputs): LinuxUserInputs {
  return {
    ...inputs,
    sshKeys: inputs.sshKeys ?? [],
    shell: inputs.shell ?? LOGIN_SHELL,
    // During preview a whole list may arrive as the unknown sentinel string: leave it for diff to see.
    groups: Array.isArray(inputs.groups) || inputs.groups === undefined ? normGroups(inputs.groups) : inputs.groups,
    passwordLogin: inputs.passwordLogin ?? false,
    // Pulumi may deliver an unset secret as undefined, null or "": all mean "not managed".
    passwordHash: inputs.passwordHash ? inputs.passwordHash : undefined,
    removeOnDelete: inputs.removeOnDelete ?? false,
  };
}

export const linuxUserProvider: pulumi.dynamic.ResourceProvider<LinuxUserInputs, LinuxUserOutputs> = {
  async create(raw) {
    const inputs = withDefaults(raw);
    const { uid, home } = await applyLinuxUser(inputs);
    return { id: `${inputs.connection.node}:user:${inputs.name}`, outs: { ...inputs, uid, home } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const hash = props.passwordHash ? props.passwordHash : undefined;
    const state = await withSession(sshTarget(props), (s) => readAccount(s, props.name, hash), sshOptions(props));
    if (!state) return { id: "", props };
    const found = effectiveKeys(state);
    // Keep the stored spelling and order when the key set is the same, so refresh shows real drift only.
    const sshKeys =
      JSON.stringify(normalizeKeys(found)) === JSON.stringify(normalizeKeys(props.sshKeys ?? [])) ? props.sshKeys : found;
    return {
      id,
      props: {
        ...props,
        sshKeys,
        shell: state.passwd.shell,
        groups: supplementary(state),
        // With a hash the password is meant to be usable; passwordLogin is then sshd's rule, not the account's.
        passwordLogin: hash !== undefined ? (props.passwordLogin ?? false) : passwordLoginOf(state, props.passwordLogin ?? false),
        // A hash changed or locked on the node shows as a change of this (secret) output; the node's hash is not stored.
        ...(hash !== undefined ? { passwordHash: state.hashMatch === "same" ? hash : HASH_DRIFT } : {}),
        uid: state.passwd.uid,
        home: state.passwd.home,
      },
    };
  },

  async diff(_id, oldsRaw, newsRaw) {
    const olds = withDefaults(oldsRaw);
    const news = withDefaults(newsRaw);
    const unknown = isUnknown;
    const replaces: string[] = [];
    if (olds.name !== news.name || unknown(news.name)) replaces.push("name");
    if (olds.connection?.node !== news.connection?.node || unknown(news.connection)) replaces.push("connection");
    const same = (a: unknown, b: unknown) => !unknown(b) && JSON.stringify(a) === JSON.stringify(b);
    const keysOf = (k: unknown) => (Array.isArray(k) ? normalizeKeys(k) : k);
    const changes =
      replaces.length > 0 ||
      !same(keysOf(olds.sshKeys), keysOf(news.sshKeys)) ||
      !same(olds.shell, news.shell) ||
      !same(olds.groups, news.groups) ||
      !same(olds.passwordLogin, news.passwordLogin) ||
      !same(olds.passwordHash ?? null, news.passwordHash ?? null) ||
      !same(olds.removeOnDelete, news.removeOnDelete) ||
      olds.providerVersion !== news.providerVersion ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    // Keyed by the user name: the old account must be gone before one with the same name is made.
    return { changes, replaces, deleteBeforeReplace: replaces.length > 0 };
  },

  async update(_id, _olds, raw) {
    const news = withDefaults(raw);
    const { uid, home } = await applyLinuxUser(news);
    return { outs: { ...news, uid, home } };
  },

  async delete(_id, props) {
    const hash = props.passwordHash ? props.passwordHash : undefined;
    if (!props.removeOnDelete && hash === undefined) return; // account and home stay; see the module comment
    await withSession(
      sshTarget(props),
      async (session) => {
        if (!props.removeOnDelete) {
          // The account stays; the password this resource set is locked (see the module comment).
          const state = await readAccount(session, props.name);
          if (state && (state.password === "usable" || state.password === "empty")) {
            await session.check(command("usermod", "--lock", "--", props.name));
          }
          return;
        }
        const present = (await session.run(command("getent", "passwd", props.name))).code === 0;
        if (present) await session.check(command("userdel", "--remove", "--", props.name));
      },
      sshOptions(props),
    );
  },
};

/** Resource inputs as a program passes them. */
export interface LinuxUserArgs {
  connection: pulumi.Input<ConnectionInput>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Login name ([a-z_][a-z0-9_-]*, not root). */
  name: pulumi.Input<string>;
  /** Public keys allowed to log in; authorized_keys holds exactly these. */
  sshKeys: pulumi.Input<pulumi.Input<string>[]>;
  /** Login shell. Defaults to "/bin/bash". */
  shell?: pulumi.Input<string>;
  /** Supplementary groups, which must already exist. Defaults to none. */
  groups?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Allow logging in with the account's password. Defaults to false: without
   * passwordHash the password is locked; with one it stays usable (sudo) and
   * keeping it off SSH is the sshd drop-in's job (components/node-baseline.ts).
   */
  passwordLogin?: pulumi.Input<boolean>;
  /**
   * Secret crypt(3) hash of the account's password (`mkpasswd -m yescrypt`,
   * `openssl passwd -6`), never the password itself; set with `chpasswd -e`
   * when the node's hash differs. Defaults to none (password not managed).
   */
  passwordHash?: pulumi.Input<string>;
  /** Remove the account and its home when this resource is deleted. Defaults to false (both kept). */
  removeOnDelete?: pulumi.Input<boolean>;
}

/** Registered as `pulumi-nodejs:dynamic/node:LinuxUser`. */
export class LinuxUser extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly uid: pulumi.Output<number>;
  declare readonly home: pulumi.Output<string>;

  constructor(name: string, args: LinuxUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      linuxUserProvider,
      name,
      {
        ...args,
        sshPrivateKey: args.sshPrivateKey === undefined ? undefined : pulumi.secret(args.sshPrivateKey),
        passwordHash: args.passwordHash === undefined ? undefined : pulumi.secret(args.passwordHash),
        shell: args.shell ?? DEFAULT_SHELL,
        groups: args.groups ?? [],
        passwordLogin: args.passwordLogin ?? false,
        removeOnDelete: args.removeOnDelete ?? false,
        providerVersion: LINUX_USER_PROVIDER_VERSION,
        uid: undefined,
        home: undefined,
      },
      {
        ...opts,
        additionalSecretOutputs: [...CONNECTION_SECRET_OUTPUTS, "passwordHash", ...(opts?.additionalSecretOutputs ?? [])],
      },
      "node",
      "LinuxUser",
    );
  }
}
