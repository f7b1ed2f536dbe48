/**
 * AbsentFiles: files that must not exist on a node (e.g. APT `.list` files a
 * newer format replaced). Removes only what is there, so a node without them
 * runs no mutating command; `read` reports any that came back, so `pulumi
 * refresh` sees it. Delete does nothing: the files stay gone.
 */
import * as pulumi from "@pulumi/pulumi";
import { command, sh } from "../../shell";
import { SshSession, withSession } from "../../ssh";
import { CONNECTION_SECRET_OUTPUTS, ConnectionArgs, type ConnectionInput, sshOptions, sshTarget } from "../connection";
import { stableJson } from "../diff";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const ABSENT_FILES_PROVIDER_VERSION = "1";

export interface AbsentFilesInputs extends ConnectionArgs {
  providerVersion: string;
  /** Absolute paths of regular files. */
  paths: string[];
}

export interface AbsentFilesOutputs extends AbsentFilesInputs {
  /** Which of `paths` exist on the node (empty once applied). */
  present: string[];
}

function checkPaths(node: string, paths: readonly string[]): void {
  const bad = paths.filter((p) => !/^\/[A-Za-z0-9._/-]+$/.test(p) || p.split("/").includes(".."));
  if (bad.length) throw new Error(`${node}: not absolute file paths: ${bad.join(", ")}`);
}

async function presentOf(session: SshSession, paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  // One round trip: print each path that exists.
  const script = paths.map((p) => sh`if [ -e ${p} ] || [ -L ${p} ]; then printf '%s\n' ${p}; fi`).join("; ");
  const out = await session.check(script);
  return out.stdout.split("\n").filter((p) => paths.includes(p));
}

/** Remove the paths that exist; returns nothing to do when none does. */
export async function removeAbsentFiles(inputs: AbsentFilesInputs): Promise<string[]> {
  checkPaths(inputs.connection.node, inputs.paths);
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const present = await presentOf(session, inputs.paths);
      if (present.length > 0) await session.check(command("rm", "-f", "--", ...present));
      return presentOf(session, inputs.paths);
    },
    sshOptions(inputs),
  );
}

export const absentFilesProvider: pulumi.dynamic.ResourceProvider<AbsentFilesInputs, AbsentFilesOutputs> = {
  async create(inputs) {
    const present = await removeAbsentFiles(inputs);
    if (present.length > 0) throw new Error(`${inputs.connection.node}: ${present.join(", ")} still present after rm -f`);
    return { id: inputs.connection.node, outs: { ...inputs, present } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const present = await withSession(sshTarget(props), (s) => presentOf(s, props.paths ?? []), sshOptions(props));
    return { id, props: { ...props, present } };
  },

  async diff(_id, olds, news) {
    const changes =
      (olds.present ?? []).length > 0 ||
      stableJson([...(olds.paths ?? [])].sort()) !== stableJson([...(news.paths ?? [])].sort()) ||
      olds.providerVersion !== news.providerVersion ||
      stableJson(olds.connection) !== stableJson(news.connection);
    return { changes, replaces: olds.connection?.node !== news.connection?.node ? ["connection"] : [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const present = await removeAbsentFiles(news);
    if (present.length > 0) throw new Error(`${news.connection.node}: ${present.join(", ")} still present after rm -f`);
    return { outs: { ...news, present } };
  },

  // The files stay gone.
  async delete() {},
};

/** Resource inputs as a program passes them. */
export interface AbsentFilesArgs {
  connection: pulumi.Input<ConnectionInput>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Absolute paths that must not exist. */
  paths: pulumi.Input<pulumi.Input<string>[]>;
}

/** Registered as `pulumi-nodejs:dynamic/node:AbsentFiles`. */
export class AbsentFiles extends pulumi.dynamic.Resource {
  declare readonly present: pulumi.Output<string[]>;

  constructor(name: string, args: AbsentFilesArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      absentFilesProvider,
      name,
      {
        ...args,
        sshPrivateKey: args.sshPrivateKey === undefined ? undefined : pulumi.secret(args.sshPrivateKey),
        providerVersion: ABSENT_FILES_PROVIDER_VERSION,
        present: undefined,
      },
      { ...opts, additionalSecretOutputs: [...CONNECTION_SECRET_OUTPUTS, ...(opts?.additionalSecretOutputs ?? [])] },
      "node",
      "AbsentFiles",
    );
  }
}
