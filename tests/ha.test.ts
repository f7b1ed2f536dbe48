/**
 * The HA providers (ha:Resource, ha:Placement) driven directly against the simulated cluster
 * over real SSH: a PVE 8 cluster (a1..a3, HA groups), a PVE 9 cluster (b1..b3, node-affinity
 * rules) and an upgraded PVE 9 cluster with unmigrated groups (c1, c2). The clusters are seeded
 * in the fakes' state; guests via sim.addGuest. The command log shows only what providers ran.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HA_PROVIDER_VERSION,
  HaPlacementInputs,
  HaPlacementOutputs,
  HaResourceInputs,
  HaResourceOutputs,
  haPlacementProvider,
  haResourceProvider,
} from "../infra/providers/proxmox/ha";
import { withSession } from "../infra/ssh";
import { sshOptions, sshTarget } from "../infra/providers/connection";
import { checkHaPlacement } from "../scripts/homelab/verify/ha-plan";
import { collectHaSnapshot } from "../scripts/homelab/verify/ha";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

/** Commands that change HA config. */
const MUTATING = /ha-manager (add|set|remove|groupadd|groupset|groupremove|rules (add|set|remove))\b/;

let sim: SimCluster;

function resIn(node: string, vmid: number, extra: Partial<HaResourceInputs> = {}): HaResourceInputs {
  return { ...simConnection(sim, node), providerVersion: HA_PROVIDER_VERSION, vmid, state: "started", maxRestart: 2, maxRelocate: 1, ...extra };
}

function placeIn(node: string, name: string, resources: string[], extra: Partial<HaPlacementInputs> = {}): HaPlacementInputs {
  return {
    ...simConnection(sim, node),
    providerVersion: HA_PROVIDER_VERSION,
    name,
    nodes: [{ node: `${node[0]}1`, priority: 2 }, { node: `${node[0]}2`, priority: 1 }],
    strict: true,
    nofailback: false,
    resources,
    ...extra,
  };
}

