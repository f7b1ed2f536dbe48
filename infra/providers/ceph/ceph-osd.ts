/**
 * CephOsds: the OSDs of one node, from a declarative device list
 * (`pulumi-nodejs:dynamic/ceph:Osds`, one resource per node).
 *
 * Every operation first reads the node (`lsblk`, `ceph-volume lvm list`,
 * `ceph osd tree`) and plans every device before it changes anything. A
 * device given as a link (`/dev/disk/by-id/…`, which survives renumbering of
 * kernel names) is resolved on the node first and matched by the kernel
 * device it points to; outputs and messages keep the configured path. Then:
 * - a path that does not exist on the node is refused;
 * - a device whose LVs ceph-volume reports as OSD data is ours: nothing to do;
 * - an empty device gets `pveceph osd create`;
 * - a device carrying partitions, a filesystem or LVM that is not ours is
 *   refused (node, device and what is on it in the message) unless that device
 *   has `wipe: true`; then it is zapped first (`ceph-volume lvm zap --destroy`).
 *   A device with anything mounted is refused even with `wipe: true`.
 * If any device is refused, nothing is changed on any device. After creating,
 * it polls `ceph osd tree` (bounded) until the new OSDs are up.
 *
 * Delete leaves the OSDs (and their data) alone unless `destroyOnDelete` is
 * true; then each OSD of the configured devices is marked out, stopped, waited
 * for until it is down, and destroyed with `pveceph osd destroy <id> --cleanup 1`.
 * Devices removed from the list are left alone the same way (no OSD is ever
 * destroyed by an update).
 *
 * A dynamic provider rather than @pulumi/command's remote.Command: creation
 * must be skipped where the OSDs already exist (pveceph refuses a used device
 * with "device '/dev/X' is already in use"), foreign data must be detected
 * before anything runs, and `read` must report the real OSD ids per device.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  BlockDev,
  LSBLK_COLUMNS,
  TreeOsd,
  VolumeEntry,
  cephConfFsid,
  describeContents,
  findBlockDev,
  osdIdsOnDevice,
  parseLsblkTree,
  parseOsdTreeJson,
  parseVolumeList,
  pathsUnder,
} from "../../parse/ceph-osd";
import { command, inCLocale, sh } from "../../shell";
import { CommandFailedError, SshSession, withSession } from "../../ssh";
import { ConnectionArgs, NodeConnection, sshOptions, sshTarget } from "../connection";
import { isUnknown, sleep, stableJson } from "../diff";
import { describeError } from "../../errors";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const CEPH_OSDS_PROVIDER_VERSION = "2";


/** One device that should carry OSDs. */
export interface OsdDeviceSpec {
  /** Whole disk or partition, e.g. "/dev/nvme0n1". */
  device: string;
  /** OSDs on this device (`--osds-per-device`). Defaults to 1. */
  osdsPerDevice?: number;
  /** CRUSH device class, e.g. "nvme". Defaults to what Ceph detects. */
  deviceClass?: string;
  /** Separate DB device (`--db_dev`); not with osdsPerDevice > 1. */
  dbDevice?: string;
  /** Separate WAL device (`--wal_dev`); not with osdsPerDevice > 1. */
  walDevice?: string;
  /** Zap foreign partitions/LVM/filesystems on this device before use. Defaults to false. */
  wipe?: boolean;
}

export interface CephOsdsInputs extends ConnectionArgs {
  providerVersion: string;
  devices: OsdDeviceSpec[];
  /** Destroy this node's OSDs (and their data) when the resource is deleted. Defaults to false. */
  destroyOnDelete?: boolean;
  /** Seconds to wait for new OSDs to come up (and for stopped ones to go down). Defaults to 120. */
  upTimeoutSeconds?: number;
  /** Seconds between polls. Defaults to 2. */
  pollIntervalSeconds?: number;
}

/** The OSDs found on one configured device. */
export interface DeviceOsds {
  device: string;
  /** OSD ids whose data LV is on the device, ascending. */
  ids: number[];
  /** CRUSH device class of those OSDs ("" when unknown, several joined by ","). */
  deviceClass: string;
  /** How many of them are up. */
  up: number;
}

export interface CephOsdsOutputs extends CephOsdsInputs {
  osds: DeviceOsds[];
  /** All OSD ids on the configured devices. */
  osdIds: number[];
}

