/**
 * The OS prerequisites of the test suite: one script (scripts/prereqs.sh) that
 * `npm test` runs first (pretest), .ci/run runs, and the simulator checks
 * before starting, so a missing sshd is one line naming the command to run,
 * never a skipped test or `sshd: No such file or directory`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkPrerequisites } from "./sim/cluster";

const ROOT = path.resolve(__dirname, "..");
const SCRIPT = path.join(ROOT, "scripts", "prereqs.sh");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-prereqs-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A directory holding links to the named host commands only. */
function pathWith(...commands: string[]): string {
  const dir = fs.mkdtempSync(path.join(tmp, "bin-"));
  for (const c of commands) {
    const where = execFileSync("bash", ["-c", `PATH="$PATH:/usr/sbin:/sbin" command -v ${c}`], { encoding: "utf8" }).trim();
    fs.symlinkSync(where, path.join(dir, c));
  }
  return dir;
}

const ALL = ["sshd", "ssh", "ssh-keygen", "sudo", "visudo", "unshare", "nsenter", "ip", "openssl"];

describe("test prerequisites", () => {
  it("the simulator stops at once without sshd, naming the package and the command", () => {
    const noSshd = pathWith(...ALL.filter((c) => c !== "sshd"));
    expect(() => checkPrerequisites(noSshd)).toThrow(
      "the simulated cluster cannot start: The tests need openssh-server. " +
        "Install with: apt-get update && apt-get install -y --no-install-recommends openssh-server",
    );
  });

  it("--check lists every missing package once, and passes when all are there", () => {
    const bare = spawnSync("bash", [SCRIPT, "--check"], { encoding: "utf8", env: { ...process.env, PREREQS_PATH: pathWith("ssh") } });
    expect(bare.status).toBe(1);
    expect(bare.stderr.trim()).toBe(
      "The tests need openssh-server openssh-client sudo util-linux iproute2 openssl. " +
        "Install with: apt-get update && apt-get install -y --no-install-recommends openssh-server openssh-client sudo util-linux iproute2 openssl",
    );
    const full = spawnSync("bash", [SCRIPT, "--check"], { encoding: "utf8", env: { ...process.env, PREREQS_PATH: pathWith(...ALL) } });
    expect([full.status, full.stderr]).toEqual([0, ""]);
  });

  it("npm test and .ci/run both run that one script first", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe("bash scripts/prereqs.sh");
    expect(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8")).toContain("bash scripts/prereqs.sh ||");
  });
});
