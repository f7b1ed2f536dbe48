"use strict";
// Fake `qm` (proxmox/qemu-server src/PVE/CLI/qm.pm). Implemented: list, status, config.
// Guests come from the state (SimCluster.addGuest); add sub-commands to COMMANDS.
const lib = require("./lib.cjs");

const USAGES = [
  "qm agent <vmid> <command> [OPTIONS]",
  "qm clone <vmid> <newid> [OPTIONS]",
  "qm config <vmid> [OPTIONS]",
  "qm create <vmid> [OPTIONS]",
  "qm destroy <vmid> [OPTIONS]",
  "qm list  [OPTIONS]",
  "qm set <vmid> [OPTIONS]",
  "qm start <vmid> [OPTIONS]",
  "qm status <vmid> [OPTIONS]",
  "qm stop <vmid> [OPTIONS]",
  "qm template <vmid> [OPTIONS]",
  "",
  "qm help [<extra-args>] [OPTIONS]",
];

function vmidArg(args, usage) {
  if (!/^\d+$/.test(args.vmid)) lib.paramError({ vmid: `type check ('integer') failed - got '${args.vmid}'` }, usage);
  const n = Number(args.vmid);
  if (n < 100 || n > 999999999) lib.paramError({ vmid: `invalid format - value must be in the range 100 - 999999999` }, usage);
  return n;
}

/** PVE::AbstractConfig::load_config: only guests of the local node. */
function loadGuest(sim, vmid) {
  const { state, node } = sim.self();
  const g = node.guests[String(vmid)];
  if (!g) lib.die(`Configuration file 'nodes/${node.name}/qemu-server/${vmid}.conf' does not exist\n`);
  return { state, node, guest: g };
}

const COMMANDS = {
  list(sim, argv) {
    lib.parseCli(argv, { usage: "qm list  [OPTIONS]", args: [], options: { full: "boolean" } });
    const { node } = sim.self();
    const ids = Object.keys(node.guests).map(Number).sort((a, b) => a - b);
    if (ids.length === 0) return 0; // no output at all
    const row = (a, b, c, d, e, f) => `${String(a).padStart(10)} ${String(b).padEnd(20)} ${String(c).padEnd(10)} ${String(d).padEnd(10)} ${String(e).padStart(12)} ${String(f).padEnd(10)}\n`;
    let o = row("VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID");
    for (const id of ids) {
      const g = node.guests[String(id)];
      const conf = lib.guestConfig(node.name, id, g);
      const disk = (lib.guestBootDiskBytes(conf) / 1024 ** 3).toFixed(2);
      const pid = g.status === "running" ? 1000 + (id % 50000) : 0;
      o += row(id, conf.name, g.status, conf.memory, disk, pid);
    }
    lib.out(o);
    return 0;
  },

  status(sim, argv) {
    const usage = "qm status <vmid> [OPTIONS]";
    const { args, opts } = lib.parseCli(argv, { usage, args: ["vmid"], options: { verbose: "boolean" } });
    const vmid = vmidArg(args, usage);
    const { node, guest } = loadGuest(sim, vmid);
    if (!opts.verbose) {
      lib.line(`status: ${guest.status}`);
      return 0;
    }
    const conf = lib.guestConfig(node.name, vmid, guest);
    const running = guest.status === "running";
    const maxmem = Number(conf.memory) * 1024 * 1024;
    const info = {
      cpus: Number(conf.cores || 1),
      disk: 0,
      diskread: 0,
      diskwrite: 0,
      ha: { managed: 0 },
      maxdisk: lib.guestBootDiskBytes(conf),
      maxmem,
      mem: running ? Math.floor(maxmem / 4) : 0,
      name: conf.name,
      netin: 0,
      netout: 0,
      qmpstatus: guest.status,
      status: guest.status,
      uptime: running ? Math.max(1, Math.floor(Date.now() / 1000) - (guest.startedAt || node.bootTime)) : 0,
      vmid,
    };
    if (guest.template) info.template = 1;
    if (running) info.pid = 1000 + (vmid % 50000);
    const print = (h, indent) => {
      for (const k of Object.keys(h).sort()) {
        if (h[k] && typeof h[k] === "object") {
          lib.line(`${indent}${k}:`);
          print(h[k], indent + "\t");
        } else lib.line(`${indent}${k}: ${h[k]}`);
      }
    };
    print(info, "");
    return 0;
  },

  config(sim, argv) {
    const usage = "qm config <vmid> [OPTIONS]";
    const { args } = lib.parseCli(argv, { usage, args: ["vmid"], options: { current: "boolean", snapshot: "string" } });
    const vmid = vmidArg(args, usage);
    const { node, guest } = loadGuest(sim, vmid);
    const conf = lib.guestConfig(node.name, vmid, guest);
    const esc = (k, v) => (k === "description" ? String(v).replace(/[\x00-\x1f:%]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")) : v);
    for (const k of Object.keys(conf).sort()) lib.line(`${k}: ${esc(k, conf[k])}`);
    return 0;
  },
};

lib.main(() => {
  const sim = lib.context();
  const [cmd, ...rest] = process.argv.slice(2);
  const fn = cmd !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, cmd) ? COMMANDS[cmd] : null;
  if (!fn) return lib.unknownCommand("qm", cmd, USAGES);
  return fn(sim, rest);
});
