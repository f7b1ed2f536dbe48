/**
 * Pure renderers for a node's baseline (components/node-baseline.ts): the
 * /etc/hosts block, sudoers drop-ins, the sshd per-user drop-in, the APT repository files per Proxmox
 * VE major version and the subscription-nag hook. No I/O here, so every rule
 * is unit-tested on its own.
 */

/** One /etc/hosts line: an address and the names that resolve to it. */
export interface HostEntry {
  /** IPv4 or IPv6 address. */
  address: string;
  /** Host names for the address, e.g. ["ms01", "ms01-link0"]. */
  names: string[];
}

/**
 * The body of the `cluster-nodes` block: one `address name…` line per entry,
 * in the given order, names de-duplicated. An address listed twice is refused
 * (the resolver would silently use only the first line).
 */
export function renderHostsBlock(hosts: readonly HostEntry[]): string {
  const seenAddress = new Set<string>();
  const ownerOf = new Map<string, string>();
  const lines: string[] = [];
  for (const h of hosts) {
    const address = h.address.trim();
    if (!/^[0-9A-Fa-f.:]+$/.test(address)) throw new Error(`hosts: "${h.address}" is not an IP address`);
    if (seenAddress.has(address)) throw new Error(`hosts: address ${address} is listed twice; merge its names into one entry`);
    seenAddress.add(address);
    const names = [...new Set(h.names.map((n) => n.trim()).filter((n) => n !== ""))];
    if (names.length === 0) throw new Error(`hosts: address ${address} has no names`);
    for (const n of names) {
      if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(n)) throw new Error(`hosts: "${n}" is not a valid host name`);
      const other = ownerOf.get(n.toLowerCase());
      if (other !== undefined && other !== address) {
        throw new Error(`hosts: name ${n} is given to both ${other} and ${address}`);
      }
      ownerOf.set(n.toLowerCase(), address);
    }
    lines.push(`${address} ${names.join(" ")}`);
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/** How a user may use sudo. */
export type SudoMode = "none" | "password" | "nopasswd";

/** Path of the sudoers drop-in for `user` (no dot in the name: sudo skips such files). */
export function sudoersPath(user: string): string {
  return `/etc/sudoers.d/homelab-${user}`;
}

/**
 * The sudoers drop-in for one user, or undefined for "none" (no file).
 * "password": any command as any user/group after typing the user's own
 * password; "nopasswd": the same without a password (automation accounts).
 */
export function renderSudoers(user: string, mode: SudoMode): string | undefined {
  if (mode === "none") return undefined;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Error(`sudoers: "${user}" is not a valid Linux user name`);
  const tag = mode === "nopasswd" ? "NOPASSWD: " : "";
  return `# Managed by Pulumi (homelab); edits are overwritten.\n${user} ALL=(ALL:ALL) ${tag}ALL\n`;
}

/** What a RemoteFile needs for one managed file (connection aside). */
export interface FileSpec {
  path: string;
  content: string;
  blockId?: string;
  fileMode?: string;
  owner?: string;
  group?: string;
  validateCommand?: string[];
  onChangeCommand?: string[];
}

/**
 * The sudoers drop-in as a RemoteFile: 0440 root:root (sudo ignores files
 * others can write), checked with `visudo -cf` before it replaces anything, since
 * a broken sudoers file disables sudo for everyone. Undefined for "none".
 */
export function sudoersFile(user: string, mode: SudoMode): FileSpec | undefined {
  const content = renderSudoers(user, mode);
  if (content === undefined) return undefined;
  return {
    path: sudoersPath(user),
    content,
    fileMode: "0440",
    owner: "root",
    group: "root",
    validateCommand: ["visudo", "-cf", "{}"],
  };
}

/** The sshd drop-in with the per-user login rules (Debian's sshd_config includes sshd_config.d/*.conf). */
export const SSHD_USERS_PATH = "/etc/ssh/sshd_config.d/50-homelab-users.conf";

/** Debian's main sshd configuration. */
export const SSHD_MAIN_CONFIG = "/etc/ssh/sshd_config";

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * The drop-in that makes "SSH key only" an sshd rule: one `Match User` block
 * turning off password and keyboard-interactive (PAM, which would ask for the
 * password too) authentication for the given users, so their passwords keep
 * working for sudo and on the console but never over SSH. Users de-duplicated
 * in the given order; no users gives a comment-only file (sshd's global
 * settings then apply to everyone). The block is the file's last statement:
 * sshd ends a Match at the end of an included file, so nothing after the
 * Include in sshd_config falls under it.
 */
export function renderSshdUsers(keyOnlyUsers: readonly string[]): string {
  const users = [...new Set(keyOnlyUsers)];
  for (const u of users) {
    if (!USER_NAME.test(u)) throw new Error(`sshd: "${u}" is not a valid Linux user name`);
  }
  const head = "# Managed by Pulumi (homelab); edits are overwritten.\n";
  if (users.length === 0) return head + "# No managed user is limited to SSH keys: sshd's global settings apply.\n";
  return (
    head +
    "# SSH keys only for these users; their passwords still work for sudo and on the console.\n" +
    `Match User ${users.join(",")}\n` +
    "\tPasswordAuthentication no\n" +
    "\tKbdInteractiveAuthentication no\n"
  );
}

/**
 * Validator of a candidate sshd drop-in: `sh -c <this> sshd-check <candidate> <target> <user>…`.
 *
 * `sshd -t -f FILE` checks FILE and what it includes, not a loose drop-in, and
 * the candidate cannot be put in place to test it (the running sshd could
 * pick it up). So the check builds the configuration as it will be after the
 * install in a temp dir: copies of the other drop-ins plus the candidate under
 * the target's name, and a copy of sshd_config whose Include of
 * sshd_config.d/ (absolute, or relative, which sshd resolves against
 * /etc/ssh) points at that dir. Then:
 * - no such Include: refused (sshd would silently ignore the drop-in);
 * - `sshd -t -f <copy>` must pass (syntax, options allowed in Match, keys);
 * - `sshd -T -C user=<u>,…` must show password and keyboard-interactive
 *   authentication off for every key-only user, so an earlier drop-in that
 *   wins for a keyword ("first obtained value") cannot make the rule a no-op.
 * Messages name the real paths, not the temp copies. Runs as root (host keys).
 */
export function sshdCheckScript(): string {
  return [
    'cand=$1; target=$2; shift 2; main=' + SSHD_MAIN_CONFIG + '; dropins=${target%/*}',
    'd=$(mktemp -d) || exit 1',
    "trap 'rm -rf -- \"$d\"' EXIT",
    'mkdir -- "$d/conf.d" || exit 1',
    'for f in "$dropins"/*.conf; do',
    '  if [ -e "$f" ] && [ "$f" != "$target" ]; then cp -- "$f" "$d/conf.d/" || exit 1; fi',
    'done',
    'cp -- "$cand" "$d/conf.d/${target##*/}" || exit 1',
    'sed -E "/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]]/ s#(^|[[:space:]]|\\")(/etc/ssh/)?sshd_config\\.d/#\\1$d/conf.d/#g" "$main" > "$d/sshd_config" || exit 1',
    'if ! grep -q -F -- "$d/conf.d/" "$d/sshd_config"; then',
    '  echo "$main does not include $dropins/*.conf, so sshd would ignore $target" >&2; exit 1',
    'fi',
    'real() { sed "s#$d/conf.d/#$dropins/#g; s#$d/sshd_config#$main#g"; }',
    'if ! out=$(sshd -t -f "$d/sshd_config" 2>&1); then',
    '  printf \'sshd -t rejects the configuration with the new %s:\\n%s\\n\' "$target" "$out" | real >&2; exit 1',
    'fi',
    'for u in "$@"; do',
    '  if ! eff=$(sshd -T -f "$d/sshd_config" -C "user=$u,host=homelab-check,addr=127.0.0.1" 2>&1); then',
    '    printf \'sshd -T for user %s failed:\\n%s\\n\' "$u" "$eff" | real >&2; exit 1',
    '  fi',
    '  for k in passwordauthentication kbdinteractiveauthentication; do',
    '    if ! printf \'%s\\n\' "$eff" | grep -qx "$k no"; then',
    '      echo "with the new $target sshd still has $k on for $u (an earlier setting wins)" >&2; exit 1',
    '    fi',
    '  done',
    'done',
  ].join("\n");
}

/**
 * The per-user sshd drop-in as a RemoteFile: 0644 root:root, checked with
 * sshdCheckScript before it replaces anything (a broken sshd config stops the
 * next sshd start, i.e. the way in), and `systemctl reload ssh` after a
 * change (a reload keeps open sessions; a config sshd refuses keeps the old
 * one running).
 */
export function sshdUsersFile(keyOnlyUsers: readonly string[]): FileSpec {
  const users = [...new Set(keyOnlyUsers)];
  return {
    path: SSHD_USERS_PATH,
    content: renderSshdUsers(users),
    fileMode: "0644",
    owner: "root",
    group: "root",
    validateCommand: ["sh", "-c", sshdCheckScript(), "sshd-check", "{}", SSHD_USERS_PATH, ...users],
    onChangeCommand: ["systemctl", "reload", "ssh"],
  };
}

/** The /etc/hosts block `cluster-nodes` as a RemoteFile (block mode keeps every other line). */
export function hostsBlockFile(hosts: readonly HostEntry[]): FileSpec {
  return { path: "/etc/hosts", blockId: "cluster-nodes", content: renderHostsBlock(hosts) };
}

/** Ceph releases Proxmox ships per PVE major (proxmox-apt standard repositories). */
const CEPH_RELEASES: Record<number, readonly string[]> = {
  8: ["quincy", "reef", "squid"],
  9: ["squid"],
};

/** Debian codename of each supported PVE major. */
const CODENAMES: Record<number, string> = { 8: "bookworm", 9: "trixie" };

export function supportedPveMajors(): number[] {
  return Object.keys(CEPH_RELEASES).map(Number);
}

/** Every Ceph release name any supported PVE version ships. */
export function knownCephReleases(): string[] {
  return [...new Set(Object.values(CEPH_RELEASES).flat())];
}

/** Where the baseline's APT repository files live. */
export const APT_SOURCES_DIR = "/etc/apt/sources.list.d";

/** Keyring Proxmox's deb822 entries name (shipped by proxmox-archive-keyring). */
export const PROXMOX_KEYRING = "/usr/share/keyrings/proxmox-archive-keyring.gpg";

/**
 * The three APT repository files a node's baseline owns, each written whole.
 * Both formats follow what Proxmox itself writes: the installer's files, the
 * GUI's way of disabling an entry, and `pveceph install --repository
 * no-subscription --version <release>`'s Ceph file.
 */
export interface AptRepoFiles {
  /** The enterprise repository, kept but disabled (as the GUI's "Disable" does), so apt never asks enterprise.proxmox.com. */
  pveEnterprise: FileSpec;
  /** Proxmox VE's no-subscription repository. */
  pveNoSubscription: FileSpec;
  /** Ceph's no-subscription repository; replaces the installer's enterprise Ceph entry in the same file. */
  ceph: FileSpec;
}

/**
 * The APT repository files for a PVE major version and Ceph release.
 *
 * PVE 8 (bookworm) uses one-line `.list` files; PVE 9 (trixie) deb822
 * `.sources` files. Throws for a major version this code does not know and
 * for a Ceph release that major has no repository for (quincy and reef were
 * dropped in PVE 9).
 */
export function aptRepoFiles(pveMajor: number, cephRelease: string): AptRepoFiles {
  const suite = CODENAMES[pveMajor];
  const releases = CEPH_RELEASES[pveMajor];
  if (suite === undefined || releases === undefined) {
    throw new Error(`pveMajor ${pveMajor} is not supported; supported: ${supportedPveMajors().join(", ")}`);
  }
  if (!releases.includes(cephRelease)) {
    throw new Error(
      `cephRelease "${cephRelease}" has no repository on Proxmox VE ${pveMajor}; use one of: ${releases.join(", ")}`,
    );
  }
  const pveEnterprise = { uri: "https://enterprise.proxmox.com/debian/pve", component: "pve-enterprise" };
  const pveNoSub = { uri: "http://download.proxmox.com/debian/pve", component: "pve-no-subscription" };
  const cephNoSub = { uri: `http://download.proxmox.com/debian/ceph-${cephRelease}`, component: "no-subscription" };
  // Mode and owner spelled out (what the installer and pveceph leave), so a refresh, which reads
  // them back, compares equal.
  const file = (name: string, content: string): FileSpec => ({
    path: `${APT_SOURCES_DIR}/${name}`,
    content,
    fileMode: "0644",
    owner: "root",
    group: "root",
  });
  if (pveMajor === 8) {
    const line = (r: { uri: string; component: string }) => `deb ${r.uri} ${suite} ${r.component}\n`;
    return {
      // Disabled by commenting the line out, as the GUI's "Disable" and the admin guide do.
      pveEnterprise: file("pve-enterprise.list", `# ${line(pveEnterprise)}`),
      pveNoSubscription: file("pve-no-subscription.list", line(pveNoSub)),
      ceph: file("ceph.list", line(cephNoSub)),
    };
  }
  const stanza = (r: { uri: string; component: string }, extra = "") =>
    `Types: deb\nURIs: ${r.uri}\nSuites: ${suite}\nComponents: ${r.component}\nSigned-By: ${PROXMOX_KEYRING}\n${extra}`;
  return {
    // Disabled with an `Enabled:` line after the entry's fields (admin guide, PVE 9); apt reads no/false alike.
    pveEnterprise: file("pve-enterprise.sources", stanza(pveEnterprise, "Enabled: false\n")),
    pveNoSubscription: file("proxmox.sources", stanza(pveNoSub)),
    ceph: file("ceph.sources", stanza(cephNoSub)),
  };
}

/**
 * Repository files an earlier major version's baseline (or installer) wrote
 * that the files of `pveMajor` replace: after a PVE 8 → 9 upgrade the one-line
 * `.list` files would name the same repositories a second time (or, not yet
 * rewritten, bookworm on a trixie system). None before PVE 9.
 */
export function supersededAptFiles(pveMajor: number): string[] {
  if (pveMajor < 9) return [];
  return ["pve-enterprise.list", "pve-no-subscription.list", "ceph.list"].map((name) => `${APT_SOURCES_DIR}/${name}`);
}

/** The apt hook that keeps the subscription nag removed after every dpkg run. */
export const NO_NAG_HOOK_PATH = "/etc/apt/apt.conf.d/86homelab-no-nag";

/** The widget-toolkit file holding the nag check. */
export const PROXMOXLIB_JS = "/usr/share/javascript/proxmox-widget-toolkit/proxmoxlib.js";

/**
 * Shell snippet that patches proxmoxlib.js once: on the line(s) testing
 * `data.status`, the negation goes and 'active' becomes 'NoMoreNagging', so the
 * "No valid subscription" dialog never opens. Idempotent (the marker word is
 * checked first), a no-op when the file is absent, and it uses no double quote
 * or backslash, so it can live inside an apt.conf string as is.
 */
export function noNagPatchScript(file: string = PROXMOXLIB_JS): string {
  if (!/^\/[A-Za-z0-9_./-]+$/.test(file)) throw new Error(`nag patch: "${file}" is not a plain absolute path`);
  const f = file;
  return (
    `if [ -s ${f} ] && ! grep -q NoMoreNagging ${f}; then ` +
    `sed -i -e '/data.status/ s/!//' -e '/data.status/ s/active/NoMoreNagging/' ${f}; fi`
  );
}

/** Content of NO_NAG_HOOK_PATH: re-applies the patch after each dpkg run (package upgrades restore the file). */
export function renderNoNagHook(): string {
  const script = noNagPatchScript();
  if (/["\\]/.test(script)) throw new Error("internal: the nag patch must not contain double quotes or backslashes");
  return (
    "// Managed by Pulumi (homelab): removes the Proxmox VE subscription dialog after package upgrades.\n" +
    `DPkg::Post-Invoke { "${script} || true"; };\n`
  );
}

/**
 * The nag hook as a RemoteFile: checked with apt-config before install (a
 * syntax error in apt.conf.d breaks every apt run), and applied once right away.
 */
export function noNagHookFile(): FileSpec {
  return {
    path: NO_NAG_HOOK_PATH,
    content: renderNoNagHook(),
    fileMode: "0644",
    validateCommand: ["apt-config", "-c", "{}", "dump"],
    onChangeCommand: ["sh", "-c", noNagPatchScript()],
  };
}

/** Debian package names, trimmed, de-duplicated and sorted (one stable form for diffs). */
export function normalizePackages(packages: readonly string[], family: "deb" | "rpm" = "deb"): string[] {
  const out = new Set<string>();
  for (const p of packages) {
    const name = p.trim();
    // No ":arch" qualifier: dpkg-query's ${Package} prints the bare name, so it could never match.
    if (family === "deb" && !/^[a-z0-9][a-z0-9+.-]+$/.test(name)) throw new Error(`packages: "${p}" is not a Debian package name`);
    // RPM names also take capitals and "_" (NetworkManager, python3-pip_…); no ".arch" either: rpm -q %{NAME} prints the bare name.
    if (family === "rpm" && !/^[A-Za-z0-9][A-Za-z0-9+_-]*(\.[A-Za-z0-9+_-]+)*$/.test(name)) throw new Error(`packages: "${p}" is not an RPM package name`);
    out.add(name);
  }
  return [...out].sort();
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const FQDN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const TIMEZONE = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+){0,2}$/;

/**
 * /etc/hostname (read back after `hostnamectl set-hostname`, which also sets
 * the running name). The short name only: the FQDN lives in /etc/hosts.
 */
export function hostnameFile(hostname: string): FileSpec {
  if (!HOSTNAME.test(hostname)) throw new Error(`hostname: "${hostname}" is not a host name (lowercase letters, digits and "-", at most 63)`);
  return { path: "/etc/hostname", content: `${hostname}\n`, fileMode: "0644", owner: "root", group: "root", onChangeCommand: ["hostnamectl", "set-hostname", hostname] };
}

/**
 * The /etc/hosts block that makes `hostname -f` answer the FQDN: Debian's
 * 127.0.1.1 convention, which Rocky resolves the same way.
 */
export function fqdnHostsBlock(fqdn: string, hostname: string): FileSpec {
  if (!FQDN.test(fqdn)) throw new Error(`fqdn: "${fqdn}" is not a fully qualified domain name`);
  if (fqdn.split(".")[0] !== hostname) throw new Error(`fqdn: "${fqdn}" does not start with the hostname "${hostname}"`);
  return { path: "/etc/hosts", blockId: "hostname", content: `127.0.1.1\t${fqdn} ${hostname}\n` };
}

/** A fully qualified domain name (lower case, at least two labels). */
export const isFqdn = (v: string): boolean => FQDN.test(v);

/** A name of the tz database's shape ("Europe/Berlin", "UTC"); the node checks that it exists. */
export const isTimezoneName = (v: string): boolean => TIMEZONE.test(v);

/** Whether a time zone name has the tz database's shape ("Europe/Berlin", "UTC"); the node checks it exists. */
export function checkTimezone(timezone: string): void {
  if (!TIMEZONE.test(timezone)) throw new Error(`timezone: "${timezone}" is not a tz database name like "Europe/Berlin" or "UTC"`);
}
