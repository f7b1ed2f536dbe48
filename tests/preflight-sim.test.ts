/**
 * `preflight` (scripts/homelab/preflight) against the simulated cluster over real SSH: a healthy
 * three-node environment passes every check; then each failure on its own, each naming the node
 * and what to do: an unreachable node, a wrong host key, mixed Proxmox versions, a hostname that
 * does not resolve to its management address, a clock off by more than the bound, a foreign disk
 * (partitioned, carrying a filesystem) not marked wipe, a missing snippet storage, the API token
 * (answered by a stand-in HTTPS server on the node's address with the node's own certificate,
 * since the simulator has no pveproxy), and the Pulumi CLI for deploy verbs.
 */
import * as https from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREFLIGHT_CHECKS, preflight, type CheckReport, type CheckResult, type PreflightOptions } from "../scripts/homelab/preflight";
import { operatedEnvironment } from "../scripts/homelab/target";
import type { Environment } from "../stacks/schema";
import { simEnvironment, writeHostsFiles } from "./helpers/sim-environment";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

const NODES = ["p1", "p2", "p3"];
const TiB = 1024 ** 4;
const OPTIONS: PreflightOptions = { deploy: false };
const OSDS = () => ({ osds: [{ device: "/dev/nvme0n1" }] });
const CLUSTER = { cluster: { name: "pre", links: ["management"] }, ceph: { publicNetwork: "management", pools: [{ name: "vm-ceph" }] } };

let sim: SimCluster;
let env: Environment;

function run(environment: Environment = env, options: PreflightOptions = OPTIONS, apiToken?: Parameters<typeof operatedEnvironment>[2]): Promise<CheckReport> {
  return preflight(operatedEnvironment(environment, sim.clientPrivateKey, apiToken), options);
}

function failed(r: CheckReport): CheckResult[] {
  return r.checks.filter((c) => !c.ok);
}

function knobs(): Record<string, unknown> {
  return sim.readState().sim as Record<string, unknown>;
}

