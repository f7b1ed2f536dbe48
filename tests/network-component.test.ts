/**
 * homelab:network:NodeNetwork under Pulumi mocks: the Interfaces resource it
 * registers (rendered block, management address, guard flag, secrets), and
 * the config errors it raises.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { NodeNetworkArgs } from "../components/node-network";
import { isSecretValue, runStack, settled, StackRun } from "./helpers/pulumi-mocks";
import { NODE_NETWORK_TYPE } from "../components/node-network";

/** Loaded the way `pulumi up` loads it (Node require + ts-node), so its dynamic provider serializes. */
const nodeRequire = createRequire(__filename);
nodeRequire("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
const { NodeNetwork, renderNodeInterfaces } = nodeRequire("../components/node-network") as typeof import("../components/node-network");

const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "network-component-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");
const KEY = "fake-ssh-private-key-for-mock-tests";

function args(extra: Partial<NodeNetworkArgs> = {}): NodeNetworkArgs {
  return {
    access: { connection: { node: "frege", host: "10.203.3.11", port: 22, user: "root", hostKey: "SHA256:abc" }, sshPrivateKey: KEY },
    networks: [{ name: "management", cidr: "10.203.3.0/24", gateway: "10.203.3.1" }],
    interfaces: [
      { type: "nic", name: "enp2s0f0np0" },
      { type: "nic", name: "enp2s0f1np1" },
      { type: "bond", name: "bond0", slaves: ["enp2s0f0np0", "enp2s0f1np1"], mode: "active-backup", primary: "enp2s0f0np0" },
      { type: "bridge", name: "vmbr0", ports: ["bond0"], vlanAware: true, network: "management", address: "10.203.3.11" },
    ],
    thunderbolt: { loopback: "10.100.0.11", ports: [{ name: "en05" }, { name: "en06" }] },
    ...extra,
  };
}


describe("NodeNetwork under mocks", () => {
  let r: StackRun;
  beforeAll(async () => {
    r = await settled(
      await runStack(STACK_FILE, () => {
        const n = new NodeNetwork("ms01-frege-network", args());
        return { content: n.content };
      }),
    );
  });

  it("registers one Interfaces resource under the component with the rendered block", () => {
    const c = r.byName("ms01-frege-network");
    expect(c.type).toBe(NODE_NETWORK_TYPE);
    expect(c.rawInputs).toEqual({ node: "frege", interfaces: ["enp2s0f0np0", "enp2s0f1np1", "bond0", "vmbr0"] });
    const i = r.byName("ms01-frege-network-interfaces");
    expect(i.type).toBe("pulumi-nodejs:dynamic/network:Interfaces");
    expect(i.parent.endsWith("::ms01-frege-network")).toBe(true);
    expect(i.rawInputs.content).toBe(renderNodeInterfaces(args()));
    expect(r.outputs.content).toBe(i.rawInputs.content);
    expect(i.rawInputs.content).toContain("auto bond0\niface bond0 inet manual\n\tbond-slaves enp2s0f0np0 enp2s0f1np1\n");
    expect(i.rawInputs.content).toContain("iface en06 inet manual\n\tmtu 65520\n");
    expect(i.rawInputs.content).toContain("\taddress 10.100.0.11/32\n\tlink-type dummy\n");
  });

  it("defaults the management address to the SSH host and refuses management changes by default", () => {
    const i = r.byName("ms01-frege-network-interfaces").rawInputs;
    expect(i.managementAddress).toBe("10.203.3.11");
    expect(i.allowManagementChange).toBe(false);
    expect(i.providerVersion).toBe("1");
  });

  it("keeps the SSH key secret and out of the component's inputs", () => {
    const i = r.byName("ms01-frege-network-interfaces");
    expect(isSecretValue(i.rawInputs.sshPrivateKey)).toBe(true);
    expect(i.additionalSecretOutputs).toContain("sshPrivateKey");
    expect(JSON.stringify(r.byName("ms01-frege-network").rawInputs)).not.toContain("PRIVATE KEY");
  });

  it("reports configs the renderer cannot express, naming the interface", () => {
    expect(() => renderNodeInterfaces(args({ thunderbolt: { loopback: "10.100.0.11", ports: [{ name: "vmbr0" }] } }))).toThrow(
      "interface vmbr0 is defined twice (a thunderbolt port or the ring loopback clashes with an interface)",
    );
    expect(() =>
      renderNodeInterfaces(args({ interfaces: [{ type: "vlan", name: "vlan9", device: "vmbr0", vlanId: 10 }], thunderbolt: undefined })),
    ).toThrow("interface vlan9: the name means VLAN 9, but vlanId is 10; rename it to vlan10");
  });
});
