/**
 * A stack that imports its config from Pulumi ESC environments (a top-level
 * `environment:` in the stack file): secrets absent from the file are not
 * "missing" when they can come from the environments; with the Pulumi CLI the
 * config is read the way Pulumi resolves it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../scripts/homelab/cli";
import { pulumiConfigReader, type ConfigReader } from "../stacks/esc";
import { validateStackText } from "../stacks/stack-file";
import { cliDeps, fakeDriver, linesOf } from "./helpers/homelab-cli";

const ROOT = path.resolve(__dirname, "..");
const MATRIX = fs.readFileSync(path.join(ROOT, "Pulumi.matrix.yaml"), "utf8");
/** matrix with its secrets moved to an ESC environment. */
const ESC_MATRIX = "environment:\n  - homelab/matrix\n" + MATRIX.slice(0, MATRIX.indexOf("  homelab:secrets:"));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-esc-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const noCli: ConfigReader = () => ({ error: "the Pulumi CLI is not on PATH" });

describe("stacks with Pulumi ESC environments", () => {
  it("without the Pulumi CLI: valid, and names the secrets expected from the environment instead of calling them missing", async () => {
    const result = validateStackText(ESC_MATRIX, "/x/Pulumi.matrix.yaml", { readConfig: noCli });
    expect(result.issues).toEqual([]);
    expect(result.environment?.name).toBe("matrix");
    expect(result.warnings?.[0]).toBe(
      "secrets.sshPrivateKey, secrets.rootPasswords.foxtrot: not in the stack file; expected from the Pulumi ESC environment(s) homelab/matrix " +
        "(not checked here: the Pulumi CLI is not on PATH)",
    );
    // and the preview verb goes ahead instead of refusing
    const { driver, calls } = fakeDriver({ changes: { preview: { same: 1 } } });
    const c = cliDeps(driver, { validateStack: () => result });
    try {
      expect(await main(["preview", "matrix"], c.deps)).toBe(0);
      expect(calls).toEqual(["preview --refresh"]);
      expect(linesOf(c.stdout)).toContain("preview: 1 same");
    } finally {
      c.cleanup();
    }
  });

  it("a stack file without environment: still reports missing secrets", () => {
    const result = validateStackText(ESC_MATRIX.replace("environment:\n  - homelab/matrix\n", ""), "/x/Pulumi.matrix.yaml", { readConfig: noCli });
    expect(result.issues[0]).toMatch(/^secrets\.sshPrivateKey: missing; /);
  });

  it("with the Pulumi CLI: the resolved config is checked, blinded secrets count as present, a truly missing one is reported", () => {
    const asked: string[] = [];
    const reader: ConfigReader = (stack, dir) => {
      asked.push(`${stack} ${dir}`);
      return {
        config: {
          "homelab:secrets": { value: "[secret]", objectValue: { sshPrivateKey: "[secret]", rootPasswords: { golf: "[secret]" } }, secret: true },
        },
      };
    };
    const result = validateStackText(ESC_MATRIX, "/x/Pulumi.matrix.yaml", { readConfig: reader });
    expect(asked).toEqual(["matrix /x"]);
    expect(result.issues).toEqual([
      expect.stringMatching(/^secrets\.rootPasswords\.foxtrot: missing; /),
    ]);
    const opaque = validateStackText(ESC_MATRIX, "/x/Pulumi.matrix.yaml", {
      readConfig: () => ({ config: { "homelab:secrets": { value: "[secret]", secret: true } } }),
    });
    expect(opaque.issues).toEqual([]);
  });

  it("the real reader runs pulumi config --json --open (secrets blinded) for the stack, or says the CLI is missing", () => {
    const bin = fs.mkdtempSync(path.join(tmp, "bin-"));
    const argsFile = path.join(tmp, "args");
    fs.writeFileSync(
      path.join(bin, "pulumi"),
      `#!/bin/sh\necho "$@" > ${argsFile}\necho '{"homelab:secrets":{"value":"[secret]","secret":true}}'\n`,
      { mode: 0o755 },
    );
    const saved = process.env.PATH;
    try {
      process.env.PATH = path.join(tmp, "nothing-here");
      expect(pulumiConfigReader("matrix", ROOT)).toEqual({ error: "the Pulumi CLI is not on PATH" });
      process.env.PATH = `${bin}:${saved}`;
      expect(pulumiConfigReader("matrix", ROOT)).toEqual({ config: { "homelab:secrets": { value: "[secret]", secret: true } } });
      expect(fs.readFileSync(argsFile, "utf8").trim()).toBe("config --json --open --show-secrets=false -s matrix");
    } finally {
      process.env.PATH = saved;
    }
  });
});
