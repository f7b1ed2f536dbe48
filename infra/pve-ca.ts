/**
 * Trusting a Proxmox VE cluster's own CA instead of skipping TLS verification.
 *
 * A fresh node serves its API with `pve-ssl.pem`, signed by the cluster CA
 * `/etc/pve/pve-root-ca.pem`, which no client trusts. The native provider (Go)
 * has only `insecure`; it verifies against the system roots, which Go replaces
 * with the file named by SSL_CERT_FILE. So: fetch the CA over SSH with the
 * node's pinned host key (the one channel we already authenticate), and write
 * a bundle of the system CAs plus the cluster CA (other TLS keeps working) for
 * SSL_CERT_FILE. The Pulumi CLI passes its environment to provider plugins.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";
import * as tls from "node:tls";
import { command } from "./shell";
import { NodeError, withSession, type SshOptions, type SshTarget } from "./ssh";

/** The cluster CA, shared by every member through pmxcfs. */
export const PVE_ROOT_CA = "/etc/pve/pve-root-ca.pem";
/** The node's API certificate, signed by the cluster CA. */
export const PVE_NODE_CERT = "/etc/pve/local/pve-ssl.pem";
/** A custom API certificate (uploaded or ACME); pveproxy serves it instead of pve-ssl.pem. */
export const PVE_CUSTOM_CERT = "/etc/pve/local/pveproxy-ssl.pem";

/** The fix when the node certificate is not signed by the CA or does not name the API address. */
export const UPDATECERTS_FIX = "pvecm updatecerts --force";

/** What the node holds, as PEM text. */
export interface ClusterCaFiles {
  /** Node name. */
  node: string;
  caPem: string;
  nodeCertPem: string;
  /** pveproxy-ssl.pem exists: the API serves that certificate, not pve-ssl.pem. */
  customCert: boolean;
}

/**
 * Read the cluster CA and the node's API certificate over SSH. Refuses a
 * target without a pinned host key: a CA fetched over an unauthenticated
 * connection would let whoever answered choose what we trust.
 */
export async function fetchClusterCa(target: SshTarget, options: SshOptions = {}): Promise<ClusterCaFiles> {
  if (!target.hostKey) {
    throw new NodeError(
      target.node,
      "no pinned hostKey: the cluster CA can only be trusted when fetched from a node whose host key is pinned (set nodes[].hostKey)",
    );
  }
  return withSession(
    { ...target, insecureIgnoreHostKey: false },
    async (session) => {
      const caPem = (await session.check(command("cat", PVE_ROOT_CA))).stdout;
      const nodeCertPem = (await session.check(command("cat", PVE_NODE_CERT))).stdout;
      const custom = await session.run(command("test", "-e", PVE_CUSTOM_CERT));
      return { node: target.node, caPem, nodeCertPem, customCert: custom.code === 0 };
    },
    options,
  );
}

/**
 * Every reason the CA will not let a client verify the API at `apiAddress`
 * (empty when it will), as sentences naming the node, the file and the fix.
 */
export function certificateProblems(files: ClusterCaFiles, apiAddress: string, now = new Date()): string[] {
  const { node } = files;
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(files.caPem);
  } catch (err) {
    return [`${node}: ${PVE_ROOT_CA} is not a PEM certificate (${(err as Error).message})`];
  }
  if (!ca.ca) return [`${node}: ${PVE_ROOT_CA} is not a CA certificate (${ca.subject.replace(/\n/g, ", ")})`];
  try {
    cert = new X509Certificate(files.nodeCertPem);
  } catch (err) {
    return [`${node}: ${PVE_NODE_CERT} is not a PEM certificate (${(err as Error).message}); run \`${UPDATECERTS_FIX}\` on ${node}`];
  }
  const problems: string[] = [];
  if (files.customCert) {
    problems.push(
      `${node}: the API serves a custom certificate (${PVE_CUSTOM_CERT}), not ${PVE_NODE_CERT}; trust its issuer instead of the cluster CA`,
    );
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    problems.push(`${node}: ${PVE_NODE_CERT} is not signed by ${PVE_ROOT_CA}; run \`${UPDATECERTS_FIX}\` on ${node}`);
  }
  const names = isIP(apiAddress) ? cert.checkIP(apiAddress) : cert.checkHost(apiAddress);
  if (names === undefined) {
    problems.push(
      `${node}: ${PVE_NODE_CERT} does not name ${apiAddress}, the API address the program uses (it names ${cert.subjectAltName ?? "nothing"}); ` +
        `make ${apiAddress} what ${node}'s hostname resolves to in /etc/hosts and run \`${UPDATECERTS_FIX}\` on ${node}`,
    );
  }
  if (new Date(cert.validTo) < now) {
    problems.push(`${node}: ${PVE_NODE_CERT} expired on ${cert.validTo}; run \`${UPDATECERTS_FIX}\` on ${node}`);
  }
  return problems;
}

/** Where Go looks for the system roots on Linux (crypto/x509 root_linux.go), in its order. */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/tls/cacert.pem",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

/** Starts the cluster CA's label in a bundle; marks a file as one of ours. */
const BUNDLE_MARKER = "Proxmox VE cluster CA (";

/**
 * The CAs other TLS connections rely on: the file SSL_CERT_FILE already names
 * (unless it is one of our bundles), else the system bundle, else Node's
 * built-in Mozilla roots.
 */
export function systemCaBundle(env: NodeJS.ProcessEnv = process.env, candidates: readonly string[] = SYSTEM_BUNDLES): string {
  for (const file of [...(env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : []), ...candidates]) {
    try {
      const text = fs.readFileSync(file, "utf8");
      if (text.includes("-----BEGIN CERTIFICATE-----") && !text.includes(BUNDLE_MARKER)) return text;
    } catch {
      // not here; try the next one
    }
  }
  return tls.rootCertificates.join("\n") + "\n";
}

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/** `.homelab/ca/<stack>.pem` under `workDir` (the project folder). */
export function caBundlePath(stack: string, workDir: string): string {
  if (!STACK_NAME.test(stack) || stack === "." || stack === "..") throw new Error(`${JSON.stringify(stack)} is not a stack name`);
  return path.join(workDir, ".homelab", "ca", `${stack}.pem`);
}

/** The system CAs followed by the cluster CA, labelled. */
export function caBundleText(systemPem: string, files: ClusterCaFiles, stack: string): string {
  const system = systemPem.endsWith("\n") ? systemPem : `${systemPem}\n`;
  const ca = files.caPem.endsWith("\n") ? files.caPem : `${files.caPem}\n`;
  return `${system}\n# ${stack}: ${BUNDLE_MARKER}${PVE_ROOT_CA} of ${files.node})\n${ca}`;
}

/** Write the bundle atomically, mode 0644 (certificates are public). */
export function writeCaBundle(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.chmodSync(tmp, 0o644);
  fs.renameSync(tmp, file);
}

/**
 * The environment a Pulumi run of `stack` needs to trust the cluster CA:
 * `{ SSL_CERT_FILE }` when `npm run trust-ca -- <stack>` wrote a bundle, else
 * nothing (the provider then verifies against the system roots, or not at
 * all with insecureTls).
 */
export function caBundleEnv(stack: string, workDir: string): Record<string, string> {
  const file = caBundlePath(stack, workDir);
  return fs.existsSync(file) ? { SSL_CERT_FILE: file } : {};
}