export class CephOsdError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "CephOsdError";
  }
  toString(): string {
    return describeError(this);
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function cephJson(...args: string[]): string {
  return inCLocale(command("ceph", "--conf", "/etc/pve/ceph.conf", ...args, "-f", "json"));
}

function timing(inputs: Pick<CephOsdsInputs, "upTimeoutSeconds" | "pollIntervalSeconds">): { timeoutMs: number; pollMs: number } {
  return {
    timeoutMs: Math.max(1, inputs.upTimeoutSeconds ?? 120) * 1000,
    pollMs: Math.max(0.05, inputs.pollIntervalSeconds ?? 2) * 1000,
  };
}

const DEVICE_RE = /^\/dev\/[A-Za-z0-9][A-Za-z0-9/_.:-]*$/;
const CLASS_RE = /^[a-z0-9][a-z0-9_-]*$/;

// ---------------------------------------------------------------------------------------------
// validation (no SSH)

/** Problems with the inputs themselves, each a full sentence naming node and device. */
export function osdInputProblems(node: string, devices: readonly OsdDeviceSpec[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const d of devices ?? []) {
    const where = `${node}: device ${d.device}`;
    if (typeof d.device !== "string" || !DEVICE_RE.test(d.device)) problems.push(`${node}: device "${d.device}" is not a /dev/ path`);
    if (seen.has(d.device)) problems.push(`${where} is listed twice`);
    seen.add(d.device);
    const n = d.osdsPerDevice ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 16) problems.push(`${where}: osdsPerDevice ${n} must be a whole number from 1 to 16`);
    if (n > 1 && (d.dbDevice || d.walDevice))
      problems.push(`${where}: osdsPerDevice ${n} cannot be combined with ${d.dbDevice ? "dbDevice" : "walDevice"} (pveceph: cannot use 'osds-per-device' parameter with 'db_dev'/'wal_dev'); use one OSD per device or no separate DB/WAL`);
    for (const [key, v] of [
      ["dbDevice", d.dbDevice],
      ["walDevice", d.walDevice],
    ] as const) {
      if (v === undefined) continue;
      if (!DEVICE_RE.test(v)) problems.push(`${where}: ${key} "${v}" is not a /dev/ path`);
      if (v === d.device) problems.push(`${where}: ${key} is the device itself`);
    }
    if (d.deviceClass !== undefined && !CLASS_RE.test(d.deviceClass)) problems.push(`${where}: deviceClass "${d.deviceClass}" must be lower-case letters, digits, "-" or "_" (e.g. nvme, ssd, hdd)`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// reading and planning

export interface OsdFacts {
  lsblk: BlockDev[];
  volumes: VolumeEntry[];
  tree: TreeOsd[];
  /** fsid of this node's Ceph cluster; ceph-volume entries of another fsid are foreign. */
  fsid?: string;
  /**
   * Configured paths lsblk does not list as given (links such as /dev/disk/by-id/…), mapped to
   * the device they resolve to on the node; "" when the path does not exist there.
   */
  resolved?: Record<string, string>;
}

/** Every device path of the config: data, DB and WAL devices. */
function configuredPaths(devices: readonly OsdDeviceSpec[]): string[] {
  return [...new Set((devices ?? []).flatMap((d) => [d.device, d.dbDevice, d.walDevice]).filter((p): p is string => !!p))];
}

/** One command resolving every path on the node; `readlink -e` prints nothing for a path that does not exist. */
function resolveCommand(paths: readonly string[]): string {
  // Escaped twice: the template's literal text is cooked, and printf should see \t and \n.
  return sh`for p in ${paths}; do printf '%s\\t%s\\n' "$p" "$(readlink -e -- "$p")"; done`;
}

function parseResolved(stdout: string): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab > 0) resolved[line.slice(0, tab)] = line.slice(tab + 1).trim();
  }
  return resolved;
}

function readLsblk(session: SshSession): Promise<BlockDev[]> {
  return session
    .check(inCLocale(command("lsblk", "-J", "-b", "-p", "-o", LSBLK_COLUMNS)))
    .then((r) => parseLsblkTree(r.stdout, session.node));
}

