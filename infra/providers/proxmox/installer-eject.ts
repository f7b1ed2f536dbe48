/**
 * InstallerEject: once a VM has installed itself from an installer ISO (a
 * Talos node, after its cluster is up), take the ISO out of its cdrom drive
 * (`qm set <vmid> --<drive> none,media=cdrom`), so the VM keeps no link to the
 * installer and the ISO can be removed. The boot order already puts the disk
 * first; this is the second half of "never back into the installer".
 *
 * Dynamic, not the native VM's `cdrom` input: that input must hold the ISO
 * when the VM is created, and the VM is created before the install that makes
 * ejecting safe (the component ignores later changes to it). The VM may run
 * on any member (HA), so every member's connection is given and the one that
 * runs it is used.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseGuests } from "../../parse/cluster";
import { parseQmConfig } from "../../parse/qm";
import { command, inCLocale } from "../../shell";
import { SshSession } from "../../ssh";
import { NodeConnection } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";
import { withSessions } from "../sessions";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const INSTALLER_EJECT_PROVIDER_VERSION = "1";

export interface InstallerEjectInputs {
  providerVersion: string;
  /** Every cluster member (or the standalone node): the VM runs on one of them. */
  connections: NodeConnection[];
  /** Secret. */
  sshPrivateKey?: string;
  vmid: number;
  /** VM name, for messages. */
  name: string;
  /** The cdrom drive holding the installer, e.g. ide3. */
  drive: string;
  /** The installer's volid (`local:iso/…`): what must not be in the drive any more. */
  isoVolid: string;
}

export interface InstallerEjectOutputs extends InstallerEjectInputs {
  /** The drive's value as read back (`none,media=cdrom`). */
  driveValue: string;
}

/** Where the VM runs and its drive's value, from the member that runs it. */
async function readDrive(sessions: Map<string, SshSession>, inputs: InstallerEjectInputs): Promise<{ session: SshSession; value: string }> {
  const any = sessions.values().next().value as SshSession;
  const out = await any.check(inCLocale(command("pvesh", "get", "/cluster/resources", "--type", "vm", "--output-format", "json")));
  const runsOn = parseGuests(out.stdout, any.node).find((g) => g.vmid === inputs.vmid)?.node;
  const session = runsOn ? sessions.get(runsOn) : undefined;
  if (!runsOn || !session) {
    throw new Error(`${any.node}: VM ${inputs.vmid} (${inputs.name}) ${runsOn ? `runs on ${runsOn}, which is not among the given nodes` : "does not exist in the cluster"}`);
  }
  const conf = parseQmConfig((await session.check(command("qm", "config", inputs.vmid))).stdout);
  return { session, value: conf[inputs.drive] ?? "" };
}

const holdsIso = (value: string, isoVolid: string) => value.split(",")[0] === isoVolid;

/** Eject when the drive still holds the ISO; read the drive back either way. */
async function eject(inputs: InstallerEjectInputs): Promise<string> {
  return withSessions(
    inputs.connections.map((connection) => ({ connection })),
    inputs.sshPrivateKey,
    async (sessions) => {
      const before = await readDrive(sessions, inputs);
      if (!holdsIso(before.value, inputs.isoVolid)) return before.value;
      await before.session.check(command("qm", "set", inputs.vmid, `--${inputs.drive}`, "none,media=cdrom"));
      const after = await readDrive(sessions, inputs);
      if (holdsIso(after.value, inputs.isoVolid)) {
        throw new Error(`${after.session.node}: VM ${inputs.vmid} (${inputs.name}): ${inputs.drive} still holds ${inputs.isoVolid} after qm set (${after.value})`);
      }
      return after.value;
    },
  );
}

export const installerEjectProvider: pulumi.dynamic.ResourceProvider<InstallerEjectInputs, InstallerEjectOutputs> = {
  async create(inputs) {
    return { id: `vm/${inputs.vmid}/${inputs.drive}`, outs: { ...inputs, driveValue: await eject(inputs) } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const value = await withSessions(props.connections.map((connection) => ({ connection })), props.sshPrivateKey, async (sessions) => (await readDrive(sessions, props)).value);
    return { id, props: { ...props, driveValue: value } };
  },

  async diff(_id, olds, news) {
    const replaces = olds.vmid !== news.vmid || isUnknown(news.vmid) ? ["vmid"] : [];
    const changes =
      replaces.length > 0 ||
      // someone put the installer back in (or a refresh saw it there)
      holdsIso(olds.driveValue ?? "", news.isoVolid) ||
      olds.drive !== news.drive ||
      olds.isoVolid !== news.isoVolid ||
      olds.name !== news.name ||
      olds.providerVersion !== news.providerVersion ||
      stableJson(olds.connections) !== stableJson(news.connections);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: { ...news, driveValue: await eject(news) } };
  },

  // Nothing to undo: the VM keeps an empty drive.
  async delete() {},
};

/** Resource inputs as a program passes them. */
export interface InstallerEjectArgs {
  connections: pulumi.Input<pulumi.Input<NodeConnection>[]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  vmid: pulumi.Input<number>;
  name: pulumi.Input<string>;
  drive: pulumi.Input<string>;
  isoVolid: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/vm:InstallerEject`. */
export class InstallerEject extends pulumi.dynamic.Resource {
  declare readonly driveValue: pulumi.Output<string>;

  constructor(name: string, args: InstallerEjectArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      installerEjectProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, INSTALLER_EJECT_PROVIDER_VERSION),
        driveValue: undefined,
      },
      sshResourceOptions(opts),
      "vm",
      "InstallerEject",
    );
  }
}
