"use strict";
// Fake `qm` (proxmox/qemu-server src/PVE/CLI/qm.pm). Implemented: list, status, config,
// create, importdisk / disk import, set, resize / disk resize, template, destroy.
// Guests come from the state (SimCluster.addGuest, or `qm create`, which stores `raw: true` and
// the complete config); add sub-commands to COMMANDS.
const fs = require("node:fs");
const lib = require("./lib.cjs");

const USAGES = [
  "qm agent <vmid> <command> [OPTIONS]",
  "qm clone <vmid> <newid> [OPTIONS]",
  "qm config <vmid> [OPTIONS]",
  "qm create <vmid> [OPTIONS]",
  "qm destroy <vmid> [OPTIONS]",
  "qm disk import <vmid> <source> <storage> [OPTIONS]",
  "qm disk resize <vmid> <disk> <size> [OPTIONS]",
  "qm importdisk <vmid> <source> <storage> [OPTIONS]",
  "qm list  [OPTIONS]",
  "qm migrate <vmid> <target> [OPTIONS]",
  "qm resize <vmid> <disk> <size> [OPTIONS]",
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


// ---------------------------------------------------------------------------------------------
// VM building (pve-cli.md §3.1-3.6)

const CREATE_OPTIONS = {
  name: "string", ostype: "string", memory: "integer", balloon: "integer", agent: "string", bios: "string",
  machine: "string", efidisk0: "string", cpu: "string", cores: "integer", sockets: "integer", numa: "boolean",
  vga: "string", serial0: "string", net0: "string", scsihw: "string", description: "string", tags: "string",
  boot: "string", virtio0: "string", scsi0: "string", scsi1: "string", ide2: "string", ide3: "string", ciuser: "string",
  sshkeys: "string", ipconfig0: "string", cicustom: "string", onboot: "boolean", start: "boolean",
};
const SET_OPTIONS = { ...CREATE_OPTIONS, delete: "string" };
delete SET_OPTIONS.start;

function checkStorage(state, storage) {
  if (!lib.knownStorage(state, storage)) lib.die(`storage '${storage}' does not exist\n`);
  if (storage === "local") return; // dir storage: qcow2 files
}
function isLvm(storage) {
  return storage === "local-lvm";
}
function allocLines(storage, vol, bytes) {
  if (isLvm(storage)) return `  Logical volume "${vol}" created.\n`;
  if (storage === "local") return `Formatting '/var/lib/vz/images/${vol.split("-")[1]}/${vol}.raw', fmt=raw size=${bytes} preallocation=off\n`;
  return "";
}
function allocDisk(guest, vmid) {
  const n = guest.nextDisk || 0;
  guest.nextDisk = n + 1;
  return `vm-${vmid}-disk-${n}`;
}
function fmtSize(bytes) {
  const units = [["T", 1024 ** 4], ["G", 1024 ** 3], ["M", 1024 ** 2], ["K", 1024]];
  for (const [u, m] of units) if (bytes >= m && bytes % m === 0) return `${bytes / m}${u}`;
  return `${Math.ceil(bytes / 1024 ** 2)}M`;
}
function macFor(node, vmid) {
  const h = require("node:crypto").createHash("sha256").update(`${node}/${vmid}/mac`).digest();
  return ["BC", "24", "11", ...[...h.subarray(0, 3)].map((b) => b.toString(16).toUpperCase().padStart(2, "0"))].join(":");
}
/** Disk-valued keys: allocate "<storage>:<size>" and "<storage>:cloudinit", keep "<storage>:<volume>". */
function applyDrive(state, nodeName, vmid, guest, key, value, log) {
  const [first, ...rest] = value.split(",");
  // A cdrom drive with no media ("none") or the host's drive ("cdrom"): nothing to allocate.
  if ((first === "none" || first === "cdrom") && rest.includes("media=cdrom")) {
    guest.config[key] = value;
    return;
  }
  const m = /^([^:]+):(.*)$/.exec(first);
  if (!m) lib.paramError({ [key]: `invalid format - unable to parse drive options` });
  const [, storage, vol] = m;
  checkStorage(state, storage);
  if (vol === "cloudinit") {
    for (const [k, v] of Object.entries(guest.config)) {
      if (k !== key && DRIVE_KEY.test(k) && /^[^:,]+:(vm-\d+-)?cloudinit(,|$)/.test(String(v))) lib.die(`${key} - cloud-init drive is already attached at '${k}'\n`);
    }
    const name = `vm-${vmid}-cloudinit`;
    const v = `${storage}:${name},media=cdrom`;
    log(allocLines(storage, name, 4 * 1024 ** 2));
    log(`${key}: successfully created disk '${v}'\n`);
    guest.config[key] = v;
    return;
  }
  if (/^\d+(\.\d+)?$/.test(vol)) {
    const name = allocDisk(guest, vmid);
    const bytes = key.startsWith("efidisk") ? 4 * 1024 ** 2 : Math.round(Number(vol) * 1024 ** 3);
    const opts = rest.filter((o) => !/^(import-from|size)=/.test(o));
    const v = [`${storage}:${name}`, ...opts, `size=${fmtSize(bytes)}`].join(",");
    log(allocLines(storage, name, bytes));
    if (key.startsWith("efidisk")) log(`transferred 0.0 B of 528.0 KiB (0.00%)\ntransferred 528.0 KiB of 528.0 KiB (100.00%)\n`);
    log(`${key}: successfully created disk '${v}'\n`);
    guest.config[key] = v;
    return;
  }
  // an existing volume, typically one that `importdisk` left as unusedN
  const volid = `${storage}:${vol}`;
  const unused = Object.keys(guest.config).find((k) => /^unused\d+$/.test(k) && guest.config[k] === volid);
  const attached = Object.keys(guest.config).find((k) => k !== key && String(guest.config[k]).split(",")[0] === volid);
  if (!unused && !attached && !(guest.volumes && guest.volumes[volid])) lib.die(`volume '${volid}' does not exist\n`);
  if (attached && !unused) lib.die(`unable to parse volume ID '${volid}' - volume is already in use by '${attached}'\n`);
  if (unused) delete guest.config[unused];
  const size = guest.volumes && guest.volumes[volid] ? guest.volumes[volid] : 0;
  const opts = rest.filter((o) => !/^size=/.test(o));
  guest.config[key] = [volid, ...opts, ...(size ? [`size=${fmtSize(size)}`] : [])].join(",");
}
const DRIVE_KEY = /^(virtio\d+|scsi\d+|sata\d+|ide\d+|efidisk0)$/;

function applyOptions(state, nodeName, vmid, guest, opts, log) {
  for (const [k, raw] of Object.entries(opts)) {
    if (k === "delete" || k === "start") continue;
    let v = typeof raw === "boolean" ? (raw ? 1 : 0) : raw;
    if (k === "name") {
      guest.name = v;
      continue;
    }
    if (DRIVE_KEY.test(k)) {
      applyDrive(state, nodeName, vmid, guest, k, String(v), log);
      continue;
    }
    if (k === "net0") {
      const parts = String(v).split(",");
      const model = parts[0].split("=")[0];
      if (!["virtio", "e1000", "rtl8139", "vmxnet3"].includes(model)) lib.paramError({ net0: `invalid format - format error\nnet0.model: value '${model}' does not have a value in the enumeration 'e1000, e1000-82540em, rtl8139, virtio, vmxnet3'` });
      const mac = parts[0].includes("=") ? parts[0].split("=")[1] : macFor(nodeName, vmid);
      v = [`${model}=${mac}`, ...parts.slice(1)].join(",");
    }
    if (k === "sshkeys") {
      // the CLI takes a file name and stores the keys URI-encoded
      let text;
      try {
        text = fs.readFileSync(String(v), "utf8");
      } catch {
        lib.die(`unable to open file '${v}' - No such file or directory\n`);
      }
      v = encodeURIComponent(text);
    }
    if (k === "agent" && /^\d$/.test(String(v))) v = String(v);
    guest.config[k] = v;
  }
  if (opts.delete) for (const k of String(opts.delete).split(/[,;\s]+/).filter(Boolean)) delete guest.config[k];
}

function echoArgs(argv) {
  return argv.map((a) => a.replace(/^--/, "-")).join(" ");
}

const BUILD_COMMANDS = {
  create(sim, argv) {
    const usage = "qm create <vmid> [OPTIONS]";
    const { args, opts } = lib.parseCli(argv, { usage, args: ["vmid"], options: CREATE_OPTIONS });
    const vmid = vmidArg(args, usage);
    let output = "";
    sim.mutate((state) => {
      const me = sim.nodeName;
      const found = lib.findGuest(state, me, vmid);
      if (found) lib.die(`unable to create VM ${vmid} - VM ${vmid} already exists on node '${found.node}'\n`);
      const guest = { name: opts.name || `VM ${vmid}`, status: "stopped", template: false, raw: true, ctime: Math.floor(Date.now() / 1000), config: {}, volumes: {}, nextDisk: 0 };
      lib.worker(
        () => {
          applyOptions(state, me, vmid, guest, opts, (t) => (output += t));
          state.nodes[me].guests[String(vmid)] = guest;
        },
        { upidExit: true },
      );
    });
    lib.out(output);
    return 0;
  },

  importdisk(sim, argv) {
    return BUILD_COMMANDS.__import(sim, argv, "qm importdisk <vmid> <source> <storage> [OPTIONS]");
  },

  __import(sim, argv, usage) {
    const { args, opts } = lib.parseCli(argv, { usage, args: ["vmid", "source", "storage"], options: { format: "string", "target-disk": "string" } });
    const vmid = vmidArg(args, usage);
    let st;
    try {
      st = fs.statSync(args.source);
    } catch {
      st = null;
    }
    const pveVersion = sim.self().node.pveVersion || "8.4.14";
    const pv = lib.parseVersion(pveVersion);
    const newFormat = pv.major > 8 || (pv.major === 8 && pv.minor >= 3); // qemu-server 8.2.7 shipped with PVE 8.3
    sim.mutate((state) => {
      const node = state.nodes[sim.nodeName];
      const guest = node.guests[String(vmid)];
      if (!guest) lib.die(`Configuration file 'nodes/${node.name}/qemu-server/${vmid}.conf' does not exist\n`);
      if (!st || !st.isFile()) lib.die(`${args.source}: non-existent or non-regular file\n`);
      checkStorage(state, args.storage);
      guest.config ||= {};
      guest.volumes ||= {};
      const vol = allocDisk(guest, vmid);
      const volid = `${args.storage}:${vol}`;
      const bytes = Math.max(st.size, 1024 ** 2);
      guest.volumes[volid] = bytes;
      let slot = opts["target-disk"];
      if (slot) {
        guest.config[slot] = `${volid},size=${fmtSize(bytes)}`;
      } else {
        let i = 0;
        while (guest.config[`unused${i}`]) i++;
        slot = `unused${i}`;
        guest.config[slot] = volid;
      }
      const size = `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
      lib.out(`importing disk '${args.source}' to VM ${vmid} ...\n`);
      lib.out(allocLines(args.storage, vol, bytes));
      lib.out(`transferred 0.0 B of ${size} (0.00%)\ntransferred ${size} of ${size} (100.00%)\ntransferred ${size} of ${size} (100.00%)\n`);
      lib.out(newFormat ? `${slot}: successfully imported disk '${volid}'\n` : `Successfully imported disk as '${slot}:${volid}'\n`);
    });
    return 0;
  },

  set(sim, argv) {
    const usage = "qm set <vmid> [OPTIONS]";
    const { args, opts } = lib.parseCli(argv, { usage, args: ["vmid"], options: SET_OPTIONS });
    const vmid = vmidArg(args, usage);
    let output = "";
    sim.mutate((state) => {
      const node = state.nodes[sim.nodeName];
      const guest = node.guests[String(vmid)];
      if (!guest) lib.die(`Configuration file 'nodes/${node.name}/qemu-server/${vmid}.conf' does not exist\n`);
      if (!guest.raw) {
        guest.config = { ...lib.guestConfig(node.name, vmid, guest), ...(guest.config || {}) };
        for (const k of ["meta", "name", "smbios1", "vmgenid", "template"]) delete guest.config[k];
        guest.raw = true;
      }
      guest.config ||= {};
      output += `update VM ${vmid}: ${echoArgs(argv.slice(1))}\n`;
      applyOptions(state, node.name, vmid, guest, opts, (t) => (output += t));
    });
    lib.out(output);
    return 0;
  },

  resize(sim, argv) {
    return BUILD_COMMANDS.__resize(sim, argv, "qm resize <vmid> <disk> <size> [OPTIONS]");
  },

  __resize(sim, argv, usage) {
    const { args } = lib.parseCli(argv, { usage, args: ["vmid", "disk", "size"], options: { digest: "string", "skiplock": "boolean" } });
    const vmid = vmidArg(args, usage);
    const m = /^(\+?)(\d+(?:\.\d+)?)([KMGT]?)$/.exec(args.size);
    if (!m) lib.paramError({ size: `value does not match the regex pattern` }, usage);
    sim.mutate((state) => {
      const node = state.nodes[sim.nodeName];
      const guest = node.guests[String(vmid)];
      if (!guest) lib.die(`Configuration file 'nodes/${node.name}/qemu-server/${vmid}.conf' does not exist\n`);
      const conf = lib.guestConfig(node.name, vmid, guest);
      const drive = conf[args.disk];
      if (!drive || !DRIVE_KEY.test(args.disk)) lib.die(`disk '${args.disk}' does not exist\n`);
      if (/media=cdrom/.test(drive)) lib.die(`you can't resize a cdrom\n`);
      if (guest.template) lib.die(`you can't resize a template\n`); // not quite PVE, base volumes are read-only
      const sm = /(?:^|,)size=([^,]+)/.exec(drive);
      const cur = sm ? lib.sizeToBytes(sm[1]) : 0;
      const amount = lib.sizeToBytes(`${m[2]}${m[3]}`);
      const want = m[1] ? cur + amount : amount;
      if (want < cur) lib.die(`shrinking disks is not supported\n`);
      const volid = drive.split(",")[0];
      const parts = drive.split(",").filter((p) => !p.startsWith("size="));
      guest.config[args.disk] = [...parts, `size=${fmtSize(want)}`].join(",");
      if (guest.volumes) guest.volumes[volid] = want;
      if (want === cur) return;
      if (isLvm(volid.split(":")[0])) {
        const lv = volid.split(":")[1];
        lib.out(`  Size of logical volume pve/${lv} changed from ${(cur / 1024 ** 3).toFixed(2)} GiB (${Math.round(cur / 4194304)} extents) to ${(want / 1024 ** 3).toFixed(2)} GiB (${Math.round(want / 4194304)} extents).\n`);
        lib.out(`  Logical volume pve/${lv} successfully resized.\n`);
      }
    });
    return 0;
  },

  disk(sim, argv) {
    const [sub, ...rest] = argv;
    if (sub === "import") return BUILD_COMMANDS.__import(sim, rest, "qm disk import <vmid> <source> <storage> [OPTIONS]");
    if (sub === "resize") return BUILD_COMMANDS.__resize(sim, rest, "qm disk resize <vmid> <disk> <size> [OPTIONS]");
    return lib.unknownCommand("qm", `disk ${sub ?? ""}`.trim(), USAGES);
  },

  template(sim, argv) {
    const usage = "qm template <vmid> [OPTIONS]";
    const { args } = lib.parseCli(argv, { usage, args: ["vmid"], options: { disk: "string" } });
    const vmid = vmidArg(args, usage);
    sim.mutate((state) => {
      const node = state.nodes[sim.nodeName];
      const guest = node.guests[String(vmid)];
      if (!guest) lib.die(`Configuration file 'nodes/${node.name}/qemu-server/${vmid}.conf' does not exist\n`);
      if (guest.template) lib.die(`you can't convert a template to a template\n`);
      if (guest.status === "running") lib.die(`you can't convert a VM to template if VM is running\n`);
      // worker "qmtemplate" without upid_exit: failures inside exit 0
      lib.worker(() => {
        // one-shot failure knob for tests: state.sim.failQmTemplate = [vmid, …]
        const fails = (state.sim && state.sim.failQmTemplate) || [];
        if (fails.includes(vmid)) {
          state.sim.failQmTemplate = fails.filter((x) => x !== vmid);
          lib.die(`lvrename 'pve/vm-${vmid}-disk-0' to 'pve/base-${vmid}-disk-0' failed: simulated\n`);
        }
        if (guest.raw) {
          for (const [k, v] of Object.entries(guest.config)) {
            if (!DRIVE_KEY.test(k) || /media=cdrom/.test(v)) continue;
            const m = /^([^:]+):vm-(\d+)-disk-(\d+)/.exec(v);
            if (!m) continue;
            const oldName = `vm-${m[2]}-disk-${m[3]}`;
            const newName = `base-${m[2]}-disk-${m[3]}`;
            guest.config[k] = v.replace(oldName, newName);
            if (isLvm(m[1])) {
              lib.out(`  Renamed "${oldName}" to "${newName}" in volume group "pve"\n`);
              lib.out(`  Logical volume pve/${newName} changed.\n`);
              lib.out(`  WARNING: Combining activation change with other commands is not advised.\n`);
            }
          }
        }
        guest.template = true;
      });
    });
    return 0;
  },

  destroy(sim, argv) {
    const usage = "qm destroy <vmid> [OPTIONS]";
    const { args } = lib.parseCli(argv, { usage, args: ["vmid"], options: { purge: "boolean", "destroy-unreferenced-disks": "boolean", skiplock: "boolean" } });
    const vmid = vmidArg(args, usage);
    let output = "";
    sim.mutate((state) => {
      const node = state.nodes[sim.nodeName];
      const guest = node.guests[String(vmid)];
      if (!guest) lib.die(`Configuration file 'nodes/${node.name}/qemu-server/${vmid}.conf' does not exist\n`);
      if (guest.status === "running") lib.die(`VM ${vmid} is running - destroy failed\n`);
      if (guest.config && guest.config.protection) lib.die(`can't remove VM ${vmid} - protection mode enabled\n`);
      lib.worker(
        () => {
          const conf = lib.guestConfig(node.name, vmid, guest);
          for (const [k, v] of Object.entries(conf)) {
            if (!(DRIVE_KEY.test(k) || /^unused\d+$/.test(k))) continue;
            const [storage, vol] = String(v).split(",")[0].split(":");
            if (isLvm(storage) && vol && vol !== "none") output += `  Logical volume "${vol}" successfully removed.\n`;
          }
          output += `purging VM ${vmid} from related configurations..\n`;
          delete node.guests[String(vmid)];
        },
        { upidExit: true },
      );
    });
    lib.out(output);
    return 0;
  },
};

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

for (const [k, fn] of Object.entries(BUILD_COMMANDS)) if (!k.startsWith("__")) COMMANDS[k] = fn;

// ---------------------------------------------------------------------------------------------
// migration (pve-cli.md §0.2; qemu-server src/PVE/API2/Qemu.pm migrate_vm): the checks before the
// fork die (stderr, exit 255, no task); the worker's log goes to stdout and a failed task prints
// its error on stderr and exits 255 (upid_exit). The worker (PVE::QemuMigrate) lives in
// pvesh-tasks.cjs, HA's part in pvesh-ha.cjs. Both record their task in the node's task list.

function migrateVm(sim, argv) {
  const usage = "qm migrate <vmid> <target> [OPTIONS]";
  const tasks = require("./pvesh-tasks.cjs");
  const ha = require("./pvesh-ha.cjs");
  const options = { online: "boolean", force: "boolean", migration_type: "string", migration_network: "string", "with-local-disks": "boolean", targetstorage: "string", bwlimit: "integer" };
  if (lib.parseVersion(sim.self().node.pveVersion).major >= 9) options["with-conntrack-state"] = "boolean"; // qemu-server 9.0
  const { args, opts } = lib.parseCli(argv, { usage, args: ["vmid", "target"], options });
  const vmid = vmidArg(args, usage);
  const errors = {};
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(args.target)) errors.target = "invalid format - value does not look like a valid node name";
  if (opts.migration_type !== undefined && !["secure", "insecure"].includes(opts.migration_type)) errors.migration_type = `value '${opts.migration_type}' does not have a value in the enumeration 'secure, insecure'`;
  if (opts.migration_network !== undefined && !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(opts.migration_network)) errors.migration_network = "invalid format - value does not look like a valid CIDR network";
  if (opts.bwlimit !== undefined && opts.bwlimit < 0) errors.bwlimit = "value must have a minimum value of 0";
  if (Object.keys(errors).length) lib.paramError(errors, usage);
  ha.crmTick(sim);
  const me = sim.nodeName;
  let result = null;
  sim.mutate((state) => {
    if (args.target === me) lib.paramError({ target: "target is local node." }, usage);
    const cluster = lib.clusterOf(state, me);
    if (cluster && !lib.quorumInfo(state, cluster).quorate) lib.die("cluster not ready - no quorum?\n");
    if (!cluster || !cluster.nodes.some((m) => m.name === args.target)) lib.die(`no such cluster node '${args.target}'\n`);
    const guest = state.nodes[me].guests[String(vmid)];
    if (!guest) lib.die(`Configuration file 'nodes/${me}/qemu-server/${vmid}.conf' does not exist\n`);
    const conf = lib.guestConfig(me, vmid, guest);
    if (conf.lock) lib.die(`VM is locked (${conf.lock})\n`);
    let warn = "";
    if (guest.status === "running") {
      if (!opts.online) lib.die("can't migrate running VM without --online\n");
    } else if (opts.online) {
      warn = "VM isn't running. Doing offline migration instead.\n";
    }
    // --targetstorage (storage map) and check_storage_availability
    for (const part of String(opts.targetstorage ?? "").split(/[,;]/).filter((x) => x && x !== "1")) {
      const sid = part.includes(":") ? part.split(":")[1] : part;
      if (!lib.knownStorage(state, sid)) lib.die(`storage '${sid}' does not exist\n`);
    }
    for (const [k, v] of Object.entries(conf)) {
      if (!(DRIVE_KEY.test(k) || /^unused\d+$/.test(k))) continue;
      const volid = String(v).split(",")[0];
      const m = /^([^:/]+):/.exec(volid);
      if (m && !lib.knownStorage(state, m[1])) lib.die(`storage '${m[1]}' does not exist\n`);
    }
    const sid = `vm:${vmid}`;
    if (ha.isHaManaged(state, me, sid)) {
      // worker "hamigrate": print, then run `ha-manager migrate` (queued for the CRM)
      const task = tasks.startTask(state, me, { type: "hamigrate", id: vmid });
      const lines = [`Requesting HA migration for VM ${vmid} to node ${args.target}`];
      let error = null;
      try {
        ha.requestMigration(state, me, sid, args.target);
      } catch (e) {
        if (!(e instanceof lib.DieError)) throw e;
        lines.push(e.message.replace(/\n+$/, ""));
        error = `command 'ha-manager migrate ${sid} ${args.target}' failed: exit code ${e.code}`;
      }
      tasks.finishTask(task, { lines, error });
      result = { warn, lines, error };
      return;
    }
    // worker "qmigrate"
    const task = tasks.startTask(state, me, { type: "qmigrate", id: vmid });
    const res = tasks.runQmigrate(state, me, args.target, vmid, {
      online: !!opts.online,
      withLocalDisks: !!opts["with-local-disks"],
      migrationNetwork: opts.migration_network,
      migrationType: opts.migration_type,
      bwlimit: opts.bwlimit,
      targetstorage: opts.targetstorage,
      start: task.starttime,
    });
    tasks.finishTask(task, res);
    result = { warn, lines: res.lines, error: res.error };
  });
  if (result.warn) lib.err(result.warn);
  lib.out(result.lines.map((l) => l + "\n").join(""));
  lib.worker(() => {
    if (result.error) lib.die(result.error);
  }, { upidExit: true });
  return 0;
}

COMMANDS.migrate = migrateVm;

lib.main(() => {
  const sim = lib.context();
  const [cmd, ...rest] = process.argv.slice(2);
  const fn = cmd !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, cmd) ? COMMANDS[cmd] : null;
  if (!fn) return lib.unknownCommand("qm", cmd, USAGES);
  return fn(sim, rest);
});
