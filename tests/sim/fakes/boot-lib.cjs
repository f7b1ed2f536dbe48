"use strict";
// The boot loader of a simulated node: what kernel command line its next boot gets, and which one
// the running kernel booted with (the node's /proc/cmdline, a file bind-mounted over it by
// ns-setup.sh). GRUB nodes (the default) take GRUB_CMDLINE_LINUX(_DEFAULT) from /etc/default/grub
// and /etc/default/grub.d/*.cfg when `update-grub` runs; nodes booting with systemd-boot through
// proxmox-boot-tool (/etc/kernel/proxmox-boot-uuids present) take /etc/kernel/cmdline when
// `proxmox-boot-tool refresh` runs. The boot (pve-sim-boot) makes the prepared line current.
const fs = require("node:fs");
const path = require("node:path");

function readText(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT after "sourcing" the grub defaults, as grub-mkconfig does. */
function grubCmdline() {
  const vars = { GRUB_CMDLINE_LINUX: "", GRUB_CMDLINE_LINUX_DEFAULT: "" };
  const files = ["/etc/default/grub"];
  try {
    files.push(...fs.readdirSync("/etc/default/grub.d").filter((f) => f.endsWith(".cfg")).sort().map((f) => path.join("/etc/default/grub.d", f)));
  } catch {
    // no drop-in directory
  }
  for (const f of files) {
    for (const raw of (readText(f) || "").split("\n")) {
      const m = /^\s*(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/.exec(raw);
      if (!m) continue;
      const value = m[2] ?? m[3] ?? m[4] ?? "";
      vars[m[1]] = value.replace(/\$\{?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)\}?/g, (_, k) => vars[k]).trim();
    }
  }
  return [vars.GRUB_CMDLINE_LINUX, vars.GRUB_CMDLINE_LINUX_DEFAULT].filter(Boolean).join(" ");
}

/** update-grub: the next boot's line. */
function updateGrub(sim, kernel) {
  const line = `BOOT_IMAGE=/boot/vmlinuz-${kernel} root=/dev/mapper/pve-root ro ${grubCmdline()}`.trim();
  prepare(sim, line);
}

/** proxmox-boot-tool refresh: /etc/kernel/cmdline is the whole line (after the initrd). */
function refreshSystemdBoot(sim, kernel) {
  const text = (readText("/etc/kernel/cmdline") || "").trim();
  prepare(sim, `initrd=\\EFI\\proxmox\\${kernel}\\initrd.img-${kernel} ${text}`.trim());
}

function prepare(sim, line) {
  sim.mutate((state) => {
    state.boot ??= {};
    state.boot[sim.nodeName] = { ...(state.boot[sim.nodeName] || {}), next: line };
  });
}

/** At boot: the prepared line becomes /proc/cmdline (written in place: the bind mount follows the inode). */
function boot(sim) {
  const { state, node } = sim.self();
  const next = state.boot && state.boot[node.name] && state.boot[node.name].next;
  if (next) fs.writeFileSync(path.join(node.root, "cmdline"), `${next}\n`);
}

function usesSystemdBoot() {
  return fs.existsSync("/etc/kernel/proxmox-boot-uuids");
}

module.exports = { updateGrub, refreshSystemdBoot, boot, usesSystemdBoot, grubCmdline };
