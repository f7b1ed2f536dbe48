/**
 * A node's disk inventory from `lsblk -J -b -p -o …` (the disks and what is on
 * them), `udevadm info --query=symlink` (their /dev/disk/by-id names) and
 * `ceph-volume lvm list --format json` (which OSD uses which device). Pure.
 */
import { asNumber, parseToolJson } from "./json";
import { describeContents, parseLsblkTree, pathsUnder, type VolumeEntry } from "./ceph-osd";

/** The lsblk columns the inventory reads. */
export function diskInventoryColumns(): string {
  return "NAME,TYPE,SIZE,FSTYPE,MOUNTPOINT,MODEL,SERIAL,ROTA,TRAN";
}

/** One whole disk of a node. */
export interface DiskInfo {
  /** Kernel path, e.g. /dev/nvme0n1. */
  device: string;
  /** The stable /dev/disk/by-id path to put in the stack file (nvme-/ata-/scsi- before wwn-); "" when udev has none. */
  byId: string;
  sizeBytes: number;
  model: string;
  serial: string;
  rotational: boolean;
  /** nvme, sata, usb, … ("" when unknown). */
  transport: string;
  /** What uses it, in words: partitions, filesystems, LVM, mounts, Ceph OSDs. Empty: free for an OSD. */
  usedBy: string[];
}

/** The by-id link people pick: the model/serial one before wwn- and the others. */
export function preferredById(links: readonly string[]): string {
  const ids = links.filter((l) => l.startsWith("disk/by-id/")).map((l) => `/dev/${l}`);
  const rank = (l: string) => (/\/(nvme|ata|scsi|usb)-/.test(l) && !/\/nvme-eui\./.test(l) ? 0 : /\/wwn-/.test(l) ? 1 : 2);
  return [...ids].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0] ?? "";
}

/** Parse the three reads into the inventory, disks in lsblk's order. */
export function parseDiskInventory(node: string, lsblkJson: string, symlinks: Record<string, string[]>, volumes: readonly VolumeEntry[]): DiskInfo[] {
  const raw = parseToolJson<{ blockdevices?: Record<string, unknown>[] }>(lsblkJson, node, "lsblk");
  if (!raw || !Array.isArray(raw.blockdevices)) throw new Error(`${node}: lsblk printed no "blockdevices" list`);
  const tree = parseLsblkTree(lsblkJson, node);
  const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  const disks: DiskInfo[] = [];
  raw.blockdevices.forEach((d, i) => {
    const dev = tree[i];
    if (dev.type !== "disk") return;
    const { what } = describeContents(dev);
    const paths = pathsUnder(dev);
    const osds = volumes.filter((v) => v.devices.some((p) => paths.includes(p)));
    const usedBy = [...what, ...osds.map((v) => `Ceph OSD ${v.osdId} (${v.type})`)];
    disks.push({
      device: dev.path,
      byId: preferredById(symlinks[dev.path] ?? []),
      sizeBytes: asNumber(d.size) ?? 0,
      model: text(d.model),
      serial: text(d.serial),
      rotational: d.rota === true || d.rota === "1" || d.rota === 1,
      transport: text(d.tran),
      usedBy,
    });
  });
  return disks;
}
