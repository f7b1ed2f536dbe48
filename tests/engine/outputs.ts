import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARKER } from "./protocol";

/**
 * Stack outputs as the engine would store them, with every secret leaf
 * replaced by a marker: a secret nested in an exported object stays secret
 * on its own, the rest of the object stays readable.
 */
export async function redactedOutputs(exports: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exports)) {
    const r = await redact(v);
    if (r !== undefined) out[k] = r;
  }
  return out;
}

async function redact(v: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(v)) {
    if (await pulumi.isSecret(v)) return SECRET_MARKER;
    const inner = await new Promise<unknown>((resolve) => v.apply((x) => resolve(x)));
    return redact(inner);
  }
  if (v instanceof Promise) return redact(await v);
  if (Array.isArray(v)) return Promise.all(v.map(redact));
  if (v && typeof v === "object" && !pulumi.Resource.isInstance(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await redact(x);
    return out;
  }
  return v;
}
