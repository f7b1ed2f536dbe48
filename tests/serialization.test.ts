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
  ["infra/providers/node-facts.ts", "nodeFactsProvider"],
  ["infra/providers/remote-file.ts", "remoteFileProvider"],
  ["infra/providers/packages.ts", "packagesProvider"],
  ["infra/providers/linux-user.ts", "linuxUserProvider"],
  ["infra/providers/node-network.ts", "interfacesProvider"],
  ["infra/providers/ring-verify.ts", "ringVerifyProvider"],
  ["infra/providers/cluster.ts", "clusterProvider"],
  ["infra/providers/api-role.ts", "pveRoleProvider"],
  ["infra/providers/api-user.ts", "pveUserProvider"],
  ["infra/providers/api-token.ts", "pveApiTokenProvider"],
  ["infra/providers/ceph-cluster.ts", "cephClusterProvider"],
  ["infra/providers/ceph-osd.ts", "cephOsdsProvider"],
  ["infra/providers/ceph-pool.ts", "cephPoolProvider"],
  ["infra/providers/ceph-health.ts", "cephHealthProvider"],
  ["infra/providers/ha.ts", "haResourceProvider"],
  ["infra/providers/ha.ts", "haPlacementProvider"],
  ["infra/providers/cloud-template.ts", "cloudTemplateProvider"],
  ["infra/providers/storage-content.ts", "storageContentProvider"],
  ["infra/providers/guest-address.ts", "guestAddressProvider"],
  ["infra/providers/absent-files.ts", "absentFilesProvider"],
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
