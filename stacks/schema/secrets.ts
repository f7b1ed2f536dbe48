/**
 * Secrets (`homelab:secrets`): their schema and their checks against the
 * environment. Messages never echo a secret value.
 */
import { z } from "zod";
import { isCryptHash } from "../../infra/providers/linux/linux-user";
import { show } from "./messages";
import { isLabel, isLinuxUser, isRecord } from "./predicates";
import type { PathIssue } from "./views";

/** What `npm run validate` puts in place of an encrypted (`secure:`) value it cannot read. */
export const SECURE_PLACEHOLDER = "[secure]";

/** `homelab:secrets`. Messages never echo a secret value. */
export const SecretsSchema = z.strictObject(
  {
    /** Private key (OpenSSH/PEM text) for ssh.user on every node; not needed with ssh.useAgent. */
    sshPrivateKey: z.string({ error: "expected the private key text (a string)" }).min(1, { error: "empty" }).optional(),
    /** Root password per node name (pvecm add asks the joined node's root password). */
    rootPasswords: z
      .record(z.string(), z.string({ error: "expected a password (a string)" }).min(1, { error: "empty" }), {
        error: "expected a mapping of node name to password",
      })
      .optional(),
    /** crypt(3) password hash per baseline user (`mkpasswd -m yescrypt`); needed for `sudo: password`. */
    userPasswordHashes: z
      .record(
        z.string(),
        // An encrypted value (validated from the stack file without the passphrase) can't be checked here.
        z.string({ error: "expected a crypt(3) hash (a string)" }).refine((v) => v === SECURE_PLACEHOLDER || isCryptHash(v), {
          error: "not a crypt(3) hash of a supported kind (yescrypt $y$, sha512 $6$, bcrypt $2b$, …); make one with `mkpasswd -m yescrypt`",
        }),
        { error: "expected a mapping of user name to password hash" },
      )
      .optional(),
    /** API data of the ACME DNS plugin (certificates.acme.dnsPlugin), e.g. { CF_Token: … }: acme.sh's variables. */
    acmeDnsPluginData: z
      .record(z.string(), z.string({ error: "expected a value (a string)" }).min(1, { error: "empty" }), {
        error: "expected a mapping of acme.sh variable name to value",
      })
      .optional(),
    /** Certificate and key of each node in certificates.custom (PEM text; chain optional). */
    certificates: z
      .record(
        z.string(),
        z.strictObject(
          {
            // PEM text; an encrypted value (validated without the passphrase) can't be checked, Proxmox checks the rest.
            certificate: z.string({ error: "expected the PEM certificate (a string)" }).min(1, { error: "empty" }),
            privateKey: z.string({ error: "expected the PEM private key (a string)" }).min(1, { error: "empty" }),
            chain: z.string({ error: "expected the PEM chain (a string)" }).optional(),
          },
          { error: (iss) => (iss.code === "invalid_type" ? "expected a mapping with certificate and privateKey" : undefined) },
        ),
        { error: "expected a mapping of node name to certificate and key" },
      )
      .optional(),
  },
  { error: (iss) => (iss.code === "invalid_type" ? "expected a mapping of secrets" : undefined) },
);

export type Secrets = z.output<typeof SecretsSchema>;

/**
 * Cross-check secrets against the environment (both possibly partly invalid):
 * the SSH key is required unless ssh.useAgent; rootPasswords keys are node names.
 * Paths are relative to the secrets object.
 */
