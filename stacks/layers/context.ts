import type * as pulumi from "@pulumi/pulumi";
import type { NodeAccess } from "../../infra/providers/connection";
import type { Environment, Node, Secrets } from "../schema";

/** What every layer of an environment reads: the validated config, the secrets, each node's access. */
export interface EnvironmentContext {
  env: Environment;
  /** A secret Output; it stays one all the way down. */
  secrets: pulumi.Output<Secrets>;
  /** The SSH private key every machine accepts (a secret; one value, so components can tell it is shared); none with the SSH agent. */
  sshPrivateKey?: pulumi.Output<string>;
  /** Its public half ("ssh-ed25519 AAAA…"), not secret: what machines we create get in authorized_keys. None with the SSH agent. */
  sshPublicKey?: pulumi.Output<string>;
  /** The node's access (connection and key), derived once per node. */
  access(node: Node | string): NodeAccess;
}
