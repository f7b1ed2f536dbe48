/**
 * TalosNodePlan: what decides one Talos node's machine config, one resource
 * per node, so a preview names the nodes a change reaches. The engine's
 * dynamic-provider host passes on only "changes" and "replaces" of a diff,
 * not the per-node detail the cluster resource computes, so the preview of
 * one cluster resource cannot say which nodes get a new config or reboot.
 *
 * It runs no command: `config` is a digest of everything the node's config
 * is generated from (versions, the cluster's, the role's and the node's
 * patches, the VIP, the CNI choice); `install` is the installer image and
 * disk, whose change means a reinstall, i.e. a reboot. The cluster resource
 * does the work and re-applies only where the generated config differs.
 */
import * as pulumi from "@pulumi/pulumi";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const TALOS_NODE_PLAN_PROVIDER_VERSION = "1";

export interface TalosNodePlanInputs {
  providerVersion: string;
  cluster: string;
  node: string;
  role: string;
  /** sha256 of what the node's machine config is generated from. */
  config: string;
  /** "<installer image> on <disk>": a change reinstalls, and so reboots, the node. */
  install: string;
}

export const talosNodePlanProvider: pulumi.dynamic.ResourceProvider<TalosNodePlanInputs, TalosNodePlanInputs> = {
  async create(inputs) {
    return { id: `${inputs.cluster}/${inputs.node}`, outs: inputs };
  },
  async read(id, props) {
    return { id, props };
  },
  async diff(_id, olds, news) {
    const replaces = olds.cluster !== news.cluster || olds.node !== news.node ? ["node"] : [];
    const changes = replaces.length > 0 || olds.config !== news.config || olds.install !== news.install || olds.role !== news.role || olds.providerVersion !== news.providerVersion;
    return { changes, replaces, deleteBeforeReplace: false };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

export interface TalosNodePlanArgs {
  cluster: pulumi.Input<string>;
  node: pulumi.Input<string>;
  role: pulumi.Input<string>;
  config: pulumi.Input<string>;
  install: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/talos:NodePlan`. */
export class TalosNodePlan extends pulumi.dynamic.Resource {
  constructor(name: string, args: TalosNodePlanArgs, opts?: pulumi.CustomResourceOptions) {
    super(talosNodePlanProvider, name, { ...args, providerVersion: TALOS_NODE_PLAN_PROVIDER_VERSION }, opts, "talos", "NodePlan");
  }
}
