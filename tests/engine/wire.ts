/**
 * What a value looks like after the trip the dynamic-provider host gives it
 * (`Struct.fromJavaScript`, then the engine): keys sorted at every level, and
 * an `undefined` anywhere is an error ("Unexpected struct type."), as it is
 * under `pulumi up`.
 */
export function overTheWire(value: Record<string, unknown>): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as {
    Struct: { fromJavaScript(v: unknown): { toJavaScript(): Record<string, unknown> } };
  };
  try {
    return Struct.fromJavaScript(value).toJavaScript();
  } catch (e) {
    const where = undefinedPaths(value);
    throw new Error(`${(e as Error).message}${where.length ? ` (undefined at ${where.join(", ")}; the engine's dynamic-provider host refuses it too)` : ""}`);
  }
}

function undefinedPaths(value: unknown, at = ""): string[] {
  if (value === undefined) return [at || "(value)"];
  if (Array.isArray(value)) return value.flatMap((v, i) => undefinedPaths(v, `${at}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => undefinedPaths(v, at ? `${at}.${k}` : k));
  return [];
}
