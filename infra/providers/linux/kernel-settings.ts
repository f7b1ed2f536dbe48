/**
 * KernelSettings: the baseline's sysctls applied and read back, and its
 * kernel command-line parameters put where the node's boot loader takes them.
 *
 * The sysctl file itself is a RemoteFile (/etc/sysctl.d/90-homelab.conf);
 * this resource, ordered after it, reads every key (`sysctl -n`), loads the
 * file (`sysctl -p`) only when a value differs, and reads them back: a value
 * the kernel does not keep fails, naming the node, the key and the value.
 *
 * Kernel parameters: with GRUB a drop-in (/etc/default/grub.d/90-homelab.cfg)
 * and `update-grub`; with systemd-boot through proxmox-boot-tool (ZFS root on
 * UEFI: /etc/kernel/proxmox-boot-uuids) the parameters on /etc/kernel/cmdline
 * and `proxmox-boot-tool refresh`. Both take effect at the next boot: until
 * then `pendingReboot` lists the parameters /proc/cmdline lacks.
 *
 * A dynamic provider: no native resource sets sysctls or boot parameters, and
 * `read` must show a value changed behind our back (or a reboot still
 * pending) as drift.
 */
import * as pulumi from "@pulumi/pulumi";
import { grubDropInContent, grubDropInPath, kernelSettingsProblems, missingFromCmdline, sameSysctlValue, systemdBootLine } from "../../kernel-settings";
import { command, inCLocale, sh } from "../../shell";
import { SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const KERNEL_SETTINGS_PROVIDER_VERSION = "1";

export interface KernelSettingsInputs extends ConnectionArgs {
  providerVersion: string;
  /** The file the sysctls are in (written by a RemoteFile before this runs). */
  sysctlFile: string;
  /** key → value as written to the file. */
  sysctls: Record<string, string>;
  /** Kernel command-line parameters, e.g. ["intel_iommu=on", "iommu=pt"]. */
  kernelParameters: string[];
}

export interface KernelSettingsOutputs extends KernelSettingsInputs {
  /** What the kernel reports for each configured key. */
  values: Record<string, string>;
  /** "grub" or "systemd-boot" (proxmox-boot-tool). */
  bootLoader: string;
  /** Parameters the running kernel was not booted with; a reboot applies them. */
  pendingReboot: string[];
  /** Parameters written to the boot loader by us (what a later run may take off a systemd-boot line). */
  managedParameters: string[];
}

async function readValues(session: SshSession, keys: string[]): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const key of keys) {
    const r = await session.run(inCLocale(command("sysctl", "-n", key)));
    values[key] = r.code === 0 ? r.stdout.trim() : "";
  }
  return values;
}

function differing(inputs: KernelSettingsInputs, values: Record<string, string>): string[] {
  return Object.keys(inputs.sysctls ?? {}).filter((k) => !sameSysctlValue(values[k] ?? "", String(inputs.sysctls[k])));
}

async function readBootLoader(session: SshSession): Promise<string> {
  const r = await session.run(command("test", "-f", "/etc/kernel/proxmox-boot-uuids"));
  return r.code === 0 ? "systemd-boot" : "grub";
}

async function readState(session: SshSession, inputs: KernelSettingsInputs) {
  const values = await readValues(session, Object.keys(inputs.sysctls ?? {}).sort());
  const bootLoader = await readBootLoader(session);
  const cmdline = (await session.check(command("cat", "/proc/cmdline"))).stdout;
  return { values, bootLoader, pendingReboot: missingFromCmdline(cmdline, inputs.kernelParameters ?? []) };
}

async function readOptional(session: SshSession, path: string): Promise<string | undefined> {
  const r = await session.run(command("cat", path));
  return r.code === 0 ? r.stdout : undefined;
}

/** Write the boot loader's parameters when they differ; returns the parameters now managed. */
async function applyParameters(session: SshSession, inputs: KernelSettingsInputs, bootLoader: string, managedBefore: string[]): Promise<string[]> {
  const wanted = inputs.kernelParameters ?? [];
  if (bootLoader === "systemd-boot") {
    const current = (await readOptional(session, "/etc/kernel/cmdline")) ?? "";
    const line = systemdBootLine(current, wanted, managedBefore);
    if (line !== current.trim()) {
      await session.check(sh`printf '%s\n' ${line} > /etc/kernel/cmdline`);
      await session.check(inCLocale(command("proxmox-boot-tool", "refresh")));
    }
    return wanted;
  }
  const path = grubDropInPath();
  const current = await readOptional(session, path);
  if (wanted.length === 0) {
    if (current !== undefined) {
      await session.check(command("rm", "-f", path));
      await session.check(inCLocale(command("update-grub")));
    }
    return [];
  }
  const content = grubDropInContent(wanted);
  if (current !== content) {
    await session.check(sh`mkdir -p /etc/default/grub.d && printf '%s' ${content} > ${path}`);
    await session.check(inCLocale(command("update-grub")));
  }
  return wanted;
}

