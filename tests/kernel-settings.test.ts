/**
 * The baseline's sysctls and kernel parameters over real SSH against
 * simulated nodes: the sysctl.d file written by a RemoteFile, loaded and read
 * back by KernelSettings (loaded from its serialized text, as the engine runs
 * it), a value the kernel refuses failing with node, key and value, drift seen
 * by refresh and repaired, and the kernel parameters on a GRUB node and on a
 * systemd-boot node, pending until the node reboots.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kernelSettingsProblems, sysctlFileContent, sysctlFilePath, systemdBootLine } from "../infra/kernel-settings";
import { remoteFileProvider, REMOTE_FILE_PROVIDER_VERSION } from "../infra/providers/linux/remote-file";
import { KERNEL_SETTINGS_PROVIDER_VERSION, kernelSettingsProvider, type KernelSettingsInputs, type KernelSettingsOutputs } from "../infra/providers/linux/kernel-settings";
import { failure } from "./helpers/failure";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { isMutating } from "./sim/mutating";

let sim: SimCluster;
let loaded: typeof kernelSettingsProvider;

const SYSCTLS = { "net.core.rmem_max": "16777216", "net.ipv4.tcp_rmem": "4096 87380 16777216" };

/** The file as the baseline writes it (a RemoteFile), then the settings resource. */
async function converge(node: string, sysctls: Record<string, string>, kernelParameters: string[], provider = kernelSettingsProvider, olds?: KernelSettingsOutputs) {
  await remoteFileProvider.create!({
    providerVersion: REMOTE_FILE_PROVIDER_VERSION,
    ...simConnection(sim, node),
    path: sysctlFilePath(),
    content: sysctlFileContent(sysctls),
    fileMode: "0644",
    owner: "root",
    group: "root",
  });
  const inputs: KernelSettingsInputs = { providerVersion: KERNEL_SETTINGS_PROVIDER_VERSION, ...simConnection(sim, node), sysctlFile: sysctlFilePath(), sysctls, kernelParameters };
  if (olds) return (await provider.update!(node, olds, inputs)).outs as KernelSettingsOutputs;
  return ((await provider.create!(inputs)) as { outs: KernelSettingsOutputs }).outs;
}

function mutating(node: string): string[] {
  return sim
    .commandLog()
    .filter((e) => e.node === node && isMutating(e.command))
    .map((e) => e.command.replace(/^LC_ALL=C /, ""));
}

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "k1" }, { name: "k2" }]);
  // k2 boots with systemd-boot through proxmox-boot-tool (ZFS root on UEFI).
  await sh("k2", "mkdir -p /etc/kernel && echo 6F2A-1B3C > /etc/kernel/proxmox-boot-uuids && echo 'root=ZFS=rpool/ROOT/pve-1 boot=zfs' > /etc/kernel/cmdline");
  loaded = serializeProvider("infra/providers/linux/kernel-settings.ts", "kernelSettingsProvider").load() as typeof kernelSettingsProvider;
}, 180_000);

afterAll(async () => {
  await sim?.stop();
});

describe("rules (pure)", () => {
  it("refuses a name that is not a sysctl, a value with a newline and a parameter with a space", () => {
    expect(kernelSettingsProblems("k1", { "net ipv4": "1", "vm.swappiness": "1\n2" }, ["a b"])).toEqual([
      'k1: sysctl "net ipv4" is not a sysctl name (dotted, like net.ipv4.ip_forward)',
      'k1: sysctl vm.swappiness = "1\\n2" is not a value on one line (a newline or control character, or empty)',
      'k1: kernel parameter "a b" is not name or name=value without spaces or quotes',
    ]);
    expect(kernelSettingsProblems("k1", { "net.ipv4.conf.en05.forwarding": "1" }, ["intel_iommu=on"])).toEqual([]);
  });

  it("a systemd-boot line keeps what is not ours and drops what we added before", () => {
    expect(systemdBootLine("root=ZFS=rpool boot=zfs intel_iommu=on", ["iommu=pt"], ["intel_iommu=on"])).toBe("root=ZFS=rpool boot=zfs iommu=pt");
  });
});

