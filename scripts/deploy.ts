/**
 * Scripted deployments through the Pulumi Automation API:
 *
 *   npx tsx scripts/deploy.ts <stack> preview|up|refresh|destroy [--no-refresh] [--yes]
 *
 * Needs the Pulumi CLI on PATH and PULUMI_CONFIG_PASSPHRASE(_FILE) for the
 * passphrase secrets provider. The decisions live in ./deployment.ts.
 */
import * as path from "node:path";
import { LocalWorkspace, type OpMap, type OutputMap } from "@pulumi/pulumi/automation";
import { caBundleEnv } from "../infra/pve-ca";
import { validateStackFile } from "../stacks/stack-file";
import { runDeployment, type ChangeSummary, type StackOps, type Verb } from "./deployment";

const VERBS: readonly Verb[] = ["preview", "up", "refresh", "destroy"];
const PROJECT_DIR = path.resolve(__dirname, "..");

function counts(map: OpMap | Record<string, number> | undefined): ChangeSummary {
  return Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [k, Number(v)]));
}

async function automationStack(stackName: string): Promise<StackOps> {
  // The cluster CA bundle written by `npm run trust-ca -- <stack>`, when there is one (SSL_CERT_FILE for the native provider).
  const stack = await LocalWorkspace.selectStack({ stackName, workDir: PROJECT_DIR }, { envVars: caBundleEnv(stackName, PROJECT_DIR) });
  const onOutput = (text: string) => process.stdout.write(text);
  return {
    refresh: async () => counts((await stack.refresh({ onOutput })).summary.resourceChanges),
    // preview --refresh reads the nodes without writing the state.
    preview: async ({ refresh }) => counts((await stack.preview({ onOutput, diff: true, refresh })).changeSummary),
    up: async ({ refresh }) => {
      const result = await stack.up({ onOutput, refresh });
      reportOutputs(result.outputs);
      return counts(result.summary.resourceChanges);
    },
    destroy: async () => counts((await stack.destroy({ onOutput })).summary.resourceChanges),
  };
}

/** Output names only, and values only when not secret. */
function reportOutputs(outputs: OutputMap): void {
  for (const [name, out] of Object.entries(outputs)) {
    console.log(`output ${name}: ${out.secret ? "[secret]" : JSON.stringify(out.value)}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [stack, verb] = argv;
  if (!stack || !VERBS.includes(verb as Verb)) {
    console.error(`usage: deploy.ts <stack> ${VERBS.join("|")} [--no-refresh] [--yes]`);
    return 2;
  }
  return runDeployment(stack, verb as Verb, validateStackFile(stack), () => automationStack(stack), console.log, {
    refreshFirst: !argv.includes("--no-refresh"),
    confirmDestroy: argv.includes("--yes"),
    pathEnv: process.env.PATH ?? "",
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
