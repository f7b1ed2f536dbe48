/**
 * SdnApply: applies the cluster's pending SDN configuration once
 * (`pvesh set /cluster/sdn`, the API's PUT /cluster/sdn), after every zone,
 * VNet and subnet was written, and only when something is pending.
 *
 * It reads the pending state first (`pvesh get /cluster/sdn/zones --pending 1`,
 * the same for VNets and each VNet's subnets: an object that differs from the
 * running configuration carries `state` new/changed/deleted), so a run with
 * nothing pending runs no mutating command; after applying it reads the
 * pending state back and fails, naming what is still pending.
 *
 * Why not the native `sdn.Applier`: it applies only when it is created, and
 * the Node SDK has no `replaceTriggeredBy` (only `replaceWith`, which misses
 * in-place updates), so a changed DHCP range would stay pending. Why not
 * @pulumi/command: the apply must read the pending state before and after,
 * and `read` must show pending changes as drift.
 */
import * as pulumi from "@pulumi/pulumi";
import { describeError } from "../../errors";
import { parseToolJson } from "../../parse/json";
import { command, inCLocale } from "../../shell";
import type { SshSession } from "../../ssh";
import type { NodeConnection } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";
import { openFirst } from "../sessions";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const SDN_APPLY_PROVIDER_VERSION = "1";

export interface SdnApplyInputs {
  providerVersion: string;
  /** Cluster members; the first that answers applies (SDN config is cluster-wide). */
  nodes: NodeConnection[];
  sshPrivateKey?: string;
  /** The SDN objects homelab wrote (their description); a change re-checks and applies what is pending. */
  config: string;
}

export interface SdnApplyOutputs extends SdnApplyInputs {
  /** What is pending, as `zone dev (new)`; empty once applied. */
  pending: string[];
  /** Whether the last create or update applied (false when nothing was pending). */
  applied: boolean;
}

export class SdnApplyError extends Error {
  constructor(message: string) {
    super();
    this.message = message;
    this.name = "SdnApplyError";
  }
  toString(): string {
    return describeError(this);
  }
}

interface PendingRow {
  zone?: string;
  vnet?: string;
  subnet?: string;
  state?: string;
}

async function getJson(session: SshSession, node: string, ...argv: string[]): Promise<PendingRow[]> {
  const cmd = inCLocale(command("pvesh", "get", ...argv, "--output-format", "json"));
  const r = await session.check(cmd);
  const rows = parseToolJson(r.stdout, node, cmd);
  if (!Array.isArray(rows)) throw new SdnApplyError(`${node}: ${cmd} printed ${JSON.stringify(r.stdout.slice(0, 200))}, not a list`);
  return rows as PendingRow[];
}

/** Every SDN object with a pending state, as `<kind> <id> (<state>)`. */
async function readPending(session: SshSession, node: string): Promise<string[]> {
  const zones = await getJson(session, node, "/cluster/sdn/zones", "--pending", "1");
  const vnets = await getJson(session, node, "/cluster/sdn/vnets", "--pending", "1");
  const subnets: PendingRow[] = [];
  for (const v of vnets) {
    if (v.vnet) subnets.push(...(await getJson(session, node, `/cluster/sdn/vnets/${v.vnet}/subnets`, "--pending", "1")));
  }
  return [
    ...zones.filter((z) => z.state).map((z) => `zone ${z.zone} (${z.state})`),
    ...vnets.filter((v) => v.state).map((v) => `vnet ${v.vnet} (${v.state})`),
    ...subnets.filter((s) => s.state).map((s) => `subnet ${s.subnet} (${s.state})`),
  ];
}

async function withAnyNode<T>(inputs: SdnApplyInputs, fn: (session: SshSession, node: string) => Promise<T>): Promise<T> {
  const { session, failures } = await openFirst(
    inputs.nodes.map((connection) => ({ connection })),
    inputs.sshPrivateKey,
  );
  if (!session) throw new SdnApplyError(`sdn apply: no cluster member answers over SSH:\n${failures.map((f) => `  - ${f.message}`).join("\n")}`);
  try {
    return await fn(session, session.node);
  } finally {
    session.close();
  }
}

async function applyPending(inputs: SdnApplyInputs): Promise<SdnApplyOutputs> {
  return withAnyNode(inputs, async (session, node) => {
    const before = await readPending(session, node);
    if (before.length === 0) return { ...inputs, pending: [], applied: false };
    const cmd = inCLocale(command("pvesh", "set", "/cluster/sdn"));
    const r = await session.check(cmd);
    const after = await readPending(session, node);
    if (after.length > 0) {
      throw new SdnApplyError(
        `${node}: ${cmd} left SDN changes pending: ${after.join(", ")}` + (r.stderr.trim() ? `\nstderr: ${r.stderr.trim()}` : ""),
      );
    }
    return { ...inputs, pending: [], applied: true };
  });
}

export const sdnApplyProvider: pulumi.dynamic.ResourceProvider<SdnApplyInputs, SdnApplyOutputs> = {
  async create(inputs) {
    return { id: "sdn-apply", outs: await applyPending(inputs) };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const pending = await withAnyNode(props, (session, node) => readPending(session, node));
    return { id, props: { ...props, pending } };
  },

  async diff(_id, olds, news) {
    const changed =
      isUnknown(news) ||
      olds.config !== news.config ||
      stableJson(olds.nodes) !== stableJson(news.nodes) ||
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion;
    // Pending changes seen on refresh (made behind our back, or a failed apply): apply again.
    return { changes: changed || (olds.pending ?? []).length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: await applyPending(news) };
  },

  async delete() {
    // The zones' own deletions leave pending changes; the next apply (or the operator) commits them.
  },
};

export interface SdnApplyArgs {
  nodes: pulumi.Input<pulumi.Input<NodeConnection>[]>;
  sshPrivateKey?: pulumi.Input<string>;
  config: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:SdnApply`. */
export class SdnApply extends pulumi.dynamic.Resource {
  declare readonly pending: pulumi.Output<string[]>;

  constructor(name: string, args: SdnApplyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      sdnApplyProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, SDN_APPLY_PROVIDER_VERSION), pending: undefined, applied: undefined },
      sshResourceOptions(opts),
      "proxmox",
      "SdnApply",
    );
  }
}
