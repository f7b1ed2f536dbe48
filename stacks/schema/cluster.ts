/**
 * The Proxmox cluster: the schema of `cluster`, and its checks (enough nodes
 * for quorum, every node on every link network, every node on the migration
 * network).
 */
import { bool, integer, list, mapping, networkName, oneOf, text } from "./fields";
import { plural, show } from "./messages";
import { checkNetworkRef, type NetworkIndex } from "./networks";
import type { RingNetwork } from "./nodes";
import { isClusterName, isIPv4, isLabel, isRecord, isString } from "./predicates";
import { QDeviceSchema } from "./qdevice";
import { fieldList, type AddIssue, type InterfaceView, type NodeView, type PathIssue } from "./views";

export const ClusterSchema = mapping(
  {
    /** Corosync cluster name (Proxmox: at most 15 characters; cannot change later). */
    name: text("a valid cluster name (letters, digits and hyphens, 1–15 characters, not starting with -)", isClusterName),
    /** Networks for corosync link0, link1, …; every node needs an address on each. */
    links: list(networkName(), "a list of network names")
      .min(1, { error: "empty; a cluster needs at least one link network" })
      .max(8, { error: "more than 8 links; corosync supports link0–link7" }),
    /** Allow fewer than 3 nodes (no quorum when one fails). Defaults to false. */
    allowSmallCluster: bool().default(false),
    /** An external vote (corosync-qnetd host) for an even-sized cluster, e.g. 2 nodes; see stacks/schema/qdevice.ts. */
    qdevice: QDeviceSchema.optional(),
    /** Seconds to wait for quorum after each join. Defaults to 120. */
    quorumTimeoutSeconds: integer("a timeout in seconds", 10, 3600).default(120),
    /** Separate an online node that is dropped from `nodes` (offline ones are just removed). Defaults to false. */
    allowNodeRemoval: bool().default(false),
    /** `pulumi destroy` dissolves the cluster (all but the first node separated). Defaults to false: the cluster stays. */
    dissolveOnDelete: bool().default(false),
    /** Datacenter migration settings: live migration over this network. */
    migration: mapping(
      {
        /** Name of the network live migration uses (every cluster node needs an address on it). */
        network: networkName(),
        /** "secure" tunnels migration through SSH; "insecure" is faster on a trusted, dedicated network. Defaults to secure. */
        type: oneOf(["secure", "insecure"] as const, "a migration type").default("secure"),
      },
      "a mapping with the migration network",
    ).optional(),
  },
  "a mapping with the cluster name and links",
);

/** Quorum needs 3 nodes unless allowed; every link network reaches every node with an address. */
export function checkClusterLinks(
  value: Record<string, unknown>,
  nodes: NodeView[],
  networks: NetworkIndex,
  ring: RingNetwork,
  add: AddIssue,
): void {
  const cluster = value.cluster;
  if (isRecord(cluster)) {
    const allowSmall = cluster.allowSmallCluster === undefined ? false : cluster.allowSmallCluster;
    // Two nodes and a QDevice make three votes (an odd count with a QDevice is checkQDevice's error).
    const votes = Array.isArray(value.nodes) ? value.nodes.length + (cluster.qdevice === undefined ? 0 : 1) : 0;
    if (Array.isArray(value.nodes) && value.nodes.length >= 1 && votes < 3 && allowSmall === false) {
      const n = value.nodes.length;
      add(
        ["cluster"],
        `${plural(n, "node")} cannot keep quorum when one fails; a cluster needs at least 3 nodes ` +
          "(add cluster.qdevice, an external vote, or set cluster.allowSmallCluster: true to allow this)",
      );
    }
    const links = fieldList(cluster.links, isLabel);
    if (Array.isArray(links)) {
      const seen = new Set<string>();
      for (const [k, link] of links.entries()) {
        if (!isString(link)) continue;
        if (seen.has(link)) {
          add(["cluster", "links", k], `${show(link)} is listed twice`);
          continue;
        }
        seen.add(link);
        if (!checkNetworkRef(networks, add, ["cluster", "links", k], link)) continue;
        for (const node of nodes) {
          if (link === ring.name) {
            if (node.thunderbolt === undefined) {
              add(
                ["nodes", node.index, "thunderbolt"],
                `missing; cluster.links[${k}] is the thunderbolt ring network ${show(link)}, which needs a thunderbolt loopback on every node`,
              );
            }
            continue;
          }
          // an invalid or unknown network reference is reported already; don't guess what it meant
          const unsure = (i: InterfaceView) =>
            i.network === null || i.address === null || (isString(i.network) && !networks.names.has(i.network));
          if (node.interfaces === null || node.interfaces.some(unsure)) continue;
          const iface = node.interfaces.find((i) => i.network === link);
          if (!iface) {
            add(
              ["nodes", node.index, "interfaces"],
              `no interface on network ${show(link)}, which cluster.links[${k}] needs on every node`,
            );
          } else if (iface.address === undefined) {
            add(
              ["nodes", node.index, "interfaces", iface.index, "address"],
              `missing; cluster.links[${k}] (${show(link)}) needs an address on every node`,
            );
          }
        }
      }
    }
  }
}

/** Every node has an address on the migration network (checked only on a valid layout, which it would echo). */
export function checkMigration(value: Record<string, unknown>, nodes: Record<string, unknown>[], layoutIsValid: boolean): PathIssue[] {
  const issues: PathIssue[] = [];
  const cluster = isRecord(value.cluster) ? value.cluster : undefined;
  const migration = cluster && isRecord(cluster.migration) ? cluster.migration : undefined;
  if (migration && isLabel(migration.network) && layoutIsValid) {
    const network = migration.network;
    const ring = isRecord(value.thunderbolt) ? value.thunderbolt.network : undefined;
    const known = Array.isArray(value.networks) && value.networks.some((n) => isRecord(n) && n.name === network);
    if (!known) {
      issues.push({ path: ["cluster", "migration", "network"], message: `no network named ${show(network)}` });
    } else {
      for (const node of nodes) {
        if (!Array.isArray(node.interfaces)) continue; // already reported as a wrong type
        const onIt =
          (network === ring && isRecord(node.thunderbolt)) ||
          (Array.isArray(node.interfaces) &&
            node.interfaces.some((i) => isRecord(i) && i.network === network && isIPv4(i.address)));
        if (!onIt && isLabel(node.name)) {
          issues.push({
            path: ["cluster", "migration", "network"],
            message: `node ${show(node.name)} has no address on network ${show(network)}, so it could not migrate over it`,
          });
        }
      }
    }
  }
  return issues;
}
