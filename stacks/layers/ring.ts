import { ThunderboltRing } from "../../components/thunderbolt-ring";
import type { EnvironmentContext } from "./context";
import type { NodeLayer } from "./nodes";

/** The Thunderbolt ring over the ring nodes, after their networks and baselines (undefined without one). */
export function buildRing(ctx: EnvironmentContext, nodes: NodeLayer[]): ThunderboltRing | undefined {
  const { env } = ctx;
  const ringNodes = nodes.filter((p) => p.node.thunderbolt);
  if (!env.thunderbolt || ringNodes.length === 0) return undefined;
  const verify = env.thunderbolt.verify;
  return new ThunderboltRing(`${env.name}-ring`, {
    nodes: ringNodes.map((p) => ({
      access: ctx.access(p.node),
      thunderbolt: p.node.thunderbolt!,
      dependsOn: [p.network, p.baseline],
    })),
    mtu: env.thunderbolt.mtu,
    verify: verify.enabled ? { iperfSeconds: verify.iperfSeconds, minGbps: verify.minGbps, trigger: verify.trigger } : false,
  });
}
