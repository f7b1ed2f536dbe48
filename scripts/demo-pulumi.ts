/**
 * `npm run demo -- --pulumi`: the real `pulumi up`, twice, on a throwaway
 * stack in a local file backend under a temp dir, against the simulated
 * nodes. Secrets go in through stdin (`pulumi config set --secret`), never
 * argv. The stack's config file lives in the temp dir (--config-file) and
 * everything is removed at the end.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SimCluster } from "../tests/sim/cluster";
import type { SimStackConfig } from "../tests/engine/sim-stack";

const ROOT = path.resolve(__dirname, "..");

export async function pulumiUpTwice(_sim: SimCluster, stackName: string, prepared: SimStackConfig): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-demo-pulumi-"));
  fs.mkdirSync(path.join(dir, "state"));
  const stack = `demo-${stackName}`;
  const configFile = path.join(dir, `Pulumi.${stack}.yaml`);
  const env = {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(24).toString("base64url"),
    PULUMI_SKIP_UPDATE_CHECKS: "true",
  };
  const pulumi = (args: string[], input?: string) =>
    execFileSync("pulumi", [...args, "--stack", stack, "--non-interactive"], {
      cwd: ROOT,
      env,
      input,
      stdio: [input === undefined ? "ignore" : "pipe", "inherit", "inherit"],
    });
  try {
    execFileSync("pulumi", ["stack", "init", stack, "--secrets-provider", "passphrase", "--non-interactive"], { cwd: ROOT, env, stdio: "inherit" });
    const environment = JSON.parse(prepared.config["homelab:environment"]) as unknown;
    fs.writeFileSync(configFile, `config:\n  homelab:environment: ${JSON.stringify(environment)}\n`);
    const secrets = JSON.parse(prepared.config["homelab:secrets"]) as Record<string, unknown>;
    for (const [keyPath, value] of leaves(secrets)) {
      pulumi(["config", "set", "--secret", "--path", `homelab:secrets.${keyPath}`, "--config-file", configFile], String(value));
    }
    console.log("\npulumi up (first):");
    pulumi(["up", "--yes", "--skip-preview", "--config-file", configFile]);
    console.log("\npulumi up (second, --expect-no-changes):");
    pulumi(["up", "--yes", "--skip-preview", "--expect-no-changes", "--config-file", configFile]);
    return 0;
  } catch (e) {
    console.error(`pulumi: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
    return 1;
  } finally {
    try {
      execFileSync("pulumi", ["stack", "rm", stack, "--yes", "--force", "--non-interactive"], { cwd: ROOT, env, stdio: "ignore" });
    } catch {
      /* the temp dir goes anyway */
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function leaves(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
  return Object.entries(value).flatMap(([k, v]) =>
    v && typeof v === "object" ? leaves(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}
