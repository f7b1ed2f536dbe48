import * as pulumi from "@pulumi/pulumi";
import { ProxmoxNode } from "../components/proxmox-node";
import { nodeConnection } from "./connections";
import type { Environment, Secrets } from "./schema";

/** What a stack exports. */
export interface EnvironmentOutputs {
  nodes: Record<string, { address: string; pveVersion: pulumi.Output<string> }>;
}

/**
 * Compose one environment from its validated config. Secrets arrive as a
 * secret Output and stay one all the way down.
 */
export function buildEnvironment(env: Environment, secrets: pulumi.Output<Secrets>): EnvironmentOutputs {
  const sshPrivateKey = env.ssh.useAgent ? undefined : secrets.apply((s) => s.sshPrivateKey ?? "");
  const nodes: EnvironmentOutputs["nodes"] = {};
  for (const node of env.nodes) {
    const proxmoxNode = new ProxmoxNode(`${env.name}-${node.name}`, {
      connection: nodeConnection(env, node),
      sshPrivateKey,
    });
    nodes[node.name] = { address: node.address, pveVersion: proxmoxNode.pveVersion };
  }
  return { nodes };
}
