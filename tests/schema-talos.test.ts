/**
 * The `talos` schema: every bad input of a Talos cluster is an error by path
 * before anything runs, and the three stack files that use it validate.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { checkEnvironment } from "../stacks/errors";

const ROOT = path.resolve(__dirname, "..");

/* eslint-disable @typescript-eslint/no-explicit-any -- tests mutate raw YAML freely */
type Raw = any;

const environment = (stack: string): Raw => parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config["homelab:environment"];
const issuesOf = (env: Raw): string[] => {
  const result = checkEnvironment(env);
  return result.ok ? [] : result.issues;
};
const C = "talos.clusters[0]";

interface Case {
  what: string;
  stack: "ms01" | "fluodata" | "vps";
  mutate: (cluster: Raw, env: Raw) => void;
  issues: string[];
}

const cases: Case[] = [
  {
    what: "an even number of control planes",
    stack: "fluodata",
    mutate: (c) => c.controlPlanes.push({ name: "fluo-cp-2", address: "10.42.0.22", node: "fluo", vmid: 2102 }),
    issues: [`${C}.controlPlanes: 2 control planes; etcd needs a majority, so use an odd number (1, 3, 5): an even number tolerates no more failures than one less`],
  },
  {
    what: "no control plane",
    stack: "fluodata",
    mutate: (c) => (c.controlPlanes = []),
    issues: [`${C}.controlPlanes: empty; a cluster needs at least one control plane`],
  },
  {
    what: "a VIP outside the nodes' subnet",
    stack: "ms01",
    mutate: (c) => (c.vip = "10.203.4.50"),
    issues: [`${C}.vip: "10.203.4.50" is not inside the nodes' network "management" (10.203.3.0/24); a Layer-2 VIP lives on the nodes' own subnet`],
  },
  {
    what: "a VIP equal to a node's address",
    stack: "ms01",
    mutate: (c) => (c.vip = "10.203.3.52"),
    issues: [`${C}.vip: "10.203.3.52" is the address of node "talos-cp-2"; the VIP must be a free address`],
  },
  {
    what: "a node outside the network",
    stack: "fluodata",
    mutate: (c) => (c.workers[0].address = "10.43.0.31"),
    issues: [`${C}.workers[0].address: "10.43.0.31" is not inside network "lan" (10.42.0.0/24)`],
  },
  {
    what: "an unpinned Talos version",
    stack: "fluodata",
    mutate: (c) => (c.talosVersion = "latest"),
    issues: [`${C}.talosVersion: "latest" is not a Talos release pinned to an exact release (e.g. "v1.11.5")`],
  },
  {
    what: "a Kubernetes version without its patch release",
    stack: "fluodata",
    mutate: (c) => (c.kubernetesVersion = "v1.34"),
    issues: [`${C}.kubernetesVersion: "v1.34" is not a Kubernetes release pinned to an exact release (e.g. "v1.11.5")`],
  },
  {
    what: "an unpinned talosctl",
    stack: "fluodata",
    mutate: (c) => delete c.talosctl.version,
    issues: [`${C}.talosctl.version: missing; expected a talosctl release pinned to an exact release (e.g. "v1.11.5")`],
  },
  {
    what: "a talosctl of another minor",
    stack: "fluodata",
    mutate: (c) => (c.talosctl.version = "v1.10.7"),
    issues: [`${C}.talosctl.version: "v1.10.7" is not a v1.11.x release; use the talosctl of the cluster's Talos minor ("v1.11.5")`],
  },
  {
    what: "an unpinned Cilium",
    stack: "fluodata",
    mutate: (c) => delete c.ciliumVersion,
    issues: [`${C}.ciliumVersion: missing; cni cilium needs its chart version pinned (e.g. "1.18.0"), or set cni: flannel`],
  },
  {
    what: "a Cilium version range",
    stack: "fluodata",
    mutate: (c) => (c.ciliumVersion = "1.18.x"),
    issues: [`${C}.ciliumVersion: "1.18.x" is not a Cilium chart version pinned to an exact release (e.g. "1.18.0")`],
  },
  {
    what: "a schematic that is not 64 hex",
    stack: "fluodata",
    mutate: (c) => (c.schematic = "376567988AD370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7"),
    issues: [`${C}.schematic: "376567988AD370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7" is not an Image Factory schematic id (64 lowercase hex digits)`],
  },
  {
    what: "an ISO checksum that is not a sha256",
    stack: "fluodata",
    mutate: (c) => (c.proxmox.isoSha256 = "md5:abc"),
    issues: [`${C}.proxmox.isoSha256: "md5:abc" is not a sha256 (64 lowercase hex digits)`],
  },
  {
    what: "duplicate node addresses",
    stack: "fluodata",
    mutate: (c) => (c.workers[1].address = "10.42.0.31"),
    issues: [`${C}.workers[1].address: "10.42.0.31" is already the address of node "fluo-w-1"`],
  },
  {
    what: "a worker on a Proxmox node not in the environment",
    stack: "ms01",
    mutate: (c) => (c.workers[2].node = "hilbert"),
    issues: [`${C}.workers[2].node: no Proxmox node named "hilbert" in this environment`],
  },
  {
    what: "a Proxmox VM without node or VMID",
    stack: "fluodata",
    mutate: (c) => {
      delete c.workers[0].node;
      delete c.workers[0].vmid;
    },
    issues: [`${C}.workers[0].node: missing; Talos VM "fluo-w-1" needs the Proxmox node it runs on`, `${C}.workers[0].vmid: missing; Talos VM "fluo-w-1" needs a VMID`],
  },
  {
    what: "a VMID another VM has",
    stack: "ms01",
    mutate: (c) => (c.workers[0].vmid = 7001),
    issues: [`${C}.workers[0].vmid: VMID 7001 is already used by templates[1]`],
  },
  {
    what: "an HA placement the VMs use",
    stack: "ms01",
    mutate: (c) => (c.controlPlanes[0].ha.placement = "spread"),
    issues: [`${C}.controlPlanes[0].ha.placement: "spread" already places VMs of vms; give Talos nodes placements of their own`],
  },
  {
    what: "an HA placement that does not exist",
    stack: "ms01",
    mutate: (c) => (c.controlPlanes[0].ha.placement = "nowhere"),
    issues: [`${C}.controlPlanes[0].ha.placement: no placement named "nowhere" in ha.placements`],
  },
  {
    what: "a Proxmox cluster without apiAccess",
    stack: "fluodata",
    mutate: (_c, env) => delete env.apiAccess,
    issues: [`${C}.proxmox: needs apiAccess: the ISO and the VMs are created with the Proxmox API token`],
  },
  {
    what: "neither flavour",
    stack: "fluodata",
    mutate: (c) => delete c.proxmox,
    issues: [`${C}: missing proxmox or vps: say where the nodes run (Proxmox VMs, or rescue-mode VPS hosts)`],
  },
  {
    what: "a VPS node without a rescue address",
    stack: "vps",
    mutate: (c) => delete c.controlPlanes[0].rescue,
    issues: [`${C}.controlPlanes[0].rescue: missing; VPS node "edge-1" needs its rescue system's address and host key (the image is written from there)`],
  },
  {
    what: "a VPS node without a target disk",
    stack: "vps",
    mutate: (c) => delete c.controlPlanes[0].disk,
    issues: [`${C}.controlPlanes[0].disk: missing; VPS node "edge-1" needs the disk the Talos image is written to`],
  },
  {
    what: "a VPS cluster without admin networks",
    stack: "vps",
    mutate: (c) => (c.vps.adminCidrs = []),
    issues: [
      `${C}.vps.adminCidrs: empty; a VPS has no firewall in front of the Talos API (50000) and the Kubernetes API (6443): list the admin networks, or set allowOpenApi: true to leave them open`,
    ],
  },
  {
    what: "a VPS cluster with a VIP",
    stack: "vps",
    mutate: (c) => (c.vip = "192.0.2.20"),
    issues: [`${C}.vip: only for a proxmox cluster: a Layer-2 VIP needs a shared segment, which VPS hosts do not have`],
  },
  {
    what: "a VPS image checksum that is not a sha256",
    stack: "vps",
    mutate: (c) => (c.vps.imageSha256 = "latest"),
    issues: [`${C}.vps.imageSha256: "latest" is not a sha256 (64 lowercase hex digits)`],
  },
  {
    what: "a Talos cluster named like a K3s cluster",
    stack: "vps",
    mutate: (_c, env) => {
      env.hosts = [{ name: "pi", address: "192.0.2.30", hostKey: "SHA256:Vq7Rz2Lk9Mw4Tn8Xc3Bp6Hs1Jd5Fg0Ya2Ue7Io4Kl9N" }];
      env.k3s = { clusters: [{ name: "edge", version: "v1.31.5+k3s1", servers: ["pi"], artifacts: { installScriptSha256: "a".repeat(64), amd64: { binarySha256: "b".repeat(64) } } }] };
    },
    issues: [`${C}.name: "edge" is also a K3s cluster's name; both are stack outputs kubernetes.<name>`],
  },
  {
    what: "a patch that is not text",
    stack: "vps",
    mutate: (c) => (c.patches.controlPlane = [{ cluster: {} }]),
    issues: [`${C}.patches.controlPlane[0]: a mapping is not a YAML patch (text, at most 65536 characters)`],
  },
];

