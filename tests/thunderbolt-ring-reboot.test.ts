/**
 * The ms01 ring survives reboots. Its networks and ring layers are converged on a simulated ms01
 * the way the engine runs them (the resources the components register, in registration order,
 * through the real providers over SSH), with corosync membership and Ceph (monitors on the ring
 * loopbacks, one OSD per node, a size-3 pool) on top. Then each node is rebooted in turn and
 * everything comes back with no command run: modules, sysctls, interfaces, the ring ports, FRR's
 * adjacencies and routes, Ceph health, quorum. A node rebooting into an FRR someone disabled by
 * hand loses its ring; refresh shows it and the next up repairs it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ThunderboltRingArgs } from "../components/thunderbolt-ring";
import { CEPH_CLUSTER_PROVIDER_VERSION, cephClusterProvider } from "../infra/providers/ceph/ceph-cluster";
import { remoteFileProvider, type RemoteFileInputs } from "../infra/providers/linux/remote-file";
import { interfacesProvider, type InterfacesInputs } from "../infra/providers/network/node-network";
import { ringVerifyProvider, type RingVerifyInputs, type RingVerifyOutputs } from "../infra/providers/network/ring-verify";
import { runStack, SECRET_SIG, type Registration, type StackRun } from "./helpers/pulumi-mocks";
import { modelMs01Ring, MS01_NODES, MS01_RING } from "./helpers/ring-sim";
import { simConnection } from "./helpers/sim-connection";
import { seedQuorateCluster } from "./helpers/sim-state";
import { SimCluster, startSimCluster } from "./sim/cluster";

// Loaded as `pulumi up` loads them (see tests/thunderbolt-ring.test.ts for why not through vitest).
const nodeRequire = createRequire(__filename);
nodeRequire("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
const { NodeNetwork } = nodeRequire("../components/node-network") as typeof import("../components/node-network");
const { ThunderboltRing } = nodeRequire("../components/thunderbolt-ring") as typeof import("../components/thunderbolt-ring");

const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "ring-reboot-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");

const T = {
  file: "pulumi-nodejs:dynamic/node:RemoteFile",
  verify: "pulumi-nodejs:dynamic/network:RingVerify",
  interfaces: "pulumi-nodejs:dynamic/network:Interfaces",
};

let sim: SimCluster;
let applied: { reg: Registration; outs: unknown }[] = [];
let verifyOuts: RingVerifyOutputs;

/** Inputs as the engine passes them to a provider: secrets unwrapped, the connection to the simulated node. */
function engineInputs(reg: Registration): Record<string, unknown> {
  const unwrap = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(unwrap);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (SECRET_SIG in o) return unwrap(o.value);
      return Object.fromEntries(Object.entries(o).filter(([k]) => k !== "__provider").map(([k, x]) => [k, unwrap(x)]));
    }
    return v;
  };
  const inputs = unwrap(reg.rawInputs) as Record<string, unknown>;
  const withSim = (c: { node: string }) => simConnection(sim, c.node, { retries: 1 });
  if (inputs.connection) Object.assign(inputs, withSim(inputs.connection as { node: string }));
  if (Array.isArray(inputs.nodes)) {
    inputs.nodes = (inputs.nodes as { connection: { node: string } }[]).map((n) => ({ ...n, connection: withSim(n.connection).connection }));
    inputs.sshPrivateKey = sim.clientPrivateKey;
  }
  return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined));
}

async function registrations(): Promise<StackRun> {
  const r = await runStack(STACK_FILE, () => {
    const base = sim.node("frege").host.replace(/\.\d+$/, "");
    const networks = MS01_NODES.map(
      (node) =>
        new NodeNetwork(`ms01-${node}-network`, {
          access: { connection: simConnection(sim, node).connection, sshPrivateKey: "placeholder" },
          networks: [{ name: "management", cidr: `${base}.0/24` }],
          interfaces: [
            { type: "nic", name: "eno1" },
            { type: "bridge", name: "vmbr0", ports: ["eno1"], network: "management", address: sim.node(node).host },
          ],
          thunderbolt: MS01_RING[node],
        }),
    );
    const args: ThunderboltRingArgs = {
      nodes: MS01_NODES.map((node, i) => ({
        access: { connection: simConnection(sim, node).connection, sshPrivateKey: "placeholder" },
        thunderbolt: MS01_RING[node],
        dependsOn: [networks[i].interfaces],
      })),
      // The packages layer is tested on its own (tests/baseline-packages.test.ts).
      installPackages: false,
      verify: { iperfSeconds: 1, convergenceSeconds: 3 },
    };
    new ThunderboltRing("ms01-ring", args);
    return {};
  });
  // runStack resolves before every registration reached the mock monitor: wait until the list stops growing.
  let last = -1;
  while (r.registrations.length !== last) {
    last = r.registrations.length;
    await new Promise((res) => setTimeout(res, 300));
  }
  return r;
}

