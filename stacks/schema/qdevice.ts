/**
 * The QDevice of a cluster (`cluster.qdevice`): an external corosync-qnetd
 * host (a Pi, any plain Debian machine) whose vote lets an even-sized
 * cluster, two nodes above all, keep quorum when one node fails. Its schema
 * and its checks.
 */
import { hostName, integer, ipv4, mapping, text } from "./fields";
import { show } from "./messages";
import { isHostKey, isIPv4, isLabel, isRecord } from "./predicates";
import type { PathIssue } from "./views";

export const QDeviceSchema = mapping(
  {
    /** The qnetd host's name, used in every message (not a cluster member). */
    name: hostName(),
    /** IPv4 address of the qnetd host: homelab's SSH and `pvecm qdevice setup` reach it there (pvecm takes an IP only). */
    address: ipv4(),
    /** Pinned SSH host key fingerprint of the qnetd host: `ssh-keyscan -t ed25519 <address> | ssh-keygen -lf -`. */
    hostKey: text('a host key fingerprint ("SHA256:" and 43 base64 characters)', isHostKey),
    /** SSH port of the qnetd host. Defaults to ssh.port (pvecm itself always uses port 22). */
    sshPort: integer("a TCP port", 1, 65535).optional(),
  },
  "a mapping with the qnetd host's name, address and hostKey",
);

/** Every address a node has: its management address and its interfaces' addresses. */
function nodeAddresses(node: Record<string, unknown>): string[] {
  const interfaces = Array.isArray(node.interfaces) ? node.interfaces.filter(isRecord) : [];
  return [node.address, ...interfaces.map((i) => i.address)].filter(isIPv4);
}

/**
 * A QDevice needs an even number of nodes (pvecm qdevice setup refuses odd
 * counts without --force, and Proxmox does not support them) and must be no
 * cluster member: a member voting twice keeps no quorum when it fails.
 */
export function checkQDevice(value: Record<string, unknown>): PathIssue[] {
  const cluster = isRecord(value.cluster) ? value.cluster : undefined;
  const qdevice = cluster && isRecord(cluster.qdevice) ? cluster.qdevice : undefined;
  if (!qdevice) return [];
  const issues: PathIssue[] = [];
  const nodes = Array.isArray(value.nodes) ? value.nodes.filter(isRecord) : [];
  if (nodes.length % 2 === 1) {
    issues.push({
      path: ["cluster", "qdevice"],
      message:
        `a QDevice needs an even number of nodes; this cluster has ${nodes.length} ` +
        "(pvecm qdevice setup refuses odd node counts; an odd cluster keeps quorum without one)",
    });
  }
  for (const [i, node] of nodes.entries()) {
    if (isLabel(qdevice.name) && node.name === qdevice.name) {
      issues.push({ path: ["cluster", "qdevice", "name"], message: `${show(qdevice.name)} is nodes[${i}], a cluster member; the QDevice must be a host outside the cluster` });
    }
    if (isIPv4(qdevice.address) && nodeAddresses(node).includes(qdevice.address)) {
      issues.push({
        path: ["cluster", "qdevice", "address"],
        message: `${show(qdevice.address)} is an address of nodes[${i}] (${show(node.name)}), a cluster member; the QDevice must be a host outside the cluster`,
      });
    }
  }
  return issues;
}
