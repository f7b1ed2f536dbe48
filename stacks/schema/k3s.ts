/**
 * K3s clusters on any hosts the environment has (plain hosts, Linode
 * instances, VMs): the schema of `k3s` and its checks (an odd number of
 * servers, each host in one role of one cluster, architectures the pinned
 * checksums cover).
 */
import { z } from "zod";
import { isLabelKey, isLabelValue, isTaint } from "../../infra/kubernetes-names";
import { bool, list, mapping, text } from "./fields";
import { notA, show } from "./messages";
import { isIPv4, isLabel, isRecord } from "./predicates";
import type { PathIssue } from "./views";

/** Architectures K3s binaries are pinned for (components/k3s-cluster.ts K3sArch). */
export const K3S_ARCHES: readonly string[] = ["amd64", "arm64"];
const K3S_VERSION = /^v1\.[0-9]{2,3}\.[0-9]{1,3}\+k3s[0-9]{1,2}$/;
const DNS_NAME = (v: string) => v.length <= 253 && v.split(".").every(isLabel);

const SHA256 = /^[0-9a-f]{64}$/;
const hostRef = () => text("a host name", isLabel);
const sha256 = () => text("a sha256 (64 lowercase hex digits)", (v) => SHA256.test(v));
const binaryPin = () => mapping({ binarySha256: sha256() }, "a mapping with binarySha256");

/** sha256 pins of one release's artifacts: nothing is downloaded without them. */
export const K3sArtifactsSchema = mapping(
  {
    /** sha256 of install.sh at the release tag. */
    installScriptSha256: sha256(),
    /** The `k3s` line of sha256sum-amd64.txt. */
    amd64: binaryPin().optional(),
    /** The `k3s-arm64` line of sha256sum-arm64.txt. */
    arm64: binaryPin().optional(),
  },
  "a mapping of checksums (installScriptSha256, amd64, arm64)",
);

export const K3sClusterSchema = mapping(
  {
    /** Cluster name (stack output kubernetes.<name>). */
    name: text("a cluster name (lowercase letters, digits and hyphens, 1–63 characters)", isLabel),
    /** K3s release, e.g. v1.31.5+k3s1. */
    version: text('a K3s release (e.g. "v1.31.5+k3s1")', (v) => K3S_VERSION.test(v)),
    /** Server hosts by name: 1, or an odd number (embedded etcd needs a majority). */
    servers: list(hostRef(), "a list of host names").min(1, { error: "empty; a cluster needs at least one server" }),
    /** Agent hosts by name. Defaults to none. */
    agents: list(hostRef(), "a list of host names").default([]),
    /** VIP or DNS name for the API (added to the TLS SANs). Defaults to the first server's address. */
    apiAddress: text("an IPv4 address or DNS name", (v) => isIPv4(v) || DNS_NAME(v)).optional(),
    /** Checksums of the release's install.sh and binaries, per architecture of its hosts. */
    artifacts: K3sArtifactsSchema,
    /**
     * Labels and taints per member, by host name: `{ pi-2: { labels: { zone: rack-a },
     * taints: ["dedicated=storage:NoSchedule"] } }`. Defaults to none.
     */
    nodes: z
      .record(
        z.string(),
        mapping(
          {
            /** Node labels (`--node-label key=value`). */
            labels: z.record(z.string(), text("a Kubernetes label value (at most 63 letters, digits, -, _ or .)", isLabelValue)).default({}),
            /** Node taints (`--node-taint key[=value]:Effect`). */
            taints: list(text("a taint (key[=value]:NoSchedule|PreferNoSchedule|NoExecute)", isTaint), "a list of taints").default([]),
          },
          "a mapping with labels and taints",
        ),
        { error: (iss) => notA(iss.input, "a mapping of host names to labels and taints") },
      )
      .default({}),
    /** Run the K3s uninstall scripts on destroy. Defaults to false. */
    uninstallOnDestroy: bool().default(false),
  },
  "a K3s cluster (a mapping with name, version and servers)",
);

export const K3sSchema = mapping(
  {
    clusters: list(K3sClusterSchema, "a list of K3s clusters").default([]),
  },
  "a mapping with clusters",
);

/** What a cluster member can be, by name, with what the checks need to know. */
interface Member {
  kind: "host" | "linode" | "vm";
  arch?: unknown;
  /** A Linode instance's privateIp. */
  privateIp?: unknown;
  /** A VM's cloud-init user. */
  user?: unknown;
  /** A VM's baseline flag. */
  baseline?: unknown;
}

