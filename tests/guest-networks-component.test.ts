/**
 * The GuestNetworks component under mocks: a VXLAN zone with the nodes as
 * peers and its tag on the VNet, no DHCP or SNAT there; a simple zone with
 * DHCP; one apply after every SDN object.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { afterAll, describe, expect, it } from "vitest";
import { GuestNetworks, GUEST_NETWORKS_TYPE } from "../components/guest-networks";
import { orderedAfter } from "./helpers/ordering";
import { runStack, settled } from "./helpers/pulumi-mocks";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guest-networks-"));
const stackFile = path.join(dir, "Pulumi.test.yaml");
fs.writeFileSync(stackFile, "config: {}\n");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const access = (node: string, host: string) => ({ connection: { node, host, port: 22, user: "root" }, sshPrivateKey: "fake-ssh-private-key-for-mock-tests" });

async function build() {
  return settled(await runStack(stackFile, () => {
    const provider = new proxmoxve.Provider("pve", { endpoint: "https://192.168.3.5:8006/" });
    new GuestNetworks("lab-sdn", {
      provider,
      nodes: [access("foxtrot", "192.168.3.5"), access("golf", "192.168.3.6")],
      networks: [
        { name: "ovl", type: "vxlan", cidr: "10.61.0.0/24", gateway: "10.61.0.1", vxlanTag: 100, nodes: ["foxtrot", "golf"], peers: ["192.168.3.5", "192.168.3.6"], mtu: 1450 },
        { name: "dev", type: "simple", cidr: "10.60.0.0/24", gateway: "10.60.0.1", dhcp: { start: "10.60.0.100", end: "10.60.0.200" }, nodes: ["foxtrot"], peers: [] },
      ],
    });
    return {};
  }));
}

describe("GuestNetworks", () => {
  it("makes a VXLAN zone over the nodes' addresses with its tag on the VNet, and no SNAT or DHCP there", async () => {
    const r = await build();
    const [zone] = r.byType("proxmoxve:sdn/zone/vxlan:Vxlan");
    expect(zone.parent).toBe(r.byType(GUEST_NETWORKS_TYPE)[0].urn);
    expect(zone.rawInputs).toMatchObject({ resourceId: "ovl", peers: ["192.168.3.5", "192.168.3.6"], nodes: ["foxtrot", "golf"], mtu: 1450 });
    expect(zone.rawInputs.dhcp).toBeUndefined();
    const vnet = r.byType("proxmoxve:sdn/vnet:Vnet").find((v) => v.rawInputs.resourceId === "ovl")!;
    expect(vnet.rawInputs.tag).toBe(100);
    const subnet = r.byType("proxmoxve:sdn/subnet:Subnet").find((s) => s.rawInputs.cidr === "10.61.0.0/24")!;
    expect(subnet.rawInputs).toMatchObject({ snat: false, gateway: "10.61.0.1" });
    expect(subnet.rawInputs.dhcpRange).toBeUndefined();
  });

  it("gives the simple zone DHCP with PVE's IPAM and SNAT by default with a gateway, and applies once after everything", async () => {
    const r = await build();
    const [zone] = r.byType("proxmoxve:sdn/zone/simple:Simple");
    expect(zone.rawInputs).toMatchObject({ resourceId: "dev", dhcp: "dnsmasq", ipam: "pve", nodes: ["foxtrot"] });
    const subnet = r.byType("proxmoxve:sdn/subnet:Subnet").find((s) => s.rawInputs.cidr === "10.60.0.0/24")!;
    expect(subnet.rawInputs).toMatchObject({ snat: true, dhcpRange: { startAddress: "10.60.0.100", endAddress: "10.60.0.200" } });
    const applies = r.byType("pulumi-nodejs:dynamic/proxmox:SdnApply");
    expect(applies).toHaveLength(1);
    const sdn = r.registrations.filter((x) => x.type.startsWith("proxmoxve:sdn/"));
    expect(sdn).toHaveLength(6);
    for (const x of sdn) expect(orderedAfter(r.registrations, applies[0].urn, x.urn), x.name).toBe(true);
    expect((applies[0].rawInputs.nodes as { node: string }[]).map((n) => n.node)).toEqual(["foxtrot", "golf"]);
  });
});
