/**
 * Parsers for `qm` output (pve-cli.md §3). Pure functions.
 */

/** `qm config <vmid>`: sorted `key: value` lines; `description` is URI-escaped (%XX). */
export function parseQmConfig(text: string): Record<string, string> {
  const conf: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z0-9_-]+): ?(.*)$/.exec(line.replace(/\r$/, ""));
    if (!m) continue;
    conf[m[1]] = m[1] === "description" ? decodePercent(m[2]) : m[2];
  }
  return conf;
}

function decodePercent(value: string): string {
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The stderr of `qm config/destroy/...` for a VMID that has no config on this node. */
export function isMissingVmConfig(stderr: string): boolean {
  return /Configuration file 'nodes\/[^/]+\/qemu-server\/\d+\.conf' does not exist/.test(stderr);
}

/**
 * The volume `qm importdisk` / `qm disk import` created. Both formats:
 * qemu-server >= 8.2.7 `unused0: successfully imported disk 'local-lvm:vm-9000-disk-0'`,
 * older `Successfully imported disk as 'unused0:local-lvm:vm-9000-disk-0'`.
 */
export function parseImportDisk(stdout: string): { slot: string; volid: string } | undefined {
  for (const line of stdout.split("\n").map((l) => l.replace(/\r$/, "").trim())) {
    let m = /^(\w+): successfully imported disk '([^']+)'$/.exec(line);
    if (m) return { slot: m[1], volid: m[2] };
    m = /^Successfully imported disk as '(\w+):(.+)'$/.exec(line);
    if (m) return { slot: m[1], volid: m[2] };
  }
  return undefined;
}

/** The options of a drive value: `local-lvm:vm-1-disk-0,discard=on,size=32G` → volid + options. */
export function parseDrive(value: string): { volid: string; options: Record<string, string> } {
  const [volid, ...rest] = value.split(",");
  const options: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq > 0) options[part.slice(0, eq)] = part.slice(eq + 1);
    else options[part] = "";
  }
  return { volid, options };
}

/**
 * Marker written into a template's description: identifies our templates and their inputs.
 * (A module-local const: an exported one is read as `exports.X`, which the closure
 * serializer does not capture.)
 */
const MARKER_PREFIX = "homelab-cloud-template inputs-sha256=";
export const TEMPLATE_MARKER_PREFIX = MARKER_PREFIX;

/** Description text for a template built from inputs hashing to `hash`. */
export function templateDescription(hash: string): string {
  return `Managed by homelab (Pulumi CloudTemplate); do not edit. ${MARKER_PREFIX}${hash}`;
}

/** The input hash recorded in a description, or undefined when the guest is not ours. */
export function templateMarker(description: string | undefined): string | undefined {
  if (!description) return undefined;
  const i = description.indexOf(MARKER_PREFIX);
  if (i < 0) return undefined;
  const m = /^[0-9a-f]{64}/.exec(description.slice(i + MARKER_PREFIX.length));
  return m ? m[0] : undefined;
}
