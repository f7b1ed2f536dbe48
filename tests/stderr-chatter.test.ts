/**
 * The real PVE tools print lock and progress lines on stderr while they succeed
 * (`trying to acquire lock... OK`, `trying to acquire cfs lock 'file-ceph_conf' ...`,
 * pve-cli.md 0.4). With the simulator's stderrChatter knob on, a whole converge
 * (Proxmox cluster, Ceph, OSDs, a pool with its storage) must succeed in one run:
 * providers judge the node's state read back, never stderr alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CEPH_CLUSTER_PROVIDER_VERSION, CephClusterOutputs, cephClusterProvider } from "../infra/providers/ceph/ceph-cluster";
import { CEPH_OSDS_PROVIDER_VERSION, CephOsdsOutputs, cephOsdsProvider } from "../infra/providers/ceph/ceph-osd";
import { CEPH_POOL_PROVIDER_VERSION, CephPoolOutputs, cephPoolProvider } from "../infra/providers/ceph/ceph-pool";
import { CLUSTER_PROVIDER_VERSION, ClusterOutputs, clusterProvider } from "../infra/providers/proxmox/cluster";
import { NodeConnection } from "../infra/providers/connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

const PASSWORD = "chatty-root-pw";
const FAST = { connectTimeoutMs: 3000, retries: 1, retryBaseDelayMs: 50 };
const NODES = ["k1", "k2", "k3"];
const link0 = (name: string) => `10.40.0.${name.slice(1)}`;
const pub = (name: string) => `10.40.10.${name.slice(1)}`;

let sim: SimCluster;

function connection(name: string): NodeConnection {
  const n = sim.node(name);
  return { node: name, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST };
}

beforeAll(async () => {
  sim = await startSimCluster(NODES.map((name) => ({ name })), { stderrChatter: true });
  for (const name of NODES) {
    sim.setAddresses(name, [sim.node(name).host, link0(name), pub(name)]);
    sim.setDisks(name, [{ name: "nvme0n1" }]);
  }
  sim.mutateState((s) => {
    for (const name of NODES) s.nodes[name].rootPassword = PASSWORD;
  });
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

describe("with lock and progress lines on stderr", () => {
  it("the fakes really print them on success", async () => {
    const r = await sim.exec("k1", "qm create 990 --name probe && qm destroy 990");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("trying to acquire lock... OK");
  });

  it("cluster, Ceph, OSDs and a pool converge in one run", async () => {
    const cluster = (await clusterProvider.create!({
      providerVersion: CLUSTER_PROVIDER_VERSION,
      clusterName: "kilo",
      nodes: NODES.map((n) => ({ connection: connection(n), links: { link0: link0(n) } })),
      sshPrivateKey: sim.clientPrivateKey,
      rootPassword: PASSWORD,
      quorumTimeoutSeconds: 20,
      quorumPollIntervalSeconds: 0.1,
    })) as { outs: ClusterOutputs };
    expect(cluster.outs.quorate).toBe(true);
    expect(cluster.outs.members.map((m) => m.name)).toEqual(NODES);

    const ceph = (await cephClusterProvider.create!({
      providerVersion: CEPH_CLUSTER_PROVIDER_VERSION,
      nodes: NODES.map((n) => ({ connection: connection(n) })),
      sshPrivateKey: sim.clientPrivateKey,
      publicNetwork: "10.40.10.0/24",
      cephVersion: "squid",
      repository: "no-subscription",
      connectTimeoutSeconds: 2,
      monQuorumTimeoutSeconds: 20,
      pollIntervalSeconds: 0.1,
    })) as { outs: CephClusterOutputs };
    expect(ceph.outs.mons.map((m) => [m.name, m.inQuorum])).toEqual(NODES.map((n) => [n, true]));

    for (const n of NODES) {
      const osds = (await cephOsdsProvider.create!({
        providerVersion: CEPH_OSDS_PROVIDER_VERSION,
        connection: connection(n),
        sshPrivateKey: sim.clientPrivateKey,
        devices: [{ device: "/dev/nvme0n1", deviceClass: "nvme" }],
        upTimeoutSeconds: 20,
        pollIntervalSeconds: 0.1,
      })) as { outs: CephOsdsOutputs };
      expect(osds.outs.osdIds).toHaveLength(1);
    }

    const pool = (await cephPoolProvider.create!({
      providerVersion: CEPH_POOL_PROVIDER_VERSION,
      connection: connection("k1"),
      sshPrivateKey: sim.clientPrivateKey,
      name: "vm_chatty",
      size: 3,
      minSize: 2,
      pgNum: 32,
      autoscale: false,
      application: "rbd",
      deviceClass: "nvme",
      addStorage: true,
      osdHosts: 3,
    })) as { outs: CephPoolOutputs };
    expect(pool.outs.actual).toMatchObject({ size: 3, minSize: 2, crushRule: "replicated_nvme" });
    expect(pool.outs.storages).toEqual(["vm_chatty"]);

    // The chatter was there all along: the mutating commands printed it.
    const chatty = await sim.exec("k1", "pveceph pool create probe_pool --size 3 --min_size 2 --pg_num 8 --crush_rule replicated_nvme");
    expect(chatty.code).toBe(0);
    expect(chatty.stderr).toContain("trying to acquire lock... OK");
  }, 240_000);
});
