/**
 * homelab:vm:CloudTemplate under Pulumi mocks: what it registers, with which inputs and secrets.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CLOUD_TEMPLATE_TYPE, CloudTemplate } from "../components/cloud-template";
import { GUEST_AGENT_VENDOR_DATA, GuestAgentSnippet } from "../components/guest-agent-snippet";
import { resolveImage } from "../infra/images";
import { allStrings, isSecretValue, runStack, StackRun, stubProviderSerialization } from "./helpers/pulumi-mocks";

// Real serialization is tested in tests/cloud-template.test.ts (serializeProvider against the sim).
stubProviderSerialization();

const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "cloud-template-component-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");
const KEY = "fake-ssh-private-key-for-mock-tests";
const connection = { node: "ms01", host: "10.0.0.11", port: 22, user: "root", hostKey: "SHA256:abc" };
const connection2 = { ...connection, node: "ms02", host: "10.0.0.12" };
const access = { connection, sshPrivateKey: KEY };
const access2 = { connection: connection2, sshPrivateKey: KEY };

let stackRun: Promise<StackRun> | undefined;
function run(): Promise<StackRun> {
  stackRun ??= runStack(STACK_FILE, () => {
    const rocky = new CloudTemplate("rocky9", { access, vmid: 7000, image: resolveImage("rocky9"), imagePath: "/var/lib/vz/template/iso/r9.img" });
    const deb = new CloudTemplate("debian12", {
      access,
      vmid: 7002,
      image: resolveImage("debian12"),
      imagePath: "/var/lib/vz/template/iso/d12.img",
      storage: "ceph-vm",
      diskSize: "20G",
      hardware: { cores: 2, memory: 2048 },
      sshKeys: ["ssh-ed25519 AAAA admin"],
      tags: ["debian12"],
    });
    const snippet = new GuestAgentSnippet("agent", { configNode: access, nodes: [access, access2] });
    const r10 = new CloudTemplate(
      "rocky10",
      { access, vmid: 7001, image: resolveImage("rocky10"), imagePath: "/var/lib/vz/template/iso/r10.img", vendorSnippet: snippet.volid },
      { dependsOn: snippet.ready },
    );
    return { rocky: rocky.diskVolume, deb: deb.diskVolume, r10: r10.diskVolume };
  });
  return stackRun;
}

describe("CloudTemplate component", () => {
  it("registers one dynamic CloudTemplate per component with the issue's defaults", async () => {
    const r = await run();
    expect(r.byType(CLOUD_TEMPLATE_TYPE).map((x) => x.name).sort()).toEqual(["debian12", "rocky10", "rocky9"]);
    const t = r.byName("rocky9-template");
    expect(t.type).toBe("pulumi-nodejs:dynamic/vm:CloudTemplate");
    expect(t.parent).toBe(r.byName("rocky9").urn);
    expect(t.rawInputs).toMatchObject({
      vmid: 7000,
      name: "rocky9-template",
      storage: "local-lvm",
      bridge: "vmbr0",
      diskSize: "32G",
      ciUser: "rocky",
      ipconfig0: "ip=dhcp",
      tags: ["rocky9", "cloudinit"],
      sshKeys: [],
      imageChecksum: `sha256:${resolveImage("rocky9").checksum}`,
      hardware: { ostype: "l26", memory: 4096, balloon: 1, agent: true, bios: "ovmf", machine: "q35", cpu: "host", cores: 4, numa: true, vga: "serial0", serial0: "socket", mtu: 1 },
    });
    const d = r.byName("debian12-template");
    expect(d.rawInputs).toMatchObject({ storage: "ceph-vm", diskSize: "20G", ciUser: "debian", tags: ["debian12"], hardware: { cores: 2, memory: 2048, bios: "ovmf" } });
  });

  it("enables snippets on the storage once, writes the guest-agent snippet on every node, and the template waits for both", async () => {
    const r = await run();
    const content = r.byName("agent-content");
    expect(content.type).toBe("pulumi-nodejs:dynamic/storage:StorageContent");
    expect(content.rawInputs).toMatchObject({ storage: "local", content: ["snippets"], connection: { node: "ms01" } });
    const files = r.byType("pulumi-nodejs:dynamic/node:RemoteFile");
    expect(files.map((f) => f.name).sort()).toEqual(["agent-ms01", "agent-ms02"]);
    for (const file of files) {
      expect(file.rawInputs).toMatchObject({ path: "/var/lib/vz/snippets/homelab-qemu-guest-agent.yaml", content: GUEST_AGENT_VENDOR_DATA, onDelete: "keep" });
      expect(file.dependsOn).toContain(content.urn);
      expect(file.parent).toBe(r.byName("agent").urn);
    }
    expect(GUEST_AGENT_VENDOR_DATA).toContain("#cloud-config\npackages:\n  - qemu-guest-agent\n");
    const t = r.byName("rocky10-template");
    expect(t.rawInputs.vendorSnippet).toBe("local:snippets/homelab-qemu-guest-agent.yaml");
    expect(t.dependsOn).toEqual(expect.arrayContaining([content.urn, ...files.map((f) => f.urn)]));
    expect(r.byName("rocky9-template").rawInputs.vendorSnippet).toBeUndefined();
  });

  it("keeps the SSH key secret and out of the component's own inputs", async () => {
    const r = await run();
    const t = r.byName("rocky9-template");
    expect(isSecretValue(t.rawInputs.sshPrivateKey)).toBe(true);
    expect(t.additionalSecretOutputs).toContain("sshPrivateKey");
    expect(allStrings(r.byName("rocky9").rawInputs).join("\n")).not.toContain(KEY);
  });
});
