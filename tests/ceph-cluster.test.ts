/**
 * The Ceph Cluster dynamic provider driven directly (create/read/diff/update/delete) against the
 * simulated Proxmox nodes over real SSH, plus the fakes it relies on (pveceph install/init/mon/mgr,
 * ceph mon dump/mgr dump) and the homelab:ceph:Cluster component under mocks. Each scenario uses
 * its own 3-node Proxmox cluster (one Ceph per pmxcfs), formed by seeding the fakes' state.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CephCluster } from "../components/ceph-cluster";
import {
  CEPH_CLUSTER_PROVIDER_VERSION,
  CephClusterError,
  CephClusterInputs,
  CephClusterOutputs,
  CephNodeSpec,
  cephClusterProvider,
  planCeph,
} from "../infra/providers/ceph/ceph-cluster";
import { CEPH_OSDS_PROVIDER_VERSION, CephOsdsOutputs, cephOsdsProvider } from "../infra/providers/ceph/ceph-osd";
import { allStrings, isSecretValue, runStack, stubProviderSerialization } from "./helpers/pulumi-mocks";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { seedQuorateCluster } from "./helpers/sim-state";
import { failure } from "./helpers/failure";

const FAST = { connectTimeoutMs: 2000, retries: 1, retryBaseDelayMs: 50 };
/** Commands that change Ceph or a node. */
const MUTATING = /\bpveceph (install|init|mon|mgr|osd|pool|start|stop|purge)\b|\bceph\b.*\b(config set|crush rule create|osd pool set|osd (in|out))\b/;

/** One Proxmox cluster per group, of `size` (default 3) nodes <g>1..<g>N. */
const GROUPS: Record<string, { cluster: string; net: number; size?: number }> = {
  a: { cluster: "alpha", net: 1 },
  b: { cluster: "bravo", net: 2 },
  c: { cluster: "charlie", net: 3 },
  d: { cluster: "delta", net: 4 },
  e: { cluster: "echo", net: 5 },
  f: { cluster: "foxtrot", net: 6 },
  s: { cluster: "sierra", net: 9 },
  // monitor removal
  m: { cluster: "mike", net: 13, size: 4 },
  n: { cluster: "november", net: 14 },
  o: { cluster: "oscar", net: 15, size: 4 },
  // monitors on 3 of 4 nodes, OSDs on all 4
  p: { cluster: "papa", net: 16, size: 4 },
  // a wait loop meeting a deterministic error
  w: { cluster: "whiskey", net: 17 },
};
const members = (g: string) => Array.from({ length: GROUPS[g].size ?? 3 }, (_, i) => `${g}${i + 1}`);
const NODES = Object.keys(GROUPS).flatMap(members);

let sim: SimCluster;

const group = (node: string) => GROUPS[node[0]];
/** Ceph public address of x<i>: 10.<net>.10.<i>; cluster address 10.<net>.20.<i>. */
const pub = (node: string) => `10.${group(node).net}.10.${node.slice(1)}`;
const priv = (node: string) => `10.${group(node).net}.20.${node.slice(1)}`;
const pubNet = (g: string) => `10.${GROUPS[g].net}.10.0/24`;
const clusterNet = (g: string) => `10.${GROUPS[g].net}.20.0/24`;

function spec(name: string, monAddress?: string): CephNodeSpec {
  const n = sim.node(name);
  return {
    connection: { node: name, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST },
    ...(monAddress ? { monAddress } : {}),
  };
}

function inputs(g: string, extra: Partial<CephClusterInputs> = {}): CephClusterInputs {
  return {
    providerVersion: CEPH_CLUSTER_PROVIDER_VERSION,
    nodes: [`${g}1`, `${g}2`, `${g}3`].map((n) => spec(n)),
    sshPrivateKey: sim.clientPrivateKey,
    publicNetwork: pubNet(g),
    clusterNetwork: clusterNet(g),
    cephVersion: "squid",
    repository: "no-subscription",
    connectTimeoutSeconds: 2,
    monQuorumTimeoutSeconds: 10,
    pollIntervalSeconds: 0.1,
    ...extra,
  };
}

function mutating(): string[] {
  return sim
    .commandLog()
    .filter((e) => MUTATING.test(e.command))
    .map((e) => `${e.node}: ${e.command.replace(/^LC_ALL=C /, "")}`);
}

async function create(i: CephClusterInputs): Promise<{ id: string; outs: CephClusterOutputs }> {
  return (await cephClusterProvider.create!(i)) as { id: string; outs: CephClusterOutputs };
}

/** Seed a quorate Proxmox cluster of the group's nodes (what pvecm create/add would leave). */
function formCluster(g: string): void {
  seedQuorateCluster(sim, GROUPS[g].cluster, members(g));
}

