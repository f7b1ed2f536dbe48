import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "./child-options";

/** Type token of the ApiCertificates component. */
export const API_CERTIFICATES_TYPE = "homelab:proxmox:ApiCertificates";

/** ACME for some nodes: one account, an optional DNS plugin, each node's domains. */
export interface AcmeArgs {
  /** Account name in Proxmox. */
  account: string;
  email: string;
  directory: string;
  /** Agreeing to the CA's terms of service (Let's Encrypt requires it). */
  tosUrl?: string;
  /** DNS challenge through this plugin; absent: the standalone HTTP challenge (port 80 on the node). */
  dnsPlugin?: { id: string; api: string; validationDelay?: number; /** acme.sh variables; a secret. */ data: pulumi.Input<Record<string, string>> };
  nodes: { node: string; domains: string[] }[];
}

export interface ApiCertificatesArgs {
  /** The native provider (ApiAccess.provider). */
  provider: proxmoxve.Provider;
  acme?: AcmeArgs;
  /** Certificates of your own: PEM certificate, key and chain per node; secrets. */
  custom?: { node: string; pem: pulumi.Input<{ certificate: string; privateKey: string; chain?: string }> }[];
}

/**
 * The nodes' API certificates through the native provider's resources:
 * an ACME account, a DNS plugin, an ACME certificate per node (pveproxy
 * reloads with it), or a certificate and key of your own per node. Order it
 * after the cluster and API access (`dependsOn`): the account and plugin are
 * cluster-wide, in pmxcfs. Private keys and plugin data stay secrets.
 */
export class ApiCertificates extends pulumi.ComponentResource {
  readonly acmeCertificates: proxmoxve.acme.Certificate[] = [];
  readonly customCertificates: proxmoxve.CertificateLegacy[] = [];

  constructor(name: string, args: ApiCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(API_CERTIFICATES_TYPE, name, { acme: args.acme?.nodes.map((n) => n.node) ?? [], custom: args.custom?.map((c) => c.node) ?? [] }, opts);
    const native = (o: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions => ({ ...o, provider: args.provider });

    const acme = args.acme;
    if (acme) {
      const account = new proxmoxve.acme.Account(
        `${name}-acme-account`,
        { name: acme.account, contact: acme.email, directory: acme.directory, tos: acme.tosUrl },
        native(childOptions(this, opts)),
      );
      const plugin = acme.dnsPlugin
        ? new proxmoxve.acme.dns.Plugin(
            `${name}-acme-dns-${acme.dnsPlugin.id}`,
            { plugin: acme.dnsPlugin.id, api: acme.dnsPlugin.api, data: pulumi.secret(acme.dnsPlugin.data), validationDelay: acme.dnsPlugin.validationDelay },
            native({ ...childOptions(this, opts), additionalSecretOutputs: ["data"] }),
          )
        : undefined;
      for (const n of acme.nodes) {
        this.acmeCertificates.push(
          new proxmoxve.acme.Certificate(
            `${name}-${n.node}-acme`,
            {
              nodeName: n.node,
              account: account.name,
              domains: n.domains.map((domain) => (plugin ? { domain, plugin: plugin.plugin } : { domain })),
            },
            native(childOptions(this, opts, plugin ? [account, plugin] : [account])),
          ),
        );
      }
    }
    for (const c of args.custom ?? []) {
      const pem = pulumi.secret(c.pem);
      this.customCertificates.push(
        new proxmoxve.CertificateLegacy(
          `${name}-${c.node}-certificate`,
          {
            nodeName: c.node,
            certificate: pem.apply((p) => p.certificate),
            privateKey: pem.apply((p) => p.privateKey),
            certificateChain: pem.apply((p) => p.chain ?? ""),
            overwrite: true,
          },
          native({ ...childOptions(this, opts), additionalSecretOutputs: ["privateKey"] }),
        ),
      );
    }
    this.registerOutputs({});
  }
}
