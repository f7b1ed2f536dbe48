/**
 * Parsers for the OSD and pool providers (pure functions): lsblk, ceph-volume,
 * `ceph osd tree`, `pveceph pool ls`, `ceph osd crush rule dump`,
 * `ceph config dump` and the storage list. Every `ceph -f json` output starts
 * with an empty line (pve-cli.md §2.0); `parseToolJson` trims it.
 */
import { asNumber, parseToolJson } from "./json";

// ---------------------------------------------------------------------------------------------
// lsblk

/** One block device of `lsblk -J -b -p -o NAME,TYPE,SIZE,FSTYPE,MOUNTPOINT` (tree form). */
export interface BlockDev {
  /** Full path (`-p`), e.g. "/dev/nvme0n1p1" or "/dev/mapper/vg-lv". */
  path: string;
  /** disk, part, lvm, crypt, … */
  type: string;
  sizeBytes: number;
  fstype?: string;
  mountpoint?: string;
  children: BlockDev[];
}

/** The columns the parser expects; pass them to lsblk. */
export const LSBLK_COLUMNS = "NAME,TYPE,SIZE,FSTYPE,MOUNTPOINT";

export function parseLsblkTree(stdout: string, node: string): BlockDev[] {
  const raw = parseToolJson<{ blockdevices?: Record<string, unknown>[] }>(stdout, node, "lsblk");
  if (!raw || !Array.isArray(raw.blockdevices)) throw new Error(`${node}: lsblk printed no "blockdevices" list`);
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const conv = (d: Record<string, unknown>): BlockDev => {
    const name = str(d.name) ?? str(d.path) ?? "";
    const mps = Array.isArray(d.mountpoints) ? (d.mountpoints as unknown[]).map(str).filter((m): m is string => !!m) : [];
    return {
      path: name.startsWith("/dev/") ? name : `/dev/${name}`,
      type: str(d.type) ?? "",
      sizeBytes: asNumber(d.size) ?? 0,
      fstype: str(d.fstype),
      mountpoint: str(d.mountpoint) ?? mps[0],
      children: Array.isArray(d.children) ? (d.children as Record<string, unknown>[]).map(conv) : [],
    };
  };
  return raw.blockdevices.map(conv);
}

/** Find a device (disk or partition) by path anywhere in the tree. */
export function findBlockDev(tree: readonly BlockDev[], path: string): BlockDev | undefined {
  for (const d of tree) {
    if (d.path === path) return d;
    const hit = findBlockDev(d.children, path);
    if (hit) return hit;
  }
  return undefined;
}

/** All paths of a device and everything below it (partitions, LVs). */
export function pathsUnder(dev: BlockDev): string[] {
  return [dev.path, ...dev.children.flatMap(pathsUnder)];
}

/**
 * What is on a device, in words ("a partition table (2 partitions)", "LVM
 * (volume group data)", "an ext4 filesystem", "mounted at /"), or [] when the
 * device is empty. `mounted` is true when anything on it is mounted.
 */
export function describeContents(dev: BlockDev): { what: string[]; mounted: string[] } {
  const what: string[] = [];
  const mounted: string[] = [];
  const parts = dev.children.filter((c) => c.type === "part");
  const lvs = dev.children.filter((c) => c.type === "lvm");
  if (parts.length > 0) what.push(`a partition table (${parts.length} partition${parts.length === 1 ? "" : "s"}: ${parts.map((p) => p.path).join(", ")})`);
  if (dev.fstype === "LVM2_member") what.push(`LVM (${lvs.length} logical volume${lvs.length === 1 ? "" : "s"}${lvs.length ? `: ${lvs.map((l) => l.path).join(", ")}` : ""})`);
  else if (dev.fstype) what.push(`a ${dev.fstype} signature`);
  const walk = (d: BlockDev) => {
    if (d.mountpoint) mounted.push(`${d.path} mounted at ${d.mountpoint}`);
    d.children.forEach(walk);
  };
  walk(dev);
  if (mounted.length > 0) what.push(...mounted);
  return { what, mounted };
}

