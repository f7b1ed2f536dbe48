/**
 * Parsers for Ceph's views of a Proxmox node (pve-cli.md §2): /etc/pve/ceph.conf,
 * `ceph --version` (and the daemons' `--version`), `ceph mon dump -f json`,
 * `ceph mgr dump -f json`, `ceph -s -f json`, `ceph health detail -f json`,
 * `ceph df -f json`, `ceph osd tree -f json`, `ceph-volume lvm list --format json`
 * and `lsblk -J -b`. `ceph -f json` prints an empty line before the document;
 * parseToolJson tolerates it. Pure functions; every failure names the node and the command.
 */
import { ipv4ToInt } from "../ipv4";
import { asNumber, parseToolJson } from "./json";

// ---------------------------------------------------------------------------------------------
// releases and versions

/** Ceph release code names by major version (module-local: providers capture this file by value). */
const RELEASE_BY_MAJOR: Record<number, string> = {
  15: "octopus",
  16: "pacific",
  17: "quincy",
  18: "reef",
  19: "squid",
  20: "tentacle",
};

/** Ceph release code names by major version. */
export const CEPH_RELEASE_BY_MAJOR: Readonly<Record<number, string>> = RELEASE_BY_MAJOR;

export interface CephVersion {
  /** e.g. "19.2.3" */
  version: string;
  major: number;
  /** Release code name, e.g. "squid". */
  release: string;
}

/** `ceph version 19.2.3 (2f03f1cd…) squid (stable)` (also ceph-mon/ceph-osd --version). */
export function parseCephVersion(text: string): CephVersion | undefined {
  const m = /ceph version v?(\d+(?:\.\d+)+)(?:-\S+)?\s+(?:\([0-9a-fA-F]+\)\s+)?([a-z]+)?/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1].split(".")[0]);
  const release = m[2] && m[2] !== "stable" ? m[2] : RELEASE_BY_MAJOR[major];
  if (!release) return undefined;
  return { version: m[1], major, release };
}

// ---------------------------------------------------------------------------------------------
// ceph.conf

export type CephConf = Record<string, Record<string, string>>;

/**
 * An INI file as PVE::CephConfig parses it: `[section]`, `key = value`, comments after an
 * unescaped `;` or `#`. Ceph treats ' ', '_' and '-' in keys alike; keys come back with '_'.
 */
export function parseCephConf(text: string): CephConf {
  const conf: CephConf = {};
  let section: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw
      .replace(/(^|[^\\])[;#].*$/, "$1")
      .replace(/\\([;#])/g, "$1")
      .trim();
    if (line === "") continue;
    const header = /^\[(\S+)\]$/.exec(line);
    if (header) {
      section = header[1];
      conf[section] ??= {};
      continue;
    }
    if (section === undefined) continue;
    const kv = /^(.*?\S)\s*=\s*(\S.*)$/.exec(line);
    if (kv) conf[section][kv[1].replace(/[\s-]+/g, "_")] = kv[2];
  }
  return conf;
}

/** What the provider needs from ceph.conf's [global] section. */
export interface CephConfSummary {
  fsid?: string;
  publicNetwork?: string;
  clusterNetwork?: string;
  /** IPs of `mon_host` (v1/v2 vectors and ports removed). */
  monHost: string[];
  /** Names of the `[mon.<name>]` sections. */
  monSections: string[];
}

export function summarizeCephConf(conf: CephConf): CephConfSummary {
  const g = conf.global ?? {};
  return {
    fsid: g.fsid,
    publicNetwork: g.public_network,
    clusterNetwork: g.cluster_network,
    monHost: ipsFromMonHost(g.mon_host ?? ""),
    monSections: Object.keys(conf)
      .filter((s) => s.startsWith("mon."))
      .map((s) => s.slice(4)),
  };
}

/** `10.0.0.1 [v2:10.0.0.2:3300/0,v1:10.0.0.2:6789/0] [fd00::3]:6789` -> the IPs. */
export function ipsFromMonHost(monHost: string): string[] {
  const ips: string[] = [];
  for (const part of monHost.split(/[\s,;]+/).filter(Boolean)) {
    const host = part.replace(/^\[?v\d+:/, "").replace(/\/\d+\]?$/, "");
    const ip = stripPort(host);
    if (ip && !ips.includes(ip)) ips.push(ip);
  }
  return ips;
}

/** `10.0.0.1:6789`, `[fd00::1]:3300`, `10.0.0.1` -> the IP. */
export function stripPort(addr: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (bracket) return bracket[1].toLowerCase();
  if (/^[\d.]+(:\d+)?$/.test(addr)) return addr.replace(/:\d+$/, "");
  return addr.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// networks (pure helpers shared by the providers)

interface ParsedIp {
  v: 4 | 6;
  n: bigint;
  bits: number;
}

export function parseIp(ip: string): ParsedIp | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    if (ip.split(".").some((p) => Number(p) > 255)) return undefined;
    return { v: 4, n: BigInt(ipv4ToInt(ip)), bits: 32 };
  }
  if (ip.includes(":") && !ip.includes(".")) {
    const halves = ip.split("::");
    if (halves.length > 2) return undefined;
    const left = halves[0] ? halves[0].split(":") : [];
    const right = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
    const fill = halves.length === 2 ? 8 - left.length - right.length : 0;
    if (fill < 0) return undefined;
    const groups = [...left, ...Array<string>(fill).fill("0"), ...right];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return { v: 6, n: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
  }
  return undefined;
}

export interface Cidr {
  v: 4 | 6;
  /** Network base address as a number. */
  base: bigint;
  prefix: number;
}

export function parseCidr(cidr: string): Cidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m) return undefined;
  const ip = parseIp(m[1]);
  const prefix = Number(m[2]);
  if (!ip || prefix > ip.bits) return undefined;
  const shift = BigInt(ip.bits - prefix);
  return { v: ip.v, base: (ip.n >> shift) << shift, prefix };
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const a = parseIp(ip);
  const c = parseCidr(cidr);
  if (!a || !c || a.v !== c.v) return false;
  const shift = BigInt(a.bits - c.prefix);
  return a.n >> shift === c.base >> shift;
}

/** A comma/space separated list of CIDRs, split. */
export function splitNetworks(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,;]+/).filter(Boolean);
}

