/**
 * The ClusterFirewall component under mocks: the operator's rules come first,
 * then homelab's with the management path leading; a firewall configured off
 * still gets its rules and verify step, with `enable` off. (Its refusal of an
 * empty admin network list has its row in validation-covers-checks.)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { afterAll, describe, expect, it } from "vitest";
import { ClusterFirewall } from "../components/cluster-firewall";
import { firewallPlan } from "../infra/firewall-plan";
import { runStack, settled } from "./helpers/pulumi-mocks";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-firewall-"));
const stackFile = path.join(dir, "Pulumi.test.yaml");
fs.writeFileSync(stackFile, "config: {}\n");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const access = (node: string, host: string) => ({ connection: { node, host, port: 22, user: "root" }, sshPrivateKey: "fake-ssh-private-key-for-mock-tests" });
const plan = firewallPlan({
  adminNetworks: ["10.1.0.0/24"],
  networks: [{ name: "lan", cidr: "10.1.0.0/24" }],
  memberAddresses: ["10.1.0.11", "10.1.0.12"],
  linkNetworks: ["lan"],
  extraRules: [{ action: "DROP", proto: "tcp", dport: "25", comment: "no smtp" }],
});

async function build(adminNetworks: string[], enabled: boolean) {
  return settled(
    await runStack(stackFile, () => {
      const provider = new proxmoxve.Provider("pve", { endpoint: "https://10.1.0.11:8006/" });
      new ClusterFirewall("lab-firewall", { provider, nodes: [access("a", "10.1.0.11"), access("b", "10.1.0.12")], plan, adminNetworks, enabled });
      return {};
    }),
  );
}

describe("ClusterFirewall", () => {
  it("writes the operator's rules first, then the management path, and leaves enable off when configured off", async () => {
    const r = await build(["10.1.0.0/24"], false);
    const rules = r.byType("proxmoxve:firewall/rulesLegacy:RulesLegacy")[0].rawInputs.rules as { action: string; dport?: string; source?: string }[];
    expect(rules.slice(0, 3).map((x) => [x.action, x.dport, x.source])).toEqual([
      ["DROP", "25", undefined],
      ["ACCEPT", "22", "+management"],
      ["ACCEPT", "8006", "+management"],
    ]);
    expect(r.byType("proxmoxve:cluster/firewallLegacy:FirewallLegacy")[0].rawInputs).toMatchObject({ enabled: false, inputPolicy: "DROP", outputPolicy: "ACCEPT" });
    expect(r.byType("pulumi-nodejs:dynamic/proxmox:FirewallSshCheck")[0].rawInputs).toMatchObject({ enabled: false, settleSeconds: 30 });
    expect(r.byType("pulumi-nodejs:dynamic/proxmox:FirewallVerify")[0].rawInputs.expectedRules).toContain("IN DROP -p tcp -dport 25 # no smtp");
    expect(r.byType("proxmoxve:node/firewall:Firewall").map((n) => n.rawInputs)).toEqual([
      expect.objectContaining({ nodeName: "a", enabled: true, nosmurfs: true }),
      expect.objectContaining({ nodeName: "b", enabled: true, nosmurfs: true }),
    ]);
  });
});
