/**
 * The README's set-up instructions against the code they describe: the Pulumi
 * CLI version matches the SDK, the Node version matches package.json, the
 * first-time order is in one place, and the scripts' usage lines are theirs.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PULUMI_CLI_VERSION } from "../scripts/homelab/steps";
import { OPTIONS, USAGE } from "../scripts/ha-verify";
import { USAGE as HOMELAB_USAGE } from "../scripts/homelab/args";
import { VERBS } from "../scripts/homelab/verbs";
import { PREFLIGHT_CHECKS } from "../scripts/homelab/preflight";
import { VERIFY_STEPS } from "../scripts/homelab/verify";

const ROOT = path.resolve(__dirname, "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  engines: { node: string };
};

/** The text of one `## ` section. */
function section(title: string): string {
  const start = README.indexOf(`## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const next = README.indexOf("\n## ", start + 3);
  return README.slice(start, next < 0 ? undefined : next);
}

describe("README set-up", () => {
  it("names the Pulumi CLI release matching @pulumi/pulumi and the Node version of package.json", () => {
    const sdk = PKG.dependencies["@pulumi/pulumi"];
    expect(PULUMI_CLI_VERSION).toBe(sdk);
    const setup = section("Set up, run, test");
    expect(setup).toContain(`curl -fsSL https://get.pulumi.com | sh -s -- --version ${sdk}`);
    expect(setup).toContain(`Pulumi CLI ${sdk.split(".").slice(0, 2).join(".")}.x`);
    expect(PKG.engines.node).toBe(">=20");
    expect(setup).toContain("Node.js ≥ 20");
    expect(setup).toMatch(/about 18 minutes on 2 cores/);
    expect(setup).toContain("scripts/prereqs.sh");
  });

  it("has the first-time order in one place: stack file, SSH key, host keys, stack init, secrets, validate, preview, up", () => {
    const first = section("First deployment of an environment");
    const steps = [
      "Delete its `encryptionsalt:`",
      "ssh-copy-id",
      "npm run host-keys -- <name>",
      "pulumi stack init <name> --secrets-provider passphrase",
      "pulumi config set --secret --path secrets.sshPrivateKey",
      "npm run validate -- <name>",
      "pulumi preview --refresh",
      "pulumi up",
    ];
    const at = steps.map((s) => first.indexOf(s));
    expect(at.every((i) => i >= 0), JSON.stringify(steps.filter((_, i) => at[i] < 0))).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("documents the API token recovery command the refusal prints", () => {
    expect(README).toContain("pulumi config set --path environment.apiAccess.rotation recover-<date>");
  });

  it("names every preflight check and every verify step in Operating / Preflight and verify", () => {
    const text = section("Operating");
    const sub = text.slice(text.indexOf("### Preflight and verify"));
    for (const name of [...PREFLIGHT_CHECKS, ...VERIFY_STEPS]) expect(sub, name).toContain(`\`${name}\``);
  });

  it("shows ha-verify's real usage, with every flag it takes", () => {
    expect(README).toContain(USAGE);
    for (const flag of Object.keys(OPTIONS)) expect(USAGE).toContain(`--${flag}`);
  });

  it("ha-verify without a host key pin (or --insecure) is a usage error, before any connection", async () => {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(tsx, ["scripts/ha-verify.ts", "--host", "192.0.2.1", "--node", "x"], { cwd: ROOT }, (error, _stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stderr }),
      ),
    );
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(`usage: ${USAGE}`);
  });

  it("the Operating section has a row for every verb of the homelab command, and every flag its usage names", () => {
    const operating = section("Operating");
    // The verbs' table (the section's subsections have tables of their own).
    const table = operating.slice(operating.indexOf("| Verb |")).split("\n\n")[0];
    const rows = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(Object.keys(VERBS));
    for (const flag of HOMELAB_USAGE.match(/--[a-z-]+/g) ?? []) expect(operating).toContain(flag);
  });
});
