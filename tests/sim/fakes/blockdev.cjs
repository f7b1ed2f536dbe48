"use strict";
// @tools lsblk wipefs sgdisk partprobe
// Fake block-device tools, answered from the node's disk inventory in state.ceph.nodes[<node>].disks
// (see ceph-lib.cjs; tests seed it with SimCluster.setDisks). They shadow the real tools, so no test
// can ever look at or wipe the disks of the machine running the simulation.
//   lsblk [-J] [-b] [-p] [-l] [-d] [-n] [-a] [-o COLS|+COLS] [DEVICE...]  (util-linux 2.38+ JSON:
//         3-space indent, numbers for SIZE with -b, booleans for RM/RO/ROTA, null for empty values)
//   wipefs [-a|--all] [-f|--force] [-n|--no-act] [-q] DEVICE...   (busy device without -f:
//         "probing initialization failed: Device or resource busy", exit 1)
//   sgdisk --zap-all|-Z DEVICE   (GPT/MBR and the signatures inside the first 34 sectors gone)
//   partprobe [DEVICE...]
// Every call is also logged to tools.jsonl.
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

// ---------------------------------------------------------------------------------------------
// lsblk

const COLUMNS = ["NAME", "KNAME", "PATH", "MAJ:MIN", "RM", "SIZE", "RO", "TYPE", "FSTYPE", "MOUNTPOINT", "MOUNTPOINTS", "PKNAME", "MODEL", "SERIAL", "ROTA", "PTTYPE", "LABEL", "UUID", "VENDOR", "TRAN", "HCTL", "WWN"];
const DEFAULT_COLUMNS = ["NAME", "MAJ:MIN", "RM", "SIZE", "RO", "TYPE", "MOUNTPOINTS"];

