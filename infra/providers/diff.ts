/**
 * Small helpers every dynamic provider's diff and polling loops share.
 * Plain function declarations only: provider code must not read exported
 * consts (they compile to `exports.X`, undefined once serialized).
 */

/** The value Pulumi passes for inputs not known yet during preview (pulumi/pulumi#6310). */
const PREVIEW_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Whether a value (or anything inside it) is still unknown at preview. The
 * engine hands a dynamic provider its inputs with `__provider`, the provider's
 * own serialized code, which contains this very marker: it is not an input.
 */
export function isUnknown(value: unknown): boolean {
  return JSON.stringify(value ?? null, (key, v) => (key === "__provider" ? undefined : v)).includes(PREVIEW_UNKNOWN);
}

/**
 * JSON with sorted keys and undefined fields dropped, for comparing values
 * whose key order and number/undefined handling change in transit (pulumi/pulumi#16582).
 */
export function stableJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .filter((k) => o[k] !== undefined)
          .sort()
          .map((k) => [k, norm(o[k])]),
      );
    }
    return v ?? null;
  };
  return JSON.stringify(norm(value));
}

/**
 * The object without its undefined fields: the engine's dynamic-provider host
 * refuses an undefined value in outputs ("Unexpected struct type."), so an
 * optional field that is not set must be absent, not undefined.
 */
export function definedFields<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
