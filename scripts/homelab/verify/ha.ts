/**
 * The HA verification over SSH: the placement check of every HA resource
 * (verify's `ha-placement` steps) and the live migration of a test VM
 * (`scripts/ha-verify.ts --migrate`, whose header says how each kind of VM is
 * migrated). The decisions live in ./ha-plan.ts.
 */
import { parseHaResources, parseHaRules, parseHaStatus } from "../../../infra/parse/ha";
import { parseGuests } from "../../../infra/parse/cluster";
import { sleep } from "../../../infra/providers/diff";
import { detectHaMode } from "../../../infra/providers/proxmox/ha";
import { command, inCLocale } from "../../../infra/shell";
import { CommandResult, SshOptions, SshSession, SshTarget, withSession } from "../../../infra/ssh";
import {
  ClusterMember,
  HaSnapshot,
  MigrationOutcome,
  MigrationPlan,
  MigrationResult,
  TaskEntry,
  allowedNodes,
  checkHaPlacement,
  haMigrationStep,
  migrationError,
  newestNewTask,
  parseClusterMembers,
  parseMigrationLog,
  parseTaskList,
  parseTaskLog,
  planMigration,
  taskFailed,
  verifyReport,
} from "./ha-plan";

/** Cluster members with their online flag, from `/cluster/status`. */
export async function clusterMembers(session: SshSession): Promise<ClusterMember[]> {
  const out = await session.check(inCLocale(command("pvesh", "get", "/cluster/status", "--output-format", "json")));
  return parseClusterMembers(out.stdout, session.node);
}

/** Cluster member names from `/cluster/status`. */
export async function clusterNodes(session: SshSession): Promise<string[]> {
  return (await clusterMembers(session)).map((m) => m.name);
}

/** Everything the HA check needs, read from one node (read-only commands only). */
export async function collectHaSnapshot(session: SshSession): Promise<HaSnapshot> {
  const nodes = await clusterNodes(session);
  const { mode, groups } = await detectHaMode(session);
  const status = await haStatus(session);
  const resources = parseHaResources(
    (await session.check(inCLocale(command("pvesh", "get", "/cluster/ha/resources", "--output-format", "json")))).stdout,
    session.node,
  );
  const rules =
    mode === "rule"
      ? parseHaRules((await session.check(inCLocale(command("ha-manager", "rules", "config", "--output-format", "json")))).stdout, session.node)
      : undefined;
  return { nodes, status, resources, groups, rules };
}

async function haStatus(session: SshSession) {
  return parseHaStatus((await session.check(inCLocale(command("pvesh", "get", "/cluster/ha/status/current", "--output-format", "json")))).stdout, session.node);
}

/** Where a VM runs and its status, from `/cluster/resources --type vm`. */
export async function vmInfo(session: SshSession, vmid: number): Promise<{ node: string; status?: string }> {
  const out = await session.check(inCLocale(command("pvesh", "get", "/cluster/resources", "--type", "vm", "--output-format", "json")));
  const hit = parseGuests(out.stdout, session.node).find((g) => g.vmid === vmid);
  if (!hit?.node) throw new Error(`${session.node}: VM ${vmid} does not exist in the cluster (pvesh get /cluster/resources)`);
  return { node: hit.node, ...(typeof hit.status === "string" ? { status: hit.status } : {}) };
}

/** Where a VM runs, from `/cluster/resources --type vm`. */
export async function vmNode(session: SshSession, vmid: number): Promise<string> {
  return (await vmInfo(session, vmid)).node;
}

/** The VM's qmigrate tasks on `node` (running and finished), newest first. */
export async function migrateTasks(session: SshSession, node: string, vmid: number): Promise<TaskEntry[]> {
  const argv = ["pvesh", "get", `/nodes/${node}/tasks`, "--typefilter", "qmigrate", "--vmid", vmid, "--source", "all", "--limit", 50, "--output-format", "json"];
  return parseTaskList((await session.check(inCLocale(command(...argv)))).stdout, session.node);
}

/** The whole log of a task on `node`. */
export async function taskLog(session: SshSession, node: string, upid: string): Promise<string> {
  const argv = ["pvesh", "get", `/nodes/${node}/tasks/${upid}/log`, "--start", 0, "--limit", 100000, "--output-format", "json"];
  return parseTaskLog((await session.check(inCLocale(command(...argv)))).stdout, session.node);
}

/** Run `qm migrate <vmid> <target> --online` on the VM's node; its stdout is the task log. */
export async function migrate(session: SshSession, plan: MigrationPlan, timeoutMs = 30 * 60_000): Promise<CommandResult> {
  return session.run(inCLocale(command("qm", "migrate", plan.vmid, plan.target, "--online")), { timeoutMs });
}

/** Options of one verify run. */
export interface VerifyOptions {
  /** VMID to live-migrate. No migration when absent. */
  migrate?: number;
  /** Target node. Defaults to the first suitable online member (inside the VM's HA placement). */
  target?: string;
  /** Fail when QEMU reports a longer downtime. No limit by default. */
  maxDowntimeMs?: number;
  /** How long to wait for HA to finish a migration. Defaults to 5 minutes. */
  haTimeoutMs?: number;
  /** How often HA status is polled meanwhile. Defaults to 2 s. */
  haPollMs?: number;
  /** Timeout of `qm migrate`. Defaults to 30 minutes. */
  migrateTimeoutMs?: number;
  /** SSH connection options. */
  ssh?: SshOptions;
}