export function crossCheckSecrets(secrets: unknown, environment: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  if (!isRecord(secrets)) return issues;
  const env = isRecord(environment) ? environment : {};
  const ssh = isRecord(env.ssh) ? env.ssh : {};
  const useAgent = ssh.useAgent === undefined ? false : ssh.useAgent === true ? true : null;
  if (secrets.sshPrivateKey === undefined && useAgent === false) {
    issues.push({
      path: ["sshPrivateKey"],
      message:
        "missing; set it with `pulumi config set --secret --path secrets.sshPrivateKey < ~/.ssh/id_ed25519`, or set ssh.useAgent: true",
    });
  }
  const nodes = Array.isArray(env.nodes) ? env.nodes : null;
  const founder = nodes && isRecord(nodes[0]) && isLabel(nodes[0].name) ? nodes[0].name : undefined;
  if (isRecord(env.cluster) && nodes && nodes.length > 1 && founder !== undefined) {
    const passwords = isRecord(secrets.rootPasswords) ? secrets.rootPasswords : {};
    if (passwords[founder] === undefined) {
      issues.push({
        path: ["rootPasswords", founder],
        message:
          `missing; pvecm add needs the root password of ${founder}, the node that founds the cluster ` +
          `(pulumi config set --secret --path secrets.rootPasswords.${founder})`,
      });
    }
  }
  const baseline = isRecord(env.baseline) ? env.baseline : {};
  const users = Array.isArray(baseline.users) ? baseline.users.filter(isRecord) : [];
  const hashes = isRecord(secrets.userPasswordHashes) ? secrets.userPasswordHashes : {};
  for (const key of Object.keys(hashes)) {
    if (!users.some((u) => u.name === key)) {
      issues.push({ path: ["userPasswordHashes", key], message: `no baseline user named ${show(key)}` });
    }
  }
  for (const u of users) {
    if (u.sudo === "password" && isLinuxUser(u.name) && hashes[u.name] === undefined) {
      issues.push({
        path: ["userPasswordHashes", u.name],
        message:
          `missing; ${u.name} has sudo: password, which needs a password to type ` +
          `(pulumi config set --secret --path secrets.userPasswordHashes.${u.name} "$(mkpasswd -m yescrypt)")`,
      });
    }
  }
  issues.push(...crossCheckCertificateSecrets(secrets, env));
  if (isRecord(secrets.rootPasswords) && nodes) {
    const names = nodes.map((n) => (isRecord(n) ? n.name : undefined));
    if (names.every(isLabel)) {
      for (const key of Object.keys(secrets.rootPasswords)) {
        if (!names.includes(key)) issues.push({ path: ["rootPasswords", key], message: `no node named ${show(key)}` });
      }
    }
  }
  return issues;
}

/** The DNS plugin's data and each custom certificate are in the secrets, and nothing else is. */
function crossCheckCertificateSecrets(secrets: Record<string, unknown>, env: Record<string, unknown>): PathIssue[] {
  const issues: PathIssue[] = [];
  const certs = isRecord(env.certificates) ? env.certificates : {};
  const acme = isRecord(certs.acme) ? certs.acme : undefined;
  if (acme && isRecord(acme.dnsPlugin) && secrets.acmeDnsPluginData === undefined) {
    issues.push({
      path: ["acmeDnsPluginData"],
      message: "missing; certificates.acme.dnsPlugin needs its API data (pulumi config set --secret --path secrets.acmeDnsPluginData.<VARIABLE>)",
    });
  }
  if (secrets.acmeDnsPluginData !== undefined && !(acme && isRecord(acme.dnsPlugin))) {
    issues.push({ path: ["acmeDnsPluginData"], message: "set, but certificates.acme.dnsPlugin is not" });
  }
  const custom = (Array.isArray(certs.custom) ? certs.custom : []).filter(isRecord).map((c) => c.node).filter(isLabel);
  const given = isRecord(secrets.certificates) ? secrets.certificates : {};
  for (const node of custom) {
    if (given[node] === undefined) {
      issues.push({
        path: ["certificates", node],
        message:
          `missing; certificates.custom lists ${node} (pulumi config set --secret --path secrets.certificates.${node}.certificate < cert.pem, ` +
          "and .privateKey < key.pem)",
      });
    }
  }
  for (const key of Object.keys(given)) {
    if (!custom.includes(key)) issues.push({ path: ["certificates", key], message: `${show(key)} is not in certificates.custom` });
  }
  return issues;
}