// ---------------------------------------------------------------------------------------------
// ceph-volume lvm list --format json

export interface VolumeEntry {
  osdId: number;
  /** block, db or wal */
  type: string;
  /** PVs under the LV, e.g. ["/dev/nvme0n1"]. */
  devices: string[];
  deviceClass: string;
  clusterFsid: string;
}

/** `ceph-volume lvm list --format json`: `{}` when there are no OSDs. */
export function parseVolumeList(stdout: string, node: string): VolumeEntry[] {
  const raw = parseToolJson<Record<string, unknown>>(stdout, node, "ceph-volume lvm list");
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${node}: ceph-volume lvm list did not print a JSON object`);
  const res: VolumeEntry[] = [];
  for (const [id, entries] of Object.entries(raw)) {
    if (!Array.isArray(entries)) continue;
    for (const e of entries as Record<string, unknown>[]) {
      const tags = (e.tags ?? {}) as Record<string, unknown>;
      res.push({
        osdId: Number(id),
        type: String(e.type ?? tags["ceph.type"] ?? ""),
        devices: Array.isArray(e.devices) ? (e.devices as unknown[]).map(String) : [],
        deviceClass: String(tags["ceph.crush_device_class"] ?? ""),
        clusterFsid: String(tags["ceph.cluster_fsid"] ?? ""),
      });
    }
  }
  return res.sort((a, b) => a.osdId - b.osdId);
}

/** The fsid in a ceph.conf ([global] fsid = …), or undefined. */
export function cephConfFsid(text: string): string | undefined {
  const m = /^\s*fsid\s*=\s*(\S+)\s*$/m.exec(text);
  return m ? m[1] : undefined;
}

/** OSD ids whose data (block) LV sits on the device or one of its partitions. */
export function osdIdsOnDevice(entries: readonly VolumeEntry[], devicePaths: readonly string[]): number[] {
  const ids = entries.filter((e) => e.type === "block" && e.devices.some((d) => devicePaths.includes(d))).map((e) => e.osdId);
  return [...new Set(ids)].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// ceph osd tree -f json

export interface TreeOsd {
  id: number;
  host?: string;
  deviceClass?: string;
  up: boolean;
  in: boolean;
}

export function parseOsdTreeJson(stdout: string, node: string): TreeOsd[] {
  const raw = parseToolJson<{ nodes?: Record<string, unknown>[]; stray?: Record<string, unknown>[] }>(stdout, node, "ceph osd tree");
  if (!raw || !Array.isArray(raw.nodes)) throw new Error(`${node}: ceph osd tree printed no "nodes" list`);
  const hostOf = new Map<number, string>();
  for (const n of raw.nodes) {
    if (n.type !== "host" || typeof n.name !== "string" || !Array.isArray(n.children)) continue;
    for (const c of n.children as unknown[]) {
      const id = asNumber(c);
      if (id !== undefined) hostOf.set(id, n.name);
    }
  }
  const res: TreeOsd[] = [];
  for (const n of [...raw.nodes, ...(raw.stray ?? [])]) {
    if (n.type !== "osd") continue;
    const id = asNumber(n.id);
    if (id === undefined) continue;
    res.push({
      id,
      host: hostOf.get(id),
      deviceClass: typeof n.device_class === "string" ? n.device_class : undefined,
      up: n.status === "up",
      in: (asNumber(n.reweight) ?? 0) > 0,
    });
  }
  return res.sort((a, b) => a.id - b.id);
}

/** Hosts holding at least one OSD (of the device class, when given). */
export function hostsWithOsds(osds: readonly TreeOsd[], deviceClass?: string): string[] {
  return [...new Set(osds.filter((o) => o.host && (!deviceClass || o.deviceClass === deviceClass)).map((o) => o.host as string))].sort();
}

// ---------------------------------------------------------------------------------------------
// pools

export interface LivePool {
  id: number;
  name: string;
  size: number;
  minSize: number;
  pgNum: number;
  pgAutoscaleMode: string;
  /** First application, "" when none. */
  application: string;
  crushRuleId?: number;
  crushRuleName?: string;
}

/** `pveceph pool ls --output-format json` (`pool` and `crush_rule` may be strings before 2026-05). */
export function parsePveCephPoolLs(stdout: string, node: string): LivePool[] {
  const raw = parseToolJson<Record<string, unknown>[]>(stdout, node, "pveceph pool ls");
  if (!Array.isArray(raw)) throw new Error(`${node}: pveceph pool ls did not print a JSON list`);
  return raw.map((p) => {
    const apps = p.application_metadata && typeof p.application_metadata === "object" ? Object.keys(p.application_metadata as object) : [];
    return {
      id: asNumber(p.pool) ?? -1,
      name: String(p.pool_name ?? ""),
      size: asNumber(p.size) ?? 0,
      minSize: asNumber(p.min_size) ?? 0,
      pgNum: asNumber(p.pg_num) ?? 0,
      pgAutoscaleMode: String(p.pg_autoscale_mode ?? ""),
      application: apps.sort()[0] ?? "",
      crushRuleId: asNumber(p.crush_rule),
      crushRuleName: typeof p.crush_rule_name === "string" ? p.crush_rule_name : undefined,
    };
  });
}

export interface CrushRule {
  id: number;
  name: string;
  /** Device class of the `take` step (`default~nvme`), when any. */
  deviceClass?: string;
  /** Failure domain of the choose step. */
  failureDomain?: string;
}

/** `ceph osd crush rule dump -f json`. */
export function parseCrushRules(stdout: string, node: string): CrushRule[] {
  const raw = parseToolJson<Record<string, unknown>[]>(stdout, node, "ceph osd crush rule dump");
  if (!Array.isArray(raw)) throw new Error(`${node}: ceph osd crush rule dump did not print a JSON list`);
  return raw.map((r) => {
    const steps = Array.isArray(r.steps) ? (r.steps as Record<string, unknown>[]) : [];
    const take = steps.find((s) => s.op === "take");
    const choose = steps.find((s) => typeof s.op === "string" && (s.op as string).startsWith("choose"));
    const itemName = typeof take?.item_name === "string" ? take.item_name : "";
    const cls = itemName.includes("~") ? itemName.split("~")[1] : undefined;
    return {
      id: asNumber(r.rule_id) ?? -1,
      name: String(r.rule_name ?? ""),
      deviceClass: cls,
      failureDomain: typeof choose?.type === "string" ? choose.type : undefined,
    };
  });
}

/** `ceph config dump -f json` → value of `key` in section `who`, if set. */
export function configValue(stdout: string, node: string, who: string, key: string): string | undefined {
  const raw = parseToolJson<Record<string, unknown>[]>(stdout, node, "ceph config dump");
  if (!Array.isArray(raw)) throw new Error(`${node}: ceph config dump did not print a JSON list`);
  const hit = raw.find((r) => r.section === who && r.name === key);
  return hit === undefined ? undefined : String(hit.value);
}

/** `pvesh get /storage --output-format json` → ids of RBD storages that use the pool. */
export function rbdStoragesOfPool(stdout: string, node: string, pool: string): string[] {
  const raw = parseToolJson<Record<string, unknown>[]>(stdout, node, "pvesh get /storage");
  if (!Array.isArray(raw)) throw new Error(`${node}: pvesh get /storage did not print a JSON list`);
  return raw
    .filter((s) => s.type === "rbd" && (s.pool === pool || (s.pool === undefined && s.storage === pool)))
    .map((s) => String(s.storage))
    .sort();
}
