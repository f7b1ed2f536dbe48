/**
 * `npm run demo -- --pulumi`: the real `pulumi up`, twice, on a throwaway
 * stack in a local file backend under a temp dir, against the simulated
 * nodes. Secrets go in through stdin (`pulumi config set --secret`), never
 * argv. The stack's config file (Pulumi.demo-<stack>.yaml, next to
 * Pulumi.yaml as the CLI wants it) and the backend are removed at the end.
 * Not run in this repository's tests: the CLI is not installable here.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import type { SimStackConfig } from "../tests/engine/sim-stack";

const ROOT = path.resolve(__dirname, "..");

export async function pulumiUpTwice(stackName: string, prepared: SimStackConfig): Promise<number> {
  const stack = `demo-${stackName}`;
  const configFile = path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (fs.existsSync(configFile)) throw new Error(`${configFile} exists; the demo will not overwrite a stack file`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-demo-pulumi-"));
  fs.mkdirSync(path.join(dir, "state"));
  const env = {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(24).toString("base64url"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
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
    // stack init wrote the passphrase salt there; the plain environment goes in as an object.
    const doc = (YAML.parse(fs.readFileSync(configFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    doc.config = { ...doc.config, "homelab:environment": JSON.parse(prepared.config["homelab:environment"]) };
    fs.writeFileSync(configFile, YAML.stringify(doc));
    const secrets = JSON.parse(prepared.config["homelab:secrets"]) as Record<string, unknown>;
    for (const [keyPath, value] of leaves(secrets)) {
      pulumi(["config", "set", "--secret", "--path", `homelab:secrets.${keyPath}`], String(value));
    }
    console.log("\npulumi up (first):");
    pulumi(["up", "--yes", "--skip-preview"]);
    console.log("\npulumi up (second, --expect-no-changes):");
    pulumi(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
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
    fs.rmSync(configFile, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function leaves(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
  return Object.entries(value).flatMap(([k, v]) =>
    v && typeof v === "object" ? leaves(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}
