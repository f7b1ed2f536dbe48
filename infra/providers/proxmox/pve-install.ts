/**
 * PveInstall: Proxmox VE on a plain Debian host, the documented way (Proxmox
 * wiki "Install Proxmox VE on Debian 12 Bookworm / 13 Trixie"): the hostname
 * resolving to the node's address, the release key (pinned digest) and the
 * no-subscription repository, `apt-get update` and `full-upgrade`, the
 * Proxmox kernel, a reboot into it (a bounded wait; the pinned host key is
 * checked on every reconnect), then `proxmox-ve postfix open-iscsi chrony`,
 * Debian's kernel and os-prober removed, `update-grub`.
 *
 * The host is read first and only the steps still missing run, so a node that
 * already runs Proxmox VE gets no changing command, and a half-finished install
 * (the Proxmox kernel installed, no reboot yet) resumes at the reboot. A Debian
 * release that does not carry the requested major is refused before any change.
 *
 * A dynamic provider: nothing in the native Proxmox provider installs Proxmox
 * (it needs the API, which exists only afterwards), and `read` must show a
 * node whose Proxmox VE was removed or whose kernel changed as drift.
 * Deleting it changes nothing: uninstalling Proxmox is never automatic.
 */
import * as pulumi from "@pulumi/pulumi";
import { errorMessage } from "../../errors";
import { parsePveversion } from "../../parse/pveversion";
import { debianKernels, debianReleaseFor, installRefusals, parseOsRelease, pendingSteps, runsProxmoxKernel, hostnameResolves, type InstallFacts, type InstallStep, type PveInstallSource } from "../../pve-install";
import { andThen, command, inCLocale, sh } from "../../shell";
import { SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { isUnknown, sleep, stableJson } from "../diff";
import { refusalMessage } from "../sessions";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const PVE_INSTALL_PROVIDER_VERSION = "1";

export interface PveInstallInputs extends ConnectionArgs {
  providerVersion: string;
  /** The requested Proxmox VE major (8 on Debian 12, 9 on Debian 13). */
  pveMajor: number;
  /** The node's management address, which its hostname must resolve to. */
  address: string;
  /** Repository file and release key of that major (infra/pve-install.ts pveInstallSource). */
  source: PveInstallSource;
  /** The Debian release the stack file says the node runs (nodes[].install.debianRelease), checked against the major before SSH. */
  debianRelease?: number;
  /** How long the node may take to come back from the reboot. */
  rebootTimeoutSeconds: number;
  /** Seconds between reconnect attempts while it reboots. */
  pollIntervalSeconds?: number;
}

export interface PveInstallOutputs extends PveInstallInputs {
  /** pve-manager version now running, e.g. "9.1.1"; "" when Proxmox VE is not (or no longer) there. */
  pveVersion: string;
  /** `uname -r`. */
  kernel: string;
  /** Steps a run would still do; empty once installed (refresh fills it when the node changed). */
  pending: InstallStep[];
}

/** Packages the install looks at; `dpkg-query` prints the installed ones. */
function watchedPackages(): string[] {
  return ["proxmox-ve", "proxmox-default-kernel", "linux-image-amd64", "linux-image-6.*", "os-prober"];
}

/** "sha256:…" → the sum tool; anything else is refused by the schema and the check below. */
function digestTool(digest: string): string {
  return digest.startsWith("sha512:") ? "sha512sum" : "sha256sum";
}

async function readFacts(session: SshSession, inputs: PveInstallInputs): Promise<InstallFacts> {
  const os = parseOsRelease((await session.check(command("cat", "/etc/os-release"))).stdout);
  // Exit 1 when some pattern matches nothing: the ones that do are printed.
  const dpkg = await session.run(inCLocale(command("dpkg-query", "-W", "-f", "${Package}\\t${db:Status-Abbrev}\\n", ...watchedPackages())));
  if (dpkg.code !== 0 && dpkg.code !== 1) throw new Error(`${session.node}: dpkg-query -W failed (exit ${dpkg.code}): ${dpkg.stderr.trim()}`);
  const packages = dpkg.stdout
    .split("\n")
    .map((l) => l.split("\t"))
    .filter(([name, status]) => name && /^ii/.test(status ?? ""))
    .map(([name]) => name);
  const runningKernel = (await session.check(command("uname", "-r"))).stdout.trim();
  let pveVersion = "";
  if (packages.includes("proxmox-ve")) {
    const v = await session.run(inCLocale(command("pveversion")));
    pveVersion = v.code === 0 ? parsePveversion(v.stdout)?.version ?? "" : "";
  }
  const hostnameIp = await session.run(command("hostname", "--ip-address"));
  const key = inputs.source.key;
  const sum = await session.run(command(digestTool(key.digest), key.path));
  const keyDigest = sum.code === 0 ? `${key.digest.split(":")[0]}:${sum.stdout.trim().split(/\s+/)[0]}` : "";
  const repo = await session.run(command("cat", inputs.source.repository.path));
  return {
    osId: os.ID ?? "",
    versionId: os.VERSION_ID ?? "",
    codename: os.VERSION_CODENAME ?? "",
    packages,
    runningKernel,
    pveVersion,
    hostnameAddresses: hostnameIp.code === 0 ? hostnameIp.stdout.trim().split(/\s+/).filter(Boolean) : [],
    keyDigest,
    repositoryContent: repo.code === 0 ? repo.stdout : "",
  };
}

function target(inputs: PveInstallInputs) {
  return { node: inputs.connection.node, pveMajor: inputs.pveMajor, address: inputs.address, source: inputs.source };
}

/** apt-get, non-interactive (postfix would ask), with Debian's keep-the-old-config answer. */
function aptGet(verb: string, ...packages: string[]): string {
  return inCLocale(`DEBIAN_FRONTEND=noninteractive ${command("apt-get", verb, "-y", "-o", "Dpkg::Options::=--force-confold", ...packages)}`);
}

/** /etc/hosts: the 127.0.1.1 line Debian's installer writes goes, the node's name on its address comes. */
function hostsCommand(node: string, address: string): string {
  const named = `^${address.replace(/\./g, "\\.")}[[:space:]](.*[[:space:]])?${node}([[:space:]]|$)`;
  return andThen(
    command("sed", "-i", "-E", "/^127\\.0\\.1\\.1[[:space:]]/d", "/etc/hosts"),
    `{ ${command("grep", "-qE", named, "/etc/hosts")} || ${command("printf", "%s\\t%s\\n", address, node)} >> /etc/hosts; }`,
  );
}

async function runStep(session: SshSession, inputs: PveInstallInputs, step: InstallStep, facts: InstallFacts): Promise<void> {
  const node = inputs.connection.node;
  const { key, repository } = inputs.source;
  switch (step) {
    case "hosts": {
      await session.check(hostsCommand(node, inputs.address));
      const after = (await session.check(command("hostname", "--ip-address"))).stdout.trim().split(/\s+/);
      if (!hostnameResolves(inputs, { hostnameAddresses: after })) {
        throw new Error(`${node}: hostname --ip-address answers ${after.join(" ")} after /etc/hosts was fixed, not only ${inputs.address}; check /etc/hosts and /etc/nsswitch.conf`);
      }
      return;
    }
    case "key": {
      const tmp = `${key.path}.download`;
      await session.check(andThen(command("mkdir", "-p", key.path.replace(/\/[^/]+$/, "")), command("curl", "-fsSL", "--retry", "3", "-o", tmp, key.url)));
      const sum = (await session.check(command(digestTool(key.digest), tmp))).stdout.trim().split(/\s+/)[0];
      const got = `${key.digest.split(":")[0]}:${sum}`;
      if (got !== key.digest) {
        await session.run(command("rm", "-f", tmp));
        throw new Error(`${node}: the Proxmox release key from ${key.url} has digest ${got}, not the pinned ${key.digest}; not installed (a changed key or an interception)`);
      }
      await session.check(command("install", "-m", "0644", tmp, key.path));
      await session.run(command("rm", "-f", tmp));
      return;
    }
    case "repository":
      await session.check(sh`install -d -m 0755 /etc/apt/sources.list.d && printf '%s' ${repository.content} > ${repository.path} && chmod 0644 ${repository.path}`);
      return;
    case "kernel":
      await session.check(aptGet("update"));
      await session.check(aptGet("full-upgrade"));
      await session.check(aptGet("install", "proxmox-default-kernel"));
      return;
    case "reboot":
      return; // after the session closes: see rebootIntoProxmoxKernel
    case "proxmox-ve":
      if (!facts.packages.includes("proxmox-default-kernel") && !runsProxmoxKernel(facts.runningKernel)) await session.check(aptGet("update"));
      await session.check(aptGet("install", "proxmox-ve", "postfix", "open-iscsi", "chrony"));
      return;
    case "remove-debian-kernel": {
      const now = await readFacts(session, inputs);
      const kernels = debianKernels(now.packages);
      if (kernels.length > 0) await session.check(aptGet("remove", ...kernels));
      await session.check(inCLocale(command("update-grub")));
      return;
    }
    case "remove-os-prober":
      await session.check(aptGet("remove", "os-prober"));
      return;
  }
}

/** Reboot, then reconnect (pinned host key) until the Proxmox kernel answers, within the timeout. */
async function rebootIntoProxmoxKernel(inputs: PveInstallInputs): Promise<void> {
  const node = inputs.connection.node;
  await withSession(
    sshTarget(inputs),
    async (session) => {
      // The connection may drop before the exit status arrives: that is the reboot happening.
      await session.run(command("systemctl", "reboot")).catch(() => undefined);
    },
    sshOptions(inputs),
  );
  const deadline = Date.now() + inputs.rebootTimeoutSeconds * 1000;
  const pollMs = (inputs.pollIntervalSeconds ?? 5) * 1000;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    await sleep(pollMs);
    try {
      const kernel = await withSession(sshTarget(inputs), async (s) => (await s.check(command("uname", "-r"))).stdout.trim(), { ...sshOptions(inputs), retries: 0 });
      if (runsProxmoxKernel(kernel)) return;
      last = `running kernel ${kernel}`;
    } catch (err) {
      // A host key mismatch is not the reboot: it is another machine at this address.
      if ((err as { name?: string }).name === "HostKeyMismatchError") throw err;
      last = errorMessage(err);
    }
  }
  throw new Error(
    `${node}: did not come back running a Proxmox kernel within ${inputs.rebootTimeoutSeconds} s of systemctl reboot (last: ${last}); ` +
      "check its console (the boot loader's default entry should be the proxmox-kernel), then run again: the install resumes",
  );
}