beforeAll(async () => {
  sim = await startSimCluster(NODES.map((name) => ({ name, pveVersion: "8.4.14" })));
  for (const name of NODES) sim.setAddresses(name, [sim.node(name).host, pub(name), priv(name)]);
  for (const g of Object.keys(GROUPS)) formCluster(g);
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

describe("a fresh quorate cluster", () => {
  let first: { id: string; outs: CephClusterOutputs };

  it("installs everywhere, inits once, then creates 3 monitors and 3 managers in that order", async () => {
    sim.clearLog();
    first = await create(inputs("a"));
    const log = mutating();
    const installs = log.filter((l) => /pveceph install/.test(l));
    expect(installs.sort()).toEqual(["a1", "a2", "a3"].map((n) => `${n}: pveceph install --repository no-subscription --version squid`));
    expect(log.slice(3)).toEqual([
      "a1: pveceph init --network 10.1.10.0/24 --cluster-network 10.1.20.0/24",
      "a1: pveceph mon create",
      "a2: pveceph mon create",
      "a3: pveceph mon create",
      // the first monitor brought its own manager
      "a2: pveceph mgr create",
      "a3: pveceph mgr create",
    ]);
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.outs.fsid).toBe(first.id);
    expect(first.outs.mons).toEqual([
      { name: "a1", addresses: ["10.1.10.1"], inQuorum: true },
      { name: "a2", addresses: ["10.1.10.2"], inQuorum: true },
      { name: "a3", addresses: ["10.1.10.3"], inQuorum: true },
    ]);
    expect(first.outs.mgrs).toEqual([
      { name: "a1", active: true },
      { name: "a2", active: false },
      { name: "a3", active: false },
    ]);
    expect(first.outs.installed).toEqual(["a1", "a2", "a3"].map((node) => ({ node, release: "squid", version: "19.2.3" })));
    // what the nodes see: one ceph.conf with the networks, the repository file, a healthy monitor map
    const conf = await sim.exec("a3", "cat /etc/pve/ceph.conf");
    expect(conf.stdout).toContain("\tpublic_network = 10.1.10.0/24\n");
    expect(conf.stdout).toContain("\tcluster_network = 10.1.20.0/24\n");
    expect(conf.stdout).toContain("\tmon_host = 10.1.10.1 10.1.10.2 10.1.10.3\n");
    expect((await sim.exec("a2", "cat /etc/apt/sources.list.d/ceph.list")).stdout).toBe(
      "deb http://download.proxmox.com/debian/ceph-squid bookworm no-subscription\n",
    );
    expect(first.outs).not.toHaveProperty("rootPassword");
  });

  it("a second run (update, or create after lost state) performs zero mutating commands", async () => {
    sim.clearLog();
    const again = (await cephClusterProvider.update!(first.id, first.outs, inputs("a"))) as { outs: CephClusterOutputs };
    const lost = await create(inputs("a"));
    expect(mutating()).toEqual([]);
    expect(again.outs.mons).toEqual(first.outs.mons);
    expect(lost.id).toBe(first.id);
    expect(lost.outs.mgrs).toEqual(first.outs.mgrs);
    // it did read: quorum, installed release, ceph.conf, the maps
    const reads = sim.commandLog().map((e) => e.command);
    expect(reads.some((c) => c.includes("pvesh get /cluster/status"))).toBe(true);
    expect(reads.some((c) => c.includes("ceph-mon --version"))).toBe(true);
    expect(reads.some((c) => c.includes("ceph mon dump --conf /etc/pve/ceph.conf --connect-timeout 2 -f json"))).toBe(true);
  });

  it("diff: nothing for the same inputs; other networks or a new monitor node are an update, never a replace", async () => {
    const same = await cephClusterProvider.diff!(first.id, first.outs, inputs("a"));
    expect(same.changes).toBe(false);
    const net = await cephClusterProvider.diff!(first.id, first.outs, inputs("a", { publicNetwork: "10.1.30.0/24" }));
    expect(net).toMatchObject({ changes: true, replaces: [] });
    const unknown = await cephClusterProvider.diff!(first.id, first.outs, inputs("a", { cephVersion: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }));
    expect(unknown.changes).toBe(true);
    // drift in the real state (a monitor gone) asks for an update
    const drifted = { ...first.outs, mons: first.outs.mons.filter((m) => m.name !== "a3") };
    expect((await cephClusterProvider.diff!(first.id, drifted, inputs("a"))).changes).toBe(true);
  });

  it("read reports monitors, managers and networks; a monitor destroyed by hand shows up and is recreated", async () => {
    const r = await cephClusterProvider.read!(first.id, first.outs);
    expect(r.id).toBe(first.id);
    expect(r.props).toMatchObject({ publicNetwork: "10.1.10.0/24", clusterNetwork: "10.1.20.0/24", mons: first.outs.mons });
    expect((await sim.exec("a3", "pveceph mon destroy a3")).code).toBe(0);
    const after = (await cephClusterProvider.read!(first.id, first.outs)).props as CephClusterOutputs;
    expect(after.mons.map((m) => m.name)).toEqual(["a1", "a2"]);
    expect((await cephClusterProvider.diff!(first.id, after, inputs("a"))).changes).toBe(true);
    sim.clearLog();
    const fixed = (await cephClusterProvider.update!(first.id, after, inputs("a"))) as { outs: CephClusterOutputs };
    expect(mutating()).toEqual(["a3: pveceph mon create"]);
    expect(fixed.outs.mons.map((m) => m.name)).toEqual(["a1", "a2", "a3"]);
  });

  it("an existing Ceph is refused when the config names other networks, before anything runs", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("a", { clusterNetwork: undefined })));
    expect(err.message).toContain("Ceph: refusing to change anything");
    expect(err.message).toContain(`Ceph is already initialised (fsid ${first.id}) with cluster network 10.1.20.0/24 (config: 10.1.10.0/24)`);
    expect(mutating()).toEqual([]);
  });

  it("delete leaves Ceph alone and runs nothing", async () => {
    sim.clearLog();
    await cephClusterProvider.delete!(first.id, first.outs);
    expect(sim.commandLog()).toEqual([]);
  });
});

