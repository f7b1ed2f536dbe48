/**
 * The failover drill: take one node down, confirm HA restarts its guests on
 * the others within a bound and Ceph still takes writes, bring the node back,
 * wait for quorum with every member and HEALTH_OK. Each step is reported with
 * its time. The node is brought back even when a step in between failed.
 *
 * Powering a node off and on is injected: the simulator stops and starts it;
 * on real hardware the default tells the operator which node to power off (or
 * on) and waits until it stops (or starts) answering SSH.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";
import { parseHaStatus, type HaServiceStatus } from "../../../infra/parse/ha";
import { NodeConnection, sshOptions, sshTarget } from "../../../infra/providers/connection";
import { openFirst } from "../../../infra/providers/sessions";
import { command, inCLocale } from "../../../infra/shell";
import { SshSession, connect } from "../../../infra/ssh";
import { nodeConnection } from "../../../stacks/connections";
import type { Environment } from "../../../stacks/schema";
import { cephHealthStep, readCephHealth, readCluster } from "./health";
import { StepOutcome, VerifyStep, pollUntil, step } from "./steps";

/** How long each wait may take. */
export interface DrillBounds {
  /** Until the node stops answering after power-off, and the cluster sees it gone. Defaults to 300 s. */
  nodeDownSeconds?: number;
  /** Until HA has every guest of the node started elsewhere. Defaults to 300 s (PVE fences after about 2 min). */
  haRecoverySeconds?: number;
  /** Until the node answers SSH again and rejoins. Defaults to 600 s. */
  nodeUpSeconds?: number;
  /** Until Ceph is HEALTH_OK again after the node is back. Defaults to 900 s. */
  cephHealthySeconds?: number;
  /** Between polls. Defaults to 2 s. */
  pollSeconds?: number;
  /** One write to Ceph while the node is down. Defaults to 30 s. */
  cephWriteSeconds?: number;
}

export interface DrillOptions {
  /** The node to take down. Defaults to the node running the most HA guests. */
  drillNode?: string;
  /** Power the node off (the simulator stops it); defaults to asking the operator. */
  powerOff?: (node: string) => Promise<void>;
  /** Power it back on; defaults to asking the operator. */
  powerOn?: (node: string) => Promise<void>;
  /** How the default power steps talk to the operator; defaults to stderr. */
  prompt?: (message: string) => Promise<void>;
  bounds?: DrillBounds;
}

const DEFAULT_BOUNDS: Required<DrillBounds> = { nodeDownSeconds: 300, haRecoverySeconds: 300, nodeUpSeconds: 600, cephHealthySeconds: 900, pollSeconds: 2, cephWriteSeconds: 30 };

