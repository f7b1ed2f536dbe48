/**
 * The real StackDriver: the Pulumi Automation API on this folder
 * (LocalWorkspace), needing the Pulumi CLI on PATH. Thin on purpose: every
 * decision lives in the verbs.
 */
import * as fs from "node:fs";
import { LocalWorkspace, type OpMap } from "@pulumi/pulumi/automation";
import { caBundleEnv } from "../../infra/pve-ca";
import { policyPackPath } from "../../stacks/policy/path";
import { REPO_ROOT } from "../../stacks/stack-file";
import type { StackDriver } from "./driver";
import { backendUrl, FILE_BACKEND_PREFIX } from "./environment";
import type { ChangeSummary } from "./steps";

function counts(map: OpMap | Record<string, number> | undefined): ChangeSummary {
  return Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [k, Number(v)]));
}

export async function automationDriver(stackName: string, env: NodeJS.ProcessEnv = process.env, root = REPO_ROOT): Promise<StackDriver> {
  const backend = backendUrl(env, root);
  // The file backend wants its folder to exist; it holds state, so only the owner reads it.
  if (backend.startsWith(FILE_BACKEND_PREFIX)) fs.mkdirSync(backend.slice(FILE_BACKEND_PREFIX.length), { recursive: true, mode: 0o700 });
  const stack = await LocalWorkspace.selectStack(
    { stackName, workDir: root },
    // The cluster CA bundle written by `npm run trust-ca -- <stack>`, when there is one (SSL_CERT_FILE for the native provider).
    { envVars: { ...caBundleEnv(stackName, root), PULUMI_BACKEND_URL: backend } },
  );
  return {
    // The policy pack (the hard rules) applies to every preview and up.
    preview: async ({ onEvent, refresh }) => counts((await stack.preview({ onEvent, refresh, diff: true, policyPacks: [policyPackPath()] })).changeSummary),
    up: async ({ onEvent, refresh }) => {
      const result = await stack.up({ onEvent, refresh, policyPacks: [policyPackPath()] });
      return { changes: counts(result.summary.resourceChanges), outputs: result.outputs };
    },
    refresh: async ({ onEvent }) => counts((await stack.refresh({ onEvent })).summary.resourceChanges),
    previewRefresh: async ({ onEvent }) => counts((await stack.previewRefresh({ onEvent })).changeSummary),
    destroy: async ({ onEvent }) => counts((await stack.destroy({ onEvent })).summary.resourceChanges),
    outputs: () => stack.outputs(),
  };
}
