/**
 * CephPool: one replicated Ceph pool (`pulumi-nodejs:dynamic/ceph:Pool`),
 * optionally added as a Proxmox RBD storage.
 *
 * Why pveceph over SSH and not the native `proxmoxve.ceph.Pool`: the native
 * resource is marked experimental and has no parity with
 * `pveceph pool create --add_storages` (domain-notes.md), it cannot create the
 * device-class CRUSH rule a pool needs, and it cannot run the checks below
 * against the live OSD map before changing anything.
 *
 * Validation before any command (in `check` and again before converging):
 * min_size ≤ size, size ≤ number of hosts with OSDs (input `osdHosts`, and
 * re-checked live from `ceph osd tree`), size 1 only with
 * `allowSingleReplica` (which also sets `mon_allow_pool_size_one` and
 * `osd_crush_chooseleaf_type 0` in the Ceph config database).
 *
 * `pveceph pool create|set|destroy` are worker commands that exit 0 even when
 * the task fails (pve-cli.md §0.2, §2.6): any stderr is treated as failure and
 * the end state is verified by reading the pool back.
 *
 * Changes Ceph can apply in place (size, min_size, pg_num, autoscale mode,
 * application, CRUSH rule / device class) are an update with
 * `pveceph pool set`. A rename is a replacement, refused unless
 * `allowDataLoss` is true. Delete leaves the pool (and its data) alone unless
 * `destroyOnDelete` is true; then `pveceph pool destroy <name> --remove_storages 1`.
 * Note: on a replacement the old pool is destroyed only if the OLD resource
 * already had `destroyOnDelete: true` (delete only sees the old state).
 */
