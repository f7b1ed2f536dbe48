/**
 * Talos's own ingress firewall for nodes on public addresses (a VPS has no
 * firewall in front of it): the documents of Talos's ingress-firewall guide
 * (NetworkDefaultActionConfig + NetworkRuleConfig), with the Talos API
 * (50000) and the Kubernetes API (6443) open only to the admin networks and
 * the cluster's own nodes, and what the nodes need of each other (kubelet,
 * trustd, etcd, Cilium's VXLAN and health checks) open only between them.
 * Rendered as one multi-document patch: a strategic-merge patch appends
 * documents the machine config does not have yet.
 */

/** Addresses of a cluster's nodes, by role. */
export interface FirewallNodes {
  controlPlanes: string[];
  workers: string[];
}

interface Rule {
  name: string;
  ports: (number | string)[];
  protocol: "tcp" | "udp";
  subnets: string[];
}

const host = (address: string) => `${address}/32`;

/** The rules, in the order the guide lists them. */
export function talosFirewallRules(adminCidrs: string[], nodes: FirewallNodes): Rule[] {
  const members = [...nodes.controlPlanes, ...nodes.workers].map(host);
  const unique = (list: string[]) => [...new Set(list)];
  return [
    { name: "kubelet-ingress", ports: [10250], protocol: "tcp", subnets: members },
    { name: "apid-ingress", ports: [50000], protocol: "tcp", subnets: unique([...adminCidrs, ...members]) },
    { name: "trustd-ingress", ports: [50001], protocol: "tcp", subnets: members },
    { name: "kubernetes-api-ingress", ports: [6443], protocol: "tcp", subnets: unique([...adminCidrs, ...members]) },
    { name: "etcd-ingress", ports: ["2379-2380"], protocol: "tcp", subnets: nodes.controlPlanes.map(host) },
    { name: "cni-vxlan", ports: [8472], protocol: "udp", subnets: members },
    { name: "cilium-health", ports: [4240], protocol: "tcp", subnets: members },
  ];
}

/** The multi-document patch: default block, then one NetworkRuleConfig per rule. */
export function talosFirewallPatch(adminCidrs: string[], nodes: FirewallNodes): string {
  const docs = [
    ["apiVersion: v1alpha1", "kind: NetworkDefaultActionConfig", "ingress: block"].join("\n"),
    ...talosFirewallRules(adminCidrs, nodes).map((r) =>
      [
        "apiVersion: v1alpha1",
        "kind: NetworkRuleConfig",
        `name: ${r.name}`,
        "portSelector:",
        "  ports:",
        ...r.ports.map((p) => `    - ${typeof p === "number" ? p : JSON.stringify(p)}`),
        `  protocol: ${r.protocol}`,
        "ingress:",
        ...r.subnets.map((s) => `  - subnet: ${s}`),
      ].join("\n"),
    ),
  ];
  return `${docs.join("\n---\n")}\n`;
}
