import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";
import { CephHealthGate, CephPoolCapacity } from "../infra/providers/ceph/ceph-health";
import { childOptions, refuse, sharedSshKey } from "./child-options";

/** Type token of the CephHealth component. */
export const CEPH_HEALTH_TYPE = "homelab:ceph:Health";

/** Arguments of the Ceph health gate. */
export interface CephHealthArgs {
  /** Nodes to ask for the health, in order; the first that answers over SSH is used. */
  nodes: NodeAccess[];
  /** Health check codes accepted at HEALTH_WARN severity (e.g. "POOL_NO_REDUNDANCY" on a single node). Defaults to none: only HEALTH_OK passes. */
  allowedWarnings?: string[];
  /** Seconds to wait for an acceptable health before failing with the health detail (the stack schema's ceph.health.timeoutSeconds, 900 unless set). */
  timeoutSeconds: number;
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
    super(CEPH_HEALTH_TYPE, name, { nodes: args.nodes.map((n) => n.connection.node), allowedWarnings: args.allowedWarnings ?? [] }, opts);
    if (args.nodes.length === 0) refuse(this, name, "nodes is empty; the health gate needs a node to ask");
    this.gate = new CephHealthGate(
      `${name}-gate`,
      {
        nodes: args.nodes.map((n) => ({ connection: n.connection })),
        sshPrivateKey: sharedSshKey(this, name, args.nodes),
        allowedWarnings: args.allowedWarnings ?? [],
        timeoutSeconds: args.timeoutSeconds,
        pollIntervalSeconds: args.pollIntervalSeconds ?? 5,
        trigger: args.trigger ?? "",
      },
      // It really waits for the OSDs and pools (the component's dependsOn).
      childOptions(this, opts),
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
