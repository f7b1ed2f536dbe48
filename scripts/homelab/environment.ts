/**
 * What a verb needs from the operator's environment before it touches a stack:
 * the Pulumi CLI, the backend, and the passphrase of the passphrase secrets
 * provider. Each problem is one line saying what to do.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pulumiCliOnPath } from "../../stacks/esc";
import { PULUMI_CLI_MISSING } from "./steps";

export const FILE_BACKEND_PREFIX = "file://";

/** PULUMI_BACKEND_URL when set, else the repository's own `.pulumi-state` folder. */
export function backendUrl(env: NodeJS.ProcessEnv, root: string): string {
  return env.PULUMI_BACKEND_URL || `${FILE_BACKEND_PREFIX}${path.join(root, ".pulumi-state")}`;
}

/**
 * The file backend keeps secrets with the passphrase provider, which needs
 * PULUMI_CONFIG_PASSPHRASE or a readable PULUMI_CONFIG_PASSPHRASE_FILE.
 */
export function passphraseProblem(env: NodeJS.ProcessEnv, root: string): string | undefined {
  if (!backendUrl(env, root).startsWith(FILE_BACKEND_PREFIX)) return undefined;
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return undefined;
  const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (file) {
    try {
      fs.accessSync(file, fs.constants.R_OK);
      return undefined;
    } catch {
      return `PULUMI_CONFIG_PASSPHRASE_FILE=${file} cannot be read; point it at the file holding the stack's passphrase`;
    }
  }
  return "no passphrase for the stack's secrets; export PULUMI_CONFIG_PASSPHRASE=<passphrase> or PULUMI_CONFIG_PASSPHRASE_FILE=<file>";
}

/** The first reason a verb that runs the engine cannot start, if any. */
export function engineProblem(env: NodeJS.ProcessEnv, root: string): string | undefined {
  if (!pulumiCliOnPath(env.PATH)) return PULUMI_CLI_MISSING;
  return passphraseProblem(env, root);
}
