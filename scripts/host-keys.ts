/**
 * `npm run host-keys -- <stack | path/to/stack-file.yaml>`
 *
 * Connects to every node of a stack over SSH only far enough to see the host
 * key it presents (the key is refused, so no authentication is attempted and
 * no secret is read), and prints one `hostKey:` line per node to paste into
 * the stack file, with a warning where the node's current pin differs.
 *
 * Trust on first use: check the printed fingerprints on the nodes' consoles
 * (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`) when the network
 * between you and them is not your own.
 */
import { fingerprint } from "../infra/ssh";
import { hostKeyFromKeygenLine } from "../stacks/schema";
import { ENVIRONMENT_KEY, readStackFile } from "../stacks/stack-file";

export interface NodeToScan {
  name: string;
  address: string;
  port: number;
  /** The pin the stack file holds now, if any. */
  pinned?: string;
}

export interface ScanResult {
  /** One line per reachable node, ready to paste: `hostKey: SHA256:…   # foxtrot 192.168.3.5`. */
  lines: string[];
  /** Pins that differ from what the node presents. */
  warnings: string[];
  /** Nodes that could not be asked, with the reason. */
  failures: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The nodes of a raw (unvalidated) environment: name, address, SSH port and current pin. */
export function nodesToScan(rawEnvironment: unknown): { nodes: NodeToScan[]; issues: string[] } {
  const env = isRecord(rawEnvironment) ? rawEnvironment : {};
  const sshPort = isRecord(env.ssh) && typeof env.ssh.port === "number" ? env.ssh.port : 22;
  const list = Array.isArray(env.nodes) ? env.nodes : [];
  const nodes: NodeToScan[] = [];
  const issues: string[] = [];
  if (list.length === 0) issues.push(`${ENVIRONMENT_KEY}: no nodes to ask`);
  list.forEach((n, i) => {
    if (!isRecord(n) || typeof n.address !== "string") {
      issues.push(`nodes[${i}].address: missing; cannot ask this node for its host key`);
      return;
    }
    const pinned = hostKeyFromKeygenLine(n.hostKey);
    nodes.push({
      name: typeof n.name === "string" ? n.name : `nodes[${i}]`,
      address: n.address,
      port: typeof n.sshPort === "number" ? n.sshPort : sshPort,
      pinned: typeof pinned === "string" ? pinned : undefined,
    });
  });
  return { nodes, issues };
}

/**
 * The host key fingerprint a node presents. The verifier records the key and
 * refuses it, which ends the handshake before any authentication.
 */
export function presentedHostKey(address: string, port: number, timeoutMs = 10_000): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require("ssh2") as typeof import("ssh2");
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: string | undefined;
    const done = (err?: Error) => {
      client.end();
      if (presented) resolve(presented);
      else reject(err ?? new Error("the connection closed before a host key was presented"));
    };
    client.on("error", (err: Error) => done(err));
    client.on("close", () => done());
    client.on("ready", () => done());
    client.connect({
      host: address,
      port,
      username: "host-key-scan",
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        presented = fingerprint(key);
        return false;
      },
    });
  });
}

/** Ask every node for its host key (in parallel) and compare with its pin. */
export async function scanHostKeys(
  nodes: NodeToScan[],
  presented: (address: string, port: number) => Promise<string> = presentedHostKey,
): Promise<ScanResult> {
  const answers = await Promise.all(
    nodes.map(async (node) => {
      try {
        return { node, key: await presented(node.address, node.port) };
      } catch (err) {
        return { node, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  const result: ScanResult = { lines: [], warnings: [], failures: [] };
  for (const a of answers) {
    const where = a.node.port === 22 ? a.node.address : `${a.node.address}:${a.node.port}`;
    if (a.key === undefined) {
      result.failures.push(`${a.node.name}: cannot get the host key of ${where}: ${a.error}`);
      continue;
    }
    result.lines.push(`hostKey: ${a.key}   # ${a.node.name} ${where}`);
    if (a.node.pinned !== undefined && a.node.pinned !== a.key) {
      result.warnings.push(
        `warning: ${a.node.name}: pinned hostKey ${a.node.pinned} differs from the key ${where} presents (${a.key}); ` +
          `replace the pin only if the node was reinstalled (check on its console), otherwise something else answers at that address`,
      );
    }
  }
  return result;
}

export async function main(
  argv: string[],
  out: (line: string) => void,
  err: (line: string) => void,
  presented?: (address: string, port: number) => Promise<string>,
): Promise<number> {
  if (argv.length !== 1 || argv[0].startsWith("-")) {
    err("usage: npm run host-keys -- <stack name | path to a stack file>");
    return 2;
  }
  const read = readStackFile(argv[0]);
  if (!read.ok) {
    for (const line of read.issues) err(line);
    return 1;
  }
  const { nodes, issues } = nodesToScan(read.config[ENVIRONMENT_KEY]);
  for (const line of issues) err(line);
  const result = await scanHostKeys(nodes, presented);
  for (const line of result.lines) out(line);
  for (const line of [...result.warnings, ...result.failures]) err(line);
  return issues.length > 0 || result.failures.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(
    process.argv.slice(2),
    (line) => console.log(line),
    (line) => console.error(line),
  ).then((code) => (process.exitCode = code));
}
