import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { ApiAccess } from "../../components/api-access";
import type { ProxmoxCluster } from "../../components/proxmox-cluster";
import { networkByName } from "../lookup";
import type { EnvironmentContext } from "./context";

/**
 * API access (role, user, token, native provider) on the founder once the
 * cluster exists, then the datacenter options that need it.
 */
export function buildApi(ctx: EnvironmentContext, cluster: ProxmoxCluster): ApiAccess {
  const { env } = ctx;
  const apiAccess = env.apiAccess!;
  const founder = env.nodes[0];
  const api = new ApiAccess(
    `${env.name}-api`,
    {
      access: ctx.access(founder),
      userid: apiAccess.userid,
      tokenName: apiAccess.tokenName,
      roleName: apiAccess.roleName,
      privileges: apiAccess.privileges,
      privsep: apiAccess.privsep,
      rotation: apiAccess.rotation,
      insecureTls: apiAccess.insecureTls,
      apiAddress: apiAccess.apiHost ?? founder.address,
    },
    { dependsOn: [cluster] },
  );
  buildDatacenterOptions(ctx, api, cluster);
  return api;
}

function buildDatacenterOptions(ctx: EnvironmentContext, api: ApiAccess, cluster: ProxmoxCluster): void {
  const { env } = ctx;
  const migration = env.cluster?.migration;
  if (!migration) return;
  const network = networkByName(env, migration.network);
  // Native resource: datacenter.cfg is exactly what cluster.Options manages through the API.
  new proxmoxve.cluster.Options(
    `${env.name}-datacenter`,
    { migrationType: migration.type, migrationCidr: network?.cidr },
    { provider: api.provider, dependsOn: [cluster] },
  );
}
