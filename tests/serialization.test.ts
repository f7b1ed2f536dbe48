/**
 * Every dynamic provider, serialized the way `pulumi up` does (ts-node, the
 * engine's closure serializer) and loaded the way the engine loads it.
 * Catches what only breaks under the engine: a captured secret, a captured
 * client, or a read of an `export const` (compiled to `exports.X`, which the
 * serializer leaves undefined).
 */
import { describe, expect, it } from "vitest";
import { serializeProvider } from "./helpers/serialize";

const PROVIDERS: [string, string][] = [
  ["infra/providers/proxmox/node-facts.ts", "nodeFactsProvider"],
  ["infra/providers/proxmox/environment-gate.ts", "environmentGateProvider"],
  ["infra/providers/linux/remote-file.ts", "remoteFileProvider"],
  ["infra/providers/linux/packages.ts", "packagesProvider"],
  ["infra/providers/linux/linux-user.ts", "linuxUserProvider"],
  ["infra/providers/network/node-network.ts", "interfacesProvider"],
  ["infra/providers/network/ring-verify.ts", "ringVerifyProvider"],
  ["infra/providers/proxmox/cluster.ts", "clusterProvider"],
  ["infra/providers/proxmox/api-role.ts", "pveRoleProvider"],
  ["infra/providers/proxmox/api-user.ts", "pveUserProvider"],
  ["infra/providers/proxmox/api-token.ts", "pveApiTokenProvider"],
  ["infra/providers/ceph/ceph-cluster.ts", "cephClusterProvider"],
  ["infra/providers/ceph/ceph-osd.ts", "cephOsdsProvider"],
  ["infra/providers/ceph/ceph-pool.ts", "cephPoolProvider"],
  ["infra/providers/ceph/ceph-health.ts", "cephHealthProvider"],
  ["infra/providers/proxmox/ha.ts", "haResourceProvider"],
  ["infra/providers/proxmox/ha.ts", "haPlacementProvider"],
  ["infra/providers/proxmox/cloud-template.ts", "cloudTemplateProvider"],
  ["infra/providers/proxmox/storage-content.ts", "storageContentProvider"],
  ["infra/providers/proxmox/guest-address.ts", "guestAddressProvider"],
  ["infra/providers/linux/absent-files.ts", "absentFilesProvider"],
  ["infra/providers/linux/ssh-ready.ts", "sshReadyProvider"],
  ["infra/providers/k3s/k3s-cluster.ts", "k3sClusterProvider"],
  ["infra/providers/linux/timezone.ts", "timezoneProvider"],
];

describe.each(PROVIDERS)("%s", (file, exportName) => {
  it(`${exportName} serializes without secrets or module-export reads, and loads with every method`, () => {
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
