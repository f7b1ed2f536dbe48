/**
 * `dpkg-query -W -f='${Package} ${Status}\n' <pkg>…` output.
 *
 * Status is "<want> <error> <state>", e.g. `install ok installed`,
 * `hold ok installed`, `deinstall ok config-files`, `install reinstreq half-installed`.
 * A package dpkg never heard of prints nothing on stdout (a "no packages found
 * matching" line on stderr, exit 1).
 */
export interface DpkgStatus {
  /** want: install, hold, deinstall, purge, unknown. */
  want: string;
  /** ok or reinstreq. */
  error: string;
  /** not-installed, config-files, half-installed, unpacked, half-configured, triggers-awaited, triggers-pending, installed. */
  state: string;
}

export function parseDpkgQuery(stdout: string): Map<string, DpkgStatus> {
  const result = new Map<string, DpkgStatus>();
  for (const raw of stdout.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const parts = line.split(/\s+/);
    if (parts.length !== 4) continue;
    const [pkg, want, error, state] = parts;
    // Multi-arch packages can print one line per architecture; any installed one counts.
    const prev = result.get(pkg);
    if (prev && isInstalled(prev)) continue;
    result.set(pkg, { want, error, state });
  }
  return result;
}

/** Fully installed and configured (a half-configured package needs apt-get install again). */
export function isInstalled(s: DpkgStatus | undefined): boolean {
  return !!s && s.error === "ok" && (s.state === "installed" || s.state === "triggers-pending");
}

/** The packages of `wanted` that `dpkg-query` reported installed, in `wanted`'s order. */
export function installedOf(wanted: readonly string[], stdout: string): string[] {
  const status = parseDpkgQuery(stdout);
  return wanted.filter((p) => isInstalled(status.get(p)));
}
