/**
 * NodeFacts: what a Proxmox node is (hostname, Proxmox version, kernel),
 * read over SSH. Read-only: create/update only look, delete does nothing.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command because
 * `read` must re-run on `pulumi refresh` so an upgraded node shows as drift,
 * and because the facts gate later steps (no mixed Proxmox versions).
 */
import * as pulumi from "@pulumi/pulumi";
import { parsePveversion } from "../../parse/pveversion";
import { command, inCLocale } from "../../shell";
import { withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const NODE_FACTS_PROVIDER_VERSION = "1";

export interface NodeFactsInputs extends ConnectionArgs {
  providerVersion: string;
}

export interface NodeFactsOutputs extends NodeFactsInputs {
  hostname: string;
  pveVersion: string;
  pveRelease: string;
  kernel: string;
}

/** Read the facts and check the host is the node the config says it is. */
export async function readNodeFacts(args: ConnectionArgs): Promise<Omit<NodeFactsOutputs, keyof NodeFactsInputs>> {
  const node = args.connection.node;
  return withSession(
    sshTarget(args),
    async (session) => {
      const hostname = (await session.check(command("hostname"))).stdout.trim();
      if (hostname !== node) {
        throw new Error(
          `${node}: the host at ${args.connection.host} calls itself "${hostname}"; ` +
            `check nodes[].address for ${node} (a Proxmox node's hostname must match its name)`,
        );
      }
      const out = (await session.check(inCLocale(command("pveversion")))).stdout;
      const version = parsePveversion(out);
      if (!version) {
        throw new Error(`${node}: pveversion printed ${JSON.stringify(out.trim())}; is this a Proxmox VE node?`);
      }
      return { hostname, pveVersion: version.version, pveRelease: version.release, kernel: version.kernel ?? "" };
    },
    sshOptions(args),
  );
}

export const nodeFactsProvider: pulumi.dynamic.ResourceProvider<NodeFactsInputs, NodeFactsOutputs> = {
  async create(inputs) {
    const facts = await readNodeFacts(inputs);
    return { id: inputs.connection.node, outs: { ...inputs, ...facts } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const facts = await readNodeFacts(props);
    return { id, props: { ...props, ...facts } };
  },

  async diff(_id, olds, news) {
    // A different node name is a different node; connection details and the
    // provider version only need the stored outputs refreshed.
    const replaces = olds.connection?.node !== news.connection?.node ? ["connection"] : [];
    const changes =
      replaces.length > 0 ||
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection) ||
      olds.providerVersion !== news.providerVersion;
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const facts = await readNodeFacts(news);
    return { outs: { ...news, ...facts } };
  },

  async delete() {
    // Nothing was created on the node.
  },
};

/** Resource inputs as a program passes them. */
export interface NodeFactsArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:NodeFacts`. */
export class NodeFacts extends pulumi.dynamic.Resource {
  declare readonly hostname: pulumi.Output<string>;
  declare readonly pveVersion: pulumi.Output<string>;
  declare readonly pveRelease: pulumi.Output<string>;
  declare readonly kernel: pulumi.Output<string>;

  constructor(name: string, args: NodeFactsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      nodeFactsProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, NODE_FACTS_PROVIDER_VERSION),
        hostname: undefined,
        pveVersion: undefined,
        pveRelease: undefined,
        kernel: undefined,
      },
      sshResourceOptions(opts),
      "proxmox",
      "NodeFacts",
    );
  }
}
