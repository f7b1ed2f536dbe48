/** `pveversion` output: `pve-manager/8.4.14/b502d23c55afcba1 (running kernel: 6.8.12-15-pve)`. */
export interface PveVersion {
  /** Full pve-manager version, e.g. "8.4.14". */
  version: string;
  /** major.minor, e.g. "8.4": the unit that must match across a cluster. */
  release: string;
  major: number;
  /** Running kernel, when printed. */
  kernel?: string;
}

const PVEVERSION = /^pve-manager\/(\d+)\.(\d+)(?:\.(\d+))?[^/\s]*\/[0-9a-f]+(?:\s+\(running kernel: ([^)]+)\))?\s*$/m;

export function parsePveversion(stdout: string): PveVersion | undefined {
  const m = PVEVERSION.exec(stdout.trim());
  if (!m) return undefined;
  const [, major, minor, patch, kernel] = m;
  return {
    version: patch === undefined ? `${major}.${minor}` : `${major}.${minor}.${patch}`,
    release: `${major}.${minor}`,
    major: Number(major),
    kernel,
  };
}
