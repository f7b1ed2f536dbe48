/**
 * Tags every SSH command a step runs with the step's URN, so the simulated
 * nodes' command log says which resource ran it (benchmarks attribute
 * commands per resource type with it). The tag travels as the SSH
 * environment variable PVE_SIM_STEP on each exec request; the simulator's
 * sshd accepts it (AcceptEnv) and its ForceCommand logs it. A real sshd
 * ignores it (no AcceptEnv), so the commands themselves are unchanged.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const currentStep = new AsyncLocalStorage<string>();
export const STEP_ENV = "PVE_SIM_STEP";

/** Run a step's provider calls with its URN as the tag of every command they start. */
export function runAsStep<T>(urn: string, fn: () => Promise<T>): Promise<T> {
  return currentStep.run(urn, fn);
}

type ExecCallback = (...args: unknown[]) => unknown;
type Exec = (this: unknown, command: string, opts: Record<string, unknown> | ExecCallback, cb?: ExecCallback) => unknown;

let installed = false;

/** Patch ssh2's Client.exec (the one module instance every provider requires) once per process. */
export function tagSshCommands(): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require("ssh2") as { Client: { prototype: { exec: Exec } } };
  const exec = Client.prototype.exec;
  Client.prototype.exec = function (this: unknown, command, opts, cb) {
    const step = currentStep.getStore();
    if (step === undefined) return exec.call(this, command, opts, cb);
    const [options, callback]: [Record<string, unknown>, ExecCallback | undefined] = typeof opts === "function" ? [{}, opts] : [opts ?? {}, cb];
    const env = { ...((options.env as Record<string, string> | undefined) ?? {}), [STEP_ENV]: step };
    return exec.call(this, command, { ...options, env }, callback);
  };
}
