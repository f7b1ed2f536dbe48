/**
 * Production environments: `production: true` marks a stack whose data and
 * cluster must survive a `pulumi destroy`, so no destroy switch may be on.
 * The policy pack (stacks/policy) holds any program to the same rule by the
 * resources it registers; this check says it first, by path.
 */
import { isRecord } from "./predicates";
import type { PathIssue } from "./views";

const WHY = "a destroy switch on a production environment (production: true); set it false, or mark the environment production: false";

export function checkProduction(value: Record<string, unknown>): PathIssue[] {
  if (value.production !== true) return [];
  const issues: PathIssue[] = [];
  if (isRecord(value.cluster) && value.cluster.dissolveOnDelete === true) issues.push({ path: ["cluster", "dissolveOnDelete"], message: WHY });
  if (isRecord(value.ceph) && value.ceph.destroyOnDelete === true) issues.push({ path: ["ceph", "destroyOnDelete"], message: WHY });
  const clusters = isRecord(value.k3s) && Array.isArray(value.k3s.clusters) ? value.k3s.clusters : [];
  clusters.forEach((c, i) => {
    if (isRecord(c) && c.uninstallOnDestroy === true) issues.push({ path: ["k3s", "clusters", i, "uninstallOnDestroy"], message: WHY });
  });
  return issues;
}
