import type * as pulumi from "@pulumi/pulumi";
import type { NodeAccess, NodeConnection } from "../infra/providers/connection";
import type { Environment } from "./schema";

type EnvNode = Environment["nodes"][number];
type EnvHost = Environment["hosts"][number];

/** SSH connection details of one node, from the validated environment. */
export function nodeConnection(env: Environment, node: EnvNode): NodeConnection {
  const ssh = env.ssh;
  return {
    node: node.name,
    host: node.address,
    port: node.sshPort ?? ssh.port,
    user: ssh.user,
    hostKey: node.hostKey,
    insecureIgnoreHostKey: node.insecureIgnoreHostKey || undefined,
    agentSocket: ssh.useAgent ? process.env.SSH_AUTH_SOCK : undefined,
    options: {
      connectTimeoutMs: ssh.connectTimeoutSeconds * 1000,
      retries: ssh.retries,
      commandTimeoutMs: ssh.commandTimeoutSeconds * 1000,
    },
  };
}

/**
 * Every node's access (connection and key), derived once for the whole
 * environment, by node name. The key is absent when the SSH agent is used.
 */
export function nodeAccessByName(env: Environment, sshPrivateKey: pulumi.Input<string> | undefined): ReadonlyMap<string, NodeAccess> {
  return new Map(env.nodes.map((node) => [node.name, { connection: nodeConnection(env, node), sshPrivateKey }]));
}

/** SSH connection details of an existing plain Linux host. */
export function hostConnection(env: Environment, host: EnvHost): NodeConnection {
  return {
    ...sshDefaults(env),
    node: host.name,
    host: host.address,
    port: host.sshPort ?? env.ssh.port,
    user: host.sshUser ?? env.ssh.user,
    // The baseline needs root: another login user works through passwordless sudo.
    ...((host.sshUser ?? env.ssh.user) !== "root" ? { sudo: true } : {}),
    hostKey: host.hostKey,
  };
}

/** The environment's SSH user, port, agent and timeouts, for a machine whose address and key come from elsewhere. */
export function sshDefaults(env: Environment): Pick<NodeConnection, "port" | "user" | "agentSocket" | "options"> {
  const ssh = env.ssh;
  return {
    port: ssh.port,
    user: ssh.user,
    agentSocket: ssh.useAgent ? process.env.SSH_AUTH_SOCK : undefined,
    options: {
      connectTimeoutMs: ssh.connectTimeoutSeconds * 1000,
      retries: ssh.retries,
      commandTimeoutMs: ssh.commandTimeoutSeconds * 1000,
    },
  };
}

/** The QDevice (qnetd) host of the cluster: reached as root, since `pvecm qdevice setup` logs in there as root too. */
export function qdeviceConnection(env: Environment): NodeConnection | undefined {
  const q = env.cluster?.qdevice;
  if (!q) return undefined;
  return { ...sshDefaults(env), node: q.name, host: q.address, port: q.sshPort ?? env.ssh.port, user: "root", hostKey: q.hostKey };
}
