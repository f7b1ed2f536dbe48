/**
 * The read-only health of a running environment, as verify steps: the
 * cluster quorate with every member online, Ceph HEALTH_OK with the capacity
 * of each pool, each Thunderbolt cable's throughput, every HA resource where
 * its placement allows. Readings go through the parsers the providers use.
 */
import { parseClusterStatus } from "../../../infra/parse/cluster";
import { CephHealth, parseCephDf, parseCephHealth } from "../../../infra/parse/ceph";
import { describeHealth } from "../../../infra/providers/ceph/ceph-health";
import { nodeConnection } from "../../../stacks/connections";
import { measureRing, type RingVerifyNode } from "../../../infra/providers/network/ring-verify";
import { command, inCLocale } from "../../../infra/shell";
import type { SshSession } from "../../../infra/ssh";
import type { Environment } from "../../../stacks/schema";
import { collectHaSnapshot } from "./ha";
import { checkHaPlacement } from "./ha-plan";
import { StepOutcome, VerifyStep, step } from "./steps";

/** What /cluster/status says, judged against the configured members (`down` may be offline). */
export async function readCluster(session: SshSession, env: Environment, down?: string): Promise<StepOutcome & { quorate: boolean; offline: string[] }> {
  const status = parseClusterStatus((await session.check(inCLocale(command("pvesh", "get", "/cluster/status", "--output-format", "json")))).stdout, session.node);
  const members = new Map(status.nodes.map((n) => [n.name, n]));
  const missing = env.nodes.map((n) => n.name).filter((n) => !members.has(n));
  const offline = status.nodes.filter((n) => !n.online).map((n) => n.name).sort();
  const unexpected = offline.filter((n) => n !== down);
  const ok = status.quorate && missing.length === 0 && unexpected.length === 0;
  const seen = `${status.clusterName ?? "no cluster"}: ${status.quorate ? "quorate" : "NOT quorate"}, online ${status.nodes.filter((n) => n.online).map((n) => n.name).sort().join(", ") || "none"}` +
    (offline.length ? `, offline ${offline.join(", ")}` : "");
  const problems = [
    ...(status.quorate ? [] : ["the cluster has no quorum"]),
    ...(missing.length ? [`${missing.join(", ")} not a member`] : []),
    ...(unexpected.length ? [`${unexpected.join(", ")} offline`] : []),
  ];
  return {
    quorate: status.quorate,
    offline,
    ok,
    detail: ok ? `${session.node}: ${seen}` : `${session.node}: ${problems.join("; ")} (${seen})`,
    ...(ok ? {} : { fix: "bring the offline nodes back (power, network, `systemctl status corosync pve-cluster` on them); `pvecm status` shows the votes" }),
  };
}

function cephJson(...args: string[]): string {
  return inCLocale(command("ceph", ...args, "--conf", "/etc/pve/ceph.conf", "--connect-timeout", 15, "-f", "json"));
}

