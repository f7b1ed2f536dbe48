/**
 * The firewall's lock-out guard against simulated nodes over real SSH: the
 * verify step passes a rule set that keeps SSH and the API open to the admin
 * networks, refuses one that does not (naming node, port, network and rule)
 * without running anything that changes a node, and the check after enabling
 * names a node whose SSH stopped answering, with the rule set applied. The
 * .fw files are written the way the API writes them (pmxcfs shares them, so
 * every node gets the same cluster.fw).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterFwText, firewallPlan, type PlannedRule } from "../infra/firewall-plan";
import type { NodeConnection } from "../infra/providers/connection";
import {
  FIREWALL_SSH_CHECK_PROVIDER_VERSION,
  firewallSshCheckProvider,
  type FirewallSshCheckInputs,
  type FirewallSshCheckOutputs,
} from "../infra/providers/proxmox/firewall-ssh-check";
import {
  FIREWALL_VERIFY_PROVIDER_VERSION,
  firewallVerifyProvider,
  type FirewallVerifyInputs,
  type FirewallVerifyOutputs,
} from "../infra/providers/proxmox/firewall-verify";
import { failure } from "./helpers/failure";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";

const FAST = { connectTimeoutMs: 2000, retries: 0, retryBaseDelayMs: 50 };
const NODES = ["fw1", "fw2", "fw3"];
const ADMIN = "10.20.0.0/24";
/** Every command the verify step and the SSH check may run: reads only. */
const READS = new Set([
  "if test -e /etc/pve/firewall/cluster.fw; then cat /etc/pve/firewall/cluster.fw; fi",
  "if test -e /etc/pve/local/host.fw; then cat /etc/pve/local/host.fw; fi",
  "LC_ALL=C pve-firewall compile",
  "LC_ALL=C pve-firewall localnet",
  "LC_ALL=C pve-firewall status",
]);

let sim: SimCluster;

function connection(name: string): NodeConnection {
  const n = sim.node(name);
  return { node: name, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: FAST };
}

function plan(extraRules: PlannedRule[] = []) {
  return firewallPlan({
    adminNetworks: [ADMIN],
    networks: [{ name: "management", cidr: "10.20.0.0/24" }],
    memberAddresses: NODES.map((n) => sim.node(n).host),
    linkNetworks: ["management"],
    extraRules,
  });
}

/** Write a file on every node, as pmxcfs shows one cluster-wide file everywhere. */
async function writeEverywhere(file: string, text: string, nodes = NODES): Promise<void> {
  for (const node of nodes) {
    const b64 = Buffer.from(text).toString("base64");
    const r = await sim.exec(node, `mkdir -p "$(dirname ${file})" && echo ${b64} | base64 -d > ${file}`);
    expect(r.code, r.stderr).toBe(0);
  }
}

function verifyInputs(): FirewallVerifyInputs {
  return {
    providerVersion: FIREWALL_VERIFY_PROVIDER_VERSION,
    nodes: NODES.map(connection),
    sshPrivateKey: sim.clientPrivateKey,
    adminNetworks: [ADMIN],
    ports: [22, 8006],
    expectedRules: "",
  };
}

function checkInputs(appliedRules: string): FirewallSshCheckInputs {
  return {
    providerVersion: FIREWALL_SSH_CHECK_PROVIDER_VERSION,
    nodes: NODES.map(connection),
    sshPrivateKey: sim.clientPrivateKey,
    appliedRules,
    enabled: true,
    settleSeconds: 0,
  };
}

function nonReads(): string[] {
  return sim
    .commandLog()
    .filter((e) => !READS.has(e.command))
    .map((e) => `${e.node}: ${e.command}`);
}

async function verify(i: FirewallVerifyInputs): Promise<FirewallVerifyOutputs> {
  return ((await firewallVerifyProvider.create(i)) as { outs: FirewallVerifyOutputs }).outs;
}

const BLOCK_SSH: PlannedRule = { action: "DROP", proto: "tcp", dport: "22", source: "10.20.0.0/16", comment: "no ssh" };

