/** `validate <stack>`: the stack file against the schema; no Pulumi CLI needed. */
import type { VerbSpec } from "../context";
import { checkStackFile } from "./prepare";

export const validate: VerbSpec = {
  summary: "check the stack file against the schema (no Pulumi CLI needed)",
  engine: false,
  destructive: false,
  run: async (ctx) => {
    await checkStackFile(ctx, "fix them and run validate again");
  },
};