async function converge(inputs: KernelSettingsInputs, managedBefore: string[]): Promise<KernelSettingsOutputs> {
  const node = inputs.connection.node;
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const before = await readState(session, inputs);
      let values = before.values;
      if (differing(inputs, values).length > 0) {
        // Exit status alone does not settle it (procps goes on after a refused key): the read-back does.
        const load = await session.run(inCLocale(command("sysctl", "-p", inputs.sysctlFile)));
        values = await readValues(session, Object.keys(inputs.sysctls).sort());
        const wrong = differing(inputs, values);
        if (wrong.length > 0) {
          const said = load.stderr.trim() ? `; sysctl -p said: ${load.stderr.trim()}` : "";
          throw new Error(
            `${node}: the kernel did not take ${wrong.map((k) => `${k} = ${inputs.sysctls[k]} (it reports ${JSON.stringify(values[k])})`).join(", ")} ` +
              `from ${inputs.sysctlFile}${said}`,
          );
        }
      }
      const managedParameters = await applyParameters(session, inputs, before.bootLoader, managedBefore);
      const cmdline = (await session.check(command("cat", "/proc/cmdline"))).stdout;
      return {
        ...inputs,
        values,
        bootLoader: before.bootLoader,
        pendingReboot: missingFromCmdline(cmdline, inputs.kernelParameters ?? []),
        managedParameters,
      };
    },
    sshOptions(inputs),
  );
}

export const kernelSettingsProvider: pulumi.dynamic.ResourceProvider<KernelSettingsInputs, KernelSettingsOutputs> = {
  async check(_olds, news) {
    if (isUnknown(news.sysctls) || isUnknown(news.kernelParameters)) return { inputs: news, failures: [] };
    const problems = kernelSettingsProblems(news.connection?.node ?? "?", news.sysctls ?? {}, news.kernelParameters ?? []);
    return { inputs: news, failures: problems.map((reason) => ({ property: "sysctls", reason })) };
  },

  async create(inputs) {
    return { id: inputs.connection.node, outs: await converge(inputs, []) };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const state = await withSession(sshTarget(props), (s) => readState(s, props), sshOptions(props));
    return { id, props: { ...props, ...state } };
  },

  async diff(_id, olds, news) {
    const replaces = olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const drifted = differing(olds, olds.values ?? {}).length > 0;
    const changes =
      replaces.length > 0 ||
      isUnknown(news) ||
      drifted ||
      stableJson(olds.sysctls) !== stableJson(news.sysctls) ||
      stableJson(olds.kernelParameters) !== stableJson(news.kernelParameters) ||
      olds.sysctlFile !== news.sysctlFile ||
      stableJson(olds.connection) !== stableJson(news.connection) ||
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion;
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, olds, news) {
    return { outs: await converge(news, olds.managedParameters ?? []) };
  },

  async delete(_id, props) {
    // The sysctl file goes with its RemoteFile; the boot loader loses our parameters at the next boot.
    if ((props.managedParameters ?? []).length === 0) return;
    await withSession(sshTarget(props), (s) => applyParameters(s, { ...props, kernelParameters: [] }, props.bootLoader, props.managedParameters), sshOptions(props));
  },
};

/** Resource inputs as a program passes them. */
export interface KernelSettingsArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  sysctlFile: string;
  sysctls: Record<string, string>;
  kernelParameters: string[];
}

/** Registered as `pulumi-nodejs:dynamic/node:KernelSettings`. */
export class KernelSettings extends pulumi.dynamic.Resource {
  declare readonly values: pulumi.Output<Record<string, string>>;
  declare readonly pendingReboot: pulumi.Output<string[]>;
  declare readonly bootLoader: pulumi.Output<string>;

  constructor(name: string, args: KernelSettingsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      kernelSettingsProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, KERNEL_SETTINGS_PROVIDER_VERSION),
        values: undefined,
        bootLoader: undefined,
        pendingReboot: undefined,
        managedParameters: undefined,
      },
      sshResourceOptions(opts),
      "node",
      "KernelSettings",
    );
  }
}
