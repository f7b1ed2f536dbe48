/**
 * `npm run plan -- <stack> [--out <file>]`
 *
 * Prints the stack's offline plan (plan.ts), or writes it to `--out`. Needs no
 * Pulumi CLI, no credentials and no network. Exit 1 when the program fails
 * (an invalid stack file, a refusal), 2 on wrong usage.
 */
import * as fs from "node:fs";
import { renderPlan } from "./plan";

export const PLAN_USAGE = "usage: npm run plan -- <stack> [--out <file>]";

export function parsePlanArgs(argv: string[]): { stack: string; out?: string } | undefined {
  const rest = [...argv];
  let out: string | undefined;
  const at = rest.indexOf("--out");
  if (at >= 0) {
    out = rest[at + 1];
    if (!out || out.startsWith("-")) return undefined;
    rest.splice(at, 2);
  }
  if (rest.length !== 1 || rest[0].startsWith("-")) return undefined;
  return { stack: rest[0], out };
}

async function main(argv: string[]): Promise<number> {
  const args = parsePlanArgs(argv);
  if (!args) {
    console.error(PLAN_USAGE);
    return 2;
  }
  try {
    const plan = await renderPlan(args.stack);
    if (args.out) fs.writeFileSync(args.out, plan);
    // Written before the explicit exit below: a pipe takes large writes asynchronously.
    else await new Promise<void>((resolve) => process.stdout.write(plan, () => resolve()));
    return 0;
  } catch (err) {
    console.error(`plan ${args.stack}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  // Exit explicitly: the mocked runtime can leave timers behind.
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
