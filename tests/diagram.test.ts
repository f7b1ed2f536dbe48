/**
 * `npm run diagram`: the topology read from a stack file alone, drawn as
 * Mermaid and as SVG (well-formed, deterministic).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderDiagram } from "../scripts/homelab/diagram";
import { DIAGRAM_USAGE, main, parseDiagramArgs } from "../scripts/homelab/diagram-main";
import { mermaidId } from "../scripts/homelab/diagram-mermaid";
import { ringLinks, topology } from "../scripts/homelab/topology";
import { validateStackFile } from "../stacks/stack-file";
import { xmlProblems } from "./helpers/xml";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-diagram-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const env = (stack: string) => validateStackFile(stack, ROOT, ROOT, {}).environment!;
const id = mermaidId;

describe("ms01: bonds, the Thunderbolt ring, Ceph and corosync on the ring", () => {
  const { mermaid, svg } = renderDiagram("ms01");

  it("draws each network with its CIDR, MTU and what runs on it", () => {
    expect(mermaid).toContain(`${id("net", "management")}[("management<br/>10.203.3.0/24 · MTU 1500<br/>gateway 10.203.3.1<br/>corosync link0")]`);
    expect(mermaid).toContain(
      `${id("net", "ring")}[("ring<br/>10.100.0.0/24 · MTU 65520<br/>corosync link1, Ceph public, Ceph cluster, Thunderbolt ring, migration")]`,
    );
  });

  it("draws every node as a subgraph: slaves into the bond, the bond into the bridge, the bridge on management", () => {
    for (const node of ["frege", "russell", "wittgenstein"]) {
      expect(mermaid).toMatch(new RegExp(`subgraph ${id("m", node)}\\["${node} \\(Proxmox VE\\)<br/>10\\.203\\.3\\.1\\d<br/>1 OSD on /dev/nvme1n1"\\]`));
      expect(mermaid).toContain(`${id("m", node, "enp2s0f0np0")} --> ${id("m", node, "bond0")}`);
      expect(mermaid).toContain(`${id("m", node, "enp2s0f1np1")} --> ${id("m", node, "bond0")}`);
      expect(mermaid).toContain(`${id("m", node, "bond0")} --> ${id("m", node, "vmbr0")}`);
      expect(mermaid).toMatch(new RegExp(`${id("m", node, "vmbr0")} ---\\|"10\\.203\\.3\\.1\\d"\\| ${id("net", "management")}`));
      expect(mermaid).toMatch(new RegExp(`${id("m", node, "lo")} ---\\|"10\\.100\\.0\\.1\\d"\\| ${id("net", "ring")}`));
    }
    expect(mermaid).toContain(`${id("m", "frege", "bond0")}["bond0<br/>bond active-backup primary enp2s0f0np0 · MTU 1500"]:::bond`);
  });

  it("draws the ring's three cables once each, port to port", () => {
    const cables = mermaid.split("\n").filter((l) => l.includes(" <==>|"));
    expect(cables).toEqual([
      `  ${id("m", "frege", "en05")} <==>|"Thunderbolt frege en05 ↔ russell en06 · MTU 65520"| ${id("m", "russell", "en06")}`,
      `  ${id("m", "frege", "en06")} <==>|"Thunderbolt frege en06 ↔ wittgenstein en05 · MTU 65520"| ${id("m", "wittgenstein", "en05")}`,
      `  ${id("m", "russell", "en05")} <==>|"Thunderbolt russell en05 ↔ wittgenstein en06 · MTU 65520"| ${id("m", "wittgenstein", "en06")}`,
    ]);
    expect(svg).toContain("frege en05 ↔ russell en06");
    expect(svg).toContain("Thunderbolt ring: 3 cables, MTU 65520");
  });

  it("draws the cluster's corosync links and Ceph networks", () => {
    const pve = id("pve", "ms01");
    expect(mermaid).toContain(`${pve}[["Proxmox cluster ms01<br/>corosync link0 management · link1 ring<br/>Ceph public ring · cluster ring"]]:::cluster`);
    expect(mermaid).toContain(`${pve} -.-|"corosync link0"| ${id("net", "management")}`);
    expect(mermaid).toContain(`${pve} -.-|"corosync link1"| ${id("net", "ring")}`);
    expect(mermaid).toContain(`${pve} -.-|"Ceph public"| ${id("net", "ring")}`);
    expect(mermaid).toContain(`${pve} -.-|"Ceph cluster"| ${id("net", "ring")}`);
    expect(svg).toContain("Proxmox cluster ms01 · corosync link0 management · link1 ring · Ceph public ring · cluster ring");
  });

  it("draws the VMs on the nodes that run them", () => {
    expect(mermaid).toContain(`${id("m", "russell")} -.->|"runs"| ${id("m", "rocky9-01")}`);
  });

  it("draws the Talos cluster, its control planes and workers, each VM on its node", () => {
    const talos = env("ms01").talos.clusters[0];
    expect(mermaid).toContain(`${id("k8s", talos.name)}{{"Talos ${talos.name}<br/>${talos.talosVersion}, Kubernetes ${talos.kubernetesVersion}"}}:::kubernetes`);
    for (const cp of talos.controlPlanes) {
      expect(mermaid).toContain(`${id("m", cp.name)} -->|"control plane"| ${id("k8s", talos.name)}`);
      expect(mermaid).toContain(`${id("m", cp.node!)} -.->|"runs"| ${id("m", cp.name)}`);
    }
    for (const w of talos.workers) expect(mermaid).toContain(`${id("m", w.name)} -->|"worker"| ${id("k8s", talos.name)}`);
  });

  it("writes a well-formed SVG naming every network, node and interface", () => {
    const { problems, elements } = xmlProblems(svg);
    expect(problems).toEqual([]);
    expect(elements[0]).toBe("svg");
    expect(svg).toContain("ring · 10.100.0.0/24 · MTU 65520 · corosync link1, Ceph public, Ceph cluster, Thunderbolt ring, migration");
    expect(svg).toContain("bond0: bond active-backup primary enp2s0f0np0 ← enp2s0f0np0,enp2s0f1np1 · MTU 1500");
    expect(svg).toContain("lo: ring loopback /32 ← en05,en06 · MTU 65520 ring 10.100.0.11");
  });
});

describe("matrix: VLANs, separate Ceph networks, K3s on VMs", () => {
  const { mermaid, svg } = renderDiagram("matrix");

  it("gives each network its role: corosync link0 on the VLAN, Ceph public and cluster with MTU 9000", () => {
    expect(mermaid).toContain(`("corosync<br/>192.168.8.0/24 · MTU 1500<br/>corosync link0")`);
    expect(mermaid).toContain(`("management<br/>192.168.3.0/24 · MTU 1500<br/>gateway 192.168.3.1<br/>corosync link1")`);
    expect(mermaid).toContain(`("ceph-public<br/>192.168.5.0/24 · MTU 9000<br/>Ceph public")`);
    expect(mermaid).toContain(`("ceph-private<br/>192.168.7.0/24 · MTU 9000<br/>Ceph cluster, migration")`);
  });

  it("draws the VLAN on its bridge and each bridge on its network", () => {
    expect(mermaid).toContain(`${id("m", "foxtrot", "vlan9")}["vlan9<br/>VLAN 9 on vmbr0 · MTU 1500"]:::vlan`);
    expect(mermaid).toContain(`${id("m", "foxtrot", "vmbr0")} --> ${id("m", "foxtrot", "vlan9")}`);
    expect(mermaid).toContain(`${id("m", "foxtrot", "vlan9")} ---|"192.168.8.5"| ${id("net", "corosync")}`);
    expect(mermaid).toContain(`${id("m", "golf", "vmbr1")} ---|"192.168.5.6"| ${id("net", "ceph-public")}`);
    expect(mermaid).toContain(`${id("m", "hotel", "vmbr2")}["vmbr2<br/>bridge · MTU 9000"]:::bridge`);
    expect(mermaid).not.toContain("<==>");
  });

  it("draws the K3s cluster and the VMs that carry it, each on its node", () => {
    const k3s = env("matrix").k3s.clusters[0];
    expect(mermaid).toContain(`${id("k8s", k3s.name)}{{"K3s ${k3s.name}<br/>${k3s.version}"}}:::kubernetes`);
    for (const server of k3s.servers) expect(mermaid).toContain(`${id("m", server)} -->|"server"| ${id("k8s", k3s.name)}`);
    for (const agent of k3s.agents) expect(mermaid).toContain(`${id("m", agent)} -->|"agent"| ${id("k8s", k3s.name)}`);
    const vm = env("matrix").vms.find((v) => v.name === k3s.servers[0])!;
    expect(mermaid).toContain(`${id("m", vm.node)} -.->|"runs"| ${id("m", vm.name)}`);
    expect(svg).toContain(`K3s ${k3s.name} ${k3s.version}`);
    expect(xmlProblems(svg).problems).toEqual([]);
  });
});

describe("pifarm: plain hosts carrying K3s, no networks", () => {
  it("draws the hosts and the cluster", () => {
    const { mermaid, svg } = renderDiagram("pifarm");
    expect(mermaid).toContain(`${id("m", "pi-1")}["pi-1 (host)<br/>192.168.20.11<br/>debian arm64"]:::host`);
    expect(mermaid).toContain(`${id("m", "pi-1")} -->|"server"| ${id("k8s", "farm")}`);
    expect(xmlProblems(svg).problems).toEqual([]);
  });
});

describe("determinism and the command", () => {
  it("renders the same bytes every time, in this process and in another", async () => {
    const first = renderDiagram("ms01");
    expect(renderDiagram("ms01")).toEqual(first);
    const svgFile = path.join(tmp, "ms01.svg");
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(TSX, ["scripts/homelab/diagram-main.ts", "ms01", "--svg", svgFile], { cwd: ROOT }, (error, out) => (error ? reject(error) : resolve(out))),
    );
    expect(stdout).toBe(first.mermaid);
    expect(fs.readFileSync(svgFile, "utf8")).toBe(first.svg);
  }, 60_000);

  it("prints a Markdown block with --markdown, and fails naming the problem otherwise", () => {
    const out: string[] = [];
    const err: string[] = [];
    expect(main(["matrix", "--markdown"], (t) => out.push(t), (l) => err.push(l))).toBe(0);
    expect(out.join("")).toMatch(/^```mermaid\nflowchart TB\n[\s\S]*\n```\n$/);
    expect(main([], (t) => out.push(t), (l) => err.push(l))).toBe(2);
    expect(err).toEqual([DIAGRAM_USAGE]);
    expect(main(["nosuchstack"], (t) => out.push(t), (l) => err.push(l))).toBe(1);
    expect(err[1]).toMatch(/^diagram nosuchstack: .*Pulumi\.nosuchstack\.yaml: not a valid stack file:\n.*cannot read the stack file \(no such file/);
    expect(parseDiagramArgs(["ms01", "--svg"])).toBeUndefined();
    expect(parseDiagramArgs(["--svg", "x.svg", "ms01"])).toEqual({ stack: "ms01", svg: "x.svg", markdown: false });
  });

  it("pairs ring ports with the peer's port that names them back, each cable once", () => {
    const links = ringLinks(env("ms01").nodes);
    expect(links.map((l) => `${l.a.node}/${l.a.port}-${l.b.node}/${l.b.port}`)).toEqual([
      "frege/en05-russell/en06",
      "frege/en06-wittgenstein/en05",
      "russell/en05-wittgenstein/en06",
    ]);
    expect(topology(env("matrix")).ring).toEqual([]);
  });

  it("the XML check rejects what is not well-formed", () => {
    expect(xmlProblems('<svg><g></svg>').problems).toEqual(["</svg> closes <g>", "unclosed: svg"]);
    expect(xmlProblems('<svg><text>a & b</text></svg>').problems).toEqual(["unescaped & in text: a & b"]);
    expect(xmlProblems('<svg x="1" x="2"/>').problems).toEqual(["<svg> repeats attribute x"]);
    expect(xmlProblems("<svg/><svg/>").problems).toEqual(["2 root elements"]);
    expect(xmlProblems('<svg><text x=1>a</text></svg>').problems[0]).toMatch(/^malformed tag/);
  });

  it("escapes names into Mermaid ids without collisions", () => {
    expect(mermaidId("m", "a-b")).not.toBe(mermaidId("m", "a_b"));
    expect(mermaidId("m", "a-b")).toMatch(/^[A-Za-z0-9_]+$/);
  });
});