function mutating(): string[] {
  return sim.commandLog().map((e) => e.command).filter((c) => MUTATING.test(c));
}

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  sim = await startSimCluster([
    { name: "a1" },
    { name: "a2" },
    { name: "a3" },
    { name: "b1", pveVersion: "9.1.1" },
    { name: "b2", pveVersion: "9.1.1" },
    { name: "b3", pveVersion: "9.1.1" },
    { name: "c1", pveVersion: "9.0.5" },
    { name: "c2", pveVersion: "9.0.5" },
  ]);
  seedQuorateCluster(sim, "eight", ["a1", "a2", "a3"]);
  seedQuorateCluster(sim, "nine", ["b1", "b2", "b3"]);
  seedQuorateCluster(sim, "upgraded", ["c1", "c2"]);
  sim.mutateState((st) => {
    // an upgraded PVE 9 cluster whose HA groups were not migrated yet
    st.ha = { upgraded: { resources: {}, groups: { old: { group: "old", nodes: "c1" } }, rules: {} } };
  });
  sim.addGuest("a1", 100, "web", { status: "running" });
  sim.addGuest("a2", 101, "db", { status: "running" });
  sim.addGuest("b1", 200, "web", { status: "running" });
  sim.addGuest("b2", 201, "db", { status: "running" });
  sim.addGuest("c1", 300, "app", { status: "running" });
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("PVE 8 cluster: HA group", () => {
  let r100: HaResourceOutputs;
  let place: HaPlacementOutputs;

  it("creates the HA resources and the group once", async () => {
    sim.clearLog();
    r100 = (await haResourceProvider.create!(resIn("a1", 100))).outs!;
    await haResourceProvider.create!(resIn("a1", 101, { maxRestart: 1 }));
    const created = await haPlacementProvider.create!(placeIn("a1", "web", ["vm:100", "vm:101"]));
    place = created.outs!;
    expect(created.id).toBe("web");
    expect(place.mode).toBe("group");
    expect(place.pveMajor).toBe(8);
    expect(mutating()).toEqual([
      "LC_ALL=C ha-manager add vm:100 --state started --max_restart 2 --max_relocate 1",
      "LC_ALL=C ha-manager add vm:101 --state started --max_restart 1 --max_relocate 1",
      "LC_ALL=C ha-manager groupadd web --nodes a1:2,a2:1 --restricted 1 --nofailback 0",
      "LC_ALL=C ha-manager set vm:100 --group web",
      "LC_ALL=C ha-manager set vm:101 --group web",
    ].map((c) => expect.stringContaining(c.replace(/^LC_ALL=C /, ""))));
    const groups = JSON.parse(await sh("a2", "pvesh get /cluster/ha/groups --output-format json"));
    expect(groups).toMatchObject([{ group: "web", nodes: "a1:2,a2:1", restricted: 1, nofailback: 0 }]);
    const resources = JSON.parse(await sh("a3", "pvesh get /cluster/ha/resources --output-format json"));
    expect(resources.map((r: { sid: string; group: string }) => [r.sid, r.group])).toEqual([["vm:100", "web"], ["vm:101", "web"]]);
  });

  it("second run (lost state): zero mutating commands", async () => {
    sim.clearLog();
    await haResourceProvider.create!(resIn("a1", 100));
    await haResourceProvider.create!(resIn("a1", 101, { maxRestart: 1 }));
    await haPlacementProvider.create!(placeIn("a1", "web", ["vm:100", "vm:101"]));
    expect(sim.commandLog().length).toBeGreaterThan(0);
    expect(mutating()).toEqual([]);
  });

  it("read shows resource drift; update fixes it with one ha-manager set", async () => {
    await sh("a2", "ha-manager set vm:100 --max_restart 5 --state stopped");
    const read = await haResourceProvider.read!("vm:100", r100);
    expect(read.props).toMatchObject({ maxRestart: 5, state: "stopped" });
    const want = resIn("a1", 100);
    const diff = await haResourceProvider.diff!("vm:100", read.props as HaResourceOutputs, want);
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual([]);
    sim.clearLog();
    await haResourceProvider.update!("vm:100", read.props as HaResourceOutputs, want);
    expect(mutating()).toEqual([expect.stringContaining("ha-manager set vm:100 --state started --max_restart 2")]);
    expect((await haResourceProvider.read!("vm:100", r100)).props).toMatchObject({ maxRestart: 2, state: "started" });
  });

  it("read shows group drift; update runs groupset", async () => {
    await sh("a3", "ha-manager groupset web --nodes a3 --restricted 0");
    const read = await haPlacementProvider.read!("web", place);
    expect(read.props).toMatchObject({ nodes: [{ node: "a3" }], strict: false });
    const want = placeIn("a1", "web", ["vm:100", "vm:101"]);
    expect((await haPlacementProvider.diff!("web", read.props as HaPlacementOutputs, want)).changes).toBe(true);
    sim.clearLog();
    await haPlacementProvider.update!("web", read.props as HaPlacementOutputs, want);
    expect(mutating()).toEqual([expect.stringContaining("ha-manager groupset web --nodes a1:2,a2:1 --restricted 1 --nofailback 0")]);
  });

  it("verify: every HA resource runs where its group allows, and a misplaced one is reported", async () => {
    const snap = async () => withSession(sshTarget(simConnection(sim, "a1")), (s) => collectHaSnapshot(s), sshOptions(simConnection(sim, "a1")));
    const ok = checkHaPlacement(await snap());
    expect(ok.map((c) => [c.sid, c.node, c.ok])).toEqual([["vm:100", "a1", true], ["vm:101", "a2", true]]);
    sim.mutateState((st) => {
      st.nodes.a3.guests["101"] = st.nodes.a2.guests["101"];
      delete st.nodes.a2.guests["101"];
    });
    try {
      const bad = checkHaPlacement(await snap()).find((c) => c.sid === "vm:101");
      expect(bad?.ok).toBe(false);
      expect(bad?.reason).toMatch(/vm:101 runs on a3, but group web allows only a1, a2/);
    } finally {
      sim.mutateState((st) => {
        st.nodes.a2.guests["101"] = st.nodes.a3.guests["101"];
        delete st.nodes.a3.guests["101"];
      });
    }
  });

  it("missing VM: a clear error naming the VMID, nothing created", async () => {
    sim.clearLog();
    await expect(haResourceProvider.create!(resIn("a1", 999))).rejects.toThrow(/a1: cannot make VM 999 highly available: VM 999 \(vm:999\) does not exist/);
    const resources = JSON.parse(await sh("a1", "pvesh get /cluster/ha/resources --output-format json"));
    expect(resources.map((r: { sid: string }) => r.sid)).not.toContain("vm:999");
  });

  it("a placement naming a VM that is not an HA resource is refused before any change", async () => {
    sim.clearLog();
    await expect(haPlacementProvider.create!(placeIn("a1", "other", ["vm:100", "vm:555"]))).rejects.toThrow(/a1: HA placement other: vm:555 is not an HA resource; create the HA resources before the placement/);
    expect(mutating()).toEqual([]);
  });

  it("delete removes the group (after clearing membership) and the resources", async () => {
    sim.clearLog();
    await haPlacementProvider.delete!("web", place);
    await haResourceProvider.delete!("vm:100", r100);
    await haResourceProvider.delete!("vm:101", { ...r100, vmid: 101, sid: "vm:101" });
    expect(JSON.parse(await sh("a1", "pvesh get /cluster/ha/groups --output-format json"))).toEqual([]);
    expect(JSON.parse(await sh("a1", "pvesh get /cluster/ha/resources --output-format json"))).toEqual([]);
    expect((await haPlacementProvider.read!("web", place)).id).toBe("");
    expect((await haResourceProvider.read!("vm:100", r100)).id).toBe("");
    // deleting again is a no-op
    sim.clearLog();
    await haPlacementProvider.delete!("web", place);
    await haResourceProvider.delete!("vm:100", r100);
    expect(mutating()).toEqual([]);
  });
});

