/**
 * Packages: Debian packages that must be installed on a node.
 *
 * Reads first (`dpkg-query`), then runs `apt-get update` and one
 * `apt-get install` for the missing packages only, so a node that already has
 * them (second run, lost state) sees no mutating command. `read` reports
 * which of the packages are really installed, so `pulumi refresh` shows a
 * package removed by hand and the next `pulumi up` installs it again.
 *
 * Delete leaves the packages installed: apt-get remove can cascade into
 * removing packages Proxmox itself depends on (up to the proxmox-ve
 * metapackage), a package may have been there before Pulumi listed it, and
 * removing e.g. `sudo` could lock the operators out. Uninstalling stays a
 * deliberate manual step.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command, which has
 * no read (no drift) and would re-run apt-get on every change.
 */
import * as pulumi from "@pulumi/pulumi";
import { normalizePackages } from "../../baseline";
import { installedOf } from "../../parse/dpkg";
import { command, inCLocale } from "../../shell";
import { CommandFailedError, SshSession, withSession } from "../../ssh";
import { CONNECTION_SECRET_OUTPUTS, ConnectionArgs, type ConnectionInput, sshOptions, sshTarget } from "../connection";
import { isUnknown } from "../diff";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const PACKAGES_PROVIDER_VERSION = "1";


export interface PackagesInputs extends ConnectionArgs {
  providerVersion: string;
  /** Package names (normalized: sorted, unique). */
  packages: string[];
}

export interface PackagesOutputs extends PackagesInputs {
  /** After read: the subset of `packages` that is installed. Equal to `packages` after create/update. */
  installed: string[];
}

/** How long apt waits for another apt/dpkg (unattended-upgrades) to release its lock. */
const APT_LOCK_TIMEOUT_S = 300;

/** dpkg-query's format: one `<name> <want> <error> <state>` line per package. */
const DPKG_FORMAT = "${Package} ${Status}\\n";

/** The packages of `wanted` that are installed now. */
export async function queryInstalled(session: SshSession, wanted: readonly string[]): Promise<string[]> {
  if (wanted.length === 0) return [];
  const cmd = inCLocale(command("dpkg-query", "-W", `--showformat=${DPKG_FORMAT}`, "--", ...wanted));
  const result = await session.run(cmd);
  // Exit 1 = some name unknown to dpkg (reported on stderr, the others still printed).
  if (result.code !== 0 && result.code !== 1) throw new CommandFailedError(session.node, cmd, result);
  return installedOf(wanted, result.stdout);
}

function aptGet(...args: string[]): string {
  return (
    "LC_ALL=C DEBIAN_FRONTEND=noninteractive " +
    command(
      "apt-get",
      "-o",
      `DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_S}`,
      "-o",
      "Dpkg::Options::=--force-confdef",
      "-o",
      "Dpkg::Options::=--force-confold",
      ...args,
    )
  );
}

/** Install whichever of `packages` is missing; returns the ones it installed. */
export async function ensurePackages(args: ConnectionArgs, packages: readonly string[]): Promise<string[]> {
  const wanted = normalizePackages(packages);
  return withSession(
    sshTarget(args),
    async (session) => {
      const installed = new Set(await queryInstalled(session, wanted));
      const missing = wanted.filter((p) => !installed.has(p));
      if (missing.length === 0) return [];
      await session.check(aptGet("update", "-q"));
      await session.check(aptGet("install", "-y", "-q", "--no-install-recommends", "--", ...missing));
      const after = new Set(await queryInstalled(session, missing));
      const still = missing.filter((p) => !after.has(p));
      if (still.length > 0) {
        throw new Error(`${session.node}: apt-get install succeeded but ${still.join(", ")} still not installed (dpkg-query)`);
      }
      return missing;
    },
    sshOptions(args),
  );
}

export const packagesProvider: pulumi.dynamic.ResourceProvider<PackagesInputs, PackagesOutputs> = {
  async create(inputs) {
    const packages = normalizePackages(inputs.packages);
    await ensurePackages(inputs, packages);
    return { id: `${inputs.connection.node}:packages`, outs: { ...inputs, packages, installed: packages } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const wanted = normalizePackages(props.packages);
    const installed = await withSession(sshTarget(props), (s) => queryInstalled(s, wanted), sshOptions(props));
    // Report drift through `packages` itself: a package removed by hand disappears from
    // the list, so the next diff against the program's list plans an update.
    return { id, props: { ...props, packages: installed, installed } };
  },

  async diff(_id, olds, news) {
    const replaces = olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const unknown = isUnknown(news.packages ?? []);
    const oldList = JSON.stringify(normalizePackages(olds.packages ?? []));
    const newList = unknown ? "?" : JSON.stringify(normalizePackages(news.packages ?? []));
    const changes =
      replaces.length > 0 ||
      unknown ||
      oldList !== newList ||
      olds.providerVersion !== news.providerVersion ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    // Delete is a no-op, so a replacement never needs the old one gone first.
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const packages = normalizePackages(news.packages);
    await ensurePackages(news, packages);
    return { outs: { ...news, packages, installed: packages } };
  },

  async delete() {
    // Packages stay installed on purpose; see the module comment.
  },
};

/** Resource inputs as a program passes them. */
export interface PackagesArgs {
  connection: pulumi.Input<ConnectionInput>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Debian package names to have installed (order and duplicates do not matter). */
  packages: pulumi.Input<pulumi.Input<string>[]>;
}

/** Registered as `pulumi-nodejs:dynamic/node:Packages`. */
export class Packages extends pulumi.dynamic.Resource {
  declare readonly packages: pulumi.Output<string[]>;
  declare readonly installed: pulumi.Output<string[]>;

  constructor(name: string, args: PackagesArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      packagesProvider,
      name,
      {
        ...args,
        packages: pulumi.output(args.packages).apply((p) => normalizePackages(p)),
        sshPrivateKey: args.sshPrivateKey === undefined ? undefined : pulumi.secret(args.sshPrivateKey),
        providerVersion: PACKAGES_PROVIDER_VERSION,
        installed: undefined,
      },
      { ...opts, additionalSecretOutputs: [...CONNECTION_SECRET_OUTPUTS, ...(opts?.additionalSecretOutputs ?? [])] },
      "node",
      "Packages",
    );
  }
}
