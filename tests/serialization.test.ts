/**
 * Every dynamic provider, serialized the way `pulumi up` does (ts-node, the
 * engine's closure serializer) and loaded the way the engine loads it.
 * Catches what only breaks under the engine: a captured secret, a captured
 * client, a read of an `export const` (compiled to `exports.X`, which the
 * serializer leaves undefined), and an error that loses its words (the
 * serializer turns error classes into plain constructor functions).
 */
import * as net from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { failure } from "./helpers/failure";
import { serializeProvider } from "./helpers/serialize";
import { pveInstallSource } from "../infra/pve-install";

/** A local port nothing listens on: connecting to it is refused at once. */
let closedPort = 0;
beforeAll(async () => {
  closedPort = await new Promise<number>((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
});

/** A node whose SSH port refuses connections; one attempt, no retry wait. */
function unreachable(node = "golf") {
  return {
    node,
    host: "127.0.0.1",
    port: closedPort,
    user: "root",
    insecureIgnoreHostKey: true,
    agentSocket: "/nonexistent/agent.sock",
    options: { connectTimeoutMs: 2000, retries: 0, retryBaseDelayMs: 1 },
  };
}

function refused(node = "golf"): string {
  return `${node}: cannot connect to 127.0.0.1:${closedPort} after 1 attempt(s): connect ECONNREFUSED 127.0.0.1:${closedPort}`;
}

interface Case {
  file: string;
  exportName: string;
  /** Inputs of a create that must fail, and the exact message it must fail with. */
  failing: () => { inputs: Record<string, unknown>; message: string };
}

const single = (extra: Record<string, unknown>) => () => ({
  inputs: { providerVersion: "1", connection: unreachable(), ...extra },
  message: refused(),
});

const CASES: Case[] = [
  { file: "infra/providers/proxmox/node-facts.ts", exportName: "nodeFactsProvider", failing: single({}) },
  { file: "infra/providers/linux/remote-file.ts", exportName: "remoteFileProvider", failing: single({ path: "/etc/x", content: "x\n" }) },
  { file: "infra/providers/linux/packages.ts", exportName: "packagesProvider", failing: single({ packages: ["jq"] }) },
  { file: "infra/providers/linux/linux-user.ts", exportName: "linuxUserProvider", failing: single({ name: "ops" }) },
  { file: "infra/providers/network/node-network.ts", exportName: "interfacesProvider", failing: single({ block: "auto lo\n", managementAddress: "127.0.0.1" }) },
  { file: "infra/providers/network/ring-verify.ts", exportName: "ringVerifyProvider", failing: () => ({
      inputs: { providerVersion: "1", nodes: [{ connection: unreachable(), loopback: "10.99.0.1", ports: [{ name: "en05", peer: "hotel" }] }] },
      message: refused(),
    }) },
  { file: "infra/providers/proxmox/cluster.ts", exportName: "clusterProvider", failing: () => ({
      inputs: { providerVersion: "1", clusterName: "lab", allowSmallCluster: true, nodes: [{ connection: unreachable(), links: { link0: "10.0.0.1" } }] },
      message: `cluster "lab": refusing to change anything:\n  - golf is unreachable: ${refused().slice("golf: ".length)}`,
    }) },
  { file: "infra/providers/proxmox/environment-gate.ts", exportName: "environmentGateProvider", failing: () => ({
      inputs: { providerVersion: "1", clusterName: "lab", nodes: [unreachable()] },
      message: `Refusing to change anything:\n  - ${refused()}`,
    }) },
  { file: "infra/providers/proxmox/firewall-verify.ts", exportName: "firewallVerifyProvider", failing: () => ({
      inputs: { providerVersion: "1", nodes: [unreachable()], adminNetworks: ["10.0.0.0/24"], ports: [22, 8006], expectedRules: "" },
      message: `firewall: refusing to change anything:\n  - ${refused()}\n(the firewall stays off; fix the rules, then run again)`,
    }) },
  { file: "infra/providers/proxmox/firewall-ssh-check.ts", exportName: "firewallSshCheckProvider", failing: () => ({
      inputs: { providerVersion: "1", nodes: [unreachable()], appliedRules: "[RULES]\n\nIN ACCEPT -p tcp -dport 22\n", enabled: true, settleSeconds: 0 },
      message:
        `firewall: golf stopped answering over SSH after the firewall change:\n  - ${refused()}\n` +
        "the rule set applied (/etc/pve/firewall/cluster.fw):\n    [RULES]\n    IN ACCEPT -p tcp -dport 22\n" +
        "from the node's console: pve-firewall stop, then fix the rules",
    }) },
  { file: "infra/providers/proxmox/sdn-apply.ts", exportName: "sdnApplyProvider", failing: () => ({
      inputs: { providerVersion: "1", nodes: [unreachable()], config: "[]" },
      message: `sdn apply: no cluster member answers over SSH:\n  - ${refused()}`,
    }) },
  { file: "infra/providers/proxmox/api-role.ts", exportName: "pveRoleProvider", failing: single({ roleName: "Ops", privileges: ["VM.Audit"] }) },
  { file: "infra/providers/proxmox/api-user.ts", exportName: "pveUserProvider", failing: single({ userid: "ops@pve", roleName: "Ops", aclPath: "/", comment: "" }) },
  { file: "infra/providers/proxmox/api-token.ts", exportName: "pveApiTokenProvider", failing: single({ userid: "ops@pve", tokenName: "ci", privsep: true, roleName: "Ops", aclPath: "/", rotation: "" }) },
  { file: "infra/providers/proxmox/node-certificate.ts", exportName: "nodeCertificateProvider", failing: single({ address: "10.0.0.1" }) },
  { file: "infra/providers/proxmox/qdevice.ts", exportName: "qdeviceProvider", failing: () => ({
      inputs: {
        providerVersion: "1",
        clusterName: "nexus",
        members: [unreachable("alpha"), unreachable("bravo")],
        qnetd: { ...unreachable("quorum-pi"), host: "127.0.0.2" },
      },
      message:
        "QDevice of nexus: refusing to change anything:\n" +
        `  - a member cannot be reached: ${refused("alpha")}\n` +
        `  - a member cannot be reached: ${refused("bravo")}\n` +
        `  - the QDevice host cannot be reached: ${refused("quorum-pi").replace(/127\.0\.0\.1/g, "127.0.0.2")}`,
    }) },
  { file: "infra/providers/ceph/ceph-cluster.ts", exportName: "cephClusterProvider", failing: () => ({
      inputs: { providerVersion: "1", nodes: [{ connection: unreachable() }], publicNetwork: "10.0.0.0/24", cephVersion: "squid", repository: "no-subscription" },
      message: `Ceph: refusing to change anything:\n  - cannot reach golf: ${refused().slice("golf: ".length)}`,
    }) },
  { file: "infra/providers/ceph/ceph-osd.ts", exportName: "cephOsdsProvider", failing: single({ devices: [] }) },
  { file: "infra/providers/ceph/ceph-pool.ts", exportName: "cephPoolProvider", failing: single({ name: "vm", size: 3, minSize: 2, autoscale: true, application: "rbd", addStorage: true, osdHosts: 3 }) },
  { file: "infra/providers/ceph/ceph-health.ts", exportName: "cephHealthProvider", failing: () => ({
      inputs: { providerVersion: "1", nodes: [{ connection: unreachable() }] },
      message: `cannot check Ceph health: no node answers:\n  - ${refused()}`,
    }) },
  { file: "infra/providers/proxmox/ha.ts", exportName: "haResourceProvider", failing: () => ({
      inputs: { providerVersion: "1", connection: unreachable(), vmid: 100, state: "running", maxRestart: 1, maxRelocate: 1 },
      message: 'golf: HA resource vm:100: state "running" is not one of started, stopped, disabled, ignored',
    }) },
  { file: "infra/providers/proxmox/ha.ts", exportName: "haPlacementProvider", failing: single({ name: "prefer-golf", nodes: [{ node: "golf", priority: 2 }], strict: false, nofailback: false, resources: ["vm:100"] }) },
  { file: "infra/providers/proxmox/cloud-template.ts", exportName: "cloudTemplateProvider", failing: single({ vmid: 9000 }) },
  { file: "infra/providers/proxmox/storage-content.ts", exportName: "storageContentProvider", failing: single({ storage: "local", content: ["images"] }) },
  { file: "infra/providers/proxmox/guest-address.ts", exportName: "guestAddressProvider", failing: single({ vmid: 100 }) },
  { file: "infra/providers/proxmox/installer-eject.ts", exportName: "installerEjectProvider", failing: () => ({
      inputs: { providerVersion: "1", connections: [unreachable()], vmid: 100, name: "talos-1", drive: "ide3", isoVolid: "local:iso/talos.iso" },
      message: refused(),
    }) },
  { file: "infra/providers/proxmox/guest-host-key.ts", exportName: "guestHostKeyProvider", failing: single({ vmid: 100, name: "vm100", timeoutSeconds: 1, pollSeconds: 1 }) },
  { file: "infra/providers/linux/absent-files.ts", exportName: "absentFilesProvider", failing: single({ paths: ["/etc/x"] }) },
  { file: "infra/providers/linux/ssh-ready.ts", exportName: "sshReadyProvider", failing: () => ({
      inputs: { providerVersion: "1", connection: { ...unreachable(), insecureIgnoreHostKey: undefined }, timeoutSeconds: 1, pollSeconds: 1, trustOnFirstUse: false },
      message: "golf: no pinned host key, and trustOnFirstUse is off; refusing to trust an unknown key",
    }) },
  { file: "infra/providers/linux/timezone.ts", exportName: "timezoneProvider", failing: single({ timezone: "Europe/Berlin" }) },
  { file: "infra/providers/linux/unit-disabled.ts", exportName: "unitDisabledProvider", failing: single({ unit: "dnsmasq.service" }) },
  { file: "infra/providers/linux/kernel-settings.ts", exportName: "kernelSettingsProvider", failing: single({ sysctlFile: "/etc/sysctl.d/90-homelab.conf", sysctls: { "vm.swappiness": "10" }, kernelParameters: ["iommu=pt"] }) },
  { file: "infra/providers/linux/disk-inventory.ts", exportName: "diskInventoryProvider", failing: single({}) },
  { file: "infra/providers/proxmox/pve-install.ts", exportName: "pveInstallProvider", failing: single({ pveMajor: 9, address: "127.0.0.1", source: pveInstallSource(9), rebootTimeoutSeconds: 60 }) },
  { file: "infra/providers/talos/rescue-install.ts", exportName: "rescueInstallProvider", failing: single({
      imageUrl: "https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.5/metal-amd64.raw.xz",
      imageSha256: "0".repeat(64),
      disk: "/dev/sda",
    }) },
  { file: "infra/providers/k3s/k3s-cluster.ts", exportName: "k3sClusterProvider", failing: () => ({
      inputs: {
        providerVersion: "1",
        clusterName: "pi",
        version: "v1.31.5+k3s1",
        nodes: [{ name: "golf", role: "server", arch: "amd64", address: "10.0.0.1", labels: {}, taints: [], connection: unreachable() }],
      },
      message: refused(),
    }) },
  { file: "infra/providers/talos/talos-cluster.ts", exportName: "talosClusterProvider", failing: () => ({
      inputs: {
        providerVersion: "1",
        clusterName: "lab",
        talosVersion: "v1.11.5",
        kubernetesVersion: "1.34.1",
        talosctl: { path: "/nonexistent/talosctl", version: "v1.11.5" },
        installImage: `factory.talos.dev/installer/${"0".repeat(64)}:v1.11.5`,
        endpoint: "10.0.0.11",
        nodes: [{ name: "cp-1", address: "10.0.0.11", role: "controlplane", patches: [] }],
        clusterPatches: [],
        controlPlanePatches: [],
        workerPatches: [],
        cniNone: true,
      },
      message: "lab: talosctl version failed (exit 127): cannot run /nonexistent/talosctl (ENOENT)\n  command: talosctl version --client",
    }) },
  { file: "infra/providers/talos/nodes-ready.ts", exportName: "kubernetesNodesReadyProvider", failing: () => ({
      inputs: { providerVersion: "1", kubeconfig: "apiVersion: v1\n", nodeNames: ["cp-1"], timeoutMs: 1000, kubectlPath: "/nonexistent/kubectl" },
      message: "kubernetes: kubectl get nodes failed (exit 127): cannot run /nonexistent/kubectl (ENOENT)\n  command: kubectl get nodes --output json --kubeconfig <tmp>/kubeconfig",
    }) },
];

describe.each(CASES)("$file $exportName", ({ file, exportName, failing }) => {
  it("serializes without secrets or module-export reads, loads with every method, and fails in words", async () => {
    const serialized = serializeProvider(file, exportName);
    expect(serialized.containsSecrets).toBe(false);
    expect(serialized.text).not.toMatch(/PRIVATE KEY/);
    // Only the serializer's own `exports.handler` may touch `exports`.
    const exportReads = serialized.text.match(/\bexports\.(?!handler\b)[A-Za-z_$][\w$]*/g) ?? [];
    expect(exportReads).toEqual([]);
    const provider = serialized.load();
    for (const method of ["create", "read", "diff", "delete"] as const) {
      expect(typeof provider[method], method).toBe("function");
    }
    const { inputs, message } = failing();
    const err = await failure(provider.create!(inputs));
    // What the engine shows: the message, and `${err}` in its log lines.
    expect(err.message).toBe(message);
    expect(String(err)).toContain(message);
  });
});

describe("error classes under the serializer", () => {
  it("keep their name, node, command and sentence, and are recognised by name", async () => {
    const provider = serializeProvider("tests/fixtures/error-classes.ts", "errorClassesProvider").load();
    const { outs } = await provider.create!({});
    const byName = Object.fromEntries((outs.errors as { name: string; message: string }[]).map((e) => [e.name, e]));
    expect(Object.keys(byName).sort()).toEqual([
      "AuthenticationError",
      "CephClusterError",
      "CephHealthError",
      "CephOsdError",
      "CephPoolError",
      "ClusterError",
      "CommandFailedError",
      "CommandTimeoutError",
      "EnvironmentRefusedError",
      "HostKeyMismatchError",
      "InterfaceConfigError",
      "NetworkApplyError",
      "NodeError",
      "NodeUnreachableError",
    ]);
    for (const e of Object.values(byName) as { name: string; message: string; text: string; via: string }[]) {
      expect(e.text).toBe(`${e.name}: ${e.message}`);
      expect(e.via).toBe(e.message);
    }
    expect(byName.CommandFailedError).toEqual({
      name: "CommandFailedError",
      message: "golf: ceph mon failed (exit 22): Error EINVAL: no valid command found\n  command: ceph mon dump",
      text: "CommandFailedError: golf: ceph mon failed (exit 22): Error EINVAL: no valid command found\n  command: ceph mon dump",
      via: "golf: ceph mon failed (exit 22): Error EINVAL: no valid command found\n  command: ceph mon dump",
      node: "golf",
      command: "ceph mon dump",
      isNode: true,
      isCommandFailed: true,
      isCommandTimeout: false,
    });
    expect(byName.NetworkApplyError).toMatchObject({ message: "golf: ifreload -a failed", node: "golf", isNode: true, isCommandFailed: false });
    expect(byName.CommandTimeoutError).toMatchObject({
      message: "golf: pvecm add timed out after 5 s\n  command: pvecm add 10.0.0.1",
      isCommandTimeout: true,
    });
    expect(byName.HostKeyMismatchError.message).toMatch(/^golf: host key mismatch for 10\.0\.0\.1:22: config pins SHA256:a but the host presented SHA256:b/);
    expect(byName.ClusterError).toMatchObject({ message: "cluster refused", isNode: false });
    expect(byName.InterfaceConfigError.message).toBe("bad interface");
  });
});

describe("k3sClusterProvider after serialization", () => {
  it("still explains a refused cluster in words (check: an even number of servers)", async () => {
    const provider = serializeProvider("infra/providers/k3s/k3s-cluster.ts", "k3sClusterProvider").load();
    const server = (name: string) => ({ name, role: "server", arch: "amd64", address: "10.0.0.1", labels: {}, taints: [], connection: { node: name, host: "10.0.0.1", port: 22, user: "root" } });
    const result = await provider.check!({}, { nodes: [server("a"), server("b")] });
    expect(result.failures).toEqual([{ property: "nodes", reason: "servers: 2 given; K3s needs 1 server, or an odd number (3, 5, …) for embedded etcd" }]);
  });
});
