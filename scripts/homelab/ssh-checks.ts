/**
 * The real preflight and verify behind the command's hooks: over SSH to the
 * stack file's nodes, with the key in HOMELAB_SSH_KEY_FILE, else the
 * operator's ssh-agent (SSH_AUTH_SOCK). They need no Pulumi CLI, so they
 * cannot read the encrypted secrets.sshPrivateKey; the API token check runs
 * only where a caller passes the token (it is in the state).
 */
import * as fs from "node:fs";
import type { Environment } from "../../stacks/schema";
import { caBundlePath } from "../../infra/pve-ca";
import { REPO_ROOT, validateStackFile } from "../../stacks/stack-file";
import { main as trustCa } from "../trust-ca";
import { errorMessage } from "../../infra/errors";
import type { OutputMap } from "./driver";
import type { CheckOutcome, PreflightCheck, VerifyCheck } from "./hooks";
import { preflight } from "./preflight";
import type { ApiTokenAccess, OperatedEnvironment } from "./target";
import { verify } from "./verify";

interface Named {
  name: string;
  node?: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** The stack file's environment and the key that opens its nodes. */
export function sshTarget(stack: string, env: NodeJS.ProcessEnv = process.env, root?: string): OperatedEnvironment {
  const stackFile = validateStackFile(stack, root);
  const keyFile = env.HOMELAB_SSH_KEY_FILE;
  if (keyFile) return { stackFile, sshPrivateKey: fs.readFileSync(keyFile, "utf8") };
  if (!env.SSH_AUTH_SOCK) {
    throw new Error("no SSH key: set HOMELAB_SSH_KEY_FILE to the private key root on the nodes accepts, or load it into ssh-agent");
  }
  // Without a key file the operator's agent opens the nodes, whatever ssh.useAgent says.
  const environment = stackFile.environment ? ({ ...stackFile.environment, ssh: { ...stackFile.environment.ssh, useAgent: true } } as Environment) : undefined;
  return { stackFile: { ...stackFile, environment } };
}

/** One line per result; the failures again as the outcome's problems. */
function outcome(results: Named[], log: (line: string) => void): CheckOutcome {
  const line = (r: Named) => `${r.name}${r.node ? ` ${r.node}` : ""}: ${r.detail}${!r.ok && r.fix ? ` (${r.fix})` : ""}`;
  for (const r of results) log(`${r.ok ? "ok  " : "FAIL"} ${line(r)}`);
  const problems = results.filter((r) => !r.ok).map(line);
  return { ok: problems.length === 0, problems };
}

export function sshPreflight(env: NodeJS.ProcessEnv = process.env, root?: string): PreflightCheck {
  return async (stack, { verb, log, stackOutputs }) => {
    const target = sshTarget(stack, env, root);
    const withApi = Boolean(target.stackFile.environment?.apiAccess);
    // The CA first: the engine is opened (for the token) with the bundle in place.
    const ca = withApi ? [await trustClusterCa(stack, env, root, log)] : [];
    const apiToken = withApi && stackOutputs ? await tokenFromState(stackOutputs, log) : undefined;
    const report = await preflight({ ...target, ...(apiToken ? { apiToken } : {}) }, { deploy: verb !== "preflight" });
    return outcome([...report.checks.map((c) => ({ ...c, name: c.check })), ...ca], log);
  };
}

/** The API token of the stack's state (its `api` output), when it has one yet. */
export async function tokenFromState(stackOutputs: () => Promise<OutputMap>, log: (line: string) => void): Promise<ApiTokenAccess | undefined> {
  let outputs: OutputMap;
  try {
    outputs = await stackOutputs();
  } catch (e) {
    log(`  api-token: the stack's outputs could not be read (${errorMessage(e)}); the token is not checked`);
    return undefined;
  }
  const api = outputs.api?.value as { endpoint?: unknown; tokenId?: unknown; tokenSecret?: unknown } | undefined;
  if (!api || typeof api.endpoint !== "string" || typeof api.tokenId !== "string" || typeof api.tokenSecret !== "string") return undefined;
  return { endpoint: api.endpoint, tokenId: api.tokenId, secret: api.tokenSecret };
}

/**
 * The cluster CA for the API client (the native provider verifies the API's
 * certificate against SSL_CERT_FILE): `npm run trust-ca` on every deploy, so
 * no stack needs insecureTls and nobody has to remember to run it.
 */
async function trustClusterCa(stack: string, env: NodeJS.ProcessEnv, root: string | undefined, log: (line: string) => void): Promise<Named> {
  const lines: string[] = [];
  const keyFile = env.HOMELAB_SSH_KEY_FILE;
  const code = await trustCa([stack, ...(keyFile ? ["--identity", keyFile] : [])], (l) => lines.push(l), (l) => lines.push(l), { workDir: root, env });
  for (const l of lines) log(`  ${l}`);
  return code === 0
    ? { name: "cluster-ca", ok: true, detail: `the API client trusts ${caBundlePath(stack, root ?? REPO_ROOT)}` }
    : { name: "cluster-ca", ok: false, detail: lines.join("; ") || `trust-ca exited ${code}`, fix: "make the first node reachable with its pinned host key, then run the deploy again" };
}

export function sshVerify(env: NodeJS.ProcessEnv = process.env, root?: string): VerifyCheck {
  return async (stack, { log, drill }) => {
    const report = await verify(sshTarget(stack, env, root), { drill });
    return outcome(report.steps, log);
  };
}
