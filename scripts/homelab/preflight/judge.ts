/**
 * Preflight decisions, pure: what each reading means and what to do about
 * it. Every failure names the node; every fix is a step a person can take.
 */
import { hasErrorName, errorMessage } from "../../../infra/errors";
import type { CheckResult, Outcome } from "../checks";

/** Why a node could not be reached over SSH, and what to do. */
export function sshFailure(node: string, address: string, port: number, err: unknown): Outcome {
  const detail = errorMessage(err);
  if (hasErrorName(err, "HostKeyMismatchError")) {
    const { expected, presented } = err as { expected: string; presented: string };
    return {
      ok: false,
      detail: `${node}: wrong host key at ${address}:${port}: the stack file pins ${expected}, the host presented ${presented}`,
      fix:
        `if ${node} was reinstalled, compare ${presented} with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on its console, ` +
        `then run \`npm run host-keys -- <stack>\` and put the new hostKey of ${node} in the stack file; otherwise something else answers at ${address}: do not connect`,
    };
  }
  if (hasErrorName(err, "AuthenticationError")) {
    return { ok: false, detail, fix: `authorize the stack's SSH key (secrets.sshPrivateKey, or the agent with ssh.useAgent) for ${node}'s ssh.user in ~/.ssh/authorized_keys on ${node}` };
  }
  return {
    ok: false,
    detail,
    fix: `check that ${node} is powered on and answers SSH at ${address}:${port} (nodes[].address, nodes[].sshPort / ssh.port), e.g. \`ssh -p ${port} root@${address} true\``,
  };
}

/** One node's Proxmox VE release as read. */
export interface NodeRelease {
  node: string;
  /** "8.4.14" */
  version: string;
  /** "8.4" */
  release: string;
}

function releaseKey(release: string): number[] {
  return release.split(".").map(Number);
}

function newer(a: string, b: string): boolean {
  const [x, y] = [releaseKey(a), releaseKey(b)];
  return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
}

/** One result per node: a node on an older major.minor than the newest fails, naming both. */
export function judgeReleases(releases: readonly NodeRelease[]): Omit<CheckResult, "durationSeconds">[] {
  if (releases.length === 0) return [];
  const newest = releases.reduce((best, r) => (newer(r.release, best.release) ? r : best)).release;
  const all = releases.map((r) => `${r.node} ${r.version}`).join(", ");
  return releases.map((r) =>
    r.release === newest
      ? { check: "pve-version", node: r.node, ok: true, detail: `${r.node}: Proxmox VE ${r.version}` }
      : {
          check: "pve-version",
          node: r.node,
          ok: false,
          detail: `${r.node}: Proxmox VE ${r.version} (${r.release}), other nodes run ${newest}; every node needs the same major.minor (${all})`,
          fix:
            `upgrade ${r.node} to ${newest}: \`apt update && apt full-upgrade\` on ${r.node}` +
            (releaseKey(r.release)[0] < releaseKey(newest)[0] ? ` (a major upgrade: follow the Proxmox VE upgrade guide, run pve${releaseKey(r.release)[0]}to${releaseKey(newest)[0]} first)` : ""),
        },
  );
}

/** What `getent hosts <name>` gave on one node for each node name ("" when it does not resolve). */
export function judgeResolution(node: string, answers: Record<string, string>, expected: Record<string, string>): Outcome {
  const bad = Object.entries(expected).filter(([name, address]) => answers[name] !== address);
  if (bad.length === 0) return { ok: true, detail: `${node}: ${Object.keys(expected).join(", ")} resolve to their management addresses` };
  const what = bad.map(([name, address]) =>
    answers[name] ? `${name} resolves to ${answers[name]}, not its management address ${address}` : `${name} does not resolve (its management address is ${address})`,
  );
  return {
    ok: false,
    detail: `${node}: getent hosts: ${what.join("; ")}`,
    fix: `on ${node}, make ${bad.map(([name]) => name).join(", ")} resolve to the management address: ` + bad.map(([name, address]) => `"${address} ${name}"`).join(", ") + ` in /etc/hosts (replacing any other line for that name, e.g. 127.0.1.1), or fix DNS`,
  };
}

/**
 * A node's clock against ours: `remote` read between `before` and `after`
 * (seconds since the epoch); the read's own delay is the uncertainty.
 */
export function judgeClock(node: string, remote: number, before: number, after: number, boundSeconds: number): Outcome {
  const skew = remote - (before + after) / 2;
  const slack = (after - before) / 2;
  const shown = `${skew >= 0 ? "+" : ""}${skew.toFixed(3)} s`;
  if (Math.abs(skew) - slack <= boundSeconds) return { ok: true, detail: `${node}: clock ${shown} from this machine's (bound ${boundSeconds} s)` };
  return {
    ok: false,
    detail: `${node}: clock is ${shown} off this machine's, more than ${boundSeconds} s (corosync and Ceph need synchronised clocks)`,
    fix: `run NTP on ${node} (\`systemctl enable --now chrony\`, then \`chronyc makestep\`), and check this machine's clock too`,
  };
}
