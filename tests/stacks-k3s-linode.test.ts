/**
 * The Linode and Pi-farm stack files, and matrix's K3s on VM clones, run
 * through the real program under Pulumi mocks: what gets created, in which
 * order, with which pinned host keys, and what stays secret.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { HOST_BASELINE_TYPE } from "../components/host-baseline";
import { K3S_CLUSTER_TYPE } from "../components/k3s-cluster";
import { LINODE_HOST_TYPE, hostKeyCloudConfig } from "../components/linode-host";
import { fingerprint, openSshFingerprint } from "../infra/ssh";
import { checkEnvironment } from "../stacks/errors";
import { runProgram } from "../stacks/program";
import { validateStackFile, validateStackText } from "../stacks/stack-file";
import { isSecretValue, plainStrings, runStack, settled, StackRun } from "./helpers/pulumi-mocks";
import { orderedAfter } from "./helpers/ordering";

const ROOT = path.resolve(__dirname, "..");
const runs = new Map<string, StackRun>();
async function run(stack: string): Promise<StackRun> {
  if (!runs.has(stack)) runs.set(stack, await settled(await runStack(path.join(ROOT, `Pulumi.${stack}.yaml`), runProgram)));
  return runs.get(stack)!;
}

/** The value inside a secret wrapper (the test may look; the engine stores it encrypted). */
const unwrapSecret = (v: unknown): unknown => (isSecretValue(v) ? (v as { value: unknown }).value : v);

/** The resources a host's baseline consists of (packages, files, users). */
function baselineSteps(r: StackRun, baseline: string): string[] {
  const urn = r.byName(baseline).urn;
  const steps = r.registrations.filter((x) => x.parent === urn && x.custom).map((x) => x.urn);
  expect(steps.length, baseline).toBeGreaterThan(0);
  return steps;
}

const LINODE_HOSTS = ["deb-01", "k3s-1", "k3s-2", "k3s-3"];

