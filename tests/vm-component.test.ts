import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { afterAll, describe, expect, it } from "vitest";
import { Vm, VM_TYPE } from "../components/vm";
import { prepareStack, runStack, settled } from "./helpers/pulumi-mocks";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-component-"));
const stackFile = path.join(dir, "Pulumi.test.yaml");
fs.writeFileSync(stackFile, "config: {}\n");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkzq3n2y6kVb0n3z7Q9yYbW8a8nT3m5P2rW3s9qgQ3Z ops@laptop";

async function build() {
  let ipv4: unknown;
  const r = await runStack(
    stackFile,
    () => {
      const provider = new proxmoxve.Provider("pve", { endpoint: "https://192.168.3.5:8006/" });
      const vm = new Vm("web1", {
        provider,
        access: { connection: { node: "foxtrot", host: "192.168.3.5", port: 22, user: "root" }, sshPrivateKey: "fake-ssh-private-key-for-mock-tests" },
        node: "golf",
        vmid: 201,
        name: "web1",
        templateVmid: 7000,
        templateNode: "foxtrot",
        storage: "vm_ssd",
        cores: 4,
        memoryMb: 4096,
        disks: [{ interface: "virtio0", sizeGb: 32 }],
        networks: [{ bridge: "vmbr0", vlanId: 20 }],
        cloudInit: { user: "rocky", sshKeys: [KEY], ipv4: "192.168.3.50/24", gateway: "192.168.3.1" },
      });
      ipv4 = vm.ipv4;
      return { ipv4: vm.ipv4, address: vm.address };
    },
    (type, _name, inputs) =>
      type === "proxmoxve:index/vmLegacy:VmLegacy"
        ? { ...inputs, macAddresses: ["BC:24:11:0A:0B:0C"] }
        : type === "pulumi-nodejs:dynamic/vm:GuestAddress"
          ? { ...inputs, runsOn: "golf", address: "192.168.3.50", addresses: ["192.168.3.50", "10.20.0.5"] }
          : inputs,
  );
  return { r, ipv4 };
}

describe("Vm component", () => {
  it("clones the template in full onto the VM's storage with the agent on and the VM started", async () => {
    const { r } = await build();
    const [vm] = r.byType("proxmoxve:index/vmLegacy:VmLegacy");
    expect(vm.parent).toBe(r.byType(VM_TYPE)[0].urn);
    expect(vm.rawInputs).toMatchObject({
      nodeName: "golf",
      vmId: 201,
      clone: { vmId: 7000, nodeName: "foxtrot", full: true, datastoreId: "vm_ssd" },
      agent: { enabled: true },
      started: true,
      cpu: { cores: 4 },
      memory: { dedicated: 4096 },
      networkDevices: [{ bridge: "vmbr0", vlanId: 20, mtu: 1, model: "virtio" }],
      initialization: {
        userAccount: { username: "rocky", keys: [KEY] },
        ipConfigs: [{ ipv4: { address: "192.168.3.50/24", gateway: "192.168.3.1" } }],
      },
    });
  });

  it("destroys fast: a short shutdown, then stop, never the 30-minute default", async () => {
    const { r } = await build();
    const [vm] = r.byType("proxmoxve:index/vmLegacy:VmLegacy");
    expect(vm.rawInputs.timeoutShutdownVm).toBe(30);
    expect(vm.rawInputs.timeoutStopVm).toBe(30);
  });

  it("uses the API provider it is given", async () => {
    const { r } = await build();
    const [vm] = r.byType("proxmoxve:index/vmLegacy:VmLegacy");
    const [provider] = r.byType("pulumi:providers:proxmoxve");
    expect(vm.provider.startsWith(`${provider.urn}::`)).toBe(true);
  });

  it("waits for the static address on net0 after the VM exists, within the agent timeout, and outputs it", async () => {
    const { r } = await build();
    const [vm] = r.byType("proxmoxve:index/vmLegacy:VmLegacy");
    const [wait] = r.byType("pulumi-nodejs:dynamic/vm:GuestAddress");
    expect(wait.parent).toBe(r.byType(VM_TYPE)[0].urn);
    expect(wait.dependsOn).toContain(vm.urn);
    expect(wait.rawInputs).toMatchObject({ vmid: 201, name: "web1", mac: "BC:24:11:0A:0B:0C", expected: "192.168.3.50", timeoutSeconds: 300 });
    expect(wait.additionalSecretOutputs).toContain("sshPrivateKey");
    expect(r.outputs.address).toBe("192.168.3.50");
    expect(r.outputs.ipv4).toEqual(["192.168.3.50", "10.20.0.5"]);
  });
});

