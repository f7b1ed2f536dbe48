import * as pulumi from "@pulumi/pulumi";
import type { ApiAccess } from "../../components/api-access";
import { ApiCertificates } from "../../components/api-certificates";
import type { ProxmoxCluster } from "../../components/proxmox-cluster";
import type { EnvironmentContext } from "./context";

/** The nodes' API certificates (ACME or your own), once the cluster and API access exist. */
export function buildCertificates(ctx: EnvironmentContext, api: ApiAccess, cluster: ProxmoxCluster | undefined): ApiCertificates | undefined {
  const { env, secrets } = ctx;
  const certs = env.certificates;
  if (!certs || (!certs.acme && certs.custom.length === 0)) return undefined;
  const acme = certs.acme;
  return new ApiCertificates(
    `${env.name}-certificates`,
    {
      provider: api.provider,
      acme: acme && {
        account: acme.account,
        email: acme.email,
        directory: acme.directory,
        tosUrl: acme.tosUrl,
        dnsPlugin: acme.dnsPlugin && { ...acme.dnsPlugin, data: pulumi.secret(secrets.apply((s) => s.acmeDnsPluginData ?? {})) },
        nodes: acme.nodes,
      },
      custom: certs.custom.map((c) => ({
        node: c.node,
        pem: pulumi.secret(secrets.apply((s) => s.certificates?.[c.node] ?? { certificate: "", privateKey: "" })),
      })),
    },
    // After the cluster (a standalone node: after its API access).
    { dependsOn: cluster ? [cluster, api] : [api] },
  );
}
