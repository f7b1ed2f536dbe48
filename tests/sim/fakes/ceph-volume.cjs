"use strict";
// Fake `ceph-volume` (ceph/ceph src/ceph-volume: devices/lvm/listing.py and zap.py), installed by
// `pveceph install` (before that: "command not found", exit 127). See pve-cli.md 2.13.
//   lvm list [--format json|pretty] [<device>]
//       json: json.dumps(report, indent=4, sort_keys=True); `{}` (exit 0) when there are no OSDs.
//       pretty: "No valid Ceph lvm devices found" on stderr, exit 1, when there are none.
//   lvm zap [--destroy] <device|vg/lv>...   and   lvm zap --osd-id N [--destroy]
//       progress lines ("--> Zapping: …", "Running command: …") go to stderr, like ceph-volume's
//       terminal logger; exit 0. A whole device loses its partition table even without --destroy;
//       LVs lose their ceph tags; with --destroy LVs, the VG and the PV label go too. An OSD whose
//       block LV is zapped is marked lost (down) in the cluster.
const lib = require("./lib.cjs");
const ceph = require("./ceph-lib.cjs");

function notFound() {
  lib.die("bash: line 1: ceph-volume: command not found\n", 127);
}

function sortKeysDeep(v) {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeysDeep(v[k]);
    return o;
  }
  return v;
}

function usage() {
  lib.die(
    "usage: ceph-volume lvm [-h] {activate,batch,deactivate,list,migrate,new-db,new-wal,prepare,zap,create,trigger} ...\nceph-volume lvm: error: invalid choice\n",
    2,
  );
}

function cmdList(sim, argv) {
  let format = "pretty";
  let device = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--format" || a === "-f") format = argv[++i];
    else if (a.startsWith("--format=")) format = a.slice(9);
    else if (a.startsWith("-")) lib.die(`usage: ceph-volume lvm list [-h] [--format {json,json-pretty,pretty}] [device]\nceph-volume lvm list: error: unrecognized arguments: ${a}\n`, 2);
    else device = a;
  }
  const { state, node } = sim.self();
  const report = ceph.cephVolumeReport(state, node.name, device);
  if (format === "json" || format === "json-pretty") {
    lib.out(JSON.stringify(sortKeysDeep(report), null, 4) + "\n");
    return 0;
  }
  const ids = Object.keys(report).sort((a, b) => Number(a) - Number(b));
  if (ids.length === 0) lib.die("No valid Ceph lvm devices found\n", 1);
  let o = "";
  for (const id of ids) {
    o += `\n\n====== osd.${id} =======\n`;
    for (const lv of report[id]) {
      o += `\n  [${lv.type}]       ${lv.lv_path}\n\n`;
      o += `      ${"block device".padEnd(26)}${lv.tags["ceph.block_device"]}\n`;
      o += `      ${"block uuid".padEnd(26)}${lv.tags["ceph.block_uuid"]}\n`;
      o += `      ${"cephx lockbox secret".padEnd(26)}\n`;
      o += `      ${"cluster fsid".padEnd(26)}${lv.tags["ceph.cluster_fsid"]}\n`;
      o += `      ${"cluster name".padEnd(26)}ceph\n`;
      o += `      ${"crush device class".padEnd(26)}${lv.tags["ceph.crush_device_class"]}\n`;
      o += `      ${"encrypted".padEnd(26)}${lv.tags["ceph.encrypted"]}\n`;
      o += `      ${"osd fsid".padEnd(26)}${lv.tags["ceph.osd_fsid"]}\n`;
      o += `      ${"osd id".padEnd(26)}${id}\n`;
      o += `      ${"type".padEnd(26)}${lv.type}\n`;
      o += `      ${"devices".padEnd(26)}${lv.devices.join(",")}\n`;
    }
  }
  lib.out(o);
  return 0;
}

