/**
 * The talosctl steps of a Talos cluster, each one command or a bounded wait,
 * run locally through local-tool.ts. Texts and exit codes follow
 * /work/shared/reference/talos-k3s.md section 1: talosctl exits 1 for every
 * failure, so failures are told apart by their message, never by the code.
 */
import { createHash } from "node:crypto";
import { sleep } from "../diff";
import type { LocalTool } from "./local-tool";

/** What a node's Talos API says right now. */
export type NodeReach =
  /** Answers with our talosconfig: configured by this cluster's secrets. */
  | { kind: "configured"; stage: string }
  /** Answers only without client certificates: maintenance mode, waiting for a config. */
  | { kind: "maintenance" }
  /** Answers, but trusts another CA and is not in maintenance mode (another cluster, or older secrets). */
  | { kind: "foreign"; detail: string }
  /** Does not answer (not booted yet, rebooting, unreachable). */
  | { kind: "down"; detail: string };

/** The node is not up (yet): worth asking again. */
export function isNotUp(text: string): boolean {
  if (/handshake|tls:|x509|certificate/.test(text)) return false;
  return /Error while dialing|connection refused|no route to host|context deadline exceeded|i\/o timeout|connection reset by peer|code = Unavailable/.test(text);
}

/** The client does not trust the server's certificate: the maintenance API's self-signed one, or another cluster's CA. */
export function isUnknownAuthority(text: string): boolean {
  return /x509: certificate signed by unknown authority/.test(text);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Poll interval for a bounded wait of `timeoutMs`. */
export function pollDelay(timeoutMs: number): number {
  return Math.min(5000, Math.max(100, Math.round(timeoutMs / 40)));
}

/** `talosctl version --client`: the `Tag:` of the Client block. */
export function clientVersion(stdout: string): string {
  const client = stdout.split(/^Server:/m)[0];
  return /^\s*Tag:\s*(\S+)/m.exec(client)?.[1] ?? "";
}

/** Refuses (before any change) a talosctl whose client version is not the pinned one. */
export async function checkTalosctlVersion(tool: LocalTool, cluster: string, path: string, want: string): Promise<void> {
  const result = await tool.must(cluster, ["version", "--client"]);
  const got = clientVersion(result.stdout);
  if (got !== want) {
    throw new Error(
      `${cluster}: talosctl at ${path} is ${got || "of an unknown version"}, but talosctl.version pins ${want}; ` +
        `install talosctl ${want} there (or change the pin) before anything is changed`,
    );
  }
}

/** Authenticated flags for one node: the node is its own endpoint, so no other node needs to be up. */
export function authFlags(talosconfigPath: string, address: string): string[] {
  return ["--talosconfig", talosconfigPath, "--endpoints", address, "--nodes", address];
}

/**
 * One look at a node's Talos API. `expect` says which side to ask first (a
 * node that had a config: authenticated; a new one: the maintenance API), so
 * the usual case costs one call.
 */
export async function probeNode(tool: LocalTool, name: string, address: string, talosconfigPath: string, expect: "configured" | "maintenance" = "configured"): Promise<NodeReach> {
  const authArgs = ["get", "machinestatus", "--output", "json", ...authFlags(talosconfigPath, address)];
  const insecureArgs = ["get", "machinestatus", "--output", "json", "--insecure", "--nodes", address];
  const first = await tool.run(name, expect === "configured" ? authArgs : insecureArgs);
  const firstText = `${first.stderr}\n${first.stdout}`;
  if (first.code === 0) {
    if (expect === "configured") return { kind: "configured", stage: machineStage(first.stdout) };
    if (machineStage(first.stdout) === "maintenance") return { kind: "maintenance" };
  } else if (isNotUp(firstText)) {
    return { kind: "down", detail: tool.scrub(lastLine(firstText)) };
  }
  const secondArgs = expect === "configured" ? insecureArgs : authArgs;
  const second = await tool.run(name, secondArgs);
  const secondText = `${second.stderr}\n${second.stdout}`;
  const [auth, authText, insecure] = expect === "configured" ? [first, firstText, second] : [second, secondText, first];
  if (auth.code === 0) return { kind: "configured", stage: machineStage(auth.stdout) };
  if (insecure.code === 0 && machineStage(insecure.stdout) === "maintenance") return { kind: "maintenance" };
  if (isNotUp(secondText)) return { kind: "down", detail: tool.scrub(lastLine(secondText)) };
  if (!isUnknownAuthority(authText)) throw tool.failure(name, authArgs, auth);
  return { kind: "foreign", detail: tool.scrub(lastLine(authText)) };
}

/** Probes a node until it answers (maintenance or configured), at most `timeoutMs`. */
export async function waitForNode(
  tool: LocalTool,
  name: string,
  address: string,
  talosconfigPath: string,
  timeoutMs: number,
  want?: "configured",
  expect: "configured" | "maintenance" = want ?? "configured",
): Promise<NodeReach> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reach = await probeNode(tool, name, address, talosconfigPath, expect);
    const done = want === undefined ? reach.kind !== "down" : reach.kind === want || reach.kind === "foreign";
    if (done) return reach;
    if (Date.now() >= deadline) {
      const what = reach.kind === "down" ? `its Talos API (${address}:50000) does not answer: ${reach.detail}` : `it is still in ${reach.kind} mode`;
      throw new Error(`${name}: talosctl get machinestatus: not up after ${Math.round(timeoutMs / 1000)} s; ${what}`);
    }
    await sleep(pollDelay(timeoutMs));
  }
}

