/**
 * QDevice: an external vote for an even-sized Proxmox cluster (two nodes above
 * all), served by corosync-qnetd on a plain Debian host outside the cluster.
 *
 * Setup, the documented way (pvecm.adoc "Corosync External Vote Support"):
 * `corosync-qnetd` on the qnetd host, `corosync-qdevice` on every member, then
 * `pvecm qdevice setup <address>` on the first member. That command logs in
 * as root to the qnetd host with ssh/scp (BatchMode) after an `ssh-copy-id`,
 * so before it runs this provider, over its own pinned SSH:
 *  - authorizes the first member's root key (/root/.ssh/id_rsa.pub, which
 *    every cluster member has) in the qnetd host's /root/.ssh/authorized_keys;
 *  - pins the qnetd host's key in the first member's /root/.ssh/known_hosts,
 *    reading the key from the qnetd host over the session whose host key is
 *    already pinned, and checking it is that key (no trust on first use).
 *
 * Refuses, changing nothing, when the qnetd host or a member cannot be
 * reached, the cluster has a QDevice elsewhere, or the qnetd host already
 * serves a cluster of the same name from other addresses (qnetd tells
 * clusters apart by name only). A cluster whose QDevice is this host and
 * every package in place runs no mutating command. `read` reports the
 * QDevice's host and vote from corosync.conf and `pvecm status`.
 *
 * A dynamic provider: no native resource manages a QDevice, and setup needs a
 * read first (idempotence) and a read back (pvecm exits 0 on some failures).
 */
import * as pulumi from "@pulumi/pulumi";
import { describeError } from "../../errors";
import { parsePvecmStatus } from "../../parse/cluster";
import { corosyncQdeviceHost, parseQnetdList, type QnetdCluster } from "../../parse/qdevice";
import { command, inCLocale, sh } from "../../shell";
import { SshSession, fingerprint } from "../../ssh";
import { NodeConnection } from "../connection";
import { isUnknown, sleep, stableJson } from "../diff";
import { ensurePackages, queryInstalled } from "../linux/packages";
import { sshResourceInputs, sshResourceOptions } from "../resource";
import { closeAll, list, openSessions, refusalMessage } from "../sessions";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const QDEVICE_PROVIDER_VERSION = "1";

export interface QDeviceInputs {
  providerVersion: string;
  /** The corosync cluster name (qnetd tells clusters apart by it). */
  clusterName: string;
  /** The cluster's nodes; the first runs `pvecm qdevice setup`. */
  members: NodeConnection[];
  /** The qnetd host, reached as root (pvecm logs in there as root too). */
  qnetd: NodeConnection;
  /** Secret: SSH private key accepted by the members and the qnetd host. */
  sshPrivateKey?: string;
}

export interface QDeviceOutputs extends QDeviceInputs {
  /** The QDevice host in corosync.conf ("" without a QDevice). */
  configuredHost: string;
  /** The QDevice's votes as `pvecm status` shows them now (0: it cannot reach qnetd). */
  votes: number;
  /** Whether the cluster had quorum when last read. */
  quorate: boolean;
}

const QNETD_PACKAGE = "corosync-qnetd";
const QDEVICE_PACKAGE = "corosync-qdevice";
const ROOT_PUBKEY = "/root/.ssh/id_rsa.pub";
const ROOT_AUTHORIZED_KEYS = "/root/.ssh/authorized_keys";
const ROOT_KNOWN_HOSTS = "/root/.ssh/known_hosts";
/** How long the QDevice's first vote may take after setup. */
const VOTE_WAIT_MS = 60_000;

export class QDeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "QDeviceError";
  }
  toString(): string {
    return describeError(this);
  }
}

/** What the nodes said, read-only. */
interface Observed {
  configuredHost: string;
  votes: number;
  quorate: boolean;
  /** Members pvecm status lists online (by link0 address or name). */
  onlineCount: number;
  /** What the qnetd host serves (empty when corosync-qnetd is not installed). */
  served: QnetdCluster[];
  qnetdInstalled: boolean;
  /** Members without corosync-qdevice. */
  missingQdevice: string[];
}

