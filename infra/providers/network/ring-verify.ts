/**
 * RingVerify: proves the Thunderbolt ring works, and keeps it working.
 *
 * - Services: FRR (with fabricd) and the ring's boot unit must be enabled and
 *   running on every node; create/update enable and start what is not (read
 *   back after), so a node that rebooted into a disabled FRR is repaired by
 *   the next `pulumi up`.
 * - Reachability: from every node, a ping to every other node's loopback
 *   (retried for a bounded convergence time while OpenFabric settles). A node
 *   nobody reaches (or that reaches nobody) fails the resource.
 * - Each cable on its own, because OpenFabric routes around a dead cable
 *   through the third node and loopback pings cannot see it: both ports up
 *   with carrier and the ring MTU (`ip -j link show`), an OpenFabric adjacency
 *   to the right neighbour on each port (`vtysh -c 'show openfabric neighbor
 *   json'`), and iperf3 across that cable alone (`--bind-dev` the port). A
 *   dead or slow cable is reported by its two ports and makes the ring
 *   `degraded` (a warning; outputs say which); the ring fails only when a
 *   node is cut off.
 *
 * It re-runs when `trigger` changes, on every `pulumi up` with
 * `verifyOnEveryUp`, and whenever the stored state is not `healthy` (a refresh
 * that found a stopped FRR or a dead cable makes the next up repair and
 * re-check). `read` (refresh) re-checks services, reachability and each
 * cable's link and adjacency, never iperf3 (too heavy for a refresh), and
 * never throws.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command: one
 * resource spans all ring nodes (one SSH session per node), its results are
 * typed outputs the stack exports, and refresh can re-check them.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseIperf3, parseIpLinkJson, parseOpenFabricNeighbors, parsePing } from "../../network/verify-parse";
import { command, inCLocale, sh } from "../../shell";
import { NodeError, SshSession } from "../../ssh";
import { NodeConnection } from "../connection";
import { isUnknown } from "../diff";
import { withSessions } from "../sessions";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const RING_VERIFY_PROVIDER_VERSION = "2";

// Module-private names for provider code (the closure serializer mis-captures a module's own exports).
const PIDFILE = "/run/homelab-ring-iperf3.pid";
/**
 * A Thunderbolt 4 / USB4 cable runs at about 26 Gbit/s with MTU 65520; one
 * that fell back to a slow mode (a USB 3 cable, a bad port) measures 10 or less.
 */
const DEFAULT_SETTINGS = { iperfSeconds: 3, iperfPort: 5201, convergenceSeconds: 30, minGbps: 15, mtu: 65520, units: ["frr.service"] };

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
  /** How long pings and cable checks are retried while routing converges. Defaults to 30 s. */
  convergenceSeconds?: number;
  /** A cable below this is reported as slow (the ring degraded). Defaults to 15 Gbit/s. */
  minGbps?: number;
  /** MTU both ports of every cable must have. Defaults to 65520. */
  mtu?: number;
  /** Units that must be enabled and running on every ring node. Defaults to ["frr.service"]. */
  units?: string[];
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

/** One cable, checked on its own. */
export interface CableResult {
  /** "russell en05 ↔ wittgenstein en06". */
  cable: string;
  a: string;
  aPort: string;
  b: string;
  bPort: string;
  /** ok; down (no carrier, wrong MTU or no adjacency); slow (below minGbps). */
  status: "ok" | "down" | "slow";
  /** What is wrong, each naming the port. Empty when ok. */
  problems: string[];
}

/** One node's ring services. */
export interface ServiceResult {
  node: string;
  unit: string;
  enabled: boolean;
  active: boolean;
}