beforeAll(async () => {
  sim = await startSimCluster(NODES.map((name) => ({ name })));
  seedQuorateCluster(sim, "pre", NODES);
  for (const n of NODES) sim.setDisks(n, [{ name: "nvme0n1", size: 2 * TiB }]);
  await writeHostsFiles(sim, NODES);
  env = simEnvironment(
    sim,
    NODES,
    { ...CLUSTER, templates: [{ name: "rocky", image: "rocky9", node: "p1", vmid: 9000, installGuestAgent: true }], apiAccess: {} },
    OSDS,
  );
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("a healthy environment", () => {
  it("passes every check, per node, with each check's time; only read-only commands ran", async () => {
    sim.clearLog();
    const r = await run();
    expect(failed(r)).toEqual([]);
    expect(r.ok).toBe(true);
    const kinds = (node: string) => r.checks.filter((c) => c.node === node).map((c) => c.check);
    for (const n of NODES) expect(kinds(n)).toEqual(["ssh", "pve-version", "hostname-resolution", "clock", "osd-devices", "snippet-storage"]);
    expect(r.checks[0]).toMatchObject({ check: "stack-file", ok: true });
    expect(r.checks.every((c) => (PREFLIGHT_CHECKS as readonly string[]).includes(c.check))).toBe(true);
    expect(r.checks.every((c) => c.durationSeconds >= 0)).toBe(true);
    expect(r.checks.find((c) => c.node === "p2" && c.check === "pve-version")!.detail).toBe("p2: Proxmox VE 8.4.14");
    const commands = sim.commandLog().map((e) => e.command);
    expect(commands.filter((c) => /\b(wipefs|sgdisk|pveceph|pvesh (set|create|delete)|qm|ha-manager)\b/.test(c))).toEqual([]);
  });

  it("an invalid stack file fails alone, listing its problems, and no node is asked", async () => {
    sim.clearLog();
    const r = await preflight({ stackFile: { file: "Pulumi.bad.yaml", issues: ['nodes[1].address: "10.0.0.300" is not an IPv4 address'] } }, OPTIONS);
    expect(r.ok).toBe(false);
    expect(r.checks).toHaveLength(1);
    expect(r.checks[0]).toMatchObject({ check: "stack-file", ok: false, fix: "fix each line in the stack file, then check it with `npm run validate -- <stack>`" });
    expect(r.checks[0].detail).toContain('nodes[1].address: "10.0.0.300" is not an IPv4 address');
    expect(sim.commandLog()).toEqual([]);
  });
});

describe("each failure names the node and what to do", () => {
  it("an unreachable node", async () => {
    await sim.stopNode("p3");
    try {
      const r = await run();
      expect(r.ok).toBe(false);
      const bad = failed(r);
      expect(bad.map((c) => [c.check, c.node])).toEqual([["ssh", "p3"]]);
      expect(bad[0].detail).toMatch(/^p3: cannot connect to [\d.]+:22 after 1 attempt\(s\)/);
      expect(bad[0].fix).toBe(`check that p3 is powered on and answers SSH at ${sim.node("p3").host}:22 (nodes[].address, nodes[].sshPort / ssh.port), e.g. \`ssh -p 22 root@${sim.node("p3").host} true\``);
      // the others were still read in full
      expect(r.checks.filter((c) => c.node === "p1").length).toBe(6);
    } finally {
      await sim.startNode("p3");
    }
  });

  it("a wrong host key: its own failure, with the key seen, the pinned one and npm run host-keys", async () => {
    const pinned = sim.node("p1").hostKeyFingerprint;
    const wrong = simEnvironment(sim, NODES, {}, (n) => (n === "p2" ? { hostKey: pinned } : {}));
    const r = await run(wrong);
    const bad = failed(r);
    expect(bad.map((c) => [c.check, c.node])).toEqual([["ssh", "p2"]]);
    const presented = sim.node("p2").hostKeyFingerprint;
    expect(bad[0].detail).toBe(`p2: wrong host key at ${sim.node("p2").host}:22: the stack file pins ${pinned}, the host presented ${presented}`);
    expect(bad[0].fix).toContain("npm run host-keys -- <stack>");
    expect(bad[0].fix).toContain(`compare ${presented} with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on its console`);
  });

  it("mixed Proxmox VE versions: the older node fails, naming the release to upgrade to", async () => {
    sim.mutateState((s) => {
      s.nodes.p1.pveVersion = "9.1.1";
      s.nodes.p3.pveVersion = "9.1.2";
    });
    try {
      const r = await run();
      const bad = failed(r);
      expect(bad.map((c) => [c.check, c.node])).toEqual([["pve-version", "p2"]]);
      expect(bad[0].detail).toBe("p2: Proxmox VE 8.4.14 (8.4), other nodes run 9.1; every node needs the same major.minor (p1 9.1.1, p2 8.4.14, p3 9.1.2)");
      expect(bad[0].fix).toBe("upgrade p2 to 9.1: `apt update && apt full-upgrade` on p2 (a major upgrade: follow the Proxmox VE upgrade guide, run pve8to9 first)");
    } finally {
      sim.mutateState((s) => {
        s.nodes.p1.pveVersion = "8.4.14";
        s.nodes.p3.pveVersion = "8.4.14";
      });
    }
  });

  it("a hostname that does not resolve to its management address", async () => {
    const p3 = sim.node("p3").host;
    const r0 = await sim.exec("p2", `sed -i '/ p3$/d' /etc/hosts && echo '127.0.1.1 p1.sim.lan p1x' >> /etc/hosts && sed -i 's/^[0-9.]* p1.sim.lan p1$/127.0.1.1 p1.sim.lan p1/' /etc/hosts`);
    expect(r0.code).toBe(0);
    try {
      const r = await run();
      const bad = failed(r);
      expect(bad.map((c) => [c.check, c.node])).toEqual([["hostname-resolution", "p2"]]);
      expect(bad[0].detail).toBe(
        `p2: getent hosts: p1 resolves to 127.0.1.1, not its management address ${sim.node("p1").host}; p3 does not resolve (its management address is ${p3})`,
      );
      expect(bad[0].fix).toBe(
        `on p2, make p1, p3 resolve to the management address: "${sim.node("p1").host} p1", "${p3} p3" in /etc/hosts (replacing any other line for that name, e.g. 127.0.1.1), or fix DNS`,
      );
    } finally {
      await writeHostsFiles(sim, NODES);
    }
  });

  it("a clock off by more than the bound (the node's date, shifted by the simulator's clock knob)", async () => {
    sim.mutateState((s) => {
      s.sim.clockOffsetSeconds = { p1: -42 };
    });
    try {
      const r = await run();
      const bad = failed(r);
      expect(bad.map((c) => [c.check, c.node])).toEqual([["clock", "p1"]]);
      expect(bad[0].detail).toMatch(/^p1: clock is -4[12]\.\d{3} s off this machine's, more than 2 s \(corosync and Ceph need synchronised clocks\)$/);
      expect(bad[0].fix).toBe("run NTP on p1 (`systemctl enable --now chrony`, then `chronyc makestep`), and check this machine's clock too");
      // a looser bound accepts it
      expect((await run(env, { deploy: false, clockSkewSeconds: 60 })).ok).toBe(true);
    } finally {
      sim.mutateState((s) => {
        s.sim.clockOffsetSeconds = {};
      });
    }
    expect(knobs().clockOffsetSeconds).toEqual({});
  });

  it("a foreign disk (partitioned, a filesystem on it) not marked wipe; with wipe: true it passes", async () => {
    sim.setDisks("p3", [{ name: "nvme0n1", size: 2 * TiB, partitions: [{ fstype: "ext4" }] }]);
    try {
      const r = await run();
      const bad = failed(r);
      expect(bad.map((c) => [c.check, c.node])).toEqual([["osd-devices", "p3"]]);
      expect(bad[0].detail).toMatch(/^p3: \/dev\/nvme0n1 carries a partition table \(1 partition: \/dev\/nvme0n1p1\), which is not an OSD of this node; refusing to touch it\. If its data may be destroyed, set wipe: true for \/dev\/nvme0n1/);
      expect(bad[0].fix).toBe("look at the device on p3 (`lsblk -f`); if its data may be destroyed set wipe: true on it in nodes[2].osds, otherwise point nodes[2].osds at an empty disk");
      const wiped = simEnvironment(sim, NODES, CLUSTER, (n) => ({ osds: [{ device: "/dev/nvme0n1", wipe: n === "p3" }] }));
      const ok = await run(wiped);
      expect(failed(ok)).toEqual([]);
      expect(ok.checks.find((c) => c.node === "p3" && c.check === "osd-devices")!.detail).toBe("p3: /dev/nvme0n1 present and empty or ours; /dev/nvme0n1 will be wiped (wipe: true)");
    } finally {
      sim.setDisks("p3", [{ name: "nvme0n1", size: 2 * TiB }]);
    }
  });

  it("a missing OSD device", async () => {
    const r = await run(simEnvironment(sim, NODES, CLUSTER, (n) => ({ osds: [{ device: n === "p1" ? "/dev/nvme7n1" : "/dev/nvme0n1" }] })));
    const bad = failed(r);
    expect(bad.map((c) => [c.check, c.node])).toEqual([["osd-devices", "p1"]]);
    expect(bad[0].detail).toContain("p1: /dev/nvme7n1");
  });

  it("a snippet storage that does not exist, where a template needs the guest-agent snippet", async () => {
    const r = await run(simEnvironment(sim, NODES, { ...CLUSTER, apiAccess: {}, snippets: { storage: "nas" }, templates: [{ name: "rocky", image: "rocky9", node: "p1", vmid: 9000, installGuestAgent: true }] }, OSDS));
    const bad = failed(r);
    expect(bad.map((c) => [c.check, c.node])).toEqual(NODES.map((n) => ["snippet-storage", n]));
    expect(bad[0].detail).toBe("p1: storage 'nas' does not exist (pvesh get /storage), and templates need it for the guest-agent snippet");
    expect(bad[0].fix).toBe("define a directory storage 'nas' (pvesm add dir nas --path <dir>), or set snippets.storage of the stack file to an existing directory storage such as local");
  });

  it("for deploy verbs: no Pulumi CLI, or one too old", async () => {
    const none = await run(env, { deploy: true, findPulumiCli: async () => undefined });
    expect(failed(none)).toEqual([expect.objectContaining({ check: "pulumi-cli", ok: false, detail: "the Pulumi CLI is not on PATH" })]);
    expect(failed(none)[0].fix).toMatch(/^install it with: curl -fsSL https:\/\/get\.pulumi\.com/);
    const old = await run(env, { deploy: true, findPulumiCli: async () => ({ path: "/opt/pulumi/bin/pulumi", version: "3.100.0" }) });
    expect(failed(old)[0].detail).toBe("/opt/pulumi/bin/pulumi is Pulumi 3.100.0; supported is 3.248.0 or a later v3 release");
    const good = await run(env, { deploy: true, findPulumiCli: async () => ({ path: "/usr/bin/pulumi", version: "3.250.1" }) });
    expect(good.ok).toBe(true);
  });
});

describe("the API token", () => {
  let server: https.Server | undefined;
  const TOKEN = { tokenId: "automation@pve!pulumi", secret: "6f1c2d3e-0000-4000-8000-abcdefabcdef" };

  beforeAll(async () => {
    // Stand-in for pveproxy (not simulated): the node's own certificate, signed by the cluster CA.
    const cert = (await sim.exec("p1", "cat /etc/pve/local/pve-ssl.pem")).stdout;
    const key = (await sim.exec("p1", "cat /etc/pve/local/pve-ssl.key")).stdout;
    server = https.createServer({ cert, key }, (req, res) => {
      const ok = req.url === "/api2/json/version" && req.headers.authorization === `PVEAPIToken=${TOKEN.tokenId}=${TOKEN.secret}`;
      res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
      res.end(ok ? JSON.stringify({ data: { release: "8.4", repoid: "b502d23c55afcba1", version: "8.4.14" } }) : JSON.stringify({ data: null }));
    });
    await new Promise<void>((resolve) => server!.listen(8006, sim.node("p1").host, resolve));
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  it("answers: trusted through the cluster CA read over SSH", async () => {
    const r = await run(env, OPTIONS, { endpoint: `https://${sim.node("p1").host}:8006/`, ...TOKEN });
    expect(r.checks.find((c) => c.check === "api-token")).toMatchObject({ ok: true, node: "p1", detail: `the API at https://${sim.node("p1").host}:8006/ (token automation@pve!pulumi) answers: Proxmox VE 8.4.14` });
  });

  it("a refused token fails naming the endpoint and what to do, never the secret", async () => {
    const r = await run(env, OPTIONS, { endpoint: `https://${sim.node("p1").host}:8006/`, tokenId: TOKEN.tokenId, secret: "00000000-dead-4000-8000-000000000000" });
    const bad = failed(r);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ check: "api-token", node: "p1", detail: `the API at https://${sim.node("p1").host}:8006/ (token automation@pve!pulumi) refuses the token: HTTP 401` });
    expect(bad[0].fix).toContain("run the deploy (`up`) again to recreate it");
    expect(JSON.stringify(r)).not.toContain("00000000-dead");
  });
});