/** Problems with the inputs themselves. */
export function inputProblems(inputs: QDeviceInputs): string[] {
  const problems: string[] = [];
  const members = inputs.members ?? [];
  if (members.length === 0) problems.push("members is empty");
  if (members.length % 2 === 1) {
    problems.push(`cluster ${inputs.clusterName} has ${members.length} nodes; a QDevice needs an even number (pvecm qdevice setup refuses odd counts)`);
  }
  if (members.some((m) => m.node === inputs.qnetd?.node || m.host === inputs.qnetd?.host)) {
    problems.push(`the QDevice host ${inputs.qnetd.node} (${inputs.qnetd.host}) is a cluster member; it must be a host outside the cluster`);
  }
  return problems;
}

/** Every reason to refuse, given what was read. */
export function qdeviceProblems(inputs: QDeviceInputs, o: Observed): string[] {
  const problems: string[] = [];
  const address = inputs.qnetd.host;
  if (o.configuredHost && o.configuredHost !== address) {
    problems.push(
      `cluster ${inputs.clusterName} already uses the QDevice at ${o.configuredHost}, not ${address}; ` +
        `remove it first (pvecm qdevice remove on ${inputs.members[0].node}), then run again`,
    );
  }
  const ours = new Set(inputs.members.map((m) => m.host));
  const same = o.served.find((c) => c.name === inputs.clusterName);
  const strangers = same?.clients.filter((c) => !ours.has(c.address)) ?? [];
  if (strangers.length > 0) {
    problems.push(
      `${inputs.qnetd.node} (${address}) already serves a cluster named "${inputs.clusterName}" ` +
        `(corosync-qnetd-tool -l: clients ${list(same!.clients.map((c) => c.address))}); qnetd tells clusters apart by name, ` +
        `so it cannot serve two of one name: use another qnetd host, or take the other cluster off it`,
    );
  }
  if (o.onlineCount < inputs.members.length && !(o.configuredHost === address)) {
    problems.push(`not every member of ${inputs.clusterName} is online (pvecm status shows ${o.onlineCount} of ${inputs.members.length}); pvecm qdevice setup needs all`);
  }
  return problems;
}

async function observe(inputs: QDeviceInputs, sessions: Map<string, SshSession>): Promise<Observed> {
  const first = sessions.get(inputs.members[0].node)!;
  const qnetd = sessions.get(inputs.qnetd.node)!;
  const conf = await first.check(command("cat", "/etc/pve/corosync.conf"));
  // exit 2 = not quorate: still a full status
  const statusCmd = inCLocale(command("pvecm", "status"));
  const status = await first.run(statusCmd);
  if (status.code !== 0 && status.code !== 2) throw new QDeviceError(`${first.node}: pvecm status failed (exit ${status.code}): ${status.stderr.trim()}`);
  const pvecm = parsePvecmStatus(status.stdout);
  const qnetdInstalled = (await queryInstalled(qnetd, [QNETD_PACKAGE])).length > 0;
  let served: QnetdCluster[] = [];
  if (qnetdInstalled) {
    const listCmd = inCLocale(command("corosync-qnetd-tool", "-l"));
    served = parseQnetdList((await qnetd.check(listCmd)).stdout);
  }
  const missingQdevice: string[] = [];
  for (const m of inputs.members) {
    if ((await queryInstalled(sessions.get(m.node)!, [QDEVICE_PACKAGE])).length === 0) missingQdevice.push(m.node);
  }
  return {
    configuredHost: corosyncQdeviceHost(conf.stdout) ?? "",
    votes: pvecm.qdevice?.votes ?? 0,
    quorate: pvecm.quorate,
    onlineCount: pvecm.members.length,
    served,
    qnetdInstalled,
    missingQdevice,
  };
}

/** `SHA256:` fingerprint of an OpenSSH public key line. */
function keyFingerprint(line: string): string | undefined {
  const blob = line.trim().split(/\s+/)[1];
  return blob ? fingerprint(Buffer.from(blob, "base64")) : undefined;
}