/** `spec.stage` of the first MachineStatus object in `get -o json` output (objects are concatenated, not an array). */
export function machineStage(stdout: string): string {
  return /"stage":\s*"([^"]+)"/.exec(stdout)?.[1] ?? "unknown";
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).pop() ?? "";
}

/** `talosctl service etcd` says `STATE Running` on a control plane of a bootstrapped cluster. */
export async function etcdRunning(tool: LocalTool, name: string, address: string, talosconfigPath: string): Promise<boolean> {
  const result = await tool.run(name, ["service", "etcd", ...authFlags(talosconfigPath, address)]);
  if (result.code !== 0) return false;
  return /^STATE\s+Running\s*$/m.test(result.stdout);
}

/**
 * Applies a machine config: `--insecure` to a node in maintenance mode (it
 * installs and reboots; prints nothing), through the talosconfig otherwise.
 * Returns what Talos said (`Applied configuration with a reboot...`).
 */
export async function applyConfig(tool: LocalTool, name: string, address: string, configPath: string, talosconfigPath: string, insecure: boolean): Promise<string> {
  const args = insecure
    ? ["apply-config", "--insecure", "--nodes", address, "--file", configPath]
    : ["apply-config", ...authFlags(talosconfigPath, address), "--file", configPath];
  const result = await tool.must(name, args);
  return result.stderr.trim();
}

/**
 * Bootstraps etcd on one control plane. AlreadyExists means an earlier run did
 * it (success); not available yet / time not in sync / not up are retried until `timeoutMs`.
 */
export async function bootstrap(tool: LocalTool, name: string, address: string, talosconfigPath: string, timeoutMs: number): Promise<void> {
  const args = ["bootstrap", ...authFlags(talosconfigPath, address)];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await tool.run(name, args);
    if (result.code === 0) return;
    const text = `${result.stderr}\n${result.stdout}`;
    if (/code = AlreadyExists/.test(text)) return;
    const retry = /bootstrap is not available yet|time is not in sync yet/.test(text) || isNotUp(text);
    if (!retry || Date.now() >= deadline) throw tool.failure(name, args, result);
    await sleep(pollDelay(timeoutMs));
  }
}

/** The admin kubeconfig from one control plane, as a deterministic file (`--merge=false --force`). */
export async function fetchKubeconfig(tool: LocalTool, name: string, address: string, talosconfigPath: string, timeoutMs: number): Promise<string> {
  const file = `${tool.dir}/kubeconfig`;
  const args = ["kubeconfig", file, "--merge=false", "--force", ...authFlags(talosconfigPath, address)];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await tool.run(name, args);
    if (result.code === 0) return tool.read("kubeconfig");
    if (!isNotUp(`${result.stderr}\n${result.stdout}`) || Date.now() >= deadline) throw tool.failure(name, args, result);
    await sleep(pollDelay(timeoutMs));
  }
}
