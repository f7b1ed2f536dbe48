/**
 * The Ceph pool provider driven directly (check/create/read/diff/update/delete)
 * against the simulated cluster over real SSH. The Proxmox cluster, the Ceph
 * base and one NVMe OSD per node are set up directly in the fakes' state and
 * with unlogged `sim.exec` calls, so the command log only shows what the
 * provider ran.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CEPH_POOL_PROVIDER_VERSION,
  CephPoolInputs,
  CephPoolOutputs,
  cephPoolProvider,
  poolChanges,
  poolDiffKeys,
  poolInputProblems,
  poolWant,
} from "../infra/providers/ceph/ceph-pool";
import { parseCrushRules, parsePveCephPoolLs } from "../infra/parse/ceph-osd";
import { CEPH_OSDS_TYPE, CephOsds } from "../components/ceph-osds";
import { CephPools, cephPoolsProblems } from "../components/ceph-pools";
import { CephPoolSchema } from "../stacks/schema";
import { allStrings, isSecretValue, runStack, settled } from "./helpers/pulumi-mocks";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { failure } from "./helpers/failure";
import { seedQuorateCluster } from "./helpers/sim-state";

const FAST = { connectTimeoutMs: 3000, retries: 1, retryBaseDelayMs: 50 };
const NODES = ["p1", "p2", "p3"];
/** Commands that change pools, rules, config or storages. */
const MUTATING = /pveceph pool (create|set|destroy)|crush rule (create|rm)|config set|pvesm (add|remove)|pvesh (create|set|delete)|osd pool (set|rename|delete)/;

let sim: SimCluster;

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A quorate PVE cluster, Ceph installed and initialised, a monitor and one NVMe OSD on each node. */
async function cephWithOsds(names: string[]): Promise<void> {
  seedQuorateCluster(sim, "lab", names);
  // Each node also has an address in the Ceph network.
  sim.mutateState((st) => names.forEach((n, i) => (st.nodes[n].addresses = [st.nodes[n].ip, `10.10.0.${i + 1}`])));
  for (const n of names) await sh(n, "pveceph install --repository no-subscription --version squid </dev/null");
  await sh(names[0], "pveceph init --network 10.10.0.0/24");
  for (const n of names) {
    await sh(n, "pveceph mon create");
    sim.setDisks(n, [{ name: "nvme0n1" }]);
    await sh(n, "pveceph osd create /dev/nvme0n1 --crush-device-class nvme");
  }
}

function inputs(name: string, extra: Partial<CephPoolInputs> = {}): CephPoolInputs {
  const n = sim.node("p1");
  return {
    providerVersion: CEPH_POOL_PROVIDER_VERSION,
    connection: { node: "p1", host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST },
    sshPrivateKey: sim.clientPrivateKey,
    name,
    // Fixed PGs unless a test says otherwise (what a pool with pgNum resolves to in the schema).
    size: 3,
    minSize: 2,
    pgNum: 128,
    autoscale: false,
    application: "rbd",
    addStorage: false,
    osdHosts: 3,
    ...extra,
  };
}

const VM_SSD = (): CephPoolInputs => inputs("vm_ssd", { pgNum: 128, deviceClass: "nvme", addStorage: true });
const VM_CONTAINERS = (): CephPoolInputs => inputs("vm_containers", { pgNum: 64, addStorage: true });

function mutating(): string[] {
  return sim
    .commandLog()
    .filter((e) => MUTATING.test(e.command))
    .map((e) => e.command);
}

async function create(i: CephPoolInputs): Promise<CephPoolOutputs> {
  return ((await cephPoolProvider.create!(i)) as { outs: CephPoolOutputs }).outs;
}

async function livePool(name: string) {
  return parsePveCephPoolLs(await sh("p1", "pveceph pool ls --output-format json"), "p1").find((p) => p.name === name);
}

async function rbdStorages(): Promise<string[]> {
  const list = JSON.parse(await sh("p1", "pvesh get /storage --output-format json")) as { storage: string; type: string }[];
  return list.filter((s) => s.type === "rbd").map((s) => s.storage);
}

