import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { CEPH_POOL_PROVIDER_VERSION, CephPool, CephPoolInputs, PoolActual, poolInputProblems } from "../infra/providers/ceph/ceph-pool";
import { childOptions, refuse } from "./child-options";

/** Type token of the CephPools component. */
export const CEPH_POOLS_TYPE = "homelab:ceph:Pools";

/**
 * One pool, its settings resolved (the stack schema's ceph.pools holds their
 * defaults): the pool resource's own inputs, so docs and defaults cannot drift.
 */
export type CephPoolSpec = Pick<
  CephPoolInputs,
  | "name"
  | "size"
  | "minSize"
  | "pgNum"
  | "autoscale"
  | "application"
  | "deviceClass"
  | "crushRule"
  | "addStorage"
  | "allowSingleReplica"
  | "allowDataLoss"
  | "destroyOnDelete"
>;

/** Arguments of the pools of a Ceph cluster. */
export interface CephPoolsArgs {
  /** The node on which pveceph runs (any Ceph node of the cluster). */
  access: NodeAccess;
  /** The pools. */
  pools: CephPoolSpec[];
  /** Number of hosts that carry OSDs (e.g. `CephOsds.osdHosts`); size must not exceed it. */
  osdHosts: number;
  /** The OSD resources the pools wait for (e.g. `CephOsds.osdResources`). Defaults to none. */
  osds?: pulumi.Resource[];
}

const NO_CONNECTION = { node: "", host: "", port: 22, user: "root" };

/** Configuration errors, each naming the pool as `pools["<name>"]`; empty when valid. */
export function cephPoolsProblems(args: Pick<CephPoolsArgs, "pools" | "osdHosts">): string[] {
  const problems: string[] = [];
  const names = args.pools.map((p) => p.name);
  for (const n of names.filter((x, i) => names.indexOf(x) !== i)) problems.push(`pools["${n}"] is listed twice`);
  for (const p of args.pools) {
    // Validation needs no connection: only the pool settings and osdHosts are checked.
    const inputs: CephPoolInputs = { ...p, connection: NO_CONNECTION, providerVersion: CEPH_POOL_PROVIDER_VERSION, osdHosts: args.osdHosts };
    problems.push(...poolInputProblems(inputs).map((m) => m.replace(/^ceph pool "([^"]*)"/, `pools["$1"]`)));
  }
  return problems;
}

/**
 * The replicated pools of a Ceph cluster, created with pveceph over SSH (see
 * infra/providers/ceph-pool.ts for why not the native proxmoxve.ceph.Pool),
 * after the OSDs.
 */
export class CephPools extends pulumi.ComponentResource {
  /** One resource per pool, by pool name. */
  readonly poolResources: Record<string, CephPool>;
  /** Live settings per pool name. */
  readonly actual: Record<string, pulumi.Output<PoolActual>>;

  constructor(name: string, args: CephPoolsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(CEPH_POOLS_TYPE, name, { node: args.access.connection.node, pools: args.pools.map((p) => p.name), osdHosts: args.osdHosts }, opts);
    const problems = cephPoolsProblems(args);
    if (problems.length > 0) refuse(this, name, problems);

    this.poolResources = {};
    this.actual = {};
    // Pools that share a CRUSH rule are created one after the other: the first creates the rule,
    // the others find it, so the shared rule is created once, not raced.
    const ruleCreator = new Map<string, CephPool>();
    for (const p of args.pools) {
      const rule = p.crushRule ?? (p.deviceClass ? `replicated_${p.deviceClass}` : undefined);
      const earlier = rule === undefined ? undefined : ruleCreator.get(rule);
      const r = new CephPool(
        `${name}-${p.name}`,
        { ...p, ...args.access, osdHosts: args.osdHosts },
        childOptions(this, opts, [...(args.osds ?? []), ...(earlier ? [earlier] : [])]),
      );
      if (rule !== undefined && !earlier) ruleCreator.set(rule, r);
      this.poolResources[p.name] = r;
      this.actual[p.name] = r.actual;
    }
    this.registerOutputs({ actual: this.actual });
  }
}
