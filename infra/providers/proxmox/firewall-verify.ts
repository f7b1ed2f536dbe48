/**
 * FirewallVerify: before the firewall is switched on, reads the rule set each
 * node would apply (/etc/pve/firewall/cluster.fw and the node's host.fw),
 * has `pve-firewall compile` parse it, and refuses, naming the node, the admin
 * network, the port and the rule, when SSH or the API would not be accepted
 * from an admin network. The cluster's `enable` waits for this resource.
 *
 * Why the files and not the compiled iptables rules: `pve-firewall compile`
 * compiles nothing while the firewall is disabled (PVE::Firewall::compile
 * returns empty rule sets), which is exactly when this check must run. It
 * still reports every line it cannot parse (a skipped rule could be the one
 * that keeps SSH open); those are refused too.
 *
 * Read-only: no method runs a command that changes a node. A dynamic
 * provider because the check reads every node and `read` must show a rule
 * set changed behind our back; no native resource verifies anything.
 */
import * as pulumi from "@pulumi/pulumi";
import { describeError } from "../../errors";
import { acceptsFrom, emptyFwConfig, parseFirewallStatus, parseFwConfig, parseLocalnet } from "../../parse/pve-firewall";
import { inCLocale } from "../../shell";
import type { SshSession } from "../../ssh";
import type { NodeConnection } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";
import { closeAll, indent, withoutBlankLines, openSessions, refusalMessage } from "../sessions";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const FIREWALL_VERIFY_PROVIDER_VERSION = "1";

export interface FirewallVerifyInputs {
  providerVersion: string;
  nodes: NodeConnection[];
  sshPrivateKey?: string;
  /** CIDRs SSH and the API must stay open to. */
  adminNetworks: string[];
  /** TCP ports to check (22 and 8006). */
  ports: number[];
  /** The rule set homelab wrote (its text); a change re-runs the check. */
  expectedRules: string;
}

/** What one node would apply. */
export interface NodeFirewallView {
  node: string;
  /** `pve-firewall status` ("Status: disabled/running"). */
  status: string;
  /** cluster.fw as the node reads it. */
  clusterFw: string;
  /** The node's host.fw ("" when absent). */
  hostFw: string;
  /** `pve-firewall localnet`'s local network. */
  localNetwork: string;
}

export interface FirewallVerifyOutputs extends FirewallVerifyInputs {
  observed: NodeFirewallView[];
  /** cluster.fw as verified (what the post-enable check reports). */
  appliedRules: string;
}

export class FirewallRefusedError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super();
    this.problems = problems;
    this.message = refusalMessage("firewall", problems) + "\n(the firewall stays off; fix the rules, then run again)";
    this.name = "FirewallRefusedError";
  }
  toString(): string {
    return describeError(this);
  }
}

const CLUSTER_FW = "/etc/pve/firewall/cluster.fw";
const HOST_FW = "/etc/pve/local/host.fw";

/** A file's text, "" when it does not exist (a node without host rules has no host.fw). */
async function readOptional(session: SshSession, path: string): Promise<string> {
  // Constant paths written here: no config value reaches this command line.
  const r = await session.check(`if test -e ${path}; then cat ${path}; fi`);
  return r.stdout;
}

async function observeNode(node: string, session: SshSession): Promise<NodeFirewallView & { compileProblems: string[] }> {
  const clusterFw = await readOptional(session, CLUSTER_FW);
  const hostFw = await readOptional(session, HOST_FW);
  const compiled = await session.check(inCLocale("pve-firewall compile"));
  // PVE warns on stderr about every line it skips; the tool's own chatter has no "(line N)".
  const compileProblems = compiled.stderr
    .split("\n")
    .filter((l) => /\(line \d+\)/.test(l))
    .map((l) => `${node}: pve-firewall compile: ${l.trim()}`);
  const localnet = await session.check(inCLocale("pve-firewall localnet"));
  const status = await session.check(inCLocale("pve-firewall status"));
  return {
    node,
    status: status.stdout.trim(),
    clusterFw,
    hostFw,
    localNetwork: parseLocalnet(localnet.stdout) ?? "",
    compileProblems,
  };
}

