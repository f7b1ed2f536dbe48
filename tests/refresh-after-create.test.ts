/**
 * A refresh right after an up reports no change, for every dynamic provider: on a simulated ms01
 * (three nodes, quorate, the Thunderbolt ring modelled), each provider's `create` runs against the
 * nodes and its `read` right after must return the same id and exactly the outputs create stored.
 * The cases run in order, so later ones build on what earlier ones created (Ceph, then its OSDs,
 * pools and health).
 */
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CEPH_CLUSTER_PROVIDER_VERSION, cephClusterProvider } from "../infra/providers/ceph/ceph-cluster";
import { CEPH_HEALTH_PROVIDER_VERSION, cephHealthProvider } from "../infra/providers/ceph/ceph-health";
import { CEPH_OSDS_PROVIDER_VERSION, cephOsdsProvider } from "../infra/providers/ceph/ceph-osd";
import { CEPH_POOL_PROVIDER_VERSION, cephPoolProvider } from "../infra/providers/ceph/ceph-pool";
import { ABSENT_FILES_PROVIDER_VERSION, absentFilesProvider } from "../infra/providers/linux/absent-files";
import { LINUX_USER_PROVIDER_VERSION, linuxUserProvider } from "../infra/providers/linux/linux-user";
import { PACKAGES_PROVIDER_VERSION, packagesProvider } from "../infra/providers/linux/packages";
import { REMOTE_FILE_PROVIDER_VERSION, remoteFileProvider } from "../infra/providers/linux/remote-file";
import { INTERFACES_PROVIDER_VERSION, interfacesProvider } from "../infra/providers/network/node-network";
import { RING_VERIFY_PROVIDER_VERSION, ringVerifyProvider } from "../infra/providers/network/ring-verify";
import { NODE_FACTS_PROVIDER_VERSION, nodeFactsProvider } from "../infra/providers/proxmox/node-facts";
import { STORAGE_CONTENT_PROVIDER_VERSION, storageContentProvider } from "../infra/providers/proxmox/storage-content";
import { formatStanzas, interfaceStanzas, ringStanzas } from "../infra/network/interfaces";
import { bringUpMs01Ring, MS01_NODES, MS01_RING } from "./helpers/ring-sim";
import { simConnection } from "./helpers/sim-connection";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;
const conn = (node: string) => simConnection(sim, node, { retries: 1 });
const nodesOf = () => MS01_NODES.map((n) => ({ connection: conn(n).connection }));

