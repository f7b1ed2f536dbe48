/**
 * Parsers for the cluster views of a Proxmox node (pve-cli.md §1):
 * `pvesh get /cluster/status`, `pvesh get /cluster/config/join`,
 * `pvesh get /cluster/resources --type vm` (all `--output-format json`),
 * `pvecm status` (text only) and the `pvecm add` success marker.
 * Pure functions; every failure names the node and the command.
 */
import { asBool, asNumber, parseToolJson } from "./json";

/** One `type:"node"` row of /cluster/status. */
export interface ClusterStatusNode {
  name: string;
  /** 0 on a standalone node (the fake entry PVE returns without corosync.conf). */
  nodeid: number;
  online: boolean;
  /** The node that answered. */
  local: boolean;
  ip?: string;
}

/** /cluster/status of one node. */
export interface ClusterStatus {
  /** Cluster name, absent when the node is standalone (no cluster row). */
  clusterName?: string;
  /** Quorate flag of the cluster row; false when standalone. */
  quorate: boolean;
  /** Cluster config version (cluster row `version`). */
  configVersion?: number;
  nodes: ClusterStatusNode[];
  /** The answering node's own name (the row with `local: 1`). */
  localName?: string;
}

interface StatusRow {
  type?: unknown;
  name?: unknown;
  nodeid?: unknown;
  online?: unknown;
  local?: unknown;
  ip?: unknown;
  quorate?: unknown;
  version?: unknown;
}

/** `pvesh get /cluster/status --output-format json`. */
export function parseClusterStatus(stdout: string, node: string): ClusterStatus {
  const rows = parseToolJson<unknown>(stdout, node, "pvesh get /cluster/status");
  if (!Array.isArray(rows)) {
    throw new Error(`${node}: pvesh get /cluster/status did not print a JSON list`);
  }
  const status: ClusterStatus = { quorate: false, nodes: [] };
  for (const raw of rows as StatusRow[]) {
    if (!raw || typeof raw !== "object") continue;
    if (raw.type === "cluster") {
      status.clusterName = typeof raw.name === "string" ? raw.name : undefined;
      status.quorate = asBool(raw.quorate);
      status.configVersion = asNumber(raw.version);
    } else if (raw.type === "node" && typeof raw.name === "string") {
      const entry: ClusterStatusNode = {
        name: raw.name,
        nodeid: asNumber(raw.nodeid) ?? 0,
        online: asBool(raw.online),
        local: asBool(raw.local),
      };
      if (typeof raw.ip === "string" && raw.ip !== "") entry.ip = raw.ip;
      status.nodes.push(entry);
      if (entry.local) status.localName = entry.name;
    }
  }
  // A standalone node has no cluster row and a single nodeid-0 entry.
  if (status.localName === undefined && status.clusterName === undefined && status.nodes.length === 1) {
    status.localName = status.nodes[0].name;
  }
  return status;
}

/** One node of the corosync nodelist as /cluster/config/join reports it. */
export interface JoinNode {
  name: string;
  nodeid: number;
  /** corosync link0 address. */
  ring0Addr?: string;
  /** corosync link1 address. */
  ring1Addr?: string;
  /** The address the API join uses for this node. */
  pveAddr?: string;
  /** SHA-256 fingerprint of the node's pveproxy certificate, what `pvecm add --fingerprint` expects. */
  pveFingerprint?: string;
  quorumVotes: number;
}

/** /cluster/config/join of a clustered node. */
export interface JoinInfo {
  clusterName: string;
  configVersion?: number;
  preferredNode?: string;
  /** Sorted by nodeid. */
  nodes: JoinNode[];
  /** Link numbers configured in totem (interface keys), e.g. [0, 1]. */
  links: number[];
}

function str(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

/** `pvesh get /cluster/config/join --output-format json` (values from corosync.conf come as strings). */
export function parseJoinInfo(stdout: string, node: string): JoinInfo {
  const doc = parseToolJson<Record<string, unknown>>(stdout, node, "pvesh get /cluster/config/join");
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new Error(`${node}: pvesh get /cluster/config/join did not print a JSON object`);
  }
  const totem = (doc.totem ?? {}) as Record<string, unknown>;
  const clusterName = str(totem.cluster_name);
  if (!clusterName) throw new Error(`${node}: pvesh get /cluster/config/join has no totem.cluster_name`);
  const nodelist = Array.isArray(doc.nodelist) ? (doc.nodelist as Record<string, unknown>[]) : [];
  const nodes: JoinNode[] = [];
  for (const raw of nodelist) {
    const name = str(raw?.name);
    if (!name) continue;
    const entry: JoinNode = {
      name,
      nodeid: asNumber(raw.nodeid) ?? 0,
      quorumVotes: asNumber(raw.quorum_votes) ?? 1,
    };
    const ring0 = str(raw.ring0_addr);
    const ring1 = str(raw.ring1_addr);
    const pveAddr = str(raw.pve_addr);
    const fp = str(raw.pve_fp);
    if (ring0) entry.ring0Addr = ring0;
    if (ring1) entry.ring1Addr = ring1;
    if (pveAddr) entry.pveAddr = pveAddr;
    if (fp) entry.pveFingerprint = fp;
    nodes.push(entry);
  }
  nodes.sort((a, b) => a.nodeid - b.nodeid || a.name.localeCompare(b.name));
  const iface = totem.interface && typeof totem.interface === "object" ? (totem.interface as Record<string, unknown>) : {};
  const links = Object.keys(iface)
    .map((k) => asNumber((iface[k] as Record<string, unknown> | undefined)?.linknumber) ?? asNumber(k))
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => a - b);
  return {
    clusterName,
    configVersion: asNumber(totem.config_version),
    preferredNode: str(doc.preferred_node),
    nodes,
    links,
  };
}

