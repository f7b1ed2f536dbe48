/**
 * The verbs of `npm run homelab -- <verb> <stack>`: one line each. A verb
 * says whether it runs the engine (then it needs the Pulumi CLI and the
 * passphrase) and whether it destroys (then it asks, or needs --yes).
 */
import type { VerbSpec } from "./context";
import { drift } from "./verbs/drift";
import { kubeconfig } from "./verbs/kubeconfig";
import { destroy, preview, refresh, up } from "./verbs/operations";
import { outputs } from "./verbs/outputs";
import { diagram, plan } from "./verbs/plan";
import { preflightVerb, verifyVerb } from "./verbs/checks";
import { test } from "./verbs/test";
import { validate } from "./verbs/validate";

export const VERBS: Readonly<Record<string, VerbSpec>> = {
  validate,
  plan,
  diagram,
  preflight: preflightVerb,
  verify: verifyVerb,
  preview,
  up,
  refresh,
  drift,
  destroy,
  test,
  outputs,
  kubeconfig,
};
