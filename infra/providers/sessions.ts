/**
 * Sessions to a set of nodes, for the providers that work on several at once
 * (cluster, Ceph, ring verification, Ceph health), and the wording of their
 * refusals. Plain function declarations only: provider code must not read
 * exported consts (see diff.ts).
 */
import { errorMessage } from "../errors";
import { SshSession, connect } from "../ssh";
import { NodeConnection, sshOptions, sshTarget } from "./connection";

/** A node that could not be reached, with why. */
export interface SessionFailure {
  node: string;
  /** The connect error's message (it starts with the node name). */
  message: string;
  /** The connect error itself, to re-throw unchanged. */
  error: unknown;
}

export interface OpenedSessions {
  /** By node name, in the order of the nodes given. */
  sessions: Map<string, SshSession>;
  /** Unreachable nodes, in the order of the nodes given. */
  failures: SessionFailure[];
}

/** Open one session per node, all at once; unreachable nodes are collected, not thrown one by one. */
export async function openSessions(nodes: readonly { connection: NodeConnection }[], sshPrivateKey: string | undefined): Promise<OpenedSessions> {
  const results = await Promise.allSettled(
    nodes.map((n) => {
      const args = { connection: n.connection, sshPrivateKey };
      return connect(sshTarget(args), sshOptions(args));
    }),
  );
  const sessions = new Map<string, SshSession>();
  const failures: SessionFailure[] = [];
  results.forEach((r, i) => {
    const node = nodes[i].connection.node;
    if (r.status === "fulfilled") sessions.set(node, r.value);
    else failures.push({ node, message: errorMessage(r.reason), error: r.reason });
  });
  return { sessions, failures };
}

export function closeAll(sessions: Map<string, SshSession>): void {
  for (const s of sessions.values()) s.close();
}

/** Open every node's session, run `fn`, close them all; the first unreachable node's error is thrown as it is. */
export async function withSessions<T>(
  nodes: readonly { connection: NodeConnection }[],
  sshPrivateKey: string | undefined,
  fn: (sessions: Map<string, SshSession>) => Promise<T>,
): Promise<T> {
  const { sessions, failures } = await openSessions(nodes, sshPrivateKey);
  try {
    if (failures.length > 0) throw failures[0].error;
    return await fn(sessions);
  } finally {
    closeAll(sessions);
  }
}

/** The first node that answers over SSH, or undefined with every failure. */
export async function openFirst(
  nodes: readonly { connection: NodeConnection }[],
  sshPrivateKey: string | undefined,
): Promise<{ session?: SshSession; failures: SessionFailure[] }> {
  const failures: SessionFailure[] = [];
  for (const n of nodes) {
    const args = { connection: n.connection, sshPrivateKey };
    try {
      return { session: await connect(sshTarget(args), sshOptions(args)), failures };
    } catch (err) {
      failures.push({ node: n.connection.node, message: errorMessage(err), error: err });
    }
  }
  return { failures };
}

/** `a, b, c`. */
export function list(items: readonly string[]): string {
  return items.join(", ");
}

/** Every line of `text` prefixed (default four spaces), trailing space dropped. */
export function indent(text: string, prefix = "    "): string {
  return text
    .replace(/\s+$/, "")
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");
}

/** The lines of `text` that are not blank (a config file shown compactly in a message). */
export function withoutBlankLines(text: string): string {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .join("\n");
}

/** `<subject>: refusing to change anything:` and one `  - ` line per problem. */
export function refusalMessage(subject: string, problems: readonly string[]): string {
  return `${subject}: refusing to change anything:\n` + problems.map((p) => `  - ${p}`).join("\n");
}
