/**
 * What a refresh preview found: the resources whose real state differs from
 * the recorded one, read from the engine's step events. Property names only:
 * their values may be secret.
 */
import type { EngineEvent } from "./driver";
import { urnName } from "./progress";
import type { DriftItem } from "./result";

interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  diffs?: string[];
  detailedDiff?: Record<string, unknown>;
  old?: { outputs?: Record<string, unknown> };
  new?: { outputs?: Record<string, unknown> };
}

const CHANGED_OPS = new Set(["update", "replace", "create-replacement", "delete-replaced"]);

/** Top-level output names whose values differ between the recorded and the read state. */
function differingOutputs(before: Record<string, unknown> = {}, after: Record<string, unknown> = {}): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => JSON.stringify(before[n]) !== JSON.stringify(after[n]));
}

/** The drift one step shows, if any. */
export function stepDrift(m: StepMetadata): DriftItem | undefined {
  // The stack itself and the provider instances carry no state of the nodes.
  if (m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:")) return undefined;
  const item = (kind: DriftItem["kind"], properties: string[]): DriftItem => ({
    urn: m.urn,
    type: m.type,
    name: urnName(m.urn),
    kind,
    properties: [...new Set(properties)].sort(),
  });
  if (m.op === "delete" || (m.op === "refresh" && m.old && !m.new)) return item("deleted", []);
  const listed = [...(m.diffs ?? []), ...Object.keys(m.detailedDiff ?? {})];
  if (CHANGED_OPS.has(m.op)) return item("changed", listed.length > 0 ? listed : differingOutputs(m.old?.outputs, m.new?.outputs));
  if (m.op === "refresh") {
    const properties = listed.length > 0 ? listed : differingOutputs(m.old?.outputs, m.new?.outputs);
    return properties.length > 0 ? item("changed", properties) : undefined;
  }
  return undefined;
}

/** Collects drift from a refresh preview's events (pass `onEvent` to the driver). */
export class DriftCollector {
  private readonly found = new Map<string, DriftItem>();

  readonly onEvent = (event: EngineEvent): void => {
    const metadata = event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata;
    if (!metadata) return;
    const drift = stepDrift(metadata);
    // The outputs event, when it comes, knows at least as much as the pre event.
    if (drift) this.found.set(drift.urn, drift);
  };

  items(): DriftItem[] {
    return [...this.found.values()].sort((a, b) => a.urn.localeCompare(b.urn));
  }
}
