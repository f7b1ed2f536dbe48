/**
 * The Ceph HealthGate dynamic provider against the simulated cluster: a 3-node Proxmox cluster
 * with Ceph built by the Cluster provider, one OSD per node and a pool created with the fakes'
 * pveceph, then health polled until OK (or only allowed warnings), and the timeout error with the
 * health detail. Also the fakes' health model (quorum, OSDs, PGs peering, forceHealth) and the
 * homelab:ceph:Health component under mocks.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CephHealth } from "../components/ceph-health";
import { CEPH_CLUSTER_PROVIDER_VERSION, cephClusterProvider } from "../infra/providers/ceph/ceph-cluster";
import { CEPH_HEALTH_PROVIDER_VERSION, CephHealthInputs, CephHealthOutputs, cephHealthProvider, describeHealth, healthAcceptable } from "../infra/providers/ceph/ceph-health";
import { allStrings, isSecretValue, runStack, stubProviderSerialization } from "./helpers/pulumi-mocks";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { seedQuorateCluster } from "./helpers/sim-state";
import { failure } from "./helpers/failure";

const FAST = { connectTimeoutMs: 2000, retries: 1, retryBaseDelayMs: 50 };
const NODES = ["h1", "h2", "h3"];
const TiB = 1024 ** 4;

let sim: SimCluster;

const conn = (name: string) => {
  const n = sim.node(name);
  return { node: name, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST };
};

function inputs(extra: Partial<CephHealthInputs> = {}): CephHealthInputs {
  return {
    providerVersion: CEPH_HEALTH_PROVIDER_VERSION,
    nodes: NODES.map((n) => ({ connection: conn(n) })),
    sshPrivateKey: sim.clientPrivateKey,
    timeoutSeconds: 5,
    pollIntervalSeconds: 0.2,
    connectTimeoutSeconds: 1,
    ...extra,
  };
}

async function exec(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

function setForce(force: unknown, knobs: Record<string, number> = {}): void {
  sim.mutateState((s) => {
    const c = (s.ceph ??= {}) as { forceHealth?: unknown; sim?: Record<string, number> };
    c.forceHealth = force;
    c.sim = { ...(c.sim ?? {}), ...knobs };
  });
}

function healthPolls(): number {
  return sim.commandLog().filter((e) => e.command.includes("ceph health detail --conf")).length;
}

beforeAll(async () => {
  sim = await startSimCluster(NODES.map((name) => ({ name })));
  seedQuorateCluster(sim, "hotel", NODES);
  for (const [i, n] of NODES.entries()) {
    sim.setAddresses(n, [sim.node(n).host, `10.8.10.${i + 1}`]);
    sim.setDisks(n, [{ name: "nvme0n1", size: 2 * TiB }]);
  }
  await cephClusterProvider.create!({
    providerVersion: CEPH_CLUSTER_PROVIDER_VERSION,
    nodes: NODES.map((n) => ({ connection: conn(n) })),
    sshPrivateKey: sim.clientPrivateKey,
    publicNetwork: "10.8.10.0/24",
    cephVersion: "squid",
    repository: "no-subscription",
    connectTimeoutSeconds: 2,
    monQuorumTimeoutSeconds: 10,
    pollIntervalSeconds: 0.1,
  });
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

describe("the fakes' health model", () => {
  it("is HEALTH_WARN without OSDs, OK with 3 hosts holding OSDs and a size-3 pool", async () => {
    const before = JSON.parse(await exec("h1", "ceph health detail -f json"));
    expect(before.status).toBe("HEALTH_WARN");
    expect(before.checks.TOO_FEW_OSDS.summary.message).toBe("OSD count 0 < osd_pool_default_size 3");
    for (const n of NODES) await exec(n, "pveceph osd create /dev/nvme0n1 --crush-device-class nvme");
    const out = await exec("h1", "pveceph pool create tank --pg_num 64 --add_storages 1");
    expect(out).toContain("pool tank: applying size = 3\n");
    const after = await exec("h2", "ceph health -f json");
    expect(after).toBe('\n{"status":"HEALTH_OK","checks":{},"mutes":[]}\n');
    const tree = JSON.parse(await exec("h3", "ceph osd tree -f json"));
    expect(tree.nodes.filter((n: { type: string }) => n.type === "host").map((n: { name: string }) => n.name).sort()).toEqual(NODES);
    expect(tree.nodes.filter((n: { type: string }) => n.type === "osd").map((n: { device_class: string }) => n.device_class)).toEqual(["nvme", "nvme", "nvme"]);
  });

  it("reports PG_DEGRADED when a host's OSDs are down, and HEALTH_OK again once they run", async () => {
    await exec("h3", "systemctl stop ceph-osd@2");
    const h = JSON.parse(await exec("h1", "ceph health detail -f json"));
    expect(Object.keys(h.checks).sort()).toEqual(["OSD_DOWN", "OSD_HOST_DOWN", "PG_DEGRADED"]);
    expect(h.checks.OSD_DOWN.detail).toEqual([{ message: "osd.2 (root=default,host=h3) is down" }]);
    await exec("h3", "systemctl start ceph-osd@2");
    expect(JSON.parse(await exec("h1", "ceph health -f json")).status).toBe("HEALTH_OK");
  });
});

describe("waiting for health", () => {
  let outs: CephHealthOutputs;

  it("returns at once on HEALTH_OK with OSDs, raw capacity and per-pool usage", async () => {
    sim.clearLog();
    const r = (await cephHealthProvider.create!(inputs())) as { id: string; outs: CephHealthOutputs };
    outs = r.outs;
    expect(healthPolls()).toBe(1);
    expect(outs).toMatchObject({ health: "HEALTH_OK", checks: [], osdsTotal: 3, osdsUp: 3, osdsIn: 3 });
    expect(outs.rawTotalBytes).toBeGreaterThan(5.9 * TiB);
    expect(outs.rawUsedBytes).toBeGreaterThan(0);
    expect(outs.rawAvailBytes).toBe(outs.rawTotalBytes - outs.rawUsedBytes);
    expect(outs.pools.map((p) => p.name)).toEqual([".mgr", "tank"]);
    const tank = outs.pools.find((p) => p.name === "tank")!;
    // size 3 over 3 x 2 TiB: about 2 TiB * 0.95 usable
    expect(tank.maxAvailBytes).toBeGreaterThan(1.8 * TiB);
    expect(tank.maxAvailBytes).toBeLessThan(2 * TiB);
    // it only reads
    expect(sim.commandLog().every((e) => /^LC_ALL=C ceph (health detail|status|df) --conf \/etc\/pve\/ceph.conf --connect-timeout 1 -f json$/.test(e.command))).toBe(true);
  });

  it("polls while PGs peer after a change, then passes", async () => {
    setForce(null, { settleMs: 1200 });
    try {
      await exec("h1", "pveceph pool create vm_containers --pg_num 32");
      sim.clearLog();
      const started = Date.now();
      const r = (await cephHealthProvider.update!("ceph-health", outs, inputs({ trigger: "pools-v2" }))) as { outs: CephHealthOutputs };
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(healthPolls()).toBeGreaterThan(1);
      expect(r.outs.health).toBe("HEALTH_OK");
      expect(r.outs.pools.map((p) => p.name)).toEqual([".mgr", "tank", "vm_containers"]);
    } finally {
      setForce(null, { settleMs: 0 });
    }
  });

  it("fails after the bound when health never becomes OK, with every check, message and detail", async () => {
    setForce({
      OSD_NEARFULL: { severity: "HEALTH_WARN", message: "1 nearfull osd(s)", count: 1, detail: ["osd.1 is near full"] },
      PG_NOT_DEEP_SCRUBBED: { severity: "HEALTH_WARN", message: "2 pgs not deep-scrubbed in time", count: 2, detail: ["pg 2.1 not deep-scrubbed since 2026-01-01", "pg 2.7 not deep-scrubbed since 2026-01-02"] },
    });
    try {
      sim.clearLog();
      const started = Date.now();
      const err = await failure(cephHealthProvider.create!(inputs({ timeoutSeconds: 1, allowedWarnings: ["PG_NOT_DEEP_SCRUBBED"] })));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(err.message).toBe(
        "h1: Ceph did not reach HEALTH_OK, or only the allowed warnings PG_NOT_DEEP_SCRUBBED within 1 s; last health:\n" +
          "HEALTH_WARN\n" +
          "  - OSD_NEARFULL (HEALTH_WARN): 1 nearfull osd(s)\n" +
          "      osd.1 is near full\n" +
          "  - PG_NOT_DEEP_SCRUBBED (HEALTH_WARN): 2 pgs not deep-scrubbed in time\n" +
          "      pg 2.1 not deep-scrubbed since 2026-01-01\n" +
          "      pg 2.7 not deep-scrubbed since 2026-01-02",
      );
      expect(healthPolls()).toBeGreaterThan(1);
    } finally {
      setForce(null);
    }
  });

  it("accepts a HEALTH_WARN made only of allowed warnings, and reports them", async () => {
    setForce("HEALTH_WARN");
    try {
      const r = (await cephHealthProvider.create!(inputs({ allowedWarnings: ["MON_CLOCK_SKEW"] }))) as { outs: CephHealthOutputs };
      expect(r.outs.health).toBe("HEALTH_WARN");
      expect(r.outs.checks).toEqual([{ code: "MON_CLOCK_SKEW", severity: "HEALTH_WARN", message: "clock skew detected on mon.h1" }]);
      const err = await failure(cephHealthProvider.create!(inputs({ timeoutSeconds: 0.5 })));
      expect(err.message).toContain("  - MON_CLOCK_SKEW (HEALTH_WARN): clock skew detected on mon.h1\n      mon.h1 clock skew");
    } finally {
      setForce(null);
    }
  });

  it("when the monitors lose quorum the error names the connection failure", async () => {
    await exec("h2", "systemctl stop ceph-mon@h2");
    await exec("h3", "systemctl stop ceph-mon@h3");
    try {
      const err = await failure(cephHealthProvider.create!(inputs({ timeoutSeconds: 2 })));
      expect(err.message).toContain("h1: Ceph did not reach HEALTH_OK within 2 s; last health:\n(never read)\n");
      expect(err.message).toContain("last error: h1: ceph health failed (exit 1): [errno 110] RADOS timed out (error connecting to the cluster)");
    } finally {
      await exec("h2", "systemctl start ceph-mon@h2");
      await exec("h3", "systemctl start ceph-mon@h3");
    }
    expect(JSON.parse(await exec("h1", "ceph health -f json")).status).toBe("HEALTH_OK");
  }, 20_000);

  it("read reports the current health without waiting; diff follows trigger and allowed warnings; delete runs nothing", async () => {
    setForce("HEALTH_ERR");
    try {
      sim.clearLog();
      const r = await cephHealthProvider.read!("ceph-health", outs);
      expect(healthPolls()).toBe(1);
      expect(r.props).toMatchObject({ health: "HEALTH_ERR", checks: [{ code: "OSD_FULL", severity: "HEALTH_ERR", message: "1 full osd(s)" }] });
      // an allowed HEALTH_ERR check still does not pass
      const err = await failure(cephHealthProvider.create!(inputs({ timeoutSeconds: 0.3, allowedWarnings: ["OSD_FULL"] })));
      expect(err.message).toContain("OSD_FULL (HEALTH_ERR): 1 full osd(s)");
    } finally {
      setForce(null);
    }
    expect((await cephHealthProvider.diff!("ceph-health", outs, inputs())).changes).toBe(false);
    expect((await cephHealthProvider.diff!("ceph-health", outs, inputs({ trigger: "x" }))).changes).toBe(true);
    expect((await cephHealthProvider.diff!("ceph-health", outs, inputs({ allowedWarnings: ["X"] })))).toMatchObject({ changes: true, replaces: [] });
    sim.clearLog();
    await cephHealthProvider.delete!("ceph-health", outs);
    expect(sim.commandLog()).toEqual([]);
  });

  it("uses the next node when the first does not answer", async () => {
    await sim.stopNode("h1");
    try {
      const r = (await cephHealthProvider.create!(inputs({ allowedWarnings: ["MON_DOWN", "OSD_DOWN", "OSD_HOST_DOWN", "PG_DEGRADED"] }))) as { outs: CephHealthOutputs };
      expect(r.outs.health).toBe("HEALTH_WARN");
      expect(r.outs.checks.map((c) => c.code).sort()).toEqual(["MON_DOWN", "OSD_DOWN", "OSD_HOST_DOWN", "PG_DEGRADED"]);
      expect(r.outs.osdsUp).toBe(2);
    } finally {
      await sim.startNode("h1");
    }
  }, 30_000);
});

describe("pure helpers", () => {
  it("healthAcceptable and describeHealth", () => {
    const warn = { status: "HEALTH_WARN", checks: [{ code: "A", severity: "HEALTH_WARN", message: "a", count: 1, detail: Array.from({ length: 12 }, (_, i) => `d${i}`) }] };
    expect(healthAcceptable({ status: "HEALTH_OK", checks: [] }, [])).toBe(true);
    expect(healthAcceptable(warn, [])).toBe(false);
    expect(healthAcceptable(warn, ["A"])).toBe(true);
    expect(describeHealth(warn, 2)).toBe("HEALTH_WARN\n  - A (HEALTH_WARN): a\n      d0\n      d1\n      … 10 more");
  });
});

describe("serialization", () => {
  it("serializes without secrets or key material, and the serialized provider checks health", async () => {
    const serialized = serializeProvider("infra/providers/ceph/ceph-health.ts", "cephHealthProvider");
    expect(serialized.containsSecrets).toBe(false);
    expect(serialized.text).not.toMatch(/PRIVATE KEY/);
    const provider = serialized.load();
    const r = (await provider.create!(inputs())) as { outs: CephHealthOutputs };
    expect(r.outs.health).toBe("HEALTH_OK");
    expect(r.outs.osdsUp).toBe(3);
  }, 60_000);
});

describe("CephHealth component (mocks)", () => {
  beforeAll(() => stubProviderSerialization());

  it("wraps one ceph:HealthGate with a secret key and the defaults", async () => {
    const c = (node: string) => ({ node, host: "192.0.2.1", port: 22, user: "root", insecureIgnoreHostKey: true });
    const run = await runStack(
      path.join(__dirname, "fixtures", "minimal.yaml"),
      () => {
        class Pool extends pulumi.CustomResource {
          constructor(name: string) {
            super("test:index:Pool", name, {});
          }
        }
        const pool = new Pool("vm_ssd");
        const key = pulumi.secret("KEY-MATERIAL");
        const h = new CephHealth(
          "ceph-health",
          { nodes: [c("n1"), c("n2")].map((connection) => ({ connection, sshPrivateKey: key })), allowedWarnings: ["POOL_NO_REDUNDANCY"], timeoutSeconds: 900 },
          { dependsOn: [pool] },
        );
        return { health: h.health, osdsUp: h.osdsUp };
      },
      (type, _name, i) => (type === "pulumi-nodejs:dynamic/ceph:HealthGate" ? { ...i, health: "HEALTH_OK", osdsUp: 12 } : i),
    );
    const [component] = run.byType("homelab:ceph:Health");
    expect(allStrings(component.rawInputs)).not.toContain("KEY-MATERIAL");
    const [gate] = run.byType("pulumi-nodejs:dynamic/ceph:HealthGate");
    expect(gate.name).toBe("ceph-health-gate");
    expect(gate.parent).toMatch(/\$homelab:ceph:Health::ceph-health$/);
    expect(gate.dependsOn.some((u) => u.endsWith("test:index:Pool::vm_ssd"))).toBe(true);
    expect(isSecretValue(gate.rawInputs.sshPrivateKey)).toBe(true);
    expect(gate.rawInputs).toMatchObject({ timeoutSeconds: 900, pollIntervalSeconds: 5, trigger: "", allowedWarnings: ["POOL_NO_REDUNDANCY"] });
    expect(run.outputs).toEqual({ health: "HEALTH_OK", osdsUp: 12 });
  });
});

describe("block device fakes (what the OSD provider builds on)", () => {
  it("a disk with a foreign partition table, filesystem or LVM is refused by pveceph osd create and untouched", async () => {
    sim.setDisks("h1", [
      { name: "nvme0n1", size: 2 * TiB },
      { name: "nvme1n1", size: TiB, partitions: 2 },
      { name: "sdb", size: TiB, fstype: "xfs" },
      { name: "sdc", size: TiB, lvm: "data" },
    ]);
    for (const dev of ["/dev/nvme1n1", "/dev/sdb", "/dev/sdc", "/dev/sda"]) {
      const r = await sim.exec("h1", `pveceph osd create ${dev}`);
      expect(r).toMatchObject({ code: 255, stdout: "", stderr: `device '${dev}' is already in use\n` });
    }
    expect((await sim.exec("h1", "pveceph osd create /dev/sdz")).stderr).toBe("not a valid block device\n");
    const tree = JSON.parse(await exec("h1", "lsblk -J -b -o NAME,PATH,TYPE,SIZE,FSTYPE,MOUNTPOINT,PKNAME"));
    const byName = Object.fromEntries(tree.blockdevices.map((d: { name: string }) => [d.name, d]));
    expect(byName.nvme1n1.children.map((c: { name: string; type: string }) => `${c.name}:${c.type}`)).toEqual(["nvme1n1p1:part", "nvme1n1p2:part"]);
    expect(byName.sdb).toMatchObject({ fstype: "xfs", size: TiB });
    expect(byName.sdc).toMatchObject({ fstype: "LVM2_member", children: [{ name: "data-data", type: "lvm", pkname: "sdc" }] });
    expect(byName.sda.children[2].children.find((c: { name: string }) => c.name === "pve-root")).toMatchObject({ mountpoint: "/" });
  });

  it("wipefs, sgdisk --zap-all and ceph-volume lvm zap --destroy clear them; then osd create works", async () => {
    expect(await sim.exec("h1", "wipefs -a /dev/sdc")).toMatchObject({ code: 1, stderr: "wipefs: error: /dev/sdc: probing initialization failed: Device or resource busy\n" });
    expect((await exec("h1", "wipefs -a /dev/sdb"))).toBe("/dev/sdb: 4 bytes were erased at offset 0x00000000 (xfs): 58 46 53 42\n");
    expect(await exec("h1", "sgdisk --zap-all /dev/nvme1n1")).toContain("GPT data structures destroyed!");
    const zap = await sim.exec("h1", "ceph-volume lvm zap --destroy /dev/sdc");
    expect(zap.code).toBe(0);
    expect(zap.stderr).toContain("--> Zapping successful for: <Raw Device: /dev/sdc>");
    const after = JSON.parse(await exec("h1", "lsblk -J -b -p -o NAME,TYPE,FSTYPE /dev/sdb /dev/sdc /dev/nvme1n1"));
    expect(after.blockdevices).toEqual([
      { name: "/dev/sdb", type: "disk", fstype: null },
      { name: "/dev/sdc", type: "disk", fstype: null },
      { name: "/dev/nvme1n1", type: "disk", fstype: null },
    ]);
    await exec("h1", "pveceph osd create /dev/nvme1n1 --osds-per-device 2 --crush-device-class nvme");
    const list = JSON.parse(await exec("h1", "ceph-volume lvm list --format json"));
    expect(Object.values(list).map((lvs) => (lvs as { devices: string[]; type: string }[]).map((l) => `${l.devices[0]}:${l.type}`))).toEqual([["/dev/nvme1n1:block"], ["/dev/nvme1n1:block"]]);
    const r = await sim.exec("h1", "pveceph osd create /dev/nvme1n1");
    expect(r).toMatchObject({ code: 255, stderr: "device '/dev/nvme1n1' is already in use\n" });
  });
});
