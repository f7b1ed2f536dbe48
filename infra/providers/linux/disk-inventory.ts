/**
 * DiskInventory: a node's disks as outputs (device, by-id path, size, model,
 * serial, rotational, what uses each: partitions, filesystems, LVM, mounts,
 * Ceph OSDs), so choosing OSD devices needs no shell. Read-only: create and
 * `read` only look, and every refresh (`pulumi up --refresh`,
 * `scripts/deploy.ts`, `pulumi refresh`) reads the disks again; a diff shows a
 * change only when the inputs change, so a preview without refresh shows the
 * inventory as of the last refresh, never an invented update.
 *
 * A dynamic provider: the native provider's disk data source needs the API
 * (which does not exist before the cluster) and reports neither by-id paths
 * nor Ceph usage.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseVolumeList, type VolumeEntry } from "../../parse/ceph-osd";
import { diskInventoryColumns, parseDiskInventory, type DiskInfo } from "../../parse/disks";
import { command, inCLocale, sh } from "../../shell";
import { SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const DISK_INVENTORY_PROVIDER_VERSION = "1";

export type DiskInventoryInputs = ConnectionArgs & { providerVersion: string };

export interface DiskInventoryOutputs extends DiskInventoryInputs {
  disks: DiskInfo[];
}

async function readDisks(session: SshSession): Promise<DiskInfo[]> {
  const node = session.node;
  const lsblk = (await session.check(inCLocale(command("lsblk", "-J", "-b", "-p", "-o", diskInventoryColumns())))).stdout;
  const devices = ((JSON.parse(lsblk.trim() || "{}") as { blockdevices?: { name?: string; type?: string }[] }).blockdevices ?? [])
    .filter((d) => d.type === "disk" && typeof d.name === "string")
    .map((d) => d.name as string);
  const symlinks: Record<string, string[]> = {};
  if (devices.length > 0) {
    // One command for every disk; escaped twice (the template's literal text is cooked, printf sees \t and \n).
    const out = (await session.check(sh`for d in ${devices}; do printf '%s\\t%s\\n' "$d" "$(udevadm info --query=symlink --name="$d" 2>/dev/null)"; done`)).stdout;
    for (const line of out.split("\n")) {
      const [dev, links = ""] = line.split("\t");
      if (dev) symlinks[dev] = links.trim().split(/\s+/).filter(Boolean);
    }
  }
  // Ceph's view when it is installed: which OSD (block, db or wal) sits on which device.
  const cv = await session.run(inCLocale(command("ceph-volume", "lvm", "list", "--format", "json")));
  let volumes: VolumeEntry[] = [];
  if (cv.code === 0) volumes = parseVolumeList(cv.stdout, node);
  else if (cv.code !== 127) throw new Error(`${node}: ceph-volume lvm list failed (exit ${cv.code}): ${cv.stderr.trim() || cv.stdout.trim()}`);
  return parseDiskInventory(node, lsblk, symlinks, volumes);
}

async function inventory(inputs: DiskInventoryInputs): Promise<DiskInfo[]> {
  return withSession(sshTarget(inputs), readDisks, sshOptions(inputs));
}

export const diskInventoryProvider: pulumi.dynamic.ResourceProvider<DiskInventoryInputs, DiskInventoryOutputs> = {
  async create(inputs) {
    return { id: inputs.connection.node, outs: { ...inputs, disks: await inventory(inputs) } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return { id, props: { ...props, disks: await inventory(props) } };
  },

  async diff(_id, olds, news) {
    const replaces = olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const changes =
      replaces.length > 0 ||
      isUnknown(news) ||
      stableJson(olds.connection) !== stableJson(news.connection) ||
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion;
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: { ...news, disks: await inventory(news) } };
  },

  async delete() {
    // Nothing was changed on the node.
  },
};

/** Resource inputs as a program passes them. */
export interface DiskInventoryArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/node:DiskInventory`. */
export class DiskInventory extends pulumi.dynamic.Resource {
  declare readonly disks: pulumi.Output<DiskInfo[]>;

  constructor(name: string, args: DiskInventoryArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      diskInventoryProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, DISK_INVENTORY_PROVIDER_VERSION), disks: undefined },
      sshResourceOptions(opts),
      "node",
      "DiskInventory",
    );
  }
}