beforeAll(async () => {
  sim = await startSimCluster(NODES.map((name) => ({ name })));
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("FirewallVerify", () => {
  it("passes a rule set that opens SSH and the API to the admin network, and only reads", async () => {
    const text = clusterFwText(plan(), { policy_in: "DROP" });
    await writeEverywhere("/etc/pve/firewall/cluster.fw", text);
    sim.clearLog();
    const outs = await verify(verifyInputs());
    expect(outs.observed.map((o) => [o.node, o.status])).toEqual(NODES.map((n) => [n, "Status: disabled/running"]));
    expect(outs.appliedRules).toBe(text);
    expect(outs.observed[0].localNetwork).toMatch(/^127\.\d+\.\d+\.0\/24$/);
    expect(sim.commandLog()).toHaveLength(NODES.length * READS.size);
    expect(nonReads()).toEqual([]);
  });

  it("refuses a rule set that drops SSH from the admin network, naming every node and the rule, changing nothing", async () => {
    const text = clusterFwText(plan([BLOCK_SSH]), { policy_in: "DROP" });
    await writeEverywhere("/etc/pve/firewall/cluster.fw", text);
    sim.clearLog();
    const err = await failure(verify(verifyInputs()));
    expect(err.name).toBe("FirewallRefusedError");
    const lines = err.message.split("\n");
    expect(lines[0]).toBe("firewall: refusing to change anything:");
    for (const node of NODES) {
      expect(lines).toContain(
        `  - ${node}: tcp/22 from admin network ${ADMIN} would not be accepted: dropped by cluster.fw line 21: ` +
          "IN DROP -source 10.20.0.0/16 -p tcp -dport 22 # no ssh",
      );
    }
    expect(err.message).toContain("rule set read on fw1 (/etc/pve/firewall/cluster.fw):\n    [OPTIONS]\n    policy_in: DROP\n    [ALIASES]");
    expect(err.message).toMatch(/\(the firewall stays off; fix the rules, then run again\)$/);
    // The API stays reachable, so only port 22 is named.
    expect(err.message).not.toContain("tcp/8006");
    expect(nonReads()).toEqual([]);
  });

  it("refuses a node whose own host.fw drops the API, and names only that node", async () => {
    await writeEverywhere("/etc/pve/firewall/cluster.fw", clusterFwText(plan(), { policy_in: "DROP" }));
    await writeEverywhere("/etc/pve/local/host.fw", "[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nIN REJECT -p tcp -dport 8006\n", ["fw2"]);
    try {
      sim.clearLog();
      const err = await failure(verify(verifyInputs()));
      expect(err.message.split("\n").filter((l) => l.startsWith("  - "))).toEqual([
        `  - fw2: tcp/8006 from admin network ${ADMIN} would not be accepted: dropped by host.fw line 7: IN REJECT -p tcp -dport 8006`,
      ]);
      expect(nonReads()).toEqual([]);
    } finally {
      await sim.exec("fw2", "rm -f /etc/pve/local/host.fw");
    }
  });

  it("refuses a cluster.fw with a line pve-firewall cannot parse (a skipped rule could be the one keeping SSH open)", async () => {
    await writeEverywhere("/etc/pve/firewall/cluster.fw", clusterFwText(plan(), { policy_in: "DROP" }) + "IN ACCEPT -p tcp -dport 22 -bogus 1\n");
    const err = await failure(verify(verifyInputs()));
    expect(err.message).toContain("  - fw1: pve-firewall compile: /etc/pve/firewall/cluster.fw (line 27): unable to parse rule parameters: -bogus 1");
  });

  it("refuses the same way when the engine runs the serialized provider", async () => {
    await writeEverywhere("/etc/pve/firewall/cluster.fw", clusterFwText(plan([BLOCK_SSH]), { policy_in: "DROP" }));
    const provider = serializeProvider("infra/providers/proxmox/firewall-verify.ts", "firewallVerifyProvider").load();
    sim.clearLog();
    const err = await failure(provider.create!(verifyInputs()));
    expect(err.message).toMatch(/^firewall: refusing to change anything:\n {2}- fw1: tcp\/22 from admin network 10\.20\.0\.0\/24 would not be accepted: dropped by cluster\.fw line 21/);
    expect(String(err)).toMatch(/^FirewallRefusedError: firewall: refusing/);
    expect(nonReads()).toEqual([]);
  });
});

describe("FirewallVerify refresh", () => {
  it("shows an unreachable node as drift instead of failing, and the update then refuses naming it", async () => {
    await writeEverywhere("/etc/pve/firewall/cluster.fw", clusterFwText(plan(), { policy_in: "DROP" }));
    const created = await verify(verifyInputs());
    await sim.stopNode("fw3");
    try {
      const refreshed = (await firewallVerifyProvider.read!("firewall-verify", created)).props as FirewallVerifyOutputs;
      expect(refreshed.observed.map((o) => o.status)).toEqual(["Status: disabled/running", "Status: disabled/running", expect.stringMatching(/^unreachable: fw3: cannot connect/)]);
      expect(refreshed.appliedRules).toBe(created.appliedRules);
      expect((await firewallVerifyProvider.diff!("firewall-verify", refreshed, verifyInputs())).changes).toBe(true);
      const err = await failure(firewallVerifyProvider.update!("firewall-verify", refreshed, verifyInputs()));
      expect(err.message).toMatch(/^firewall: refusing to change anything:\n {2}- fw3: cannot connect to/);
    } finally {
      await sim.startNode("fw3");
    }
  });
});

describe("FirewallSshCheck", () => {
  it("reads every node's status after enabling, over a new connection, and only reads", async () => {
    const text = clusterFwText(plan(), { enable: "1", policy_in: "DROP" });
    await writeEverywhere("/etc/pve/firewall/cluster.fw", text);
    sim.clearLog();
    const outs = ((await firewallSshCheckProvider.create(checkInputs(text))) as { outs: FirewallSshCheckOutputs }).outs;
    expect(outs.statuses).toEqual(Object.fromEntries(NODES.map((n) => [n, "Status: enabled/running"])));
    expect(outs.unreachable).toEqual([]);
    expect(nonReads()).toEqual([]);
  });

  it("names a node whose SSH stopped answering, with the rule set that was applied", async () => {
    const text = clusterFwText(plan(), { enable: "1", policy_in: "DROP" });
    await sim.stopNode("fw3");
    try {
      const provider = serializeProvider("infra/providers/proxmox/firewall-ssh-check.ts", "firewallSshCheckProvider").load();
      const err = await failure(provider.create!(checkInputs(text)));
      expect(err.name).toBe("FirewallLockoutError");
      const lines = err.message.split("\n");
      expect(lines[0]).toBe("firewall: fw3 stopped answering over SSH after the firewall change:");
      expect(lines[1]).toMatch(/^ {2}- fw3: cannot connect to [\d.]+:22 after 1 attempt\(s\)/);
      expect(err.message).toContain("the rule set applied (/etc/pve/firewall/cluster.fw):\n    [OPTIONS]\n    enable: 1\n    policy_in: DROP\n");
      expect(err.message).toContain("    IN ACCEPT -source +management -p tcp -dport 22 # homelab: SSH from admin networks");
      expect(err.message).not.toMatch(/fw1|fw2/);
    } finally {
      await sim.startNode("fw3");
    }
  });
});
