import * as linode from "@pulumi/linode";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import YAML from "yaml";
import type { HostAccess, NodeConnection } from "../infra/providers/connection";
import { SshReady } from "../infra/providers/linux/ssh-ready";
import { openSshFingerprint } from "../infra/ssh";
import { childOptions } from "./child-options";

/** Type token of the LinodeHost component. */
export const LINODE_HOST_TYPE = "homelab:linode:Host";

/** One inbound rule of the host's Cloud Firewall. */
export interface LinodeFirewallRule {
  /** Rule label (shown in the Linode console). */
  label: string;
  protocol: "TCP" | "UDP" | "ICMP";
  /** "22", "6443", "2379-2380"; none for ICMP. */
  ports?: string;
  /** Source IPv4 networks (CIDR). */
  sources: string[];
}

/** Arguments of one Linode instance. */
export interface LinodeHostArgs {
  /** Instance label (also the host's name in every error). */
  label: string;
  /** Region, e.g. "eu-central". */
  region: string;
  /** Plan, e.g. "g6-standard-2". */
  type: string;
  /** Image, e.g. "linode/debian12" (it must support cloud-init, which installs the host key). */
  image: string;
  /** Tags. Defaults to none. */
  tags?: string[];
  /** Give the instance an address on the region's private network. Defaults to true. */
  privateIp?: boolean;
  /** Public keys allowed to log in as root. */
  authorizedKeys: string[];
  /** Inbound rules; everything else inbound is dropped, outbound is open. */
  firewall: LinodeFirewallRule[];
  /** How our SSH reaches the host (user, port, timeouts, key); the address and host key come from the instance. */
  ssh: Omit<NodeConnection, "node" | "host" | "hostKey" | "insecureIgnoreHostKey"> & { sshPrivateKey?: pulumi.Input<string> };
  /** Seconds to wait for SSH after creation. Defaults to 600. */
  readyTimeoutSeconds?: number;
}

/** The cloud-config that installs the generated host key (and only it) before sshd starts. */
export function hostKeyCloudConfig(privateKeyOpenssh: string, publicKeyOpenssh: string): string {
  const doc = {
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: privateKeyOpenssh, ed25519_public: publicKeyOpenssh.trim() },
  };
  // No line folding: the key lines stay whole.
  return `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

/**
 * A Linode instance behind its own Cloud Firewall, whose SSH host key is
 * generated here and handed over through the metadata service's cloud-init
 * user data, so the very first connection already pins it: no connection
 * ever trusts an unknown key. The root password is random and stays a
 * secret. Ready once SSH answers with that key and cloud-init has finished.
 */
export class LinodeHost extends pulumi.ComponentResource {
  /** The instance. */
  readonly instance: linode.Instance;
  /** Public IPv4 address. */
  readonly address: pulumi.Output<string>;
  /** Address on the region's private network (empty without privateIp). */
  readonly privateAddress: pulumi.Output<string>;
  /** `SHA256:` fingerprint of the generated host key. */
  readonly hostKey: pulumi.Output<string>;
  /** How to reach the host, its key pinned; for HostBaseline and the rest. */
  readonly access: HostAccess;
  /** Wait on this before the first command on the host. */
  readonly ready: SshReady;

  constructor(name: string, args: LinodeHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(LINODE_HOST_TYPE, name, { label: args.label, region: args.region, type: args.type }, opts);
    const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, childOptions(this, opts));
    this.hostKey = hostKey.publicKeyOpenssh.apply(openSshFingerprint);
    const rootPassword = new random.RandomPassword(`${name}-root-password`, { length: 32, special: true }, childOptions(this, opts));
    const firewall = new linode.Firewall(
      `${name}-firewall`,
      {
        label: `fw-${args.label}`,
        inboundPolicy: "DROP",
        outboundPolicy: "ACCEPT",
        inbounds: args.firewall.map((rule) => ({
          label: rule.label,
          action: "ACCEPT",
          protocol: rule.protocol,
          ports: rule.ports,
          ipv4s: rule.sources,
        })),
        tags: args.tags,
      },
      childOptions(this, opts),
    );
    const userData = pulumi
      .all([hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh])
      .apply(([priv, pub]) => Buffer.from(hostKeyCloudConfig(priv, pub)).toString("base64"));
    this.instance = new linode.Instance(
      `${name}-instance`,
      {
        label: args.label,
        region: args.region,
        type: args.type,
        image: args.image,
        tags: args.tags,
        privateIp: args.privateIp ?? true,
        authorizedKeys: args.authorizedKeys,
        rootPass: pulumi.secret(rootPassword.result),
        // Attached at creation: the machine never boots without its firewall.
        firewallId: firewall.id.apply(Number),
        metadatas: [{ userData: pulumi.secret(userData) }],
      },
      { ...childOptions(this, opts), additionalSecretOutputs: ["rootPass", "metadatas"] },
    );
    this.address = this.instance.ipAddress;
    this.privateAddress = this.instance.privateIpAddress.apply((a) => a ?? "");
    const { sshPrivateKey, ...ssh } = args.ssh;
    const connection = { ...ssh, node: args.label, host: this.address, hostKey: this.hostKey };
    this.ready = new SshReady(
      `${name}-ssh`,
      {
        connection,
        sshPrivateKey,
        timeoutSeconds: args.readyTimeoutSeconds,
      },
      { parent: this, dependsOn: [this.instance] },
    );
    this.access = { connection, sshPrivateKey };
    this.registerOutputs({ address: this.address, privateAddress: this.privateAddress, hostKey: this.hostKey });
  }
}
