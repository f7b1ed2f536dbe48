import * as pulumi from "@pulumi/pulumi";
import type { NodeConnection } from "../infra/providers/connection";
import { CEPH_POOL_PROVIDER_VERSION, CephPool, CephPoolInputs, PoolActual, poolInputProblems } from "../infra/providers/ceph/ceph-pool";

/** One pool as configured. */
export interface CephPoolSpec {
  /** Pool name; also the Proxmox storage ID when addStorage is set. */
  name: string;
  /** Replicas. Defaults to 3. */
  size?: number;
  /** Replicas needed for I/O. Defaults to 2. */
  minSize?: number;
  /** Placement groups. Defaults to 128. */
  pgNum?: number;
  /** Let the PG autoscaler manage pg_num. Defaults to false. */
  autoscale?: boolean;
  /** Ceph application. Defaults to "rbd". */
  application?: string;
  /** CRUSH device class (a `replicated_<class>` rule is created if missing). Defaults to none (all OSDs). */
  deviceClass?: string;
  /** CRUSH rule name. Defaults to `replicated_<deviceClass>` or `replicated_rule`. */
  crushRule?: string;
  /** Add the pool as Proxmox RBD storage. Defaults to false. */
  addStorage?: boolean;
  /** Permit size 1 (single-node labs; also sets mon_allow_pool_size_one and osd_crush_chooseleaf_type 0). Defaults to false. */
  allowSingleReplica?: boolean;
  /** Permit destroying and re-creating the pool for changes Ceph cannot apply (rename). Defaults to false. */
  allowDataLoss?: boolean;
  /** Destroy the pool and its storage when it is removed from the program. Defaults to false. */
  destroyOnDelete?: boolean;
}

/** Arguments of the pools of a Ceph cluster. */
export interface CephPoolsArgs {
  /** The node on which pveceph runs (any Ceph node of the cluster). */
  connection: NodeConnection;
  /** Root SSH private key; a secret. Omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** The pools. */
  pools: CephPoolSpec[];
  /** Number of hosts that carry OSDs (e.g. `CephOsds.osdHosts`); size must not exceed it. */
  osdHosts: number;
  /** The OSD resources the pools wait for (e.g. `CephOsds.osdResources`). Defaults to none. */
  osds?: pulumi.Resource[];
}

/** Configuration errors, each naming the pool as `pools["<name>"]`; empty when valid. */
export function cephPoolsProblems(args: Pick<CephPoolsArgs, "connection" | "pools" | "osdHosts">): string[] {
  const problems: string[] = [];
  const names = args.pools.map((p) => p.name);
  for (const n of names.filter((x, i) => names.indexOf(x) !== i)) problems.push(`pools["${n}"] is listed twice`);
  for (const p of args.pools) {
    const inputs: CephPoolInputs = { ...p, connection: args.connection, providerVersion: CEPH_POOL_PROVIDER_VERSION, osdHosts: args.osdHosts };
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
    super("homelab:ceph:Pools", name, { node: args.connection.node, pools: args.pools.map((p) => p.name), osdHosts: args.osdHosts }, opts);
    const problems = cephPoolsProblems(args);
    if (problems.length > 0) throw new pulumi.ResourceError(`Ceph pools: ${problems.join("; ")}`, this);

    this.poolResources = {};
    this.actual = {};
    for (const p of args.pools) {
      const r = new CephPool(
        `${name}-${p.name}`,
        { ...p, connection: args.connection, sshPrivateKey: args.sshPrivateKey, osdHosts: args.osdHosts },
        { parent: this, dependsOn: args.osds ?? [] },
      );
      this.poolResources[p.name] = r;
      this.actual[p.name] = r.actual;
    }
    this.registerOutputs({ actual: this.actual });
  }
}