/** Does anything accept TCP on the node's SSH port? */
function answers(c: NodeConnection, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: c.host, port: c.port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/** Does the node accept our SSH login with its pinned host key? */
async function loginWorks(c: NodeConnection, key: string | undefined): Promise<boolean> {
  try {
    const args = { connection: { ...c, options: { ...c.options, retries: 0 } }, sshPrivateKey: key };
    (await connect(sshTarget(args), sshOptions(args))).close();
    return true;
  } catch {
    return false;
  }
}

async function haServices(session: SshSession): Promise<HaServiceStatus[]> {
  const out = await session.check(inCLocale(command("pvesh", "get", "/cluster/ha/status/current", "--output-format", "json")));
  return parseHaStatus(out.stdout, session.node).services;
}

/** The node running the most started HA guests (ties: by name), else the last node. */
export function chooseDrillNode(env: Environment, services: readonly HaServiceStatus[]): string {
  const names = env.nodes.map((n) => n.name);
  const count = (n: string) => services.filter((s) => s.node === n).length;
  const busiest = [...names].sort((a, b) => count(b) - count(a) || a.localeCompare(b))[0];
  return count(busiest) > 0 ? busiest : names[names.length - 1];
}

export async function runDrill(env: Environment, sshPrivateKey: string | undefined, options: DrillOptions): Promise<VerifyStep[]> {
  const b = { ...DEFAULT_BOUNDS, ...options.bounds };
  const pollMs = b.pollSeconds * 1000;
  const prompt = options.prompt ?? (async (m: string) => void process.stderr.write(`${m}\n`));
  const steps: VerifyStep[] = [];
  const conns = env.nodes.map((n) => ({ connection: nodeConnection(env, n) }));

  // Preconditions, read through the first node that answers.
  const first = await openFirst(conns, sshPrivateKey);
  if (!first.session) {
    return [{ name: "drill:preconditions", ok: false, detail: `no node answers: ${first.failures.map((f) => f.message).join("; ")}`, durationSeconds: 0 }];
  }
  let drillNode = options.drillNode ?? "";
  let guests: string[] = [];
  const pre = await step("drill:preconditions", first.session.node, async (): Promise<StepOutcome> => {
    const cluster = await readCluster(first.session!, env);
    if (!cluster.ok) return { ok: false, detail: `refusing to take a node down: ${cluster.detail}`, fix: "run the drill on a healthy cluster only" };
    if (env.ceph) {
      const health = await readCephHealth(first.session!);
      if (health.status !== "HEALTH_OK") return { ok: false, detail: `refusing to take a node down: Ceph is ${health.status}`, fix: "wait for HEALTH_OK (verify without --drill) before the drill" };
    }
    const services = (await haServices(first.session!)).filter((s) => s.state === "started");
    drillNode ||= chooseDrillNode(env, services);
    if (!env.nodes.some((n) => n.name === drillNode)) return { ok: false, detail: `${drillNode} is not a node of ${env.name}` };
    guests = services.filter((s) => s.node === drillNode).map((s) => s.sid).sort();
    return { ok: true, detail: `taking ${drillNode} down; HA guests there: ${guests.join(", ") || "none"}` };
  });
  first.session.close();
  steps.push(pre);
  if (!pre.ok) return steps;

  const target = conns.find((c) => c.connection.node === drillNode)!.connection;
  const survivors = conns.filter((c) => c.connection.node !== drillNode);
  const powerOff = options.powerOff ?? (async (n: string) => prompt(`Power off ${n} now (${target.host}); waiting until it stops answering`));
  const powerOn = options.powerOn ?? (async (n: string) => prompt(`Power ${n} back on (${target.host}); waiting until it answers again`));

  steps.push(
    await step("drill:power-off", drillNode, async () => {
      await powerOff(drillNode);
      const gone = await pollUntil(() => answers(target), (up) => !up, b.nodeDownSeconds * 1000, pollMs);
      return gone.done
        ? { ok: true, detail: `${drillNode} stopped answering at ${target.host}:${target.port}` }
        : { ok: false, detail: `${drillNode} still answers at ${target.host}:${target.port} after ${b.nodeDownSeconds} s`, fix: `power ${drillNode} off (hold its power button)` };
    }),
  );

  try {
    if (!steps[steps.length - 1].ok) return steps;
    const opened = await openFirst(survivors, sshPrivateKey);
    if (!opened.session) {
      steps.push({ name: "drill:quorum", ok: false, detail: `no other node answers: ${opened.failures.map((f) => f.message).join("; ")}`, durationSeconds: 0 });
      return steps;
    }
    const session = opened.session;
    try {
      steps.push(
        await step("drill:quorum", session.node, async () => {
          const seen = await pollUntil(() => readCluster(session, env, drillNode), (c) => c.offline.includes(drillNode) && c.quorate, b.nodeDownSeconds * 1000, pollMs);
          return seen.done
            ? { ok: true, detail: `${session.node}: quorate without ${drillNode}` }
            : { ok: false, detail: `${session.node}: ${seen.value.detail}`, fix: "a cluster that loses quorum with one node down has too few votes: add a node or a QDevice" };
        }),
      );
      for (const sid of guests) {
        steps.push(
          await step("drill:ha-recovery", drillNode, async () => {
            const find = async () => (await haServices(session)).find((s) => s.sid === sid);
            const seen = await pollUntil(find, (s) => !!s && s.node !== drillNode && s.state === "started", b.haRecoverySeconds * 1000, pollMs);
            if (seen.done) return { ok: true, detail: `${sid} restarted on ${seen.value!.node} (it ran on ${drillNode})` };
            const where = seen.value ? `${seen.value.node} (${seen.value.state})` : "nowhere (no HA service status)";
            return {
              ok: false,
              detail: `${sid} did not restart on another node within ${b.haRecoverySeconds} s after ${drillNode} went down: HA status shows it on ${where}`,
              fix: `check \`ha-manager status\` on ${session.node}: its placement must allow another online node, and the guest's disks must be on shared storage (Ceph)`,
            };
          }),
        );
      }
      if (env.ceph && env.ceph.pools.length > 0) {
        const pool = env.ceph.pools[0].name;
        steps.push(
          await step("drill:ceph-writable", session.node, async () => {
            const obj = `homelab-drill-${drillNode}-${crypto.randomBytes(4).toString("hex")}`;
            const timeout = (what: string) => inCLocale(command("timeout", b.cephWriteSeconds, "rados", "-p", pool, ...what.split(" "), obj));
            const put = await session.run(`${timeout("put")} -`, { stdin: `written by the failover drill while ${drillNode} was down\n` });
            if (put.code !== 0) {
              const why = put.code === 124 ? `the write blocked for ${b.cephWriteSeconds} s (PGs not active: fewer hosts up than min_size?)` : put.stderr.trim() || `exit ${put.code}`;
              return { ok: false, detail: `${session.node}: rados -p ${pool} put failed while ${drillNode} is down: ${why}`, fix: `\`ceph health detail\` and \`ceph osd pool get ${pool} min_size\`: a pool must keep min_size replicas with one host down` };
            }
            await session.check(timeout("rm"));
            const health = await readCephHealth(session);
            return { ok: true, detail: `${session.node}: wrote and removed an object in pool ${pool} while ${drillNode} was down (Ceph ${health.status})` };
          }),
        );
      }
    } finally {
      session.close();
    }
  } finally {
    steps.push(
      await step("drill:power-on", drillNode, async () => {
        await powerOn(drillNode);
        const back = await pollUntil(() => loginWorks(target, sshPrivateKey), (ok) => ok, b.nodeUpSeconds * 1000, pollMs);
        return back.done
          ? { ok: true, detail: `${drillNode} answers SSH again with its pinned host key` }
          : { ok: false, detail: `${drillNode} does not answer SSH after ${b.nodeUpSeconds} s`, fix: `check ${drillNode}'s console` };
      }),
    );
  }
  if (!steps[steps.length - 1].ok) return steps;

  const opened = await openFirst(conns, sshPrivateKey);
  if (!opened.session) return [...steps, { name: "drill:rejoin", ok: false, detail: "no node answers", durationSeconds: 0 }];
  const session = opened.session;
  try {
    steps.push(
      await step("drill:rejoin", session.node, async () => {
        const seen = await pollUntil(() => readCluster(session, env), (c) => c.ok, b.nodeUpSeconds * 1000, pollMs);
        return seen.done ? { ok: true, detail: `${seen.value.detail}` } : { ...seen.value, ok: false };
      }),
    );
    if (env.ceph) {
      steps.push(
        await step("drill:ceph-health-ok", session.node, async () => {
          const seen = await pollUntil(() => cephHealthStep(session), (h) => h.ok, b.cephHealthySeconds * 1000, pollMs);
          return seen.done ? seen.value : { ...seen.value, detail: `not HEALTH_OK ${b.cephHealthySeconds} s after ${drillNode} came back: ${seen.value.detail}` };
        }),
      );
    }
  } finally {
    session.close();
  }
  return steps;
}
