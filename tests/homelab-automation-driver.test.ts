/**
 * The real StackDriver's wiring, with a recording stand-in for the `pulumi`
 * executable on PATH (the CLI is not needed to run the tests): the backend
 * defaults to the folder's `.pulumi-state` (created 0700) or follows
 * PULUMI_BACKEND_URL, the stack is selected in this folder, the trust-ca
 * bundle goes in as SSL_CERT_FILE, and outputs come back with their secret
 * flags.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { automationDriver } from "../scripts/homelab/automation-driver";

const ROOT = path.resolve(__dirname, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-driver-"));
const log = path.join(tmp, "calls.log");
const project = path.join(tmp, "project");

// Answers like the real CLI for the calls the driver makes: `version`, `stack select`, and
// `stack output --json` (secrets masked as "[secret]" unless --show-secrets).
const FAKE_PULUMI = `#!/bin/sh
echo "$* | backend=$PULUMI_BACKEND_URL cert=\${SSL_CERT_FILE:-none} cwd=$(pwd)" >> "${log}"
case "$1 $2" in
  "version "*) echo "v3.248.0" ;;
  "stack select") exit 0 ;;
  "stack output")
    case "$*" in
      *--show-secrets*) echo '{"nodes":{"golf":"10.0.0.11"},"api":{"tokenSecret":"pve-token-secret"}}' ;;
      *) echo '{"nodes":{"golf":"10.0.0.11"},"api":"[secret]"}' ;;
    esac ;;
  *) echo "error: unexpected call: $*" >&2; exit 255 ;;
esac
`;

const saved = { PATH: process.env.PATH, SSL_CERT_FILE: process.env.SSL_CERT_FILE };
beforeAll(() => {
  // The machine's own bundle must not stand in for the stack's.
  delete process.env.SSL_CERT_FILE;
  const bin = path.join(tmp, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
  fs.mkdirSync(path.join(project, ".homelab", "ca"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
  fs.writeFileSync(path.join(project, ".homelab", "ca", "matrix.pem"), "bundle");
  process.env.PATH = `${bin}:${process.env.PATH}`;
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

const calls = () => fs.readFileSync(log, "utf8").trim().split("\n");

describe("the Automation API driver", () => {
  it("selects the stack on the folder's file backend (created 0700), with the trust-ca bundle, and reads outputs with their secret flags", async () => {
    const driver = await automationDriver("matrix", { PULUMI_CONFIG_PASSPHRASE: "x" }, project);
    const state = path.join(project, ".pulumi-state");
    expect(fs.statSync(state).mode & 0o777).toBe(0o700);
    const select = calls().find((c) => c.startsWith("stack select"));
    expect(select).toBe(`stack select --stack matrix --non-interactive | backend=file://${state} cert=${path.join(project, ".homelab", "ca", "matrix.pem")} cwd=${project}`);
    expect(await driver.outputs()).toEqual({
      nodes: { value: { golf: "10.0.0.11" }, secret: false },
      api: { value: { tokenSecret: "pve-token-secret" }, secret: true },
    });
  });

  it("follows PULUMI_BACKEND_URL, creating no state folder", async () => {
    fs.rmSync(log, { force: true });
    const other = path.join(tmp, "other");
    fs.mkdirSync(other);
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(other, "Pulumi.yaml"));
    await automationDriver("ms01", { PULUMI_BACKEND_URL: "https://api.pulumi.com" }, other);
    expect(calls().find((c) => c.startsWith("stack select"))).toMatch(/^stack select --stack ms01 --non-interactive \| backend=https:\/\/api\.pulumi\.com cert=none /);
    expect(fs.existsSync(path.join(other, ".pulumi-state"))).toBe(false);
  });
});
