/**
 * `npm run trust-ca` against a simulated node: the cluster CA fetched over the
 * pinned SSH connection ends up in a bundle a TLS client can verify the node's
 * API certificate with, for the address the program uses; an unpinned or
 * impostor node gets nothing trusted.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caBundleEnv, certificateProblems, systemCaBundle } from "../infra/pve-ca";
import { sshPreflight } from "../scripts/homelab/ssh-checks";
import { main, stackNameOf } from "../scripts/trust-ca";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { makeNodeCert, makePveCa } from "./sim/pve-certs";

let sim: SimCluster;
let work: string;

/** A one-node stack file for the sim node; `hostKey` null leaves the key unpinned. */
function writeStack(stack: string, hostKey: string | null): void {
  const n = sim.node("alpha");
  const net = n.host.split(".").slice(0, 3).join(".");
  const pin = hostKey === null ? "insecureIgnoreHostKey: true" : `hostKey: "${hostKey}"`;
  fs.writeFileSync(
    path.join(work, `Pulumi.${stack}.yaml`),
    `config:
  homelab:environment:
    name: ${stack}
    networks:
      - { name: lan, cidr: ${net}.0/24, gateway: ${net}.1 }
    nodes:
      - name: alpha
        address: ${n.host}
        ${pin}
        interfaces:
          - { type: nic, name: eno1 }
          - { type: bridge, name: vmbr0, ports: [eno1], network: lan, address: ${n.host} }
  homelab:secrets:
    sshPrivateKey: { secure: v1:AAAA }
`,
  );
}

async function trustCa(stack: string): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([stack, "--identity", sim.clientKeyFile], (l) => out.push(l), (l) => err.push(l), { workDir: work, env: {} });
  return { code, out, err };
}

const nodeFile = (name: string) => path.join(sim.node("alpha").root, "etc", "pve", "nodes", "alpha", name);

/** TLS handshake with `host:port`; resolves with the verification outcome. */
function handshake(host: string, port: number, ca?: string): Promise<{ authorized: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, ca, rejectUnauthorized: true }, () => {
      resolve({ authorized: socket.authorized });
      socket.end();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => resolve({ authorized: false, error: e.code ?? e.message }));
  });
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "alpha" }]);
  work = fs.mkdtempSync(path.join(os.tmpdir(), "trust-ca-"));
});