let prepared: Promise<string> | undefined;

describe("Vm component booting an installer ISO (a Talos node)", () => {
  const ACCESS = { connection: { node: "foxtrot", host: "192.168.3.5", port: 22, user: "root" }, sshPrivateKey: "fake-ssh-private-key-for-mock-tests" };
  const base = {
    access: ACCESS,
    node: "golf",
    vmid: 301,
    name: "talos-cp-1",
    storage: "local-lvm",
    disks: [{ interface: "virtio0", sizeGb: 32 }],
    cloudInit: { ipv4: "192.168.3.61/24", gateway: "192.168.3.1", dnsServers: ["192.168.3.1"] },
  };

  it("creates empty disks, the ISO on ide3 after the disk in the boot order, nocloud on ide2, no login, a hard stop on destroy, and no agent wait", async () => {
    const r = await settled(await runStack(stackFile, () => {
      const provider = new proxmoxve.Provider("pve", { endpoint: "https://192.168.3.5:8006/" });
      const vm = new Vm("talos", { ...base, provider, installerIso: "local:iso/talos.iso", guestAgent: false, waitForAddress: false, stopOnDestroy: true });
      return { address: vm.address, ipv4: vm.ipv4 };
    }));
    const [vm] = r.byType("proxmoxve:index/vmLegacy:VmLegacy");
    expect(vm.rawInputs.clone).toBeUndefined();
    expect(vm.rawInputs).toMatchObject({
      cdrom: { fileId: "local:iso/talos.iso", interface: "ide3" },
      bootOrders: ["virtio0", "ide3"],
      operatingSystem: { type: "l26" },
      agent: { enabled: false },
      stopOnDestroy: true,
      disks: [{ interface: "virtio0", size: 32, datastoreId: "local-lvm" }],
      initialization: { type: "nocloud", interface: "ide2", ipConfigs: [{ ipv4: { address: "192.168.3.61/24", gateway: "192.168.3.1" } }] },
    });
    expect((vm.rawInputs.initialization as { userAccount?: unknown }).userAccount).toBeUndefined();
    expect(r.byType("pulumi-nodejs:dynamic/vm:GuestAddress")).toEqual([]);
    expect(r.outputs).toMatchObject({ address: "192.168.3.61", ipv4: ["192.168.3.61"] });
  });

  it.each([
    ["both a template and an ISO", { templateVmid: 7000, installerIso: "local:iso/talos.iso" }, /give either templateVmid \(a clone\) or installerIso \(boot an installer\), exactly one/],
    ["neither", {}, /give either templateVmid \(a clone\) or installerIso/],
    ["no wait without a static address", { installerIso: "local:iso/talos.iso", waitForAddress: false, cloudInit: { ipv4: "dhcp" } }, /waitForAddress: false needs a static cloudInit\.ipv4/],
  ])("refuses %s", async (what, extra, message) => {
    // A refusal throws in the constructor, before any child is registered (one mock runtime for all of them).
    prepared ??= prepareStack(stackFile, []);
    await prepared;
    const provider = new proxmoxve.Provider(`pve-${what.length}`, { endpoint: "https://192.168.3.5:8006/" });
    expect(() => new Vm(`bad-${what.length}`, { ...base, provider, ...extra })).toThrow(message);
  });
});
