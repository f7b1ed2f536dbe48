/**
 * Engine events as the Automation API hands them to `onEvent`
 * (@pulumi/pulumi/automation/events.d.ts): a successful up, a failed one
 * (our failure text in an error diagnostic), and a refresh preview that finds
 * drift.
 */
import type { EngineEvent } from "../../scripts/homelab/driver";

const STACK_URN = "urn:pulumi:matrix::homelab::pulumi:pulumi:Stack::homelab-matrix";
const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const urn = (parentTypes: string, name: string) => `urn:pulumi:matrix::homelab::${parentTypes}$${DYNAMIC}::${name}`;
export const JOIN_GOLF = urn("homelab:proxmox:Cluster", "matrix-join-golf");
export const POOL_RBD = urn("homelab:ceph:Cluster$homelab:ceph:Pools", "matrix-pool-rbd");
export const OSD_HOTEL = urn("homelab:ceph:Cluster$homelab:ceph:Osds", "matrix-osd-hotel-nvme0n1");

function step(op: string, resourceUrn: string, type = DYNAMIC, extra: Record<string, unknown> = {}) {
  return { op, urn: resourceUrn, type, provider: "urn:pulumi:matrix::homelab::pulumi:providers:pulumi-nodejs::default", ...extra } as never;
}

let sequence = 0;
const event = (fields: Partial<EngineEvent>): EngineEvent => ({ sequence: sequence++, timestamp: 1796572974 + sequence, ...fields });

export const UP_EVENTS: EngineEvent[] = [
  event({ preludeEvent: { config: { "homelab:environment": "{...}" } } }),
  event({ resourcePreEvent: { metadata: step("same", STACK_URN, "pulumi:pulumi:Stack") } }),
  event({ resOutputsEvent: { metadata: step("same", STACK_URN, "pulumi:pulumi:Stack") } }),
  event({ resourcePreEvent: { metadata: step("create", JOIN_GOLF) } }),
  event({ resourcePreEvent: { metadata: step("update", POOL_RBD) } }),
  event({ resOutputsEvent: { metadata: step("create", JOIN_GOLF) } }),
  event({ resOutputsEvent: { metadata: step("update", POOL_RBD, DYNAMIC, { diffs: ["pgNum", "size"] }) } }),
  event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 42, resourceChanges: { create: 1, update: 1, same: 1 }, policyPacks: {} } }),
];

export const PVECM_FAILURE =
  "golf: pvecm add failed (exit 255): unable to copy ssh ID: exit code 1\n  command: pvecm add 10.0.0.11 --link0 10.0.0.12 --use_ssh";

export const FAILED_UP_EVENTS: EngineEvent[] = [
  event({ resourcePreEvent: { metadata: step("same", STACK_URN, "pulumi:pulumi:Stack") } }),
  event({ resourcePreEvent: { metadata: step("create", JOIN_GOLF) } }),
  event({
    diagnosticEvent: { urn: JOIN_GOLF, prefix: "error: ", message: `${PVECM_FAILURE}\n`, color: "raw", severity: "error" },
  }),
  event({ resOpFailedEvent: { metadata: step("create", JOIN_GOLF), status: 1, steps: 0 } }),
  event({ diagnosticEvent: { urn: STACK_URN, prefix: "error: ", message: "update failed\n", color: "raw", severity: "error" } }),
  event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 9, resourceChanges: { same: 1 }, policyPacks: {} } }),
];

/** A refresh preview: the pool's size changed on the nodes, an OSD is gone, the join is as recorded. */
export const DRIFT_EVENTS: EngineEvent[] = [
  event({ resourcePreEvent: { metadata: step("refresh", JOIN_GOLF), planning: true } }),
  event({
    resOutputsEvent: {
      metadata: step("refresh", JOIN_GOLF, DYNAMIC, { old: { outputs: { members: 3 } }, new: { outputs: { members: 3 } } }),
      planning: true,
    },
  }),
  event({ resourcePreEvent: { metadata: step("refresh", POOL_RBD), planning: true } }),
  event({
    resOutputsEvent: {
      metadata: step("update", POOL_RBD, DYNAMIC, {
        old: { outputs: { size: 3, pgNum: 128 } },
        new: { outputs: { size: 2, pgNum: 128 } },
        diffs: ["size"],
        detailedDiff: { size: { diffKind: "update", inputDiff: false } },
      }),
      planning: true,
    },
  }),
  event({ resOutputsEvent: { metadata: step("delete", OSD_HOTEL, DYNAMIC, { old: { outputs: {} } }), planning: true } }),
  event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 5, resourceChanges: { same: 1, update: 1, delete: 1 }, policyPacks: {} } }),
];