describe("talos: bad input gets an error by path", () => {
  it.each(cases.map((c) => [c.what, c] as const))("%s", (_what, c) => {
    const env = environment(c.stack);
    c.mutate(env.talos.clusters[0], env);
    expect(issuesOf(env)).toEqual(c.issues);
  });
});

describe("talos: what is allowed", () => {
  it.each(["ms01", "fluodata", "vps"])("%s validates", (stack) => {
    expect(issuesOf(environment(stack))).toEqual([]);
  });

  it("a VPS cluster with its APIs explicitly open", () => {
    const env = environment("vps");
    env.talos.clusters[0].vps.adminCidrs = [];
    env.talos.clusters[0].vps.allowOpenApi = true;
    expect(issuesOf(env)).toEqual([]);
  });

  it("a single Proxmox host with no cluster and no Ceph has API access; two hosts without a cluster do not", () => {
    const env = environment("fluodata");
    expect(env.cluster).toBeUndefined();
    expect(env.ceph).toBeUndefined();
    expect(issuesOf(env)).toEqual([]);
    env.nodes.push({ ...structuredClone(env.nodes[0]), name: "fluo2", address: "10.42.0.11", interfaces: [{ type: "nic", name: "enp1s0" }, { type: "bridge", name: "vmbr0", ports: ["enp1s0"], network: "lan", address: "10.42.0.11" }] });
    expect(issuesOf(env)).toEqual([
      "apiAccess: needs cluster: the API user and token are created once the cluster exists (its user database is shared); only a single node works without one",
    ]);
  });

  it("flannel needs no Cilium version, and refuses one", () => {
    const env = environment("fluodata");
    env.talos.clusters[0].cni = "flannel";
    expect(issuesOf(env)).toEqual([`${C}.ciliumVersion: set, but cni is "flannel"; Cilium is installed only with cni: cilium`]);
    delete env.talos.clusters[0].ciliumVersion;
    expect(issuesOf(env)).toEqual([]);
  });
});
