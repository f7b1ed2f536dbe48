/**
 * The certificates a Proxmox VE node serves its API with, made the way
 * `pvecm updatecerts` makes them: a cluster CA (`/etc/pve/pve-root-ca.pem`,
 * key in `/etc/pve/priv/pve-root-ca.key`) and per node `pve-ssl.pem`/`.key`
 * signed by it, with the node's names and address as SANs. node:crypto cannot
 * sign X.509 certificates, so this runs the openssl CLI (EC keys: fast).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface PveCa {
  certPem: string;
  keyFile: string;
  certFile: string;
}

export interface PveNodeCert {
  certPem: string;
  keyPem: string;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/** A new cluster CA in `dir` (ca.pem, ca.key). `label` stands in for the cluster's UUID in the subject. */
export async function makePveCa(dir: string, label: string): Promise<PveCa> {
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, "ca.key");
  const certFile = path.join(dir, "ca.pem");
  await openssl([
    "req", "-x509", ...EC, "-keyout", keyFile, "-out", certFile, "-days", "3650",
    "-subj", `/CN=Proxmox Virtual Environment/OU=${label}/O=PVE Cluster Manager CA`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return { certPem: fs.readFileSync(certFile, "utf8"), keyFile, certFile };
}

/** A node certificate signed by `ca`, for `names` (DNS SANs) and `addresses` (IP SANs). */
export async function makeNodeCert(dir: string, ca: PveCa, node: string, names: string[], addresses: string[]): Promise<PveNodeCert> {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, `${node}.key`);
  const csr = path.join(dir, `${node}.csr`);
  const cert = path.join(dir, `${node}.pem`);
  const ext = path.join(dir, `${node}.ext`);
  const sans = [...names.map((n) => `DNS:${n}`), ...addresses.map((a) => `IP:${a}`)].join(",");
  fs.writeFileSync(
    ext,
    `subjectAltName=${sans}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  await openssl(["req", "-new", ...EC, "-keyout", key, "-out", csr, "-subj", `/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=${names[0] ?? node}`]);
  const serial = `0x${Buffer.from(Array.from({ length: 8 }, () => Math.floor(Math.random() * 256))).toString("hex")}`;
  await openssl(["x509", "-req", "-in", csr, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-set_serial", serial, "-days", "700", "-extfile", ext, "-out", cert]);
  return { certPem: fs.readFileSync(cert, "utf8"), keyPem: fs.readFileSync(key, "utf8") };
}

/**
 * Install the CA and the node's certificate in a node's /etc (host-side path):
 * /etc/pve/pve-root-ca.pem, /etc/pve/priv/pve-root-ca.key,
 * /etc/pve/nodes/<node>/pve-ssl.{pem,key} and the /etc/pve/local link.
 */
export function installPveCerts(etc: string, node: string, ca: PveCa, cert: PveNodeCert): void {
  const pve = path.join(etc, "pve");
  fs.mkdirSync(path.join(pve, "priv"), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(pve, "nodes", node), { recursive: true });
  fs.writeFileSync(path.join(pve, "pve-root-ca.pem"), ca.certPem);
  fs.copyFileSync(ca.keyFile, path.join(pve, "priv", "pve-root-ca.key"));
  fs.writeFileSync(path.join(pve, "nodes", node, "pve-ssl.pem"), cert.certPem);
  fs.writeFileSync(path.join(pve, "nodes", node, "pve-ssl.key"), cert.keyPem, { mode: 0o600 });
  const local = path.join(pve, "local");
  if (!fs.existsSync(local)) fs.symlinkSync(path.join("nodes", node), local);
}
