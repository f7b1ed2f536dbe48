/**
 * RingVerify against the simulated cluster (a modelled ms01 ring: cables,
 * ports, FRR, adjacencies): ping every ordered pair of ring loopbacks, each
 * cable on its own (carrier, MTU, adjacency, iperf3 across it with a server
 * started for the test and stopped afterwards), FRR enabled and running,
 * results as outputs, a dead or slow cable reported by its ports as
 * degraded, a cut-off node failing, triggers, refresh, and serialization.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  RING_VERIFY_PROVIDER_VERSION,
  RingVerifyInputs,
  RingVerifyOutputs,
  ringLinks,
  ringVerifyProvider,
} from "../infra/providers/network/ring-verify";
import { bringUpMs01Ring } from "./helpers/ring-sim";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;
let testStart = 0;

const LOOPBACK: Record<string, string> = { frege: "10.100.0.11", russell: "10.100.0.12", wittgenstein: "10.100.0.13" };
const PORTS: Record<string, { name: string; peer: string }[]> = {
  frege: [
    { name: "en05", peer: "russell" },
    { name: "en06", peer: "wittgenstein" },
  ],
  russell: [
    { name: "en05", peer: "wittgenstein" },
    { name: "en06", peer: "frege" },
  ],
  wittgenstein: [
    { name: "en05", peer: "frege" },
    { name: "en06", peer: "russell" },
  ],
};

function inputs(extra: Partial<RingVerifyInputs> = {}): RingVerifyInputs {
  return {
    providerVersion: RING_VERIFY_PROVIDER_VERSION,
    sshPrivateKey: sim.clientPrivateKey,
    nodes: Object.keys(LOOPBACK).map((node) => {
      const n = sim.node(node);
      return {
        connection: { node, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: { retries: 1, retryBaseDelayMs: 50 } },
        loopback: LOOPBACK[node],
        ports: PORTS[node],
      };
    }),
    iperfSeconds: 2,
    convergenceSeconds: 2,
    ...extra,
  };
}

function resetAddresses(): void {
  for (const node of Object.keys(LOOPBACK)) sim.setAddresses(node, [sim.node(node).host, LOOPBACK[node]]);
}

const iperfCalls = () =>
  sim
    .toolLog()
    .filter((e) => e.tool === "iperf3" && e.time >= testStart)
    .map((e) => `${e.node}: iperf3 ${e.argv.join(" ")}`);

beforeAll(async () => {
  sim = await startSimCluster([{ name: "frege" }, { name: "russell" }, { name: "wittgenstein" }]);
  await bringUpMs01Ring(sim);
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(async () => {
  testStart = Date.now();
  resetAddresses();
  for (const [node, port] of [["frege", "en05"], ["russell", "en05"], ["wittgenstein", "en05"]]) sim.setCablePlugged(node, port, true);
  for (const node of Object.keys(LOOPBACK)) await sim.exec(node, "systemctl enable --now frr.service");
  sim.clearFaults();
  sim.clearLog();
  sim.mutateState((s) => {
    s.iperf3 = { servers: [], gbps: {} };
  });
});

describe("ring links", () => {
  it("lists every cable once, with the port on each end", () => {
    expect(
      ringLinks(
        Object.keys(LOOPBACK).map((node) => ({ connection: { node, host: "h", port: 22, user: "root" }, loopback: LOOPBACK[node], ports: PORTS[node] })),
      ).map((l) => `${l.a.connection.node} ${l.aPort} - ${l.b.connection.node} ${l.bPort}`),
    ).toEqual(["frege en05 - russell en06", "frege en06 - wittgenstein en05", "russell en05 - wittgenstein en06"]);
  });
});

describe("verification", () => {
  it("reports every pair reachable and every cable's Gbit/s, and stops the iperf3 servers", async () => {
    sim.mutateState((s) => {
      (s.iperf3 as { gbps: Record<string, number> }).gbps["frege->wittgenstein"] = 21.5;
    });
    const { id, outs } = await ringVerifyProvider.create!(inputs());
    expect(id).toBe("ring:frege,russell,wittgenstein");
    const o = outs as RingVerifyOutputs;
    expect(o.reachability.map((p) => `${p.from}->${p.to} ${p.address} ${p.reachable}`)).toEqual([
      "frege->russell 10.100.0.12 true",
      "frege->wittgenstein 10.100.0.13 true",
      "russell->frege 10.100.0.11 true",
      "russell->wittgenstein 10.100.0.13 true",
      "wittgenstein->frege 10.100.0.11 true",
      "wittgenstein->russell 10.100.0.12 true",
    ]);
    for (const p of o.reachability) expect(p.rttMs).toBeGreaterThan(0);
    expect(o.links).toEqual([
      { from: "frege", fromPort: "en05", to: "russell", toPort: "en06", gbps: 25.97, retransmits: 0 },
      { from: "frege", fromPort: "en06", to: "wittgenstein", toPort: "en05", gbps: 21.48, retransmits: 0 },
      { from: "russell", fromPort: "en05", to: "wittgenstein", toPort: "en06", gbps: 25.97, retransmits: 0 },
    ]);
    expect(Date.parse(o.verifiedAt)).toBeGreaterThan(testStart - 1);
    expect(o.status).toBe("healthy");
    expect(o.problems).toEqual([]);
    expect(o.cables.map((c) => `${c.cable}: ${c.status}`)).toEqual([
      "frege en05 ↔ russell en06: ok",
      "frege en06 ↔ wittgenstein en05: ok",
      "russell en05 ↔ wittgenstein en06: ok",
    ]);
    expect(o.services.every((x) => x.unit === "frr.service" && x.enabled && x.active)).toBe(true);
    // one server per cable on the peer (one-off, daemonized, pid file), one client bound to the own loopback and the cable's port
    expect(iperfCalls()).toEqual([
      "russell: iperf3 -s -1 -D -B 10.100.0.12 -p 5201 -I /run/homelab-ring-iperf3.pid",
      "frege: iperf3 -c 10.100.0.12 -B 10.100.0.11 --bind-dev en05 -p 5201 -t 2 -J --connect-timeout 3000",
      "wittgenstein: iperf3 -s -1 -D -B 10.100.0.13 -p 5201 -I /run/homelab-ring-iperf3.pid",
      "frege: iperf3 -c 10.100.0.13 -B 10.100.0.11 --bind-dev en06 -p 5201 -t 2 -J --connect-timeout 3000",
      "wittgenstein: iperf3 -s -1 -D -B 10.100.0.13 -p 5201 -I /run/homelab-ring-iperf3.pid",
      "russell: iperf3 -c 10.100.0.13 -B 10.100.0.12 --bind-dev en05 -p 5201 -t 2 -J --connect-timeout 3000",
    ]);
    // servers gone: no listener left, no pid file left
    expect((sim.readState().iperf3 as { servers: unknown[] }).servers).toEqual([]);
    for (const node of ["russell", "wittgenstein"]) {
      expect((await sim.exec(node, "ls /run/homelab-ring-iperf3.pid")).code).not.toBe(0);
    }
    // bounded: the client ran under timeout
    expect(sim.commandLog().some((e) => e.command.startsWith("LC_ALL=C timeout 22 iperf3 -c "))).toBe(true);
  });

  it("fails naming both nodes when a pair cannot reach each other, and runs no iperf3", async () => {
    sim.injectFault({
      node: "frege",
      match: "ping -n -q -c 3 -i 0.2 -W 1 -I 10.100.0.11 10.100.0.13",
      mode: "fail",
      exitCode: 1,
      stderr: " ",
    });
    const err = await ringVerifyProvider.create!(inputs()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^Thunderbolt ring verification failed: frege → wittgenstein unreachable after 2 s:\n/);
    expect(msg).toContain("  - frege cannot reach wittgenstein (10.100.0.13): LC_ALL=C ping -n -q -c 3 -i 0.2 -W 1 -I 10.100.0.11 10.100.0.13 exited 1");
    expect(iperfCalls()).toEqual([]);
  });

  it("a node that lost its loopback is unreachable from both others and cannot reach them", async () => {
    sim.setAddresses("russell", [sim.node("russell").host]);
    const err = await ringVerifyProvider.create!(inputs()).catch((e: Error) => e);
    const msg = (err as Error).message;
    expect(msg).toContain("frege → russell, russell → frege, russell → wittgenstein, wittgenstein → russell unreachable");
    expect(msg).toContain("  - frege cannot reach russell (10.100.0.12): LC_ALL=C ping -n -q -c 3 -i 0.2 -W 1 -I 10.100.0.11 10.100.0.12 exited 1: 3 packets transmitted, 0 received, 100% packet loss");
    expect(msg).toContain("  - russell cannot reach frege (10.100.0.11): LC_ALL=C ping -n -q -c 3 -i 0.2 -W 1 -I 10.100.0.12 10.100.0.11 exited 2: ping: bind icmp socket: Cannot assign requested address");
  });

  it("a pair that converges within the window passes", async () => {
    sim.injectFault({ node: "frege", match: "-I 10.100.0.11 10.100.0.12", mode: "fail-once", exitCode: 1, stderr: " " });
    const { outs } = await ringVerifyProvider.create!(inputs({ iperfSeconds: 1 }));
    expect((outs as RingVerifyOutputs).reachability.every((p) => p.reachable)).toBe(true);
    const pings = sim.commandLog().filter((e) => e.node === "frege" && e.command.includes("-I 10.100.0.11 10.100.0.12"));
    expect(pings).toHaveLength(2);
  });

  it("an iperf3 failure marks that cable down by its ports, and still stops the server", async () => {
    sim.injectFault({ node: "frege", match: "iperf3 -c 10.100.0.12", mode: "fail", exitCode: 1, stderr: "iperf3: error - unable to connect" });
    const { outs } = await ringVerifyProvider.create!(inputs());
    const o = outs as RingVerifyOutputs;
    expect(o.status).toBe("degraded");
    expect(o.problems).toEqual([
      "frege en05 ↔ russell en06 is down: frege: iperf3 -c 10.100.0.12 --bind-dev en05 failed (exit 1): iperf3: error - unable to connect",
    ]);
    expect(sim.commandLog().some((e) => e.node === "russell" && e.command.includes("kill \"$(cat /run/homelab-ring-iperf3.pid)\""))).toBe(true);
    expect((await sim.exec("russell", "ls /run/homelab-ring-iperf3.pid")).code).not.toBe(0);
  });

  it("a server that does not start names the peer and the link", async () => {
    sim.injectFault({ node: "russell", match: "iperf3 -s", mode: "fail", exitCode: 1, stderr: "iperf3: error - unable to start listener for connections: Address already in use" });
    const err = await ringVerifyProvider.create!(inputs()).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      "russell: iperf3 -s failed (exit 1) while preparing the test of cable frege en05 ↔ russell en06: " +
        "iperf3: error - unable to start listener for connections: Address already in use",
    );
  });

  it("reports a cable fallen back to a slow mode by its ports (default minimum 15 Gbit/s), as degraded", async () => {
    sim.mutateState((s) => {
      (s.iperf3 as { gbps: Record<string, number> }).gbps["wittgenstein:en06"] = 9.9;
    });
    const { outs } = await ringVerifyProvider.create!(inputs());
    const o = outs as RingVerifyOutputs;
    expect(o.status).toBe("degraded");
    expect(o.problems).toEqual([
      "russell en05 ↔ wittgenstein en06 is slow: russell en05 ↔ wittgenstein en06 measures 9.89 Gbit/s, below 15 (a cable or port fallen back to a slow mode; check the cable)",
    ]);
    expect(((await ringVerifyProvider.create!(inputs({ minGbps: 5 }))).outs as RingVerifyOutputs).status).toBe("healthy");
  });

  it("sees a dead cable the loopback pings route around: degraded, named by its two ports", async () => {
    sim.setCablePlugged("russell", "en05", false);
    const { outs } = await ringVerifyProvider.create!(inputs());
    const o = outs as RingVerifyOutputs;
    // OpenFabric routes around it through frege: every pair still reaches every other
    expect(o.reachability.every((p) => p.reachable)).toBe(true);
    expect(o.status).toBe("degraded");
    expect(o.problems).toEqual([
      "russell en05 ↔ wittgenstein en06 is down: russell en05 has no carrier; russell en05 has no OpenFabric adjacency to wittgenstein; " +
        "wittgenstein en06 has no carrier; wittgenstein en06 has no OpenFabric adjacency to russell",
    ]);
    expect(o.cables.map((c) => c.status)).toEqual(["ok", "ok", "down"]);
    // no throughput test across a dead cable
    expect(o.links.map((l) => `${l.from} ${l.fromPort}`)).toEqual(["frege en05", "frege en06"]);
    // a refresh sees the same degraded ring (no change), and the cable back once it is plugged in
    expect((await ringVerifyProvider.read!("id", o)).props).toEqual(o);
    sim.setCablePlugged("russell", "en05", true);
    const back = (await ringVerifyProvider.read!("id", o)).props as RingVerifyOutputs;
    expect(back.cables.map((c) => c.status)).toEqual(["ok", "ok", "ok"]);
    expect(back.status).toBe("healthy");
  });

  it("fails naming the node when both its cables are dead", async () => {
    sim.setCablePlugged("wittgenstein", "en05", false);
    sim.setCablePlugged("wittgenstein", "en06", false);
    const err = await ringVerifyProvider.create!(inputs()).catch((e: Error) => e);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^Thunderbolt ring verification failed: wittgenstein cut off from the ring; /);
    expect(msg).toContain("Cables down:\n  - frege en06 ↔ wittgenstein en05: frege en06 has no carrier;");
    expect(msg).toContain("  - russell en05 ↔ wittgenstein en06: russell en05 has no carrier;");
  });

  it("repairs a disabled, stopped FRR before it verifies; a refresh shows it first", async () => {
    const { outs } = await ringVerifyProvider.create!(inputs());
    expect((outs as RingVerifyOutputs).status).toBe("healthy");
    await sim.exec("russell", "systemctl disable --now frr.service");
    const read = await ringVerifyProvider.read!("id", outs as RingVerifyOutputs);
    const seen = read.props as RingVerifyOutputs;
    expect(seen.status).toBe("failed");
    expect(seen.problems.slice(0, 3)).toEqual([
      "russell is cut off from the ring",
      "russell: frr.service is not running",
      "russell: frr.service is not enabled at boot",
    ]);
    expect(seen.services.find((x) => x.node === "russell")).toEqual({ node: "russell", unit: "frr.service", enabled: false, active: false });
    // the next up sees the drift and repairs it
    expect((await ringVerifyProvider.diff!("id", seen, inputs())).changes).toBe(true);
    const { outs: repaired } = await ringVerifyProvider.update!("id", seen, inputs());
    expect((repaired as RingVerifyOutputs).status).toBe("healthy");
    expect((await sim.exec("russell", "systemctl is-enabled frr.service; systemctl is-active frr.service")).stdout).toBe("enabled\nactive\n");
    expect(sim.commandLog().filter((e) => /^systemctl (enable|start) /.test(e.command)).map((e) => `${e.node}: ${e.command}`)).toEqual([
      "russell: systemctl enable frr.service",
      "russell: systemctl start frr.service",
    ]);
  });
});

describe("lifecycle", () => {
  const outs = (i: RingVerifyInputs): RingVerifyOutputs => ({
    ...i,
    status: "healthy",
    problems: [],
    reachability: [],
    cables: [],
    services: [],
    links: [],
    verifiedAt: "2026-01-01T00:00:00.000Z",
  });

  it("re-runs only when asked: trigger change or verifyOnEveryUp; never replaces", async () => {
    const base = inputs({ trigger: "1" });
    expect(await ringVerifyProvider.diff!("id", outs(base), base)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect((await ringVerifyProvider.diff!("id", outs(base), { ...base, trigger: "2" })).changes).toBe(true);
    expect((await ringVerifyProvider.diff!("id", outs(base), { ...base, verifyOnEveryUp: true })).changes).toBe(true);
    const always = { ...base, verifyOnEveryUp: true };
    expect((await ringVerifyProvider.diff!("id", outs(always), always)).changes).toBe(true);
    expect((await ringVerifyProvider.diff!("id", outs(base), { ...base, iperfSeconds: 5 })).changes).toBe(true);
    expect((await ringVerifyProvider.diff!("id", outs(base), { ...base, trigger: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).changes).toBe(true);
    // a degraded ring (found by the last up or a refresh) is re-checked and repaired by the next up
    expect((await ringVerifyProvider.diff!("id", { ...outs(base), status: "degraded" }, base)).changes).toBe(true);
  });

  it("update re-verifies; refresh re-checks reachability without throwing and without iperf3", async () => {
    const i = inputs();
    const { outs: updated } = await ringVerifyProvider.update!("id", outs(i), { ...i, trigger: "again" });
    expect((updated as RingVerifyOutputs).links).toHaveLength(3);
    testStart = Date.now();
    sim.setAddresses("wittgenstein", [sim.node("wittgenstein").host]);
    const read = await ringVerifyProvider.read!("id", updated as RingVerifyOutputs);
    expect(read.id).toBe("id");
    const unreachable = (read.props as RingVerifyOutputs).reachability.filter((p) => !p.reachable).map((p) => `${p.from}->${p.to}`);
    expect(unreachable).toEqual(["frege->wittgenstein", "russell->wittgenstein", "wittgenstein->frege", "wittgenstein->russell"]);
    expect((read.props as RingVerifyOutputs).links).toEqual((updated as RingVerifyOutputs).links);
    expect(iperfCalls()).toEqual([]);
  });

  it("a refresh right after a verification reports no change", async () => {
    const { outs: created } = await ringVerifyProvider.create!(inputs());
    const read = await ringVerifyProvider.read!("id", created as RingVerifyOutputs);
    expect(read.props).toEqual(created);
  });

  it("serializes without secrets and verifies through the engine's loader", async () => {
    const serialized = serializeProvider("infra/providers/network/ring-verify.ts", "ringVerifyProvider");
    expect(serialized.containsSecrets).toBe(false);
    expect(serialized.text).not.toMatch(/PRIVATE KEY/);
    const { outs: o } = await serialized.load().create!(inputs({ iperfSeconds: 1 }));
    expect((o as RingVerifyOutputs).links.map((l) => l.gbps)).toEqual([25.97, 25.97, 25.97]);
  });
});
