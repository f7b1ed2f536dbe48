/**
 * The demo's OS prerequisites: the one list the tests use (scripts/prereqs.sh),
 * which installs what is missing as root with apt-get, or stops with the one
 * command to run.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "prereqs.sh");

export function ensurePrerequisites(): void {
  const r = spawnSync("bash", [SCRIPT], { stdio: ["ignore", "inherit", "pipe"], encoding: "utf8" });
  if (r.status !== 0) throw new Error((r.stderr || r.error?.message || "scripts/prereqs.sh failed").trim());
}
