import { describe, expect, it } from "vitest";
import { isMissingVmConfig, parseDrive, parseImportDisk, parseQmConfig, templateDescription, templateMarker } from "../infra/parse/qm";
import { DEFAULT_TEMPLATE_HARDWARE, qmCreateArgs, templateInputsHash, type CloudTemplateInputs } from "../infra/providers/proxmox/cloud-template";
import { command } from "../infra/shell";

describe("qm output parsers", () => {
  it("parses importdisk output of qemu-server >= 8.2.7 and older", () => {
    const nu = [
      "importing disk '/var/lib/vz/template/iso/r9.img' to VM 7000 ...",
      '  Logical volume "vm-7000-disk-1" created.',
      "transferred 0.0 B of 10.0 GiB (0.00%)",
      "transferred 10.0 GiB of 10.0 GiB (100.00%)",
      "unused0: successfully imported disk 'local-lvm:vm-7000-disk-1'",
      "",
    ].join("\n");
    expect(parseImportDisk(nu)).toEqual({ slot: "unused0", volid: "local-lvm:vm-7000-disk-1" });
    expect(parseImportDisk("Successfully imported disk as 'unused1:ceph-vm:vm-9000-disk-0'\n")).toEqual({ slot: "unused1", volid: "ceph-vm:vm-9000-disk-0" });
    expect(parseImportDisk("transferred 10.0 GiB of 10.0 GiB (100.00%)\n")).toBeUndefined();
  });

  it("parses qm config (sorted key: value, URI-escaped description) and drives", () => {
    const conf = parseQmConfig("agent: 1\ndescription: a%3Ab%0Ac %25\ntemplate: 1\nvirtio0: local-lvm:base-7000-disk-1,discard=on,size=32G\n");
    expect(conf).toEqual({ agent: "1", description: "a:b\nc %", template: "1", virtio0: "local-lvm:base-7000-disk-1,discard=on,size=32G" });
    expect(parseDrive(conf.virtio0)).toEqual({ volid: "local-lvm:base-7000-disk-1", options: { discard: "on", size: "32G" } });
  });

  it("recognises the missing-config error and the ownership marker", () => {
    expect(isMissingVmConfig("Configuration file 'nodes/pve/qemu-server/7000.conf' does not exist\n")).toBe(true);
    expect(isMissingVmConfig("VM is locked (create)\n")).toBe(false);
    const h = "c".repeat(64);
    expect(templateMarker(templateDescription(h))).toBe(h);
    expect(templateMarker("my database VM")).toBeUndefined();
    expect(templateMarker(undefined)).toBeUndefined();
  });
});

describe("template inputs", () => {
  const base: CloudTemplateInputs = {
    connection: { node: "pve1", host: "10.0.0.1", port: 22, user: "root" },
    sshPrivateKey: "KEY",
    providerVersion: "1",
    vmid: 7000,
    name: "rocky9-template",
    imagePath: "/var/lib/vz/template/iso/r9.img",
    imageChecksum: "sha256:" + "a".repeat(64),
    storage: "local-lvm",
    bridge: "vmbr0",
    diskSize: "32G",
    hardware: { ...DEFAULT_TEMPLATE_HARDWARE },
    ciUser: "rocky",
    sshKeys: ["ssh-ed25519 AAAA x"],
    ipconfig0: "ip=dhcp",
    tags: ["rocky9", "cloudinit"],
  };

  it("builds the issue's qm create line", () => {
    expect(command(...qmCreateArgs(base, "d".repeat(64)))).toBe(
      "qm create 7000 --name rocky9-template --ostype l26 --memory 4096 --balloon 1 --agent 1 --bios ovmf --machine q35 " +
        "--efidisk0 local-lvm:0,pre-enrolled-keys=0 --cpu host --cores 4 --numa 1 --vga serial0 --serial0 socket " +
        "--net0 virtio,bridge=vmbr0,mtu=1 --scsihw virtio-scsi-pci " +
        `--description 'Managed by homelab (Pulumi CloudTemplate); do not edit. homelab-cloud-template inputs-sha256=${"d".repeat(64)}' --tags 'rocky9;cloudinit'`,
    );
  });

  it("hashes content, not connection or secrets", () => {
    const h = templateInputsHash(base);
    expect(templateInputsHash({ ...base, sshPrivateKey: "OTHER", connection: { ...base.connection, host: "10.0.0.9" } })).toBe(h);
    expect(templateInputsHash({ ...base, sshKeys: [" ssh-ed25519 AAAA x ", ""] })).toBe(h);
    expect(templateInputsHash({ ...base, imageChecksum: "sha256:" + "b".repeat(64) })).not.toBe(h);
    expect(templateInputsHash({ ...base, hardware: { ...DEFAULT_TEMPLATE_HARDWARE, memory: 8192 } })).not.toBe(h);
    expect(templateInputsHash({ ...base, connection: { ...base.connection, node: "pve2" } })).not.toBe(h);
  });
});
