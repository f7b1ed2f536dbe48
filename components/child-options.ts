import * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../infra/providers/connection";

/**
 * Options of a component's child. A component's own `dependsOn` does not reach
 * its children's registrations, so the engine would not order their create,
 * replace and destroy by it: a child that is one of the component's first steps
 * gets it here, followed by `after` (what it waits for inside the component).
 */
export function childOptions(
  parent: pulumi.ComponentResource,
  opts: pulumi.ComponentResourceOptions | undefined,
  after: pulumi.Input<pulumi.Resource>[] = [],
): pulumi.CustomResourceOptions {
  return { parent, dependsOn: withComponentDependsOn(opts?.dependsOn, after) };
}

/** The component's dependsOn (a resource, a list, or an Output of either) followed by `after`. */
function withComponentDependsOn(
  deps: pulumi.ComponentResourceOptions["dependsOn"],
  after: pulumi.Input<pulumi.Resource>[],
): pulumi.CustomResourceOptions["dependsOn"] {
  if (deps === undefined) return after;
  if (Array.isArray(deps)) return [...deps, ...after];
  if (pulumi.Resource.isInstance(deps)) return [deps, ...after];
  if (after.length === 0) return deps;
  // An Output or Promise of one resource or a list: resolved by the engine, `after` appended.
  const list = deps as pulumi.Input<pulumi.Resource | pulumi.Input<pulumi.Resource>[]>;
  return pulumi.output(list).apply((d) => [...(Array.isArray(d) ? d : [d]), ...after]) as pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
}

/**
 * Refuse a component's arguments before anything is registered under it: one
 * ResourceError, "<component name>: <problem>; <problem>", each problem a
 * sentence naming the field and the fix.
 */
export function refuse(component: pulumi.ComponentResource, name: string, problems: string | string[]): never {
  const list = typeof problems === "string" ? [problems] : problems;
  throw new pulumi.ResourceError(`${name}: ${list.join("; ")}`, component);
}

/**
 * The one SSH key of a resource that reaches several nodes (its inputs hold a
 * single key). The environment derives the key once, so every node carries the
 * same value; nodes with different keys are refused.
 */
export function sharedSshKey(component: pulumi.ComponentResource, name: string, nodes: Pick<NodeAccess, "sshPrivateKey">[]): pulumi.Input<string> | undefined {
  const key = nodes[0]?.sshPrivateKey;
  if (nodes.some((n) => n.sshPrivateKey !== key)) {
    refuse(component, name, "nodes carry different SSH private keys; every node of this component must accept the same key");
  }
  return key;
}
