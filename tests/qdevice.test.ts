/**
 * QDevice over real SSH against the simulator: a 2-node cluster and a plain
 * Debian qnetd host. Fresh converge, zero-change re-run, the refusals
 * (unreachable qnetd host, a cluster of the same name already served) and
 * quorum with one node down, with and without the QDevice's vote.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_PROVIDER_VERSION, clusterProvider } from "../infra/providers/proxmox/cluster";
import { QDEVICE_PROVIDER_VERSION, qdeviceProvider, type QDeviceInputs, type QDeviceOutputs } from "../infra/providers/proxmox/qdevice";
import { parsePvecmStatus } from "../infra/parse/cluster";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { mutatingCommands } from "./sim/mutating";

let sim: SimCluster;

function inputs(): QDeviceInputs {
  return {
    providerVersion: QDEVICE_PROVIDER_VERSION,
    clusterName: "nexus",
    members: [simConnection(sim, "alpha").connection, simConnection(sim, "bravo").connection],
    qnetd: simConnection(sim, "quorum-pi").connection,
    sshPrivateKey: sim.clientPrivateKey,
  };
}

async function create(): Promise<QDeviceOutputs> {
  return (await qdeviceProvider.create!(inputs())).outs as QDeviceOutputs;
}

function mutating(): string[] {
  return mutatingCommands(sim.commandLog()).map((e) => `${e.node}: ${e.command}`);
}

async function status(node: string) {
  const r = await sim.exec(node, "pvecm status");
  return { code: r.code, text: r.stdout, parsed: parsePvecmStatus(r.stdout) };
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "alpha" }, { name: "bravo" }, { name: "quorum-pi", distro: "debian" }]);
  const conn = (n: string) => simConnection(sim, n).connection;
  await clusterProvider.create!({
    providerVersion: CLUSTER_PROVIDER_VERSION,
    clusterName: "nexus",
    nodes: [
      { connection: conn("alpha"), links: { link0: sim.node("alpha").host } },
      { connection: conn("bravo"), links: { link0: sim.node("bravo").host } },
    ],
    sshPrivateKey: sim.clientPrivateKey,
    rootPassword: "pw",
    allowSmallCluster: true,
    quorumTimeoutSeconds: 10,
    quorumPollIntervalSeconds: 0.1,
  });
  // What pvecm create/add leave on every member (Cluster::Setup::setup_ssh_keys): root's RSA key.
  for (const n of ["alpha", "bravo"]) {
    const r = await sim.exec(n, "mkdir -p /root/.ssh && ssh-keygen -q -t rsa -b 2048 -N '' -f /root/.ssh/id_rsa");
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("QDevice", () => {
  it("without it, a 2-node cluster loses quorum when one node is down", async () => {
    await sim.stopNode("bravo");
    try {
      const s = await status("alpha");
      expect(s.code).toBe(2);
      expect(s.parsed.quorate).toBe(false);
      expect(s.parsed.qdevice).toBeUndefined();
    } finally {
      await sim.startNode("bravo");
    }
  });

  it("refuses, changing nothing, when the qnetd host cannot be reached", async () => {
    await sim.stopNode("quorum-pi");
    sim.clearLog();
    try {
      await expect(create()).rejects.toThrow(/QDevice of nexus: refusing to change anything:\n {2}- the QDevice host cannot be reached: quorum-pi/);
      expect(mutating()).toEqual([]);
    } finally {
      await sim.startNode("quorum-pi");
    }
  });

  it("refuses, changing nothing, when the qnetd host already serves another cluster named nexus", async () => {
    sim.mutateState((s) => {
      s.dpkg = { "quorum-pi": { installed: ["corosync-qnetd"] } };
      s.qnetd = { "quorum-pi": { initialized: true, clusters: [], foreign: [{ cluster: "nexus", nodeId: 1, address: "10.77.0.1" }] } };
    });
    sim.clearLog();
    try {
      await expect(create()).rejects.toThrow(/already serves a cluster named "nexus" \(corosync-qnetd-tool -l: clients 10\.77\.0\.1\)/);
      expect(mutating()).toEqual([]);
    } finally {
      sim.mutateState((s) => {
        delete s.dpkg;
        delete s.qnetd;
      });
    }
  });

  it("sets up the QDevice: packages, trust between alpha and the qnetd host, pvecm qdevice setup, read back", async () => {
    sim.clearLog();
    const outs = await create();
    expect(outs).toMatchObject({ configuredHost: sim.node("quorum-pi").host, votes: 1, quorate: true });
    expect(mutating()).toEqual(expect.arrayContaining([expect.stringMatching(/^alpha: .*pvecm qdevice setup /)]));
    const installs = sim.toolLog().filter((t) => t.tool === "apt-get" && t.argv.includes("install"));
    expect(installs.map((t) => `${t.node}: ${t.argv.filter((a) => a.startsWith("corosync-")).join(" ")}`).sort()).toEqual([
      "alpha: corosync-qdevice",
      "bravo: corosync-qdevice",
      "quorum-pi: corosync-qnetd",
    ]);
    const s = await status("alpha");
    expect(s.code).toBe(0);
    expect(s.text).toMatch(/^Flags: {12}Quorate Qdevice $/m);
    expect(s.text).toMatch(/^ {4}Nodeid {6}Votes {4}Qdevice Name$/m);
    expect(s.text).toMatch(/^0x00000000 {10}1 {12}Qdevice$/m);
    expect(s.parsed).toMatchObject({ expectedVotes: 3, totalVotes: 3, qdevice: { votes: 1 } });
    const served = await sim.exec("quorum-pi", "corosync-qnetd-tool -l");
    expect(served.stdout).toMatch(/^Cluster "nexus":$/m);
  });

  it("runs no mutating command when the QDevice is set up already", async () => {
    sim.clearLog();
    const aptCalls = () => sim.toolLog().filter((t) => t.tool === "apt-get").length;
    const before = aptCalls();
    const outs = await create();
    expect(outs.configuredHost).toBe(sim.node("quorum-pi").host);
    expect(mutating()).toEqual([]);
    expect(aptCalls()).toBe(before);
  });

  it("refresh right after create reports no change, and shows the QDevice removed behind our back", async () => {
    const created = await qdeviceProvider.create!(inputs());
    const read = await qdeviceProvider.read!(created.id, created.outs);
    expect(read.id).toBe(created.id);
    expect(read.props).toEqual(created.outs);
    expect(read.props).toMatchObject({ configuredHost: sim.node("quorum-pi").host, votes: 1, quorate: true });
    const removed = await sim.exec("alpha", "pvecm qdevice remove");
    expect(removed.stdout).toContain("Removed Qdevice.");
    try {
      const drift = await qdeviceProvider.read!(created.id, created.outs);
      expect(drift.props).toMatchObject({ configuredHost: "", votes: 0 });
      const diff = await qdeviceProvider.diff!(created.id, drift.props as QDeviceOutputs, inputs());
      expect(diff).toMatchObject({ changes: true, replaces: [] });
    } finally {
      // set up again, as the next pulumi up would
      const again = await create();
      expect(again.configuredHost).toBe(sim.node("quorum-pi").host);
    }
  });

  it("with it, the cluster keeps quorum when one node is down, and loses it when the qnetd host is down too", async () => {
    await sim.stopNode("bravo");
    try {
      const s = await status("alpha");
      expect(s.code).toBe(0);
      expect(s.parsed).toMatchObject({ quorate: true, totalVotes: 2, expectedVotes: 3, qdevice: { votes: 1 } });
      await sim.stopNode("quorum-pi");
      const lost = await status("alpha");
      expect(lost.code).toBe(2);
      expect(lost.parsed).toMatchObject({ quorate: false, totalVotes: 1, qdevice: { votes: 0 } });
      expect(lost.text).toMatch(/^0x00000000 {10}0 {12}Qdevice$/m);
    } finally {
      await sim.startNode("quorum-pi");
      await sim.startNode("bravo");
    }
  });
});
