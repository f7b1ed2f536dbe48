/**
 * A topology as a Mermaid flowchart (GitHub renders it in Markdown): each
 * Proxmox node a subgraph of its interfaces, stacked lower to upper (NIC →
 * bond → bridge → VLAN); each network a node with its CIDR, MTU and roles;
 * ring cables as thick links between ports; Kubernetes clusters linked to the
 * machines that carry them.
 */
import type { Topology, TopoCluster, TopoInterface, TopoMachine, TopoNetwork } from "./topology";

/** A Mermaid id from any name: letters and digits kept, everything else hex-escaped (no collisions). */
export function mermaidId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)).join("__");
}

/** A quoted label; lines joined with <br/>. */
function label(...lines: string[]): string {
  return `"${lines.map((l) => l.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;")).join("<br/>")}"`;
}

/** An edge with its label in the pipe form every flowchart link type accepts. */
function edge(from: string, arrow: string, text: string, to: string): string {
  return `  ${from} ${arrow}|${label(text)}| ${to}`;
}

export function networkText(n: TopoNetwork): string[] {
  return [n.name, `${n.cidr} · MTU ${n.mtu}`, ...(n.gateway ? [`gateway ${n.gateway}`] : []), ...(n.roles.length > 0 ? [n.roles.join(", ")] : [])];
}

export function interfaceText(i: TopoInterface): string[] {
  return [i.name, `${i.detail} · MTU ${i.mtu}`];
}

export function clusterText(c: TopoCluster): string[] {
  const links = c.links.map((n, i) => `link${i} ${n}`).join(" · ");
  return [`Proxmox cluster ${c.name}`, `corosync ${links}`, ...(c.ceph ? [`Ceph public ${c.ceph.publicNetwork} · cluster ${c.ceph.clusterNetwork}`] : [])];
}

export function machineTitle(m: TopoMachine): string {
  const kind = { proxmox: "Proxmox VE", host: "host", linode: "Linode", vm: "VM" }[m.kind];
  return `${m.name} (${kind})`;
}

/** Every class the nodes above use (interface types, machine kinds, networks, clusters). */
const CLASSES: Record<string, string> = {
  network: "fill:#e8f1fb,stroke:#2f6db3",
  nic: "fill:#ffffff,stroke:#777777",
  bond: "fill:#f3ecfa,stroke:#7a4fb0",
  bridge: "fill:#eef6ff,stroke:#2f6db3",
  vlan: "fill:#f7f7e8,stroke:#8a8a2e",
  thunderbolt: "fill:#fdf0e0,stroke:#c77700",
  loopback: "fill:#fdf0e0,stroke:#c77700",
  host: "fill:#ffffff,stroke:#555555",
  linode: "fill:#eafaf3,stroke:#0f8a5f",
  vm: "fill:#ffffff,stroke:#555555,stroke-dasharray:4 2",
  kubernetes: "fill:#eaf7ea,stroke:#2e8b3e",
  cluster: "fill:#fff5f5,stroke:#b3462f",
};

export function renderMermaid(t: Topology): string {
  const lines = ["flowchart TB", `  %% homelab environment ${t.name}`];
  const edges: string[] = [];
  for (const n of t.networks) lines.push(`  ${mermaidId("net", n.name)}[(${label(...networkText(n))})]:::network`);

  for (const m of t.machines) {
    if (m.kind !== "proxmox") {
      lines.push(`  ${mermaidId("m", m.name)}[${label(machineTitle(m), ...m.details)}]:::${m.kind}`);
      for (const i of m.interfaces) if (i.network) edges.push(edge(mermaidId("m", m.name), "---", i.address ?? i.name, mermaidId("net", i.network)));
      if (m.carrier) edges.push(edge(mermaidId("m", m.carrier), "-.->", "runs", mermaidId("m", m.name)));
      continue;
    }
    lines.push(`  subgraph ${mermaidId("m", m.name)}[${label(machineTitle(m), ...m.details)}]`, "    direction TB");
    for (const i of m.interfaces) lines.push(`    ${mermaidId("m", m.name, i.name)}[${label(...interfaceText(i))}]:::${i.type}`);
    lines.push("  end");
    for (const i of m.interfaces) {
      for (const lower of i.lower) edges.push(`  ${mermaidId("m", m.name, lower)} --> ${mermaidId("m", m.name, i.name)}`);
      if (i.network) edges.push(edge(mermaidId("m", m.name, i.name), "---", i.address ?? "", mermaidId("net", i.network)));
    }
  }

  if (t.cluster) {
    const c = t.cluster;
    const id = mermaidId("pve", c.name);
    lines.push(`  ${id}[[${label(...clusterText(c))}]]:::cluster`);
    c.links.forEach((network, i) => edges.push(edge(id, "-.-", `corosync link${i}`, mermaidId("net", network))));
    if (c.ceph) {
      edges.push(edge(id, "-.-", "Ceph public", mermaidId("net", c.ceph.publicNetwork)));
      edges.push(edge(id, "-.-", "Ceph cluster", mermaidId("net", c.ceph.clusterNetwork)));
    }
  }

  for (const link of t.ring) {
    const cable = `Thunderbolt ${link.a.node} ${link.a.port} ↔ ${link.b.node} ${link.b.port}${t.ringMtu ? ` · MTU ${t.ringMtu}` : ""}`;
    edges.push(edge(mermaidId("m", link.a.node, link.a.port), "<==>", cable, mermaidId("m", link.b.node, link.b.port)));
  }

  for (const k of t.kubernetes) {
    const id = mermaidId("k8s", k.name);
    lines.push(`  ${id}{{${label(`${k.kind} ${k.name}`, k.version)}}}:::kubernetes`);
    for (const member of k.members) edges.push(edge(mermaidId("m", member.machine), "-->", member.role, id));
  }

  lines.push(...edges, ...Object.entries(CLASSES).map(([name, style]) => `  classDef ${name} ${style}`));
  return lines.join("\n") + "\n";
}
