/** isUnknown sees preview unknowns in inputs, not in the provider's own serialized code. */
import { describe, expect, it } from "vitest";
import { isUnknown } from "../infra/providers/diff";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("isUnknown", () => {
  it("finds an unknown anywhere in the inputs", () => {
    expect(isUnknown({ connection: { host: UNKNOWN } })).toBe(true);
    expect(isUnknown(UNKNOWN)).toBe(true);
  });

  it("ignores __provider, whose code carries the marker (the engine passes it with the inputs)", () => {
    const provider = `exports.handler = __f0; const PREVIEW_UNKNOWN = "${UNKNOWN}";`;
    expect(isUnknown({ __provider: provider, content: "auto lo" })).toBe(false);
    expect(isUnknown({ __provider: provider, content: UNKNOWN })).toBe(true);
  });
});