export async function readCephHealth(session: SshSession): Promise<CephHealth> {
  return parseCephHealth((await session.check(cephJson("health", "detail"))).stdout, session.node);
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export async function cephHealthStep(session: SshSession): Promise<StepOutcome> {
  const health = await readCephHealth(session);
  if (health.status === "HEALTH_OK") return { ok: true, detail: `${session.node}: HEALTH_OK` };
  return { ok: false, detail: `${session.node}: ${describeHealth(health)}`, fix: "`ceph health detail` on any node says what each check means; fix the down OSDs/monitors first" };
}

export async function cephCapacityStep(session: SshSession): Promise<StepOutcome> {
  const df = parseCephDf((await session.check(cephJson("df"))).stdout, session.node);
  const pools = df.pools.map((p) => `${p.name} ${bytes(p.storedBytes)} stored, ${bytes(p.maxAvailBytes)} available (${(p.percentUsed * 100).toFixed(1)}% used)`);
  return { ok: true, detail: `${session.node}: raw ${bytes(df.usedBytes)} of ${bytes(df.totalBytes)} used; ${pools.join("; ") || "no pools"}` };
}

/** One step per HA resource: running where its placement allows. */
export async function haSteps(session: SshSession): Promise<VerifyStep[]> {
  const start = Date.now();
  const checks = checkHaPlacement(await collectHaSnapshot(session));
  const seconds = Math.round(Date.now() - start) / 1000;
  if (checks.length === 0) return [{ name: "ha-placement", ok: true, detail: `${session.node}: no HA resources`, durationSeconds: seconds }];
  return checks.map((c) => ({
    name: "ha-placement",
    ...(c.node ? { node: c.node } : {}),
    ok: c.ok,
    detail: c.ok ? `${c.sid} on ${c.node} (${c.state}), allowed: ${c.allowed.join(", ")}` : c.reason ?? `${c.sid} is misplaced`,
    ...(c.ok ? {} : { fix: `\`ha-manager status\` shows why; \`ha-manager migrate ${c.sid} <node>\` moves it to an allowed node` }),
    durationSeconds: seconds,
  }));
}

/** The ring's nodes as the ring verification takes them. */
export function ringNodes(env: Environment): RingVerifyNode[] {
  return env.nodes
    .filter((n) => n.thunderbolt)
    .map((n) => ({ connection: nodeConnection(env, n), loopback: n.thunderbolt!.loopback, ports: n.thunderbolt!.ports.map((p) => ({ name: p.name, peer: p.peer })) }));
}

/** One step per cable: its throughput, or why it could not be measured. */
export async function ringSteps(env: Environment, sshPrivateKey: string | undefined, iperfSeconds?: number): Promise<VerifyStep[]> {
  const tb = env.thunderbolt!;
  const start = Date.now();
  const { cables, links } = await measureRing({
    providerVersion: "verify",
    nodes: ringNodes(env),
    sshPrivateKey,
    mtu: tb.mtu,
    iperfSeconds: iperfSeconds ?? tb.verify.iperfSeconds,
    ...(tb.verify.minGbps !== undefined ? { minGbps: tb.verify.minGbps } : {}),
  });
  const seconds = Math.round(Date.now() - start) / 1000;
  return cables.map((c) => {
    const l = links.find((x) => x.from === c.a && x.fromPort === c.aPort);
    const measured = l ? `${l.gbps} Gbit/s${l.retransmits !== undefined ? `, ${l.retransmits} retransmits` : ""}` : "not measured";
    return {
      name: "ring-link",
      node: c.a,
      ok: c.status === "ok",
      detail: c.status === "ok" ? `${c.cable}: ${measured}` : `${c.cable} is ${c.status}: ${c.problems.join("; ")}`,
      ...(c.status === "ok" ? {} : { fix: `check the cable and both ports (\`ip link\`, \`vtysh -c 'show openfabric neighbor'\` on ${c.a} and ${c.b})` }),
      durationSeconds: seconds,
    };
  });
}

/** Every health step in order, reading through `session` (one node that answers). */
export async function healthSteps(session: SshSession, env: Environment, sshPrivateKey: string | undefined, iperfSeconds?: number): Promise<VerifyStep[]> {
  const steps: VerifyStep[] = [];
  if (env.cluster) steps.push(await step("cluster", session.node, () => readCluster(session, env)));
  if (env.ceph) {
    steps.push(await step("ceph-health", session.node, () => cephHealthStep(session)));
    steps.push(await step("ceph-capacity", session.node, () => cephCapacityStep(session)));
  }
  if (env.thunderbolt && env.nodes.some((n) => n.thunderbolt)) {
    const start = Date.now();
    try {
      steps.push(...(await ringSteps(env, sshPrivateKey, iperfSeconds)));
    } catch (err) {
      steps.push({ name: "ring-link", ok: false, detail: (err as Error).message, durationSeconds: Math.round(Date.now() - start) / 1000 });
    }
  }
  if (env.cluster) {
    const start = Date.now();
    try {
      steps.push(...(await haSteps(session)));
    } catch (err) {
      steps.push({ name: "ha-placement", node: session.node, ok: false, detail: (err as Error).message, durationSeconds: Math.round(Date.now() - start) / 1000 });
    }
  }
  return steps;
}
