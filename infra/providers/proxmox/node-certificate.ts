/**
 * NodeCertificate: the node's own API certificate (`pve-ssl.pem`, signed by
 * the cluster CA) names the address the node is reached at, or it is made
 * again with `pvecm updatecerts --force` (then pveproxy restarts to serve it).
 *
 * Proxmox makes it when the cluster is created or a node joins, and
 * `pve-cluster.service` runs `pvecm updatecerts --silent` at start, which
 * only creates missing files. A node whose address changed later (a new
 * management address in the stack file, written to /etc/hosts by the
 * baseline) keeps a certificate for the old one, which no client verifies
 * against the cluster CA. A node serving its own certificate
 * (pveproxy-ssl.pem: ACME or custom) is left alone: pveproxy does not serve
 * pve-ssl.pem there.
 *
 * A dynamic provider: the step must read first (idempotence: a certificate
 * that names the address runs nothing) and read back, and `read` reports
 * whether it still does.
 */
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { describeError } from "../../errors";
import { command, inCLocale } from "../../shell";
import { SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { isUnknown, stableJson } from "../diff";
import { sshResourceInputs, sshResourceOptions } from "../resource";

// infra/pve-ca.ts's paths, repeated: provider code must not read exported consts (diff.ts).
/** The node's API certificate, signed by the cluster CA. */
const PVE_NODE_CERT = "/etc/pve/local/pve-ssl.pem";
/** A certificate of its own (ACME or uploaded), which pveproxy serves instead. */
const PVE_CUSTOM_CERT = "/etc/pve/local/pveproxy-ssl.pem";

/** Bump when the provider's behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const NODE_CERTIFICATE_PROVIDER_VERSION = "1";

export interface NodeCertificateInputs extends ConnectionArgs {
  providerVersion: string;
  /** The address clients reach the node's API at. */
  address: string;
}

export interface NodeCertificateOutputs extends NodeCertificateInputs {
  /** pve-ssl.pem's subjectAltName as openssl would print it. */
  names: string;
  /** Whether pve-ssl.pem names `address`. */
  namesAddress: boolean;
  /** The node serves pveproxy-ssl.pem (ACME or custom) instead. */
  customCertificate: boolean;
}

export class NodeCertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "NodeCertificateError";
  }
  toString(): string {
    return describeError(this);
  }
}

interface Observed {
  names: string;
  namesAddress: boolean;
  customCertificate: boolean;
}

async function observe(session: SshSession, address: string): Promise<Observed> {
  const custom = await session.run(command("test", "-e", PVE_CUSTOM_CERT));
  const pem = (await session.check(command("cat", PVE_NODE_CERT))).stdout;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new NodeCertificateError(`${session.node}: ${PVE_NODE_CERT} is not a PEM certificate (${(err as Error).message})`);
  }
  return { names: cert.subjectAltName ?? "", namesAddress: cert.checkIP(address) !== undefined, customCertificate: custom.code === 0 };
}

async function apply(inputs: NodeCertificateInputs): Promise<NodeCertificateOutputs> {
  return withSession(
    sshTarget(inputs),
    async (session) => {
      const before = await observe(session, inputs.address);
      if (before.customCertificate || before.namesAddress) return { ...inputs, ...before };
      const cmd = inCLocale(command("pvecm", "updatecerts", "--force"));
      const result = await session.run(cmd);
      const after = await observe(session, inputs.address);
      if (result.code !== 0 || !after.namesAddress) {
        throw new NodeCertificateError(
          `${session.node}: pvecm updatecerts --force (exit ${result.code}) left ${PVE_NODE_CERT} without ${inputs.address} ` +
            `(it names ${after.names || "nothing"}); the address comes from what the node's hostname resolves to in /etc/hosts` +
            (result.stderr.trim() ? `:\n${result.stderr.trim()}` : ""),
        );
      }
      // pveproxy keeps serving the certificate it loaded at start.
      await session.check(inCLocale(command("systemctl", "restart", "pveproxy")));
      return { ...inputs, ...after };
    },
    sshOptions(inputs),
  );
}

export const nodeCertificateProvider: pulumi.dynamic.ResourceProvider<NodeCertificateInputs, NodeCertificateOutputs> = {
  async create(inputs) {
    const outs = await apply(inputs);
    return { id: `${inputs.connection.node}-node-certificate`, outs };
  },

  async read(id, props) {
    if (!props) throw new NodeCertificateError(`${id}: no stored state to refresh from`);
    const seen = await withSession(sshTarget(props), (session) => observe(session, props.address), sshOptions(props));
    return { id, props: { ...props, ...seen } };
  },

  async diff(_id, olds, news) {
    const changes =
      isUnknown(news) ||
      olds.address !== news.address ||
      stableJson(olds.connection) !== stableJson(news.connection) ||
      (olds.sshPrivateKey ?? "") !== (news.sshPrivateKey ?? "") ||
      olds.providerVersion !== news.providerVersion ||
      // refreshed state: the certificate no longer names the address
      (!olds.namesAddress && !olds.customCertificate);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id, _olds, news) {
    return { outs: await apply(news) };
  },

  async delete() {
    // The node keeps its certificate.
  },
};

export interface NodeCertificateArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  sshPrivateKey?: pulumi.Input<string>;
  address: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/proxmox:NodeCertificate`. */
export class NodeCertificate extends pulumi.dynamic.Resource {
  declare readonly namesAddress: pulumi.Output<boolean>;

  constructor(name: string, args: NodeCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      nodeCertificateProvider,
      name,
      { ...args, ...sshResourceInputs(args.sshPrivateKey, NODE_CERTIFICATE_PROVIDER_VERSION), names: undefined, namesAddress: undefined, customCertificate: undefined },
      sshResourceOptions(opts),
      "proxmox",
      "NodeCertificate",
    );
  }
}