describe("sysctls and kernel parameters on a GRUB node", () => {
  let outs: KernelSettingsOutputs;

  it("loads the file, reads every value back, writes the GRUB drop-in; the parameters wait for a reboot", async () => {
    sim.clearLog();
    outs = await converge("k1", SYSCTLS, ["intel_iommu=on", "iommu=pt"], loaded);
    expect(outs.values).toEqual({ "net.core.rmem_max": "16777216", "net.ipv4.tcp_rmem": "4096 87380 16777216" });
    expect(outs.bootLoader).toBe("grub");
    expect(outs.pendingReboot).toEqual(["intel_iommu=on", "iommu=pt"]);
    const m = mutating("k1");
    expect(m).toContain("sysctl -p /etc/sysctl.d/90-homelab.conf");
    expect(m).toContain("update-grub");
    expect(await sh("k1", "cat /etc/default/grub.d/90-homelab.cfg")).toBe(
      '# Managed by homelab (baseline.kernelParameters); changes here are overwritten.\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX intel_iommu=on iommu=pt"\n',
    );
    for (const [k, v] of Object.entries(SYSCTLS)) expect((await sh("k1", `sysctl -n ${k}`)).trim()).toBe(v);
  });

  it("after a reboot the kernel runs with the parameters and the sysctls; a second run changes nothing", async () => {
    await sim.rebootNode("k1");
    expect(await sh("k1", "cat /proc/cmdline")).toMatch(/ intel_iommu=on iommu=pt\n$/);
    const read = (await kernelSettingsProvider.read!("k1", outs)).props as KernelSettingsOutputs;
    expect(read.pendingReboot).toEqual([]);
    expect(read.values).toEqual(outs.values);
    sim.clearLog();
    const again = await converge("k1", SYSCTLS, ["intel_iommu=on", "iommu=pt"]);
    expect(again.pendingReboot).toEqual([]);
    expect(mutating("k1")).toEqual([]);
    outs = again;
  });

  it("refresh sees a value changed by hand; the update loads the file again", async () => {
    await sh("k1", "sysctl -w net.core.rmem_max=212992");
    const read = (await kernelSettingsProvider.read!("k1", outs)).props as KernelSettingsOutputs;
    expect(read.values["net.core.rmem_max"]).toBe("212992");
    expect((await kernelSettingsProvider.diff!("k1", read, outs)).changes).toBe(true);
    sim.clearLog();
    const fixed = await converge("k1", SYSCTLS, ["intel_iommu=on", "iommu=pt"], kernelSettingsProvider, read);
    expect(fixed.values["net.core.rmem_max"]).toBe("16777216");
    expect(mutating("k1")).toEqual(["sysctl -p /etc/sysctl.d/90-homelab.conf"]);
  });

  it("fails naming node, key and value when the kernel refuses a value, through the serialized provider", async () => {
    const err = await failure(converge("k1", { ...SYSCTLS, "net.core.rmem_max": "lots" }, [], loaded));
    expect(err.message).toBe(
      'k1: the kernel did not take net.core.rmem_max = lots (it reports "16777216") from /etc/sysctl.d/90-homelab.conf; ' +
        'sysctl -p said: sysctl: setting key "net.core.rmem_max": Invalid argument',
    );
  });
});

describe("kernel parameters on a systemd-boot node", () => {
  it("puts them on /etc/kernel/cmdline and refreshes the ESPs; an update takes off only what it had added", async () => {
    sim.clearLog();
    const outs = await converge("k2", {}, ["intel_iommu=on", "iommu=pt"]);
    expect(outs.bootLoader).toBe("systemd-boot");
    expect(await sh("k2", "cat /etc/kernel/cmdline")).toBe("root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on iommu=pt\n");
    expect(mutating("k2")).toContain("proxmox-boot-tool refresh");
    expect(outs.pendingReboot).toEqual(["intel_iommu=on", "iommu=pt"]);
    await sim.rebootNode("k2");
    expect(await sh("k2", "cat /proc/cmdline")).toMatch(/^initrd=\S+ root=ZFS=rpool\/ROOT\/pve-1 boot=zfs intel_iommu=on iommu=pt\n$/);
    const updated = await converge("k2", {}, ["iommu=pt"], kernelSettingsProvider, outs);
    expect(await sh("k2", "cat /etc/kernel/cmdline")).toBe("root=ZFS=rpool/ROOT/pve-1 boot=zfs iommu=pt\n");
    expect(updated.pendingReboot).toEqual([]);
  });
});
