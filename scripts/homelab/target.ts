/**
 * An environment as `preflight` and `verify` operate on it: the stack file's
 * validation (its environment is what is checked) and what reaches the nodes,
 * the SSH key the program uses (secrets.sshPrivateKey, absent with
 * ssh.useAgent) and, once the stack has one, the API token from its state.
 */
import type { ConnectionArgs } from "../../infra/providers/connection";
import { nodeConnection } from "../../stacks/connections";
import type { Environment } from "../../stacks/schema";
import type { StackFileResult } from "../../stacks/stack-file";

/** The Proxmox API token of a deployed stack (its `api` output); the secret stays in memory only. */
export interface ApiTokenAccess {
  /** `https://<address>:8006/`. */
  endpoint: string;
  /** `automation@pve!pulumi`. */
  tokenId: string;
  secret: string;
}

export interface OperatedEnvironment {
  /** validateStackFile's result; its environment is the one operated on. */
  stackFile: StackFileResult;
  /** secrets.sshPrivateKey; absent when ssh.useAgent (then SSH_AUTH_SOCK is used). */
  sshPrivateKey?: string;
  /** The stack's API token, when its state has one. */
  apiToken?: ApiTokenAccess;
}

/** A valid environment as an OperatedEnvironment (the stack file already validated). */
export function operatedEnvironment(environment: Environment, sshPrivateKey?: string, apiToken?: ApiTokenAccess): OperatedEnvironment {
  return { stackFile: { file: environment.name, issues: [], environment }, sshPrivateKey, ...(apiToken ? { apiToken } : {}) };
}

/** How to reach one node: the program's own connection (stacks/connections.ts) and key. */
export function nodeArgs(target: OperatedEnvironment, env: Environment, name: string): ConnectionArgs {
  const node = env.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`${name}: no such node in environment ${env.name}`);
  return { connection: nodeConnection(env, node), sshPrivateKey: env.ssh.useAgent ? undefined : target.sshPrivateKey };
}