/** Read, refuse or run the missing steps, read back. */
async function converge(inputs: PveInstallInputs): Promise<PveInstallOutputs> {
  const node = inputs.connection.node;
  const t = target(inputs);
  const before = await withSession(sshTarget(inputs), (s) => readFacts(s, inputs), sshOptions(inputs));
  const refusals = installRefusals(t, before);
  if (refusals.length > 0) throw new Error(refusalMessage(`${node}: Proxmox VE ${inputs.pveMajor} install`, refusals));
  const steps = pendingSteps(t, before);
  const rebootAt = steps.indexOf("reboot");
  const [first, second] = rebootAt < 0 ? [steps, []] : [steps.slice(0, rebootAt), steps.slice(rebootAt + 1)];
  const runAll = async (list: InstallStep[]) => {
    if (list.length === 0) return;
    await withSession(
      sshTarget(inputs),
      async (s) => {
        const facts = await readFacts(s, inputs);
        for (const step of list) await runStep(s, inputs, step, facts);
      },
      sshOptions(inputs),
    );
  };
  await runAll(first);
  if (rebootAt >= 0) await rebootIntoProxmoxKernel(inputs);
  await runAll(second);
  const after = await withSession(sshTarget(inputs), (s) => readFacts(s, inputs), sshOptions(inputs));
  const left = pendingSteps(t, after);
  if (left.length > 0 || !after.pveVersion) {
    throw new Error(
      `${node}: Proxmox VE ${inputs.pveMajor} install ran but the node still needs: ${left.join(", ") || "proxmox-ve"} ` +
        `(running kernel ${after.runningKernel}, pveversion ${after.pveVersion || "absent"})`,
    );
  }
  return { ...inputs, pveVersion: after.pveVersion, kernel: after.runningKernel, pending: [] };
}

