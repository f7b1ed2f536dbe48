/**
 * K3sCluster provider against simulated plain Debian hosts (amd64 and one
 * arm64, "the Pi"). The fake curl serves fake release artifacts whose sha256
 * the test pins (the `artifacts` override); the fake install.sh, k3s binary,
 * kubectl and systemctl keep the cluster's state and answer with the real
 * texts.
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { K3S_CLUSTER_PROVIDER_VERSION, K3sClusterInputs, K3sClusterOutputs, k3sClusterProvider } from "../infra/providers/k3s/k3s-cluster";
import type { K3sArch, K3sNodeSpec, K3sRole } from "../infra/providers/k3s/k3s-node";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

const k3sFakes = createRequire(__filename)("./sim/fakes/k3s-lib.cjs") as {
  fakeArtifacts(version: string): { installScriptSha256: string; amd64: { binarySha256: string }; arm64: { binarySha256: string } };
};

const V1 = "v1.31.5+k3s1";
const V2 = "v1.31.6+k3s1";
const TOKEN = "K3s-sim-token-0f4c2d9e8b7a";

let sim: SimCluster;

function pins(version: string): K3sClusterInputs["pins"] {
  const a = k3sFakes.fakeArtifacts(version);
  return { installScriptSha256: a.installScriptSha256, binarySha256: { amd64: a.amd64.binarySha256, arm64: a.arm64.binarySha256 } };
}

function node(name: string, role: K3sRole, arch: K3sArch = "amd64", extra: Partial<K3sNodeSpec> = {}): K3sNodeSpec {
  const { connection } = simConnection(sim, name);
  return { name, connection, address: sim.node(name).host, arch, role, labels: {}, taints: [], ...extra };
}

function inputs(nodes: K3sNodeSpec[], over: Partial<K3sClusterInputs> = {}): K3sClusterInputs {
  return {
    providerVersion: K3S_CLUSTER_PROVIDER_VERSION,
    clusterName: "lab",
    version: V1,
    nodes,
    apiAddress: "k3s.lab.example",
    token: TOKEN,
    sshPrivateKey: sim.clientPrivateKey,
    pins: pins(V1),
    uninstallOnDestroy: false,
    readyTimeoutMs: 8000,
    ...over,
  };
}

const log = () => sim.commandLog();
/** Commands that change a host: downloads, the installer, the config file, unit starts/stops, kubectl writes. */
const MUTATING = /\bcurl\b|install\.sh|config\.yaml\.new|systemctl (restart|start|stop|disable|enable)|kubectl (drain|delete|cordon|label|taint)|mv -f|uninstall/;
const mutating = () => log().filter((e) => MUTATING.test(e.command));
/** Index in the command log of the first command on `node` matching `re`. */
const at = (node: string, re: RegExp) => log().findIndex((e) => e.node === node && re.test(e.command));

interface K3sSimState {
  k3s: { services: Record<string, { active: string }>; clusters: Record<string, { etcd: boolean; nodes: Record<string, { version: string; role: string; labels: Record<string, string>; taints: string[] }> }> };
}
const k3sState = () => (sim.readState() as unknown as K3sSimState).k3s;
const members = (first: string) => Object.values(k3sState().clusters).find((c) => first in c.nodes)?.nodes ?? {};

beforeAll(async () => {
  sim = await startSimCluster([
    { name: "solo", distro: "debian" },
    { name: "pi", distro: "debian", arch: "arm64" },
    { name: "s1", distro: "debian" },
    { name: "s2", distro: "debian" },
    { name: "s3", distro: "debian" },
    { name: "w1", distro: "debian" },
    { name: "w2", distro: "debian", arch: "arm64" },
  ]);
}, 60_000);

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => {
  sim.clearLog();
  sim.clearFaults();
});

