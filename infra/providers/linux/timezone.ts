/**
 * Timezone: the node's time zone, the /etc/localtime symlink into
 * /usr/share/zoneinfo. Read with readlink (the truth, whatever set it), set
 * with `timedatectl set-timezone` (or the symlink where there is no
 * timedatectl), then read back. Delete leaves the zone as it is.
 *
 * A dynamic provider rather than a RemoteFile: the state is a symlink, not
 * file content.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkTimezone } from "../../baseline";
import { command, quote } from "../../shell";
import { SshSession, withSession } from "../../ssh";
import { CONNECTION_SECRET_OUTPUTS, ConnectionArgs, type ConnectionInput, sshOptions, sshTarget } from "../connection";
import { isUnknown } from "../diff";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const TIMEZONE_PROVIDER_VERSION = "1";

export interface TimezoneInputs extends ConnectionArgs {
  providerVersion: string;
  /** tz database name, e.g. "Europe/Berlin". */
  timezone: string;
}

export type TimezoneOutputs = TimezoneInputs;

/** The zone /etc/localtime points at, "" when it is not a link into zoneinfo. */
export async function currentTimezone(session: SshSession): Promise<string> {
  const result = await session.run("readlink /etc/localtime");
  const target = result.code === 0 ? result.stdout.trim() : "";
  const at = target.indexOf("zoneinfo/");
  return at < 0 ? "" : target.slice(at + "zoneinfo/".length);
}

export async function ensureTimezone(args: ConnectionArgs, timezone: string): Promise<void> {
  checkTimezone(timezone);
  await withSession(
    sshTarget(args),
    async (session) => {
      const now = await currentTimezone(session);
      // Etc/UTC and UTC are the same zone under two names; compare what was asked for.
      if (now === timezone) return;
      const zone = `/usr/share/zoneinfo/${timezone}`;
      if ((await session.run(command("test", "-f", zone))).code !== 0) {
        throw new Error(`${session.node}: time zone "${timezone}" is not in /usr/share/zoneinfo (is tzdata installed? is the name right?)`);
      }
      await session.check(
        `if command -v timedatectl >/dev/null 2>&1; then ${command("timedatectl", "set-timezone", timezone)}; else ${command("ln", "-sfn", zone, "/etc/localtime")}; fi`,
      );
      const after = await currentTimezone(session);
      if (after !== timezone) throw new Error(`${session.node}: set the time zone to ${quote(timezone)} but /etc/localtime points at ${after || "no zone"}`);
    },
    sshOptions(args),
  );
}

export const timezoneProvider: pulumi.dynamic.ResourceProvider<TimezoneInputs, TimezoneOutputs> = {
  async create(inputs) {
    await ensureTimezone(inputs, inputs.timezone);
    return { id: `${inputs.connection.node}:timezone`, outs: inputs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const timezone = await withSession(sshTarget(props), currentTimezone, sshOptions(props));
    return { id, props: { ...props, timezone } };
  },

  async diff(_id, olds, news) {
    const replaces = olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const changes =
      replaces.length > 0 ||
      isUnknown(news.timezone) ||
      olds.timezone !== news.timezone ||
      olds.providerVersion !== news.providerVersion ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    await ensureTimezone(news, news.timezone);
    return { outs: news };
  },

  async delete() {
    // The zone stays: a host always has one, and the previous one is not known.
  },
};

export interface TimezoneArgs {
  connection: pulumi.Input<ConnectionInput>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** tz database name, e.g. "Europe/Berlin". */
  timezone: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/host:Timezone`. */
export class Timezone extends pulumi.dynamic.Resource {
  declare readonly timezone: pulumi.Output<string>;

  constructor(name: string, args: TimezoneArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      timezoneProvider,
      name,
      { ...args, sshPrivateKey: args.sshPrivateKey === undefined ? undefined : pulumi.secret(args.sshPrivateKey), providerVersion: TIMEZONE_PROVIDER_VERSION },
      { ...opts, additionalSecretOutputs: [...CONNECTION_SECRET_OUTPUTS, ...(opts?.additionalSecretOutputs ?? [])] },
      "host",
      "Timezone",
    );
  }
}
