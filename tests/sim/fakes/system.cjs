"use strict";
// @tools apt-get apt systemctl modprobe reboot ifreload update-initramfs update-grub ifup ifdown pve-sim-boot
// Fakes of host-level tools that a provisioner calls but that must not touch the machine running
// the simulation. Each invocation is appended to <state dir>/tools.jsonl as
// {node, tool, argv, time} and succeeds, except where noted:
//  - `systemctl` keeps each node's enabled and active units (state.systemd, see ring-lib.cjs):
//    enable/disable [--now], start/stop/restart/reload-or-restart/try-restart/reload,
//    is-active/is-enabled (systemd's words and exit codes: "active" 0, "inactive" 3; "enabled" 0,
//    "disabled" 1). A unit never enabled is disabled and inactive, as frr is after its package
//    install on Proxmox. Starting homelab-tb-ring.service brings the ring ports up with its MTU.
//  - `modprobe [-a] MOD…` loads modules (state.modules; thunderbolt-net makes the ring ports appear),
//    `modprobe -r` unloads them.
//  - The K3s units (k3s, k3s-agent) are simulated in k3s-lib.cjs: start/restart runs the installed
//    binary's server or agent (joining a cluster or not), stop/disable stop it, is-active answers
//    its real state.
//  - apt-get/apt on a plain Debian host follow debian-lib.cjs (the Proxmox repository and key,
//    proxmox-ve and the Proxmox kernel); a refused call is not logged.
//  - `systemctl reboot` and `reboot` ask the test process to power-cycle the node (debian-lib.cjs).
//  - `update-grub` prints grub-mkconfig's lines for the node's kernels on stderr, as it does, and
//    prepares the next boot's kernel command line (boot-lib.cjs).
//  - `pve-sim-boot` is the simulated boot (SimCluster.rebootNode runs it inside the node): see
//    ring-lib.cjs boot().
const lib = require("./lib.cjs");
const ring = require("./ring-lib.cjs");
const k3sLib = require("./k3s-lib.cjs");
const debian = require("./debian-lib.cjs");
const bootLib = require("./boot-lib.cjs");

const START = new Set(["start", "restart", "reload-or-restart", "try-reload-or-restart", "try-restart", "reload"]);

function systemctl(sim, argv) {
  const words = argv.filter((a) => !a.startsWith("-"));
  const verb = words[0];
  const units = words.slice(1).map(ring.unitName);
  const quiet = argv.includes("-q") || argv.includes("--quiet");
  const now = argv.includes("--now");
  if (verb === "is-active" || verb === "is-failed") {
    const state = sim.read();
    const active = units.map((u) => ring.isActive(state, sim.nodeName, u));
    if (!quiet) for (const a of active) lib.line(a ? "active" : "inactive");
    if (verb === "is-failed") return 1;
    return active.length > 0 && active.every(Boolean) ? 0 : 3;
  }
  if (verb === "is-enabled") {
    const state = sim.read();
    const enabled = units.map((u) => ring.isEnabled(state, sim.nodeName, u));
    if (!quiet) for (const e of enabled) lib.line(e ? "enabled" : "disabled");
    return enabled.length > 0 && enabled.every(Boolean) ? 0 : 1;
  }
  if (verb === "reload") {
    const state = sim.read();
    const inactive = units.find((u) => !ring.isActive(state, sim.nodeName, u));
    if (inactive) lib.die(`Job for ${inactive} failed.\nSee "systemctl status ${inactive}" and "journalctl -xeu ${inactive}" for details.`, 1);
  }
  sim.mutate((state) => {
    const sd = ring.systemdOf(state, sim.nodeName);
    for (const u of units) {
      if (verb === "enable") sd.enabled[u] = true;
      if (verb === "disable") delete sd.enabled[u];
      const start = START.has(verb) || (verb === "enable" && now);
      const stop = verb === "stop" || (verb === "disable" && now);
      if (start) {
        if ((verb === "try-restart" || verb === "try-reload-or-restart") && !sd.active[u]) continue;
        sd.active[u] = true;
        ring.startEffects(state, sim.nodeName, u);
      }
      if (stop) delete sd.active[u];
    }
  });
  return 0;
}

function modprobe(sim, argv) {
  const remove = argv.includes("-r") || argv.includes("--remove");
  const names = argv.filter((a) => !a.startsWith("-")).map((m) => m.replace(/_/g, "-"));
  sim.mutate((state) => {
    state.modules ??= {};
    const loaded = new Set(state.modules[sim.nodeName] || []);
    for (const m of names) remove ? loaded.delete(m) : loaded.add(m);
    state.modules[sim.nodeName] = [...loaded];
  });
  return 0;
}

lib.main(() => {
  const sim = lib.context();
  const tool = process.env.PVE_SIM_TOOL || "unknown";
  const argv = process.argv.slice(2);
  if (tool === "apt-get" || tool === "apt") return debian.aptGet(sim, tool, argv);
  sim.logTool(tool, argv);
  if (tool === "reboot" || (tool === "systemctl" && argv.find((a) => !a.startsWith("-")) === "reboot")) {
    debian.requestReboot(sim);
    return 0;
  }
  if (tool === "update-grub") {
    const { node } = sim.self();
    const images = [node.kernel].map((k) => `Found linux image: /boot/vmlinuz-${k}\nFound initrd image: /boot/initrd.img-${k}\n`).join("");
    lib.err(`Generating grub configuration file ...\n${images}done\n`);
    bootLib.updateGrub(sim, node.kernel);
    return 0;
  }
  if (tool === "systemctl") {
    const verb = argv.find((a) => !a.startsWith("-"));
    const units = argv.filter((a) => !a.startsWith("-")).slice(1);
    const k3sUnits = units.map((u) => u.replace(/\.service$/, "")).filter((u) => u === "k3s" || u === "k3s-agent");
    if (k3sUnits.length > 0 && k3sUnits.length === units.length) {
      let code = 0;
      for (const u of k3sUnits) code = Math.max(code, k3sLib.systemctl(sim, verb, u, argv));
      return code;
    }
    return systemctl(sim, argv);
  }
  if (tool === "modprobe") return modprobe(sim, argv);
  if (tool === "pve-sim-boot") {
    sim.mutate((state) => ring.boot(state, sim.nodeName));
    debian.boot(sim);
    bootLib.boot(sim);
    return 0;
  }
  return 0;
});