/** Canonical form of a network list for comparison (base address, sorted): "10.1.0.5/24" == "10.1.0.0/24". */
export function normalizeNetworks(value: string | undefined): string {
  return splitNetworks(value)
    .map((c) => {
      const p = parseCidr(c);
      return p ? `${p.v}:${p.base.toString(16)}/${p.prefix}` : c.toLowerCase();
    })
    .sort()
    .join(",");
}

/** The IPs of `ip -o -4 addr show` / `ip -o -6 addr show`. */
export function parseIpAddrShow(stdout: string): string[] {
  const ips: string[] = [];
  for (const line of stdout.split("\n")) {
    const m = /\binet6?\s+([0-9a-fA-F.:]+)\/\d+/.exec(line);
    if (m && !ips.includes(m[1].toLowerCase())) ips.push(m[1].toLowerCase());
  }
  return ips;
}

// ---------------------------------------------------------------------------------------------
// monitors and managers

export interface CephMonInfo {
  name: string;
  rank: number;
  /** Public IPs of the monitor (from the v2/v1 address vector). */
  addresses: string[];
}

export interface MonDump {
  epoch: number;
  fsid: string;
  mons: CephMonInfo[];
  /** Ranks in quorum. */
  quorum: number[];
}

interface RawMon {
  name?: unknown;
  rank?: unknown;
  addr?: unknown;
  public_addr?: unknown;
  public_addrs?: { addrvec?: { addr?: unknown }[] };
}

/** `ceph mon dump -f json`. */
export function parseMonDump(stdout: string, node: string): MonDump {
  const raw = parseToolJson<{ epoch?: unknown; fsid?: unknown; mons?: RawMon[]; quorum?: unknown[] }>(stdout, node, "ceph mon dump");
  if (!raw || typeof raw !== "object" || !Array.isArray(raw.mons)) throw new Error(`${node}: ceph mon dump printed no "mons" list`);
  const mons: CephMonInfo[] = [];
  for (const m of raw.mons) {
    if (!m || typeof m.name !== "string") continue;
    const addrs: string[] = [];
    const add = (a: unknown) => {
      if (typeof a !== "string" || a === "") return;
      const ip = stripPort(a.replace(/\/\d+$/, ""));
      if (ip && ip !== "0.0.0.0" && !addrs.includes(ip)) addrs.push(ip);
    };
    for (const v of m.public_addrs?.addrvec ?? []) add(v?.addr);
    if (addrs.length === 0) add(m.public_addr ?? m.addr);
    mons.push({ name: m.name, rank: asNumber(m.rank) ?? mons.length, addresses: addrs });
  }
  return {
    epoch: asNumber(raw.epoch) ?? 0,
    fsid: typeof raw.fsid === "string" ? raw.fsid : "",
    mons,
    quorum: (raw.quorum ?? []).map((q) => asNumber(q)).filter((q): q is number => q !== undefined),
  };
}

