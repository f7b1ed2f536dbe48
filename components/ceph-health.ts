import * as pulumi from "@pulumi/pulumi";
import type { NodeConnection } from "../infra/providers/connection";
import { CephHealthGate, CephPoolCapacity } from "../infra/providers/ceph/ceph-health";

/** Arguments of the Ceph health gate. */
export interface CephHealthArgs {
  /** Nodes to ask for the health, in order; the first that answers over SSH is used. */
  nodes: { connection: NodeConnection }[];
  /** Root SSH private key accepted by the nodes; a secret. Omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  /** Health check codes accepted at HEALTH_WARN severity (e.g. "POOL_NO_REDUNDANCY" on a single node). Defaults to none: only HEALTH_OK passes. */
  allowedWarnings?: string[];
  /** Seconds to wait for an acceptable health before failing with the health detail. Defaults to 600. */
  timeoutSeconds?: number;
  /** Seconds between health polls. Defaults to 5. */
  pollIntervalSeconds?: number;
  /** Any value; when it changes the wait runs again (e.g. a hash of the OSD and pool config). Defaults to "". */
  trigger?: pulumi.Input<string>;
}

/**
 * Waits until Ceph is HEALTH_OK (or only shows allowed warnings) and reports
 * health, OSDs up/in, raw capacity and per-pool usage. Place it after the
 * OSDs and pools (`dependsOn`); it changes nothing on the nodes.
 */
export class CephHealth extends pulumi.ComponentResource {
  /** HEALTH_OK, or HEALTH_WARN with only allowed warnings, when last checked. */
  readonly health: pulumi.Output<string>;
  /** Health checks present when last checked. */
  readonly checks: pulumi.Output<{ code: string; severity: string; message: string }[]>;
  readonly osdsTotal: pulumi.Output<number>;
  readonly osdsUp: pulumi.Output<number>;
  readonly osdsIn: pulumi.Output<number>;
  readonly rawTotalBytes: pulumi.Output<number>;
  readonly rawUsedBytes: pulumi.Output<number>;
  readonly rawAvailBytes: pulumi.Output<number>;
  /** Stored and usable bytes per pool. */
  readonly pools: pulumi.Output<CephPoolCapacity[]>;
  /** The gate resource, for `dependsOn`. */
  readonly gate: CephHealthGate;

  constructor(name: string, args: CephHealthArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:ceph:Health", name, { nodes: args.nodes.map((n) => n.connection.node), allowedWarnings: args.allowedWarnings ?? [] }, opts);
    if (args.nodes.length === 0) throw new pulumi.ResourceError("nodes is empty; the health gate needs a node to ask", this);
    this.gate = new CephHealthGate(
      `${name}-gate`,
      {
        nodes: args.nodes.map((n) => ({ connection: n.connection })),
        sshPrivateKey: args.sshPrivateKey,
        allowedWarnings: args.allowedWarnings ?? [],
        timeoutSeconds: args.timeoutSeconds ?? 600,
        pollIntervalSeconds: args.pollIntervalSeconds ?? 5,
        trigger: args.trigger ?? "",
      },
      // A component's dependsOn does not reach its children's registrations: pass it on, so the
      // resource really waits (for the Proxmox cluster, for OSDs and pools).
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.health = this.gate.health;
    this.checks = this.gate.checks;
    this.osdsTotal = this.gate.osdsTotal;
    this.osdsUp = this.gate.osdsUp;
    this.osdsIn = this.gate.osdsIn;
    this.rawTotalBytes = this.gate.rawTotalBytes;
    this.rawUsedBytes = this.gate.rawUsedBytes;
    this.rawAvailBytes = this.gate.rawAvailBytes;
    this.pools = this.gate.pools;
    this.registerOutputs({
      health: this.health,
      osdsTotal: this.osdsTotal,
      osdsUp: this.osdsUp,
      osdsIn: this.osdsIn,
      rawTotalBytes: this.rawTotalBytes,
      rawUsedBytes: this.rawUsedBytes,
      rawAvailBytes: this.rawAvailBytes,
      pools: this.pools,
    });
  }
}