describe("partly there", () => {
  it("a monitor already present on a node is a no-op for that node (no mon, no mgr create there)", async () => {
    // b1 got Ceph by hand: install, init, first monitor (+ its manager)
    for (const cmd of ["pveceph install --repository no-subscription --version squid", `pveceph init --network ${pubNet("b")} --cluster-network ${clusterNet("b")}`, "pveceph mon create"]) {
      const r = await sim.exec("b1", cmd);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
    }
    sim.clearLog();
    const result = await create(inputs("b"));
    expect(mutating().sort()).toEqual(
      [
        "b2: pveceph install --repository no-subscription --version squid",
        "b3: pveceph install --repository no-subscription --version squid",
        "b2: pveceph mon create",
        "b3: pveceph mon create",
        "b2: pveceph mgr create",
        "b3: pveceph mgr create",
      ].sort(),
    );
    expect(result.outs.mons.map((m) => m.name)).toEqual(["b1", "b2", "b3"]);
    expect(result.outs.mgrs.map((m) => m.name)).toEqual(["b1", "b2", "b3"]);
  });

  it("managers default to the monitor nodes; mgrNodes and monNodes narrow them", async () => {
    // c: monitors on c1 and c2 only, a manager only on c1 (the auto one)
    sim.clearLog();
    const r = await create(inputs("c", { monNodes: ["c1", "c2"], mgrNodes: ["c1"] }));
    expect(mutating().filter((l) => /mon create|mgr create/.test(l))).toEqual(["c1: pveceph mon create", "c2: pveceph mon create"]);
    expect(r.outs.mons.map((m) => m.name)).toEqual(["c1", "c2"]);
    expect(r.outs.mgrs.map((m) => m.name)).toEqual(["c1"]);
    expect(r.outs.installed.map((i) => i.release)).toEqual(["squid", "squid", "squid"]);
  });
});

describe("refusing, changing nothing", () => {
  it("refuses when the Proxmox cluster is not quorate, naming it, with nothing run", async () => {
    sim.mutateState((s) => {
      s.nodes.d2.online = false;
      s.nodes.d3.online = false;
    });
    try {
      sim.clearLog();
      const err = await failure(create(inputs("d")));
      expect(err.message).toContain('Proxmox cluster "delta" is not quorate on d1 (offline: d2, d3)');
      expect(mutating()).toEqual([]);
      expect(sim.commandLog().some((e) => /ceph-mon|ceph\.conf/.test(e.command))).toBe(false);
    } finally {
      sim.mutateState((s) => {
        s.nodes.d2.online = true;
        s.nodes.d3.online = true;
      });
    }
  });

  it("refuses an existing Ceph with other networks, naming both, and installs nowhere", async () => {
    for (const cmd of ["pveceph install --repository no-subscription --version squid", "pveceph init --network 10.99.0.0/24", "pveceph mon create --mon-address 10.99.0.1"]) {
      if (cmd.includes("mon create")) sim.setAddresses("d1", [sim.node("d1").host, pub("d1"), priv("d1"), "10.99.0.1"]);
      const r = await sim.exec("d1", cmd);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
    }
    sim.clearLog();
    const err = await failure(create(inputs("d")));
    expect(err.message).toMatch(/Ceph is already initialised \(fsid [0-9a-f-]{36}\) with public network 10\.99\.0\.0\/24 \(config: 10\.4\.10\.0\/24\) and cluster network 10\.99\.0\.0\/24 \(config: 10\.4\.20\.0\/24\)/);
    expect(err.message).toContain("re-running pveceph init would rewrite the networks");
    expect(mutating()).toEqual([]);
    const cephState = sim.readState().ceph as { nodes?: Record<string, { installed?: unknown }> };
    expect(cephState.nodes?.d2?.installed ?? null).toBeNull();
  });

  it("refuses a node that runs another Ceph release", async () => {
    const r = await sim.exec("f2", "pveceph install --repository no-subscription --version reef");
    expect(r.code).toBe(0);
    sim.clearLog();
    const err = await failure(create(inputs("f")));
    expect(err.message).toContain("f2 runs Ceph reef (18.2.7) but cephVersion is squid");
    expect(mutating()).toEqual([]);
  });

  it("refuses a monitor node without a single address in the public network, before installing", async () => {
    sim.setAddresses("f3", [sim.node("f3").host, priv("f3")]);
    sim.setAddresses("f1", [sim.node("f1").host, pub("f1"), "10.6.10.101", priv("f1")]);
    try {
      sim.clearLog();
      const err = await failure(create(inputs("f", { cephVersion: "reef" })));
      expect(err.message).toContain("f3 has no address in the Ceph public network 10.6.10.0/24; add one, or set monAddress for f3");
      expect(err.message).toContain("f1 has several addresses in the Ceph public network 10.6.10.0/24 (10.6.10.1, 10.6.10.101); set monAddress");
      expect(mutating()).toEqual([]);
    } finally {
      sim.setAddresses("f3", [sim.node("f3").host, pub("f3"), priv("f3")]);
      sim.setAddresses("f1", [sim.node("f1").host, pub("f1"), priv("f1")]);
    }
  });

  it("refuses bad inputs before connecting anywhere (check and create)", async () => {
    sim.clearLog();
    const bad = inputs("f", { publicNetwork: "10.6.10.0", cephVersion: "pacific", monNodes: ["f1", "zz9"], nodes: [spec("f1", "10.7.0.1"), spec("f2"), spec("f3")] });
    const checked = await cephClusterProvider.check!({} as CephClusterInputs, bad);
    const reasons = (checked.failures ?? []).map((f) => f.reason);
    expect(reasons).toEqual([
      'publicNetwork "10.6.10.0" is not a network in CIDR notation (e.g. 10.10.10.0/24)',
      'cephVersion "pacific" is not one of quincy, reef, squid, tentacle',
      "monNodes names zz9, which is not in nodes (f1, f2, f3)",
    ]);
    const err = await failure(create(bad));
    expect(err.message).toContain("monNodes names zz9");
    expect(sim.commandLog()).toEqual([]);
    const outside = await cephClusterProvider.check!({} as CephClusterInputs, inputs("f", { nodes: [spec("f1", "10.7.0.1"), spec("f2"), spec("f3")] }));
    expect(outside.failures?.map((f) => f.reason)).toEqual(["f1: monAddress 10.7.0.1 is not in publicNetwork 10.6.10.0/24; a monitor must listen on the public network"]);
    const preview = await cephClusterProvider.check!({} as CephClusterInputs, { ...bad, nodes: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never });
    expect(preview.failures).toEqual([]);
  });
});