function markLost(s, nodeName, lv) {
  if (!lv.tags || lv.tags["ceph.type"] !== "block") return;
  const c = ceph.clusterOf(s, nodeName);
  const osd = c && c.osds[lv.tags["ceph.osd_id"]];
  if (osd && osd.node === nodeName) {
    osd.lost = true;
    c.changedAt = Date.now();
  }
}

function ddLines(target) {
  return (
    `Running command: /usr/bin/dd if=/dev/zero of=${target} bs=1M count=10 conv=fsync\n` +
    " stderr: 10+0 records in\n10+0 records out\n" +
    " stderr: 10485760 bytes (10 MB, 10 MiB) copied, 0.0248 s, 422 MB/s\n"
  );
}

/** Zap the LVs of one PV (disk or partition object). */
function zapPv(s, nodeName, dev, destroy, only) {
  let o = "";
  const vg = dev.lvm.vg;
  for (const lv of [...dev.lvm.lvs]) {
    if (only && !only(lv)) continue;
    o += `--> Zapping lvm member /dev/${dev.name}. lv_path is /dev/${vg}/${lv.name}\n`;
    o += `--> Zapping: /dev/${vg}/${lv.name}\n`;
    o += `Running command: /usr/sbin/wipefs --all /dev/${vg}/${lv.name}\n`;
    o += ddLines(`/dev/${vg}/${lv.name}`);
    markLost(s, nodeName, lv);
    delete lv.tags;
    delete lv.fstype;
    if (destroy) {
      dev.lvm.lvs = dev.lvm.lvs.filter((x) => x !== lv);
      if (dev.lvm.lvs.length === 0) {
        o += `--> Only 1 LV left in VG, will proceed to destroy volume group ${vg}\n`;
        o += `Running command: vgremove -v -f ${vg}\n`;
        o += ` stderr: Removing ${ceph.dmName(vg, lv.name)} (252:0)\n`;
        o += ` stdout: Logical volume "${lv.name}" successfully removed\n`;
        o += ` stdout: Volume group "${vg}" successfully removed\n`;
      } else {
        o += `--> More than 1 LV left in VG, will proceed to destroy LV only\n--> Removing LV because --destroy was given: /dev/${vg}/${lv.name}\n`;
        o += `Running command: lvremove -v -f /dev/${vg}/${lv.name}\n stdout: Logical volume "${lv.name}" successfully removed\n`;
      }
    }
  }
  if (destroy && dev.lvm.lvs.length === 0) delete dev.lvm;
  return o;
}

function zapPartition(s, nodeName, disk, part, destroy) {
  let o = "";
  if (part.lvm) o += zapPv(s, nodeName, part, destroy);
  if (part.mountpoint) {
    o += `--> Unmounting /dev/${part.name}\nRunning command: /usr/bin/umount -v /dev/${part.name}\n stderr: umount: ${part.mountpoint} unmounted\n`;
    delete part.mountpoint;
  }
  o += `Running command: /usr/sbin/wipefs --all /dev/${part.name}\n`;
  o += ddLines(`/dev/${part.name}`);
  delete part.fstype;
  if (destroy) {
    o += `--> Destroying partition since --destroy was used: /dev/${part.name}\n`;
    o += `Running command: /usr/sbin/parted /dev/${disk.name} --script -- rm ${disk.partitions.indexOf(part) + 1}\n`;
    disk.partitions = disk.partitions.filter((p) => p !== part);
    if (disk.partitions.length === 0) delete disk.partitions;
  }
  return o;
}

