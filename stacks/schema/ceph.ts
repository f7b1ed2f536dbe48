/**
 * Ceph: the schema of `ceph` (networks, monitors, managers, pools, health
 * gate) and its checks (needs a cluster; networks reach the nodes; pools fit
 * the OSD hosts). OSD devices are part of the nodes (nodes.ts).
 */
import { cephPoolsProblems, type CephPoolSpec } from "../../components/ceph-pools";
import { CEPH_HEALTH_DEFAULTS } from "../../infra/providers/ceph/ceph-health";
import { POOL_MAX_SIZE } from "../../infra/providers/ceph/ceph-pool";
import { bool, hostName, integer, list, mapping, networkName, oneOf, text } from "./fields";
import { plural, show } from "./messages";
import { isDeviceClass, isInt, isIPv4, isLabel, isRecord, isString } from "./predicates";
import type { PathIssue } from "./views";

const POOL_NAME = /^[a-z][a-z0-9_.-]{0,62}[a-z0-9]$/;

/** Replica defaults, also used by the cross-checks of pools that leave them out. */
const POOL_DEFAULTS = { size: 3, minSize: 2 };

export const CephPoolSchema = mapping(
  {
    /** Pool name (also the Proxmox storage ID with addStorage). */
    name: text("a pool name (lowercase letters, digits, _ . -; as Proxmox storage IDs allow)", (v) => POOL_NAME.test(v)),
    /** Replicas, 1-7 (what pveceph accepts). Defaults to 3. */
    size: integer("a replica count", 1, POOL_MAX_SIZE).default(POOL_DEFAULTS.size),
    /** Replicas needed to accept writes, 1-7. Defaults to 2. */
    minSize: integer("a replica count", 1, POOL_MAX_SIZE).default(POOL_DEFAULTS.minSize),
    /** Placement groups (a power of two); leave out with autoscale. */
    pgNum: integer("a PG count", 1, 32768).optional(),
    /** Let the PG autoscaler manage pg_num (pg_autoscale_mode on). Defaults to false when pgNum is set, true otherwise. */
    autoscale: bool().optional(),
    /** Pool application. Defaults to rbd. */
    application: oneOf(["rbd", "cephfs", "rgw"] as const, "a pool application").default("rbd"),
    /** Place the pool only on OSDs of this device class (a replicated CRUSH rule per class). */
    deviceClass: text("a device class", isDeviceClass).optional(),
    /** Add the pool as Proxmox RBD storage. Defaults to true. */
    addStorage: bool().default(true),
  },
  "a pool (a mapping with name)",
  // The one place autoscale's default is decided: on unless a fixed pgNum is given.
).transform((pool) => ({ ...pool, autoscale: pool.autoscale ?? pool.pgNum === undefined }));

export const CephSchema = mapping(
  {
    /** Network for monitors and clients. */
    publicNetwork: networkName(),
    /** Network for OSD replication. Defaults to publicNetwork. */
    clusterNetwork: networkName().optional(),
    /** Nodes running a monitor. Defaults to every node. */
    monNodes: list(hostName(), "a list of node names").optional(),
    /** Nodes running a manager. Defaults to the monitor nodes. */
    mgrNodes: list(hostName(), "a list of node names").optional(),
    /**
     * Let `pulumi destroy` (or dropping a pool/device from config) destroy pools
     * and OSDs, data included. Defaults to false: they are left in place.
     */
    destroyOnDelete: bool().default(false),
    /** Allow size-1 pools (single node labs only; sets mon_allow_pool_size_one and osd_crush_chooseleaf_type 0). Defaults to false. */
    allowSingleReplica: bool().default(false),
    pools: list(CephPoolSchema, "a list of pools").default([]),
    /** The health gate after OSDs and pools. */
    health: mapping(
      {
        /** Seconds to wait for HEALTH_OK. Defaults to 900. */
        timeoutSeconds: integer("a timeout in seconds", 10, 7200).default(CEPH_HEALTH_DEFAULTS.timeoutSeconds),
        /** Health check codes accepted instead of OK (e.g. POOL_NO_REDUNDANCY). Defaults to none. */
        allowedWarnings: list(text("a health check code (e.g. OSD_NEARFULL)", (v) => /^[A-Z][A-Z0-9_]{1,63}$/.test(v)), "a list of health codes").default([]),
      },
      "a mapping of health gate settings",
    ).prefault({}),
  },
  "a mapping of Ceph settings",
);

/** A pool whose fields passed their own checks (defaults filled in), as the pool component takes it. */
function isPoolSpec(pool: Record<string, unknown>): pool is CephPoolSpec & Record<string, unknown> {
  return CephPoolSchema.safeParse(pool).success;
}