describe("one server and an arm64 agent", () => {
  const nodes = () => [node("solo", "server", "amd64", { labels: { "topology.kubernetes.io/zone": "rack1" } }), node("pi", "agent", "arm64", { taints: ["arch=arm64:NoSchedule"] })];
  let outs: K3sClusterOutputs;

  it("installs the server plain (no etcd), then the agent, with verified artifacts and no token on any command line", async () => {
    ({ outs } = (await k3sClusterProvider.create!(inputs(nodes()))) as { outs: K3sClusterOutputs });
    const cluster = members("solo");
    expect(Object.keys(cluster).sort()).toEqual(["pi", "solo"]);
    expect(cluster.solo).toMatchObject({ role: "server", version: V1, labels: { "topology.kubernetes.io/zone": "rack1" } });
    expect(cluster.pi).toMatchObject({ role: "agent", version: V1, taints: ["arch=arm64:NoSchedule"] });
    expect(Object.values(k3sState().clusters).find((c) => "solo" in c.nodes)?.etcd).toBe(false);
    // the arm64 binary on the Pi, checked before it was installed
    expect(log().filter((e) => e.node === "pi" && /curl/.test(e.command)).map((e) => e.command)).toEqual([
      `curl -sSfL --retry 3 -o /usr/local/bin/k3s.download https://github.com/k3s-io/k3s/releases/download/${V1}/k3s-arm64`,
      `curl -sSfL --retry 3 -o /root/k3s-install.sh https://raw.githubusercontent.com/k3s-io/k3s/${V1}/install.sh`,
    ]);
    expect(at("pi", /^sha256sum \/usr\/local\/bin\/k3s.download$/)).toBeGreaterThan(at("pi", /k3s-arm64/));
    expect(at("pi", /INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_SKIP_START=true INSTALL_K3S_EXEC=agent sh/)).toBeGreaterThan(0);
    // the server was Ready before the agent started to install
    expect(at("solo", /kubectl get nodes -o json/)).toBeLessThan(at("pi", /curl/));
    expect(log().some((e) => e.command.includes(TOKEN))).toBe(false);
    const config = await sim.exec("pi", "stat -c %a /etc/rancher/k3s/config.yaml && cat /etc/rancher/k3s/config.yaml");
    expect(config.stdout).toMatch(/^600\n/);
    expect(JSON.parse(config.stdout.slice(4))).toEqual({
      token: TOKEN,
      "node-name": "pi",
      "node-ip": sim.node("pi").host,
      server: `https://${sim.node("solo").host}:6443`,
      "node-taint": ["arch=arm64:NoSchedule"],
    });
  });

  it("returns the kubeconfig pointed at the API address, which the server's TLS SANs include", async () => {
    expect(outs.kubeconfig).toContain("server: https://k3s.lab.example:6443");
    expect(outs.kubeconfig).not.toContain("127.0.0.1");
    const config = JSON.parse((await sim.exec("solo", "cat /etc/rancher/k3s/config.yaml")).stdout);
    expect(config["tls-san"]).toEqual(["k3s.lab.example", sim.node("solo").host]);
    expect(config["cluster-init"]).toBeUndefined();
  });

  it("a refresh right after create returns what create stored", async () => {
    const read = await k3sClusterProvider.read!("k3s:lab", outs);
    expect(read.id).toBe("k3s:lab");
    expect(read.props).toEqual(outs);
  });

  it("a second run (lost state, or an update with the same inputs) runs no mutating command", async () => {
    await k3sClusterProvider.create!(inputs(nodes()));
    await k3sClusterProvider.update!("k3s:lab", outs, inputs(nodes()));
    expect(mutating()).toEqual([]);
    expect(await k3sClusterProvider.diff!("k3s:lab", outs, inputs(nodes()))).toMatchObject({ changes: false });
  });

  it("refresh sees an agent whose unit was stopped by hand, and the next update starts it again", async () => {
    await sim.exec("pi", "systemctl stop k3s-agent");
    const read = await k3sClusterProvider.read!("k3s:lab", outs);
    const props = read.props as K3sClusterOutputs;
    expect(props.nodes.map((n) => n.name)).toEqual(["solo"]);
    expect(props.nodeVersions.pi).toBe(`${V1} (inactive)`);
    expect((await k3sClusterProvider.diff!("k3s:lab", props, inputs(nodes()))).changes).toBe(true);
    sim.clearLog();
    await k3sClusterProvider.update!("k3s:lab", props, inputs(nodes()));
    expect(mutating().map((e) => `${e.node}: ${e.command}`)).toEqual(["pi: systemctl restart --no-block k3s-agent"]);
    expect(k3sState().services.pi.active).toBe("active");
  });

  it("applies changed labels and taints with kubectl (K3s reads the flags only at registration), removing the ones dropped", async () => {
    const changed = () => [
      node("solo", "server", "amd64", { labels: { "topology.kubernetes.io/zone": "rack2", tier: "edge" } }),
      node("pi", "agent", "arm64", { taints: ["dedicated=pi:NoExecute"] }),
    ];
    ({ outs } = (await k3sClusterProvider.update!("k3s:lab", outs, inputs(changed()))) as { outs: K3sClusterOutputs });
    expect(mutating().filter((e) => /kubectl (label|taint)/.test(e.command)).map((e) => `${e.node}: ${e.command}`)).toEqual([
      "solo: /usr/local/bin/k3s kubectl label node solo --overwrite tier=edge topology.kubernetes.io/zone=rack2",
      "solo: /usr/local/bin/k3s kubectl taint node pi --overwrite dedicated=pi:NoExecute arch:NoSchedule-",
    ]);
    expect(members("solo").solo.labels).toEqual({ "topology.kubernetes.io/zone": "rack2", tier: "edge" });
    expect(members("solo").pi.taints).toEqual(["dedicated=pi:NoExecute"]);
    sim.clearLog();
    ({ outs } = (await k3sClusterProvider.update!("k3s:lab", outs, inputs(changed()))) as { outs: K3sClusterOutputs });
    expect(mutating()).toEqual([]);
  });

  it("refuses a download whose sha256 is not the pinned one, naming the node and both sums", async () => {
    const wrong = "0".repeat(64);
    const bad = inputs(nodes(), { version: V2, pins: { ...pins(V2), binarySha256: { ...pins(V2).binarySha256, arm64: wrong } } });
    await expect(k3sClusterProvider.update!("k3s:lab", outs, bad)).rejects.toThrow(
      new RegExp(`^pi: the K3s ${V2.replace("+", "\\+")} arm64 binary from \\S+ has sha256 ${pins(V2).binarySha256.arm64}, but the pinned checksum is ${wrong}; refusing`),
    );
    // the Pi still runs the old binary
    expect(members("solo").pi.version).toBe(V1);
    expect((await sim.exec("pi", "ls /usr/local/bin/k3s.download 2>&1 || true")).stdout).toMatch(/No such file/);
  });
});

