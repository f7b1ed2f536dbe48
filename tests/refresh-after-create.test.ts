/**
 * A refresh right after an up reports no change, for every dynamic provider: on a simulated ms01
 * (three nodes, the Thunderbolt ring modelled; the cluster case forms the cluster the later ones use), each provider's `create` runs against the
 * nodes and its `read` right after must return the same id and exactly the outputs create stored.
 * The cases run in order, so later ones build on what earlier ones created (Ceph, then its OSDs,
 * pools and health).
 */
import * as fs from "node:fs";
import * as path from "node:path";
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
import { IMAGE_CATALOG } from "../infra/images";
import { PVE_API_TOKEN_PROVIDER_VERSION, pveApiTokenProvider } from "../infra/providers/proxmox/api-token";
import { PVE_ROLE_PROVIDER_VERSION, pveRoleProvider } from "../infra/providers/proxmox/api-role";
import { DEFAULT_USER_COMMENT, PVE_USER_PROVIDER_VERSION, pveUserProvider } from "../infra/providers/proxmox/api-user";
import { CLOUD_TEMPLATE_PROVIDER_VERSION, cloudTemplateProvider, DEFAULT_TEMPLATE_HARDWARE } from "../infra/providers/proxmox/cloud-template";
import { CLUSTER_PROVIDER_VERSION, clusterProvider } from "../infra/providers/proxmox/cluster";
import { NODE_CERTIFICATE_PROVIDER_VERSION, nodeCertificateProvider } from "../infra/providers/proxmox/node-certificate";
import { GUEST_ADDRESS_PROVIDER_VERSION, guestAddressProvider } from "../infra/providers/proxmox/guest-address";
import { GUEST_HOST_KEY_PROVIDER_VERSION, guestHostKeyProvider } from "../infra/providers/proxmox/guest-host-key";
import { HA_PROVIDER_VERSION, haPlacementProvider, haResourceProvider } from "../infra/providers/proxmox/ha";
import { SSH_READY_PROVIDER_VERSION, sshReadyProvider } from "../infra/providers/linux/ssh-ready";
import { TIMEZONE_PROVIDER_VERSION, timezoneProvider } from "../infra/providers/linux/timezone";
import { UNIT_DISABLED_PROVIDER_VERSION, unitDisabledProvider } from "../infra/providers/linux/unit-disabled";
import { KERNEL_SETTINGS_PROVIDER_VERSION, kernelSettingsProvider } from "../infra/providers/linux/kernel-settings";
import { DISK_INVENTORY_PROVIDER_VERSION, diskInventoryProvider } from "../infra/providers/linux/disk-inventory";
import { PVE_INSTALL_PROVIDER_VERSION, pveInstallProvider } from "../infra/providers/proxmox/pve-install";
import { pveInstallSource } from "../infra/pve-install";
import { ENVIRONMENT_GATE_PROVIDER_VERSION, environmentGateProvider } from "../infra/providers/proxmox/environment-gate";
import { FIREWALL_SSH_CHECK_PROVIDER_VERSION, firewallSshCheckProvider } from "../infra/providers/proxmox/firewall-ssh-check";
import { FIREWALL_VERIFY_PROVIDER_VERSION, firewallVerifyProvider } from "../infra/providers/proxmox/firewall-verify";
import { SDN_APPLY_PROVIDER_VERSION, sdnApplyProvider } from "../infra/providers/proxmox/sdn-apply";
import { NODE_FACTS_PROVIDER_VERSION, nodeFactsProvider } from "../infra/providers/proxmox/node-facts";
import { STORAGE_CONTENT_PROVIDER_VERSION, storageContentProvider } from "../infra/providers/proxmox/storage-content";
import { formatStanzas, interfaceStanzas, ringStanzas } from "../infra/network/interfaces";
import { bringUpMs01Ring, MS01_NODES, MS01_RING } from "./helpers/ring-sim";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;
const ROOT_PASSWORD = "Corr3ct horse battery";
const MAC = "BC:24:11:AA:BB:CC";
const ROCKY = IMAGE_CATALOG.rocky9;
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
    name: "linux/timezone",
    provider: timezoneProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: TIMEZONE_PROVIDER_VERSION, timezone: "Europe/Berlin" }),
  },
  {
    name: "linux/unit-disabled",
    provider: unitDisabledProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: UNIT_DISABLED_PROVIDER_VERSION, unit: "dnsmasq.service" }),
  },
  {
    name: "linux/ssh-ready",
    provider: sshReadyProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: SSH_READY_PROVIDER_VERSION, timeoutSeconds: 30, pollSeconds: 1, trustOnFirstUse: false }),
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
    name: "linux/kernel-settings (sysctls from the file beforeAll writes, a GRUB parameter)",
    provider: kernelSettingsProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: KERNEL_SETTINGS_PROVIDER_VERSION, sysctlFile: "/etc/sysctl.d/90-homelab.conf", sysctls: { "vm.swappiness": "10" }, kernelParameters: ["iommu=pt"] }),
  },
  {
    name: "linux/disk-inventory",
    provider: diskInventoryProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: DISK_INVENTORY_PROVIDER_VERSION }),
  },
  {
    name: "proxmox/pve-install (a node that already runs Proxmox VE 8)",
    provider: pveInstallProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: PVE_INSTALL_PROVIDER_VERSION, pveMajor: 8, address: sim.node("frege").host, source: pveInstallSource(8), rebootTimeoutSeconds: 60 }),
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
    name: "proxmox/cluster",
    provider: clusterProvider,
    inputs: () => ({
      providerVersion: CLUSTER_PROVIDER_VERSION,
      clusterName: "ms01",
      nodes: MS01_NODES.map((n) => ({ connection: conn(n).connection, links: { link0: sim.node(n).host, link1: MS01_RING[n].loopback } })),
      sshPrivateKey: sim.clientPrivateKey,
      rootPassword: ROOT_PASSWORD,
      quorumTimeoutSeconds: 10,
      quorumPollIntervalSeconds: 0.1,
    }),
  },
  {
    // No cluster.fw yet: PVE's management IP set holds the local network, which the admin network is.
    name: "proxmox/firewall-verify",
    provider: firewallVerifyProvider,
    inputs: () => ({
      providerVersion: FIREWALL_VERIFY_PROVIDER_VERSION,
      nodes: MS01_NODES.map((n) => conn(n).connection),
      sshPrivateKey: sim.clientPrivateKey,
      adminNetworks: [`${sim.node("frege").host.replace(/\.\d+$/, "")}.0/24`],
      ports: [22, 8006],
      expectedRules: "",
    }),
  },
  {
    name: "proxmox/firewall-ssh-check",
    provider: firewallSshCheckProvider,
    inputs: () => ({
      providerVersion: FIREWALL_SSH_CHECK_PROVIDER_VERSION,
      nodes: MS01_NODES.map((n) => conn(n).connection),
      sshPrivateKey: sim.clientPrivateKey,
      appliedRules: "",
      enabled: false,
      settleSeconds: 5,
    }),
  },
  {
    name: "proxmox/sdn-apply (nothing pending)",
    provider: sdnApplyProvider,
    inputs: () => ({ providerVersion: SDN_APPLY_PROVIDER_VERSION, nodes: MS01_NODES.map((n) => conn(n).connection), sshPrivateKey: sim.clientPrivateKey, config: "[]" }),
  },
  {
    name: "proxmox/environment-gate",
    provider: environmentGateProvider,
    inputs: () => ({
      nodes: MS01_NODES.map((n) => conn(n).connection),
      sshPrivateKey: sim.clientPrivateKey,
      clusterName: "ms01",
      providerVersion: ENVIRONMENT_GATE_PROVIDER_VERSION,
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
    name: "proxmox/api-role",
    provider: pveRoleProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: PVE_ROLE_PROVIDER_VERSION, roleName: "Automation" }),
  },
  {
    name: "proxmox/api-user",
    provider: pveUserProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: PVE_USER_PROVIDER_VERSION, userid: "automation@pve", roleName: "Automation", aclPath: "/", comment: DEFAULT_USER_COMMENT }),
  },
  {
    name: "proxmox/api-token",
    provider: pveApiTokenProvider,
    inputs: () => ({
      ...conn("frege"),
      providerVersion: PVE_API_TOKEN_PROVIDER_VERSION,
      userid: "automation@pve",
      tokenName: "pulumi",
      privsep: true,
      roleName: "Automation",
      aclPath: "/",
      rotation: "",
    }),
  },
  {
    name: "proxmox/cloud-template",
    provider: cloudTemplateProvider,
    inputs: () => ({
      ...conn("frege"),
      providerVersion: CLOUD_TEMPLATE_PROVIDER_VERSION,
      vmid: 7000,
      name: "rocky9-template",
      imagePath: `/root/images/${ROCKY.fileName}`,
      imageChecksum: ROCKY.url,
      storage: "local-lvm",
      bridge: "vmbr0",
      diskSize: "32G",
      hardware: { ...DEFAULT_TEMPLATE_HARDWARE },
      ciUser: ROCKY.defaultUser,
      sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx7example admin@laptop"],
      ipconfig0: "ip=dhcp",
      tags: ROCKY.tags,
    }),
  },
  {
    name: "proxmox/guest-address",
    provider: guestAddressProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: GUEST_ADDRESS_PROVIDER_VERSION, vmid: 300, name: "vm300", mac: MAC, timeoutSeconds: 30, pollSeconds: 1 }),
  },
  {
    name: "proxmox/guest-host-key",
    provider: guestHostKeyProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: GUEST_HOST_KEY_PROVIDER_VERSION, vmid: 300, name: "vm300", timeoutSeconds: 30, pollSeconds: 1 }),
  },
  {
    name: "proxmox/ha (resource)",
    provider: haResourceProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: HA_PROVIDER_VERSION, vmid: 300, state: "started", maxRestart: 1, maxRelocate: 1 }),
  },
  {
    name: "proxmox/ha (placement)",
    provider: haPlacementProvider,
    inputs: () => ({
      ...conn("frege"),
      providerVersion: HA_PROVIDER_VERSION,
      name: "spread",
      nodes: [{ node: "frege", priority: 2 }, { node: "russell", priority: 1 }],
      strict: false,
      nofailback: false,
      resources: ["vm:300"],
    }),
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
    inputs: () => ({ ...conn("frege"), providerVersion: CEPH_POOL_PROVIDER_VERSION, name: "vm_ssd", size: 3, minSize: 2, osdHosts: 3, pgNum: 64, autoscale: false, application: "rbd", deviceClass: "nvme", addStorage: true }),
  },
  {
    name: "proxmox/node-certificate",
    provider: nodeCertificateProvider,
    inputs: () => ({ ...conn("frege"), providerVersion: NODE_CERTIFICATE_PROVIDER_VERSION, address: sim.node("frege").host }),
  },
  {
    name: "ceph/ceph-health",
    provider: cephHealthProvider,
    inputs: () => ({ providerVersion: CEPH_HEALTH_PROVIDER_VERSION, nodes: nodesOf(), sshPrivateKey: sim.clientPrivateKey, timeoutSeconds: 20, pollIntervalSeconds: 0.2, connectTimeoutSeconds: 2 }),
  },
];