beforeAll(async () => {
  sim = await startSimCluster(NODES.map((name) => ({ name })));
  await cephWithOsds(NODES);
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

describe("validation before any command", () => {
  it("size 3 with 2 OSD hosts is refused, naming the pool", async () => {
    const i = inputs("vm_ssd", { osdHosts: 2 });
    expect(poolInputProblems(i)).toEqual([`ceph pool "vm_ssd": size 3 needs 3 hosts with OSDs, but only 2 have them; lower size or add OSD hosts`]);
    const r = await cephPoolProvider.check!({} as CephPoolInputs, i);
    expect(r.failures).toEqual([{ property: "name", reason: expect.stringContaining(`ceph pool "vm_ssd": size 3 needs 3 hosts`) }]);
    sim.clearLog();
    const err = await failure(create(i));
    expect(err.message).toContain(`ceph pool "vm_ssd": size 3 needs 3 hosts with OSDs, but only 2 have them`);
    expect(sim.commandLog()).toEqual([]);
  });

  it("min_size above size, and size 1 without allowSingleReplica, are refused", () => {
    expect(poolInputProblems(inputs("a", { size: 2, minSize: 3 }))).toEqual([`ceph pool "a": minSize 3 is larger than size 2; min_size must be ≤ size`]);
    expect(poolInputProblems(inputs("b", { size: 1, minSize: 1 }))[0]).toMatch(/ceph pool "b": size 1 keeps a single copy of the data; set allowSingleReplica: true/);
    expect(poolInputProblems(inputs("b", { size: 1, minSize: 1, allowSingleReplica: true, osdHosts: 1 }))).toEqual([]);
  });

  it("re-checks live: a device class without enough hosts is refused before any change", async () => {
    sim.clearLog();
    const err = await failure(create(inputs("vm_hdd", { deviceClass: "hdd" })));
    expect(err.message).toMatch(/ceph pool "vm_hdd": size 3 needs 3 hosts with OSDs of class hdd, but Ceph has 0 \(none\)/);
    expect(mutating()).toEqual([]);
  });
});

describe("pools vm_ssd and vm_containers", () => {
  let ssd: CephPoolOutputs;
  let containers: CephPoolOutputs;

  it("creates both with their settings, a CRUSH rule for nvme and RBD storages", async () => {
    sim.clearLog();
    ssd = await create(VM_SSD());
    containers = await create(VM_CONTAINERS());
    const m = mutating();
    expect(m).toHaveLength(3);
    expect(m[0]).toMatch(/osd crush rule create-replicated replicated_nvme default host nvme$/);
    expect(m[1]).toMatch(/pveceph pool create vm_ssd --size 3 --min_size 2 --pg_autoscale_mode warn --application rbd --crush_rule replicated_nvme --pg_num 128 --add_storages 1$/);
    expect(m[2]).toMatch(/pveceph pool create vm_containers .*--crush_rule replicated_rule --pg_num 64 --add_storages 1$/);
    expect(ssd.actual).toMatchObject({ size: 3, minSize: 2, pgNum: 128, application: "rbd", crushRule: "replicated_nvme" });
    expect(containers.actual).toMatchObject({ size: 3, minSize: 2, pgNum: 64, application: "rbd", crushRule: "replicated_rule" });
    expect(ssd.storages).toEqual(["vm_ssd"]);
    expect(await rbdStorages()).toEqual(["vm_ssd", "vm_containers"]);
    const rules = parseCrushRules(await sh("p1", "ceph osd crush rule dump -f json"), "p1");
    expect(rules.find((r) => r.name === "replicated_nvme")).toMatchObject({ deviceClass: "nvme", failureDomain: "host" });
  });

  it("a second run performs zero mutating commands", async () => {
    sim.clearLog();
    await create(VM_SSD());
    await create(VM_CONTAINERS());
    await cephPoolProvider.update!("vm_ssd", ssd, VM_SSD());
    expect(sim.commandLog().length).toBeGreaterThan(0);
    expect(mutating()).toEqual([]);
    expect((await cephPoolProvider.diff!("vm_ssd", ssd, VM_SSD())).changes).toBe(false);
  });

  it("a pool changed by hand shows as drift and the update sets it back with pveceph pool set", async () => {
    await sh("p1", "pveceph pool set vm_containers --pg_num 32 --size 2");
    const r = await cephPoolProvider.read!("vm_containers", containers);
    const refreshed = r.props as CephPoolOutputs;
    expect(refreshed.actual).toMatchObject({ size: 2, pgNum: 32 });
    const d = await cephPoolProvider.diff!("vm_containers", refreshed, VM_CONTAINERS());
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    // Ceph lowers min_size with size (2 - 2/2 = 1), so min_size drifted too.
    expect(refreshed.actual.minSize).toBe(1);
    expect(poolDiffKeys(refreshed, VM_CONTAINERS()).sort()).toEqual(["minSize", "pgNum", "size"]);
    sim.clearLog();
    const u = (await cephPoolProvider.update!("vm_containers", refreshed, VM_CONTAINERS())) as { outs: CephPoolOutputs };
    expect(mutating()).toEqual([expect.stringMatching(/pveceph pool set vm_containers --size 3 --min_size 2 --pg_num 64$/)]);
    expect(u.outs.actual).toMatchObject({ size: 3, minSize: 2, pgNum: 64 });
    expect(await livePool("vm_containers")).toMatchObject({ size: 3, minSize: 2, pgNum: 64 });
  });

  it("a changed input (pg_num, autoscale) is an update applied with pveceph pool set", async () => {
    const news = { ...VM_SSD(), autoscale: true };
    const d = await cephPoolProvider.diff!("vm_ssd", ssd, news);
    expect(d).toMatchObject({ changes: true, replaces: [] });
    expect(poolDiffKeys(ssd, news)).toEqual(["autoscale"]);
    sim.clearLog();
    const u = (await cephPoolProvider.update!("vm_ssd", ssd, news)) as { outs: CephPoolOutputs };
    expect(mutating()).toEqual([expect.stringMatching(/pveceph pool set vm_ssd --pg_autoscale_mode on$/)]);
    expect(u.outs.actual.pgAutoscaleMode).toBe("on");
    ssd = u.outs;
  });

  it("a rename is refused without allowDataLoss, and is a replacement with it", async () => {
    const renamed = { ...VM_SSD(), name: "vm_fast" };
    const c = await cephPoolProvider.check!(VM_SSD(), renamed);
    expect(c.failures).toEqual([{ property: "name", reason: expect.stringContaining(`ceph pool "vm_ssd": renaming it to "vm_fast" means destroying the pool`) }]);
    const err = await failure(cephPoolProvider.diff!("vm_ssd", ssd, renamed));
    expect(err.message).toMatch(/refused\. Set allowDataLoss: true/);
    const allowed = await cephPoolProvider.diff!("vm_ssd", ssd, { ...renamed, allowDataLoss: true });
    expect(allowed).toMatchObject({ changes: true, replaces: ["name"] });
  });
});

describe("existing pool with other settings (lost state)", () => {
  it("create adopts it and applies only the differences", async () => {
    await sh("p1", "pveceph pool create legacy --size 2 --min_size 1 --pg_num 32");
    sim.clearLog();
    const outs = await create(inputs("legacy", { pgNum: 64, addStorage: false }));
    expect(mutating()).toEqual([expect.stringMatching(/pveceph pool set legacy --size 3 --min_size 2 --pg_num 64$/)]);
    expect(outs.actual).toMatchObject({ size: 3, minSize: 2, pgNum: 64 });
  });

  it("a pool that exists without its storage gets only the storage", async () => {
    sim.clearLog();
    const outs = await create(inputs("legacy", { pgNum: 64, addStorage: true }));
    expect(mutating()).toEqual([expect.stringMatching(/pvesh create \/storage --storage legacy --type rbd --pool legacy --content rootdir,images --krbd 0 --output-format json$/)]);
    expect(outs.storages).toEqual(["legacy"]);
    sim.clearLog();
    await create(inputs("legacy", { pgNum: 64, addStorage: true }));
    expect(mutating()).toEqual([]);
  });
});

describe("pveceph pool create exits 0 on failure", () => {
  it("a pool missing afterwards is an error quoting the task's stderr, naming node and command", async () => {
    sim.injectFault({ node: "p1", match: "pveceph pool create", mode: "fail-once", exitCode: 0, stderr: "Could not set: pg_num" });
    const err = await failure(create(inputs("broken", { pgNum: 32 })));
    sim.clearFaults();
    expect(err.message).toBe(
      'p1: ceph pool "broken" does not exist after pveceph pool create\n' +
        "  p1: pveceph pool create broken --size 3 --min_size 2 --pg_autoscale_mode warn --application rbd --crush_rule replicated_rule --pg_num 32 (exit 0):\n" +
        "    Could not set: pg_num",
    );
  });
});

describe("two pools of one device class created at the same moment", () => {
  it("both succeed and share one CRUSH rule, although one create-replicated lost the race (EEXIST)", async () => {
    const setWindow = (ms: number) =>
      sim.mutateState((st) => {
        const c = (st.ceph ??= {}) as { sim?: Record<string, number> };
        c.sim = { ...(c.sim ?? {}), crushProposeMs: ms };
      });
    setWindow(1500);
    sim.clearLog();
    try {
      const rule = { deviceClass: "nvme", crushRule: "replicated_nvme_shared" };
      const [a, b] = await Promise.all([create(inputs("race_a", { pgNum: 32, ...rule })), create(inputs("race_b", { pgNum: 32, ...rule }))]);
      expect([a.actual.crushRule, b.actual.crushRule]).toEqual(["replicated_nvme_shared", "replicated_nvme_shared"]);
    } finally {
      setWindow(0);
    }
    // Both ran the create (the race was real), and Ceph holds the rule once.
    expect(mutating().filter((c) => c.includes("crush rule create-replicated replicated_nvme_shared"))).toHaveLength(2);
    const rules = parseCrushRules(await sh("p1", "ceph osd crush rule dump -f json"), "p1");
    expect(rules.filter((r) => r.name === "replicated_nvme_shared")).toEqual([expect.objectContaining({ deviceClass: "nvme" })]);
  }, 60_000);
});

describe("single replica", () => {
  it("with allowSingleReplica sets the two config options once and creates a size-1 pool", async () => {
    sim.clearLog();
    const i = inputs("scratch", { size: 1, minSize: 1, pgNum: 8, allowSingleReplica: true });
    const outs = await create(i);
    const m = mutating();
    expect(m[0]).toMatch(/config set global mon_allow_pool_size_one true$/);
    expect(m[1]).toMatch(/config set global osd_crush_chooseleaf_type 0$/);
    expect(m[2]).toMatch(/pveceph pool create scratch --size 1 --min_size 1/);
    expect(outs.actual).toMatchObject({ size: 1, minSize: 1 });
    sim.clearLog();
    await create(i);
    expect(mutating()).toEqual([]);
  });
});

describe("a pool as the stack schema resolves it, with neither pgNum nor autoscale", () => {
  it("is created with the autoscaler on, no pg_num, and its RBD storage; a second create runs nothing", async () => {
    const pool = CephPoolSchema.parse({ name: "vm_auto" });
    expect(pool).toMatchObject({ autoscale: true, addStorage: true, size: 3, minSize: 2, application: "rbd" });
    expect(pool.pgNum).toBeUndefined();
    const i = inputs("vm_auto", { ...pool, pgNum: pool.pgNum });
    sim.clearLog();
    const outs = await create(i);
    expect(mutating()).toEqual([
      expect.stringMatching(/pveceph pool create vm_auto --size 3 --min_size 2 --pg_autoscale_mode on --application rbd --crush_rule replicated_rule --add_storages 1$/),
    ]);
    expect(outs.actual.pgAutoscaleMode).toBe("on");
    expect(await rbdStorages()).toContain("vm_auto");
    sim.clearLog();
    await create(i);
    expect(mutating()).toEqual([]);
  });

  it("refuses autoscale off without pgNum, and sizes pveceph does not accept (above 7)", () => {
    expect(poolInputProblems(inputs("x", { autoscale: false, pgNum: undefined }))).toEqual([`ceph pool "x": pgNum is required when autoscale is off`]);
    expect(poolInputProblems(inputs("x", { size: 8, osdHosts: 8 }))).toEqual([`ceph pool "x": size 8 must be a whole number from 1 to 7`]);
  });
});

describe("delete", () => {
  it("leaves the pool alone by default; destroyOnDelete destroys it and its storage", async () => {
    const outs = await create(inputs("tmp_pool", { pgNum: 16, addStorage: true }));
    sim.clearLog();
    await cephPoolProvider.delete!("tmp_pool", outs);
    expect(mutating()).toEqual([]);
    expect(await livePool("tmp_pool")).toBeDefined();
    await cephPoolProvider.delete!("tmp_pool", { ...outs, destroyOnDelete: true });
    expect(mutating()).toEqual([expect.stringMatching(/pveceph pool destroy tmp_pool --remove_storages 1$/)]);
    expect(await livePool("tmp_pool")).toBeUndefined();
    expect(await rbdStorages()).not.toContain("tmp_pool");
    const gone = await cephPoolProvider.read!("tmp_pool", outs);
    expect(gone.id).toBe("");
  });
});

describe("pure helpers", () => {
  it("parses pool ids given as strings (older pve-manager)", () => {
    const pools = parsePveCephPoolLs('[{"pool":"2","pool_name":"tank","size":3,"min_size":2,"pg_num":128,"crush_rule":"0","pg_autoscale_mode":"warn","application_metadata":{"rbd":{}}}]\n', "x");
    expect(pools[0]).toMatchObject({ id: 2, crushRuleId: 0, application: "rbd" });
  });

  it("ignores pg_num while the autoscaler owns it", () => {
    const actual = { id: 1, size: 3, minSize: 2, pgNum: 32, pgAutoscaleMode: "on", application: "rbd", crushRule: "replicated_rule" };
    expect(poolChanges(actual, poolWant(inputs("x", { autoscale: true, pgNum: 128 })))).toEqual([]);
  });
});

describe("serialization", () => {
  it("serializes without secrets and runs create through the loaded provider", async () => {
    const s = serializeProvider("infra/providers/ceph/ceph-pool.ts", "cephPoolProvider");
    expect(s.containsSecrets).toBe(false);
    expect(s.text).not.toContain("PRIVATE KEY");
    const loaded = s.load();
    sim.clearLog();
    const r = (await loaded.create!(VM_CONTAINERS())) as { id: string; outs: CephPoolOutputs };
    expect(r.id).toBe("vm_containers");
    expect(r.outs.actual.pgNum).toBe(64);
    expect(mutating()).toEqual([]);
  }, 120_000);
});

describe("components under Pulumi mocks", () => {
  const KEY = "fake-ssh-private-key-for-mock-tests";
  const conn = (node: string, i: number) => ({ node, host: `10.203.3.${11 + i}`, port: 22, user: "root", hostKey: "SHA256:abc" });
  const nvme = [
    { device: "/dev/nvme0n1", osdsPerDevice: 2, deviceClass: "nvme" },
    { device: "/dev/nvme1n1", osdsPerDevice: 2, deviceClass: "nvme" },
  ];
  let stackFile: string;

  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ceph-components-"));
    stackFile = path.join(dir, "Pulumi.test.yaml");
    fs.writeFileSync(stackFile, "config: {}\n");
  });


  it("one Osds resource per node, pools that depend on all of them, keys secret", async () => {
    const r = await settled(
      await runStack(stackFile, () => {
        const osds = new CephOsds("ceph-osds", { nodes: ["golf", "hotel", "india"].map((n, i) => ({ access: { connection: conn(n, i), sshPrivateKey: KEY }, devices: nvme })) });
        const pools = new CephPools("ceph-pools", {
          access: { connection: conn("golf", 0), sshPrivateKey: KEY },
          pools: [
            { name: "vm_ssd", pgNum: 128, size: 3, minSize: 2, autoscale: false, application: "rbd", deviceClass: "nvme", addStorage: true },
            { name: "vm_containers", pgNum: 64, size: 3, minSize: 2, autoscale: false, application: "rbd", addStorage: true },
          ],
          osdHosts: osds.osdHosts,
          osds: osds.osdResources,
        });
        return { osdHosts: osds.osdHosts, pools: Object.keys(pools.poolResources) };
      }),
    );
    expect(r.byName("ceph-osds").type).toBe(CEPH_OSDS_TYPE);
    expect(r.byName("ceph-osds").rawInputs).toEqual({ nodes: ["golf", "hotel", "india"].map((node) => ({ node, devices: ["/dev/nvme0n1", "/dev/nvme1n1"] })) });
    const osdRes = r.byType("pulumi-nodejs:dynamic/ceph:Osds");
    expect(osdRes.map((x) => x.name)).toEqual(["ceph-osds-golf", "ceph-osds-hotel", "ceph-osds-india"]);
    for (const o of osdRes) {
      expect(o.parent.endsWith("::ceph-osds")).toBe(true);
      expect(o.additionalSecretOutputs).toContain("sshPrivateKey");
      expect(isSecretValue(o.rawInputs.sshPrivateKey)).toBe(true);
      expect(o.rawInputs.destroyOnDelete).toBe(false);
    }
    const poolRes = r.byType("pulumi-nodejs:dynamic/ceph:Pool");
    expect(poolRes.map((x) => x.name).sort()).toEqual(["ceph-pools-vm_containers", "ceph-pools-vm_ssd"]);
    for (const p of poolRes) {
      expect(p.parent.endsWith("::ceph-pools")).toBe(true);
      expect(new Set(p.dependsOn)).toEqual(new Set(osdRes.map((o) => o.urn)));
      expect(isSecretValue(p.rawInputs.sshPrivateKey)).toBe(true);
      expect(p.rawInputs.osdHosts).toBe(3);
    }
    expect(r.byName("ceph-pools").rawInputs).toEqual({ node: "golf", pools: ["vm_ssd", "vm_containers"], osdHosts: 3 });
    expect(allStrings(r.byName("ceph-pools").rawInputs).join("\n")).not.toContain(KEY);
    expect(r.outputs.osdHosts).toBe(3);
  });

  it("pools that share a CRUSH rule are created one after the other, so the rule is created once", async () => {
    const r = await settled(
      await runStack(stackFile, () => {
        const pools = new CephPools("ceph-pools", {
          access: { connection: conn("golf", 0), sshPrivateKey: KEY },
          pools: [
            { name: "vm_ssd", pgNum: 128, size: 3, minSize: 2, autoscale: false, application: "rbd", deviceClass: "nvme", addStorage: true },
            { name: "vm_containers", pgNum: 64, size: 3, minSize: 2, autoscale: false, application: "rbd", deviceClass: "nvme", addStorage: true },
            { name: "bulk", pgNum: 32, size: 3, minSize: 2, autoscale: false, application: "rbd", deviceClass: "hdd", addStorage: true },
          ],
          osdHosts: 3,
        });
        return { pools: Object.keys(pools.poolResources) };
      }),
    );
    const urn = (pool: string) => r.byName(`ceph-pools-${pool}`).urn;
    expect(r.byName("ceph-pools-vm_ssd").dependsOn).toEqual([]);
    expect(r.byName("ceph-pools-vm_containers").dependsOn).toEqual([urn("vm_ssd")]);
    expect(r.byName("ceph-pools-bulk").dependsOn).toEqual([]);
  });

  it("size 3 with 2 OSD hosts fails at validation with the path of the pool", () => {
    const pool = (name: string, size: number) => CephPoolSchema.parse({ name, size, minSize: 2 });
    expect(cephPoolsProblems({ pools: [pool("vm_ssd", 3), pool("ok", 2)], osdHosts: 2 })).toEqual([
      `pools["vm_ssd"]: size 3 needs 3 hosts with OSDs, but only 2 have them; lower size or add OSD hosts`,
    ]);
  });
});
