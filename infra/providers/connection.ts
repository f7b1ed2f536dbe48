/**
 * How a dynamic provider reaches its node. Every SSH-backed resource carries
 * these inputs and echoes them into its outputs, because `read` and `delete`
 * only receive the stored outputs. The private key travels as its own secret
 * input and is listed in `additionalSecretOutputs` by every resource class.
 */
import type { Input } from "@pulumi/pulumi";
import type { SshOptions, SshTarget } from "../ssh";

/** Non-secret connection details of one node. */
export interface NodeConnection {
  /** Node name (used in every error message). */
  node: string;
  /** Management address. */
  host: string;
  /** SSH port. */
  port: number;
  /** Login user (root on Proxmox). */
  user: string;
  /** Run every command through `sudo -n` (a login user that is not root). Defaults to false. */
  sudo?: boolean;
  /** Pinned `SHA256:` host key fingerprint. */
  hostKey?: string;
  /** Host key pinning disabled for this node. */
  insecureIgnoreHostKey?: boolean;
  /** Connect timeout, retries and default command timeout. */
  options?: SshOptions;
  /** Use the SSH agent at this socket instead of a private key. */
  agentSocket?: string;
}

/**
 * One node as a component reaches it: its connection and the key that opens
 * it, derived once per node and handed around as one value (spread it into a
 * resource's args: the fields are the resource's own connection inputs).
 */
export interface NodeAccess {
  connection: NodeConnection;
  /** Root SSH private key; a secret. Absent when `connection.agentSocket` is used. */
  sshPrivateKey?: Input<string>;
}

/**
 * A connection as a program hands it to a resource when the address or the
 * pinned host key is known only once another resource exists (a new cloud
 * machine's address, a host key generated for it or recorded on first use);
 * the engine resolves them before the provider sees a NodeConnection.
 */
export type ConnectionInput = Omit<NodeConnection, "host" | "hostKey"> & { host: Input<string>; hostKey?: Input<string> };

/**
 * Any Linux host as a component reaches it: a NodeAccess, or one whose host
 * key comes from another resource (a new cloud machine's generated key).
 */
export interface HostAccess {
  connection: ConnectionInput;
  /** SSH private key; a secret. Absent when `connection.agentSocket` is used. */
  sshPrivateKey?: Input<string>;
}

/** The inputs (and echoed outputs) every SSH-backed resource has. */
export interface ConnectionArgs {
  connection: NodeConnection;
  /** Secret. Absent when `connection.agentSocket` is used. */
  sshPrivateKey?: string;
}

/** Output names that must stay secret on every SSH-backed resource. */
export const CONNECTION_SECRET_OUTPUTS = ["sshPrivateKey"];

export function sshTarget(args: ConnectionArgs): SshTarget {
  const c = args.connection;
  return {
    node: c.node,
    host: c.host,
    port: c.port,
    username: c.user,
    sudo: c.sudo,
    privateKey: args.sshPrivateKey,
    agent: c.agentSocket,
    hostKey: c.hostKey,
    insecureIgnoreHostKey: c.insecureIgnoreHostKey,
  };
}

export function sshOptions(args: ConnectionArgs): SshOptions {
  return args.connection.options ?? {};
}
