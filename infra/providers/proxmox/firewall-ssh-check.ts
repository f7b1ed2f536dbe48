/**
 * FirewallSshCheck: after the firewall is switched on, opens a NEW SSH
 * connection to every node (an open one would survive as an established
 * connection) and reads `pve-firewall status` until the node has applied the
 * change (no "pending changes"), bounded. A node whose SSH no longer answers
 * is reported by name with the rule set that was applied, so the operator
 * knows what to undo from the console.
 *
 * Read-only. A dynamic provider because `read` must show a node that stopped
 * answering on refresh; @pulumi/command has no read.
 */
import * as pulumi from "@pulumi/pulumi";
import { describeError, errorMessage } from "../../errors";
import { parseFirewallStatus } from "../../parse/pve-firewall";
import { inCLocale } from "../../shell";
import { withSession } from "../../ssh";
import { sshOptions, sshTarget, type NodeConnection } from "../connection";
import { isUnknown, sleep, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";
import { indent, withoutBlankLines } from "../sessions";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const FIREWALL_SSH_CHECK_PROVIDER_VERSION = "1";

export interface FirewallSshCheckInputs {
  providerVersion: string;
  nodes: NodeConnection[];
  sshPrivateKey?: string;
  /** cluster.fw as verified before enabling (reported when a node stops answering). */
  appliedRules: string;
  /** Whether the firewall is on (the check waits for each node to apply it). */
  enabled: boolean;
  /** How long a node may take to apply the change. */
  settleSeconds: number;
}

export interface FirewallSshCheckOutputs extends FirewallSshCheckInputs {
  /** Node → `pve-firewall status`, or the reason it did not answer. */
  statuses: Record<string, string>;
  /** Nodes that did not answer over SSH. */
  unreachable: string[];
}

export class FirewallLockoutError extends Error {
  readonly nodes: string[];
  constructor(nodes: string[], problems: string[], appliedRules: string) {
    super();
    this.nodes = nodes;
    this.message =
      `firewall: ${nodes.join(", ")} stopped answering over SSH after the firewall change:\n` +
      problems.map((p) => `  - ${p}`).join("\n") +
      `\nthe rule set applied (/etc/pve/firewall/cluster.fw):\n${indent(withoutBlankLines(appliedRules) || "(empty)")}\n` +
      "from the node's console: pve-firewall stop, then fix the rules";
    this.name = "FirewallLockoutError";
  }
  toString(): string {
    return describeError(this);
  }
}

/** One node: a fresh connection, then status until applied (or the time is up). */
async function checkNode(inputs: FirewallSshCheckInputs, connection: NodeConnection): Promise<{ ok: boolean; text: string }> {
  const args = { connection, sshPrivateKey: inputs.sshPrivateKey };
  const deadline = Date.now() + inputs.settleSeconds * 1000;
  for (;;) {
    let status: string;
    try {
      status = await withSession(sshTarget(args), async (s) => (await s.check(inCLocale("pve-firewall status"))).stdout.trim(), sshOptions(args));
    } catch (err) {
      return { ok: false, text: errorMessage(err) };
    }
    const parsed = parseFirewallStatus(status);
    const applied = parsed !== undefined && parsed.enabled === inputs.enabled && !parsed.pending;
    if (applied || Date.now() >= deadline) return { ok: true, text: status };
    await sleep(2000);
  }
}

async function checkAll(inputs: FirewallSshCheckInputs): Promise<FirewallSshCheckOutputs> {
  const results = await Promise.all(inputs.nodes.map((n) => checkNode(inputs, n)));
  const statuses: Record<string, string> = {};
  const unreachable: string[] = [];
  inputs.nodes.forEach((n, i) => {
    statuses[n.node] = results[i].text;
    if (!results[i].ok) unreachable.push(n.node);
  });
  return { ...inputs, statuses, unreachable };
}

async function run(inputs: FirewallSshCheckInputs): Promise<FirewallSshCheckOutputs> {
  const outs = await checkAll(inputs);
  if (outs.unreachable.length > 0) {
    const problems = outs.unreachable.map((n) => (outs.statuses[n].startsWith(`${n}: `) ? outs.statuses[n] : `${n}: ${outs.statuses[n]}`));
    throw new FirewallLockoutError(outs.unreachable, problems, inputs.appliedRules);
  }
  return outs;
}

export const firewallSshCheckProvider: pulumi.dynamic.ResourceProvider<FirewallSshCheckInputs, FirewallSshCheckOutputs> = {
  async create(inputs) {
    return { id: "firewall-ssh-check", outs: await run(inputs) };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    // No waiting on refresh: what each node says now.
    const { statuses, unreachable } = await checkAll({ ...props, settleSeconds: 0 });
    return { id, props: { ...props, statuses, unreachable } };
  },

  async diff(_id, olds, news) {
    const changed =
      isUnknown(news) ||
      stableJson(olds.nodes) !== stableJson(news.nodes) ||
      olds.appliedRules !== news.appliedRules ||
      olds.enabled !== news.enabled ||
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion;
    return { changes: changed || (olds.unreachable ?? []).length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: await run(news) };
  },

  async delete() {
    // Nothing was changed on any node.
  },
};

export interface FirewallSshCheckArgs {
  nodes: pulumi.Input<pulumi.Input<NodeConnection>[]>;
  sshPrivateKey?: pulumi.Input<string>;
  appliedRules: pulumi.Input<string>;
  enabled: pulumi.Input<boolean>;
  settleSeconds: pulumi.Input<number>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:FirewallSshCheck`. */
export class FirewallSshCheck extends pulumi.dynamic.Resource {
  declare readonly statuses: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: FirewallSshCheckArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      firewallSshCheckProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, FIREWALL_SSH_CHECK_PROVIDER_VERSION), statuses: undefined, unreachable: undefined },
      sshResourceOptions(opts),
      "proxmox",
      "FirewallSshCheck",
    );
  }
}