/** Resolve the configured paths lsblk does not list as given (none: no command). */
async function resolvePaths(session: SshSession, lsblk: readonly BlockDev[], paths: readonly string[]): Promise<Record<string, string>> {
  const unlisted = paths.filter((p) => !findBlockDev(lsblk, p));
  if (unlisted.length === 0) return {};
  return parseResolved((await session.check(resolveCommand(unlisted))).stdout);
}

async function readFacts(session: SshSession, devices: readonly OsdDeviceSpec[]): Promise<OsdFacts> {
  const node = session.node;
  const lsblk = await readLsblk(session);
  const resolved = await resolvePaths(session, lsblk, configuredPaths(devices));
  const volumes = parseVolumeList((await session.check(inCLocale(command("ceph-volume", "lvm", "list", "--format", "json")))).stdout, node);
  const tree = parseOsdTreeJson((await session.check(cephJson("osd", "tree"))).stdout, node);
  const fsid = cephConfFsid((await session.check(command("cat", "/etc/pve/ceph.conf"))).stdout);
  return { lsblk, volumes, tree, fsid, resolved };
}

/**
 * The facts `planOsds` judges devices by, on a node that may not have Ceph yet (preflight):
 * ceph-volume's OSDs only where ceph-volume is installed, the fsid only where ceph.conf exists,
 * no OSD tree (device classes and up counts are not judged before a deploy).
 */
export async function readDeviceFacts(session: SshSession, devices: readonly OsdDeviceSpec[]): Promise<OsdFacts> {
  const node = session.node;
  const lsblk = await readLsblk(session);
  const resolved = await resolvePaths(session, lsblk, configuredPaths(devices));
  const list = inCLocale(command("ceph-volume", "lvm", "list", "--format", "json"));
  const listed = await session.run(list);
  // 127: ceph-volume is not installed (no pveceph install yet), so no OSD can be on any device.
  if (listed.code !== 0 && listed.code !== 127) throw new CommandFailedError(node, list, listed);
  const volumes = listed.code === 0 ? parseVolumeList(listed.stdout, node) : [];
  const conf = await session.run(command("cat", "/etc/pve/ceph.conf"));
  return { lsblk, volumes, tree: [], ...(conf.code === 0 ? { fsid: cephConfFsid(conf.stdout) } : {}), resolved };
}

/** The path lsblk lists for a configured device: itself, or where its link points; undefined when unknown or missing. */
export function kernelPath(facts: Pick<OsdFacts, "lsblk" | "resolved">, device: string): string | undefined {
  if (findBlockDev(facts.lsblk, device)) return device;
  return facts.resolved?.[device] || undefined;
}

/** The configured path for messages, with the kernel name it resolved to: "/dev/disk/by-id/nvme-X (nvme0n1)". */
function shown(facts: Pick<OsdFacts, "lsblk" | "resolved">, device: string): string {
  const kernel = kernelPath(facts, device);
  return kernel && kernel !== device ? `${device} (${kernel.replace(/^\/dev\//, "")})` : device;
}

/** ceph-volume entries of this cluster (an OSD left over from another Ceph cluster is not ours). */
function ours(facts: OsdFacts): VolumeEntry[] {
  return facts.volumes.filter((v) => !facts.fsid || !v.clusterFsid || v.clusterFsid === facts.fsid);
}

/** The OSDs on a device right now. */
export function osdsOnDevice(facts: OsdFacts, device: string): DeviceOsds {
  const path = kernelPath(facts, device) ?? device;
  const dev = findBlockDev(facts.lsblk, path);
  const ids = osdIdsOnDevice(ours(facts), dev ? pathsUnder(dev) : [path]);
  const inTree = ids.map((id) => facts.tree.find((o) => o.id === id));
  const classes = [...new Set(inTree.map((o) => o?.deviceClass).filter((c): c is string => !!c))].sort();
  return { device, ids, deviceClass: classes.join(","), up: inTree.filter((o) => o?.up).length };
}

export interface OsdPlan {
  problems: string[];
  /** Devices to zap first (`wipe: true` and foreign contents). */
  zap: string[];
  /** Devices to create OSDs on, in order. */
  create: OsdDeviceSpec[];
}

