/** `<verb> <stack> [flags]`, parsed strictly: an unknown flag is a usage error. */
import { parseArgs } from "node:util";
import type { Flags } from "./context";

export const USAGE =
  "npm run homelab -- <verb> <stack> [--json] [--yes] [--show-secrets] [--skip-preflight] [--no-refresh] [--drill]";

export type ParsedArgs = { verb: string; stack: string; flags: Flags } | { error: string } | { help: true };

export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean" },
        yes: { type: "boolean" },
        "show-secrets": { type: "boolean" },
        "skip-preflight": { type: "boolean" },
        "no-refresh": { type: "boolean" },
        drill: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    return { error: (err as Error).message.split("\n")[0] };
  }
  if (parsed.values.help) return { help: true };
  const [verb, stack, ...rest] = parsed.positionals;
  if (!verb || !stack || rest.length > 0) return { error: "expected a verb and a stack" };
  const v = parsed.values;
  return {
    verb,
    stack,
    flags: {
      json: v.json ?? false,
      yes: v.yes ?? false,
      showSecrets: v["show-secrets"] ?? false,
      skipPreflight: v["skip-preflight"] ?? false,
      noRefresh: v["no-refresh"] ?? false,
      drill: v.drill ?? false,
    },
  };
}