async function exec(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyProvider = pulumi.dynamic.ResourceProvider<any, any>;

interface Case {
  /** The provider's module and what the case creates. */
  name: string;
  provider: AnyProvider;
  inputs: () => object;
}

const CASES: Case[] = [
  {
    name: "linux/remote-file (whole file, mode/owner/group left at their defaults)",
    provider: remoteFileProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, path: "/etc/homelab/probe.conf", content: "a=1\n" }),
  },
  {
    name: "linux/remote-file (block in a file)",
    provider: remoteFileProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, path: "/etc/hosts", blockId: "probe", content: "10.9.9.9 probe\n\n" }),
  },
  {
    name: "linux/absent-files",
    provider: absentFilesProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: ABSENT_FILES_PROVIDER_VERSION, paths: ["/etc/apt/sources.list.d/pve-enterprise.list"] }),
  },
  {
    name: "linux/packages",
    provider: packagesProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: PACKAGES_PROVIDER_VERSION, packages: ["htop", "frr"] }),
  },
  {
    name: "linux/linux-user",
    provider: linuxUserProvider,
    inputs: () => ({
      ...conn("frege"),
      providerVersion: LINUX_USER_PROVIDER_VERSION,
      name: "kellen",
      sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMtEugVRhd07Me/7FLwF44Fkv8oSHB/8wKBwv1Nr1SZN kellen@workstation"],
      shell: "/bin/bash",
      groups: [],
      passwordLogin: false,
      removeOnDelete: true,
    }),
  },
  {
    name: "network/node-network",
    provider: interfacesProvider,
    inputs: () => {
      const host = sim.node("russell").host;
      const base = host.replace(/\.\d+$/, "");
      const stanzas = [
        ...interfaceStanzas(
          [
            { type: "nic", name: "eno1" },
            { type: "bridge", name: "vmbr0", ports: ["eno1"], network: "management", address: host },
          ],
          [{ name: "management", cidr: `${base}.0/24` }],
        ),
        ...ringStanzas({ ports: MS01_RING.russell.ports.map((p) => p.name), loopback: MS01_RING.russell.loopback }),
      ];
      return { ...conn("russell"), providerVersion: INTERFACES_PROVIDER_VERSION, content: formatStanzas(stanzas), managementAddress: host, allowManagementChange: true };
    },
  },
  {
    name: "network/ring-verify",
    provider: ringVerifyProvider,
    inputs: () => ({
      providerVersion: RING_VERIFY_PROVIDER_VERSION,
      nodes: MS01_NODES.map((n) => ({ connection: conn(n).connection, loopback: MS01_RING[n].loopback, ports: MS01_RING[n].ports.map((p) => ({ name: p.name, peer: p.peer })) })),
      sshPrivateKey: sim.clientPrivateKey,
      iperfSeconds: 1,
      convergenceSeconds: 2,
    }),
  },
  {
    name: "proxmox/node-facts",
    provider: nodeFactsProvider,
    inputs: () => ({ ...conn("wittgenstein"), providerVersion: NODE_FACTS_PROVIDER_VERSION }),
  },
  {
    name: "proxmox/storage-content",
    provider: storageContentProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: STORAGE_CONTENT_PROVIDER_VERSION, storage: "local", content: ["snippets"] }),
  },
  {
    name: "ceph/ceph-cluster",
    provider: cephClusterProvider,
    inputs: () => ({
      providerVersion: CEPH_CLUSTER_PROVIDER_VERSION,
      nodes: MS01_NODES.map((n) => ({ connection: conn(n).connection, monAddress: MS01_RING[n].loopback })),
      sshPrivateKey: sim.clientPrivateKey,
      publicNetwork: "10.100.0.0/24",
      cephVersion: "squid",
      repository: "no-subscription",
      connectTimeoutSeconds: 2,
      monQuorumTimeoutSeconds: 10,
      pollIntervalSeconds: 0.1,
    }),
  },
  ...MS01_NODES.map(
    (node): Case => ({
      name: `ceph/ceph-osd (${node})`,
      provider: cephOsdsProvider,
      inputs: () => ({
        ...conn(node),
        providerVersion: CEPH_OSDS_PROVIDER_VERSION,
        devices: [{ device: "/dev/nvme1n1", deviceClass: "nvme" }],
        upTimeoutSeconds: 10,
        pollIntervalSeconds: 0.1,
      }),
    }),
  ),
  {
    name: "ceph/ceph-pool",
    provider: cephPoolProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: CEPH_POOL_PROVIDER_VERSION, name: "vm_ssd", size: 3, minSize: 2, osdHosts: 3, pgNum: 64, deviceClass: "nvme", addStorage: true }),
  },
  {
    name: "ceph/ceph-health",
    provider: cephHealthProvider,
    inputs: () => ({ providerVersion: CEPH_HEALTH_PROVIDER_VERSION, nodes: nodesOf(), sshPrivateKey: sim.clientPrivateKey, timeoutSeconds: 20, pollIntervalSeconds: 0.2, connectTimeoutSeconds: 2 }),
  },
];

beforeAll(async () => {
  sim = await startSimCluster(MS01_NODES.map((name) => ({ name })));
  seedQuorateCluster(sim, "ms01", MS01_NODES);
  await bringUpMs01Ring(sim);
  for (const n of MS01_NODES) sim.setDisks(n, [{ name: "nvme1n1", size: 2 * 1024 ** 4 }]);
  await exec("frege", "mkdir -p /etc/apt/sources.list.d && echo 'deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise' > /etc/apt/sources.list.d/pve-enterprise.list");
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("a refresh right after create reports no change", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const created = await c.provider.create!(c.inputs());
      const read = await c.provider.read!(created.id, created.outs);
      expect(read.id).toBe(created.id);
      expect(read.props).toEqual(created.outs);
    });
  }
});