/** Create every registered resource in registration order (dependencies first), as `pulumi up` does on an empty stack. */
async function converge(run: StackRun): Promise<void> {
  applied = [];
  for (const reg of run.registrations) {
    if (reg.type === T.interfaces) {
      const inputs = engineInputs(reg) as unknown as InterfacesInputs;
      const { outs } = await interfacesProvider.create!(inputs);
      // What ifreload -a does on a real node: the stanzas' addresses come up (the fake ifreload changes nothing).
      const node = inputs.connection.node;
      sim.setAddresses(node, [sim.node(node).host, MS01_RING[node].loopback]);
      applied.push({ reg, outs });
    } else if (reg.type === T.file) {
      const { outs } = await remoteFileProvider.create!(engineInputs(reg) as unknown as RemoteFileInputs);
      applied.push({ reg, outs });
    } else if (reg.type === T.verify) {
      const { outs } = await ringVerifyProvider.create!(engineInputs(reg) as unknown as RingVerifyInputs);
      verifyOuts = outs as RingVerifyOutputs;
      applied.push({ reg, outs });
    }
  }
}

async function exec(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The ring as a node sees it, from inside (no SSH): its adjacencies, ports, forwarding, and pings to both other loopbacks. */
async function ringFrom(node: string): Promise<string[]> {
  const adj = JSON.parse(await exec(node, "vtysh -c 'show openfabric neighbor json'")) as { areas: { circuits: { adj?: string; interface?: string; state?: string }[] }[] };
  const lines = adj.areas[0].circuits.filter((c) => c.adj).map((c) => `${node} ${c.interface} ${c.state} ${c.adj}`);
  for (const port of ["en05", "en06"]) {
    const l = JSON.parse(await exec(node, `ip -j link show dev ${port}`))[0] as { flags: string[]; mtu: number };
    lines.push(`${node} ${port} ${l.flags.includes("LOWER_UP") ? "carrier" : "no carrier"} mtu ${l.mtu}`);
  }
  lines.push(`${node} ip_forward=${(await exec(node, "sysctl -n net.ipv4.ip_forward")).trim()}`);
  for (const other of MS01_NODES.filter((n) => n !== node)) {
    const ping = await sim.exec(node, `ping -n -q -c 1 -I ${MS01_RING[node].loopback} ${MS01_RING[other].loopback}`);
    lines.push(`${node} -> ${other} ${ping.code === 0 ? "reachable" : "unreachable"}`);
  }
  return lines;
}

const HEALTHY_RING = MS01_NODES.flatMap((node) => {
  const [p5, p6] = MS01_RING[node].ports;
  return [
    `${node} en05 Up ${p5.peer}`,
    `${node} en06 Up ${p6.peer}`,
    `${node} en05 carrier mtu 65520`,
    `${node} en06 carrier mtu 65520`,
    `${node} ip_forward=1`,
    ...MS01_NODES.filter((n) => n !== node).map((o) => `${node} -> ${o} reachable`),
  ];
});

async function wholeRing(): Promise<string[]> {
  return (await Promise.all(MS01_NODES.map(ringFrom))).flat();
}

beforeAll(async () => {
  sim = await startSimCluster(MS01_NODES.map((name) => ({ name })));
  modelMs01Ring(sim);
  // What the frr package leaves behind on Proxmox: the daemons file with fabricd off, FRR disabled.
  for (const n of MS01_NODES) await exec(n, "mkdir -p /etc/frr && printf 'zebra=yes\\nfabricd=no\\n' > /etc/frr/daemons && printf 'log syslog informational\\n' > /etc/frr/frr.conf");
  await converge(await registrations());
  // Corosync membership and Ceph on the ring loopbacks.
  seedQuorateCluster(sim, "ms01", MS01_NODES);
  for (const n of MS01_NODES) sim.setDisks(n, [{ name: "nvme1n1", size: 2 * 1024 ** 4 }]);
  await cephClusterProvider.create!({
    providerVersion: CEPH_CLUSTER_PROVIDER_VERSION,
    nodes: MS01_NODES.map((n) => ({ connection: simConnection(sim, n).connection, monAddress: MS01_RING[n].loopback })),
    sshPrivateKey: sim.clientPrivateKey,
    publicNetwork: "10.100.0.0/24",
    cephVersion: "squid",
    repository: "no-subscription",
    connectTimeoutSeconds: 2,
    monQuorumTimeoutSeconds: 10,
    pollIntervalSeconds: 0.1,
  });
  for (const n of MS01_NODES) await exec(n, "pveceph osd create /dev/nvme1n1 --crush-device-class nvme");
  await exec("frege", "pveceph pool create vm_ssd --pg_num 64 --add_storages 1");
}, 300_000);

afterAll(async () => {
  await sim?.stop();
});

describe("ms01 converged", () => {
  it("has a healthy ring, FRR and the ring unit enabled at boot on every node", async () => {
    expect(verifyOuts.status).toBe("healthy");
    expect(verifyOuts.problems).toEqual([]);
    expect(verifyOuts.cables.map((c) => `${c.cable} ${c.status}`)).toEqual([
      "frege en05 ↔ russell en06 ok",
      "frege en06 ↔ wittgenstein en05 ok",
      "russell en05 ↔ wittgenstein en06 ok",
    ]);
    for (const n of MS01_NODES) {
      expect(await exec(n, "systemctl is-enabled frr.service homelab-tb-ring.service")).toBe("enabled\nenabled\n");
    }
    expect(await wholeRing()).toEqual(HEALTHY_RING);
    expect(JSON.parse(await exec("frege", "ceph health -f json")).status).toBe("HEALTH_OK");
  });

  it("a refresh right after reports no change for any resource", async () => {
    for (const { reg, outs } of applied) {
      const provider = reg.type === T.file ? remoteFileProvider : reg.type === T.verify ? ringVerifyProvider : interfacesProvider;
      const read = await (provider.read as (id: string, p: unknown) => Promise<{ id: string; props?: unknown }>)("id", outs);
      expect(read.props, reg.name).toEqual(outs);
    }
  });
});

describe("ms01 reboots", () => {
  it("each node rebooted in turn: the ring's routes, Ceph and quorum come back with no command run", async () => {
    for (const node of MS01_NODES) {
      sim.clearLog();
      await sim.rebootNode(node);
      expect(await wholeRing(), `after rebooting ${node}`).toEqual(HEALTHY_RING);
      expect(JSON.parse(await exec("russell", "ceph health -f json")).status, `Ceph after rebooting ${node}`).toBe("HEALTH_OK");
      expect(await exec(node, "pvecm status"), `quorum after rebooting ${node}`).toContain("Quorate:          Yes");
      // nothing was run on any node to bring it back
      expect(sim.commandLog(), `after rebooting ${node}`).toEqual([]);
    }
    const refreshed = await ringVerifyProvider.read!("id", verifyOuts);
    expect(refreshed.props).toEqual(verifyOuts);
  });

  it("a node rebooting into an FRR disabled by hand loses the ring; refresh shows it, up repairs it", async () => {
    await exec("wittgenstein", "systemctl disable frr.service");
    await sim.rebootNode("wittgenstein");
    const lost = await ringFrom("russell").catch((e: Error) => [e.message]);
    expect(lost).toContain("russell -> wittgenstein unreachable");
    const refreshed = (await ringVerifyProvider.read!("id", verifyOuts)).props as RingVerifyOutputs;
    expect(refreshed.status).toBe("failed");
    expect(refreshed.problems).toEqual([
      "wittgenstein is cut off from the ring",
      "wittgenstein: frr.service is not running",
      "wittgenstein: frr.service is not enabled at boot",
      "frege en06 ↔ wittgenstein en05 is down: frege en06 has no OpenFabric adjacency to wittgenstein; wittgenstein: no OpenFabric neighbours (Exiting: failed to connect to any daemons.)",
      "russell en05 ↔ wittgenstein en06 is down: russell en05 has no OpenFabric adjacency to wittgenstein; wittgenstein: no OpenFabric neighbours (Exiting: failed to connect to any daemons.)",
    ]);
    const inputs = engineInputs(applied.find((a) => a.reg.type === T.verify)!.reg) as unknown as RingVerifyInputs;
    expect((await ringVerifyProvider.diff!("id", refreshed, inputs)).changes).toBe(true);
    const { outs } = await ringVerifyProvider.update!("id", refreshed, inputs);
    expect((outs as RingVerifyOutputs).status).toBe("healthy");
    expect(await exec("wittgenstein", "systemctl is-enabled frr.service")).toBe("enabled\n");
    // and it stays repaired across the next reboot
    await sim.rebootNode("wittgenstein");
    expect(await wholeRing()).toEqual(HEALTHY_RING);
  });
});

