/**
 * UnitDisabled: a systemd unit that must be neither enabled nor running, such
 * as the default dnsmasq instance Debian's package starts, which would hold
 * the DHCP port the Proxmox SDN's per-zone dnsmasq instances need. Read with
 * `systemctl is-enabled` / `is-active`, stopped with `systemctl disable
 * --now`, read back. Delete leaves the unit as it is.
 */
import * as pulumi from "@pulumi/pulumi";
import { command } from "../../shell";
import { SshSession, withSession } from "../../ssh";
import { ConnectionArgs, type ConnectionInput, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const UNIT_DISABLED_PROVIDER_VERSION = "1";

export interface UnitDisabledInputs extends ConnectionArgs {
  providerVersion: string;
  /** The unit, e.g. dnsmasq.service. */
  unit: string;
}

export interface UnitDisabledOutputs extends UnitDisabledInputs {
  /** `systemctl is-enabled`'s word (disabled, masked, …; "" for a unit that does not exist). */
  enabled: string;
  /** `systemctl is-active`'s word (inactive, …). */
  active: string;
}

/** Both words; a unit that does not exist answers nothing (exit 1), which counts as disabled. */
async function unitState(session: SshSession, unit: string): Promise<{ enabled: string; active: string }> {
  const enabled = (await session.run(command("systemctl", "is-enabled", unit))).stdout.trim();
  const active = (await session.run(command("systemctl", "is-active", unit))).stdout.trim();
  return { enabled, active };
}

const isDisabled = (s: { enabled: string; active: string }) => !["enabled", "enabled-runtime", "alias"].includes(s.enabled) && !["active", "activating", "reloading"].includes(s.active);

async function ensureDisabled(inputs: UnitDisabledInputs): Promise<{ enabled: string; active: string }> {
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const before = await unitState(session, inputs.unit);
      if (isDisabled(before)) return before;
      await session.check(command("systemctl", "disable", "--now", inputs.unit));
      const after = await unitState(session, inputs.unit);
      if (!isDisabled(after)) throw new Error(`${session.node}: ${inputs.unit} is still ${after.enabled}/${after.active} after systemctl disable --now`);
      return after;
    },
    sshOptions(inputs),
  );
}

export const unitDisabledProvider: pulumi.dynamic.ResourceProvider<UnitDisabledInputs, UnitDisabledOutputs> = {
  async create(inputs) {
    return { id: `${inputs.connection.node}:${inputs.unit}`, outs: { ...inputs, ...(await ensureDisabled(inputs)) } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const state = await withSession(sshTarget(props), (session) => unitState(session, props.unit), sshOptions(props));
    return { id, props: { ...props, ...state } };
  },

  async diff(_id, olds, news) {
    const replaces = olds.connection?.node !== news.connection?.node || olds.unit !== news.unit || isUnknown(news.unit) ? ["unit"] : [];
    const changes =
      replaces.length > 0 ||
      // enabled or started again by hand (or by a package upgrade): a refresh saw it
      !isDisabled({ enabled: olds.enabled ?? "", active: olds.active ?? "" }) ||
      olds.providerVersion !== news.providerVersion ||
      stableJson(olds.connection) !== stableJson(news.connection);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: { ...news, ...(await ensureDisabled(news)) } };
  },

  // The unit stays as it is: whether it should run again is not ours to know.
  async delete() {},
};

export interface UnitDisabledArgs {
  connection: pulumi.Input<ConnectionInput>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  unit: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/host:UnitDisabled`. */
export class UnitDisabled extends pulumi.dynamic.Resource {
  constructor(name: string, args: UnitDisabledArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      unitDisabledProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, UNIT_DISABLED_PROVIDER_VERSION), enabled: undefined, active: undefined },
      sshResourceOptions(opts),
      "host",
      "UnitDisabled",
    );
  }
}
