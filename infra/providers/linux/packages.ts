/**
 * Packages: packages that must be installed on a node, with apt (Debian,
 * Ubuntu, Proxmox) or dnf (Rocky and the other RHEL-likes), or whichever
 * /etc/os-release says ("auto").
 *
 * (apt) 
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


/** The package managers the provider drives; "auto" reads /etc/os-release on the node. */
export type PackageManagerName = "apt" | "dnf" | "auto";

export interface PackagesInputs extends ConnectionArgs {
  providerVersion: string;
  /** Package names (normalized: sorted, unique). */
  packages: string[];
  /** Absent means apt (the resources created before dnf existed). */
  manager?: PackageManagerName;
}

export interface PackagesOutputs extends PackagesInputs {
  /** After read: the subset of `packages` that is installed. Equal to `packages` after create/update. */
  installed: string[];
}

/** The package family a manager installs (its name rules). */
function familyOf(manager: PackageManagerName | undefined): "deb" | "rpm" {
  // "auto" may meet either family: the looser RPM rules (a superset of the Debian ones).
  return manager === "dnf" || manager === "auto" ? "rpm" : "deb";
}

/** The node's package manager, from /etc/os-release (ID, then ID_LIKE). */
async function resolveManager(session: SshSession, manager: PackageManagerName | undefined): Promise<"apt" | "dnf"> {
  if (manager !== "auto") return manager ?? "apt";
  const result = await session.check(`sh -c '. /etc/os-release && echo "$ID $ID_LIKE"'`);
  const ids = result.stdout.trim().split(/\s+/);
  if (ids.some((id) => ["debian", "ubuntu", "raspbian"].includes(id))) return "apt";
  if (ids.some((id) => ["rhel", "rocky", "almalinux", "centos", "fedora"].includes(id))) return "dnf";
  throw new Error(`${session.node}: no package manager known for this distribution (/etc/os-release: ${result.stdout.trim() || "empty"}); set packageManager to "apt" or "dnf"`);
}

/** The packages of `wanted` that rpm knows as installed (`rpm -q` exits with the number missing). */
async function queryRpm(session: SshSession, wanted: readonly string[]): Promise<string[]> {
  const cmd = inCLocale(command("rpm", "-q", "--queryformat", "%{NAME}\\n", "--", ...wanted));
  const result = await session.run(cmd);
  if (result.code > wanted.length) throw new CommandFailedError(session.node, cmd, result);
  const names = new Set(result.stdout.split("\n").map((l) => l.trim()));
  return wanted.filter((p) => names.has(p));
}

/** How long apt waits for another apt/dpkg (unattended-upgrades) to release its lock. */
const APT_LOCK_TIMEOUT_S = 300;

/** dpkg-query's format: one `<name> <want> <error> <state>` line per package. */
const DPKG_FORMAT = "${Package} ${Status}\\n";

/** The packages of `wanted` that are installed now. */
export async function queryInstalled(session: SshSession, wanted: readonly string[], manager: "apt" | "dnf" = "apt"): Promise<string[]> {
  if (wanted.length === 0) return [];
  if (manager === "dnf") return queryRpm(session, wanted);
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
export async function ensurePackages(args: ConnectionArgs, packages: readonly string[], managerName?: PackageManagerName): Promise<string[]> {
  const wanted = normalizePackages(packages, familyOf(managerName));
  return withSession(
    sshTarget(args),
    async (session) => {
      const manager = await resolveManager(session, managerName);
      const installed = new Set(await queryInstalled(session, wanted, manager));
      const missing = wanted.filter((p) => !installed.has(p));
      if (missing.length === 0) return [];
      if (manager === "dnf") {
        await session.check(inCLocale(command("dnf", "install", "-y", "-q", "--setopt=install_weak_deps=False", "--", ...missing)));
      } else {
        await session.check(aptGet("update", "-q"));
        await session.check(aptGet("install", "-y", "-q", "--no-install-recommends", "--", ...missing));
      }
      const after = new Set(await queryInstalled(session, missing, manager));
      const still = missing.filter((p) => !after.has(p));
      if (still.length > 0) {
        const [tool, query] = manager === "dnf" ? ["dnf install", "rpm -q"] : ["apt-get install", "dpkg-query"];
        throw new Error(`${session.node}: ${tool} succeeded but ${still.join(", ")} still not installed (${query})`);
      }
      return missing;
    },
    sshOptions(args),
  );
}

export const packagesProvider: pulumi.dynamic.ResourceProvider<PackagesInputs, PackagesOutputs> = {
  async create(inputs) {
    const packages = normalizePackages(inputs.packages, familyOf(inputs.manager));
    await ensurePackages(inputs, packages, inputs.manager);
    return { id: `${inputs.connection.node}:packages`, outs: { ...inputs, packages, installed: packages } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const wanted = normalizePackages(props.packages, familyOf(props.manager));
    const installed = await withSession(sshTarget(props), async (s) => queryInstalled(s, wanted, await resolveManager(s, props.manager)), sshOptions(props));
    // Report drift through `packages` itself: a package removed by hand disappears from
    // the list, so the next diff against the program's list plans an update.
    return { id, props: { ...props, packages: installed, installed } };
  },

  async diff(_id, olds, news) {
    const replaces = olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const unknown = isUnknown(news.packages ?? []);
    const oldList = JSON.stringify(normalizePackages(olds.packages ?? [], familyOf(olds.manager)));
    const newList = unknown ? "?" : JSON.stringify(normalizePackages(news.packages ?? [], familyOf(news.manager)));
    const changes =
      replaces.length > 0 ||
      (olds.manager ?? "apt") !== (news.manager ?? "apt") ||
      unknown ||
      oldList !== newList ||
      olds.providerVersion !== news.providerVersion ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
    // Delete is a no-op, so a replacement never needs the old one gone first.
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const packages = normalizePackages(news.packages, familyOf(news.manager));
    await ensurePackages(news, packages, news.manager);
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
  /** Package names to have installed (order and duplicates do not matter). */
  packages: pulumi.Input<pulumi.Input<string>[]>;
  /** Package manager. Defaults to apt. */
  manager?: PackageManagerName;
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
        packages: pulumi.output(args.packages).apply((p) => normalizePackages(p, familyOf(args.manager))),
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
