/**
 * OS prerequisites of the simulated cluster (sshd, sudo, unshare, ip),
 * installed with apt-get when missing, as `.ci/run` does for the tests.
 * Kept as one small function so a shared prerequisites script can replace it.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

const NEEDS: { package: string; present: () => boolean }[] = [
  { package: "openssh-server", present: () => fs.existsSync("/usr/sbin/sshd") },
  { package: "openssh-client", present: () => onPath("ssh-keygen") },
  { package: "sudo", present: () => onPath("visudo") || fs.existsSync("/usr/sbin/visudo") },
  { package: "util-linux", present: () => onPath("unshare") },
  { package: "iproute2", present: () => onPath("ip") || fs.existsSync("/usr/sbin/ip") },
];

export function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && fs.existsSync(`${dir}/${command}`));
}

export function ensurePrerequisites(log: (line: string) => void = console.log): void {
  if (process.getuid?.() !== 0) throw new Error("the simulated cluster needs root (it runs one sshd per node in its own namespaces); run as root");
  const missing = NEEDS.filter((n) => !n.present()).map((n) => n.package);
  if (missing.length === 0) return;
  log(`installing ${missing.join(" ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: "inherit", env });
}