/** Root of the first member may log in to the qnetd host, which it knows by its pinned key. */
async function trustBetween(inputs: QDeviceInputs, first: SshSession, qnetd: SshSession): Promise<void> {
  const pub = (await first.check(command("cat", ROOT_PUBKEY))).stdout.trim();
  const keyPart = pub.split(/\s+/).slice(0, 2).join(" ");
  if (!/^ssh-\S+ \S+$/.test(keyPart)) throw new QDeviceError(`${first.node}: ${ROOT_PUBKEY} is not an SSH public key`);
  const authorized = (await qnetd.run(command("cat", ROOT_AUTHORIZED_KEYS))).stdout;
  if (!authorized.split("\n").some((l) => l.includes(keyPart))) {
    await qnetd.check(sh`umask 077 && mkdir -p /root/.ssh && printf '%s\\n' ${`${keyPart} root@${first.node} (homelab qdevice)`} >> ${ROOT_AUTHORIZED_KEYS}`);
  }
  const pinned = inputs.qnetd.hostKey;
  const hostKeys = (await qnetd.check(sh`cat /etc/ssh/ssh_host_*_key.pub`)).stdout.split("\n").filter((l) => l.trim());
  const key = hostKeys.find((l) => keyFingerprint(l) === pinned);
  if (!key) throw new QDeviceError(`${inputs.qnetd.node}: none of its /etc/ssh/ssh_host_*_key.pub has the pinned fingerprint ${pinned}`);
  const address = inputs.qnetd.host;
  const knownLine = `${address} ${key.trim().split(/\s+/).slice(0, 2).join(" ")}`;
  const known = (await first.run(command("cat", ROOT_KNOWN_HOSTS))).stdout;
  if (!known.split("\n").some((l) => l.trim() === knownLine)) {
    await first.check(sh`umask 077 && mkdir -p /root/.ssh && printf '%s\\n' ${knownLine} >> ${ROOT_KNOWN_HOSTS}`);
  }
}

async function apply(inputs: QDeviceInputs): Promise<QDeviceOutputs> {
  const early = inputProblems(inputs);
  if (early.length > 0) throw new QDeviceError(refusalMessage(`QDevice of ${inputs.clusterName}`, early));
  const all = [...inputs.members.map((m) => ({ connection: m })), { connection: inputs.qnetd }];
  const { sessions, failures } = await openSessions(all, inputs.sshPrivateKey);
  try {
    if (failures.length > 0) {
      const problems = failures.map((f) =>
        f.node === inputs.qnetd.node ? `the QDevice host cannot be reached: ${f.message}` : `a member cannot be reached: ${f.message}`,
      );
      throw new QDeviceError(refusalMessage(`QDevice of ${inputs.clusterName}`, problems));
    }
    const before = await observe(inputs, sessions);
    const problems = qdeviceProblems(inputs, before);
    if (problems.length > 0) throw new QDeviceError(refusalMessage(`QDevice of ${inputs.clusterName}`, problems));
    const ready = before.configuredHost === inputs.qnetd.host && before.qnetdInstalled && before.missingQdevice.length === 0;
    if (ready) return outputsOf(inputs, before);

    const args = (c: NodeConnection) => ({ connection: c, sshPrivateKey: inputs.sshPrivateKey });
    if (!before.qnetdInstalled) await ensurePackages(args(inputs.qnetd), [QNETD_PACKAGE], "apt");
    for (const node of before.missingQdevice) await ensurePackages(args(inputs.members.find((m) => m.node === node)!), [QDEVICE_PACKAGE], "apt");
    const first = sessions.get(inputs.members[0].node)!;
    if (before.configuredHost !== inputs.qnetd.host) {
      await trustBetween(inputs, first, sessions.get(inputs.qnetd.node)!);
      const setup = inCLocale(command("pvecm", "qdevice", "setup", inputs.qnetd.host));
      const result = await first.run(setup);
      const after = await observe(inputs, sessions);
      if (result.code !== 0 || after.configuredHost !== inputs.qnetd.host) {
        throw new QDeviceError(
          `${first.node}: pvecm qdevice setup ${inputs.qnetd.host} failed (exit ${result.code}); corosync.conf ` +
            `${after.configuredHost ? `names ${after.configuredHost}` : "has no QDevice"}:\n${result.stdout.trim()}\n${result.stderr.trim()}`.trim(),
        );
      }
      return outputsOf(inputs, await awaitVote(inputs, sessions, after));
    }
    return outputsOf(inputs, await observe(inputs, sessions));
  } finally {
    closeAll(sessions);
  }
}