describe("monitor addresses on a mesh (ms01: Thunderbolt ring loopbacks)", () => {
  it("passes --mon-address per node and the monitors listen there", async () => {
    // e: public network = the ring's loopback range; every node also has an address in 10.5.10.0/24
    for (const n of ["e1", "e2", "e3"]) sim.setAddresses(n, [sim.node(n).host, pub(n), priv(n), `10.5.255.${80 + Number(n[1])}`]);
    sim.clearLog();
    const i = inputs("e", {
      publicNetwork: "10.5.255.80/28",
      clusterNetwork: "10.5.255.80/28",
      nodes: ["e1", "e2", "e3"].map((n) => spec(n, `10.5.255.${80 + Number(n[1])}`)),
    });
    const r = await create(i);
    expect(mutating().filter((l) => /mon create/.test(l))).toEqual([
      "e1: pveceph mon create --mon-address 10.5.255.81",
      "e2: pveceph mon create --mon-address 10.5.255.82",
      "e3: pveceph mon create --mon-address 10.5.255.83",
    ]);
    expect(r.outs.mons.map((m) => m.addresses[0])).toEqual(["10.5.255.81", "10.5.255.82", "10.5.255.83"]);
    // an existing monitor cannot move
    const moved = { ...i, nodes: [spec("e1", "10.5.255.91"), spec("e2", "10.5.255.82"), spec("e3", "10.5.255.83")] };
    sim.clearLog();
    const err = await failure(create(moved));
    expect(err.message).toContain("e1: its monitor listens on 10.5.255.81 but monAddress is 10.5.255.91; a monitor cannot move");
    expect(mutating()).toEqual([]);
  });
});

describe("planCeph", () => {
  const base = {
    publicNetwork: "10.0.0.0/24",
    cephVersion: "squid",
    nodes: [
      { name: "n1", addresses: ["10.0.0.1"] },
      { name: "n2", addresses: ["10.0.0.2"] },
    ],
    monNodes: ["n1", "n2"],
    mgrNodes: ["n1", "n2"],
    mons: [],
    mgrs: [],
  };

  it("fresh: install everywhere, init, monitors in order, the first monitor's manager is not created again", () => {
    expect(planCeph(base)).toEqual({
      problems: [],
      install: ["n1", "n2"],
      init: true,
      mons: [{ node: "n1", address: undefined }, { node: "n2", address: undefined }],
      autoMgr: "n1",
      mgrs: ["n2"],
      removeMons: [],
    });
  });

  it("network comparison ignores host bits and list order", () => {
    const conf = { fsid: "x", publicNetwork: "10.0.0.7/24", clusterNetwork: "10.0.0.0/24", monHost: [], monSections: [] };
    expect(planCeph({ ...base, conf }).problems).toEqual([]);
  });
});

describe("monitors on 3 of 4 nodes, OSDs on all 4 (the 4th node is a Ceph client on the public network)", () => {
  const P = members("p");
  const MONS = ["p1", "p2", "p3"];
  // What the composition hands the provider: a monitor address for monitor nodes only.
  const specs = () => P.map((n) => spec(n, MONS.includes(n) ? pub(n) : undefined));
  let outs: CephClusterOutputs;

  it("converges: Ceph installed on all 4, monitors (at their addresses) and managers on the 3, none on p4", async () => {
    sim.clearLog();
    outs = (await create(inputs("p", { nodes: specs(), monNodes: MONS }))).outs;
    const log = mutating();
    expect(log.filter((l) => /pveceph install/.test(l)).map((l) => l.split(":")[0]).sort()).toEqual(P);
    expect(log.filter((l) => /pveceph (mon|mgr) create/.test(l))).toEqual([
      "p1: pveceph mon create --mon-address 10.16.10.1",
      "p2: pveceph mon create --mon-address 10.16.10.2",
      "p3: pveceph mon create --mon-address 10.16.10.3",
      "p2: pveceph mgr create",
      "p3: pveceph mgr create",
    ]);
    expect(outs.mons).toEqual(MONS.map((n) => ({ name: n, addresses: [pub(n)], inQuorum: true })));
    expect(outs.mgrs.map((m) => m.name).sort()).toEqual(MONS);
    expect(outs.installed.map((i) => [i.node, i.release])).toEqual(P.map((n) => [n, "squid"]));
  });

  it("p4 reaches the monitors as a client and carries an OSD like the others; a second run changes nothing", async () => {
    const status = await sim.exec("p4", "ceph --conf /etc/pve/ceph.conf -s -f json");
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { quorum_names: string[] }).quorum_names.sort()).toEqual(MONS);
    expect((await sim.exec("p4", "cat /etc/pve/ceph.conf")).stdout).toContain("\tmon_host = 10.16.10.1 10.16.10.2 10.16.10.3\n");

    const osds: Record<string, CephOsdsOutputs> = {};
    for (const n of P) {
      sim.setDisks(n, [{ name: "nvme0n1" }]);
      const node = sim.node(n);
      const r = await cephOsdsProvider.create!({
        providerVersion: CEPH_OSDS_PROVIDER_VERSION,
        connection: { node: n, host: node.host, port: node.port, user: "root", hostKey: node.hostKeyFingerprint, options: FAST },
        sshPrivateKey: sim.clientPrivateKey,
        devices: [{ device: "/dev/nvme0n1", deviceClass: "nvme" }],
        upTimeoutSeconds: 10,
        pollIntervalSeconds: 0.1,
      });
      osds[n] = r.outs as CephOsdsOutputs;
    }
    for (const n of P) expect(osds[n].osds.map((o) => [o.ids.length, o.up])).toEqual([[1, 1]]);
    const tree = JSON.parse((await sim.exec("p1", "ceph osd tree -f json")).stdout) as { nodes: { type: string; name: string }[] };
    expect(tree.nodes.filter((x) => x.type === "host").map((x) => x.name).sort()).toEqual(P);

    sim.clearLog();
    const again = (await create(inputs("p", { nodes: specs(), monNodes: MONS }))).outs;
    expect(mutating()).toEqual([]);
    expect(again.mons).toEqual(outs.mons);
  });

  it("a monitor address on the non-monitor node is refused before anything runs (so the composition must not hand one out)", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("p", { nodes: P.map((n) => spec(n, pub(n))), monNodes: MONS })));
    expect(err.message).toContain("p4: monAddress is set but p4 is not a monitor node (monNodes: p1, p2, p3)");
    expect(mutating()).toEqual([]);
  });
});