/** Every reason to refuse, from what the nodes said. */
export function lockoutProblems(
  views: readonly (NodeFirewallView & { compileProblems?: string[] })[],
  adminNetworks: readonly string[],
  ports: readonly number[],
): string[] {
  const problems: string[] = [];
  for (const v of views) {
    problems.push(...(v.compileProblems ?? []));
    const cluster = v.clusterFw ? parseFwConfig(v.clusterFw, CLUSTER_FW) : emptyFwConfig();
    const host = v.hostFw ? parseFwConfig(v.hostFw, HOST_FW) : emptyFwConfig();
    for (const network of adminNetworks) {
      for (const port of ports) {
        const verdict = acceptsFrom(cluster, host, network, port, v.localNetwork || undefined);
        if (!verdict.accepted) {
          problems.push(`${v.node}: tcp/${port} from admin network ${network} would not be accepted: ${verdict.reason}`);
        }
      }
    }
    if (parseFirewallStatus(v.status) === undefined) problems.push(`${v.node}: pve-firewall status printed ${JSON.stringify(v.status)}`);
  }
  return problems;
}

/**
 * Every node's view. Unreachable nodes refuse, unless `tolerant` (refresh): then their view
 * says so in `status`, which the next diff sees as a problem, so the update re-checks (and refuses).
 */
async function observeAll(inputs: FirewallVerifyInputs, tolerant = false): Promise<(NodeFirewallView & { compileProblems: string[] })[]> {
  const { sessions, failures } = await openSessions(
    inputs.nodes.map((connection) => ({ connection })),
    inputs.sshPrivateKey,
  );
  try {
    if (failures.length > 0 && !tolerant) throw new FirewallRefusedError(failures.map((f) => f.message));
    return await Promise.all(
      inputs.nodes.map((n) => {
        const session = sessions.get(n.node);
        if (session) return observeNode(n.node, session);
        const failure = failures.find((f) => f.node === n.node)!;
        return { node: n.node, status: `unreachable: ${failure.message}`, clusterFw: "", hostFw: "", localNetwork: "", compileProblems: [] };
      }),
    );
  } finally {
    closeAll(sessions);
  }
}

async function verify(inputs: FirewallVerifyInputs): Promise<FirewallVerifyOutputs> {
  const views = await observeAll(inputs);
  const problems = lockoutProblems(views, inputs.adminNetworks, inputs.ports);
  if (problems.length > 0) {
    const shown = views[0] ? `\nrule set read on ${views[0].node} (${CLUSTER_FW}):\n${indent(withoutBlankLines(views[0].clusterFw) || "(empty)")}` : "";
    throw new FirewallRefusedError([...problems.slice(0, -1), problems[problems.length - 1] + shown]);
  }
  const observed = views.map(({ compileProblems: _unused, ...v }) => v);
  return { ...inputs, observed, appliedRules: views[0]?.clusterFw ?? "" };
}

export const firewallVerifyProvider: pulumi.dynamic.ResourceProvider<FirewallVerifyInputs, FirewallVerifyOutputs> = {
  async create(inputs) {
    return { id: "firewall-verify", outs: await verify(inputs) };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    const views = await observeAll(props, true);
    const observed = views.map(({ compileProblems: _unused, ...v }) => v);
    const first = views.find((v) => !v.status.startsWith("unreachable: "));
    return { id, props: { ...props, observed, appliedRules: first?.clusterFw ?? props.appliedRules } };
  },

  async diff(_id, olds, news) {
    const changed =
      isUnknown(news) ||
      stableJson(olds.nodes) !== stableJson(news.nodes) ||
      stableJson(olds.adminNetworks) !== stableJson(news.adminNetworks) ||
      stableJson(olds.ports) !== stableJson(news.ports) ||
      olds.expectedRules !== news.expectedRules ||
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion;
    // A refreshed rule set that would lock an admin network out: check again (which refuses).
    const drift = lockoutProblems(olds.observed ?? [], olds.adminNetworks ?? [], olds.ports ?? []).length > 0;
    return { changes: changed || drift, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: await verify(news) };
  },

  async delete() {
    // Nothing was changed on any node.
  },
};

export interface FirewallVerifyArgs {
  nodes: pulumi.Input<pulumi.Input<NodeConnection>[]>;
  sshPrivateKey?: pulumi.Input<string>;
  adminNetworks: pulumi.Input<string[]>;
  ports: pulumi.Input<number[]>;
  expectedRules: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:FirewallVerify`. */
export class FirewallVerify extends pulumi.dynamic.Resource {
  declare readonly appliedRules: pulumi.Output<string>;
  declare readonly observed: pulumi.Output<NodeFirewallView[]>;

  constructor(name: string, args: FirewallVerifyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      firewallVerifyProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, FIREWALL_VERIFY_PROVIDER_VERSION), observed: undefined, appliedRules: undefined },
      sshResourceOptions(opts),
      "proxmox",
      "FirewallVerify",
    );
  }
}
