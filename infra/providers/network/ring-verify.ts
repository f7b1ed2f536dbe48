/**
 * RingVerify: proves the Thunderbolt ring works. From every ring node it
 * pings every other node's loopback (reachability, retried for a bounded
 * convergence time while FRR OpenFabric settles), then measures every
 * cable once with iperf3 (an `iperf3 -s -1 -D` started on the peer for the
 * test and stopped afterwards, client bounded by `timeout`). A pair that
 * cannot reach each other fails the resource with an error naming both
 * nodes; bandwidth is reported (and fails only below `minGbps`, when set).
 *
 * It re-runs when `trigger` changes, or on every `pulumi up` with
 * `verifyOnEveryUp` (the diff then always reports a change). `read`
 * (refresh) re-checks reachability only: iperf3 is too heavy for a refresh.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command: one
 * resource spans all ring nodes (one SSH session per node), its results are
 * typed outputs the stack exports, and refresh can re-check them.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseIperf3, parsePing } from "../../network/verify-parse";
import { command, inCLocale, sh } from "../../shell";
import { NodeError, SshSession } from "../../ssh";
import { NodeConnection } from "../connection";
import { isUnknown } from "../diff";
import { withSessions } from "../sessions";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const RING_VERIFY_PROVIDER_VERSION = "1";


// Module-private names for provider code (the closure serializer mis-captures a module's own exports).
const PIDFILE = "/run/homelab-ring-iperf3.pid";
const DEFAULT_SETTINGS = { iperfSeconds: 3, iperfPort: 5201, convergenceSeconds: 30 };

/** Where the iperf3 server of a test writes its pid, on the peer. */
export const IPERF_PIDFILE = PIDFILE;

export interface RingVerifyNode {
  connection: NodeConnection;
  /** The node's ring loopback (bare IPv4). */
  loopback: string;
  /** The node's ring ports and who is at the other end. */
  ports: { name: string; peer: string }[];
}

export interface RingVerifyInputs {
  providerVersion: string;
  nodes: RingVerifyNode[];
  /** Secret; one key for every node (omitted with the SSH agent). */
  sshPrivateKey?: string;
  /** Any value; changing it re-runs the verification. */
  trigger?: string;
  /** Re-run on every `pulumi up`. Defaults to false. */
  verifyOnEveryUp?: boolean;
  /** iperf3 test length per cable. Defaults to 3 s. */
  iperfSeconds?: number;
  /** iperf3 port. Defaults to 5201. */
  iperfPort?: number;
  /** How long pings are retried while routing converges. Defaults to 30 s. */
  convergenceSeconds?: number;
  /** Fail when a cable measures below this. Defaults to no minimum. */
  minGbps?: number;
}

export interface PairResult {
  from: string;
  to: string;
  /** The destination loopback. */
  address: string;
  reachable: boolean;
  /** Average round trip of the last ping, ms. */
  rttMs?: number;
}

export interface LinkResult {
  /** Where the iperf3 client ran. */
  from: string;
  fromPort: string;
  /** Where the iperf3 server ran. */
  to: string;
  toPort?: string;
  gbps: number;
  retransmits?: number;
}

export interface RingVerifyOutputs extends RingVerifyInputs {
  reachability: PairResult[];
  links: LinkResult[];
  /** ISO time of the last full verification. */
  verifiedAt: string;
}

/** Defaults: 3 s of iperf3 per cable on port 5201, pings retried for 30 s. */
export const DEFAULTS = DEFAULT_SETTINGS;