beforeAll(async () => {
  sim = await startSimCluster(MS01_NODES.map((name) => ({ name })));
  // pvecm add checks the founder's root password; the ring loopbacks are corosync's link1.
  sim.mutateState((s) => {
    for (const n of MS01_NODES) s.nodes[n].rootPassword = ROOT_PASSWORD;
  });
  await bringUpMs01Ring(sim);
  // the template's image on the node, and a running clone with the guest agent for GuestAddress and HA
  await exec("frege", `mkdir -p /root/images && truncate -s 10G /root/images/${ROCKY.fileName}`);
  sim.addGuest("frege", 300, "vm300", { status: "running" });
  sim.mutateState((s) => {
    const g = s.nodes.frege.guests["300"] as unknown as Record<string, unknown>;
    g.config = { agent: "1", net0: `virtio=${MAC},bridge=vmbr0`, ipconfig0: "ip=dhcp" };
  });
  for (const n of MS01_NODES) sim.setDisks(n, [{ name: "nvme1n1", size: 2 * 1024 ** 4 }]);
  await exec("frege", "mkdir -p /etc/apt/sources.list.d && echo 'deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise' > /etc/apt/sources.list.d/pve-enterprise.list");
  await exec("frege", "mkdir -p /etc/sysctl.d && echo 'vm.swappiness = 10' > /etc/sysctl.d/90-homelab.conf");
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

/** Providers whose read-after-create check lives with their own simulated hosts (plain Linux, not ms01). */
const COVERED_ELSEWHERE: Record<string, string> = {
  "k3s/k3s-cluster.ts: k3sClusterProvider": "tests/k3s-cluster.test.ts",
  // Local talosctl/kubectl against the simulated Talos nodes (tests/sim/talos.ts), no SSH host.
  "talos/talos-cluster.ts: talosClusterProvider": "tests/talos-cluster.test.ts",
  "talos/nodes-ready.ts: kubernetesNodesReadyProvider": "tests/talos-cluster.test.ts",
  "talos/rescue-install.ts: rescueInstallProvider": "tests/rescue-install.test.ts",
  // Needs an even-sized cluster and a qnetd host: a 2-node cluster and a plain Debian host there.
  "proxmox/qdevice.ts: qdeviceProvider": "tests/qdevice.test.ts",
  // Runs no command: its read returns what it holds (tests/talos-node-plan.test.ts).
  "talos/node-plan.ts: talosNodePlanProvider": "tests/talos-node-plan.test.ts",
  // Needs an installed VM with the ISO in its drive: tests/installer-eject.test.ts seeds one.
  "proxmox/installer-eject.ts: installerEjectProvider": "tests/installer-eject.test.ts",
};

describe("a refresh right after create reports no change", () => {
  it("covers every dynamic provider in infra/providers", async () => {
    const root = path.join(__dirname, "..", "infra", "providers");
    const providers: string[] = [];
    for (const dir of fs.readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).sort()) {
      const mod = (await import(path.join(root, dir))) as Record<string, unknown>;
      const text = fs.readFileSync(path.join(root, dir), "utf8");
      for (const m of text.matchAll(/^export const (\w+): pulumi\.dynamic\.ResourceProvider/gm)) {
        if (!CASES.some((c) => c.provider === mod[m[1]]) && !COVERED_ELSEWHERE[`${dir}: ${m[1]}`]) providers.push(`${dir}: ${m[1]}`);
      }
    }
    expect(providers, "providers without a case").toEqual([]);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const created = await c.provider.create!(c.inputs());
      const read = await c.provider.read!(created.id, created.outs);
      expect(read.id).toBe(created.id);
      expect(read.props).toEqual(created.outs);
    });
  }
});