describe("PVE 9 cluster: node-affinity rule", () => {
  let place: HaPlacementOutputs;

  it("uses a node-affinity rule, never --group", async () => {
    sim.clearLog();
    await haResourceProvider.create!(resIn("b1", 200));
    await haResourceProvider.create!(resIn("b1", 201));
    place = (await haPlacementProvider.create!(placeIn("b1", "web", ["vm:201", "vm:200"], { nofailback: true }))).outs!;
    expect(place.mode).toBe("rule");
    expect(place.pveMajor).toBe(9);
    const cmds = mutating();
    expect(cmds.some((c) => c.includes("--group"))).toBe(false);
    expect(cmds.some((c) => /groupadd|groupset/.test(c))).toBe(false);
    expect(cmds).toContainEqual(expect.stringContaining("ha-manager rules add node-affinity web --resources vm:200,vm:201 --nodes b1:2,b2:1 --strict 1"));
    expect(cmds).toContainEqual(expect.stringContaining("ha-manager set vm:200 --failback 0"));
    const rules = JSON.parse(await sh("b3", "ha-manager rules config --output-format json"));
    expect(rules).toMatchObject([{ rule: "web", type: "node-affinity", resources: "vm:200,vm:201", nodes: "b1:2,b2:1", strict: 1 }]);
  });

  it("second run: zero mutating commands", async () => {
    sim.clearLog();
    await haResourceProvider.create!(resIn("b1", 200));
    await haResourceProvider.create!(resIn("b1", 201));
    await haPlacementProvider.create!(placeIn("b1", "web", ["vm:200", "vm:201"], { nofailback: true }));
    expect(mutating()).toEqual([]);
  });

  it("rule drift is shown by read and fixed by update (rules set)", async () => {
    await sh("b2", "ha-manager rules set node-affinity web --resources vm:200 --strict 0");
    const read = await haPlacementProvider.read!("web", place);
    expect(read.props).toMatchObject({ resources: ["vm:200"], strict: false });
    const want = placeIn("b1", "web", ["vm:200", "vm:201"], { nofailback: true });
    expect((await haPlacementProvider.diff!("web", read.props as HaPlacementOutputs, want)).changes).toBe(true);
    sim.clearLog();
    await haPlacementProvider.update!("web", read.props as HaPlacementOutputs, want);
    expect(mutating()).toEqual([expect.stringContaining("ha-manager rules set node-affinity web --resources vm:200,vm:201 --nodes b1:2,b2:1 --strict 1")]);
  });

  it("groups endpoints fail on PVE 9 as documented (fake fidelity)", async () => {
    const r = await sim.exec("b1", "ha-manager groupadd g --nodes b1");
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("cannot create group: ha groups have been migrated to rules");
    const add = await sim.exec("b1", "ha-manager add vm:200");
    expect(add.code).toBe(255);
    expect(add.stderr).toContain("create resource failed: resource ID 'vm:200' already defined");
    const grouped = await sim.exec("b1", "ha-manager set vm:200 --group web");
    expect(grouped.code).toBe(255);
    expect(grouped.stderr).toContain("invalid parameter 'group': ha groups have been migrated to rules");
    const listed = await sim.exec("b1", "pvesh get /cluster/ha/groups --output-format json");
    expect([listed.code, listed.stderr.trim()]).toEqual([255, "cannot index groups: ha groups have been migrated to rules"]);
  });

  it("verify reports resources inside the strict rule", async () => {
    const conn = simConnection(sim, "b1");
    const checks = checkHaPlacement(await withSession(sshTarget(conn), (s) => collectHaSnapshot(s), sshOptions(conn)));
    expect(checks.map((c) => [c.sid, c.node, c.ok])).toEqual([["vm:200", "b1", true], ["vm:201", "b2", true]]);
  });

  it("delete removes the rule and restores failback", async () => {
    sim.clearLog();
    await haPlacementProvider.delete!("web", place);
    expect(mutating()).toEqual([
      expect.stringContaining("ha-manager rules remove web"),
      expect.stringContaining("ha-manager set vm:200 --failback 1"),
      expect.stringContaining("ha-manager set vm:201 --failback 1"),
    ]);
    expect(JSON.parse(await sh("b1", "ha-manager rules config --output-format json"))).toEqual([]);
  });
});

