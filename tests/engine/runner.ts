/**
 * The program process: runs a Pulumi program the way the engine does, without
 * the Pulumi CLI. Started by harness.ts with ts-node (the CLI's TypeScript
 * loader), it installs `pulumi.runtime.setMocks` whose resource hook is the
 * engine's step logic (steps.ts): each dynamic resource's provider is loaded
 * from its `__provider` text and driven for real; native resources and
 * components get mock answers. Because a registration completes only when its
 * step does, dependants (by input or dependsOn) wait and independent
 * resources run in parallel, as under `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DoneMessage, RunnerMessage, StartMessage } from "./protocol";
import { Redactor } from "./secrets";
import { tagSshCommands } from "./step-tag";
import { Engine } from "./steps";
import { redactedOutputs } from "./outputs";

/**
 * Let registrations already under way (a provider being serialized) reach
 * the engine, so they are reported as skipped: wait for a quiet second.
 */
async function settle(engine: Engine): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = -1;
  while (engine.registrations() !== seen && Date.now() < deadline) {
    seen = engine.registrations();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function waitForRPCs(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  return settings.waitForRPCs();
}

function send(message: RunnerMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

async function run(start: StartMessage): Promise<DoneMessage> {
  const redactor = new Redactor();
  for (const key of start.secretKeys) {
    const text = start.config[key];
    redactor.add(text);
    try {
      redactor.add(JSON.parse(text));
    } catch {
      /* a plain string */
    }
  }
  pulumi.runtime.setAllConfig(start.config, start.secretKeys);
  tagSshCommands();
  const engine = new Engine(start.state, redactor, (e) => void send(e));
  await pulumi.runtime.setMocks(engine.mocks(), start.project, start.stack, false);
  engine.watchRegistrations(pulumi.runtime.getMonitor());

  let exports: Record<string, unknown> = {};
  let error: string | undefined;
  try {
    const program = pulumi.runtime.runInPulumiStack(async () => {
      // The CLI requires the program's main module; its exports are the stack outputs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exports = { ...require(start.program) };
      return exports;
    });
    const failed = engine.failed().then(() => settle(engine));
    await Promise.race([program, failed]);
    // As the CLI's Node host does before it exits: every registration still under way (resources no
    // output depends on) runs to its end.
    await Promise.race([waitForRPCs(), failed]);
  } catch (e) {
    error = engine.firstError() ?? redactor.redact(e instanceof Error ? e.message : String(e));
  }
  if (!error) await engine.deleteUnregistered();
  error ??= engine.firstError();
  const outputs = error ? {} : await redactedOutputs(exports);
  return { kind: "done", ok: !error, error, outputs, state: engine.state() };
}

process.once("message", (start: StartMessage) => {
  // A rejected registration also surfaces as an unhandled rejection; the engine has recorded it.
  process.on("unhandledRejection", () => undefined);
  run(start)
    .catch((e): DoneMessage => ({ kind: "done", ok: false, error: String(e instanceof Error ? e.message : e), outputs: {}, state: start.state }))
    .then(async (done) => {
      await send(done);
      process.exit(0);
    });
});

