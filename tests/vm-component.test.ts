import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { afterAll, describe, expect, it } from "vitest";
import { Vm, VM_TYPE } from "../components/vm";
import { runStack } from "./helpers/pulumi-mocks";

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