export interface MgrDump {
  available: boolean;
  /** Name of the active manager ("" in the dump means none). */
  active?: string;
  standbys: string[];
}

/** `ceph mgr dump -f json`. */
export function parseMgrDump(stdout: string, node: string): MgrDump {
  const raw = parseToolJson<{ available?: unknown; active_name?: unknown; standbys?: { name?: unknown }[] }>(stdout, node, "ceph mgr dump");
  if (!raw || typeof raw !== "object") throw new Error(`${node}: ceph mgr dump did not print an object`);
  const active = typeof raw.active_name === "string" && raw.active_name !== "" ? raw.active_name : undefined;
  const standbys = (raw.standbys ?? []).map((s) => s?.name).filter((n): n is string => typeof n === "string" && n !== "");
  return { available: raw.available === true, active, standbys };
}

// ---------------------------------------------------------------------------------------------
// health and status

export interface HealthCheck {
  code: string;
  severity: string;
  message: string;
  count: number;
  /** Detail lines (only from `ceph health detail`). */
  detail: string[];
}

export interface CephHealth {
  /** HEALTH_OK, HEALTH_WARN or HEALTH_ERR. */
  status: string;
  checks: HealthCheck[];
}

interface RawHealth {
  status?: unknown;
  checks?: Record<string, { severity?: unknown; summary?: { message?: unknown; count?: unknown }; detail?: { message?: unknown }[] }>;
}

function healthFrom(raw: RawHealth | undefined, node: string, what: string): CephHealth {
  if (!raw || typeof raw !== "object" || typeof raw.status !== "string") throw new Error(`${node}: ${what} printed no health status`);
  const checks: HealthCheck[] = Object.entries(raw.checks ?? {}).map(([code, c]) => ({
    code,
    severity: typeof c?.severity === "string" ? c.severity : "HEALTH_WARN",
    message: typeof c?.summary?.message === "string" ? c.summary.message : code,
    count: asNumber(c?.summary?.count) ?? 0,
    detail: (c?.detail ?? []).map((d) => d?.message).filter((m): m is string => typeof m === "string"),
  }));
  return { status: raw.status, checks };
}

/** `ceph health [detail] -f json`. */
export function parseCephHealth(stdout: string, node: string): CephHealth {
  return healthFrom(parseToolJson<RawHealth>(stdout, node, "ceph health"), node, "ceph health");
}

export interface CephStatus {
  fsid: string;
  health: CephHealth;
  quorumNames: string[];
  numMons: number;
  osds: { total: number; up: number; in: number };
  pgs: { total: number; byState: Record<string, number> };
  bytes: { total: number; used: number; avail: number };
  mgrAvailable: boolean;
}

/** `ceph -s -f json` (Octopus+ layout: flat osdmap). */
export function parseCephStatus(stdout: string, node: string): CephStatus {
  const raw = parseToolJson<{
    fsid?: unknown;
    health?: RawHealth;
    quorum_names?: unknown[];
    monmap?: { num_mons?: unknown };
    osdmap?: { num_osds?: unknown; num_up_osds?: unknown; num_in_osds?: unknown; osdmap?: Record<string, unknown> };
    pgmap?: { num_pgs?: unknown; pgs_by_state?: { state_name?: unknown; count?: unknown }[]; bytes_total?: unknown; bytes_used?: unknown; bytes_avail?: unknown };
    mgrmap?: { available?: unknown };
  }>(stdout, node, "ceph -s");
  if (!raw || typeof raw !== "object") throw new Error(`${node}: ceph -s did not print an object`);
  const osdmap = (raw.osdmap?.osdmap ?? raw.osdmap ?? {}) as Record<string, unknown>; // pre-Octopus nested it
  const byState: Record<string, number> = {};
  for (const s of raw.pgmap?.pgs_by_state ?? []) if (typeof s?.state_name === "string") byState[s.state_name] = asNumber(s.count) ?? 0;
  return {
    fsid: typeof raw.fsid === "string" ? raw.fsid : "",
    health: healthFrom(raw.health, node, "ceph -s"),
    quorumNames: (raw.quorum_names ?? []).filter((n): n is string => typeof n === "string"),
    numMons: asNumber(raw.monmap?.num_mons) ?? 0,
    osds: { total: asNumber(osdmap.num_osds) ?? 0, up: asNumber(osdmap.num_up_osds) ?? 0, in: asNumber(osdmap.num_in_osds) ?? 0 },
    pgs: { total: asNumber(raw.pgmap?.num_pgs) ?? 0, byState },
    bytes: { total: asNumber(raw.pgmap?.bytes_total) ?? 0, used: asNumber(raw.pgmap?.bytes_used) ?? 0, avail: asNumber(raw.pgmap?.bytes_avail) ?? 0 },
    mgrAvailable: raw.mgrmap?.available === true,
  };
}

