/**
 * JSON from Proxmox and Ceph tools. `ceph -f json` prints an empty line
 * before the document, PVE prints a trailing newline; both are tolerated.
 * A parse failure names the node and the command that printed it.
 */
export function parseToolJson<T = unknown>(stdout: string, node: string, what: string): T {
  const text = stdout.trim();
  try {
    return JSON.parse(text) as T;
  } catch {
    const sample = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw new Error(`${node}: ${what} did not print JSON: ${JSON.stringify(sample)}`);
  }
}

/** PVE prints booleans as 0/1 and some numbers as strings; normalize both. */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

export function asBool(value: unknown): boolean {
  return value === true || value === 1 || value === "1";
}
