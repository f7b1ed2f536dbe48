import * as pulumi from "@pulumi/pulumi";
import type { HaNodePriority, HaState } from "../infra/parse/ha";
import type { NodeAccess } from "../infra/providers/connection";
import { HaPlacement, HaResource, haPlacementProblems, haResourceProblems, haSid } from "../infra/providers/proxmox/ha";
import { childOptions, refuse } from "./child-options";

/** Type token of the HA placement component. */
export const HA_PLACEMENT_TYPE = "homelab:ha:Placement";

/** One VM made highly available under this placement. */
export interface HaVmArgs {
  /** The VM's ID; it must exist in the cluster (the HA resource is `vm:<vmid>`). */
  vmid: number;
  /** Requested HA state. Defaults to "started". */
  state?: HaState;
  /** Restart attempts on the same node before relocating. Defaults to 1. */
  maxRestart?: number;
  /** Relocation attempts to other nodes. Defaults to 1. */
  maxRelocate?: number;
  /** Free-text HA comment. Defaults to none. */
  comment?: string;
}

/** Arguments of an HA placement and the VMs it places. */
export interface HaPlacementComponentArgs {
  /** The node the HA commands run on (HA config is cluster-wide, any quorate member works). */
  access: NodeAccess;
  /** Group name (PVE 8) or node-affinity rule ID (PVE 9): a letter, then letters, digits, "-", "_". Defaults to the component name. */
  placementName?: string;
  /** Nodes the VMs may run on, with priorities (higher is preferred; none means 0). */
  nodes: HaNodePriority[];
  /** Only the listed nodes, never others (PVE 8 `restricted`, PVE 9 `strict`). Defaults to false. */
  strict?: boolean;
  /** Stay on the current node when a higher-priority node comes back (PVE 8 group `nofailback`, PVE 9 resource `failback 0`). Defaults to false. */
  nofailback?: boolean;
  /** The VMs to make highly available here. On PVE 9 at least one is needed (a rule cannot be empty). */
  vms: HaVmArgs[];
}

/** Problems with the args (empty when valid); the stack validation can call this. */
export function haPlacementArgsProblems(name: string, args: HaPlacementComponentArgs): string[] {
  const placementName = args.placementName ?? name;
  const problems = haPlacementProblems({ name: placementName, nodes: args.nodes, resources: args.vms.map((v) => haSid(v.vmid)) }).map(
    (p) => `HA placement ${placementName}: ${p}`,
  );
  const seen = new Set<number>();
  for (const vm of args.vms) {
    if (seen.has(vm.vmid)) problems.push(`HA placement ${placementName}: VM ${vm.vmid} is listed twice`);
    seen.add(vm.vmid);
    for (const p of haResourceProblems({ vmid: vm.vmid, state: vm.state ?? "started", maxRestart: vm.maxRestart ?? 1, maxRelocate: vm.maxRelocate ?? 1 })) {
      problems.push(`HA placement ${placementName}: VM ${vm.vmid}: ${p}`);
    }
  }
  return problems;
}

/**
 * Where a set of VMs may run under Proxmox HA, and their HA settings: one `ha:Resource` per VM
 * (`ha-manager add/set`), then one `ha:Placement` (a PVE 8 HA group or a PVE 9 node-affinity
 * rule, detected on the node) that depends on them and owns their membership.
 */
export class HaPlacementComponent extends pulumi.ComponentResource {
  /** Group name or rule ID. */
  readonly placementName: string;
  /** `vm:<vmid>` of every placed VM. */
  readonly sids: string[];
  /** "group" (PVE 8 or unmigrated PVE 9) or "rule" (PVE 9), as found on the cluster. */
  readonly mode: pulumi.Output<string>;
  readonly resources: HaResource[];
  readonly placement: HaPlacement;

  constructor(name: string, args: HaPlacementComponentArgs, opts?: pulumi.ComponentResourceOptions) {
    const placementName = args.placementName ?? name;
    const sids = args.vms.map((v) => haSid(v.vmid));
    super(HA_PLACEMENT_TYPE, name, { placementName, nodes: args.nodes.map((n) => n.node), sids }, opts);
    const problems = haPlacementArgsProblems(name, args);
    if (problems.length > 0) refuse(this, name, problems);
    this.placementName = placementName;
    this.sids = sids;
    this.resources = args.vms.map(
      (vm) =>
        new HaResource(
          `${name}-vm${vm.vmid}`,
          {
            ...args.access,
            vmid: vm.vmid,
            state: vm.state ?? "started",
            maxRestart: vm.maxRestart ?? 1,
            maxRelocate: vm.maxRelocate ?? 1,
            comment: vm.comment,
          },
          // Each waits for the VMs (the component's dependsOn).
          childOptions(this, opts),
        ),
    );
    this.placement = new HaPlacement(
      `${name}-placement`,
      {
        ...args.access,
        name: placementName,
        nodes: args.nodes,
        strict: args.strict ?? false,
        nofailback: args.nofailback ?? false,
        resources: sids,
      },
      { parent: this, dependsOn: this.resources },
    );
    this.mode = this.placement.mode;
    this.registerOutputs({ placementName, sids, mode: this.mode });
  }
}
