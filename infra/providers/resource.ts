/**
 * What every SSH-backed resource class passes to `pulumi.dynamic.Resource`
 * besides its own inputs. Program-side only (resource constructors), never
 * called from provider code.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONNECTION_SECRET_OUTPUTS } from "./connection";

/**
 * The key as a secret input (absent with an SSH agent) and the provider's
 * version, bumped when its behaviour changes so existing resources update (pulumi/pulumi#6490).
 */
export function sshResourceInputs(
  sshPrivateKey: pulumi.Input<string> | undefined,
  providerVersion: string,
): { sshPrivateKey: pulumi.Output<string> | undefined; providerVersion: string } {
  return { sshPrivateKey: sshPrivateKey === undefined ? undefined : pulumi.secret(sshPrivateKey), providerVersion };
}

/** `opts` with the connection's secret outputs, `extraSecrets` and the caller's own in additionalSecretOutputs. */
export function sshResourceOptions(opts: pulumi.CustomResourceOptions | undefined, extraSecrets: readonly string[] = []): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...new Set([...CONNECTION_SECRET_OUTPUTS, ...extraSecrets, ...(opts?.additionalSecretOutputs ?? [])])] };
}
