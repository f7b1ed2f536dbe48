/**
 * CephHealthGate: waits (bounded) until Ceph reports HEALTH_OK, or only
 * warnings the config explicitly allows, and reports the cluster's state:
 * health, OSDs up/in, raw capacity and per-pool stored/usable bytes. Placed
 * after OSDs and pools, so a stack is only "up" when its storage is healthy.
 * On timeout it fails with every health check, its message and its detail.
 *
 * Changes nothing on the nodes. `trigger` (any value) re-runs the wait when
 * it changes; `read` reports the current health without waiting.
 *
 * A dynamic provider rather than @pulumi/command's remote.Command: the wait is
 * a poll with a bound and a structured error, and `read` must report the live
 * health on `pulumi refresh`.
 */
import * as pulumi from "@pulumi/pulumi";
import { CephHealth, HealthCheck, parseCephDf, parseCephHealth, parseCephStatus } from "../../parse/ceph";
import { command, inCLocale } from "../../shell";
import { SshSession, isCommandFailed } from "../../ssh";
import { NodeConnection } from "../connection";
import { isUnknown, sleep } from "../diff";
import { describeError } from "../../errors";
import { isRetryableFailure } from "../../retry";
import { openFirst } from "../sessions";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const CEPH_HEALTH_PROVIDER_VERSION = "1";

// Module-private for provider code (a serialized provider cannot read its module's exports).
const HEALTH_TIMEOUT_SECONDS = 900;
/** The health gate's default wait; the stack schema's default is this one. */
export const CEPH_HEALTH_DEFAULTS = { timeoutSeconds: HEALTH_TIMEOUT_SECONDS };


export interface CephHealthInputs {
  providerVersion: string;
  /** Nodes to ask, in order; the first that answers over SSH is used. */
  nodes: { connection: NodeConnection }[];
  /** Secret: SSH private key accepted by the nodes. */
  sshPrivateKey?: string;
  /** Health check codes (e.g. "POOL_NO_REDUNDANCY") accepted at HEALTH_WARN severity. Defaults to none. */
  allowedWarnings?: string[];
  /** Seconds to wait for an acceptable health. Defaults to 900. */
  timeoutSeconds?: number;
  /** Seconds between health polls. Defaults to 5. */
  pollIntervalSeconds?: number;
  /** Seconds one `ceph` call may take to reach the monitors. Defaults to 15. */
  connectTimeoutSeconds?: number;
  /** Any value; changing it runs the wait again. */
  trigger?: string;
}

/** Usage of one pool. */
export interface CephPoolCapacity {
  name: string;
  /** Bytes stored by clients (before replication). */
  storedBytes: number;
  /** Raw bytes used (after replication). */
  usedBytes: number;
  /** Bytes that can still be stored in the pool (after replication). */
  maxAvailBytes: number;
  /** 0..1 */
  percentUsed: number;
}

export interface CephHealthOutputs extends CephHealthInputs {
  /** HEALTH_OK, HEALTH_WARN or HEALTH_ERR when last checked. */
  health: string;
  /** The health checks present when last checked (allowed warnings included). */
  checks: { code: string; severity: string; message: string }[];
  osdsTotal: number;
  osdsUp: number;
  osdsIn: number;
  rawTotalBytes: number;
  rawUsedBytes: number;
  rawAvailBytes: number;
  pools: CephPoolCapacity[];
}

export class CephHealthError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "CephHealthError";
  }
  toString(): string {
    return describeError(this);
  }
}

function settings(inputs: CephHealthInputs) {
  return {
    timeoutMs: Math.max(0, inputs.timeoutSeconds ?? HEALTH_TIMEOUT_SECONDS) * 1000,
    pollMs: Math.max(0.05, inputs.pollIntervalSeconds ?? 5) * 1000,
    connectTimeout: Math.max(1, Math.round(inputs.connectTimeoutSeconds ?? 15)),
  };
}

function cephCmd(connectTimeout: number, ...args: string[]): string {
  return inCLocale(command("ceph", ...args, "--conf", "/etc/pve/ceph.conf", "--connect-timeout", connectTimeout, "-f", "json"));
}

/** Is this health acceptable: HEALTH_OK, or only HEALTH_WARN checks that are allowed? */
export function healthAcceptable(health: CephHealth, allowed: readonly string[]): boolean {
  if (health.status === "HEALTH_OK") return true;
  return health.checks.length > 0 && health.checks.every((c) => c.severity === "HEALTH_WARN" && allowed.includes(c.code));
}

/** Health as an error text: one line per check, its detail lines indented below (at most `maxDetail`). */
export function describeHealth(health: CephHealth, maxDetail = 10): string {
  if (health.checks.length === 0) return `${health.status} (no checks reported)`;
  const lines = [health.status];
  for (const c of health.checks) {
    lines.push(`  - ${c.code} (${c.severity}): ${c.message}`);
    for (const d of c.detail.slice(0, maxDetail)) lines.push(`      ${d}`);
    if (c.detail.length > maxDetail) lines.push(`      … ${c.detail.length - maxDetail} more`);
  }
  return lines.join("\n");
}

/** First node that answers over SSH; all failures when none does. */
async function firstSession(inputs: CephHealthInputs): Promise<SshSession> {
  const { session, failures } = await openFirst(inputs.nodes ?? [], inputs.sshPrivateKey);
  if (session) return session;
  throw new CephHealthError(`cannot check Ceph health: no node answers:\n${failures.map((f) => `  - ${f.message}`).join("\n") || "  (no nodes configured)"}`);
}

async function readHealth(session: SshSession, connectTimeout: number): Promise<CephHealth> {
  const r = await session.check(cephCmd(connectTimeout, "health", "detail"));
  return parseCephHealth(r.stdout, session.node);
}