/** Every cable once: (a, port) ↔ (b, port back), in node order. */
export function ringLinks(nodes: readonly RingVerifyNode[]): { a: RingVerifyNode; aPort: string; b: RingVerifyNode; bPort?: string }[] {
  const byName = new Map(nodes.map((n) => [n.connection.node, n]));
  const seen = new Set<string>();
  const out: { a: RingVerifyNode; aPort: string; b: RingVerifyNode; bPort?: string }[] = [];
  for (const a of nodes) {
    for (const port of a.ports) {
      const b = byName.get(port.peer);
      if (!b) continue;
      const key = [a.connection.node, b.connection.node].sort().join("\u0000");
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ a, aPort: port.name, b, bPort: b.ports.find((p) => p.peer === a.connection.node)?.name });
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One ping round from `from` to `to`'s loopback. */
async function pingOnce(session: SshSession, from: RingVerifyNode, to: RingVerifyNode): Promise<{ ok: boolean; rttMs?: number; evidence: string }> {
  const cmd = inCLocale(command("ping", "-n", "-q", "-c", 3, "-i", "0.2", "-W", 1, "-I", from.loopback, to.loopback));
  const result = await session.run(cmd, { timeoutMs: 15_000 });
  const parsed = parsePing(result.stdout);
  const ok = result.code === 0 && parsed !== undefined && parsed.received > 0;
  const summary = result.stdout.split("\n").find((l) => /packets transmitted/.test(l))?.trim();
  const evidence = `${cmd} exited ${result.code}: ${summary ?? (result.stderr.trim() || "(no output)")}`;
  return { ok, rttMs: parsed?.avgRttMs, evidence };
}

/** Reachability of every ordered pair; pings retried until `deadline` (ms epoch) while any pair fails. */
export async function checkReachability(
  sessions: Map<string, SshSession>,
  nodes: readonly RingVerifyNode[],
  deadline: number,
): Promise<{ pairs: PairResult[]; evidence: Map<string, string> }> {
  const evidence = new Map<string, string>();
  const results = new Map<string, PairResult>();
  const pending = nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => ({ a, b })));
  let todo = pending;
  for (;;) {
    const failed: typeof todo = [];
    // One node's pings run one after another on its session; nodes in parallel.
    await Promise.all(
      nodes.map(async (a) => {
        const session = sessions.get(a.connection.node)!;
        for (const { b } of todo.filter((p) => p.a === a)) {
          const r = await pingOnce(session, a, b);
          const key = `${a.connection.node}->${b.connection.node}`;
          results.set(key, { from: a.connection.node, to: b.connection.node, address: b.loopback, reachable: r.ok, ...(r.rttMs !== undefined ? { rttMs: r.rttMs } : {}) });
          if (!r.ok) {
            evidence.set(key, r.evidence);
            failed.push({ a, b });
          } else evidence.delete(key);
        }
      }),
    );
    if (failed.length === 0 || Date.now() >= deadline) break;
    todo = failed;
    await sleep(1000);
  }
  const pairs = pending.map(({ a, b }) => results.get(`${a.connection.node}->${b.connection.node}`)!);
  return { pairs, evidence };
}

async function measureLink(
  sessions: Map<string, SshSession>,
  link: ReturnType<typeof ringLinks>[number],
  seconds: number,
  port: number,
): Promise<LinkResult> {
  const client = sessions.get(link.a.connection.node)!;
  const server = sessions.get(link.b.connection.node)!;
  const a = link.a.connection.node;
  const b = link.b.connection.node;
  const serverCmd = inCLocale(command("iperf3", "-s", "-1", "-D", "-B", link.b.loopback, "-p", port, "-I", PIDFILE));
  const started = await server.run(serverCmd);
  if (started.code !== 0) {
    throw new NodeError(b, `iperf3 -s failed (exit ${started.code}) while preparing the test of link ${a} → ${b}: ${started.stderr.trim() || started.stdout.trim()}`);
  }
  try {
    // Give the daemon a moment to bind, bounded; the client has its own connect timeout too.
    await sleep(300);
    const clientCmd = inCLocale(
      command("timeout", seconds + 20, "iperf3", "-c", link.b.loopback, "-B", link.a.loopback, "-p", port, "-t", seconds, "-J", "--connect-timeout", 3000),
    );
    const result = await client.run(clientCmd, { timeoutMs: (seconds + 30) * 1000 });
    const parsed = parseIperf3(result.stdout);
    if ("error" in parsed || result.code !== 0) {
      // iperf3's own JSON error when it printed one, else what it (or the shell) said on stderr.
      const jsonError = "error" in parsed && result.stdout.trim().startsWith("{") ? parsed.error : undefined;
      const why = jsonError ?? (result.stderr.trim() || ("error" in parsed ? parsed.error : "(no output)"));
      throw new NodeError(a, `iperf3 -c ${link.b.loopback} (link ${a} ${link.aPort} → ${b}) failed (exit ${result.code}): ${why}`);
    }
    return {
      from: a,
      fromPort: link.aPort,
      to: b,
      ...(link.bPort ? { toPort: link.bPort } : {}),
      gbps: parsed.gbps,
      ...(parsed.retransmits !== undefined ? { retransmits: parsed.retransmits } : {}),
    };
  } finally {
    // Stop the server if it is still there (it exits by itself after one test with -1).
    await server.run(sh`if [ -f ${PIDFILE} ]; then kill "$(cat ${PIDFILE})" 2>/dev/null; rm -f ${PIDFILE}; fi; true`);
  }
}

function unreachableError(pairs: PairResult[], evidence: Map<string, string>, seconds: number): Error {
  const bad = pairs.filter((p) => !p.reachable);
  const lines = bad.map((p) => `  - ${p.from} cannot reach ${p.to} (${p.address}): ${evidence.get(`${p.from}->${p.to}`) ?? ""}`);
  const names = bad.map((p) => `${p.from} → ${p.to}`).join(", ");
  return new Error(
    `Thunderbolt ring verification failed: ${names} unreachable after ${seconds} s:\n${lines.join("\n")}\n` +
      "Check the cables, `vtysh -c 'show openfabric topology'` on both nodes, and that the ports are up with the ring MTU.",
  );
}

