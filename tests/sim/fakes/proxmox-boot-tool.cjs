"use strict";
// Fake `proxmox-boot-tool` (pve-kernel-helper): `status` and `refresh` on a node whose ESPs are
// listed in /etc/kernel/proxmox-boot-uuids (see boot-lib.cjs); texts of the real script.
const lib = require("./lib.cjs");
const boot = require("./boot-lib.cjs");

lib.main(() => {
  const sim = lib.context();
  const argv = process.argv.slice(2);
  sim.logTool("proxmox-boot-tool", argv);
  const { node } = sim.self();
  const uuids = boot.usesSystemdBoot() ? require("node:fs").readFileSync("/etc/kernel/proxmox-boot-uuids", "utf8").split("\n").filter(Boolean) : [];
  if (argv[0] === "status") {
    if (uuids.length === 0) lib.die("E: /etc/kernel/proxmox-boot-uuids does not exist.", 2);
    lib.line("Re-executing '/usr/sbin/proxmox-boot-tool' in new private mount namespace..");
    lib.line("System currently booted with uefi");
    for (const u of uuids) lib.line(`${u} is configured with: uefi (versions: ${node.kernel})`);
    return 0;
  }
  if (argv[0] === "refresh") {
    lib.line("Running hook script 'proxmox-auto-removal'..");
    lib.line("Running hook script 'zz-proxmox-boot'..");
    if (uuids.length === 0) {
      lib.line("No /etc/kernel/proxmox-boot-uuids found, skipping ESP sync.");
      return 0;
    }
    lib.line("Re-executing '/etc/kernel/postinst.d/zz-proxmox-boot' in new private mount namespace..");
    for (const u of uuids) {
      lib.line(`Copying and configuring kernels on /dev/disk/by-uuid/${u}`);
      lib.line(`\tCopying kernel and creating boot-entry for ${node.kernel}`);
    }
    boot.refreshSystemdBoot(sim, node.kernel);
    return 0;
  }
  lib.die(`ERROR: unknown command '${argv[0] || ""}'\nUSAGE: proxmox-boot-tool <commands> [ARGS]`, 2);
});