export interface PoolUsage {
  name: string;
  id: number;
  /** Bytes stored by clients (before replication). */
  storedBytes: number;
  /** Raw bytes used (after replication). */
  usedBytes: number;
  /** Bytes that can still be stored (after replication), as Ceph projects it. */
  maxAvailBytes: number;
  /** 0..1 */
  percentUsed: number;
}

export interface CephDf {
  totalBytes: number;
  usedBytes: number;
  availBytes: number;
  pools: PoolUsage[];
}

/** `ceph df -f json`. */
export function parseCephDf(stdout: string, node: string): CephDf {
  const raw = parseToolJson<{
    stats?: { total_bytes?: unknown; total_used_raw_bytes?: unknown; total_used_bytes?: unknown; total_avail_bytes?: unknown };
    pools?: { name?: unknown; id?: unknown; stats?: { stored?: unknown; bytes_used?: unknown; max_avail?: unknown; percent_used?: unknown } }[];
  }>(stdout, node, "ceph df");
  if (!raw || typeof raw !== "object" || !raw.stats) throw new Error(`${node}: ceph df printed no "stats"`);
  return {
    totalBytes: asNumber(raw.stats.total_bytes) ?? 0,
    usedBytes: asNumber(raw.stats.total_used_raw_bytes) ?? asNumber(raw.stats.total_used_bytes) ?? 0,
    availBytes: asNumber(raw.stats.total_avail_bytes) ?? 0,
    pools: (raw.pools ?? [])
      .filter((p) => typeof p?.name === "string")
      .map((p) => ({
        name: p.name as string,
        id: asNumber(p.id) ?? 0,
        storedBytes: asNumber(p.stats?.stored) ?? 0,
        usedBytes: asNumber(p.stats?.bytes_used) ?? 0,
        maxAvailBytes: asNumber(p.stats?.max_avail) ?? 0,
        percentUsed: asNumber(p.stats?.percent_used) ?? 0,
      })),
  };
}

// ---------------------------------------------------------------------------------------------
// OSDs and block devices (for the OSD provider)

export interface OsdTreeOsd {
  id: number;
  name: string;
  host?: string;
  deviceClass?: string;
  up: boolean;
  /** reweight > 0 */
  in: boolean;
  crushWeight: number;
}

export interface OsdTree {
  hosts: { name: string; id: number; osds: number[] }[];
  osds: OsdTreeOsd[];
}

/** `ceph osd tree -f json`. */
export function parseOsdTree(stdout: string, node: string): OsdTree {
  const raw = parseToolJson<{ nodes?: Record<string, unknown>[]; stray?: Record<string, unknown>[] }>(stdout, node, "ceph osd tree");
  if (!raw || !Array.isArray(raw.nodes)) throw new Error(`${node}: ceph osd tree printed no "nodes" list`);
  const hosts: OsdTree["hosts"] = [];
  const hostOf = new Map<number, string>();
  for (const n of raw.nodes) {
    if (n.type !== "host" || typeof n.name !== "string") continue;
    const children = Array.isArray(n.children) ? (n.children as unknown[]).map((c) => asNumber(c)).filter((c): c is number => c !== undefined) : [];
    hosts.push({ name: n.name, id: asNumber(n.id) ?? 0, osds: children.filter((c) => c >= 0).sort((a, b) => a - b) });
    for (const c of children) hostOf.set(c, n.name);
  }
  const osds: OsdTreeOsd[] = [];
  for (const n of [...raw.nodes, ...(raw.stray ?? [])]) {
    if (n.type !== "osd") continue;
    const id = asNumber(n.id);
    if (id === undefined) continue;
    osds.push({
      id,
      name: typeof n.name === "string" ? n.name : `osd.${id}`,
      host: hostOf.get(id),
      deviceClass: typeof n.device_class === "string" ? n.device_class : undefined,
      up: n.status === "up",
      in: (asNumber(n.reweight) ?? 0) > 0,
      crushWeight: asNumber(n.crush_weight) ?? 0,
    });
  }
  osds.sort((a, b) => a.id - b.id);
  return { hosts, osds };
}