/** Decide, per device, what to do; refuse foreign contents unless wipe. Pure. */
export function planOsds(node: string, devices: readonly OsdDeviceSpec[], facts: OsdFacts): OsdPlan {
  const plan: OsdPlan = { problems: [], zap: [], create: [] };
  // Two configured paths (a link and a kernel name) may be one device.
  const byKernel = new Map<string, string>();
  for (const spec of devices) {
    const kernel = kernelPath(facts, spec.device);
    const other = kernel ? byKernel.get(kernel) : undefined;
    if (kernel && other) plan.problems.push(`${node}: ${spec.device} and ${other} are the same device (${kernel}); list it once`);
    else if (kernel) byKernel.set(kernel, spec.device);
  }
  for (const spec of devices) {
    const where = `${node}: ${shown(facts, spec.device)}`;
    const mine = osdsOnDevice(facts, spec.device);
    const want = spec.osdsPerDevice ?? 1;
    if (mine.ids.length > 0) {
      if (mine.ids.length !== want)
        plan.problems.push(
          `${where} already carries ${mine.ids.length} OSD(s) (${mine.ids.map((i) => `osd.${i}`).join(", ")}) but osdsPerDevice is ${want}; ` +
            `Ceph cannot change this in place: destroy those OSDs first (pveceph osd destroy <id> --cleanup 1) or set osdsPerDevice to ${mine.ids.length}`,
        );
      if (spec.deviceClass && mine.deviceClass && mine.deviceClass !== spec.deviceClass)
        plan.problems.push(`${where} carries OSD(s) of device class ${mine.deviceClass} but deviceClass is ${spec.deviceClass}; change the class with ceph osd crush set-device-class or fix the config`);
      continue;
    }
    if (facts.resolved?.[spec.device] === "") {
      plan.problems.push(
        `${where} does not exist on ${node}; check the path (ls -l /dev/disk/by-id on ${node} lists the disks by id; ` +
          `lsblk lists ${facts.lsblk.map((d) => d.path).join(", ") || "nothing"})`,
      );
      continue;
    }
    const dev = findBlockDev(facts.lsblk, kernelPath(facts, spec.device) ?? spec.device);
    if (!dev) {
      plan.problems.push(`${where}: no such block device (lsblk lists ${facts.lsblk.map((d) => d.path).join(", ") || "nothing"})`);
      continue;
    }
    if (dev.type !== "disk" && dev.type !== "part") {
      plan.problems.push(`${where} is a ${dev.type} device; OSDs go on a whole disk or a partition`);
      continue;
    }
    for (const [key, v] of [
      ["dbDevice", spec.dbDevice],
      ["walDevice", spec.walDevice],
    ] as const) {
      const path = v === undefined ? undefined : kernelPath(facts, v);
      if (v !== undefined && (!path || !findBlockDev(facts.lsblk, path))) plan.problems.push(`${where}: ${key} ${v} is not a block device on ${node}`);
    }
    const { what, mounted } = describeContents(dev);
    const paths = pathsUnder(dev);
    const stale = facts.volumes.filter((v) => v.clusterFsid && facts.fsid && v.clusterFsid !== facts.fsid && v.devices.some((d) => paths.includes(d)));
    if (stale.length > 0) what.push(`OSD data of another Ceph cluster (fsid ${[...new Set(stale.map((v) => v.clusterFsid))].join(", ")})`);
    if (mounted.length > 0) {
      plan.problems.push(`${where} is in use (${mounted.join(", ")}); refusing to touch it${spec.wipe ? ", even with wipe: true" : ""}`);
      continue;
    }
    if (what.length > 0) {
      if (!spec.wipe) {
        plan.problems.push(
          `${where} carries ${what.join(" and ")}, which is not an OSD of this node; refusing to touch it. ` +
            `If its data may be destroyed, set wipe: true for ${spec.device} (it is then zapped with ceph-volume lvm zap --destroy)`,
        );
        continue;
      }
      plan.zap.push(spec.device);
    }
    plan.create.push(spec);
  }
  return plan;
}

/** pveceph gets the kernel paths the plan matched (a link resolved when the node was read). */
function createCommand(spec: OsdDeviceSpec, facts: Pick<OsdFacts, "lsblk" | "resolved">): string {
  const dev = (p: string) => kernelPath(facts, p) ?? p;
  const args = ["pveceph", "osd", "create", dev(spec.device)];
  if (spec.deviceClass) args.push("--crush-device-class", spec.deviceClass);
  if ((spec.osdsPerDevice ?? 1) > 1) args.push("--osds-per-device", String(spec.osdsPerDevice));
  if (spec.dbDevice) args.push("--db_dev", dev(spec.dbDevice));
  if (spec.walDevice) args.push("--wal_dev", dev(spec.walDevice));
  return inCLocale(command(...args));
}

