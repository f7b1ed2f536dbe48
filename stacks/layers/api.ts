import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import { ApiAccess } from "../../components/api-access";
import { networkByName } from "../lookup";
import type { EnvironmentContext } from "./context";

/**
 * API access (role, user, token, native provider) on the founder once the
 * cluster exists (or, on a single standalone node, once the node is ready),
 * then the datacenter options that need it.
 */
export function buildApi(ctx: EnvironmentContext, after: pulumi.Resource): ApiAccess {
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
    { dependsOn: [after] },
  );
  buildDatacenterOptions(ctx, api, after);
  return api;
}

function buildDatacenterOptions(ctx: EnvironmentContext, api: ApiAccess, cluster: pulumi.Resource): void {
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
