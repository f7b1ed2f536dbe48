/**
 * The policy pack's policies: each rule of rules.ts wired to what the policy
 * engine passes (a resource's inputs, or every resource's outputs for the
 * stack-wide rules). Kept apart from index.ts, which serves them to the
 * engine, so tests can run them without a Pulumi CLI.
 */
import type { PolicyResource as EnginePolicyResource, Policies, ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import {
  clusterSizeViolations,
  destroySwitchViolations,
  osdWipeViolations,
  plainSecretViolations,
  type PolicyResource,
} from "./rules";

/** What a rule sees of a resource, from the engine's view of it. */
export function fromEngine(r: ResourceValidationArgs | EnginePolicyResource): PolicyResource {
  return { type: r.type, name: r.name, props: r.props, additionalSecretOutputs: r.opts?.additionalSecretOutputs ?? [] };
}

function perResource(rule: (r: PolicyResource) => string[]) {
  return (args: ResourceValidationArgs, report: ReportViolation) => {
    for (const message of rule(fromEngine(args))) report(message);
  };
}

export const POLICIES: Policies = [
  {
    name: "proxmox-cluster-quorum",
    description: "No Proxmox cluster under 3 votes (nodes, plus a QDevice when the cluster has one) unless allowSmallCluster is set.",
    enforcementLevel: "mandatory",
    validateResource: perResource(clusterSizeViolations),
  },
  {
    name: "ceph-osd-wipe-per-device",
    description: "Ceph OSD devices are zapped only where the device's own entry says wipe: true (a boolean); no resource-wide wipe, no device listed twice.",
    enforcementLevel: "mandatory",
    validateResource: perResource(osdWipeViolations),
  },
  {
    name: "no-destroy-switches-in-production",
    description: "In an environment marked production (homelab:stack:Environment production: true), no resource has a destroy switch on (…OnDelete, …OnDestroy).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      const resources = args.resources.map(fromEngine);
      for (const message of destroySwitchViolations(resources)) report(message);
    },
  },
  {
    name: "no-plain-secret-inputs",
    description: "Every input that holds a secret (by its name, or key material in it) is listed in additionalSecretOutputs, so the state keeps it encrypted.",
    enforcementLevel: "mandatory",
    validateResource: perResource(plainSecretViolations),
  },
  {
    name: "no-plain-secret-outputs",
    description: "Every output that holds a secret (a kubeconfig, a token, a key) is listed in its resource's additionalSecretOutputs.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      for (const r of args.resources) for (const message of plainSecretViolations(fromEngine(r))) report(message, r.urn);
    },
  },
];