describe("three servers with embedded etcd and two agents", () => {
  const nodes = () => [node("s1", "server"), node("s2", "server"), node("s3", "server"), node("w1", "agent"), node("w2", "agent", "arm64")];
  let outs: K3sClusterOutputs;

  it("a server lost before its join fails naming it; the re-run finishes without touching the first server again, joining the others one at a time (each Ready before the next), agents last", async () => {
    await sim.stopNode("s2");
    try {
      await expect(k3sClusterProvider.create!(inputs(nodes()))).rejects.toThrow(/^s2: cannot connect to \S+ after 2 attempt\(s\)/);
    } finally {
      await sim.startNode("s2");
    }
    expect(Object.keys(members("s1"))).toEqual(["s1"]);
    sim.clearLog();
    ({ outs } = (await k3sClusterProvider.create!(inputs(nodes()))) as { outs: K3sClusterOutputs });
    expect(log().filter((e) => e.node === "s1" && MUTATING.test(e.command))).toEqual([]);
    expect(Object.keys(members("s1")).sort()).toEqual(["s1", "s2", "s3", "w1", "w2"]);
    // order of the unit starts in the re-run: s2, s3, w1, w2; each waited for on s1 before the next download
    const starts = log().filter((e) => /systemctl restart --no-block/.test(e.command)).map((e) => e.node);
    expect(starts).toEqual(["s2", "s3", "w1", "w2"]);
    const s2Start = at("s2", /systemctl restart/);
    const waitOnS1 = log().findIndex((e, i) => i > s2Start && e.node === "s1" && /kubectl get nodes -o json/.test(e.command));
    expect(waitOnS1).toBeGreaterThan(s2Start);
    expect(waitOnS1).toBeLessThan(at("s3", /curl/));
    expect(at("s3", /systemctl restart/)).toBeLessThan(at("w1", /curl/));
  });

  it("the first server initialises etcd; the others join it through its address", async () => {
    const cluster = Object.values(k3sState().clusters).find((c) => "s1" in c.nodes)!;
    expect(cluster.etcd).toBe(true);
    const s1 = JSON.parse((await sim.exec("s1", "cat /etc/rancher/k3s/config.yaml")).stdout);
    const s3 = JSON.parse((await sim.exec("s3", "cat /etc/rancher/k3s/config.yaml")).stdout);
    expect(s1["cluster-init"]).toBe(true);
    expect(s3).toMatchObject({ server: `https://${sim.node("s1").host}:6443` });
    expect(s3["cluster-init"]).toBeUndefined();
  });

  it("a second run runs no mutating command", async () => {
    await k3sClusterProvider.update!("k3s:lab", outs, inputs(nodes()));
    expect(mutating()).toEqual([]);
  });

  it("a version bump upgrades the servers one at a time, then the agents", async () => {
    const next = inputs(nodes(), { version: V2, pins: pins(V2) });
    expect(await k3sClusterProvider.diff!("k3s:lab", outs, next)).toMatchObject({ changes: true, replaces: [], diffs: expect.arrayContaining(["version", "pins"]) });
    ({ outs } = (await k3sClusterProvider.update!("k3s:lab", outs, next)) as { outs: K3sClusterOutputs });
    const restarts = log().filter((e) => /systemctl restart --no-block/.test(e.command)).map((e) => e.node);
    expect(restarts).toEqual(["s1", "s2", "s3", "w1", "w2"]);
    // each server Ready at the new version (asked on s1) before the next one downloads
    for (const [a, b] of [["s1", "s2"], ["s2", "s3"], ["s3", "w1"]]) {
      const restart = at(a, /systemctl restart/);
      expect(log().findIndex((e, i) => i > restart && e.node === "s1" && /kubectl get nodes/.test(e.command))).toBeLessThan(at(b, /curl/));
    }
    expect(Object.values(members("s1")).map((m) => m.version)).toEqual([V2, V2, V2, V2, V2]);
    expect(outs.nodeVersions).toEqual({ s1: V2, s2: V2, s3: V2, w1: V2, w2: V2 });
    sim.clearLog();
    await k3sClusterProvider.update!("k3s:lab", outs, next);
    expect(mutating()).toEqual([]);
  });

  it("a node dropped from the list is drained, its unit stopped, and deleted from the cluster (K3s stays installed)", async () => {
    const fewer = inputs(nodes().filter((n) => n.name !== "w2"), { version: V2, pins: pins(V2) });
    ({ outs } = (await k3sClusterProvider.update!("k3s:lab", outs, fewer)) as { outs: K3sClusterOutputs });
    expect(mutating().map((e) => `${e.node}: ${e.command}`)).toEqual([
      "s1: /usr/local/bin/k3s kubectl drain w2 --ignore-daemonsets --delete-emptydir-data --force --timeout=300s",
      "w2: systemctl disable --now k3s-agent",
      "s1: /usr/local/bin/k3s kubectl delete node w2",
    ]);
    expect(Object.keys(members("s1")).sort()).toEqual(["s1", "s2", "s3", "w1"]);
    expect((await sim.exec("w2", "test -x /usr/local/bin/k3s && echo installed")).stdout).toBe("installed\n");
  });

  it("an agent that cannot join fails with what k3s logged, and the re-run finishes once the cause is gone", async () => {
    const id = Object.entries(k3sState().clusters).find(([, c]) => "s1" in c.nodes)![0];
    // the cluster answers with another token, as after a rebuild
    const token = sim.mutateState((s) => {
      const c = (s as unknown as K3sSimState).k3s.clusters[id] as unknown as { token: string };
      const was = c.token;
      c.token = "K10rebuilt::server:other";
      return was;
    });
    const back = inputs(nodes(), { version: V2, pins: pins(V2), readyTimeoutMs: 1500 });
    try {
      await expect(k3sClusterProvider.update!("k3s:lab", outs, back)).rejects.toThrow(
        new RegExp(
          `^w2: did not become Ready at ${V2.replace("+", "\\+")} within 2 s \\(not registered; unit k3s-agent is activating\\); ` +
            "k3s logged: token is not valid: https://127\\.0\\.0\\.1:6444/apis: 401 Unauthorized; see journalctl -u k3s-agent on w2$",
        ),
      );
    } finally {
      sim.mutateState((s) => {
        ((s as unknown as K3sSimState).k3s.clusters[id] as unknown as { token: string }).token = token;
      });
    }
    ({ outs } = (await k3sClusterProvider.update!("k3s:lab", outs, back)) as { outs: K3sClusterOutputs });
    expect(Object.keys(members("s1")).sort()).toEqual(["s1", "s2", "s3", "w1", "w2"]);
  });

  it("delete leaves the cluster installed unless uninstallOnDestroy is set", async () => {
    await k3sClusterProvider.delete!("k3s:lab", outs);
    expect(mutating()).toEqual([]);
    await k3sClusterProvider.delete!("k3s:lab", { ...outs, uninstallOnDestroy: true });
    expect(mutating().map((e) => e.node)).toEqual(["w1", "w2", "s1", "s2", "s3"]);
    expect((await sim.exec("s1", "ls /usr/local/bin/k3s /etc/rancher/k3s 2>&1 || true")).stdout).toMatch(/No such file/);
  });
});
