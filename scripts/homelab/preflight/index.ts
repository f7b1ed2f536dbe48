/**
 * `preflight`: everything a deploy needs from the environment, checked
 * before anything changes and without the Pulumi CLI (except, for the deploy
 * verbs, that it is there): the stack file is valid; every node answers SSH
 * with its pinned host key; one Proxmox VE major.minor across nodes; every
 * node resolves every node's name to its management address; clocks agree
 * within a bound; OSD devices exist and are empty or marked `wipe`; the
 * snippet storage exists where templates need it; the API token (once the
 * stack has one) answers; the Pulumi CLI is on PATH with a supported version.
 *
 * Nodes are read in parallel (bounded), one SSH session each, read-only
 * commands only. Every failed check names the node and what to do.
 */
import { installsGuestAgent } from "../../../stacks/lookup";
import { CheckReport, CheckResult, mapBounded, report, secondsSince, timed } from "../checks";
import type { OperatedEnvironment } from "../target";
import { checkApiToken } from "./api-token";
import { judgeReleases } from "./judge";
import { checkNode, type NodeReading } from "./node";
import { checkPulumiCli, findPulumiCliOnPath, type PulumiCli } from "./pulumi-cli";

export type { CheckReport, CheckResult } from "../checks";
export type { ApiTokenAccess, OperatedEnvironment } from "../target";
export { operatedEnvironment } from "../target";

export interface PreflightOptions {
  /** A deploy verb follows: the Pulumi CLI must be there. */
  deploy: boolean;
  /** Largest clock difference allowed between a node and this machine. Defaults to 2 s. */
  clockSkewSeconds?: number;
  /** Finds the Pulumi CLI; defaults to the `pulumi` on PATH. */
  findPulumiCli?: () => Promise<PulumiCli | undefined>;
  /** Nodes read at once. Defaults to 8. */
  parallelNodes?: number;
}

/** Every check preflight can report, in report order (the README's table lists them). */
export const PREFLIGHT_CHECKS = ["stack-file", "ssh", "pve-version", "hostname-resolution", "clock", "osd-devices", "snippet-storage", "api-token", "pulumi-cli"] as const;

/** Corosync tolerates little drift and Ceph warns above 0.05 s between monitors; 2 s against this machine is a coarse first bound. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 2;

function stackFileCheck(target: OperatedEnvironment): CheckResult {
  const { file, issues, environment } = target.stackFile;
  if (issues.length === 0 && environment) {
    return { check: "stack-file", ok: true, detail: `${file}: valid (${environment.nodes.length} node(s))`, durationSeconds: 0 };
  }
  return {
    check: "stack-file",
    ok: false,
    detail: `${file}: ${issues.length} problem(s):\n${issues.map((i) => `  ${i}`).join("\n")}`,
    fix: "fix each line in the stack file, then check it with `npm run validate -- <stack>`",
    durationSeconds: 0,
  };
}

/** The node whose address the API endpoint names (else the first): the cluster CA is read from it. */
function caNode(target: OperatedEnvironment): string | undefined {
  const env = target.stackFile.environment!;
  if (!target.apiToken) return undefined;
  let host = "";
  try {
    host = new URL(target.apiToken.endpoint).hostname;
  } catch {
    // a malformed endpoint fails the token check itself
  }
  return (env.nodes.find((n) => n.address === host) ?? env.nodes[0])?.name;
}

export async function preflight(target: OperatedEnvironment, options: PreflightOptions): Promise<CheckReport> {
  const checks: CheckResult[] = [stackFileCheck(target)];
  const env = target.stackFile.environment;
  if (!checks[0].ok || !env) return report(checks);

  const cli = options.deploy ? timed("pulumi-cli", undefined, () => checkPulumiCli(options.findPulumiCli ?? (() => findPulumiCliOnPath()))) : undefined;
  const snippetStorage = env.templates.some((t) => installsGuestAgent(env, t)) ? env.snippets.storage : undefined;
  const withCa = caNode(target);
  const readings: NodeReading[] = await mapBounded(
    env.nodes.map((n) => n.name),
    options.parallelNodes ?? 8,
    (name) =>
      checkNode(target, env, name, {
        clockSkewSeconds: options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
        snippetStorage,
        readCa: name === withCa,
      }),
  );

  const releases = readings.filter((r) => r.release);
  const judged = judgeReleases(releases.map((r) => r.release!));
  for (const r of readings) {
    checks.push(...r.results.filter((c) => c.check === "ssh"));
    const j = judged.find((x) => x.node === r.release?.node);
    if (j) checks.push({ ...j, durationSeconds: r.releaseSeconds ?? 0 });
    checks.push(...r.results.filter((c) => c.check !== "ssh"));
  }

  if (target.apiToken) {
    const token = target.apiToken;
    const ca = readings.find((r) => r.clusterCa)?.clusterCa;
    const start = Date.now();
    const node = withCa === undefined ? {} : { node: withCa };
    checks.push({ check: "api-token", ...node, ...(await checkApiToken(token, ca)), durationSeconds: secondsSince(start) });
  }
  if (cli) checks.push(await cli);
  return report(checks);
}
