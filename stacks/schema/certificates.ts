/**
 * API certificates (`certificates`): ACME certificates for nodes' APIs (one
 * account, DNS challenge through one DNS plugin or the standalone HTTP
 * challenge), or a certificate and key of your own per node (the PEM text in
 * homelab:secrets.certificates). Nodes with neither keep the certificate
 * signed by the cluster's own CA, which `npm run trust-ca` makes verifiable.
 * Needs apiAccess: the native provider's certificate resources use the API.
 */
import { integer, list, mapping, text } from "./fields";
import { show } from "./messages";
import { isLabel, isRecord, isString } from "./predicates";
import type { PathIssue } from "./views";

/** A DNS name of at least two labels (what an ACME CA issues for); a `*.` wildcard only with a DNS challenge. */
export function isDnsName(v: unknown): v is string {
  if (!isString(v) || v.length > 253) return false;
  const labels = v.replace(/^\*\./, "").split(".");
  return labels.length >= 2 && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l)) && !/^\d+$/.test(labels[labels.length - 1]);
}

const isEmail = (v: string) => /^[A-Za-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}$/.test(v) && isDnsName(v.split("@")[1]);
const isHttpsUrl = (v: string) => /^https:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~%/+-]*)?$/.test(v);
/** acme.sh DNS API names as Proxmox lists them (cf, route53, hetzner, …). */
const isDnsApi = (v: string) => /^[a-z0-9_]{2,32}$/.test(v);

export const LETSENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

export const CertificatesSchema = mapping(
  {
    /** ACME certificates for some nodes' APIs. */
    acme: mapping(
      {
        /** Name of the ACME account in Proxmox. Defaults to "default". */
        account: text("an account name (lowercase letters, digits and hyphens)", isLabel).default("default"),
        /** Contact email of the account. */
        email: text("an email address", isEmail),
        /** ACME directory URL. Defaults to Let's Encrypt production. */
        directory: text("an https URL", isHttpsUrl).default(LETSENCRYPT_DIRECTORY),
        /** URL of the CA's terms of service; setting it agrees to them (Let's Encrypt requires it). */
        tosUrl: text("an https URL", isHttpsUrl).optional(),
        /** DNS challenge through this acme.sh DNS plugin; its API data go in homelab:secrets.acmeDnsPluginData. Without it: HTTP challenge on port 80. */
        dnsPlugin: mapping(
          {
            /** Plugin ID in Proxmox. */
            id: text("a plugin ID (lowercase letters, digits and hyphens)", isLabel),
            /** acme.sh DNS API, e.g. cf (Cloudflare), hetzner, route53. */
            api: text("a DNS API name (e.g. cf, hetzner, route53)", isDnsApi),
            /** Seconds to wait before validation (long DNS TTLs). */
            validationDelay: integer("seconds", 0, 172800).optional(),
          },
          "a mapping with the DNS plugin's id and api",
        ).optional(),
        /** The nodes that get an ACME certificate, each with its domains. */
        nodes: list(
          mapping(
            {
              node: text("a node name", isLabel),
              domains: list(text("a DNS name (e.g. pve1.example.org)", isDnsName), "a list of DNS names").min(1, { error: "empty; list at least one DNS name" }),
            },
            "a mapping with node and domains",
          ),
          "a list of nodes with their domains",
        ).min(1, { error: "empty; list the nodes that get a certificate" }),
      },
      "a mapping with the ACME account's email and the nodes",
    ).optional(),
    /** Nodes that serve a certificate and key of your own: homelab:secrets.certificates.<node>. */
    custom: list(mapping({ node: text("a node name", isLabel) }, "a mapping with node"), "a list of nodes").default([]),
  },
  "a mapping of API certificate settings (acme, custom)",
);

/** Certificates need apiAccess; nodes exist and have one certificate source each; wildcards need DNS. */
export function checkCertificates(value: Record<string, unknown>): PathIssue[] {
  const certs = isRecord(value.certificates) ? value.certificates : undefined;
  if (!certs) return [];
  const issues: PathIssue[] = [];
  if (!isRecord(value.apiAccess)) {
    issues.push({ path: ["certificates"], message: "needs apiAccess: certificates are set through the Proxmox API" });
  }
  const names = new Set((Array.isArray(value.nodes) ? value.nodes : []).filter(isRecord).map((n) => n.name).filter(isString));
  const owner = new Map<string, string>();
  const claim = (node: unknown, path: (string | number)[], where: string) => {
    if (!isLabel(node)) return;
    if (!names.has(node)) issues.push({ path, message: `no node named ${show(node)}` });
    else if (owner.has(node)) issues.push({ path, message: `${show(node)} already gets a certificate from ${owner.get(node)}` });
    else owner.set(node, where);
  };
  const acme = isRecord(certs.acme) ? certs.acme : {};
  const acmeNodes = Array.isArray(acme.nodes) ? acme.nodes : [];
  acmeNodes.forEach((n, i) => {
    if (!isRecord(n)) return;
    claim(n.node, ["certificates", "acme", "nodes", i, "node"], `certificates.acme.nodes[${i}]`);
    const domains = Array.isArray(n.domains) ? n.domains : [];
    domains.forEach((d, k) => {
      if (isString(d) && d.startsWith("*.") && !isRecord(acme.dnsPlugin)) {
        issues.push({ path: ["certificates", "acme", "nodes", i, "domains", k], message: `${show(d)} is a wildcard, which ACME issues only with a DNS challenge (set certificates.acme.dnsPlugin)` });
      }
    });
  });
  const custom = Array.isArray(certs.custom) ? certs.custom : [];
  custom.forEach((n, i) => isRecord(n) && claim(n.node, ["certificates", "custom", i, "node"], `certificates.custom[${i}]`));
  return issues;
}