type Observed = Omit<CephHealthOutputs, keyof CephHealthInputs>;

async function observe(session: SshSession, connectTimeout: number, health?: CephHealth): Promise<Observed> {
  const h = health ?? (await readHealth(session, connectTimeout));
  const status = parseCephStatus((await session.check(cephCmd(connectTimeout, "status"))).stdout, session.node);
  const df = parseCephDf((await session.check(cephCmd(connectTimeout, "df"))).stdout, session.node);
  return {
    health: h.status,
    checks: h.checks.map((c: HealthCheck) => ({ code: c.code, severity: c.severity, message: c.message })),
    osdsTotal: status.osds.total,
    osdsUp: status.osds.up,
    osdsIn: status.osds.in,
    rawTotalBytes: df.totalBytes,
    rawUsedBytes: df.usedBytes,
    rawAvailBytes: df.availBytes,
    pools: df.pools.map((p) => ({ name: p.name, storedBytes: p.storedBytes, usedBytes: p.usedBytes, maxAvailBytes: p.maxAvailBytes, percentUsed: p.percentUsed })),
  };
}

/** Poll until acceptable or the bound is reached. */
async function waitHealthy(inputs: CephHealthInputs): Promise<Observed> {
  const { timeoutMs, pollMs, connectTimeout } = settings(inputs);
  const allowed = inputs.allowedWarnings ?? [];
  const session = await firstSession(inputs);
  try {
    const deadline = Date.now() + timeoutMs;
    let last: CephHealth | undefined;
    let lastError = "";
    for (;;) {
      try {
        last = await readHealth(session, connectTimeout);
        lastError = "";
        if (healthAcceptable(last, allowed)) return await observe(session, connectTimeout, last);
      } catch (err) {
        if (!isCommandFailed(err) || !isRetryableFailure(err.result)) throw err;
        lastError = err.message;
      }
      if (Date.now() >= deadline) break;
      await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
    }
    const want = allowed.length > 0 ? `HEALTH_OK, or only the allowed warnings ${allowed.join(", ")}` : "HEALTH_OK";
    throw new CephHealthError(
      `${session.node}: Ceph did not reach ${want} within ${Math.round(timeoutMs / 1000)} s; last health:\n` +
        (last ? describeHealth(last) : "(never read)") +
        (lastError ? `\nlast error: ${lastError}` : ""),
    );
  } finally {
    session.close();
  }
}

const COMPARED_KEYS = ["providerVersion", "allowedWarnings", "timeoutSeconds", "pollIntervalSeconds", "connectTimeoutSeconds", "trigger", "sshPrivateKey"] as const;

export const cephHealthProvider: pulumi.dynamic.ResourceProvider<CephHealthInputs, CephHealthOutputs> = {
  async create(inputs) {
    const observed = await waitHealthy(inputs);
    return { id: "ceph-health", outs: { ...inputs, ...observed } };
  },

  async read(id, props) {
    if (!props) throw new CephHealthError(`${id}: no stored state to refresh from`);
    const { connectTimeout } = settings(props);
    const session = await firstSession(props);
    try {
      return { id, props: { ...props, ...(await observe(session, connectTimeout)) } };
    } finally {
      session.close();
    }
  },

  async diff(_id, olds, news) {
    const changed: string[] = [];
    for (const key of COMPARED_KEYS) {
      if (isUnknown(news[key]) || JSON.stringify(olds[key] ?? null) !== JSON.stringify(news[key] ?? null)) changed.push(key);
    }
    const nodes = (v: CephHealthInputs["nodes"] | undefined) => JSON.stringify((v ?? []).map((n) => [n.connection?.node, n.connection?.host, n.connection?.port]));
    if (isUnknown(news.nodes) || nodes(olds.nodes) !== nodes(news.nodes)) changed.push("nodes");
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    const observed = await waitHealthy(news);
    return { outs: { ...news, ...observed } };
  },

  async delete() {
    // Nothing was created.
  },
};

/** Resource inputs as a program passes them. */
export interface CephHealthGateArgs {
  nodes: pulumi.Input<pulumi.Input<{ connection: pulumi.Input<NodeConnection> }>[]>;
  sshPrivateKey?: pulumi.Input<string>;
  allowedWarnings?: pulumi.Input<pulumi.Input<string>[]>;
  timeoutSeconds?: pulumi.Input<number>;
  pollIntervalSeconds?: pulumi.Input<number>;
  connectTimeoutSeconds?: pulumi.Input<number>;
  trigger?: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/ceph:HealthGate`. */
export class CephHealthGate extends pulumi.dynamic.Resource {
  declare readonly health: pulumi.Output<string>;
  declare readonly checks: pulumi.Output<{ code: string; severity: string; message: string }[]>;
  declare readonly osdsTotal: pulumi.Output<number>;
  declare readonly osdsUp: pulumi.Output<number>;
  declare readonly osdsIn: pulumi.Output<number>;
  declare readonly rawTotalBytes: pulumi.Output<number>;
  declare readonly rawUsedBytes: pulumi.Output<number>;
  declare readonly rawAvailBytes: pulumi.Output<number>;
  declare readonly pools: pulumi.Output<CephPoolCapacity[]>;

  constructor(name: string, args: CephHealthGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      cephHealthProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, CEPH_HEALTH_PROVIDER_VERSION),
        health: undefined,
        checks: undefined,
        osdsTotal: undefined,
        osdsUp: undefined,
        osdsIn: undefined,
        rawTotalBytes: undefined,
        rawUsedBytes: undefined,
        rawAvailBytes: undefined,
        pools: undefined,
      },
      sshResourceOptions(opts),
      "ceph",
      "HealthGate",
    );
  }
}