function humanSize(bytes) {
  const units = ["B", "K", "M", "G", "T", "P"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${bytes}B`;
  const r = Math.round(v * 10) / 10;
  return Number.isInteger(r) ? `${r}${units[i]}` : `${r.toFixed(1)}${units[i]}`;
}

/** The block device tree of a node: [{ kname, name(dm name for LVs), type, size, fstype, mountpoint, … , children }] */
function deviceTree(disks) {
  let dm = 0;
  const lvNodes = (pvKname, lvm, diskIdx) =>
    lvm.lvs.map((lv) => ({
      kname: `dm-${dm++}`,
      name: ceph.dmName(lvm.vg, lv.name),
      path: `/dev/mapper/${ceph.dmName(lvm.vg, lv.name)}`,
      majmin: `252:${dm - 1}`,
      type: "lvm",
      size: lv.size,
      fstype: lv.fstype || null,
      mountpoint: lv.mountpoint || null,
      pkname: pvKname,
      rota: disks[diskIdx].rotational,
      children: [],
    }));
  return disks.map((disk, i) => {
    const isNvme = disk.name.startsWith("nvme");
    const major = isNvme ? 259 : 8;
    const minorBase = isNvme ? i * 10 : i * 16;
    const node = {
      kname: disk.name,
      name: disk.name,
      path: `/dev/${disk.name}`,
      majmin: `${major}:${minorBase}`,
      type: "disk",
      size: disk.size,
      fstype: disk.lvm ? "LVM2_member" : disk.fstype || null,
      mountpoint: disk.mountpoint || null,
      pkname: null,
      model: disk.model || null,
      serial: disk.serial || null,
      rota: !!disk.rotational,
      pttype: disk.partitions && disk.partitions.length ? "gpt" : null,
      tran: isNvme ? "nvme" : "sata",
      children: [],
    };
    (disk.partitions || []).forEach((p, j) => {
      const part = {
        kname: p.name,
        name: p.name,
        path: `/dev/${p.name}`,
        majmin: `${major}:${minorBase + j + 1}`,
        type: "part",
        size: p.size,
        fstype: p.lvm ? "LVM2_member" : p.fstype || null,
        mountpoint: p.mountpoint || null,
        pkname: disk.name,
        rota: !!disk.rotational,
        children: p.lvm ? lvNodes(p.name, p.lvm, i) : [],
      };
      node.children.push(part);
    });
    if (disk.lvm) node.children.push(...lvNodes(disk.name, disk.lvm, i));
    return node;
  });
}

function columnValue(dev, col, o) {
  const p = (s) => (s === null || s === undefined ? null : o.paths ? (s.startsWith("/dev/") ? s : `/dev/${s}`) : s);
  switch (col) {
    case "NAME":
      return o.paths ? dev.path : dev.name;
    case "KNAME":
      return o.paths ? `/dev/${dev.kname}` : dev.kname;
    case "PATH":
      return dev.path;
    case "MAJ:MIN":
      return dev.majmin;
    case "RM":
      return false;
    case "RO":
      return false;
    case "SIZE":
      return o.bytes ? dev.size : humanSize(dev.size);
    case "TYPE":
      return dev.type;
    case "FSTYPE":
      return dev.fstype;
    case "MOUNTPOINT":
      return dev.mountpoint;
    case "MOUNTPOINTS":
      return [dev.mountpoint];
    case "PKNAME":
      return dev.pkname ? p(dev.pkname) : null;
    case "MODEL":
      return dev.model || null;
    case "SERIAL":
      return dev.serial || null;
    case "ROTA":
      return !!dev.rota;
    case "PTTYPE":
      return dev.pttype || null;
    case "TRAN":
      return dev.type === "disk" ? dev.tran : null;
    default:
      return null;
  }
}

function lsblk(sim, argv) {
  const o = { json: false, bytes: false, paths: false, list: false, nodeps: false, noheadings: false, columns: null };
  const devices = [];
  const addCols = (spec) => {
    const plus = spec.startsWith("+");
    const cols = spec.replace(/^\+/, "").split(",").filter(Boolean).map((c) => c.toUpperCase());
    for (const c of cols) if (!COLUMNS.includes(c)) lib.die(`lsblk: unknown column: ${c}\n`, 1);
    o.columns = plus ? [...(o.columns || DEFAULT_COLUMNS), ...cols] : [...(o.columns && !plus && o.columnsExplicit ? o.columns : []), ...cols];
    o.columnsExplicit = true;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") o.json = true;
    else if (a === "--bytes") o.bytes = true;
    else if (a === "--paths") o.paths = true;
    else if (a === "--list") o.list = true;
    else if (a === "--nodeps") o.nodeps = true;
    else if (a === "--noheadings") o.noheadings = true;
    else if (a === "--all" || a === "--tree") continue;
    else if (a === "--output" || a === "-o") addCols(argv[++i] || "");
    else if (a.startsWith("--output=")) addCols(a.slice(9));
    else if (a === "-e" || a === "--exclude" || a === "-I" || a === "--include") i++;
    else if (/^-[a-zA-Z]+$/.test(a)) {
      const flags = a.slice(1);
      for (let k = 0; k < flags.length; k++) {
        const f = flags[k];
        if (f === "J") o.json = true;
        else if (f === "b") o.bytes = true;
        else if (f === "p") o.paths = true;
        else if (f === "l") o.list = true;
        else if (f === "d") o.nodeps = true;
        else if (f === "n") o.noheadings = true;
        else if (f === "a") continue;
        else if (f === "f") o.columns = ["NAME", "FSTYPE", "LABEL", "UUID", "MOUNTPOINTS"];
        else if (f === "o") {
          const rest = flags.slice(k + 1);
          addCols(rest || argv[++i] || "");
          break;
        } else if (f === "e" || f === "I") {
          if (k === flags.length - 1) i++;
          break;
        } else lib.die(`lsblk: invalid option -- '${f}'\nTry 'lsblk --help' for more information.\n`, 1);
      }
    } else if (a.startsWith("-")) lib.die(`lsblk: unrecognized option '${a}'\nTry 'lsblk --help' for more information.\n`, 1);
    else devices.push(a);
  }
  const cols = o.columns || DEFAULT_COLUMNS;
  const { state, node } = sim.self();
  let tree = deviceTree(ceph.disksOf(state, node.name));
  let missing = 0;
  if (devices.length) {
    const all = [];
    const walk = (n) => {
      all.push(n);
      n.children.forEach(walk);
    };
    tree.forEach(walk);
    const picked = [];
    const links = ceph.byIdLinks(ceph.disksOf(state, node.name));
    for (const given of devices) {
      const d = links[given] ?? given; // lsblk follows symlinks such as /dev/disk/by-id/*
      const hit = all.find((n) => n.path === d || `/dev/${n.kname}` === d || `/dev/mapper/${n.name}` === d);
      if (!hit) {
        lib.err(`lsblk: ${given}: not a block device\n`);
        missing++;
      } else picked.push(hit);
    }
    tree = picked;
  }
  if (o.nodeps) tree = tree.map((n) => ({ ...n, children: [] }));
  const key = (c) => c.toLowerCase().replace(/:/g, "-");
  const toObj = (n) => {
    const r = {};
    for (const c of cols) r[key(c) === "maj-min" ? "maj:min" : key(c)] = columnValue(n, c, o);
    if (!o.list && n.children.length) r.children = n.children.map(toObj);
    return r;
  };
  let flat = [];
  const flatten = (n, depth, last, prefix) => {
    flat.push({ n, depth, prefix: depth === 0 ? "" : prefix + (last ? "└─" : "├─") });
    n.children.forEach((c, i) => flatten(c, depth + 1, i === n.children.length - 1, depth === 0 ? "" : prefix + (last ? "  " : "│ ")));
  };
  tree.forEach((n) => flatten(n, 0, true, ""));
  if (o.json) {
    const list = o.list ? flat.map((f) => toObj(f.n)) : tree.map(toObj);
    if (devices.length === 0 || list.length) lib.out(JSON.stringify({ blockdevices: list }, null, 3) + "\n");
  } else {
    const rows = flat.map((f) =>
      cols.map((c) => {
        const v = columnValue(f.n, c, o);
        const text = Array.isArray(v) ? v.filter(Boolean).join("\n") : v === null ? "" : typeof v === "boolean" ? (v ? "1" : "0") : String(v);
        return c === "NAME" && !o.list ? f.prefix + text : text;
      }),
    );
    const header = cols.map((c) => c);
    const all = o.noheadings ? rows : [header, ...rows];
    const widths = cols.map((_, i) => Math.max(...all.map((r) => r[i].length)));
    lib.out(all.map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]))).join(" ").trimEnd()).join("\n") + "\n");
  }
  if (missing) return missing === devices.length ? 32 : 64;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// wipefs / sgdisk / partprobe

const SIGS = {
  gpt: [
    ["0x00000200", "45 46 49 20 50 41 52 54"],
    ["0x%END%", "45 46 49 20 50 41 52 54"],
  ],
  PMBR: [["0x000001fe", "55 aa"]],
  LVM2_member: [["0x00000218", "4c 56 4d 32 20 30 30 31"]],
  ext4: [["0x00000438", "53 ef"]],
  xfs: [["0x00000000", "58 46 53 42"]],
  vfat: [
    ["0x00000052", "46 41 54 33 32"],
    ["0x00000000", "eb 58 90"],
    ["0x000001fe", "55 aa"],
  ],
  swap: [["0x00000ff6", "53 57 41 50 53 50 41 43 45 32"]],
  zfs_member: [["0x0003f000", "0c b1 ba 00 00 00 00 00"]],
  ceph_bluestore: [["0x00000000", "62 6c 75 65 73 74 6f 72 65 20 62 6c 6f 63 6b 20 64 65 76 69 63 65"]],
};

function signaturesOf(dev, isDisk) {
  const sigs = [];
  if (isDisk && dev.partitions && dev.partitions.length) sigs.push("gpt", "PMBR");
  if (dev.lvm) sigs.push("LVM2_member");
  else if (dev.fstype) sigs.push(dev.fstype);
  return sigs;
}

function busy(found) {
  const dev = found.dev;
  const mounted = (x) => !!x.mountpoint || (x.lvm && x.lvm.lvs.some((l) => l.mountpoint));
  if (found.part) return mounted(dev) || !!dev.lvm;
  return mounted(dev) || !!dev.lvm || (dev.partitions || []).some((p) => mounted(p) || p.lvm);
}

function wipefs(sim, argv) {
  const o = { all: false, force: false, noact: false, quiet: false };
  const devs = [];
  for (const a of argv) {
    if (a === "-a" || a === "--all") o.all = true;
    else if (a === "-f" || a === "--force") o.force = true;
    else if (a === "-n" || a === "--no-act") o.noact = true;
    else if (a === "-q" || a === "--quiet") o.quiet = true;
    else if (/^-[afnq]+$/.test(a)) {
      if (a.includes("a")) o.all = true;
      if (a.includes("f")) o.force = true;
      if (a.includes("n")) o.noact = true;
      if (a.includes("q")) o.quiet = true;
    } else if (a.startsWith("-")) lib.die(`wipefs: unrecognized option '${a}'\nTry 'wipefs --help' for more information.\n`, 1);
    else devs.push(a);
  }
  if (devs.length === 0) lib.die("wipefs: no device specified\nTry 'wipefs --help' for more information.\n", 1);
  const { node } = sim.self();
  let code = 0;
  ceph.mutate(sim, (s) => {
    const disks = ceph.mutableDisks(s, node.name);
    for (const d of devs) {
      const found = ceph.findDevice(disks, d);
      if (!found) {
        lib.err(`wipefs: error: ${d}: probing initialization failed: No such file or directory\n`);
        code = 1;
        continue;
      }
      const isDisk = !found.part;
      const sigs = signaturesOf(found.dev, isDisk);
      if (!o.all) {
        if (sigs.length) {
          lib.out("DEVICE OFFSET TYPE UUID LABEL\n");
          for (const sig of sigs) for (const [off] of SIGS[sig] || [["0x00000000"]]) lib.out(`${found.dev.name} ${off.replace("%END%", (found.dev.size - 512).toString(16))} ${sig}\n`);
        }
        continue;
      }
      if (busy(found) && !o.force) {
        lib.err(`wipefs: error: ${d}: probing initialization failed: Device or resource busy\n`);
        code = 1;
        continue;
      }
      for (const sig of sigs) {
        for (const [off, bytes] of SIGS[sig] || [["0x00000000", "00"]]) {
          const offset = off === "0x%END%" ? "0x" + (found.dev.size - 512).toString(16).padStart(8, "0") : off;
          if (!o.quiet) lib.out(`${d}: ${bytes.split(" ").length} bytes ${o.noact ? "would be" : "were"} erased at offset ${offset} (${sig}): ${bytes}\n`);
        }
      }
      if (o.noact) continue;
      if (isDisk && found.dev.partitions && found.dev.partitions.length) {
        if (!o.quiet) lib.out(`${d}: calling ioctl to re-read partition table: Success\n`);
        delete found.dev.partitions;
      }
      delete found.dev.lvm;
      delete found.dev.fstype;
    }
  });
  return code;
}

function sgdisk(sim, argv) {
  let zap = false;
  const devs = [];
  for (const a of argv) {
    if (a === "--zap-all" || a === "-Z") zap = true;
    else if (a.startsWith("-")) lib.die(`pve-sim: sgdisk option ${a} is not simulated (only --zap-all)\n`, 2);
    else devs.push(a);
  }
  if (devs.length !== 1) lib.die("Usage: sgdisk [OPTION...] <device>\n", 1);
  const d = devs[0];
  const { node } = sim.self();
  let code = 0;
  ceph.mutate(sim, (s) => {
    const found = ceph.findDevice(ceph.mutableDisks(s, node.name), d);
    if (!found) {
      lib.out(`Problem opening ${d} for reading! Error is 2.\nThe specified file does not exist!\n`);
      code = 2;
      return;
    }
    if (!zap) return;
    const wasBusy = busy(found);
    lib.out("Creating new GPT entries in memory.\n");
    lib.out("GPT data structures destroyed! You may now partition the disk using fdisk or\nother utilities.\n");
    if (wasBusy) lib.out("Warning: The kernel is still using the old partition table.\nThe new table will be used at the next reboot or after you\nrun partprobe(8) or kpartx(8)\n");
    delete found.dev.partitions;
    delete found.dev.fstype;
    delete found.dev.lvm;
  });
  return code;
}

function partprobe(sim, argv) {
  const { state, node } = sim.self();
  const disks = ceph.disksOf(state, node.name);
  for (const d of argv.filter((a) => !a.startsWith("-"))) {
    if (!ceph.findDevice(disks, d)) lib.die(`Error: Could not stat device ${d} - No such file or directory.\n`, 1);
  }
  return 0;
}

lib.main(() => {
  const sim = lib.context();
  const tool = process.env.PVE_SIM_TOOL || "lsblk";
  const argv = process.argv.slice(2);
  sim.logTool(tool, argv);
  switch (tool) {
    case "lsblk":
      return lsblk(sim, argv);
    case "wipefs":
      return wipefs(sim, argv);
    case "sgdisk":
      return sgdisk(sim, argv);
    default:
      return partprobe(sim, argv);
  }
});