/** True when a failed `pvesh get /cluster/config/join` says the node is standalone (exit 255, HTTP 424 text). */
export function isNotInClusterJoinError(stderr: string): boolean {
  return /node is not in a cluster/i.test(stderr);
}

/** True when `pvecm status`/`pvecm nodes` says there is no corosync.conf (exit 2). */
export function isNotInClusterPvecmError(stderr: string): boolean {
  return /Corosync config '[^']*' does not exist/i.test(stderr);
}

/** One line of the membership table of `pvecm status`. */
export interface PvecmMember {
  nodeid: number;
  votes: number;
  /** Address (pvecm status prints `-i`, i.e. IPs) or "Qdevice". */
  name: string;
  local: boolean;
}

/** `pvecm status` (corosync-quorumtool -siH with a cluster header). */
export interface PvecmStatus {
  clusterName?: string;
  configVersion?: number;
  quorate: boolean;
  nodes?: number;
  expectedVotes?: number;
  totalVotes?: number;
  quorum?: number;
  /** Node rows of the membership table (the QDevice's row is `qdevice`). */
  members: PvecmMember[];
  /** Present when the cluster has a QDevice (Flags `Qdevice`): the votes it gives now (0 when it cannot reach qnetd). */
  qdevice?: { votes: number };
}

export function parsePvecmStatus(stdout: string): PvecmStatus {
  const field = (label: string): string | undefined => {
    const m = new RegExp(`^${label}:[ \\t]*(.*?)\\s*$`, "m").exec(stdout);
    return m ? m[1] : undefined;
  };
  const num = (label: string): number | undefined => {
    const v = field(label);
    if (v === undefined) return undefined;
    const m = /^(0x[0-9a-f]+|\d+)/i.exec(v);
    return m ? Number(m[1]) : undefined;
  };
  const members: PvecmMember[] = [];
  const table = /^Membership information\s*\n[-~]+\s*\n(.*)$/ms.exec(stdout);
  if (table) {
    for (const line of table[1].split("\n")) {
      // 0x00000001          1 192.168.10.201 (local)
      // 0x00000001          1    A,V,NMW 192.168.22.180 (local)
      const m = /^\s*(0x[0-9a-fA-F]+|\d+)\s+(\d+)\s+(?:[A-Z,]+\s+)?(\S+)(\s+\(local\))?\s*$/.exec(line);
      if (!m) continue;
      members.push({ nodeid: Number(m[1]), votes: Number(m[2]), name: m[3], local: m[4] !== undefined });
    }
  }
  // The QDevice's row: `0x00000000          1            Qdevice` (nodeid 0).
  const qdeviceRow = members.find((m) => m.nodeid === 0 && m.name === "Qdevice");
  const flagged = /(^|\s)Qdevice(\s|$)/.test(field("Flags") ?? "");
  return {
    clusterName: field("Name"),
    configVersion: num("Config Version"),
    quorate: /^Yes$/i.test(field("Quorate") ?? ""),
    nodes: num("Nodes"),
    expectedVotes: num("Expected votes"),
    totalVotes: num("Total votes"),
    quorum: num("Quorum"),
    members: members.filter((m) => m !== qdeviceRow),
    ...(flagged || qdeviceRow ? { qdevice: { votes: qdeviceRow?.votes ?? 0 } } : {}),
  };
}

/** One guest from /cluster/resources --type vm. */
export interface Guest {
  vmid: number;
  node: string;
  /** "qemu" or "lxc". */
  type: string;
  name?: string;
  template: boolean;
  /** "running", "stopped", … ("unknown" on a node that is down). */
  status?: string;
}

/** `pvesh get /cluster/resources --type vm --output-format json`. */
export function parseGuests(stdout: string, node: string): Guest[] {
  const rows = parseToolJson<unknown>(stdout, node, "pvesh get /cluster/resources --type vm");
  if (!Array.isArray(rows)) {
    throw new Error(`${node}: pvesh get /cluster/resources --type vm did not print a JSON list`);
  }
  const guests: Guest[] = [];
  for (const raw of rows as Record<string, unknown>[]) {
    if (!raw || typeof raw !== "object") continue;
    const type = str(raw.type) ?? "";
    if (type !== "qemu" && type !== "lxc") continue;
    const vmid = asNumber(raw.vmid) ?? asNumber(str(raw.id)?.replace(/^\w+\//, ""));
    if (vmid === undefined) continue;
    guests.push({ vmid, node: str(raw.node) ?? "", type, name: str(raw.name), template: asBool(raw.template), status: str(raw.status) });
  }
  return guests.sort((a, b) => a.vmid - b.vmid);
}

/** The line `pvecm add` prints last on a successful join (pve-cli.md §1.4). */
export function joinSucceeded(stdout: string, nodeName: string): boolean {
  return stdout.includes(`successfully added node '${nodeName}' to cluster.`);
}