export interface RingVerifyOutputs extends RingVerifyInputs {
  /**
   * healthy; degraded (a cable down or slow, or a service stopped or disabled, while every node
   * reaches every other); failed (a refresh found a node cut off; an up fails instead).
   */
  status: "healthy" | "degraded" | "failed";
  /** Every problem found, one sentence each (empty when healthy). */
  problems: string[];
  reachability: PairResult[];
  cables: CableResult[];
  services: ServiceResult[];
  /** Throughput per cable (last full verification). */
  links: LinkResult[];
  /** ISO time of the last full verification. */
  verifiedAt: string;
}

/** Defaults: 3 s of iperf3 per cable on port 5201, pings retried for 30 s, 15 Gbit/s minimum, MTU 65520. */
export const DEFAULTS = DEFAULT_SETTINGS;

interface RingLink {
  a: RingVerifyNode;
  aPort: string;
  b: RingVerifyNode;
  bPort?: string;
}

/** Every cable once: (a, port) ↔ (b, port back), in node order. */
export function ringLinks(nodes: readonly RingVerifyNode[]): RingLink[] {
  const byName = new Map(nodes.map((n) => [n.connection.node, n]));
  const seen = new Set<string>();
  const out: RingLink[] = [];
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

function cableName(link: RingLink): string {
  return `${link.a.connection.node} ${link.aPort} ↔ ${link.b.connection.node} ${link.bPort ?? "?"}`;
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

/** What is wrong with one port: link state, MTU, adjacency to `peer` (empty when fine). */
async function portProblems(session: SshSession, node: string, port: string, peer: string, mtu: number, adjacencies: string): Promise<string[]> {
  const shown = await session.run(inCLocale(command("ip", "-j", "link", "show", "dev", port)));
  const link = shown.code === 0 ? parseIpLinkJson(shown.stdout) : undefined;
  if (!link) return [`${node} ${port} is missing (${shown.stderr.trim() || "no such link"})`];
  const problems: string[] = [];
  if (!link.up) problems.push(`${node} ${port} is down`);
  else if (!link.carrier) problems.push(`${node} ${port} has no carrier`);
  if (link.mtu !== mtu) problems.push(`${node} ${port} has MTU ${link.mtu}, not ${mtu}`);
  const neighbors = parseOpenFabricNeighbors(adjacencies);
  if (!neighbors) problems.push(`${node}: no OpenFabric neighbours (${adjacencies.trim().split("\n")[0] || "vtysh printed nothing"})`);
  else if (!neighbors.some((n) => n.interface === port && n.neighbor === peer && n.state === "Up")) {
    problems.push(`${node} ${port} has no OpenFabric adjacency to ${peer}`);
  }
  return problems;
}

/** `vtysh -c 'show openfabric neighbor json'` on one node: its stdout, or what went wrong. */
async function openFabricNeighbors(session: SshSession): Promise<string> {
  const r = await session.run(inCLocale(command("vtysh", "-c", "show openfabric neighbor json")));
  return r.code === 0 ? r.stdout : `${r.stdout.trim()} ${r.stderr.trim()}`.trim() || `vtysh exited ${r.code}`;
}

/** Each cable's ports and adjacencies (no throughput). */
async function checkCables(sessions: Map<string, SshSession>, nodes: readonly RingVerifyNode[], mtu: number): Promise<CableResult[]> {
  const neighbors = new Map<string, string>();
  await Promise.all(nodes.map(async (n) => neighbors.set(n.connection.node, await openFabricNeighbors(sessions.get(n.connection.node)!))));
  const out: CableResult[] = [];
  for (const link of ringLinks(nodes)) {
    const a = link.a.connection.node;
    const b = link.b.connection.node;
    const problems = [
      ...(await portProblems(sessions.get(a)!, a, link.aPort, b, mtu, neighbors.get(a)!)),
      ...(link.bPort === undefined
        ? [`${b} has no port cabled to ${a}`]
        : await portProblems(sessions.get(b)!, b, link.bPort, a, mtu, neighbors.get(b)!)),
    ];
    out.push({ cable: cableName(link), a, aPort: link.aPort, b, bPort: link.bPort ?? "", status: problems.length ? "down" : "ok", problems });
  }
  return out;
}

/** Cable checks retried until `deadline` while any cable is down (adjacencies take a few hellos to come up). */
async function checkCablesUntil(sessions: Map<string, SshSession>, nodes: readonly RingVerifyNode[], mtu: number, deadline: number): Promise<CableResult[]> {
  for (;;) {
    const cables = await checkCables(sessions, nodes, mtu);
    if (cables.every((c) => c.status === "ok") || Date.now() >= deadline) return cables;
    await sleep(1000);
  }
}

async function measureLink(sessions: Map<string, SshSession>, link: RingLink, seconds: number, port: number): Promise<LinkResult | { error: string }> {
  const client = sessions.get(link.a.connection.node)!;
  const server = sessions.get(link.b.connection.node)!;
  const a = link.a.connection.node;
  const b = link.b.connection.node;
  const serverCmd = inCLocale(command("iperf3", "-s", "-1", "-D", "-B", link.b.loopback, "-p", port, "-I", PIDFILE));
  const started = await server.run(serverCmd);
  if (started.code !== 0) {
    throw new NodeError(b, `iperf3 -s failed (exit ${started.code}) while preparing the test of cable ${cableName(link)}: ${started.stderr.trim() || started.stdout.trim()}`);
  }
  try {
    // Give the daemon a moment to bind, bounded; the client has its own connect timeout too.
    await sleep(300);
    // --bind-dev (iperf3 >= 3.10; Proxmox 8 ships 3.12): across this cable only, never around
    // the ring through the third node.
    const clientCmd = inCLocale(
      command("timeout", seconds + 20, "iperf3", "-c", link.b.loopback, "-B", link.a.loopback, "--bind-dev", link.aPort, "-p", port, "-t", seconds, "-J", "--connect-timeout", 3000),
    );
    const result = await client.run(clientCmd, { timeoutMs: (seconds + 30) * 1000 });
    const parsed = parseIperf3(result.stdout);
    if ("error" in parsed || result.code !== 0) {
      // iperf3's own JSON error when it printed one, else what it (or the shell) said on stderr.
      const jsonError = "error" in parsed && result.stdout.trim().startsWith("{") ? parsed.error : undefined;
      const why = jsonError ?? (result.stderr.trim() || ("error" in parsed ? parsed.error : "(no output)"));
      return { error: `${a}: iperf3 -c ${link.b.loopback} --bind-dev ${link.aPort} failed (exit ${result.code}): ${why}` };
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

/** Each unit's enabled/active state on one node (systemctl's words: "enabled", "active"). */
async function readServices(session: SshSession, node: string, units: readonly string[]): Promise<ServiceResult[]> {
  const out: ServiceResult[] = [];
  for (const unit of units) {
    const enabled = await session.run(command("systemctl", "is-enabled", unit));
    const active = await session.run(command("systemctl", "is-active", unit));
    out.push({ node, unit, enabled: enabled.stdout.trim() === "enabled", active: active.stdout.trim() === "active" });
  }
  return out;
}

/** Enable and start what is not; read back, and fail naming the node and unit when it did not take. */
async function repairServices(sessions: Map<string, SshSession>, nodes: readonly RingVerifyNode[], units: readonly string[]): Promise<ServiceResult[]> {
  const all = await Promise.all(
    nodes.map(async (n) => {
      const node = n.connection.node;
      const session = sessions.get(node)!;
      const before = await readServices(session, node, units);
      for (const s of before) {
        if (!s.enabled) await session.check(command("systemctl", "enable", s.unit));
        if (!s.active) await session.check(command("systemctl", "start", s.unit));
      }
      if (before.every((s) => s.enabled && s.active)) return before;
      const after = await readServices(session, node, units);
      const still = after.filter((s) => !s.enabled || !s.active);
      if (still.length > 0) {
        throw new NodeError(node, `${still.map((s) => `${s.unit} is ${s.enabled ? "enabled" : "disabled"} and ${s.active ? "active" : "inactive"}`).join(", ")} after systemctl enable/start`);
      }
      return after;
    }),
  );
  return all.flat();
}

function serviceProblems(services: readonly ServiceResult[]): string[] {
  return services.flatMap((s) => [
    ...(s.active ? [] : [`${s.node}: ${s.unit} is not running`]),
    ...(s.enabled ? [] : [`${s.node}: ${s.unit} is not enabled at boot`]),
  ]);
}

/** Cable results with the stored throughput applied: a cable below minGbps is slow. */
function withThroughput(cables: CableResult[], links: readonly LinkResult[], minGbps: number): CableResult[] {
  return cables.map((c) => {
    if (c.status !== "ok") return c;
    const l = links.find((x) => x.from === c.a && x.fromPort === c.aPort);
    if (!l || l.gbps >= minGbps) return c;
    return { ...c, status: "slow", problems: [`${c.cable} measures ${l.gbps} Gbit/s, below ${minGbps} (a cable or port fallen back to a slow mode; check the cable)`] };
  });
}

function problemsOf(cables: readonly CableResult[], services: readonly ServiceResult[]): string[] {
  return [...serviceProblems(services), ...cables.filter((c) => c.status !== "ok").map((c) => `${c.cable} is ${c.status}: ${c.problems.join("; ")}`)];
}

/** Nodes no other node reaches and that reach no other node: cut off from the ring. */
function cutOff(nodes: readonly RingVerifyNode[], pairs: readonly PairResult[]): string[] {
  return nodes
    .map((n) => n.connection.node)
    .filter((node) => !pairs.some((p) => p.reachable && (p.from === node || p.to === node)));
}

function unreachableError(nodes: readonly RingVerifyNode[], pairs: PairResult[], evidence: Map<string, string>, seconds: number, cables: CableResult[]): Error {
  const bad = pairs.filter((p) => !p.reachable);
  const lines = bad.map((p) => `  - ${p.from} cannot reach ${p.to} (${p.address}): ${evidence.get(`${p.from}->${p.to}`) ?? ""}`);
  const names = bad.map((p) => `${p.from} → ${p.to}`).join(", ");
  const isolated = cutOff(nodes, pairs);
  const down = cables.filter((c) => c.status !== "ok");
  return new Error(
    `Thunderbolt ring verification failed: ${isolated.length ? `${isolated.join(", ")} cut off from the ring; ` : ""}${names} unreachable after ${seconds} s:\n${lines.join("\n")}\n` +
      (down.length ? `Cables down:\n${down.map((c) => `  - ${c.cable}: ${c.problems.join("; ")}`).join("\n")}\n` : "") +
      "Check the cables, `vtysh -c 'show openfabric neighbor'` on both ends, and that the ports are up with the ring MTU.",
  );
}

type VerifyResults = Pick<RingVerifyOutputs, "status" | "problems" | "reachability" | "cables" | "services" | "links" | "verifiedAt">;

/** The full verification (services repaired first). */
export async function verifyRing(inputs: RingVerifyInputs): Promise<VerifyResults> {
  const seconds = inputs.iperfSeconds ?? DEFAULT_SETTINGS.iperfSeconds;
  const port = inputs.iperfPort ?? DEFAULT_SETTINGS.iperfPort;
  const convergence = inputs.convergenceSeconds ?? DEFAULT_SETTINGS.convergenceSeconds;
  const minGbps = inputs.minGbps ?? DEFAULT_SETTINGS.minGbps;
  const mtu = inputs.mtu ?? DEFAULT_SETTINGS.mtu;
  return withSessions(inputs.nodes, inputs.sshPrivateKey, async (sessions) => {
    const services = await repairServices(sessions, inputs.nodes, inputs.units ?? DEFAULT_SETTINGS.units);
    const deadline = Date.now() + convergence * 1000;
    const { pairs, evidence } = await checkReachability(sessions, inputs.nodes, deadline);
    const checked = await checkCablesUntil(sessions, inputs.nodes, mtu, deadline);
    if (pairs.some((p) => !p.reachable)) throw unreachableError(inputs.nodes, pairs, evidence, convergence, checked);
    const links: LinkResult[] = [];
    const failedThroughput = new Map<string, string>();
    for (const link of ringLinks(inputs.nodes)) {
      const cable = checked.find((c) => c.a === link.a.connection.node && c.aPort === link.aPort);
      if (cable?.status !== "ok") continue;
      const measured = await measureLink(sessions, link, seconds, port);
      if ("error" in measured) failedThroughput.set(cable.cable, measured.error);
      else links.push(measured);
    }
    const cables = withThroughput(
      checked.map((c) => (failedThroughput.has(c.cable) ? { ...c, status: "down" as const, problems: [failedThroughput.get(c.cable)!] } : c)),
      links,
      minGbps,
    );
    const problems = problemsOf(cables, services);
    return { status: problems.length ? "degraded" : "healthy", problems, reachability: pairs, cables, services, links, verifiedAt: new Date().toISOString() };
  });
}

/** Keep the stored pair (its round trip) when reachability did not change, so refresh shows real drift only. */
function keepStoredRtt(stored: readonly PairResult[] | undefined, fresh: PairResult[]): PairResult[] {
  return fresh.map((p) => stored?.find((s) => s.from === p.from && s.to === p.to && s.reachable === p.reachable) ?? p);
}

/** What refresh sees: services, reachability (one round), each cable's link and adjacency; throughput as last measured. */
export async function observeRing(props: RingVerifyOutputs): Promise<Omit<VerifyResults, "links" | "verifiedAt">> {
  return withSessions(props.nodes, props.sshPrivateKey, async (sessions) => {
    const services = (
      await Promise.all(props.nodes.map((n) => readServices(sessions.get(n.connection.node)!, n.connection.node, props.units ?? DEFAULT_SETTINGS.units)))
    ).flat();
    const { pairs } = await checkReachability(sessions, props.nodes, 0);
    const cables = withThroughput(await checkCables(sessions, props.nodes, props.mtu ?? DEFAULT_SETTINGS.mtu), props.links ?? [], props.minGbps ?? DEFAULT_SETTINGS.minGbps);
    const isolated = cutOff(props.nodes, pairs);
    const problems = [...isolated.map((n) => `${n} is cut off from the ring`), ...problemsOf(cables, services)];
    const status = isolated.length ? "failed" : problems.length ? "degraded" : "healthy";
    return { status, problems, reachability: keepStoredRtt(props.reachability, pairs), cables, services };
  });
}

/**
 * Each cable's state and throughput, changing nothing (no service repaired): what an operator's
 * verify reports. A cable whose ports or adjacency are wrong is not measured; a slow one is "slow".
 */
export async function measureRing(inputs: RingVerifyInputs): Promise<{ cables: CableResult[]; links: LinkResult[] }> {
  const seconds = inputs.iperfSeconds ?? DEFAULT_SETTINGS.iperfSeconds;
  const port = inputs.iperfPort ?? DEFAULT_SETTINGS.iperfPort;
  return withSessions(inputs.nodes, inputs.sshPrivateKey, async (sessions) => {
    const checked = await checkCables(sessions, inputs.nodes, inputs.mtu ?? DEFAULT_SETTINGS.mtu);
    const links: LinkResult[] = [];
    const failed = new Map<string, string>();
    for (const link of ringLinks(inputs.nodes)) {
      const cable = checked.find((c) => c.a === link.a.connection.node && c.aPort === link.aPort);
      if (cable?.status !== "ok") continue;
      const measured = await measureLink(sessions, link, seconds, port);
      if ("error" in measured) failed.set(cable.cable, measured.error);
      else links.push(measured);
    }
    const cables = withThroughput(
      checked.map((c) => (failed.has(c.cable) ? { ...c, status: "down" as const, problems: [failed.get(c.cable)!] } : c)),
      links,
      inputs.minGbps ?? DEFAULT_SETTINGS.minGbps,
    );
    return { cables, links };
  });
}

function warnIfDegraded(results: VerifyResults): void {
  if (results.status === "degraded") {
    void pulumi.log.warn(`Thunderbolt ring degraded (every node still reaches every other): ${results.problems.join("; ")}`);
  }
}

export const ringVerifyProvider: pulumi.dynamic.ResourceProvider<RingVerifyInputs, RingVerifyOutputs> = {
  async create(inputs) {
    const results = await verifyRing(inputs);
    warnIfDegraded(results);
    return { id: `ring:${inputs.nodes.map((n) => n.connection.node).join(",")}`, outs: { ...inputs, ...results } };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    // Never throwing: refresh shows a broken ring, a stopped FRR or a dead cable as drift.
    return { id, props: { ...props, ...(await observeRing(props)) } };
  },

  async diff(_id, olds, news) {
    const settings = (i: RingVerifyInputs) =>
      JSON.stringify([
        (i.nodes ?? []).map((n) => [n.connection?.node, n.connection?.host, n.loopback, n.ports]),
        i.trigger ?? null,
        i.iperfSeconds ?? DEFAULT_SETTINGS.iperfSeconds,
        i.iperfPort ?? DEFAULT_SETTINGS.iperfPort,
        i.convergenceSeconds ?? DEFAULT_SETTINGS.convergenceSeconds,
        i.minGbps ?? DEFAULT_SETTINGS.minGbps,
        i.mtu ?? DEFAULT_SETTINGS.mtu,
        i.units ?? DEFAULT_SETTINGS.units,
        i.providerVersion,
      ]);
    const unknown = isUnknown(news);
    const changes =
      unknown ||
      news.verifyOnEveryUp === true ||
      // A refresh found the ring degraded (or the last up did): repair and re-check.
      (olds as Partial<RingVerifyOutputs>).status !== "healthy" ||
      (olds.verifyOnEveryUp ?? false) !== (news.verifyOnEveryUp ?? false) ||
      settings(olds) !== settings(news) ||
      JSON.stringify(olds.nodes?.map((n) => n.connection)) !== JSON.stringify(news.nodes?.map((n) => n.connection));
    return { changes, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const results = await verifyRing(news);
    warnIfDegraded(results);
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
  /** Seconds pings and cable checks are retried while routing converges. Defaults to 30. */
  convergenceSeconds?: pulumi.Input<number>;
  /** A cable below this many Gbit/s is reported slow (ring degraded). Defaults to 15. */
  minGbps?: pulumi.Input<number>;
  /** MTU both ends of every cable must have. Defaults to 65520. */
  mtu?: pulumi.Input<number>;
  /** Units enabled and running on every ring node (repaired by create/update). Defaults to ["frr.service"]. */
  units?: pulumi.Input<string[]>;
}

/** Registered as `pulumi-nodejs:dynamic/network:RingVerify`. */
export class RingVerify extends pulumi.dynamic.Resource {
  declare readonly status: pulumi.Output<"healthy" | "degraded" | "failed">;
  declare readonly problems: pulumi.Output<string[]>;
  declare readonly reachability: pulumi.Output<PairResult[]>;
  declare readonly cables: pulumi.Output<CableResult[]>;
  declare readonly services: pulumi.Output<ServiceResult[]>;
  declare readonly links: pulumi.Output<LinkResult[]>;
  declare readonly verifiedAt: pulumi.Output<string>;

  constructor(name: string, args: RingVerifyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ringVerifyProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, RING_VERIFY_PROVIDER_VERSION),
        status: undefined,
        problems: undefined,
        reachability: undefined,
        cables: undefined,
        services: undefined,
        links: undefined,
        verifiedAt: undefined,
      },
      sshResourceOptions(opts),
      "network",
      "RingVerify",
    );
  }
}
