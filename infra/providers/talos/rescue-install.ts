/**
 * RescueInstall resource: the pinned Talos disk image written to a VPS's disk
 * from the provider's rescue system (booted before the first run), over SSH,
 * then a reboot into Talos. Steps, each read back: the host is a rescue
 * system (its root runs from memory or the network, and nothing of the
 * target disk is mounted) and the disk exists; the image is downloaded and
 * its sha256 checked against the pin before anything is written; the disk is
 * read first and written only when it does not already hold the image
 * (`xz -dc | dd … conv=fsync`), then read back and compared; the host reboots
 * into the disk.
 *
 * A dynamic provider because no native resource writes a disk from a rescue
 * system, and @pulumi/command could not tell a written disk from a blank one.
 * Once Talos runs, the host has no SSH: `read` keeps the recorded state when
 * the rescue system does not answer (the disk is then Talos's, which the
 * Talos cluster resource reads through its API).
 */
import * as pulumi from "@pulumi/pulumi";
import { hasErrorName } from "../../errors";
import { command } from "../../shell";
import { SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { isUnknown } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const RESCUE_INSTALL_PROVIDER_VERSION = "1";

export interface RescueInstallInputs extends ConnectionArgs {
  providerVersion: string;
  /** The Factory's `<platform>-amd64.raw.xz` URL. */
  imageUrl: string;
  /** sha256 of that file (the compressed image), pinned in the stack. */
  imageSha256: string;
  /** Target block device, e.g. /dev/sda. */
  disk: string;
}

export interface RescueInstallOutputs extends RescueInstallInputs {
  /** sha256 of the decompressed image, as read back from the disk. */
  diskSha256: string;
  /** Bytes of the decompressed image at the start of the disk. */
  imageBytes: number;
}

/** Root filesystems of systems that run from memory or the network: a rescue system, never an installed one. */
const RESCUE_ROOT_FSTYPES = ["tmpfs", "ramfs", "rootfs", "overlay", "squashfs", "aufs", "nfs", "nfs4"];
/** Where the image is kept while it is checked and written (the rescue system's memory). */
const IMAGE_PATH = "/tmp/talos-image.raw.xz";
const SHA256 = /^[0-9a-f]{64}$/;
const DEVICE = /^\/dev\/(disk\/by-(id|path)\/[A-Za-z0-9._:+-]{1,128}|[a-z][a-z0-9]{1,31})$/;

/** Why the inputs cannot be used, one sentence each (the schema rules the same out first). */
export function rescueInstallProblems(inputs: Pick<RescueInstallInputs, "imageUrl" | "imageSha256" | "disk">): string[] {
  const problems: string[] = [];
  if (!/^https:\/\/[A-Za-z0-9._~:/?#@%+=&-]+\.raw\.xz$/.test(inputs.imageUrl)) problems.push(`imageUrl "${inputs.imageUrl}" is not an https URL of a .raw.xz image`);
  if (!SHA256.test(inputs.imageSha256)) problems.push(`imageSha256 "${inputs.imageSha256}" is not a sha256 (64 hex digits)`);
  if (!DEVICE.test(inputs.disk)) problems.push(`disk "${inputs.disk}" is not a device path`);
  return problems;
}

/** The first sha256 on a sha256sum line. */
function digestOf(stdout: string): string {
  return stdout.trim().split(/\s+/)[0] ?? "";
}

/** Refuse anything but a rescue system with the target disk present and unmounted. */
async function checkRescue(session: SshSession, disk: string): Promise<number> {
  const root = (await session.check("findmnt -n -o FSTYPE /")).stdout.trim();
  if (!RESCUE_ROOT_FSTYPES.includes(root)) {
    throw new Error(
      `${session.node}: not in rescue mode (the root filesystem is ${root || "unknown"}, on a disk, not in memory); ` +
        `boot the provider's rescue system first: writing ${disk} would overwrite the running system`,
    );
  }
  const size = await session.run(command("blockdev", "--getsize64", disk));
  if (size.code !== 0 || !/^\d+$/.test(size.stdout.trim())) {
    throw new Error(`${session.node}: disk ${disk} not found (blockdev --getsize64 ${disk} exited ${size.code}: ${size.stderr.trim() || size.stdout.trim()})`);
  }
  const mounted = await session.run(`findmnt -n -o SOURCE | grep -c ${command(`^${disk}`)} || true`);
  if (Number(mounted.stdout.trim()) > 0) throw new Error(`${session.node}: ${disk} has mounted filesystems; unmount them before the image is written`);
  return Number(size.stdout.trim());
}

/** Download the image and check it against the pin; the decompressed image's sha256 and size. */
async function fetchImage(session: SshSession, inputs: RescueInstallInputs): Promise<{ sha256: string; bytes: number }> {
  await session.check(command("curl", "-fsSL", "--retry", "3", "-o", IMAGE_PATH, inputs.imageUrl));
  const got = digestOf((await session.check(command("sha256sum", IMAGE_PATH))).stdout);
  if (got !== inputs.imageSha256) {
    await session.run(command("rm", "-f", IMAGE_PATH));
    throw new Error(`${session.node}: sha256sum ${IMAGE_PATH}: the image from ${inputs.imageUrl} has sha256 ${got}, not the pinned ${inputs.imageSha256}; nothing was written`);
  }
  const sha256 = digestOf((await session.check(`set -o pipefail; xz -dc ${IMAGE_PATH} | sha256sum`)).stdout);
  const bytes = Number((await session.check(`set -o pipefail; xz -dc ${IMAGE_PATH} | wc -c`)).stdout.trim());
  if (!SHA256.test(sha256) || !Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`${session.node}: xz -dc ${IMAGE_PATH}: could not read the image (sha256 ${sha256}, ${bytes} bytes)`);
  return { sha256, bytes };
}

/** sha256 of the disk's first `bytes` bytes. */
async function diskDigest(session: SshSession, disk: string, bytes: number): Promise<string> {
  const read = command("dd", `if=${disk}`, "bs=4M", `count=${bytes}`, "iflag=count_bytes", "status=none");
  // pipefail: a failed read must not pass as the digest of nothing.
  return digestOf((await session.check(`set -o pipefail; ${read} | sha256sum`)).stdout);
}

/** Write the image unless the disk holds it already, read it back, reboot. */
async function install(inputs: RescueInstallInputs): Promise<RescueInstallOutputs> {
  const problems = rescueInstallProblems(inputs);
  if (problems.length > 0) throw new Error(`${inputs.connection.node}: ${problems.join("; ")}`);
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const diskBytes = await checkRescue(session, inputs.disk);
      const image = await fetchImage(session, inputs);
      if (image.bytes > diskBytes) throw new Error(`${session.node}: the image is ${image.bytes} bytes, larger than ${inputs.disk} (${diskBytes} bytes)`);
      if ((await diskDigest(session, inputs.disk, image.bytes)) !== image.sha256) {
        await session.check(`set -o pipefail; xz -dc ${IMAGE_PATH} | ${command("dd", `of=${inputs.disk}`, "bs=4M", "conv=fsync", "status=none")}`);
        const written = await diskDigest(session, inputs.disk, image.bytes);
        if (written !== image.sha256) {
          throw new Error(`${session.node}: read back of ${inputs.disk} after dd: sha256 ${written}, not the image's ${image.sha256}; the disk is not usable`);
        }
      }
      await session.run(command("rm", "-f", IMAGE_PATH));
      await reboot(session);
      return { ...inputs, diskSha256: image.sha256, imageBytes: image.bytes };
    },
    sshOptions(inputs),
  );
}

/** Reboot into the disk; the connection dropping under the command (exit 255, or closed) is the reboot happening. */
async function reboot(session: SshSession): Promise<void> {
  try {
    const result = await session.run("sync && reboot");
    if (result.code !== 0 && result.code !== 255) throw new Error(`${session.node}: reboot failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  } catch (err) {
    if (!hasErrorName(err, "NodeUnreachableError")) throw err;
  }
}

export const rescueInstallProvider: pulumi.dynamic.ResourceProvider<RescueInstallInputs, RescueInstallOutputs> = {
  async create(inputs) {
    const outs = await install(inputs);
    return { id: `${inputs.connection.node}:${inputs.disk}`, outs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    // Talos has no SSH: a host that no longer answers as a rescue system has booted what was written.
    try {
      const digest = await withSession(
        sshTarget(props),
        async (session) => {
          await checkRescue(session, props.disk);
          return diskDigest(session, props.disk, props.imageBytes);
        },
        sshOptions(props),
      );
      return { id, props: { ...props, diskSha256: digest } };
    } catch (err) {
      if (hasErrorName(err, "NodeUnreachableError")) return { id, props };
      throw err;
    }
  },

  async diff(_id, olds, news) {
    const replaces = (["imageUrl", "imageSha256", "disk"] as const).filter((k) => isUnknown(news[k]) || olds[k] !== news[k]);
    if (olds.connection?.node !== news.connection?.node) replaces.push("connection" as never);
    const changes = replaces.length > 0 || olds.providerVersion !== news.providerVersion || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async update(_id, olds, news) {
    // Only the connection or the provider version changed: the disk is as it was.
    return { outs: { ...news, diskSha256: olds.diskSha256, imageBytes: olds.imageBytes } };
  },

  async delete() {
    // The installed system stays: wiping a disk is the VPS provider's rebuild, not a destroy here.
  },
};

export interface RescueInstallArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  imageUrl: pulumi.Input<string>;
  imageSha256: pulumi.Input<string>;
  disk: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/talos:RescueInstall`. */
export class RescueInstall extends pulumi.dynamic.Resource {
  declare readonly diskSha256: pulumi.Output<string>;

  constructor(name: string, args: RescueInstallArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      rescueInstallProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, RESCUE_INSTALL_PROVIDER_VERSION), diskSha256: undefined, imageBytes: undefined },
      sshResourceOptions(opts),
      "talos",
      "RescueInstall",
    );
  }
}