describe("monitors dropped from monNodes", () => {
  /** inputs for all of a group's nodes (m and o have 4). */
  const all = (g: string, extra: Partial<CephClusterInputs> = {}) => inputs(g, { nodes: members(g).map((n) => spec(n)), ...extra });
  const names = (outs: CephClusterOutputs) => outs.mons.map((m) => m.name);
  const update = async (id: string, olds: CephClusterOutputs, news: CephClusterInputs) =>
    ((await cephClusterProvider.update!(id, olds, news)) as { outs: CephClusterOutputs }).outs;

  describe("moving a monitor (4 Ceph nodes, monitors m1 m2 m3 → m2 m3 m4)", () => {
    let id: string;
    let moved: CephClusterOutputs;

    it("creates m4's monitor first, waits for it in quorum, then destroys m1's; the quorum holds throughout", async () => {
      const start = await create(all("m", { monNodes: ["m1", "m2", "m3"] }));
      id = start.id;
      expect(names(start.outs)).toEqual(["m1", "m2", "m3"]);
      const news = all("m", { monNodes: ["m2", "m3", "m4"] });
      expect((await cephClusterProvider.diff!(id, start.outs, news)).changes).toBe(true);

      sim.clearLog();
      moved = await update(id, start.outs, news);
      expect(mutating()).toEqual(["m4: pveceph mon create", "m4: pveceph mgr create", "m1: pveceph mon destroy m1"]);
      // the order, on the raw log: the monitor map was read (the quorum wait) between the create and
      // the destroy, and again after the destroy
      const log = sim.commandLog().map((e) => `${e.node}: ${e.command}`);
      const createAt = log.findIndex((l) => l.includes("pveceph mon create"));
      const destroyAt = log.findIndex((l) => l.includes("pveceph mon destroy"));
      expect(createAt).toBeGreaterThanOrEqual(0);
      expect(destroyAt).toBeGreaterThan(createAt);
      expect(log.slice(createAt, destroyAt).some((l) => l.includes("ceph mon dump"))).toBe(true);
      expect(log.slice(destroyAt).some((l) => l.includes("ceph mon dump"))).toBe(true);
      expect(moved.mons).toEqual([
        { name: "m2", addresses: ["10.13.10.2"], inQuorum: true },
        { name: "m3", addresses: ["10.13.10.3"], inQuorum: true },
        { name: "m4", addresses: ["10.13.10.4"], inQuorum: true },
      ]);
      // managers are left alone: m1 keeps its (now standby or active) manager
      expect(moved.mgrs.map((m) => m.name).sort()).toEqual(["m1", "m2", "m3", "m4"]);
      expect((await sim.exec("m2", "cat /etc/pve/ceph.conf")).stdout).toContain("\tmon_host = 10.13.10.2 10.13.10.3 10.13.10.4\n");
    });

    it("a second run (update, or create after lost state) runs no mutating command, and diff sees no change", async () => {
      const news = all("m", { monNodes: ["m2", "m3", "m4"] });
      sim.clearLog();
      const again = await update(id, moved, news);
      const lost = await create(news);
      expect(mutating()).toEqual([]);
      expect(names(again)).toEqual(["m2", "m3", "m4"]);
      expect(names(lost.outs)).toEqual(["m2", "m3", "m4"]);
      expect((await cephClusterProvider.diff!(id, again, news)).changes).toBe(false);
    });

    it("diff: a real monitor on a managed node that monNodes does not list is a change; one on an unmanaged node is not", async () => {
      const news = all("m", { monNodes: ["m2", "m3", "m4"] });
      const extra = { ...moved, mons: [...moved.mons, { name: "m1", addresses: ["10.13.10.1"], inQuorum: true }] };
      expect((await cephClusterProvider.diff!(id, extra, news)).changes).toBe(true);
      const foreign = { ...moved, mons: [...moved.mons, { name: "zz9", addresses: ["10.13.10.99"], inQuorum: true }] };
      expect((await cephClusterProvider.diff!(id, foreign, news)).changes).toBe(false);
    });

    it("refuses, before any change, to remove a monitor while a wanted one is out of quorum, naming it", async () => {
      expect((await sim.exec("m3", "systemctl stop ceph-mon@m3")).code).toBe(0);
      try {
        sim.clearLog();
        const err = await failure(update(id, moved, all("m", { monNodes: ["m1", "m2", "m3"] })));
        expect(err.message).toContain("Ceph: refusing to change anything");
        expect(err.message).toContain("monitor m3 is out of quorum; removing monitor m4 now could cost the Ceph quorum");
        expect(mutating()).toEqual([]);
      } finally {
        expect((await sim.exec("m3", "systemctl start ceph-mon@m3")).code).toBe(0);
      }
    });

    it("re-checks the quorum right before each removal: a wanted monitor that dropped out after the plan stops it, naming it", async () => {
      // m1's monitor is created first; while that pveceph mon create is held up, m3's monitor stops
      sim.injectFault({ node: "m1", match: "pveceph mon create", mode: "slow", seconds: 2 });
      const news = all("m", { monNodes: ["m1", "m2", "m3"] });
      try {
        sim.clearLog();
        const running = failure(update(id, moved, news));
        const deadline = Date.now() + 20_000;
        while (!sim.commandLog().some((e) => e.command.includes("pveceph mon create")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect((await sim.exec("m3", "systemctl stop ceph-mon@m3")).code).toBe(0);
        const err = await running;
        expect(err).toBeInstanceOf(CephClusterError);
        expect(err.message).toBe(
          "m4: refusing to remove monitor m4: wanted monitor(s) m3 not in the Ceph quorum (monitors: m2, m3 (out of quorum), m4, m1); " +
            "removing one now could cost the quorum. Bring m3 back into the quorum and re-run",
        );
        expect(mutating()).toEqual(["m1: pveceph mon create"]);
      } finally {
        sim.clearFaults();
        expect((await sim.exec("m3", "systemctl start ceph-mon@m3")).code).toBe(0);
      }
    });

    it("a destroy that leaves the monitor in the map fails after the timeout naming the node, the step and the map; the next run finishes it", async () => {
      // pveceph mon destroy "succeeds" without doing anything
      sim.injectFault({ node: "m4", match: "pveceph mon destroy", mode: "fail", exitCode: 0, stderr: "" });
      const news = all("m", { monNodes: ["m1", "m2", "m3"], monQuorumTimeoutSeconds: 1 });
      try {
        sim.clearLog();
        const err = await failure(update(id, moved, news));
        expect(err).toBeInstanceOf(CephClusterError);
        expect(err.message).toBe(
          "m4: monitor(s) m4 still in the monitor map within 1 s after pveceph mon destroy m4 on m4 (monitors: m2, m3, m4, m1)",
        );
        // m1's monitor is there from the run before
        expect(mutating()).toEqual(["m4: pveceph mon destroy m4"]);
      } finally {
        sim.clearFaults();
      }
      sim.clearLog();
      const done = await create(news);
      expect(mutating()).toEqual(["m4: pveceph mon destroy m4"]);
      expect(names(done.outs)).toEqual(["m2", "m3", "m1"]);
      expect(done.outs.mons.every((m) => m.inQuorum)).toBe(true);
    });
  });

  it("shrinking from 3 to 2 monitors on 3 Ceph nodes is refused with what to do, and nothing runs", async () => {
    const start = await create(inputs("n"));
    expect(names(start.outs)).toEqual(["n1", "n2", "n3"]);
    sim.clearLog();
    const err = await failure(update(start.id, start.outs, inputs("n", { monNodes: ["n1", "n2"] })));
    expect(err.message).toContain("Ceph: refusing to change anything");
    expect(err.message).toContain(
      "removing monitor n3 would leave 2 monitors (n1, n2) on 3 Ceph nodes; below 3 monitors, losing one stops Ceph (no quorum). " +
        "Keep at least 3 nodes in monNodes (keep n3 or add another node), or, to run with fewer monitors anyway, destroy the monitor by hand",
    );
    expect(mutating()).toEqual([]);
    const after = (await cephClusterProvider.read!(start.id, start.outs)).props as CephClusterOutputs;
    expect(names(after)).toEqual(["n1", "n2", "n3"]);
  });

  describe("a monitor on a node the run cannot use, or does not manage (4 Proxmox nodes, monitors o1..o4)", () => {
    let start: { id: string; outs: CephClusterOutputs };

    beforeAll(async () => {
      start = await create(all("o"));
    }, 120_000);

    it("an extra monitor on an unreachable node is refused naming the node, with nothing run", async () => {
      expect(names(start.outs)).toEqual(["o1", "o2", "o3", "o4"]);
      await sim.stopNode("o4");
      try {
        sim.clearLog();
        const err = await failure(update(start.id, start.outs, all("o", { monNodes: ["o1", "o2", "o3"] })));
        expect(err.message).toContain("Ceph: refusing to change anything");
        expect(err.message).toContain("cannot reach o4: ");
        expect(err.message).toContain(
          "o4 is unreachable but hosts monitor o4, which monNodes no longer lists; it can only be removed by pveceph mon destroy on o4 itself. " +
            "Bring o4 back and re-run, or, if o4 is gone for good, remove the monitor by hand (ceph mon remove o4) and drop o4 from nodes",
        );
        expect(mutating()).toEqual([]);
      } finally {
        await sim.startNode("o4");
      }
    });

    it("the same when the node answers SSH but is offline in the Proxmox cluster", async () => {
      sim.mutateState((s) => {
        s.nodes.o4.online = false;
      });
      try {
        sim.clearLog();
        const err = await failure(update(start.id, start.outs, all("o", { monNodes: ["o1", "o2", "o3"] })));
        expect(err.message).toContain('o4 is not an online member of Proxmox cluster "oscar" as o1 sees it');
        expect(err.message).toContain("o4 is offline but hosts monitor o4, which monNodes no longer lists");
        expect(mutating()).toEqual([]);
      } finally {
        sim.mutateState((s) => {
          s.nodes.o4.online = true;
        });
      }
    });

    it("a monitor on a node that is not in nodes is left alone and reported", async () => {
      const news = inputs("o"); // nodes o1..o3, monitors on them; o4 is not homelab's here
      sim.clearLog();
      const r = await update(start.id, start.outs, news);
      expect(mutating()).toEqual([]);
      expect(r.mons).toEqual(["o1", "o2", "o3", "o4"].map((n) => ({ name: n, addresses: [`10.15.10.${n[1]}`], inQuorum: true })));
      expect((await cephClusterProvider.diff!(start.id, r, news)).changes).toBe(false);
      // and it does not count as drift on a later read either
      const read = (await cephClusterProvider.read!(start.id, r)).props as CephClusterOutputs;
      expect(names(read)).toContain("o4");
      expect((await cephClusterProvider.diff!(start.id, read, news)).changes).toBe(false);
    });
  });
});

describe("planCeph: monitor removal", () => {
  const inQuorum = (name: string, i: number) => ({ name, addresses: [`10.0.0.${i + 1}`], inQuorum: true });
  const four = {
    publicNetwork: "10.0.0.0/24",
    cephVersion: "squid",
    nodes: ["n1", "n2", "n3", "n4"].map((name, i) => ({ name, addresses: [`10.0.0.${i + 1}`], installed: { release: "squid", version: "19.2.3" } })),
    conf: { fsid: "x", publicNetwork: "10.0.0.0/24", monHost: ["10.0.0.1", "10.0.0.2", "10.0.0.3"], monSections: [] },
    monNodes: ["n1", "n2", "n3"],
    mgrNodes: ["n1", "n2", "n3"],
    mons: ["n1", "n2", "n3"].map(inQuorum),
    mgrs: ["n1", "n2", "n3"].map((name) => ({ name, active: name === "n1" })),
  };

  it("nothing to remove when the monitor map is the wanted list", () => {
    expect(planCeph(four)).toMatchObject({ problems: [], mons: [], removeMons: [] });
  });

  it("a move: the new monitor is created, the old one removed", () => {
    const plan = planCeph({ ...four, monNodes: ["n2", "n3", "n4"], mgrNodes: ["n2", "n3", "n4"] });
    expect(plan).toMatchObject({ problems: [], mons: [{ node: "n4" }], removeMons: ["n1"], mgrs: ["n4"] });
  });

  it("5 → 3 monitors: the extras go, in monitor-map order", () => {
    const five = {
      ...four,
      nodes: [...four.nodes, { name: "n5", addresses: ["10.0.0.5"], installed: { release: "squid", version: "19.2.3" } }],
      mons: ["n1", "n2", "n3", "n4", "n5"].map(inQuorum),
    };
    expect(planCeph({ ...five, monNodes: ["n2", "n4", "n5"] })).toMatchObject({ problems: [], mons: [], removeMons: ["n1", "n3"] });
  });

  it("a monitor on a node outside nodes is never removed", () => {
    const plan = planCeph({ ...four, mons: [...four.mons, inQuorum("zz9", 8)] });
    expect(plan).toMatchObject({ problems: [], removeMons: [] });
  });

  it("refuses to go below 3 monitors on 3 or more nodes (unmanaged monitors count: they stay)", () => {
    const plan = planCeph({ ...four, monNodes: ["n1", "n2"] });
    expect(plan.removeMons).toEqual(["n3"]);
    expect(plan.problems).toEqual([
      "removing monitor n3 would leave 2 monitors (n1, n2) on 4 Ceph nodes; below 3 monitors, losing one stops Ceph (no quorum). " +
        "Keep at least 3 nodes in monNodes (keep n3 or add another node), or, to run with fewer monitors anyway, destroy the monitor by hand (pveceph mon destroy <id> on its node) and re-run",
    ]);
    expect(planCeph({ ...four, monNodes: ["n1", "n2"], mons: [...four.mons, inQuorum("zz9", 8)] }).problems).toEqual([]);
  });

  it("allows fewer than 3 monitors on a 2-node cluster", () => {
    const two = { ...four, nodes: four.nodes.slice(0, 2), monNodes: ["n1"], mgrNodes: ["n1"], mons: ["n1", "n2"].map(inQuorum) };
    expect(planCeph(two)).toMatchObject({ problems: [], removeMons: ["n2"] });
  });

  it("refuses a removal while a wanted monitor is out of quorum, naming it; no removal, no refusal", () => {
    const mons = [...four.mons.slice(0, 2), { ...four.mons[2], inQuorum: false }, inQuorum("n4", 3)];
    expect(planCeph({ ...four, mons }).problems).toEqual([
      "monitor n3 is out of quorum; removing monitor n4 now could cost the Ceph quorum. Bring n3 back into the quorum (ceph-mon@<id>.service on its node) and re-run",
    ]);
    // the monitor to remove may itself be out of quorum
    expect(planCeph({ ...four, mons: [...four.mons, { ...inQuorum("n4", 3), inQuorum: false }] }).problems).toEqual([]);
    // no removal planned: an out-of-quorum monitor is not this plan's problem
    expect(planCeph({ ...four, mons: mons.slice(0, 3) }).problems).toEqual([]);
  });
});

describe("serialization", () => {
  it("serializes without secrets or key material, and the serialized provider builds a Ceph cluster", async () => {
    const serialized = serializeProvider("infra/providers/ceph/ceph-cluster.ts", "cephClusterProvider");
    expect(serialized.containsSecrets).toBe(false);
    expect(serialized.text).not.toMatch(/PRIVATE KEY/);
    const provider = serialized.load();
    sim.clearLog();
    const result = (await provider.create!(inputs("s"))) as { id: string; outs: CephClusterOutputs };
    expect(result.outs.mons.map((m) => m.name)).toEqual(["s1", "s2", "s3"]);
    expect(mutating().filter((l) => /pveceph init/.test(l))).toHaveLength(1);
  }, 120_000);
});

describe("CephCluster component (mocks)", () => {
  beforeAll(() => stubProviderSerialization());

  it("wraps one ceph:Cluster resource with a secret key, defaults applied, after the given dependency", async () => {
    const conn = (node: string, host: string) => ({ node, host, port: 22, user: "root", insecureIgnoreHostKey: true });
    const run = await runStack(
      path.join(__dirname, "fixtures", "minimal.yaml"),
      () => {
        class Before extends pulumi.CustomResource {
          constructor(name: string) {
            super("test:index:Before", name, {});
          }
        }
        const before = new Before("pve-cluster");
        const key = pulumi.secret("KEY-MATERIAL");
        const c = new CephCluster(
          "ceph",
          {
            nodes: [
              { access: { connection: conn("n1", "192.0.2.1"), sshPrivateKey: key }, monAddress: "10.0.0.81" },
              { access: { connection: conn("n2", "192.0.2.2"), sshPrivateKey: key } },
              { access: { connection: conn("n3", "192.0.2.3"), sshPrivateKey: key } },
            ],
            publicNetwork: "10.0.0.80/28",
          },
          { dependsOn: [before] },
        );
        return { fsid: c.fsid, mons: c.mons };
      },
      (type, _name, inputs) =>
        type === "pulumi-nodejs:dynamic/ceph:Cluster" ? { ...inputs, fsid: "f5", mons: [{ name: "n1", addresses: ["10.0.0.81"], inQuorum: true }], mgrs: [], installed: [] } : inputs,
    );
    const [component] = run.byType("homelab:ceph:Cluster");
    expect(allStrings(component.rawInputs)).not.toContain("KEY-MATERIAL");
    expect(component.dependsOn.some((u) => u.endsWith("test:index:Before::pve-cluster"))).toBe(true);
    const [res] = run.byType("pulumi-nodejs:dynamic/ceph:Cluster");
    expect(res.name).toBe("ceph-cluster");
    expect(res.parent).toMatch(/\$homelab:ceph:Cluster::ceph$/);
    expect(isSecretValue(res.rawInputs.sshPrivateKey)).toBe(true);
    expect(res.additionalSecretOutputs).toContain("sshPrivateKey");
    // the Ceph resource itself waits for the Proxmox cluster
    expect(res.dependsOn.some((u) => u.endsWith("test:index:Before::pve-cluster"))).toBe(true);
    expect(res.rawInputs).toMatchObject({ cephVersion: "squid", repository: "no-subscription", publicNetwork: "10.0.0.80/28", monQuorumTimeoutSeconds: 120 });
    expect((res.rawInputs.nodes as { monAddress?: string }[]).map((n) => n.monAddress ?? null)).toEqual(["10.0.0.81", null, null]);
    expect(run.outputs).toMatchObject({ fsid: "f5" });
  });

  it("refuses monNodes that are not nodes with a ResourceError naming them", () => {
    const conn = { node: "n1", host: "192.0.2.1", port: 22, user: "root" };
    expect(() => new CephCluster("bad", { nodes: [{ access: { connection: conn } }], publicNetwork: "10.0.0.0/24", monNodes: ["n9"] })).toThrow(
      "monNodes names n9, which is not in nodes (n1)",
    );
  });
});

describe("a wait loop meeting a deterministic error", () => {
  it("stops at once with the command's own error instead of waiting out the quorum timeout", async () => {
    const stderr = "no valid command found; 10 closest matches:\nmon dump [<epoch:int>]\nError EINVAL: invalid command\n";
    sim.injectFault({ node: "w1", match: "mon dump", mode: "fail", exitCode: 22, stderr });
    try {
      const started = Date.now();
      const err = await failure(create(inputs("w", { monQuorumTimeoutSeconds: 60 })));
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(err.message).toBe(
        "w1: ceph mon failed (exit 22): no valid command found; 10 closest matches:\nmon dump [<epoch:int>]\nError EINVAL: invalid command\n" +
          "  command: LC_ALL=C ceph mon dump --conf /etc/pve/ceph.conf --connect-timeout 2 -f json",
      );
      // It stopped on the first failure: one mon dump, no polling.
      expect(sim.commandLog().filter((e) => e.node === "w1" && e.command.includes("mon dump"))).toHaveLength(1);
    } finally {
      sim.clearFaults();
    }
  }, 90_000);
});
