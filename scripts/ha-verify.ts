/**
 * HA verification against a live cluster:
 *
 *   npx tsx scripts/ha-verify.ts --host 10.0.0.11 --node pve1 [--port 22] [--user root]
 *       [--key ~/.ssh/id_ed25519] [--host-key SHA256:…] [--insecure]
 *       [--migrate <vmid> [--target <node>] [--max-downtime-ms 500] [--ha-timeout-s 300] [--ha-poll-ms 2000]]
 *
 * 1. With `--migrate`: live-migrates the test VM and reports the downtime QEMU measured.
 *    - A plain VM: `qm migrate <vmid> <target> --online` on the VM's node, which must be the
 *      `--node` connected to; its output is the migration log.
 *    - An HA-managed VM (PVE does not migrate those itself; `qm migrate` only prints
 *      `Requesting HA migration …`): `ha-manager migrate vm:<vmid> <target>` from any node, then
 *      `/cluster/ha/status/current` is polled until the service is started on the target, and
 *      the log of the qmigrate task the CRM ran on the source node is read through
 *      `/nodes/<source>/tasks`. The target defaults to a node the HA placement prefers or allows;
 *      a `--target` outside a strict placement is refused.
 *    The target must be an online member; without `--target`, the first suitable one by name.
 * 2. Always: checks that every HA resource runs on a node its placement (PVE 8 group or PVE 9
 *    node-affinity rule) allows, from `/cluster/ha/status/current`, resources, groups/rules.
 * Exit code 1 when anything fails. The checks live in ./homelab/verify/ha.ts (verify runs the
 * placement check too), the decisions in ./homelab/verify/ha-plan.ts.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import type { SshTarget } from "../infra/ssh";
import { runVerify } from "./homelab/verify/ha";

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(value)}`);
  return n;
}

/** The command-line flags (node:util parseArgs). */
export const OPTIONS = {
  host: { type: "string" },
  node: { type: "string" },
  port: { type: "string", default: "22" },
  user: { type: "string", default: "root" },
  key: { type: "string" },
  "host-key": { type: "string" },
  insecure: { type: "boolean", default: false },
  migrate: { type: "string" },
  target: { type: "string" },
  "max-downtime-ms": { type: "string" },
  "ha-timeout-s": { type: "string" },
  "ha-poll-ms": { type: "string" },
} as const;

/** The usage line, as the README shows it. */
export const USAGE =
  "npx tsx scripts/ha-verify.ts --host <address> --node <name> (--host-key SHA256:… | --insecure) " +
  "[--key <private key file>] [--user root] [--port 22] " +
  "[--migrate <vmid> [--target <node>] [--max-downtime-ms N] [--ha-timeout-s 300] [--ha-poll-ms 2000]]";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: OPTIONS });
  // The SSH layer refuses an unpinned node; say so here, as a usage error.
  if (!values.host || !values.node || (!values["host-key"] && !values.insecure)) {
    console.error(`usage: ${USAGE}`);
    console.error("  --host-key: the node's pin (npm run host-keys -- <stack>); without --key the SSH agent (SSH_AUTH_SOCK) is used");
    return 2;
  }
  const target: SshTarget = {
    node: values.node,
    host: values.host,
    port: Number(values.port),
    username: values.user ?? "root",
    privateKey: values.key ? fs.readFileSync(values.key, "utf8") : undefined,
    agent: values.key ? undefined : process.env.SSH_AUTH_SOCK,
    hostKey: values["host-key"],
    insecureIgnoreHostKey: values.insecure,
  };
  const timeoutS = numberOption("ha-timeout-s", values["ha-timeout-s"]);
  const report = await runVerify(target, {
    migrate: numberOption("migrate", values.migrate),
    target: values.target,
    maxDowntimeMs: numberOption("max-downtime-ms", values["max-downtime-ms"]),
    haTimeoutMs: timeoutS === undefined ? undefined : timeoutS * 1000,
    haPollMs: numberOption("ha-poll-ms", values["ha-poll-ms"]),
  });
  console.log(report.text);
  return report.failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
