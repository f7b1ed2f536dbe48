import * as pulumi from "@pulumi/pulumi";
import { buildEnvironment, EnvironmentOutputs } from "./environment";
import { parseEnvironment } from "./errors";
import type { Secrets } from "./schema";
import { environmentWarnings } from "./warnings";

/**
 * Validate the stack's config, then register the environment. Validation
 * runs before any resource exists, so a bad stack file changes nothing.
 */
export function runProgram(): EnvironmentOutputs {
  const config = new pulumi.Config("homelab");
  const raw = config.requireObject<unknown>("environment");
  // Read raw (not via getSecretObject) only to validate shape and presence;
  // the values used by resources come from requireSecretObject below.
  const rawSecrets = readRawSecrets();
  // An absent homelab:secrets is checked like an empty one, so a missing key is reported here.
  const env = parseEnvironment(raw, rawSecrets ?? {});
  for (const warning of environmentWarnings(raw)) void pulumi.log.warn(warning);
  const secrets = config.getSecretObject<Secrets>("secrets") ?? pulumi.secret({} as Secrets);
  return buildEnvironment(env, secrets, new Set(Object.keys(passwordHashKeys(rawSecrets))));
}

function passwordHashKeys(rawSecrets: unknown): Record<string, unknown> {
  const hashes = (rawSecrets as { userPasswordHashes?: unknown } | undefined)?.userPasswordHashes;
  return hashes && typeof hashes === "object" ? (hashes as Record<string, unknown>) : {};
}

function readRawSecrets(): unknown {
  const text = pulumi.runtime.getConfig("homelab:secrets");
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