/** corosync-qdevice connects to qnetd a moment after setup: wait (bounded) for its vote in pvecm status. */
async function awaitVote(inputs: QDeviceInputs, sessions: Map<string, SshSession>, after: Observed): Promise<Observed> {
  const deadline = Date.now() + VOTE_WAIT_MS;
  let seen = after;
  while (seen.votes === 0) {
    if (Date.now() >= deadline) {
      throw new QDeviceError(
        `${inputs.members[0].node}: pvecm qdevice setup ${inputs.qnetd.host} configured the QDevice, but pvecm status still shows it ` +
          `giving no vote after ${VOTE_WAIT_MS / 1000} s: corosync-qdevice cannot reach corosync-qnetd on ${inputs.qnetd.node} ` +
          `(${inputs.qnetd.host}, TCP 5403; check its firewall and systemctl status corosync-qdevice)`,
      );
    }
    await sleep(1000);
    seen = await observe(inputs, sessions);
  }
  return seen;
}

function outputsOf(inputs: QDeviceInputs, o: Observed): QDeviceOutputs {
  return { ...inputs, configuredHost: o.configuredHost, votes: o.votes, quorate: o.quorate };
}

export const qdeviceProvider: pulumi.dynamic.ResourceProvider<QDeviceInputs, QDeviceOutputs> = {
  async check(_olds, news) {
    if (isUnknown(news.members) || isUnknown(news.qnetd)) return { inputs: news };
    return { inputs: news, failures: inputProblems(news).map((reason) => ({ property: "members", reason })) };
  },

  async create(inputs) {
    const outs = await apply(inputs);
    return { id: `${inputs.clusterName}-qdevice`, outs };
  },

  async read(id, props) {
    if (!props) throw new QDeviceError(`${id}: no stored state to refresh from`);
    const all = [...props.members.map((m) => ({ connection: m })), { connection: props.qnetd }];
    const { sessions, failures } = await openSessions(all, props.sshPrivateKey);
    try {
      if (failures.length > 0) throw failures[0].error;
      return { id, props: outputsOf(props, await observe(props, sessions)) };
    } finally {
      closeAll(sessions);
    }
  },

  async diff(_id, olds, news) {
    const replaces: string[] = [];
    // Another qnetd host or cluster means a new QDevice (pvecm refuses a second one: remove first).
    if (isUnknown(news.qnetd) || stableJson(olds.qnetd?.host) !== stableJson(news.qnetd?.host)) replaces.push("qnetd");
    if (olds.clusterName !== news.clusterName) replaces.push("clusterName");
    const changes =
      replaces.length > 0 ||
      isUnknown(news) ||
      stableJson(olds.members) !== stableJson(news.members) ||
      stableJson(olds.qnetd) !== stableJson(news.qnetd) ||
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion ||
      // refreshed state shows the QDevice gone or elsewhere: set it up again (which refuses the latter)
      olds.configuredHost !== olds.qnetd?.host;
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async update(_id, _olds, news) {
    return { outs: await apply(news) };
  },

  async delete() {
    // Left in place: removing the vote of a 2-node cluster takes away its quorum when one node
    // fails. Take it away deliberately with `pvecm qdevice remove` on a member.
  },
};

/** Resource inputs as a program passes them. */
export interface QDeviceArgs {
  clusterName: pulumi.Input<string>;
  members: pulumi.Input<pulumi.Input<NodeConnection>[]>;
  qnetd: pulumi.Input<NodeConnection>;
  sshPrivateKey?: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:QDevice`. */
export class QDevice extends pulumi.dynamic.Resource {
  declare readonly configuredHost: pulumi.Output<string>;
  declare readonly votes: pulumi.Output<number>;
  declare readonly quorate: pulumi.Output<boolean>;

  constructor(name: string, args: QDeviceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      qdeviceProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, QDEVICE_PROVIDER_VERSION), configuredHost: undefined, votes: undefined, quorate: undefined },
      sshResourceOptions(opts),
      "proxmox",
      "QDevice",
    );
  }
}