export const pveInstallProvider: pulumi.dynamic.ResourceProvider<PveInstallInputs, PveInstallOutputs> = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const want = debianReleaseFor(news.pveMajor);
    if (news.debianRelease !== undefined && want && String(news.debianRelease) !== want.versionId) {
      failures.push({
        property: "debianRelease",
        reason: `${news.connection?.node}: Debian ${news.debianRelease} does not carry Proxmox VE ${news.pveMajor}; it installs on Debian ${want.versionId} (${want.codename})`,
      });
    }
    if (!isUnknown(news.source) && news.source && !/^sha(256|512):[0-9a-f]+$/.test(news.source.key?.digest ?? "")) {
      failures.push({ property: "source", reason: `${news.connection?.node}: the release key's digest must be sha256:<hex> or sha512:<hex>` });
    }
    return { inputs: news, failures };
  },

  async create(inputs) {
    return { id: inputs.connection.node, outs: await converge(inputs) };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const facts = await withSession(sshTarget(props), (s) => readFacts(s, props), sshOptions(props));
    return { id, props: { ...props, pveVersion: facts.pveVersion, kernel: facts.runningKernel, pending: pendingSteps(target(props), facts) } };
  },

  async diff(_id, olds, news) {
    const replaces = olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const changed =
      isUnknown(news) ||
      stableJson(olds.connection) !== stableJson(news.connection) ||
      olds.pveMajor !== news.pveMajor ||
      olds.address !== news.address ||
      stableJson(olds.source) !== stableJson(news.source) ||
      olds.rebootTimeoutSeconds !== news.rebootTimeoutSeconds ||
      olds.debianRelease !== news.debianRelease ||
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion;
    // A refresh that found steps to do (Proxmox VE removed, back on a Debian kernel): run them again.
    return { changes: replaces.length > 0 || changed || (olds.pending ?? []).length > 0, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: await converge(news) };
  },

  async delete() {
    // Proxmox VE stays: uninstalling it is never automatic.
  },
};

/** Resource inputs as a program passes them. */
export interface PveInstallArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  pveMajor: number;
  address: string;
  source: PveInstallSource;
  debianRelease?: number;
  rebootTimeoutSeconds: number;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:PveInstall`. */
export class PveInstall extends pulumi.dynamic.Resource {
  declare readonly pveVersion: pulumi.Output<string>;
  declare readonly kernel: pulumi.Output<string>;

  constructor(name: string, args: PveInstallArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      pveInstallProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, PVE_INSTALL_PROVIDER_VERSION), pveVersion: undefined, kernel: undefined, pending: undefined },
      sshResourceOptions(opts),
      "proxmox",
      "PveInstall",
    );
  }
}