import * as pulumi from "@pulumi/pulumi";
import { CrushRule, LivePool, TreeOsd, configValue, hostsWithOsds, parseCrushRules, parseOsdTreeJson, parsePveCephPoolLs, rbdStoragesOfPool } from "../../parse/ceph-osd";
import { command, inCLocale } from "../../shell";
import { CommandFailedError, CommandResult, SshSession, withSession } from "../../ssh";
import { ConnectionArgs, NodeConnection, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { describeError } from "../../errors";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const CEPH_POOL_PROVIDER_VERSION = "1";


const POOL_APPLICATIONS = ["rbd", "cephfs", "rgw"];

// Module-private for provider code (the closure serializer mis-captures a module's own exports).
const MAX_SIZE = 7;

/** Replica counts pveceph accepts (`--size` and `--min_size` are 1-7 in its API schema). */
export const POOL_MAX_SIZE = MAX_SIZE;

/**
 * A pool's settings, resolved: the stack schema (stacks/schema.ts, ceph.pools)
 * is the one place their defaults live, so these are the values to apply.
 */
export interface CephPoolInputs extends ConnectionArgs {
  providerVersion: string;
  /** Pool name (also the storage ID with addStorage). */
  name: string;
  /** Replicas (1-7). */
  size: number;
  /** Replicas needed for I/O (1-size). */
  minSize: number;
  /** Placement groups; required when autoscale is off, an initial value (usually left out) when it is on. */
  pgNum?: number;
  /** Let the PG autoscaler manage pg_num (`pg_autoscale_mode on`); off is `warn`. */
  autoscale: boolean;
  /** Ceph application: rbd, cephfs or rgw. */
  application: string;
  /** CRUSH device class; a rule `replicated_<class>` is created if missing. */
  deviceClass?: string;
  /** CRUSH rule name. Defaults to `replicated_<deviceClass>`, or `replicated_rule`. */
  crushRule?: string;
  /** Add the pool as Proxmox RBD storage (`--add_storages 1`). */
  addStorage: boolean;
  /** Number of hosts that carry OSDs (of the device class) according to the config. */
  osdHosts: number;
  /** Permit size 1 (single-node labs). Defaults to false. */
  allowSingleReplica?: boolean;
  /** Permit replacing (destroying) the pool on changes Ceph cannot apply, e.g. a rename. Defaults to false. */
  allowDataLoss?: boolean;
  /** Destroy the pool and its storage when the resource is deleted. Defaults to false. */
  destroyOnDelete?: boolean;
}

/** The pool as Ceph reports it. */
export interface PoolActual {
  id: number;
  size: number;
  minSize: number;
  pgNum: number;
  pgAutoscaleMode: string;
  application: string;
  crushRule: string;
}

export interface CephPoolOutputs extends CephPoolInputs {
  actual: PoolActual;
  /** RBD storages that use the pool. */
  storages: string[];
}

export class CephPoolError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "CephPoolError";
  }
  toString(): string {
    return describeError(this);
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function ceph(...args: string[]): string {
  return inCLocale(command("ceph", "--conf", "/etc/pve/ceph.conf", ...args));
}

/** The wanted settings with defaults applied. */
export interface PoolWant {
  size: number;
  minSize: number;
  /** Undefined when the autoscaler owns pg_num from the start. */
  pgNum?: number;
  pgAutoscaleMode: string;
  application: string;
  crushRule: string;
  deviceClass?: string;
}

export function poolWant(i: CephPoolInputs): PoolWant {
  return {
    size: i.size,
    minSize: i.minSize,
    pgNum: i.pgNum,
    pgAutoscaleMode: i.autoscale ? "on" : "warn",
    application: i.application,
    crushRule: i.crushRule ?? (i.deviceClass ? `replicated_${i.deviceClass}` : "replicated_rule"),
    deviceClass: i.deviceClass,
  };
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const STORAGE_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
const CLASS_RE = /^[a-z0-9][a-z0-9_-]*$/;

// ---------------------------------------------------------------------------------------------
// validation (no SSH)

/** Problems with the inputs, each a sentence naming the pool. */
export function poolInputProblems(i: CephPoolInputs): string[] {
  const p = `ceph pool "${i.name}"`;
  const w = poolWant(i);
  const problems: string[] = [];
  if (typeof i.name !== "string" || !NAME_RE.test(i.name)) problems.push(`${p}: the name must be letters, digits, "_", "." or "-"`);
  else if (i.addStorage && !STORAGE_RE.test(i.name)) problems.push(`${p}: the name is not a valid storage ID, which addStorage needs (letters, digits, "-", "_", "."; starting with a letter)`);
  if (!Number.isInteger(w.size) || w.size < 1 || w.size > MAX_SIZE) problems.push(`${p}: size ${w.size} must be a whole number from 1 to ${MAX_SIZE}`);
  if (!Number.isInteger(w.minSize) || w.minSize < 1) problems.push(`${p}: minSize ${w.minSize} must be a whole number of at least 1`);
  else if (w.minSize > w.size) problems.push(`${p}: minSize ${w.minSize} is larger than size ${w.size}; min_size must be ≤ size`);
  if (w.size === 1 && !i.allowSingleReplica)
    problems.push(`${p}: size 1 keeps a single copy of the data; set allowSingleReplica: true to allow it (single-node labs only)`);
  const hosts = i.osdHosts;
  if (typeof hosts !== "number" || !Number.isInteger(hosts) || hosts < 0) problems.push(`${p}: osdHosts must be the number of hosts with OSDs`);
  else if (w.size > hosts && !(w.size === 1 && i.allowSingleReplica))
    problems.push(`${p}: size ${w.size} needs ${w.size} hosts with OSDs${w.deviceClass ? ` of class ${w.deviceClass}` : ""}, but only ${hosts} ${hosts === 1 ? "has" : "have"} them; lower size or add OSD hosts`);
  if (w.pgNum === undefined) {
    if (w.pgAutoscaleMode !== "on") problems.push(`${p}: pgNum is required when autoscale is off`);
  } else if (!Number.isInteger(w.pgNum) || w.pgNum < 1 || w.pgNum > 32768) problems.push(`${p}: pgNum ${w.pgNum} must be a whole number from 1 to 32768`);
  if (!POOL_APPLICATIONS.includes(w.application)) problems.push(`${p}: application "${w.application}" is not one of ${POOL_APPLICATIONS.join(", ")}`);
  if (w.deviceClass !== undefined && !CLASS_RE.test(w.deviceClass)) problems.push(`${p}: deviceClass "${w.deviceClass}" must be lower-case letters, digits, "-" or "_"`);
  if (!NAME_RE.test(w.crushRule)) problems.push(`${p}: crushRule "${w.crushRule}" is not a valid rule name`);
  return problems;
}

/** A rename (or other change Ceph cannot apply) without allowDataLoss. */
export function replaceRefusal(olds: Pick<CephPoolInputs, "name">, news: Pick<CephPoolInputs, "name" | "allowDataLoss">): string | undefined {
  if (olds.name === undefined || olds.name === news.name || isUnknown(news.name)) return undefined;
  if (news.allowDataLoss) return undefined;
  return (
    `ceph pool "${olds.name}": renaming it to "${news.name}" means destroying the pool and creating a new one, which loses its data; ` +
    `refused. Set allowDataLoss: true on the pool to allow the replacement, or keep the name`
  );
}

// ---------------------------------------------------------------------------------------------
// live state

interface PoolFacts {
  pools: LivePool[];
  tree: TreeOsd[];
  rules: CrushRule[];
  storages: string[];
}

/** The OSD tree only `withTree` (only the replica check before a change needs it). */
async function readPoolFacts(session: SshSession, name: string, { withTree = false } = {}): Promise<PoolFacts> {
  const node = session.node;
  const pools = parsePveCephPoolLs((await session.check(inCLocale(command("pveceph", "pool", "ls", "--output-format", "json")))).stdout, node);
  const tree = withTree ? parseOsdTreeJson((await session.check(ceph("osd", "tree", "-f", "json"))).stdout, node) : [];
  const rules = parseCrushRules((await session.check(ceph("osd", "crush", "rule", "dump", "-f", "json"))).stdout, node);
  const storages = rbdStoragesOfPool((await session.check(inCLocale(command("pvesh", "get", "/storage", "--output-format", "json")))).stdout, node, name);
  return { pools, tree, rules, storages };
}

function actualOf(pool: LivePool, rules: readonly CrushRule[]): PoolActual {
  const rule = pool.crushRuleName ?? rules.find((r) => r.id === pool.crushRuleId)?.name ?? String(pool.crushRuleId ?? "");
  return { id: pool.id, size: pool.size, minSize: pool.minSize, pgNum: pool.pgNum, pgAutoscaleMode: pool.pgAutoscaleMode, application: pool.application, crushRule: rule };
}

/** `pveceph pool set` options for what differs (empty when nothing does). */
export function poolChanges(actual: PoolActual, want: PoolWant): string[] {
  const opts: string[] = [];
  if (actual.size !== want.size) opts.push("--size", String(want.size));
  if (actual.minSize !== want.minSize) opts.push("--min_size", String(want.minSize));
  if (actual.pgAutoscaleMode !== want.pgAutoscaleMode) opts.push("--pg_autoscale_mode", want.pgAutoscaleMode);
  if (want.pgAutoscaleMode !== "on" && want.pgNum !== undefined && actual.pgNum !== want.pgNum) opts.push("--pg_num", String(want.pgNum));
  if (actual.application !== want.application) opts.push("--application", want.application);
  if (actual.crushRule !== want.crushRule) opts.push("--crush_rule", want.crushRule);
  return opts;
}

/** What a worker command printed, quoted when the state read back afterwards is wrong. */
interface WorkerRun {
  cmd: string;
  result: CommandResult;
}

/**
 * A worker command (pve-cli.md §0.2): a non-zero exit is a failure, but exit 0 settles nothing
 * (the task may have failed) and neither does stderr (lock and progress lines on success).
 * The caller reads the pool back and quotes this run when it is wrong.
 */
async function runWorker(session: SshSession, cmd: string): Promise<WorkerRun> {
  const result = await session.run(cmd, { timeoutMs: 30 * 60_000 });
  if (result.code !== 0) throw new CommandFailedError(session.node, cmd, result);
  return { cmd, result };
}

/** The worker run as evidence: node, command and its stderr (or stdout). */
function evidence(session: SshSession, run: WorkerRun | undefined): string {
  if (!run) return "";
  const out = run.result.stderr.trim() || run.result.stdout.trim() || "(no output)";
  return `\n  ${session.node}: ${run.cmd.replace(/^LC_ALL=C /, "")} (exit ${run.result.code}):\n${out.split("\n").map((l) => `    ${l}`).join("\n")}`;
}

function refuse(name: string, problems: string[]): CephPoolError {
  return new CephPoolError(`ceph pool "${name}" refused, nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

interface PoolState {
  actual: PoolActual;
  storages: string[];
}

/**
 * Create the replicated rule of a device class unless it exists. Pools of one class share the
 * rule, and their creates can race: the loser's create fails with EEXIST (exit 17). That is
 * success once the rule read back is the one wanted; anything else is reported as it is.
 */
async function ensureCrushRule(session: SshSession, name: string, deviceClass: string): Promise<void> {
  const cmd = ceph("osd", "crush", "rule", "create-replicated", name, "default", "host", deviceClass);
  const result = await session.run(cmd);
  if (result.code === 0) return;
  if (result.code !== 17) throw new CommandFailedError(session.node, cmd, result);
  const rules = parseCrushRules((await session.check(ceph("osd", "crush", "rule", "dump", "-f", "json"))).stdout, session.node);
  const rule = rules.find((r) => r.name === name);
  if (rule?.deviceClass !== deviceClass) {
    throw new CephPoolError(
      `${session.node}: CRUSH rule ${name} already exists but takes device class ${rule?.deviceClass ?? "(any)"}, not ${deviceClass}\n` +
        `  ${new CommandFailedError(session.node, cmd, result).message}`,
    );
  }
}

async function convergePool(i: CephPoolInputs): Promise<PoolState> {
  const problems = poolInputProblems(i);
  if (problems.length > 0) throw refuse(i.name, problems);
  const want = poolWant(i);
  const p = `ceph pool "${i.name}"`;
  return withSession(
    sshTarget(i),
    async (session) => {
      const node = session.node;
      const facts = await readPoolFacts(session, i.name, { withTree: true });
      // Live re-check: enough hosts with OSDs (of the class) for the replicas.
      const hosts = hostsWithOsds(facts.tree, want.deviceClass);
      const live: string[] = [];
      if (want.size > hosts.length && !(want.size === 1 && i.allowSingleReplica))
        live.push(`${p}: size ${want.size} needs ${want.size} hosts with OSDs${want.deviceClass ? ` of class ${want.deviceClass}` : ""}, but Ceph has ${hosts.length} (${hosts.join(", ") || "none"})`);
      const rule = facts.rules.find((r) => r.name === want.crushRule);
      if (rule && want.deviceClass && rule.deviceClass !== want.deviceClass)
        live.push(`${p}: CRUSH rule ${want.crushRule} exists but takes device class ${rule.deviceClass ?? "(any)"}, not ${want.deviceClass}`);
      if (!rule && !want.deviceClass) live.push(`${p}: CRUSH rule ${want.crushRule} does not exist (set deviceClass to have one created)`);
      if (live.length > 0) throw refuse(i.name, live);

      // Single replica: the two settings the issue asks for, only when not set yet.
      if (want.size === 1) {
        const dump = (await session.check(ceph("config", "dump", "-f", "json"))).stdout;
        for (const [key, value] of [
          ["mon_allow_pool_size_one", "true"],
          ["osd_crush_chooseleaf_type", "0"],
        ]) {
          if (configValue(dump, node, "global", key) !== value) await session.check(ceph("config", "set", "global", key, value));
        }
      }

      if (!rule) await ensureCrushRule(session, want.crushRule, want.deviceClass!);

      const existing = facts.pools.find((x) => x.name === i.name);
      let run: WorkerRun | undefined;
      if (!existing) {
        const args = ["pveceph", "pool", "create", i.name, "--size", String(want.size), "--min_size", String(want.minSize), "--pg_autoscale_mode", want.pgAutoscaleMode, "--application", want.application, "--crush_rule", want.crushRule];
        if (want.pgNum !== undefined) args.push("--pg_num", String(want.pgNum));
        if (i.addStorage) args.push("--add_storages", "1");
        run = await runWorker(session, inCLocale(command(...args)));
      } else {
        const changes = poolChanges(actualOf(existing, facts.rules), want);
        if (changes.length > 0) run = await runWorker(session, inCLocale(command("pveceph", "pool", "set", i.name, ...changes)));
        if (i.addStorage && facts.storages.length === 0) {
          // The pool existed without its storage (e.g. created by hand): add the storage alone.
          // Same storage entry as --add_storages writes (PVE::API2::Ceph::Pool); a synchronous API call, so the exit code is reliable.
          await session.check(
            inCLocale(command("pvesh", "create", "/storage", "--storage", i.name, "--type", "rbd", "--pool", i.name, "--content", "rootdir,images", "--krbd", "0", "--output-format", "json")),
          );
        }
      }

      // Verify the end state: worker commands do not report failures reliably.
      const after = await readPoolFacts(session, i.name);
      const pool = after.pools.find((x) => x.name === i.name);
      if (!pool) throw new CephPoolError(`${node}: ${p} does not exist after pveceph pool create${evidence(session, run)}`);
      const actual = actualOf(pool, after.rules);
      const left = poolChanges(actual, want);
      if (left.length > 0) throw new CephPoolError(`${node}: ${p} still differs after pveceph: ${left.join(" ")}${evidence(session, run)}`);
      if (i.addStorage && after.storages.length === 0) throw new CephPoolError(`${node}: ${p} has no RBD storage after --add_storages${evidence(session, run)}`);
      return { actual, storages: after.storages };
    },
    sshOptions(i),
  );
}

async function readPool(props: CephPoolOutputs): Promise<PoolState | undefined> {
  return withSession(
    sshTarget(props),
    async (session) => {
      const facts = await readPoolFacts(session, props.name);
      const pool = facts.pools.find((x) => x.name === props.name);
      return pool ? { actual: actualOf(pool, facts.rules), storages: facts.storages } : undefined;
    },
    sshOptions(props),
  );
}

// ---------------------------------------------------------------------------------------------
// the provider

const COMPARED = [
  "providerVersion",
  "size",
  "minSize",
  "pgNum",
  "autoscale",
  "application",
  "deviceClass",
  "crushRule",
  "addStorage",
  "osdHosts",
  "allowSingleReplica",
  "allowDataLoss",
  "destroyOnDelete",
  "connection",
  "sshPrivateKey",
] as const;

/** Differences between the real pool (olds.actual from create/read) and the wanted settings. */
export function poolDrift(olds: Pick<CephPoolOutputs, "actual" | "storages" | "addStorage">, news: CephPoolInputs): string[] {
  if (!olds.actual) return [];
  const opts = poolChanges(olds.actual, poolWant(news));
  const res: string[] = [];
  for (let k = 0; k < opts.length; k += 2) res.push(`${opts[k].slice(2)} ${opts[k + 1]}`);
  if (news.addStorage && (olds.storages ?? []).length === 0) res.push("storage missing");
  return res;
}

/** Input keys that differ from the stored outputs, plus the keys that live drift (from read) touches. */
export function poolDiffKeys(olds: CephPoolOutputs, news: CephPoolInputs): string[] {
  const changed: string[] = COMPARED.filter((k) => isUnknown(news[k]) || stableJson(olds[k]) !== stableJson(news[k]));
  if (!isUnknown(news)) {
    for (const d of poolDrift(olds, news)) {
      const key = d.startsWith("min_size")
        ? "minSize"
        : d.startsWith("size")
          ? "size"
          : d.startsWith("pg_num")
            ? "pgNum"
            : d.startsWith("pg_autoscale")
              ? "autoscale"
              : d.startsWith("application")
                ? "application"
                : d.startsWith("crush")
                  ? "crushRule"
                  : "addStorage";
      if (!changed.includes(key)) changed.push(key);
    }
  }
  return changed;
}

export const cephPoolProvider: pulumi.dynamic.ResourceProvider<CephPoolInputs, CephPoolOutputs> = {
  async check(olds, news) {
    const failures: { property: string; reason: string }[] = [];
    if (!isUnknown(news)) for (const reason of poolInputProblems(news)) failures.push({ property: "name", reason });
    const r = olds ? replaceRefusal(olds, news) : undefined;
    if (r) failures.push({ property: "name", reason: r });
    return { inputs: news, failures };
  },

  async create(inputs) {
    const state = await convergePool(inputs);
    return { id: inputs.name, outs: { ...inputs, ...state } };
  },

  async read(id, props) {
    if (!props) throw new CephPoolError(`${id}: no stored state to refresh from`);
    const state = await readPool(props);
    if (!state) return { id: "", props };
    return { id, props: { ...props, ...state } };
  },

  async diff(_id, olds, news) {
    const refusal = replaceRefusal(olds, news);
    if (refusal) throw new CephPoolError(refusal);
    const replaces = !isUnknown(news.name) && olds.name !== news.name ? ["name"] : [];
    const changed = poolDiffKeys(olds, news);
    return { changes: changed.length > 0 || replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async update(_id, olds, news) {
    const refusal = replaceRefusal(olds, news);
    if (refusal) throw new CephPoolError(refusal);
    const state = await convergePool(news);
    return { outs: { ...news, ...state } };
  },

  async delete(_id, props) {
    // By default the pool and its data stay; only an explicit destroyOnDelete destroys them.
    if (!props.destroyOnDelete) return;
    await withSession(
      sshTarget(props),
      async (session) => {
        const before = await readPoolFacts(session, props.name);
        if (!before.pools.some((x) => x.name === props.name)) return;
        await runWorker(session, inCLocale(command("pveceph", "pool", "destroy", props.name, "--remove_storages", "1")));
        const after = await readPoolFacts(session, props.name);
        if (after.pools.some((x) => x.name === props.name)) throw new CephPoolError(`${session.node}: ceph pool "${props.name}" still exists after pveceph pool destroy`);
      },
      sshOptions(props),
    );
  },
};

// ---------------------------------------------------------------------------------------------
// the resource

export interface CephPoolResourceArgs {
  connection: pulumi.Input<NodeConnection>;
  sshPrivateKey?: pulumi.Input<string>;
  name: pulumi.Input<string>;
  size?: pulumi.Input<number>;
  minSize?: pulumi.Input<number>;
  pgNum?: pulumi.Input<number>;
  autoscale?: pulumi.Input<boolean>;
  application?: pulumi.Input<string>;
  deviceClass?: pulumi.Input<string>;
  crushRule?: pulumi.Input<string>;
  addStorage?: pulumi.Input<boolean>;
  osdHosts: pulumi.Input<number>;
  allowSingleReplica?: pulumi.Input<boolean>;
  allowDataLoss?: pulumi.Input<boolean>;
  destroyOnDelete?: pulumi.Input<boolean>;
}

/** Registered as `pulumi-nodejs:dynamic/ceph:Pool`. */
export class CephPool extends pulumi.dynamic.Resource {
  declare readonly actual: pulumi.Output<PoolActual>;
  declare readonly storages: pulumi.Output<string[]>;

  constructor(name: string, args: CephPoolResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      cephPoolProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, CEPH_POOL_PROVIDER_VERSION),
        actual: undefined,
        storages: undefined,
      },
      sshResourceOptions(opts),
      "ceph",
      "Pool",
    );
  }
}