afterAll(async () => {
  await sim?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("trust-ca", () => {
  it("writes .homelab/ca/<stack>.pem: the system CAs plus the cluster CA (0644), and prints the export line", async () => {
    writeStack("lab", sim.node("alpha").hostKeyFingerprint);
    const r = await trustCa("lab");
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const file = path.join(work, ".homelab", "ca", "lab.pem");
    expect(r.out).toContain(`export SSL_CERT_FILE=${file}`);
    const bundle = fs.readFileSync(file, "utf8");
    const clusterCa = (await sim.exec("alpha", "cat /etc/pve/pve-root-ca.pem")).stdout;
    expect(clusterCa).toContain("-----BEGIN CERTIFICATE-----");
    expect(bundle).toContain(clusterCa);
    expect(bundle.startsWith(systemCaBundle({}))).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    expect(caBundleEnv("lab", work)).toEqual({ SSL_CERT_FILE: file });
    expect(caBundleEnv("prod", work)).toEqual({});
  });

  it("lets a TLS client verify the node's API certificate for the node's address, which the system CAs alone do not", async () => {
    writeStack("lab", sim.node("alpha").hostKeyFingerprint);
    expect((await trustCa("lab")).code).toBe(0);
    const bundle = fs.readFileSync(path.join(work, ".homelab", "ca", "lab.pem"), "utf8");
    const address = sim.node("alpha").host;
    const cert = fs.readFileSync(nodeFile("pve-ssl.pem"), "utf8");
    const ca = new X509Certificate((await sim.exec("alpha", "cat /etc/pve/pve-root-ca.pem")).stdout);
    const leaf = new X509Certificate(cert);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIP(address)).toBe(address);

    // the node's API, as pveproxy serves it: pve-ssl.pem and its key, on the node's address
    const server = https.createServer({ cert, key: fs.readFileSync(nodeFile("pve-ssl.key")) }, (_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      expect(await handshake(address, port, bundle)).toEqual({ authorized: true });
      const withoutCa = await handshake(address, port);
      expect(withoutCa.authorized).toBe(false);
      expect(withoutCa.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("refuses a node whose host key is not pinned, and trusts nothing", async () => {
    writeStack("unpinned", null);
    const r = await trustCa("unpinned");
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      "alpha: no pinned hostKey: the cluster CA can only be trusted when fetched from a node whose host key is pinned (set nodes[].hostKey)",
    ]);
    expect(fs.existsSync(path.join(work, ".homelab", "ca", "unpinned.pem"))).toBe(false);
  });

  it("refuses a node that presents another host key than the pinned one, and trusts nothing", async () => {
    writeStack("impostor", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    const r = await trustCa("impostor");
    expect(r.code).toBe(1);
    expect(r.err).toEqual([expect.stringMatching(/^alpha: host key mismatch for .* but the host presented SHA256:.*; refusing to connect/)]);
    expect(fs.existsSync(path.join(work, ".homelab", "ca", "impostor.pem"))).toBe(false);
  });

  it("warns, naming pvecm updatecerts --force, when the node's certificate is not signed by the cluster CA", async () => {
    writeStack("lab", sim.node("alpha").hostKeyFingerprint);
    const original = fs.readFileSync(nodeFile("pve-ssl.pem"), "utf8");
    const foreign = await makePveCa(path.join(work, "foreign"), "foreign");
    const stray = await makeNodeCert(path.join(work, "foreign"), foreign, "alpha", ["alpha"], [sim.node("alpha").host]);
    fs.writeFileSync(nodeFile("pve-ssl.pem"), stray.certPem);
    try {
      const r = await trustCa("lab");
      expect(r.code).toBe(0);
      expect(r.err).toEqual([
        "warning: alpha: /etc/pve/local/pve-ssl.pem is not signed by /etc/pve/pve-root-ca.pem; run `pvecm updatecerts --force` on alpha",
      ]);
    } finally {
      fs.writeFileSync(nodeFile("pve-ssl.pem"), original);
    }
  });
});

describe("bundle paths", () => {
  it("keys the bundle by stack name, from a name or a stack file path, and refuses anything else", () => {
    expect(stackNameOf("matrix")).toBe("matrix");
    expect(stackNameOf("stacks/Pulumi.ms01.yaml")).toBe("ms01");
    expect(stackNameOf("stacks/other.yaml")).toBeUndefined();
    expect(caBundleEnv("absent", "/nonexistent")).toEqual({});
    expect(() => caBundleEnv("../etc/passwd", "/x")).toThrow('"../etc/passwd" is not a stack name');
    expect(() => caBundleEnv("..", "/x")).toThrow('".." is not a stack name');
  });
});

describe("the homelab command's preflight", () => {
  it("fetches the cluster CA itself for a stack with API access (check cluster-ca), with the key in HOMELAB_SSH_KEY_FILE", async () => {
    writeStack("withapi", sim.node("alpha").hostKeyFingerprint);
    const text = fs.readFileSync(path.join(work, "Pulumi.withapi.yaml"), "utf8").replace("  homelab:secrets:", "    apiAccess: { userid: automation@pve, tokenName: pulumi }\n  homelab:secrets:");
    fs.writeFileSync(path.join(work, "Pulumi.withapi.yaml"), text);
    const bundle = path.join(work, ".homelab", "ca", "withapi.pem");
    expect(fs.existsSync(bundle)).toBe(false);
    const lines: string[] = [];
    const outcome = await sshPreflight({ HOMELAB_SSH_KEY_FILE: sim.clientKeyFile }, work)("withapi", { verb: "preflight", log: (l) => lines.push(l) });
    expect(lines.find((l) => /cluster-ca/.test(l))).toMatch(/^ok {3}cluster-ca: the API client trusts .*withapi\.pem$/);
    expect(fs.readFileSync(bundle, "utf8")).toContain(fs.readFileSync(path.join(sim.node("alpha").root, "etc", "pve", "pve-root-ca.pem"), "utf8").trim());
    expect(outcome.problems.filter((p) => p.startsWith("cluster-ca"))).toEqual([]);
  });
});

describe("certificateProblems", () => {
  it("names an API address the certificate does not cover, a custom certificate, and the fix", async () => {
    const dir = path.join(work, "unit");
    const ca = await makePveCa(dir, "unit");
    const cert = await makeNodeCert(dir, ca, "golf", ["golf", "localhost"], ["10.0.0.12", "127.0.0.1"]);
    const files = { node: "golf", caPem: ca.certPem, nodeCertPem: cert.certPem, customCert: false };
    expect(certificateProblems(files, "10.0.0.12")).toEqual([]);
    expect(certificateProblems(files, "golf")).toEqual([]);
    expect(certificateProblems(files, "10.20.0.12")).toEqual([
      "golf: /etc/pve/local/pve-ssl.pem does not name 10.20.0.12, the API address the program uses (it names DNS:golf, DNS:localhost, IP Address:10.0.0.12, IP Address:127.0.0.1); " +
        "make 10.20.0.12 what golf's hostname resolves to in /etc/hosts and run `pvecm updatecerts --force` on golf",
    ]);
    expect(certificateProblems({ ...files, customCert: true }, "10.0.0.12")).toEqual([
      "golf: the API serves a custom certificate (/etc/pve/local/pveproxy-ssl.pem), not /etc/pve/local/pve-ssl.pem; trust its issuer instead of the cluster CA",
    ]);
    expect(certificateProblems({ ...files, caPem: cert.certPem }, "10.0.0.12")).toEqual([
      "golf: /etc/pve/pve-root-ca.pem is not a CA certificate (OU=PVE Cluster Node, O=Proxmox Virtual Environment, CN=golf)",
    ]);
  });
});