export interface CephVolumeLv {
  osdId: number;
  osdFsid: string;
  /** block, db or wal */
  type: string;
  lvPath: string;
  vgName: string;
  /** PVs under the LV, e.g. ["/dev/nvme0n1"]. */
  devices: string[];
  sizeBytes: number;
  deviceClass: string;
  clusterFsid: string;
}

/** `ceph-volume lvm list --format json` (`{}` when there are no OSDs). */
export function parseCephVolumeList(stdout: string, node: string): CephVolumeLv[] {
  const raw = parseToolJson<Record<string, Record<string, unknown>[]>>(stdout, node, "ceph-volume lvm list");
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${node}: ceph-volume lvm list did not print an object`);
  const lvs: CephVolumeLv[] = [];
  for (const [id, entries] of Object.entries(raw)) {
    for (const e of Array.isArray(entries) ? entries : []) {
      const tags = (e.tags ?? {}) as Record<string, unknown>;
      lvs.push({
        osdId: Number(id),
        osdFsid: String(tags["ceph.osd_fsid"] ?? ""),
        type: String(e.type ?? tags["ceph.type"] ?? ""),
        lvPath: String(e.lv_path ?? e.path ?? ""),
        vgName: String(e.vg_name ?? ""),
        devices: Array.isArray(e.devices) ? (e.devices as unknown[]).map(String) : [],
        sizeBytes: asNumber(e.lv_size) ?? 0,
        deviceClass: String(tags["ceph.crush_device_class"] ?? ""),
        clusterFsid: String(tags["ceph.cluster_fsid"] ?? ""),
      });
    }
  }
  return lvs.sort((a, b) => a.osdId - b.osdId || a.type.localeCompare(b.type));
}

export interface BlockDevice {
  name: string;
  path: string;
  /** disk, part, lvm, crypt, … */
  type: string;
  sizeBytes: number;
  fstype?: string;
  mountpoint?: string;
  /** Parent kernel name (partitions, LVs). */
  pkname?: string;
  children: BlockDevice[];
}

/** `lsblk -J -b -o NAME,PATH,TYPE,SIZE,FSTYPE,MOUNTPOINT,PKNAME` (tree form). */
export function parseLsblk(stdout: string, node: string): BlockDevice[] {
  const raw = parseToolJson<{ blockdevices?: Record<string, unknown>[] }>(stdout, node, "lsblk");
  if (!raw || !Array.isArray(raw.blockdevices)) throw new Error(`${node}: lsblk printed no "blockdevices" list`);
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const conv = (d: Record<string, unknown>): BlockDevice => {
    const mps = Array.isArray(d.mountpoints) ? (d.mountpoints as unknown[]).map(str).filter(Boolean) : [];
    const name = str(d.name) ?? "";
    return {
      name,
      path: str(d.path) ?? (name.startsWith("/dev/") ? name : `/dev/${name}`),
      type: str(d.type) ?? "",
      sizeBytes: asNumber(d.size) ?? 0,
      fstype: str(d.fstype),
      mountpoint: str(d.mountpoint) ?? (mps[0] as string | undefined),
      pkname: str(d.pkname),
      children: Array.isArray(d.children) ? (d.children as Record<string, unknown>[]).map(conv) : [],
    };
  };
  return raw.blockdevices.map(conv);
}

// ---------------------------------------------------------------------------------------------
// errors

/** stderr of a ceph CLI call that could not reach the cluster (no conf, no monitors, no quorum). */
export function isCephConnectError(stderr: string): boolean {
  return /error connecting to the cluster|Error initializing cluster client|RADOS timed out|conf_read_file|^timed out$/m.test(stderr);
}
