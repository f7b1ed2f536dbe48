/**
 * Sysctls and kernel command-line parameters of a node's baseline: the rules
 * a name and a value must follow (the schema and the provider's check share
 * them), the sysctl.d file and the GRUB drop-in they are written to, and the
 * parameters' place on a systemd-boot line (/etc/kernel/cmdline). No I/O.
 */

/** A sysctl name as `sysctl` takes it: dotted segments (letters, digits, _ and -; / inside a segment for an interface like eth0.10). */
export function isSysctlName(name: string): boolean {
  return /^[a-z][a-z0-9_]*(\.[A-Za-z0-9_][A-Za-z0-9_/:@+-]*)+$/.test(name) && name.length <= 200;
}

/** A value: printable text on one line (several numbers are separated by spaces or tabs). */
export function isSysctlValue(value: string): boolean {
  return value.trim() !== "" && value.length <= 200 && ![...value].some((c) => c !== "\t" && (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f));
}

/** A kernel parameter: `name` or `name=value`, no spaces or quotes. */
export function isKernelParameter(p: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.,:/+-]*(=[A-Za-z0-9_.,:/+=@-]+)?$/.test(p) && p.length <= 200;
}

/** What the schema and the provider's check refuse, one sentence each; empty when all is well. */
export function kernelSettingsProblems(node: string, sysctls: Record<string, string>, parameters: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(sysctls ?? {})) {
    if (!isSysctlName(key)) problems.push(`${node}: sysctl ${JSON.stringify(key)} is not a sysctl name (dotted, like net.ipv4.ip_forward)`);
    if (!isSysctlValue(String(value))) problems.push(`${node}: sysctl ${key} = ${JSON.stringify(value)} is not a value on one line (a newline or control character, or empty)`);
  }
  for (const p of parameters ?? []) {
    if (!isKernelParameter(p)) problems.push(`${node}: kernel parameter ${JSON.stringify(p)} is not name or name=value without spaces or quotes`);
  }
  return problems;
}

/** /etc/sysctl.d file holding the baseline's sysctls (after the distribution's, before local overrides in 99-*). */
export function sysctlFilePath(): string {
  return "/etc/sysctl.d/90-homelab.conf";
}

export function sysctlFileContent(sysctls: Record<string, string>): string {
  const keys = Object.keys(sysctls).sort();
  return `# Managed by homelab (baseline.sysctls); changes here are overwritten.\n${keys.map((k) => `${k} = ${sysctls[k]}\n`).join("")}`;
}

/** The GRUB drop-in adding the parameters (grub-mkconfig sources /etc/default/grub.d/*.cfg after /etc/default/grub). */
export function grubDropInPath(): string {
  return "/etc/default/grub.d/90-homelab.cfg";
}

export function grubDropInContent(parameters: readonly string[]): string {
  return `# Managed by homelab (baseline.kernelParameters); changes here are overwritten.\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ${parameters.join(" ")}"\n`;
}

/** A systemd-boot line with the parameters: the ones we added before and no longer want removed, the missing ones appended. */
export function systemdBootLine(current: string, wanted: readonly string[], managedBefore: readonly string[]): string {
  const words = current.trim().split(/\s+/).filter(Boolean);
  const kept = words.filter((w) => wanted.includes(w) || !managedBefore.includes(w));
  return [...kept, ...wanted.filter((p) => !kept.includes(p))].join(" ");
}

/** Parameters the running kernel was not booted with (/proc/cmdline): a reboot is pending for them. */
export function missingFromCmdline(procCmdline: string, wanted: readonly string[]): string[] {
  const words = new Set(procCmdline.trim().split(/\s+/));
  return wanted.filter((p) => !words.has(p));
}

/** Compare sysctl values the way the kernel prints them (tabs between numbers). */
export function sameSysctlValue(a: string, b: string): boolean {
  return a.trim().split(/\s+/).join(" ") === b.trim().split(/\s+/).join(" ");
}
