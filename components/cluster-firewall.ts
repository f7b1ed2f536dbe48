import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { clusterFwText, type FirewallPlan } from "../infra/firewall-plan";
import type { NodeAccess } from "../infra/providers/connection";
import { FirewallSshCheck } from "../infra/providers/proxmox/firewall-ssh-check";
import { FirewallVerify } from "../infra/providers/proxmox/firewall-verify";
import { childOptions, refuse, sharedSshKey } from "./child-options";

/** Type token of the ClusterFirewall component. */
export const CLUSTER_FIREWALL_TYPE = "homelab:firewall:ClusterFirewall";

/** Options of every node's host firewall. */
export interface NodeFirewallOptions {
  /** Drop smurf packets. Defaults to true. */
  nosmurfs?: boolean;
  /** Log level of the input chain. Defaults to nolog. */
  logLevelIn?: string;
  /** Log level of illegal TCP flag combinations. Defaults to nolog. */
  tcpFlagsLogLevel?: string;
  /** Maximum tracked connections. Defaults to the node's. */
  nfConntrackMax?: number;
}

export interface ClusterFirewallArgs {
  /** API provider (ApiAccess.provider). */
  provider: proxmoxve.Provider;
  /** Every cluster member (the verify and SSH checks reach each over SSH). */
  nodes: NodeAccess[];
  /** Aliases, IP sets and rules (infra/firewall-plan.ts). */
  plan: FirewallPlan;
  /** CIDRs SSH and the API must stay open to. */
  adminNetworks: string[];
  /** Switch the firewall on. Defaults to true. */
  enabled?: boolean;
  /** Cluster input policy. Defaults to DROP. */
  inputPolicy?: string;
  /** Cluster output policy. Defaults to ACCEPT. */
  outputPolicy?: string;
  nodeOptions?: NodeFirewallOptions;
  /** How long a node may take to apply the change before its SSH is judged. Defaults to 30 s. */
  settleSeconds?: number;
}

/**
 * The Proxmox firewall of a cluster, in the order that cannot lock the
 * operator out: aliases and IP sets, then the rules (the management path
 * among the first), and every node's options (native resources); then
 * FirewallVerify reads what each node would apply and refuses if SSH or the
 * API would close to an admin network; only then the cluster options with
 * `enable`; then FirewallSshCheck opens a new SSH connection to every node
 * and names any that stopped answering, with the rule set applied.
 */
export class ClusterFirewall extends pulumi.ComponentResource {
  /** The cluster options resource (with `enable`). */
  readonly options: proxmoxve.cluster.FirewallLegacy;
  /** The rule set as verified. */
  readonly appliedRules: pulumi.Output<string>;
  /** Node → `pve-firewall status` after the change. */
  readonly statuses: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ClusterFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super(CLUSTER_FIREWALL_TYPE, name, { adminNetworks: args.adminNetworks, enabled: args.enabled ?? true }, opts);
    if (args.nodes.length === 0) refuse(this, name, "nodes is empty; the firewall needs the cluster's nodes");
    if (args.adminNetworks.length === 0) refuse(this, name, "adminNetworks is empty; SSH and the API would be closed to everyone");
    const native = (after: pulumi.Input<pulumi.Resource>[] = []) => ({ ...childOptions(this, opts, after), provider: args.provider });
    const sshPrivateKey = sharedSshKey(this, name, args.nodes);
    const connections = args.nodes.map((n) => n.connection);

    const aliases = args.plan.aliases.map(
      (a) => new proxmoxve.firewall.AliasLegacy(`${name}-alias-${a.name}`, { name: a.name, cidr: a.cidr, comment: a.comment }, native()),
    );
    const ipsets = args.plan.ipsets.map(
      (s) =>
        new proxmoxve.firewall.IpsetLegacy(
          `${name}-ipset-${s.name}`,
          { name: s.name, comment: s.comment, cidrs: s.cidrs.map((c) => ({ name: c })) },
          native(),
        ),
    );
    // One resource holds all cluster rules (Proxmox keeps them as one ordered list); they name the aliases and sets.
    const rules = new proxmoxve.firewall.RulesLegacy(
      `${name}-rules`,
      {
        rules: args.plan.rules.map((r) => ({
          type: "in",
          action: r.action,
          proto: r.proto,
          dport: r.dport,
          source: r.source,
          comment: r.comment,
          enabled: true,
        })),
      },
      native([...aliases, ...ipsets]),
    );
    const nodeOptions = args.nodes.map(
      (n) =>
        new proxmoxve.node.Firewall(
          `${name}-node-${n.connection.node}`,
          {
            nodeName: n.connection.node,
            enabled: true,
            nosmurfs: args.nodeOptions?.nosmurfs ?? true,
            logLevelIn: args.nodeOptions?.logLevelIn ?? "nolog",
            tcpFlagsLogLevel: args.nodeOptions?.tcpFlagsLogLevel ?? "nolog",
            nfConntrackMax: args.nodeOptions?.nfConntrackMax,
          },
          native([rules]),
        ),
    );
    const verify = new FirewallVerify(
      `${name}-verify`,
      {
        nodes: connections,
        sshPrivateKey,
        adminNetworks: args.adminNetworks,
        ports: [22, 8006],
        expectedRules: clusterFwText(args.plan, {}),
      },
      childOptions(this, opts, [rules, ...nodeOptions]),
    );
    const enabled = args.enabled ?? true;
    this.options = new proxmoxve.cluster.FirewallLegacy(
      `${name}-options`,
      { enabled, inputPolicy: args.inputPolicy ?? "DROP", outputPolicy: args.outputPolicy ?? "ACCEPT" },
      native([verify]),
    );
    const check = new FirewallSshCheck(
      `${name}-ssh-check`,
      { nodes: connections, sshPrivateKey, appliedRules: verify.appliedRules, enabled, settleSeconds: args.settleSeconds ?? 30 },
      childOptions(this, opts, [this.options]),
    );
    this.appliedRules = verify.appliedRules;
    this.statuses = check.statuses;
    this.registerOutputs({ appliedRules: this.appliedRules, statuses: this.statuses });
  }
}
