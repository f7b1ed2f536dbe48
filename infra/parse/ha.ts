/**
 * Parsers for Proxmox HA output (pve-cli.md §5): `pvesh get /cluster/ha/resources|groups|status/current
 * --output-format json` and `ha-manager rules config --output-format json`. Pure functions.
 */
import { asBool, asNumber, parseToolJson } from "./json";

/** One node of a placement with its priority (higher is preferred; absent = 0). */
export interface HaNodePriority {
  node: string;
  priority?: number;
}

/** HA resource states `ha-manager add/set --state` accepts that we manage. */
export type HaState = "started" | "stopped" | "disabled" | "ignored";

export interface HaResourceConfig {
  sid: string;
  state: string;
  maxRestart: number;
  maxRelocate: number;
  /** PVE 8 group. */
  group?: string;
  /** PVE 9 only: 1 unless `--failback 0`. */
  failback?: boolean;
  comment?: string;
}

export interface HaGroupConfig {
  name: string;
  nodes: HaNodePriority[];
  restricted: boolean;
  nofailback: boolean;
}

export interface HaRuleConfig {
  id: string;
  type: string;
  resources: string[];
  nodes: HaNodePriority[];
  strict: boolean;
  disabled: boolean;
}

export interface HaServiceStatus {
  sid: string;
  node: string;
  /** `state` column (not the localized `status` text). */
  state: string;
  crmState?: string;
  group?: string;
}

export interface HaStatus {
  quorate: boolean;
  services: HaServiceStatus[];
}

/** `"n1:2,n2"` → nodes sorted by name; a priority of 0 or none is left out. */
export function parseHaNodes(spec: unknown): HaNodePriority[] {
  if (typeof spec !== "string") return [];
  return spec
    .split(/[,;\s]+/)
    .filter(Boolean)
    .map((part) => {
      const [node, prio] = part.split(":");
      const priority = prio === undefined ? undefined : Number(prio);
      return priority === undefined || priority === 0 || Number.isNaN(priority) ? { node } : { node, priority };
    })
    .sort((a, b) => a.node.localeCompare(b.node));
}

/** Canonical `--nodes` value: sorted by name, `node:prio` when a priority is set. */
export function formatHaNodes(nodes: readonly HaNodePriority[]): string {
  return normalizeHaNodes(nodes)
    .map((n) => (n.priority === undefined ? n.node : `${n.node}:${n.priority}`))
    .join(",");
}

/** Sorted, priority 0 dropped: the form compared for drift. */
export function normalizeHaNodes(nodes: readonly HaNodePriority[]): HaNodePriority[] {
  return [...nodes]
    .map((n) => (n.priority === undefined || n.priority === 0 ? { node: n.node } : { node: n.node, priority: n.priority }))
    .sort((a, b) => a.node.localeCompare(b.node));
}

function rows(stdout: string, node: string, what: string): Record<string, unknown>[] {
  const data = parseToolJson<unknown>(stdout, node, what);
  if (!Array.isArray(data)) throw new Error(`${node}: ${what} did not print a JSON list`);
  return data.filter((r): r is Record<string, unknown> => !!r && typeof r === "object");
}

/** `pvesh get /cluster/ha/resources --output-format json`; unset keys get PVE's defaults. */
export function parseHaResources(stdout: string, node: string): HaResourceConfig[] {
  return rows(stdout, node, "pvesh get /cluster/ha/resources").map((r) => ({
    sid: String(r.sid),
    // `enabled` is PVE's alias of `started`.
    state: typeof r.state === "string" && r.state !== "enabled" ? r.state : "started",
    maxRestart: asNumber(r.max_restart) ?? 1,
    maxRelocate: asNumber(r.max_relocate) ?? 1,
    ...(typeof r.group === "string" && r.group !== "" ? { group: r.group } : {}),
    ...(r.failback === undefined ? {} : { failback: asBool(r.failback) }),
    ...(typeof r.comment === "string" ? { comment: r.comment } : {}),
  }));
}

/** `pvesh get /cluster/ha/groups --output-format json` (PVE 8, or PVE 9 before migration). */
export function parseHaGroups(stdout: string, node: string): HaGroupConfig[] {
  return rows(stdout, node, "pvesh get /cluster/ha/groups").map((r) => ({
    name: String(r.group),
    nodes: parseHaNodes(r.nodes),
    restricted: asBool(r.restricted),
    nofailback: asBool(r.nofailback),
  }));
}

/** `ha-manager rules config --output-format json` (PVE 9). */
export function parseHaRules(stdout: string, node: string): HaRuleConfig[] {
  return rows(stdout, node, "ha-manager rules config").map((r) => ({
    id: String(r.rule),
    type: String(r.type),
    resources: typeof r.resources === "string" ? r.resources.split(",").filter(Boolean).sort() : [],
    nodes: parseHaNodes(r.nodes),
    strict: asBool(r.strict),
    disabled: asBool(r.disable),
  }));
}

/** `pvesh get /cluster/ha/status/current --output-format json`: quorum and service rows. */
export function parseHaStatus(stdout: string, node: string): HaStatus {
  const list = rows(stdout, node, "pvesh get /cluster/ha/status/current");
  const quorum = list.find((r) => r.type === "quorum");
  return {
    quorate: quorum ? asBool(quorum.quorate) : false,
    services: list
      .filter((r) => r.type === "service")
      .map((r) => ({
        sid: String(r.sid),
        node: String(r.node),
        state: String(r.state ?? ""),
        ...(r.crm_state === undefined ? {} : { crmState: String(r.crm_state) }),
        ...(typeof r.group === "string" ? { group: r.group } : {}),
      })),
  };
}

/** stderr of a group endpoint on PVE 9 after the groups→rules migration. */
export const GROUPS_MIGRATED = /ha groups have been migrated to rules/;
/** stderr of `ha-manager rules add` on an upgraded PVE 9 cluster that still has groups. */
export const GROUPS_NOT_MIGRATED = /ha groups have not been migrated yet/;
/** stderr of `ha-manager add` for a guest that does not exist. */
export const RESOURCE_MISSING = /resource '((?:vm|ct):\d+)' does not exist in cluster|unable to detect SID from VMID/;
/** stderr of `ha-manager add` when the resource is already managed. */
export const RESOURCE_EXISTS = /create resource failed: resource ID '[^']+' already defined/;