function cmdZap(sim, argv) {
  let destroy = false;
  let osdId = null;
  let osdFsid = null;
  const targets = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--destroy") destroy = true;
    else if (a === "--osd-id") osdId = argv[++i];
    else if (a === "--osd-fsid") osdFsid = argv[++i];
    else if (a === "--no-systemd" || a === "-h") continue;
    else if (a.startsWith("-")) lib.die(`usage: ceph-volume lvm zap [-h] [--destroy] [--osd-id OSD_ID] [--osd-fsid OSD_FSID] [--no-systemd] [DEVICES ...]\nceph-volume lvm zap: error: unrecognized arguments: ${a}\n`, 2);
    else targets.push(a);
  }
  const { node } = sim.self();
  let o = "";
  let error = null;
  ceph.mutate(sim, (s) => {
    const disks = ceph.mutableDisks(s, node.name);
    if (osdId !== null || osdFsid !== null) {
      let found = false;
      for (const disk of disks) {
        for (const dev of [disk, ...(disk.partitions || [])]) {
          if (!dev.lvm) continue;
          const match = (lv) => lv.tags && (osdId === null || lv.tags["ceph.osd_id"] === String(osdId)) && (osdFsid === null || lv.tags["ceph.osd_fsid"] === osdFsid);
          if (!dev.lvm.lvs.some(match)) continue;
          found = true;
          o += zapPv(s, node.name, dev, destroy, match);
        }
      }
      if (!found) {
        error = `--> RuntimeError: Unable to find any LV for zapping OSD: ${osdId ?? osdFsid}\n`;
        return;
      }
      o += `--> Zapping successful for OSD: ${osdId ?? osdFsid}\n`;
      return;
    }
    if (targets.length === 0) {
      error = "usage: ceph-volume lvm zap [-h] [--destroy] [--osd-id OSD_ID] [--osd-fsid OSD_FSID] [--no-systemd] [DEVICES ...]\n";
      return;
    }
    for (const t of targets) {
      const lvm = /^(?:\/dev\/)?([^/]+)\/([^/]+)$/.exec(t);
      const found = ceph.findDevice(disks, t);
      if (!found && lvm) {
        const hit = ceph.allLvs(disks).find((x) => x.vg === lvm[1] && x.lv.name === lvm[2]);
        if (!hit) {
          error = `--> ArgumentError: Unable to proceed with non-existing device: ${t}\n`;
          return;
        }
        const owner = [hit.disk, ...(hit.disk.partitions || [])].find((d) => d.lvm && d.lvm.lvs.includes(hit.lv));
        o += `--> Zapping: /dev/${hit.vg}/${hit.lv.name}\n`;
        o += zapPv(s, node.name, owner, destroy, (lv) => lv === hit.lv);
        o += `--> Zapping successful for: <LV: /dev/${hit.vg}/${hit.lv.name}>\n`;
        continue;
      }
      if (!found) {
        error = `--> ArgumentError: Unable to proceed with non-existing device: ${t}\n`;
        return;
      }
      o += `--> Zapping: ${t}\n`;
      if (found.part) {
        o += zapPartition(s, node.name, found.disk, found.part, destroy);
        o += `--> Zapping successful for: <Partition: ${t}>\n`;
        continue;
      }
      const disk = found.disk;
      if (!destroy) o += "--> --destroy was not specified, but zapping a whole device will remove the partition table\n";
      if (disk.lvm) o += zapPv(s, node.name, disk, destroy);
      for (const part of [...(disk.partitions || [])]) o += zapPartition(s, node.name, disk, part, true);
      delete disk.partitions;
      if (!disk.lvm) {
        o += `Running command: /usr/sbin/wipefs --all ${t}\n`;
        o += ddLines(t);
        delete disk.fstype;
        delete disk.mountpoint;
      }
      o += `--> Zapping successful for: <Raw Device: ${t}>\n`;
    }
  });
  lib.err(o);
  if (error) lib.die(error, 1);
  return 0;
}

lib.main(() => {
  const sim = lib.context();
  const { state, node } = sim.self();
  if (!ceph.installedOf(state, node.name)) notFound();
  const argv = process.argv.slice(2);
  if (argv[0] === "--version") {
    lib.out(ceph.RELEASES[ceph.installedOf(state, node.name).release].full + "\n");
    return 0;
  }
  if (argv[0] !== "lvm") usage();
  if (argv[1] === "list") return cmdList(sim, argv.slice(2));
  if (argv[1] === "zap") return cmdZap(sim, argv.slice(2));
  return usage();
});