describe("stack linode", () => {
  it("creates each instance behind its own firewall, attached at creation, SSH and the K3s API open only to the admin networks", async () => {
    const r = await run("linode");
    expect(r.byType(LINODE_HOST_TYPE).map((h) => h.name).sort()).toEqual(LINODE_HOSTS.map((h) => `linode-${h}`));
    for (const label of LINODE_HOSTS) {
      const instance = r.byName(`linode-${label}-instance`);
      const firewall = r.byName(`linode-${label}-firewall`);
      expect(instance.rawInputs).toMatchObject({ label, region: "eu-central", image: "linode/debian12", privateIp: true });
      expect(instance.dependsOn).toContain(firewall.urn);
      expect(instance.rawInputs.authorizedKeys).toEqual([expect.stringMatching(/^ssh-ed25519 /)]);
      expect(firewall.rawInputs).toMatchObject({ label: `fw-${label}`, inboundPolicy: "DROP", outboundPolicy: "ACCEPT" });
      const inbound = firewall.rawInputs.inbounds as { label: string; protocol: string; ports: string; ipv4s: string[] }[];
      const byLabel = Object.fromEntries(inbound.map((rule) => [rule.label, rule]));
      expect(byLabel["ssh-admin"]).toMatchObject({ protocol: "TCP", ports: "22", ipv4s: ["203.0.113.0/24"] });
      if (label.startsWith("k3s")) {
        expect(byLabel["k3s-api-admin"]).toMatchObject({ protocol: "TCP", ports: "6443", ipv4s: ["203.0.113.0/24"] });
        expect(byLabel["k3s-flannel-vxlan"]).toMatchObject({ protocol: "UDP", ports: "8472", ipv4s: ["192.168.128.0/17"] });
      } else {
        expect(Object.keys(byLabel)).toEqual(["ssh-admin"]);
      }
      // No rule is open to the world.
      for (const rule of inbound) expect(rule.ipv4s).not.toContain("0.0.0.0/0");
    }
  });

  it("hands each instance a generated host key through cloud-init, and pins its fingerprint from the first connection", async () => {
    const r = await run("linode");
    for (const label of LINODE_HOSTS) {
      const instance = r.byName(`linode-${label}-instance`);
      const key = r.byName(`linode-${label}-host-key`);
      expect(key.rawInputs.algorithm).toBe("ED25519");
      const metadatas = unwrapSecret(instance.rawInputs.metadatas) as { userData: unknown }[];
      const userData = Buffer.from(unwrapSecret(metadatas[0].userData) as string, "base64").toString("utf8");
      expect(userData).toMatch(/^#cloud-config\n/);
      expect(userData).toContain("ed25519_private: |");
      const publicLine = /ed25519_public: (ssh-ed25519 \S+)/.exec(userData)![1];
      const pinned = openSshFingerprint(publicLine);
      // The SSH wait and every baseline resource connect with exactly this key, no trust on first use.
      const ready = r.byName(`linode-${label}-ssh`);
      expect(ready.rawInputs.trustOnFirstUse).toBe(false);
      expect(ready.rawInputs.connection).toMatchObject({ node: label, host: expect.stringMatching(/^198\.51\.100\./), hostKey: pinned, user: "root" });
      const packages = r.byName(`linode-${label}-baseline-packages`);
      expect(packages.rawInputs.connection).toMatchObject({ hostKey: pinned });
      expect(orderedAfter(r.registrations, packages.urn, ready.urn)).toBe(true);
      expect((r.outputs.hosts as Record<string, { hostKey: string }>)[label].hostKey).toBe(pinned);
    }
  });

  it("keeps the root password, the host key's private half, the K3s token and the kubeconfig out of plain text", async () => {
    const r = await run("linode");
    for (const label of LINODE_HOSTS) {
      const instance = r.byName(`linode-${label}-instance`);
      expect(isSecretValue(instance.rawInputs.rootPass), `${label}.rootPass`).toBe(true);
      expect(isSecretValue(instance.rawInputs.metadatas) || isSecretValue((instance.rawInputs.metadatas as { userData: unknown }[])[0]?.userData)).toBe(true);
      expect(instance.additionalSecretOutputs).toEqual(expect.arrayContaining(["rootPass", "metadatas"]));
    }
    expect(r.byType("random:index/randomPassword:RandomPassword").map((p) => p.name).sort()).toEqual([
      ...LINODE_HOSTS.map((h) => `linode-${h}-root-password`),
      "linode-lin-token",
    ].sort());
    const cluster = r.byType("pulumi-nodejs:dynamic/k3s:Cluster")[0];
    expect(isSecretValue(cluster.rawInputs.token)).toBe(true);
    for (const reg of r.registrations) {
      const leaked = plainStrings(reg.rawInputs).filter((s) => s.includes("mock-secret:") || s.includes("PRIVATE KEY"));
      expect(leaked, `${reg.type} ${reg.name}`).toEqual([]);
    }
    expect(r.secretOutputs.kubernetes).toBe(true);
    const kube = (r.outputs.kubernetes as Record<string, { kubeconfig: string; apiEndpoint: string; nodes: string[] }>).lin;
    expect(kube.apiEndpoint).toMatch(/^https:\/\/198\.51\.100\.\d+:6443$/);
    expect(kube.nodes).toEqual(["k3s-1", "k3s-2", "k3s-3"]);
  });

  it("installs K3s on the three servers over their private addresses, after every member's baseline", async () => {
    const r = await run("linode");
    const [component] = r.byType(K3S_CLUSTER_TYPE);
    const [cluster] = r.byType("pulumi-nodejs:dynamic/k3s:Cluster");
    const nodes = cluster.rawInputs.nodes as { name: string; role: string; address: string; arch: string }[];
    expect(nodes.map((n) => [n.name, n.role, n.arch])).toEqual([
      ["k3s-1", "server", "amd64"],
      ["k3s-2", "server", "amd64"],
      ["k3s-3", "server", "amd64"],
    ]);
    for (const n of nodes) expect(n.address).toMatch(/^192\.168\.140\./);
    for (const label of ["k3s-1", "k3s-2", "k3s-3"]) {
      for (const step of baselineSteps(r, `linode-${label}-baseline`)) expect(orderedAfter(r.registrations, cluster.urn, step), step).toBe(true);
    }
    // deb-01 gets the base but is no cluster member.
    expect(r.byName("linode-deb-01-baseline").type).toBe(HOST_BASELINE_TYPE);
    expect(orderedAfter(r.registrations, component.urn, r.byName("linode-deb-01-baseline-packages").urn)).toBe(false);
  });
});

describe("stack pifarm", () => {
  it("provisions the four existing arm64 hosts with their pinned keys, then one server and three agents", async () => {
    const r = await run("pifarm");
    expect(r.byType(LINODE_HOST_TYPE)).toEqual([]);
    expect(r.byType("pulumi-nodejs:dynamic/proxmox:EnvironmentGate")).toEqual([]);
    const baselines = r.byType(HOST_BASELINE_TYPE);
    expect(baselines.map((b) => b.name).sort()).toEqual(["pi-1", "pi-2", "pi-3", "pi-4"].map((h) => `pifarm-${h}-baseline`));
    const packages = r.byName("pifarm-pi-3-baseline-packages");
    expect(packages.rawInputs.connection).toMatchObject({ node: "pi-3", host: "192.168.20.13", hostKey: "SHA256:tPKv3Quq1Bi+/eEQOV8Ub/A+GAS3VhQQ7Zpqq2VFX1k" });
    const [cluster] = r.byType("pulumi-nodejs:dynamic/k3s:Cluster");
    const nodes = cluster.rawInputs.nodes as { name: string; role: string; arch: string; address: string; labels: unknown; taints: unknown }[];
    expect(nodes.find((n) => n.name === "pi-4")).toMatchObject({ labels: { "homelab.example/storage": "ssd" }, taints: [] });
    expect(nodes.find((n) => n.name === "pi-1")).toMatchObject({ taints: ["node-role.kubernetes.io/control-plane=true:PreferNoSchedule"] });
    expect(nodes.map((n) => [n.name, n.role, n.arch, n.address])).toEqual([
      ["pi-1", "server", "arm64", "192.168.20.11"],
      ["pi-2", "agent", "arm64", "192.168.20.12"],
      ["pi-3", "agent", "arm64", "192.168.20.13"],
      ["pi-4", "agent", "arm64", "192.168.20.14"],
    ]);
    for (const b of baselines) {
      for (const step of baselineSteps(r, b.name)) expect(orderedAfter(r.registrations, cluster.urn, step), step).toBe(true);
    }
    expect(r.outputs.nodes).toEqual({});
    expect(r.secretOutputs.kubernetes).toBe(true);
  });

  it("gives each Pi its FQDN under the farm's domain and the farm's time zone", async () => {
    const r = await run("pifarm");
    for (const pi of ["pi-1", "pi-2", "pi-3", "pi-4"]) {
      const fqdn = r.byName(`pifarm-${pi}-baseline-fqdn`);
      expect(fqdn.rawInputs).toMatchObject({ path: "/etc/hosts", blockId: "hostname", content: `127.0.1.1\t${pi}.farm.home.arpa ${pi}\n` });
      expect(r.byName(`pifarm-${pi}-baseline-timezone`).rawInputs).toMatchObject({ timezone: "Europe/Berlin" });
    }
  });
});

describe("stack matrix: VM clones get the baseline, K3s on three of them", () => {
  it("pins each VM's host key read through the guest agent (no trust on first use), then the baseline, then K3s", async () => {
    const r = await run("matrix");
    const [cluster] = r.byType("pulumi-nodejs:dynamic/k3s:Cluster");
    expect(r.byType(K3S_CLUSTER_TYPE).map((c) => c.name)).toEqual(["matrix-lab"]);
    const vmNames = ["rocky9-01", "rocky10-01", "debian12-01", "kube-1", "kube-2", "kube-3"];
    const baselines = r.byType(HOST_BASELINE_TYPE).map((b) => b.name);
    for (const vm of vmNames) expect(baselines).toContain(`matrix-${vm}-baseline`);
    for (const vm of vmNames) {
      const key = r.byType("pulumi-nodejs:dynamic/vm:GuestHostKey").find((g) => g.rawInputs.name === vm)!;
      const address = r.byType("pulumi-nodejs:dynamic/vm:GuestAddress").find((g) => g.rawInputs.name === vm)!;
      expect(key.dependsOn).toContain(address.urn);
      const ready = r.byName(`matrix-${vm}-ssh`);
      expect(ready.rawInputs.trustOnFirstUse).toBe(false);
      expect(ready.rawInputs.connection).toMatchObject({ node: vm, hostKey: expect.stringMatching(/^SHA256:/) });
      expect(orderedAfter(r.registrations, ready.urn, key.urn)).toBe(true);
      const packages = r.byName(`matrix-${vm}-baseline-packages`);
      expect(orderedAfter(r.registrations, packages.urn, ready.urn)).toBe(true);
    }
    // The cloud images' default users, through sudo; root where K3s runs.
    expect((r.byName("matrix-rocky9-01-ssh").rawInputs.connection as { user: string }).user).toBe("rocky");
    expect((r.byName("matrix-debian12-01-ssh").rawInputs.connection as { user: string }).user).toBe("debian");
    expect((r.byName("matrix-kube-1-ssh").rawInputs.connection as { user: string }).user).toBe("root");
    for (const vm of ["kube-1", "kube-2", "kube-3"]) {
      for (const step of baselineSteps(r, `matrix-${vm}-baseline`)) expect(orderedAfter(r.registrations, cluster.urn, step), step).toBe(true);
    }
    const nodes = cluster.rawInputs.nodes as { name: string; role: string }[];
    expect(nodes.map((n) => `${n.name}:${n.role}`)).toEqual(["kube-1:server", "kube-2:agent", "kube-3:agent"]);
  });

  it("adds the environment's SSH key to each VM's cloud-init keys, once, in plain text (a public key is no secret)", async () => {
    const r = await run("matrix");
    const vm = r.byName("matrix-vm-rocky9-01-vm");
    const keys = (vm.rawInputs.initialization as { userAccount: { keys: string[] } }).userAccount.keys;
    expect(keys).toHaveLength(2);
    expect(keys[1]).toMatch(/^ecdsa-sha2-nistp256 AAAA[A-Za-z0-9+/=]+$/);
    expect(isSecretValue(vm.rawInputs.initialization)).toBe(false);
  });
});

describe("LinodeHost helpers", () => {
  it("computes the fingerprint ssh-keygen prints from an OpenSSH public key line", () => {
    const blob = Buffer.from("AAAAC3NzaC1lZDI1NTE5AAAAIHkzq3n2y6kVb0n3z7Q9yYbW8a8nT3m5P2rW3s9qgQ3Z", "base64");
    expect(openSshFingerprint("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkzq3n2y6kVb0n3z7Q9yYbW8a8nT3m5P2rW3s9qgQ3Z comment\n")).toBe(fingerprint(blob));
    expect(() => openSshFingerprint("garbage")).toThrow(/not an OpenSSH public key/);
  });

  it("writes a cloud-config that installs only the given key and deletes the image's own", () => {
    // The armor is assembled so that no committed file holds a private-key header.
    const label = ["OPENSSH", "PRIVATE", "KEY"].join(" ");
    const text = hostKeyCloudConfig(`-----BEGIN ${label}-----\nabc\n-----END ${label}-----\n`, "ssh-ed25519 AAAA x\n");
    expect(text).toBe(
      [
        "#cloud-config",
        "ssh_deletekeys: true",
        "ssh_genkeytypes: []",
        "ssh_keys:",
        "  ed25519_private: |",
        `    -----BEGIN ${label}-----`,
        "    abc",
        `    -----END ${label}-----`,
        "  ed25519_public: ssh-ed25519 AAAA x",
        "",
      ].join("\n"),
    );
  });
});

describe("bad Linode, host and K3s input: a clear error by path, before anything runs", () => {
  const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkzq3n2y6kVb0n3z7Q9yYbW8a8nT3m5P2rW3s9qgQ3Z ops@x";
  const PIN = { installScriptSha256: "a".repeat(64), amd64: { binarySha256: "b".repeat(64) } };
  const host = (name: string, n: number, extra: Record<string, unknown> = {}) => ({
    name,
    address: `192.168.20.${n}`,
    hostKey: "SHA256:mvdb9XYk0ywce+dcRozKq8X7+v2r/xIUyKJo+g3CEXE",
    ...extra,
  });
  const base = (extra: Record<string, unknown> = {}) => ({
    name: "lab",
    networks: [],
    hosts: [host("a", 1), host("b", 2), host("c", 3), host("d", 4)],
    ...extra,
  });
  const cluster = (extra: Record<string, unknown>) => ({ name: "k", version: "v1.31.5+k3s1", servers: ["a"], artifacts: PIN, ...extra });
  const issues = (env: unknown) => {
    const r = checkEnvironment(env);
    return r.ok ? [] : r.issues;
  };
  const linode = (instance: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    base({ linode: { region: "eu-central", adminCidrs: ["203.0.113.0/24"], authorizedKeys: [KEY], instances: [{ label: "web-1", ...instance }], ...extra } });

  it("refuses a time zone and a domain of the wrong shape", () => {
    expect(issues(base({ baseline: { timezone: "Europe Berlin", domain: "Farm.example" } }))).toEqual([
      'baseline.timezone: "Europe Berlin" is not a tz database name like "Europe/Berlin" or "UTC"',
      'baseline.domain: "Farm.example" is not a DNS domain (lower-case labels separated by dots)',
    ]);
  });

  it("refuses a malformed Linode label, region and plan", () => {
    expect(issues(linode({ label: "Web_1" }))).toEqual([
      'linode.instances[0].label: "Web_1" is not a Linode label (lowercase letters, digits and single hyphens, 3–29 characters; also the host name)',
    ]);
    expect(issues(linode({ region: "Frankfurt" }))).toEqual([
      'linode.instances[0].region: "Frankfurt" is not a Linode region (e.g. "eu-central", "us-ord", "de-fra-2")',
    ]);
    expect(issues(linode({ type: "standard-2" }))).toEqual([
      'linode.instances[0].type: "standard-2" is not a Linode plan (e.g. "g6-standard-2", "g6-dedicated-4")',
    ]);
  });

  it("refuses an admin network that is not a CIDR", () => {
    expect(issues(linode({}, { adminCidrs: ["203.0.113.7"] }))).toEqual(['linode.adminCidrs[0]: "203.0.113.7" is not an IPv4 CIDR (e.g. 192.168.3.0/24)']);
    expect(issues(linode({}, { adminCidrs: ["203.0.113.7/24"] }))).toEqual([
      'linode.adminCidrs[0]: "203.0.113.7/24" has host bits set; the network address is 203.0.113.0/24',
    ]);
  });

  it("refuses an even number of K3s servers", () => {
    expect(issues(base({ k3s: { clusters: [cluster({ servers: ["a", "b"] })] } }))).toEqual([
      "k3s.clusters[0].servers: 2 servers; embedded etcd needs a majority, so use an odd number (1, 3, 5, …): an even number tolerates no more failures than one less",
    ]);
    expect(issues(base({ k3s: { clusters: [cluster({ servers: ["a", "b", "c"] })] } }))).toEqual([]);
  });

  it("refuses an agent that is a server too, a host in two clusters, and a name that is no host", () => {
    expect(issues(base({ k3s: { clusters: [cluster({ agents: ["b", "a"] })] } }))).toEqual([
      'k3s.clusters[0].agents[1]: "a" is also a server of this cluster; a host is either a server or an agent',
    ]);
    expect(issues(base({ k3s: { clusters: [cluster({ agents: ["b"] }), cluster({ name: "k2", servers: ["b"] })] } }))).toEqual([
      'k3s.clusters[1].servers[0]: "b" is already in K3s cluster "k"; a host serves one cluster',
    ]);
    expect(issues(base({ k3s: { clusters: [cluster({ agents: ["zz"] })] } }))).toEqual(['k3s.clusters[0].agents[0]: no host, Linode instance or VM named "zz"']);
  });

  it("refuses labels and taints Kubernetes would not take, and on a host that is not a member", () => {
    const out = issues(
      base({
        k3s: {
          clusters: [
            cluster({
              agents: ["b"],
              nodes: { b: { labels: { "bad key!": "x", zone: "rack a" }, taints: ["dedicated=storage:Sometimes"] }, d: { labels: { zone: "a" } } },
            }),
          ],
        },
      }),
    );
    expect(out).toEqual([
      'k3s.clusters[0].nodes.b.labels.zone: "rack a" is not a Kubernetes label value (at most 63 letters, digits, -, _ or .)',
      'k3s.clusters[0].nodes.b.taints[0]: "dedicated=storage:Sometimes" is not a taint (key[=value]:NoSchedule|PreferNoSchedule|NoExecute)',
      'k3s.clusters[0].nodes.b.labels["bad key!"]: "bad key!" is not a Kubernetes label key ([prefix/]name, at most 63 characters)',
      'k3s.clusters[0].nodes.d: "d" is neither a server nor an agent of this cluster',
    ]);
  });

  it("refuses an architecture the pinned checksums do not cover", () => {
    const env = base({ hosts: [host("a", 1), host("b", 2, { arch: "arm64" }), host("c", 3, { arch: "armhf" })], k3s: { clusters: [cluster({ agents: ["b", "c"] })] } });
    expect(issues(env)).toEqual([
      'k3s.clusters[0].artifacts.arm64: missing; "b" is arm64, and no checksum is pinned for it (the "k3s-arm64" line of sha256sum-arm64.txt of the release)',
      'k3s.clusters[0].agents[1]: "c" is armhf; K3s is installed here on amd64 and arm64 only',
    ]);
  });

  it("refuses a token or password typed into the plain environment, without echoing it", () => {
    const out = issues(linode({}, { token: "abc123-very-secret" }));
    expect(out).toEqual([
      'linode.token: unknown key "token"',
      "linode.token: a secret in plain text; set it with `pulumi config set --secret` (homelab:secrets, or linode:token for the Linode API)",
    ]);
    expect(out.join("\n")).not.toContain("abc123");
  });

  it("refuses a plain-text linode:token in the stack file, and a missing one when there are instances", () => {
    const file = (token: string) =>
      [
        "config:",
        ...(token ? [`  linode:token: ${token}`] : []),
        "  homelab:environment:",
        "    name: lab",
        "    networks: []",
        "    linode:",
        "      region: eu-central",
        "      adminCidrs: [203.0.113.0/24]",
        `      authorizedKeys: ["${KEY}"]`,
        "      instances: [{ label: web-1 }]",
        "  homelab:secrets:",
        "    sshPrivateKey: { secure: v1:abc }",
      ].join("\n");
    expect(validateStackText(file("plain-token-value"), "/x/Pulumi.lab.yaml").issues).toEqual([
      "linode:token: must be set with pulumi config set --secret linode:token (it is stored in plain text)",
    ]);
    expect(validateStackText(file(""), "/x/Pulumi.lab.yaml").issues).toEqual([
      "linode:token: missing; the Linode provider needs an API token (pulumi config set --secret linode:token)",
    ]);
    expect(validateStackText(file("{ secure: v1:abc }"), "/x/Pulumi.lab.yaml").issues).toEqual([]);
  });

  it("refuses a VM in a K3s cluster without the baseline (its pinned host key comes with it) or not logging in as root", () => {
    const out = issues({
      name: "lab",
      networks: [],
      hosts: [host("a", 1)],
      vms: [{ name: "v1", template: "t", node: "n", baseline: false, cloudInit: { sshKeys: [KEY] } }],
      k3s: { clusters: [cluster({ agents: ["v1"] })] },
    }).filter((line) => line.startsWith("k3s."));
    expect(out).toEqual([
      'k3s.clusters[0].agents[0]: VM "v1" has baseline: false; K3s members are reached with the host key the baseline step reads, so they need it',
      'k3s.clusters[0].agents[0]: VM "v1" needs cloudInit.user: root (the baseline and K3s run as root over SSH)',
    ]);
  });

  it("refuses one name for two machines, and a Linode K3s member without a private address", () => {
    const env = linode({ label: "b-1", privateIp: false });
    env.hosts = [host("b-1", 1)];
    expect(issues(env)).toEqual(['linode.instances[0].label: "b-1" is already the name of hosts[0]']);
    const member = { ...linode({ privateIp: false }), k3s: { clusters: [cluster({ servers: ["web-1"] })] } };
    expect(issues(member)).toEqual([
      'k3s.clusters[0].servers[0]: Linode instance "web-1" needs privateIp: true (K3s nodes talk over the region\'s private network)',
    ]);
  });

  it("refuses Proxmox features without Proxmox nodes, and an environment without machines", () => {
    expect(issues(base({ cluster: { name: "x", links: [] } }))).toContain("cluster: needs Proxmox nodes (nodes is empty)");
    expect(issues({ name: "lab", networks: [] })).toEqual([
      "environment: no machines; list Proxmox nodes (nodes), existing hosts (hosts), Linode instances (linode.instances) or a Talos cluster on VPS hosts (talos.clusters[].vps)",
    ]);
  });
});

describe("every new stack file", () => {
  it.each(["linode", "pifarm"])("%s validates, and keeps the SSH private key secret on every resource that carries it", async (stack) => {
    expect(validateStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`)).issues).toEqual([]);
    const r = await run(stack);
    const carriers = r.registrations.filter((x) => "sshPrivateKey" in x.rawInputs);
    expect(carriers.length).toBeGreaterThan(4);
    for (const c of carriers) expect(isSecretValue(c.rawInputs.sshPrivateKey), `${c.name}.sshPrivateKey`).toBe(true);
  });
});