/** The full verification. */
export async function verifyRing(inputs: RingVerifyInputs): Promise<Pick<RingVerifyOutputs, "reachability" | "links" | "verifiedAt">> {
  const seconds = inputs.iperfSeconds ?? DEFAULT_SETTINGS.iperfSeconds;
  const port = inputs.iperfPort ?? DEFAULT_SETTINGS.iperfPort;
  const convergence = inputs.convergenceSeconds ?? DEFAULT_SETTINGS.convergenceSeconds;
  return withSessions(inputs.nodes, inputs.sshPrivateKey, async (sessions) => {
    const { pairs, evidence } = await checkReachability(sessions, inputs.nodes, Date.now() + convergence * 1000);
    if (pairs.some((p) => !p.reachable)) throw unreachableError(pairs, evidence, convergence);
    const links: LinkResult[] = [];
    for (const link of ringLinks(inputs.nodes)) links.push(await measureLink(sessions, link, seconds, port));
    if (inputs.minGbps !== undefined) {
      const slow = links.filter((l) => l.gbps < inputs.minGbps!);
      if (slow.length > 0) {
        throw new Error(
          `Thunderbolt ring verification failed: below ${inputs.minGbps} Gbit/s: ` +
            slow.map((l) => `${l.from} ${l.fromPort} → ${l.to}: ${l.gbps} Gbit/s`).join(", ") +
            " (check the cable, and that both ends run the ring MTU)",
        );
      }
    }
    return { reachability: pairs, links, verifiedAt: new Date().toISOString() };
  });
}

export const ringVerifyProvider: pulumi.dynamic.ResourceProvider<RingVerifyInputs, RingVerifyOutputs> = {
  async create(inputs) {
    const results = await verifyRing(inputs);
    return { id: `ring:${inputs.nodes.map((n) => n.connection.node).join(",")}`, outs: { ...inputs, ...results } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    // Reachability only, one round, never throwing: refresh shows a broken ring as drift.
    const { pairs } = await withSessions(props.nodes, props.sshPrivateKey, (sessions) => checkReachability(sessions, props.nodes, 0));
    return { id, props: { ...props, reachability: pairs } };
  },

  async diff(_id, olds, news) {
    const settings = (i: RingVerifyInputs) =>
      JSON.stringify([
        (i.nodes ?? []).map((n) => [n.connection?.node, n.connection?.host, n.loopback, n.ports]),
        i.trigger ?? null,
        i.iperfSeconds ?? DEFAULT_SETTINGS.iperfSeconds,
        i.iperfPort ?? DEFAULT_SETTINGS.iperfPort,
        i.convergenceSeconds ?? DEFAULT_SETTINGS.convergenceSeconds,
        i.minGbps ?? null,
        i.providerVersion,
      ]);
    const unknown = isUnknown(news);
    const changes =
      unknown ||
      news.verifyOnEveryUp === true ||
      (olds.verifyOnEveryUp ?? false) !== (news.verifyOnEveryUp ?? false) ||
      settings(olds) !== settings(news) ||
      JSON.stringify(olds.nodes?.map((n) => n.connection)) !== JSON.stringify(news.nodes?.map((n) => n.connection));
    return { changes, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const results = await verifyRing(news);
    return { outs: { ...news, ...results } };
  },

  async delete() {
    // Nothing persists on the nodes (the iperf3 server is stopped after each test).
  },
};

/** Resource inputs as a program passes them. */
export interface RingVerifyArgs {
  nodes: pulumi.Input<RingVerifyNode[]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Any value; changing it re-runs the verification. Defaults to none. */
  trigger?: pulumi.Input<string>;
  /** Re-run the verification on every `pulumi up`. Defaults to false. */
  verifyOnEveryUp?: pulumi.Input<boolean>;
  /** iperf3 seconds per cable. Defaults to 3. */
  iperfSeconds?: pulumi.Input<number>;
  /** iperf3 TCP port. Defaults to 5201. */
  iperfPort?: pulumi.Input<number>;
  /** Seconds pings are retried while routing converges. Defaults to 30. */
  convergenceSeconds?: pulumi.Input<number>;
  /** Fail below this many Gbit/s per cable. Defaults to no minimum. */
  minGbps?: pulumi.Input<number>;
}

/** Registered as `pulumi-nodejs:dynamic/network:RingVerify`. */
export class RingVerify extends pulumi.dynamic.Resource {
  declare readonly reachability: pulumi.Output<PairResult[]>;
  declare readonly links: pulumi.Output<LinkResult[]>;
  declare readonly verifiedAt: pulumi.Output<string>;

  constructor(name: string, args: RingVerifyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ringVerifyProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, RING_VERIFY_PROVIDER_VERSION),
        reachability: undefined,
        links: undefined,
        verifiedAt: undefined,
      },
      sshResourceOptions(opts),
      "network",
      "RingVerify",
    );
  }
}