describe("upgraded PVE 9 cluster with unmigrated groups", () => {
  it("keeps using HA groups", async () => {
    await haResourceProvider.create!(resIn("c1", 300));
    sim.clearLog();
    const out = (await haPlacementProvider.create!(placeIn("c1", "app", ["vm:300"]))).outs!;
    expect(out.mode).toBe("group");
    expect(mutating().some((c) => c.includes("rules add"))).toBe(false);
    expect(mutating()).toContainEqual(expect.stringContaining("ha-manager groupadd app"));
    const r = await sim.exec("c1", "ha-manager rules add node-affinity x --resources vm:300 --nodes c1");
    expect(r.stderr).toContain("cannot create ha rule: ha groups have not been migrated yet");
  });
});

describe("quorum", () => {
  it("without quorum the command's error names the node and the command; nothing changes", async () => {
    sim.mutateState((st) => {
      st.clusters.upgraded.expectedVotes = 5;
    });
    try {
      sim.clearLog();
      await expect(haResourceProvider.create!(resIn("c2", 300, { maxRestart: 4 }))).rejects.toThrow(
        /c2: ha-manager set failed \(exit 255\): cluster not ready - no quorum\?/,
      );
      const resources = JSON.parse(await sh("c1", "pvesh get /cluster/ha/resources --output-format json"));
      expect(resources).toMatchObject([{ sid: "vm:300", max_restart: 2 }]);
    } finally {
      sim.mutateState((st) => {
        st.clusters.upgraded.expectedVotes = null;
      });
    }
  });
});

describe("serialization", () => {
  for (const exportName of ["haResourceProvider", "haPlacementProvider"]) {
    it(`${exportName} serializes without secrets and runs create from the serialized text`, async () => {
      const s = serializeProvider("infra/providers/proxmox/ha.ts", exportName);
      expect(s.containsSecrets).toBe(false);
      expect(s.text).not.toContain("PRIVATE KEY");
      const p = s.load();
      sim.clearLog();
      if (exportName === "haResourceProvider") {
        const r = await p.create!(resIn("a1", 100, { maxRestart: 3 }));
        expect(r.id).toBe("vm:100");
        expect(mutating()).toEqual([expect.stringContaining("ha-manager add vm:100 --state started --max_restart 3")]);
      } else {
        const r = await p.create!(placeIn("a1", "ser", ["vm:100"]));
        expect(r.id).toBe("ser");
        expect(mutating()).toContainEqual(expect.stringContaining("ha-manager groupadd ser"));
      }
    }, 60_000);
  }
});
