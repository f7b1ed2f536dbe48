/**
 * `verify` (scripts/homelab/verify) against a simulated three-node cluster shaped like ms01:
 * quorate, Ceph built by the Ceph cluster provider with one OSD per node and a size-3 pool, the
 * Thunderbolt ring up (tests/helpers/ring-sim.ts), two HA-managed guests. First the health steps
 * (quorum, HEALTH_OK with pool capacity, each ring cable's iperf3 throughput, HA placement); then
 * the drill: the injected power-off stops a node in the simulator, HA (the fakes' CRM) restarts its
 * guests on the others, Ceph still takes a write (rados), the node comes back, quorum and
 * HEALTH_OK return; every step reported. Last, a drill where HA does not move the guest (the
 * CRM held back) fails naming the guest and the node. No timing assertions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CEPH_CLUSTER_PROVIDER_VERSION, cephClusterProvider } from "../infra/providers/ceph/ceph-cluster";
import { operatedEnvironment } from "../scripts/homelab/target";
import { VERIFY_STEPS, verify, type VerifyOptions, type VerifyReport } from "../scripts/homelab/verify";
import type { Environment } from "../stacks/schema";
import { bringUpMs01Ring, MS01_NODES, MS01_RING } from "./helpers/ring-sim";
import { simEnvironment } from "./helpers/sim-environment";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

const NODES = MS01_NODES; // frege, russell, wittgenstein
const TiB = 1024 ** 4;
const FAST = { connectTimeoutMs: 2000, retries: 1, retryBaseDelayMs: 50 };
const BOUNDS = { nodeDownSeconds: 30, haRecoverySeconds: 20, nodeUpSeconds: 60, cephHealthySeconds: 30, pollSeconds: 0.2, cephWriteSeconds: 10 };

let sim: SimCluster;
let env: Environment;

function knobs(): Record<string, unknown> {
  return sim.readState().sim as Record<string, unknown>;
}

function whereIs(vmid: number): string[] {
  return Object.values(sim.readState().nodes)
    .filter((n) => n.guests[String(vmid)])
    .map((n) => n.name);
}

const simPower: Pick<VerifyOptions, "powerOff" | "powerOn"> = {
  powerOff: (node) => sim.stopNode(node),
  powerOn: (node) => sim.startNode(node),
};

function run(options: VerifyOptions = {}): Promise<VerifyReport> {
  return verify(operatedEnvironment(env, sim.clientPrivateKey), { iperfSeconds: 1, bounds: BOUNDS, ...options });
}

function names(r: VerifyReport): string[] {
  return r.steps.map((s) => `${s.name}${s.node ? ` ${s.node}` : ""}`);
}

beforeAll(async () => {
  sim = await startSimCluster(NODES.map((name) => ({ name })));
  seedQuorateCluster(sim, "ms01", NODES);
  await bringUpMs01Ring(sim);
  for (const n of NODES) sim.setDisks(n, [{ name: "nvme0n1", size: 2 * TiB }]);
  const conn = (name: string) => ({ node: name, host: sim.node(name).host, port: 22, user: "root", hostKey: sim.node(name).hostKeyFingerprint, options: FAST });
  await cephClusterProvider.create!({
    providerVersion: CEPH_CLUSTER_PROVIDER_VERSION,
    nodes: NODES.map((n) => ({ connection: conn(n) })),
    sshPrivateKey: sim.clientPrivateKey,
    publicNetwork: "10.100.0.0/24",
    cephVersion: "squid",
    repository: "no-subscription",
    connectTimeoutSeconds: 2,
    monQuorumTimeoutSeconds: 10,
    pollIntervalSeconds: 0.1,
  });
  for (const n of NODES) {
    const r = await sim.exec(n, "pveceph osd create /dev/nvme0n1 --crush-device-class nvme");
    if (r.code !== 0) throw new Error(`${n}: pveceph osd create: ${r.stderr}`);
  }
  const pool = await sim.exec("frege", "pveceph pool create vm-ceph --pg_num 32 --add_storages 1");
  if (pool.code !== 0) throw new Error(`pveceph pool create: ${pool.stderr}`);
  sim.addGuest("frege", 100, "web", { status: "running" });
  sim.addGuest("frege", 101, "db", { status: "running" });
  sim.addGuest("russell", 102, "cache", { status: "running" });
  sim.mutateState((st) => {
    for (const [node, vmid] of [["frege", 100], ["frege", 101], ["russell", 102]] as const) st.nodes[node].guests[String(vmid)].config = { scsi0: `vm-ceph:vm-${vmid}-disk-0,size=32G` };
    st.ha = {
      ms01: {
        resources: {
          "vm:100": { sid: "vm:100", type: "vm", state: "started", max_restart: 1, max_relocate: 1, group: "web" },
          "vm:101": { sid: "vm:101", type: "vm", state: "started", max_restart: 1, max_relocate: 1 },
          "vm:102": { sid: "vm:102", type: "vm", state: "started", max_restart: 1, max_relocate: 1 },
        },
        groups: { web: { group: "web", nodes: "frege:2,wittgenstein:1", restricted: 1 } },
        rules: {},
        crmStarted: true,
      },
    };
  });
  env = simEnvironment(
    sim,
    NODES,
    {
      networks: [{ name: "ring", cidr: "10.100.0.0/24" }],
      thunderbolt: { network: "ring", verify: { iperfSeconds: 1 } },
      cluster: { name: "ms01", links: ["management"] },
      ceph: { publicNetwork: "ring", pools: [{ name: "vm-ceph" }] },
    },
    (n) => ({ osds: [{ device: "/dev/nvme0n1" }], thunderbolt: MS01_RING[n] }),
  );
}, 240_000);

afterAll(async () => {
  await sim?.stop();
});

describe("verify on a healthy cluster", () => {
  it("reports quorum, HEALTH_OK with pool capacity, each ring cable's throughput and HA placement", async () => {
    sim.clearLog();
    const r = await run();
    expect(r.steps.filter((s) => !s.ok)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(names(r)).toEqual([
      "cluster frege",
      "ceph-health frege",
      "ceph-capacity frege",
      "ring-link frege",
      "ring-link frege",
      "ring-link russell",
      "ha-placement frege",
      "ha-placement frege",
      "ha-placement russell",
    ]);
    expect(r.steps[0].detail).toBe("frege: ms01: quorate, online frege, russell, wittgenstein");
    expect(r.steps[2].detail).toMatch(/^frege: raw .* used; \.mgr .*; vm-ceph 0 B stored, [\d.]+ TiB available \(0\.0% used\)$/);
    expect(r.steps.filter((s) => s.name === "ring-link").map((s) => s.detail)).toEqual([
      expect.stringMatching(/^frege en05 ↔ russell en06: [\d.]+ Gbit\/s/),
      expect.stringMatching(/^frege en06 ↔ wittgenstein en05: [\d.]+ Gbit\/s/),
      expect.stringMatching(/^russell en05 ↔ wittgenstein en06: [\d.]+ Gbit\/s/),
    ]);
    expect(r.steps.filter((s) => s.name === "ha-placement").map((s) => s.detail)).toEqual([
      "vm:100 on frege (started), allowed: frege, wittgenstein",
      "vm:101 on frege (started), allowed: frege, russell, wittgenstein",
      "vm:102 on russell (started), allowed: frege, russell, wittgenstein",
    ]);
    // read-only: iperf3 servers and clients, no change to the cluster
    expect(sim.commandLog().filter((e) => /\b(qm|ha-manager (add|set|migrate)|pvesh (set|create|delete)|systemctl (enable|start|stop)|rados)\b/.test(e.command))).toEqual([]);
  });

  it("a cable down is a failed ring-link step naming both ends", async () => {
    sim.setCablePlugged("russell", "en05", false);
    try {
      const r = await run();
      const bad = r.steps.filter((s) => !s.ok);
      expect(bad.map((s) => [s.name, s.node])).toEqual([["ring-link", "russell"]]);
      expect(bad[0].detail).toMatch(/^russell en05 ↔ wittgenstein en06 is down: russell en05 has no carrier/);
    } finally {
      sim.setCablePlugged("russell", "en05", true);
    }
  });
});

describe("verify --drill", () => {
  it("node down: guests restart elsewhere, Ceph stays writable, node back, quorum and HEALTH_OK; each step reported", async () => {
    const r = await run({ drill: true, ...simPower });
    expect(r.steps.filter((s) => !s.ok)).toEqual([]);
    const drill = r.steps.filter((s) => s.name.startsWith("drill:"));
    expect(drill.map((s) => `${s.name} ${s.node}`)).toEqual([
      "drill:preconditions frege",
      "drill:power-off frege",
      "drill:quorum russell",
      "drill:ha-recovery frege",
      "drill:ha-recovery frege",
      "drill:ceph-writable russell",
      "drill:power-on frege",
      "drill:rejoin frege",
      "drill:ceph-health-ok frege",
    ]);
    expect(drill.every((s) => typeof s.durationSeconds === "number" && s.durationSeconds >= 0)).toBe(true);
    expect(r.steps.every((s) => (VERIFY_STEPS as readonly string[]).includes(s.name))).toBe(true);
    expect(drill[0].detail).toBe("taking frege down; HA guests there: vm:100, vm:101");
    // vm:100's restricted group allows only wittgenstein besides frege; vm:101 may go anywhere: to the
    // node with the fewest HA guests, russell and wittgenstein one each by then, so by name
    expect(drill[3].detail).toBe("vm:100 restarted on wittgenstein (it ran on frege)");
    expect(drill[4].detail).toBe("vm:101 restarted on russell (it ran on frege)");
    expect(drill[5].detail).toMatch(/^russell: wrote and removed an object in pool vm-ceph while frege was down \(Ceph HEALTH_WARN\)$/);
    expect(drill[8].detail).toBe("frege: HEALTH_OK");
    expect(whereIs(100)).toEqual(["wittgenstein"]);
    expect(sim.readState().nodes.wittgenstein.guests["100"].status).toBe("running");
    // the write really reached the pool, and was removed
    const log = sim.commandLog().map((e) => e.command);
    expect(log.filter((c) => c.includes("rados"))).toEqual([
      expect.stringMatching(/^LC_ALL=C timeout 10 rados -p vm-ceph put homelab-drill-frege-[0-9a-f]{8} -$/),
      expect.stringMatching(/^LC_ALL=C timeout 10 rados -p vm-ceph rm homelab-drill-frege-[0-9a-f]{8}$/),
    ]);
  });

  it("a drill where HA does not move the guest fails naming the guest and the node; the node is still brought back", async () => {
    // vm:100 runs on wittgenstein now; the CRM is held back
    sim.mutateState((st) => {
      st.sim.haMigrationHold = true;
    });
    try {
      const r = await run({ drill: true, drillNode: "wittgenstein", ...simPower, bounds: { ...BOUNDS, haRecoverySeconds: 1 } });
      expect(r.ok).toBe(false);
      const bad = r.steps.filter((s) => !s.ok);
      expect(bad.map((s) => `${s.name} ${s.node}`)).toEqual(["drill:ha-recovery wittgenstein"]);
      expect(bad[0].detail).toBe("vm:100 did not restart on another node within 1 s after wittgenstein went down: HA status shows it on wittgenstein (fence)");
      expect(bad[0].fix).toMatch(/placement must allow another online node/);
      expect(r.steps.map((s) => s.name)).toContain("drill:power-on");
      expect(r.steps.find((s) => s.name === "drill:power-on")!.ok).toBe(true);
      expect(whereIs(100)).toEqual(["wittgenstein"]);
    } finally {
      sim.mutateState((st) => {
        st.sim.haMigrationHold = false;
      });
    }
    expect(knobs().haMigrationHold).toBe(false);
  });

  it("refuses to take a node down on an unhealthy cluster", async () => {
    await sim.stopNode("russell");
    try {
      sim.clearLog();
      const r = await run({ drill: true, ...simPower });
      expect(r.ok).toBe(false);
      expect(r.steps[r.steps.length - 1]).toMatchObject({ name: "drill:preconditions", ok: false });
      expect(sim.readState().nodes.frege.online).toBe(true);
      expect(sim.readState().nodes.wittgenstein.online).toBe(true);
    } finally {
      await sim.startNode("russell");
    }
  });
});

describe("the fakes the drill relies on (texts from pve-ha-manager and rados)", () => {
  async function sh(node: string, cmd: string, input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
    return sim.exec(node, input === undefined ? cmd : `printf '%s' '${input}' | ${cmd}`);
  }

  it("HA: a dead node's service shows 'fence' and its lrm 'old timestamp - dead?' until the CRM recovers it inside its group", async () => {
    // vm:100's restricted group web is frege:2, wittgenstein:1: whichever of the two it is on, it goes to the other
    const home = whereIs(100)[0];
    const other = home === "frege" ? "wittgenstein" : "frege";
    sim.mutateState((st) => {
      st.sim.haMigrationHold = true;
    });
    await sim.stopNode(home);
    try {
      const held = (await sh("russell", "ha-manager status")).stdout;
      expect(held).toMatch(new RegExp(`^lrm ${home} \\(old timestamp - dead\\?, .+\\)$`, "m"));
      expect(held).toContain(`service vm:100 (${home}, fence)`);
      sim.mutateState((st) => {
        st.sim.haMigrationHold = false;
      });
      expect((await sh("russell", "ha-manager status")).stdout).toContain(`service vm:100 (${other}, started)`);
      expect(whereIs(100)).toEqual([other]);
    } finally {
      sim.mutateState((st) => {
        st.sim.haMigrationHold = false;
      });
      await sim.startNode(home);
    }
  });

  it("rados: put (stdin), stat and rm; objects count in ceph df; rados.cc's errors and usage with exit 1", async () => {
    expect(await sh("frege", "rados -p vm-ceph put probe -", "hello")).toEqual({ stdout: "", stderr: "", code: 0 });
    expect((await sh("frege", "rados -p vm-ceph stat probe")).stdout).toMatch(/^vm-ceph\/probe mtime \d{4}-\d\d-\d\dT[\d:.]+\+0000, size 5\n$/);
    const df = JSON.parse((await sh("russell", "ceph df -f json")).stdout) as { pools: { name: string; stats: { objects: number; stored: number } }[] };
    expect(df.pools.find((p) => p.name === "vm-ceph")!.stats).toMatchObject({ objects: 1, stored: 5 });
    expect(await sh("frege", "rados -p vm-ceph rm probe")).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(await sh("frege", "rados -p vm-ceph rm probe")).toEqual({ stdout: "", stderr: "error removing vm-ceph>probe: (2) No such file or directory\n", code: 1 });
    expect(await sh("frege", "rados -p nope put x -", "x")).toEqual({ stdout: "", stderr: "error opening pool nope: (2) No such file or directory\n", code: 1 });
    expect(await sh("frege", "rados -p vm-ceph stat probe")).toEqual({ stdout: "", stderr: " error stat-ing vm-ceph/probe: (2) No such file or directory\n", code: 1 });
    const noPool = await sh("frege", "rados put x -", "x");
    expect([noPool.code, noPool.stderr.split("\n")[0]]).toEqual([1, "usage: rados [options] [commands]"]);
    expect((await sh("frege", "rados lspools")).stdout).toBe(".mgr\nvm-ceph\n");
  });

  it("date: a node's clock offset shifts what it shows; a time given with -d is left alone", async () => {
    sim.mutateState((st) => {
      st.sim.clockOffsetSeconds = { russell: 3600 };
    });
    try {
      const shown = Number((await sh("russell", "date +%s")).stdout);
      expect(shown - Date.now() / 1000).toBeGreaterThan(3500);
      expect((await sh("russell", "date -u -d @0 +%Y")).stdout).toBe("1970\n");
      expect(Math.abs(Number((await sh("frege", "date +%s")).stdout) - Date.now() / 1000)).toBeLessThan(100);
    } finally {
      sim.mutateState((st) => {
        st.sim.clockOffsetSeconds = {};
      });
    }
  });
});
