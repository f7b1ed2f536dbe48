/**
 * One classification of the commands the simulator logs: which ones change a
 * node (a second `pulumi up` on a converged cluster must run none of them).
 * Reads (status, list, get, show, cat, lsblk, dpkg-query, …) are everything
 * else. A command line is mutating when any part of it is, so a script that
 * reads and then writes counts as a write.
 */
import type { CommandLogEntry } from "./cluster";

/** Where a command name starts in a shell line (so `getent passwd` or a printf text is not the `passwd` command). */
const AT_COMMAND = String.raw`(?:^|[;&|({]\s*|\$\(\s*|\b(?:then|do|else|exec|sudo|xargs)\s+)`;
const commands = (names: string) => new RegExp(`${AT_COMMAND}(?:${names})(?=\\s|$|;)`, "m");

/** Why a command counts as mutating: the first pattern it matches. */
export const MUTATING_PATTERNS: readonly { what: string; pattern: RegExp }[] = [
  { what: "cluster membership", pattern: /\bpvecm (create|add|delnode|expected|updatecerts|qdevice (setup|remove))\b/ },
  { what: "Ceph setup", pattern: /\bpveceph (install|init|purge|start|stop)\b|\bpveceph (mon|mgr|mds|osd) (create|destroy)\b|\bpveceph pool (create|set|destroy)\b/ },
  {
    what: "Ceph settings",
    pattern: /\bceph\b.*\b(config (set|rm)|crush rule (create|rm)|osd pool (create|set|rename|delete|application enable)|osd (in|out|destroy|purge|reweight)|osd crush (add|set|rm|remove|move|link|unlink|reweight|create-or-move|set-device-class|rm-device-class)|mgr module (enable|disable))\b/,
  },
  { what: "disks", pattern: /\bceph-volume lvm (zap|create|prepare|activate)\b|\bwipefs\b(?![^;&|]*\s(-n|--no-act)\b)|\bsgdisk\b|\bpartprobe\b/ },
  { what: "guests", pattern: /\bqm (create|importdisk|disk (import|resize|move)|set|resize|template|destroy|migrate|start|stop|shutdown|reboot|clone)\b/ },
  { what: "HA", pattern: /\bha-manager (add|set|remove|migrate|relocate|crm-command|groupadd|groupset|groupremove|rules (add|set|remove))\b/ },
  { what: "API writes", pattern: /\bpvesh (create|set|delete)\b|\bpvesm (add|remove|set|alloc|free)\b/ },
  { what: "users and tokens", pattern: /\bpveum\b.*\b(add|modify|delete|remove|aclmod|acldel|useradd|usermod|userdel|roleadd|rolemod|roledel|passwd)\b/ },
  { what: "accounts", pattern: commands("useradd|usermod|userdel|groupadd|groupmod|gpasswd|chpasswd|passwd") },
  { what: "packages", pattern: /\bapt(-get)? (install|update|upgrade|dist-upgrade|full-upgrade|remove|purge|autoremove)\b|\bdpkg (-i|--install|-r|--remove|-P|--purge|--configure)\b/ },
  { what: "services", pattern: /\bsystemctl (start|stop|restart|reload|enable|disable|mask|unmask|daemon-reload|reload-or-restart|try-restart|kill)\b|\bkillall\b|\bpmxcfs\b|\breboot\b/ },
  { what: "networking", pattern: /\bifreload\b|\bifup\b|\bifdown\b|\bmodprobe\b|\bupdate-initramfs\b|\bsysctl (-w|-p|--system|--load)\b/ },
  { what: "boot loader", pattern: /\bupdate-grub\b|\bproxmox-boot-tool (refresh|init|format|kernel (add|remove|pin|unpin))\b/ },
  { what: "downloads", pattern: /\bcurl\b[^;&|]*\s(-o|--output)\s/ },
  { what: "files", pattern: commands("mv|cp|install|ln|rm|rmdir|mkdir|mktemp|touch|truncate|chmod|chown|chgrp|tee|sed -i") },
  { what: "file writes", pattern: /(^|[^0-9&])>>?\s*(?!\/dev\/null\b)(?!&)[^\s|;&]/ },
];

/** The first pattern a command matches, or undefined for a read. */
export function mutationKind(command: string): string | undefined {
  return MUTATING_PATTERNS.find((p) => p.pattern.test(command))?.what;
}

export function isMutating(command: string): boolean {
  return mutationKind(command) !== undefined;
}

/** The mutating entries of a command log. */
export function mutatingCommands(log: readonly CommandLogEntry[]): CommandLogEntry[] {
  return log.filter((e) => isMutating(e.command));
}