/** Ceph: needs a cluster; networks reach the nodes; pools fit the OSD hosts. */
export function checkCeph(value: Record<string, unknown>, nodes: Record<string, unknown>[], layoutIsValid: boolean): PathIssue[] {
  const issues: PathIssue[] = [];
  const ceph = isRecord(value.ceph) ? value.ceph : undefined;
  if (!ceph) {
    nodes.forEach((node, n) => {
      if (Array.isArray(node.osds) && node.osds.length > 0) {
        issues.push({ path: ["nodes", n, "osds"], message: "OSDs need a ceph: section (networks, pools)" });
      }
    });
    return issues;
  }
  if (!isRecord(value.cluster)) {
    issues.push({ path: ["ceph"], message: "needs cluster: Ceph runs on a quorate Proxmox cluster (cluster first, Ceph after)" });
  }
  const names = nodes.map((n) => n.name).filter(isLabel);
  for (const key of ["monNodes", "mgrNodes"] as const) {
    const list = Array.isArray(ceph[key]) ? ceph[key] : [];
    list.forEach((name, i) => {
      if (isLabel(name) && !names.includes(name)) issues.push({ path: ["ceph", key, i], message: `no node named ${show(name)}` });
      else if (isLabel(name) && list.indexOf(name) !== i) issues.push({ path: ["ceph", key, i], message: `${show(name)} is listed twice` });
    });
  }
  if (layoutIsValid) {
    const ring = isRecord(value.thunderbolt) ? value.thunderbolt.network : undefined;
    const monNodes = Array.isArray(ceph.monNodes) ? ceph.monNodes : names;
    for (const key of ["publicNetwork", "clusterNetwork"] as const) {
      const network = ceph[key];
      if (!isLabel(network)) continue;
      if (!Array.isArray(value.networks) || !value.networks.some((x) => isRecord(x) && x.name === network)) {
        issues.push({ path: ["ceph", key], message: `no network named ${show(network)}` });
        continue;
      }
      for (const node of nodes) {
        if (!Array.isArray(node.interfaces)) continue; // already reported as a wrong type
        const needs = key === "publicNetwork" ? monNodes.includes(node.name) || (Array.isArray(node.osds) && node.osds.length > 0) : Array.isArray(node.osds) && node.osds.length > 0;
        if (!needs || !isLabel(node.name)) continue;
        const onIt =
          (network === ring && isRecord(node.thunderbolt)) ||
          (Array.isArray(node.interfaces) && node.interfaces.some((i) => isRecord(i) && i.network === network && isIPv4(i.address)));
        if (!onIt) issues.push({ path: ["ceph", key], message: `node ${show(node.name)} has no address on network ${show(network)}` });
      }
    }
  }
  const osdHosts = nodes.filter((n) => Array.isArray(n.osds) && n.osds.length > 0).length;
  const pools = Array.isArray(ceph.pools) ? ceph.pools : [];
  const poolNames = new Map<string, number>();
  pools.forEach((pool, i) => {
    if (!isRecord(pool)) return;
    const at = (k: string) => ["ceph", "pools", i, k];
    const before = issues.length;
    if (isString(pool.name)) {
      const first = poolNames.get(pool.name);
      if (first !== undefined) issues.push({ path: at("name"), message: `${show(pool.name)} is already ceph.pools[${first}]` });
      else poolNames.set(pool.name, i);
    }
    const size = isInt(pool.size, 1, POOL_MAX_SIZE) ? pool.size : pool.size === undefined ? POOL_DEFAULTS.size : undefined;
    const minSize = isInt(pool.minSize, 1, POOL_MAX_SIZE) ? pool.minSize : pool.minSize === undefined ? POOL_DEFAULTS.minSize : undefined;
    if (size !== undefined && minSize !== undefined && minSize > size) {
      issues.push({ path: at("minSize"), message: `${minSize} is more than size ${size}` });
    }
    if (size !== undefined && size > osdHosts) {
      issues.push({
        path: at("size"),
        message: `${size} replicas need ${size} hosts with OSDs, but ${plural(osdHosts, "node has", "nodes have")} OSDs (nodes[].osds)`,
      });
    }
    if (size === 1 && ceph.allowSingleReplica !== true) {
      issues.push({ path: at("size"), message: "1 keeps a single copy of the data; set ceph.allowSingleReplica: true for a single-node lab" });
    }
    if (isInt(pool.pgNum, 1, 32768) && (pool.pgNum & (pool.pgNum - 1)) !== 0) {
      issues.push({ path: at("pgNum"), message: `${pool.pgNum} is not a power of two (Ceph warns about uneven placement groups)` });
    }
    if (pool.pgNum !== undefined && pool.autoscale === true) {
      issues.push({ path: at("autoscale"), message: "true with a fixed pgNum; choose one" });
    }
    if (pool.pgNum === undefined && pool.autoscale === false) {
      issues.push({ path: at("pgNum"), message: "missing; autoscale: false needs a fixed pgNum (or leave autoscale out: the autoscaler then manages pg_num)" });
    }
    // Whatever else the pool component would refuse (its rules live there), once this pool's own checks passed.
    if (issues.length === before && isPoolSpec(pool)) {
      for (const problem of cephPoolsProblems({ pools: [{ ...pool, allowSingleReplica: ceph.allowSingleReplica === true }], osdHosts })) {
        issues.push({ path: ["ceph", "pools", i], message: problem.replace(/^pools\["[^"]*"\]: /, "") });
      }
    }
  });
  return issues;
}
