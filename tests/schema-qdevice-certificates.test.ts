/**
 * Validation of cluster.qdevice and certificates, by path, on the nexus and
 * doggos stack files changed one mistake at a time.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { environmentIssues, secretsIssues } from "../stacks/errors";
import { stackConfig } from "./helpers/pulumi-mocks";

const ROOT = path.resolve(__dirname, "..");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Env = any;

function raw(stack: "nexus" | "doggos"): { env: Env; secrets: Env } {
  const { config } = stackConfig(path.join(ROOT, `Pulumi.${stack}.yaml`));
  return { env: JSON.parse(config["homelab:environment"]), secrets: JSON.parse(config["homelab:secrets"]) };
}

describe("cluster.qdevice", () => {
  it("a 2-node cluster with neither a QDevice nor allowSmallCluster is refused at cluster", () => {
    const { env } = raw("nexus");
    delete env.cluster.qdevice;
    expect(environmentIssues(env)).toEqual([
      "cluster: 2 nodes cannot keep quorum when one fails; a cluster needs at least 3 nodes " +
        "(add cluster.qdevice, an external vote, or set cluster.allowSmallCluster: true to allow this)",
    ]);
    env.cluster.allowSmallCluster = true;
    expect(environmentIssues(env)).toEqual([]);
  });

  it("a QDevice that is a cluster member is refused by name and by address", () => {
    const { env } = raw("nexus");
    env.cluster.qdevice.name = "bravo";
    env.cluster.qdevice.address = "192.168.30.11";
    expect(environmentIssues(env)).toEqual(
      expect.arrayContaining([
        'cluster.qdevice.name: "bravo" is nodes[1], a cluster member; the QDevice must be a host outside the cluster',
        'cluster.qdevice.address: "192.168.30.11" is an address of nodes[0] ("alpha"), a cluster member; the QDevice must be a host outside the cluster',
      ]),
    );
  });

  it("a QDevice on three nodes is refused; its fields are checked", () => {
    const { env } = raw("doggos");
    env.cluster.qdevice = { name: "pi", address: "192.168.10.300", hostKey: "SHA256:short" };
    expect(environmentIssues(env)).toEqual([
      'cluster.qdevice.address: "192.168.10.300" is not an IPv4 address',
      'cluster.qdevice.hostKey: "SHA256:short" is not a host key fingerprint ("SHA256:" and 43 base64 characters)',
      "cluster.qdevice: a QDevice needs an even number of nodes; this cluster has 3 (pvecm qdevice setup refuses odd node counts; an odd cluster keeps quorum without one)",
    ]);
  });
});

describe("certificates", () => {
  it("an ACME domain that is not a DNS name is refused by path", () => {
    const { env } = raw("doggos");
    env.certificates.acme.nodes[1].domains = ["lloyd", "lloyd.doggos.example.org", "192.168.10.6", "Bad_Name.example.org"];
    expect(environmentIssues(env)).toEqual([
      'certificates.acme.nodes[1].domains[0]: "lloyd" is not a DNS name (e.g. pve1.example.org)',
      'certificates.acme.nodes[1].domains[2]: "192.168.10.6" is not a DNS name (e.g. pve1.example.org)',
      'certificates.acme.nodes[1].domains[3]: "Bad_Name.example.org" is not a DNS name (e.g. pve1.example.org)',
    ]);
  });

  it("refuses unknown nodes, a node with two certificates, a wildcard without DNS, and certificates without apiAccess", () => {
    const { env } = raw("doggos");
    delete env.certificates.acme.dnsPlugin;
    env.certificates.acme.nodes[0].domains = ["*.doggos.example.org"];
    env.certificates.acme.nodes[2].node = "rex";
    env.certificates.custom = [{ node: "lloyd" }];
    delete env.apiAccess;
    expect(environmentIssues(env).sort()).toEqual(
      [
        "certificates: needs apiAccess: certificates are set through the Proxmox API",
        'certificates.acme.nodes[0].domains[0]: "*.doggos.example.org" is a wildcard, which ACME issues only with a DNS challenge (set certificates.acme.dnsPlugin)',
        'certificates.acme.nodes[2].node: no node named "rex"',
        'certificates.custom[0].node: "lloyd" already gets a certificate from certificates.acme.nodes[1]',
      ].sort(),
    );
  });

  it("the DNS plugin's data and each custom certificate must be in the secrets, and only those", () => {
    const doggos = raw("doggos");
    delete doggos.secrets.acmeDnsPluginData;
    expect(secretsIssues(doggos.secrets, doggos.env)).toEqual([
      "secrets.acmeDnsPluginData: missing; certificates.acme.dnsPlugin needs its API data (pulumi config set --secret --path secrets.acmeDnsPluginData.<VARIABLE>)",
    ]);
    const nexus = raw("nexus");
    delete nexus.secrets.certificates.bravo;
    nexus.secrets.certificates.charlie = { certificate: "x", privateKey: "y" };
    expect(secretsIssues(nexus.secrets, nexus.env)).toEqual([
      "secrets.certificates.bravo: missing; certificates.custom lists bravo (pulumi config set --secret --path secrets.certificates.bravo.certificate < cert.pem, and .privateKey < key.pem)",
      'secrets.certificates.charlie: "charlie" is not in certificates.custom',
    ]);
  });

  it("apiAccess.apiHost takes a DNS name or an IPv4 address", () => {
    const { env } = raw("doggos");
    env.apiAccess.apiHost = "holly.doggos.example.org";
    expect(environmentIssues(env)).toEqual([]);
    env.apiAccess.apiHost = "https://holly";
    expect(environmentIssues(env)).toEqual(['apiAccess.apiHost: "https://holly" is not a DNS name or an IPv4 address']);
  });
});
