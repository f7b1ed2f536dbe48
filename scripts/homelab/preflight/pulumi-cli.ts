/**
 * Finding the Pulumi CLI for the deploy verbs: on PATH (stacks/esc.ts
 * pulumiCliOnPath, as the command checks) and its version from
 * `pulumi version`; supported is any v3 at or after the SDK's release.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pulumiCliOnPath } from "../../../stacks/esc";
import { PULUMI_CLI_MISSING, PULUMI_CLI_VERSION } from "../steps";
import type { Outcome } from "../checks";

export interface PulumiCli {
  path: string;
  /** "3.248.0" */
  version: string;
}

/** The `pulumi` on PATH and its version, or undefined when there is none. */
export async function findPulumiCliOnPath(pathEnv = process.env.PATH ?? ""): Promise<PulumiCli | undefined> {
  if (!pulumiCliOnPath(pathEnv)) return undefined;
  const dir = pathEnv.split(path.delimiter).find((d) => d !== "" && fs.existsSync(path.join(d, "pulumi")))!;
  const file = path.join(dir, "pulumi");
  const out = await new Promise<string>((resolve, reject) =>
    execFile(file, ["version"], { timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(String(stdout)))),
  );
  return { path: file, version: out.trim().replace(/^v/, "") };
}

function parts(version: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** v3, and not older than the release matching the SDK. */
export function supportedPulumiVersion(version: string): boolean {
  const v = parts(version);
  const min = parts(PULUMI_CLI_VERSION)!;
  if (!v || v[0] !== min[0]) return false;
  return v[1] > min[1] || (v[1] === min[1] && v[2] >= min[2]);
}

export async function checkPulumiCli(find: () => Promise<PulumiCli | undefined>): Promise<Outcome> {
  const cli = await find();
  if (!cli) return { ok: false, detail: "the Pulumi CLI is not on PATH", fix: PULUMI_CLI_MISSING.replace(/^the Pulumi CLI is not on PATH; /, "") };
  if (!supportedPulumiVersion(cli.version)) {
    return {
      ok: false,
      detail: `${cli.path} is Pulumi ${cli.version}; supported is ${PULUMI_CLI_VERSION} or a later v3 release`,
      fix: `install a supported release: curl -fsSL https://get.pulumi.com | sh -s -- --version ${PULUMI_CLI_VERSION}`,
    };
  }
  return { ok: true, detail: `${cli.path} is Pulumi ${cli.version}` };
}
