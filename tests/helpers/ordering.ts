/**
 * Whether one registered resource is created only after another, by the
 * rules the Pulumi SDK follows: a resource waits for its explicit dependsOn
 * and the resources its inputs came from (a component there stands for the
 * component and everything under it), for its provider, and for its parent's
 * registration, which waits for the parent's dependencies.
 */
import type { Registration } from "./pulumi-mocks";

export function orderedAfter(registrations: readonly Registration[], urn: string, target: string): boolean {
  const byUrn = new Map(registrations.map((r) => [r.urn, r]));
  const under = (ancestor: string): string[] =>
    registrations.filter((r) => r.parent === ancestor).flatMap((r) => [r.urn, ...under(r.urn)]);
  const seen = new Set<string>();
  const waitsFor = (u: string): boolean => {
    if (u === target) return true;
    if (seen.has(u)) return false;
    seen.add(u);
    const r = byUrn.get(u);
    if (!r) return false;
    const deps = r.dependsOn.flatMap((d) => [d, ...under(d)]);
    // A provider reference is `<provider urn>::<provider id>`.
    const provider = r.provider ? r.provider.slice(0, r.provider.lastIndexOf("::")) : "";
    return deps.some(waitsFor) || (provider !== "" && waitsFor(provider)) || (r.parent !== "" && waitsFor(r.parent));
  };
  return waitsFor(urn);
}