function members(value: Record<string, unknown>): Map<string, Member> {
  const out = new Map<string, Member>();
  const each = (list: unknown, f: (item: Record<string, unknown>) => void) => {
    if (Array.isArray(list)) list.filter(isRecord).forEach(f);
  };
  each(value.hosts, (h) => isLabel(h.name) && out.set(h.name, { kind: "host", arch: h.arch ?? "amd64" }));
  const linode = isRecord(value.linode) ? value.linode : {};
  each(linode.instances, (i) => isLabel(i.label) && out.set(i.label, { kind: "linode", arch: i.arch ?? "amd64", privateIp: i.privateIp ?? true }));
  each(value.vms, (v) => isLabel(v.name) && out.set(v.name, { kind: "vm", arch: "amd64", user: isRecord(v.cloudInit) ? v.cloudInit.user : undefined, baseline: v.baseline ?? true }));
  return out;
}

/** Server counts, roles, membership, architectures, and what VM members need. */
export function checkK3s(value: Record<string, unknown>): PathIssue[] {
  const issues: PathIssue[] = [];
  const k3s = isRecord(value.k3s) ? value.k3s : {};
  const clusters = Array.isArray(k3s.clusters) ? k3s.clusters : [];
  const known = members(value);
  const inCluster = new Map<string, string>();
  clusters.forEach((c, ci) => {
    if (!isRecord(c)) return;
    const at = (...rest: (string | number)[]) => ["k3s", "clusters", ci, ...rest];
    const servers = Array.isArray(c.servers) ? c.servers : [];
    const agents = Array.isArray(c.agents) ? c.agents : [];
    if (servers.length >= 2 && servers.length % 2 === 0) {
      issues.push({
        path: at("servers"),
        message: `${servers.length} servers; embedded etcd needs a majority, so use an odd number (1, 3, 5, …): an even number tolerates no more failures than one less`,
      });
    }
    const clusterName = isLabel(c.name) ? c.name : `k3s.clusters[${ci}]`;
    const unpinned = new Set<string>();
    const role = (list: unknown[], key: "servers" | "agents") =>
      list.forEach((name, i) => {
        if (!isLabel(name)) return;
        if (key === "agents" && servers.includes(name)) {
          issues.push({ path: at(key, i), message: `${show(name)} is also a server of this cluster; a host is either a server or an agent` });
          return;
        }
        const member = known.get(name);
        if (!member) {
          issues.push({ path: at(key, i), message: `no host, Linode instance or VM named ${show(name)}` });
          return;
        }
        const other = inCluster.get(name);
        if (other !== undefined && other !== clusterName) {
          issues.push({ path: at(key, i), message: `${show(name)} is already in K3s cluster ${show(other)}; a host serves one cluster` });
        } else if (other === clusterName) {
          issues.push({ path: at(key, i), message: `${show(name)} is listed twice` });
        }
        inCluster.set(name, clusterName);
        if (typeof member.arch === "string" && !K3S_ARCHES.includes(member.arch)) {
          issues.push({
            path: at(key, i),
            message: `${show(name)} is ${member.arch}; K3s is installed here on ${K3S_ARCHES.join(" and ")} only`,
          });
        } else if (typeof member.arch === "string" && isRecord(c.artifacts) && c.artifacts[member.arch] === undefined) {
          const arch = member.arch;
          if (!unpinned.has(arch)) {
            unpinned.add(arch);
            issues.push({
              path: at("artifacts", arch),
              message: `missing; ${show(name)} is ${arch}, and no checksum is pinned for it (the "k3s${arch === "amd64" ? "" : `-${arch}`}" line of sha256sum-${arch}.txt of the release)`,
            });
          }
        }
        if (member.kind === "linode" && member.privateIp === false) {
          issues.push({ path: at(key, i), message: `Linode instance ${show(name)} needs privateIp: true (K3s nodes talk over the region's private network)` });
        }
        if (member.kind === "vm") {
          if (member.baseline === false) {
            issues.push({ path: at(key, i), message: `VM ${show(name)} has baseline: false; K3s members are reached with the host key the baseline step reads, so they need it` });
          }
          if (member.user !== "root") {
            issues.push({ path: at(key, i), message: `VM ${show(name)} needs cloudInit.user: root (the baseline and K3s run as root over SSH)` });
          }
        }
      });
    role(servers, "servers");
    role(agents, "agents");
    const nodes = isRecord(c.nodes) ? c.nodes : {};
    for (const [name, spec] of Object.entries(nodes)) {
      if (!servers.includes(name) && !agents.includes(name)) {
        issues.push({ path: at("nodes", name), message: `${show(name)} is neither a server nor an agent of this cluster` });
      }
      const labels = isRecord(spec) && isRecord(spec.labels) ? spec.labels : {};
      for (const key of Object.keys(labels)) {
        if (!isLabelKey(key)) issues.push({ path: at("nodes", name, "labels", key), message: `${show(key)} is not a Kubernetes label key ([prefix/]name, at most 63 characters)` });
      }
    }
  });
  return issues;
}