/** Poll `ceph osd tree` until every id satisfies `ok`; throw with the last status otherwise. */
async function waitForOsds(session: SshSession, ids: readonly number[], ok: (o: TreeOsd | undefined) => boolean, what: string, t: { timeoutMs: number; pollMs: number }): Promise<TreeOsd[]> {
  const deadline = Date.now() + t.timeoutMs;
  for (;;) {
    const tree = parseOsdTreeJson((await session.check(cephJson("osd", "tree"))).stdout, session.node);
    const bad = ids.filter((id) => !ok(tree.find((o) => o.id === id)));
    if (bad.length === 0) return tree;
    if (Date.now() >= deadline) {
      const status = bad.map((id) => {
        const o = tree.find((x) => x.id === id);
        return `osd.${id} ${o ? (o.up ? "up" : "down") : "missing from the OSD tree"}`;
      });
      throw new CephOsdError(`${session.node}: ${what} within ${Math.round(t.timeoutMs / 1000)} s (${status.join(", ")})`);
    }
    await sleep(Math.min(t.pollMs, Math.max(0, deadline - Date.now())));
  }
}

function report(devices: readonly OsdDeviceSpec[], facts: OsdFacts): { osds: DeviceOsds[]; osdIds: number[] } {
  const osds = devices.map((d) => osdsOnDevice(facts, d.device));
  return { osds, osdIds: [...new Set(osds.flatMap((o) => o.ids))].sort((a, b) => a - b) };
}