/**
 * Wait until HA has the service started on the target, then read the log of the qmigrate task
 * the CRM ran on the source node (the first one not in `before`).
 */
async function awaitHaMigration(session: SshSession, plan: MigrationPlan, before: readonly string[], requested: string, options: VerifyOptions): Promise<MigrationResult> {
  const sid = `vm:${plan.vmid}`;
  const timeoutMs = options.haTimeoutMs ?? 5 * 60_000;
  const pollMs = Math.max(1, options.haPollMs ?? 2000);
  const deadline = Date.now() + timeoutMs;
  const fromTask = async (task: TaskEntry): Promise<MigrationResult> => {
    const result = parseMigrationLog(await taskLog(session, plan.source, task.upid));
    if (result.ok) return result;
    return { ...result, error: `${plan.source}: qmigrate task ${task.upid} failed: ${result.error ?? task.status ?? "no success line in its log"}` };
  };
  for (;;) {
    const step = haMigrationStep(await haStatus(session), sid, plan);
    if (step.done) break;
    if (step.failed) throw new Error(`${session.node}: after ${requested}: ${step.failed}`);
    if (!step.moving) {
      // back on the source after a failed attempt? Then its task says why.
      const task = newestNewTask(before, await migrateTasks(session, plan.source, plan.vmid));
      if (task && taskFailed(task)) return fromTask(task);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(
        `${session.node}: ${requested}: ${sid} is not started on ${plan.target} after ${timeoutMs / 1000} s; ` +
          `pvesh get /cluster/ha/status/current shows it on ${step.where}`,
      );
    }
    await sleep(Math.min(pollMs, left));
  }
  let task = newestNewTask(before, await migrateTasks(session, plan.source, plan.vmid));
  while (task && task.endtime === undefined && Date.now() < deadline) {
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    task = newestNewTask(before, await migrateTasks(session, plan.source, plan.vmid));
  }
  if (!task) return { ok: true }; // moved, but no task log to read the downtime from
  return fromTask(task);
}

/** Live-migrate one VM as the options say; never throws for a failed or refused migration. */
export async function verifyMigration(session: SshSession, vmid: number, options: VerifyOptions): Promise<MigrationOutcome> {
  let plan: MigrationPlan | undefined;
  const maxDowntimeMs = options.maxDowntimeMs;
  try {
    const members = await clusterMembers(session);
    const vm = await vmInfo(session, vmid);
    const snap = await collectHaSnapshot(session);
    const sid = `vm:${vmid}`;
    const res = snap.resources.find((r) => r.sid === sid);
    const ha = res && res.state !== "ignored" ? { sid, ...allowedNodes(sid, snap) } : undefined;
    const names = members.map((m) => m.name);
    const online = members.filter((m) => m.online).map((m) => m.name);
    try {
      plan = planMigration(vmid, vm.node, names, options.target, { online, ha, status: vm.status });
    } catch (e) {
      throw new Error(`${session.node}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (plan.viaHa) {
      const before = (await migrateTasks(session, plan.source, vmid)).map((t) => t.upid);
      const requested = `ha-manager migrate ${sid} ${plan.target}`;
      await session.check(inCLocale(command("ha-manager", "migrate", sid, plan.target)));
      return { plan, result: await awaitHaMigration(session, plan, before, requested, options), maxDowntimeMs };
    }
    if (plan.source !== session.node) {
      throw new Error(`${session.node}: VM ${vmid} runs on ${plan.source}; qm migrate runs on the VM's node, so connect to ${plan.source} (--node/--host)`);
    }
    const before = (await migrateTasks(session, plan.source, vmid)).map((t) => t.upid);
    const r = await migrate(session, plan, options.migrateTimeoutMs);
    if (r.code === 0 && /^Requesting HA migration/m.test(r.stdout)) {
      // it became HA-managed meanwhile: the CRM does the work
      plan = { ...plan, viaHa: true };
      return { plan, result: await awaitHaMigration(session, plan, before, `qm migrate ${vmid} ${plan.target} --online`, options), maxDowntimeMs };
    }
    const result = parseMigrationLog(`${r.stdout}\n${r.stderr}`);
    if (r.code !== 0 || !result.ok) {
      const why = migrationError(r.stdout) ?? (r.stderr.trim() || "no success line in its output");
      return { plan, result: { ...result, ok: false, error: `${session.node}: qm migrate ${vmid} ${plan.target} --online failed (exit ${r.code}): ${why}` }, maxDowntimeMs };
    }
    return { plan, result, maxDowntimeMs };
  } catch (e) {
    return { vmid, plan, error: e instanceof Error ? e.message : String(e), maxDowntimeMs };
  }
}

/** One verify run on the node `target` names: the optional migration, then the placement check. */
export async function runVerify(target: SshTarget, options: VerifyOptions = {}): Promise<{ text: string; failed: boolean }> {
  return withSession(
    target,
    async (session) => {
      const migration = options.migrate === undefined ? undefined : await verifyMigration(session, options.migrate, options);
      return verifyReport(checkHaPlacement(await collectHaSnapshot(session)), migration);
    },
    options.ssh,
  );
}

