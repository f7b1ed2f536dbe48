/**
 * Run a command on a simulated node with the system OpenSSH client, strict host-key checking
 * against the cluster's known_hosts file and the cluster's client key.
 */
import { spawn } from "node:child_process";
import type { SimCluster } from "./cluster";

export interface SshResult {
  stdout: string;
  stderr: string;
  /** exit status; 255 for ssh's own failures (e.g. connection refused) */
  code: number;
  /** wall-clock milliseconds */
  ms: number;
}

export function sshRun(sim: SimCluster, node: string, command: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  const n = sim.node(node);
  const args = [
    "-F", "/dev/null",
    "-i", sim.clientKeyFile,
    "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${sim.knownHostsFile}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "ConnectTimeout=5",
    "-o", "LogLevel=ERROR",
    "-p", String(n.port),
    `root@${n.host}`,
    command,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? -1, ms: Date.now() - started });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
  });
}