async function convergeOsds(inputs: CephOsdsInputs): Promise<{ osds: DeviceOsds[]; osdIds: number[] }> {
  const node = inputs.connection.node;
  const problems = osdInputProblems(node, inputs.devices ?? []);
  if (problems.length > 0) throw new CephOsdError(`Ceph OSDs on ${node} refused:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  const t = timing(inputs);
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const facts = await readFacts(session, inputs.devices ?? []);
      const plan = planOsds(node, inputs.devices ?? [], facts);
      if (plan.problems.length > 0) throw new CephOsdError(`Ceph OSDs on ${node} refused, nothing was changed:\n${plan.problems.map((p) => `  - ${p}`).join("\n")}`);
      if (plan.create.length === 0) return report(inputs.devices ?? [], facts);

      for (const spec of plan.create) {
        if (plan.zap.includes(spec.device)) {
          await session.check(inCLocale(command("ceph-volume", "lvm", "zap", "--destroy", kernelPath(facts, spec.device) ?? spec.device)));
        }
        // A worker with upid_exit: a failed task exits 255, so the exit code can be trusted (pve-cli.md §2.5).
        await session.check(createCommand(spec, facts), { timeoutMs: 30 * 60_000 });
      }
      // Read the node back once after every create: what ceph-volume lists on each device now.
      const volumes = parseVolumeList((await session.check(inCLocale(command("ceph-volume", "lvm", "list", "--format", "json")))).stdout, node);
      const after: OsdFacts = { ...facts, lsblk: await readLsblk(session), volumes, tree: [] };
      const created: number[] = [];
      for (const spec of plan.create) {
        const ids = osdsOnDevice(after, spec.device).ids;
        const want = spec.osdsPerDevice ?? 1;
        if (ids.length !== want) throw new CephOsdError(`${node}: pveceph osd create ${shown(facts, spec.device)} finished but ceph-volume lists ${ids.length} OSD(s) on it, expected ${want}`);
        created.push(...ids);
      }
      // The tree the wait ended on is the node's current one; the fsid and device links did not change.
      const tree = await waitForOsds(session, created, (o) => !!o?.up, `OSD(s) not up after pveceph osd create`, t);
      return report(inputs.devices ?? [], { ...after, tree });
    },
    sshOptions(inputs),
  );
}

async function destroyOsds(props: CephOsdsOutputs): Promise<void> {
  const t = timing(props);
  await withSession(
    sshTarget(props),
    async (session) => {
      const facts = await readFacts(session, props.devices ?? []);
      const ids = report(props.devices ?? [], facts).osdIds;
      if (ids.length === 0) return;
      await session.check(inCLocale(command("ceph", "--conf", "/etc/pve/ceph.conf", "osd", "out", ...ids.map((i) => `osd.${i}`))));
      for (const id of ids) await session.check(command("systemctl", "stop", `ceph-osd@${id}.service`));
      await waitForOsds(session, ids, (o) => !o || !o.up, "OSD(s) still up after systemctl stop", t);
      for (const id of ids) {
        await session.check(inCLocale(command("pveceph", "osd", "destroy", String(id), "--cleanup", "1")));
      }
    },
    sshOptions(props),
  );
}

// ---------------------------------------------------------------------------------------------
// the provider

/** Reasons the real OSDs (olds.osds from create/read) differ from the inputs. */
export function osdDrift(olds: Pick<CephOsdsOutputs, "osds">, news: Pick<CephOsdsInputs, "devices">): string[] {
  const reasons: string[] = [];
  for (const d of news.devices ?? []) {
    const have = (olds.osds ?? []).find((o) => o.device === d.device);
    const want = d.osdsPerDevice ?? 1;
    if (!have || have.ids.length === 0) reasons.push(`${d.device}: no OSD`);
    else if (have.ids.length !== want) reasons.push(`${d.device}: ${have.ids.length} OSD(s), config wants ${want}`);
    else if (d.deviceClass && have.deviceClass !== d.deviceClass) reasons.push(`${d.device}: device class ${have.deviceClass}, config wants ${d.deviceClass}`);
  }
  return reasons;
}

const COMPARED = ["providerVersion", "devices", "destroyOnDelete", "upTimeoutSeconds", "pollIntervalSeconds", "connection", "sshPrivateKey"] as const;

export const cephOsdsProvider: pulumi.dynamic.ResourceProvider<CephOsdsInputs, CephOsdsOutputs> = {
  async check(_olds, news) {
    const judgeable = !isUnknown(news.devices) && Array.isArray(news.devices) && typeof news.connection?.node === "string";
    const problems = judgeable ? osdInputProblems(news.connection.node, news.devices as OsdDeviceSpec[]) : [];
    return { inputs: news, failures: problems.map((reason) => ({ property: "devices", reason })) };
  },

  async create(inputs) {
    const state = await convergeOsds(inputs);
    return { id: inputs.connection.node, outs: { ...inputs, ...state } };
  },

  async read(id, props) {
    if (!props) throw new CephOsdError(`${id}: no stored state to refresh from`);
    const facts = await withSession(sshTarget(props), (session) => readFacts(session, props.devices ?? []), sshOptions(props));
    return { id, props: { ...props, ...report(props.devices ?? [], facts) } };
  },

  async diff(_id, olds, news) {
    const replaces = !isUnknown(news.connection) && olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const changed = COMPARED.filter((k) => isUnknown(news[k]) || stableJson(olds[k]) !== stableJson(news[k])) as string[];
    if (!isUnknown(news.devices) && osdDrift(olds, news).length > 0 && !changed.includes("devices")) changed.push("devices");
    return { changes: changed.length > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const state = await convergeOsds(news);
    return { outs: { ...news, ...state } };
  },

  async delete(_id, props) {
    // By default the OSDs and their data stay: removing the resource from the program is not a
    // reason to destroy disks. Only an explicit destroyOnDelete destroys them.
    if (!props.destroyOnDelete) return;
    await destroyOsds(props);
  },
};

// ---------------------------------------------------------------------------------------------
// the resource

export interface CephOsdsResourceArgs {
  connection: pulumi.Input<NodeConnection>;
  sshPrivateKey?: pulumi.Input<string>;
  devices: pulumi.Input<pulumi.Input<OsdDeviceSpec>[]>;
  destroyOnDelete?: pulumi.Input<boolean>;
  upTimeoutSeconds?: pulumi.Input<number>;
  pollIntervalSeconds?: pulumi.Input<number>;
}

/** Registered as `pulumi-nodejs:dynamic/ceph:Osds`. */
export class CephOsds extends pulumi.dynamic.Resource {
  declare readonly osds: pulumi.Output<DeviceOsds[]>;
  declare readonly osdIds: pulumi.Output<number[]>;

  constructor(name: string, args: CephOsdsResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      cephOsdsProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, CEPH_OSDS_PROVIDER_VERSION),
        osds: undefined,
        osdIds: undefined,
      },
      sshResourceOptions(opts),
      "ceph",
      "Osds",
    );
  }
}
