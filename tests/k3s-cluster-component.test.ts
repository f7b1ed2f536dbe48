/**
 * homelab:k3s:Cluster wiring under mocks: one provider resource with the
 * servers first, the token and kubeconfig secret, the key never in clear;
 * and the argument checks, one sentence per problem.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { K3S_CLUSTER_TYPE, K3sCluster, K3sClusterArgs, K3sHost, k3sClusterProblems } from "../components/k3s-cluster";
import { isSecretValue, runStack, settled, StackRun, stubProviderSerialization } from "./helpers/pulumi-mocks";

stubProviderSerialization();

const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "k3s-cluster-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");
const KEY = "fake-ssh-private-key-for-mock-tests";
const SUM = "a".repeat(64);

function host(name: string, address: string, arch: "amd64" | "arm64" = "amd64", extra: Partial<K3sHost> = {}): K3sHost {
  return { name, address, arch, access: { connection: { node: name, host: address, port: 22, user: "root", hostKey: "SHA256:abc" }, sshPrivateKey: KEY }, ...extra };
}

const base: K3sClusterArgs = {
  clusterName: "edge",
  version: "v1.31.5+k3s1",
  servers: [host("cp1", "10.0.0.31"), host("cp2", "10.0.0.32"), host("cp3", "10.0.0.33")],
  agents: [host("pi1", "10.0.0.41", "arm64", { labels: { "node.kubernetes.io/pi": "true" }, taints: ["arch=arm64:NoSchedule"] })],
  apiAddress: "k8s.edge.example",
  token: "token-from-random-password",
  artifacts: { installScriptSha256: SUM, amd64: { binarySha256: SUM }, arm64: { binarySha256: SUM } },
};

describe("K3sCluster", () => {
  let r: StackRun;
  beforeAll(async () => {
    r = await settled(
      await runStack(STACK_FILE, () => {
        const cluster = new K3sCluster("edge", { ...base, token: pulumi.secret(base.token as string) });
        return { kubeconfig: cluster.kubeconfig, apiEndpoint: cluster.apiEndpoint, nodes: cluster.nodes };
      }),
    );
  });

  it("registers one cluster resource under the component, servers in join order before the agents", () => {
    expect(r.byName("edge").type).toBe(K3S_CLUSTER_TYPE);
    const child = r.byName("edge-cluster");
    expect(child.parent).toBe(r.byName("edge").urn);
    const nodes = child.rawInputs.nodes as { name: string; role: string; arch: string }[];
    expect(nodes.map((n) => `${n.name}:${n.role}:${n.arch}`)).toEqual(["cp1:server:amd64", "cp2:server:amd64", "cp3:server:amd64", "pi1:agent:arm64"]);
    expect(child.rawInputs).toMatchObject({ apiAddress: "k8s.edge.example", uninstallOnDestroy: false, pins: { installScriptSha256: SUM, binarySha256: { amd64: SUM, arm64: SUM } } });
  });

  it("keeps the token, the SSH key and the kubeconfig secret; the component stores no secret", () => {
    const child = r.byName("edge-cluster");
    expect(isSecretValue(child.rawInputs.token)).toBe(true);
    expect(isSecretValue(child.rawInputs.sshPrivateKey)).toBe(true);
    expect(child.additionalSecretOutputs).toEqual(expect.arrayContaining(["token", "sshPrivateKey", "kubeconfig"]));
    expect(r.secretOutputs.kubeconfig).toBe(true);
    expect(JSON.stringify(r.byName("edge").rawInputs)).not.toContain("token-from");
    expect(r.outputs.apiEndpoint).toBe("https://k8s.edge.example:6443");
    expect(r.outputs.nodes).toEqual(["cp1", "cp2", "cp3", "pi1"]);
  });
});

describe("K3sCluster argument checks", () => {
  it("accepts the example", () => {
    expect(k3sClusterProblems(base)).toEqual([]);
  });

  it("refuses an even number of servers, a repeated node, a bad taint and label, and a bad version", () => {
    expect(
      k3sClusterProblems({
        ...base,
        version: "1.31.5",
        servers: [host("cp1", "10.0.0.31"), host("cp2", "10.0.0.32")],
        agents: [host("cp2", "10.0.0.42", "amd64", { taints: ["gpu:Sometimes"], labels: { "bad key": "x" } })],
      }),
    ).toEqual([
      'version: "1.31.5" is not a K3s release name like "v1.31.5+k3s1"',
      "servers: 2 given; give 1 server, or an odd number (3, 5, …) for embedded etcd",
      'nodes: "cp2" is listed twice',
      'cp2.taints: "gpu:Sometimes" is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute',
      'cp2.labels: "bad key" is not a Kubernetes label key',
    ]);
  });

  it("refuses an address or API address that is neither an IP address nor a DNS name, and a bad timeout", () => {
    expect(k3sClusterProblems({ ...base, apiAddress: "https://k8s", servers: [host("cp1", "10.0.0.31 ")], agents: [], readyTimeoutSeconds: 0 })).toEqual([
      'cp1.address: "10.0.0.31 " is not an IP address or DNS name',
      'apiAddress: "https://k8s" is not an IP address or DNS name',
      "readyTimeoutSeconds: 0 is not a positive whole number of seconds",
    ]);
    expect(k3sClusterProblems({ ...base, apiAddress: "fd00::10", servers: [host("cp1", "fd00::31")], agents: [] })).toEqual([]);
  });

  it("downloads nothing unpinned: every architecture in use and install.sh need a checksum", () => {
    expect(k3sClusterProblems({ ...base, artifacts: { amd64: { binarySha256: SUM } } })).toEqual([
      'artifacts.arm64.binarySha256: no checksum is pinned for K3s v1.31.5+k3s1 on arm64; give the "k3s-arm64" line of sha256sum-arm64.txt of that release',
      "artifacts.installScriptSha256: no checksum is pinned for install.sh of K3s v1.31.5+k3s1; give the sha256 of install.sh at that tag",
    ]);
  });
});
