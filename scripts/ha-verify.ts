/**
 * HA verification against a live cluster:
 *
 *   npx tsx scripts/ha-verify.ts --host 10.0.0.11 --node pve1 [--port 22] [--user root]
 *       [--key ~/.ssh/id_ed25519] [--host-key SHA256:…] [--insecure]
 *       [--migrate <vmid> [--target <node>] [--max-downtime-ms 500]]
 *
 * 1. With `--migrate`: live-migrates the test VM (`qm migrate <vmid> <target> --online`, run on the
 *    VM's node, which must be the `--node` connected to) and reports the downtime QEMU measured.
 * 2. Always: checks that every HA resource runs on a node its placement (PVE 8 group or PVE 9
 *    node-affinity rule) allows, from `/cluster/ha/status/current`, resources, groups/rules.
 * Exit code 1 when anything fails. The decisions live in ./ha-verify-plan.ts.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { parseHaResources, parseHaRules, parseHaStatus } from "../infra/parse/ha";
import { parseToolJson } from "../infra/parse/json";
import { detectHaMode } from "../infra/providers/ha";
import { command, inCLocale } from "../infra/shell";
import { SshSession, SshTarget, withSession } from "../infra/ssh";
import { HaSnapshot, MigrationPlan, checkHaPlacement, parseMigrationLog, planMigration, verifyReport } from "./ha-verify-plan";

async function json(session: SshSession, ...argv: string[]): Promise<unknown> {
  const out = await session.check(inCLocale(command(...argv)));
  return parseToolJson(out.stdout, session.node, argv.join(" "));
}

/** Cluster member names from `/cluster/status`. */
export async function clusterNodes(session: SshSession): Promise<string[]> {
  const rows = (await json(session, "pvesh", "get", "/cluster/status", "--output-format", "json")) as { type?: string; name?: string }[];
  return rows.filter((r) => r.type === "node" && typeof r.name === "string").map((r) => r.name as string).sort();
}

/** Everything the HA check needs, read from one node (read-only commands only). */
export async function collectHaSnapshot(session: SshSession): Promise<HaSnapshot> {
  const nodes = await clusterNodes(session);
  const { mode, groups } = await detectHaMode(session);
  const status = parseHaStatus(
    (await session.check(inCLocale(command("pvesh", "get", "/cluster/ha/status/current", "--output-format", "json")))).stdout,
    session.node,
  );
  const resources = parseHaResources(
    (await session.check(inCLocale(command("pvesh", "get", "/cluster/ha/resources", "--output-format", "json")))).stdout,
    session.node,
  );
  const rules =
    mode === "rule"
      ? parseHaRules((await session.check(inCLocale(command("ha-manager", "rules", "config", "--output-format", "json")))).stdout, session.node)
      : undefined;
  return { nodes, status, resources, groups, rules };
}

/** Where a VM runs, from `/cluster/resources --type vm`. */
export async function vmNode(session: SshSession, vmid: number): Promise<string> {
  const rows = (await json(session, "pvesh", "get", "/cluster/resources", "--type", "vm", "--output-format", "json")) as {
    vmid?: number;
    node?: string;
  }[];
  const hit = rows.find((r) => Number(r.vmid) === vmid);
  if (!hit?.node) throw new Error(`${session.node}: VM ${vmid} does not exist in the cluster`);
  return hit.node;
}

/** Run the live migration on the VM's node and return its log (stdout + stderr). */
export async function migrate(session: SshSession, plan: MigrationPlan): Promise<string> {
  const r = await session.run(inCLocale(command("qm", "migrate", plan.vmid, plan.target, "--online")), { timeoutMs: 30 * 60_000 });
  return `${r.stdout}\n${r.stderr}${r.code === 0 ? "" : `\nERROR: exit ${r.code}`}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
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
    },
  });
  if (!values.host || !values.node) {
    console.error("usage: ha-verify.ts --host <address> --node <name> [--key file] [--host-key SHA256:…] [--migrate <vmid> [--target <node>]]");
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
  return withSession(target, async (session) => {
    let migration: Parameters<typeof verifyReport>[1];
    if (values.migrate !== undefined) {
      const vmid = Number(values.migrate);
      const source = await vmNode(session, vmid);
      if (source !== session.node) throw new Error(`VM ${vmid} runs on ${source}; connect to that node (--node/--host) to migrate it`);
      const plan = planMigration(vmid, source, await clusterNodes(session), values.target);
      const result = parseMigrationLog(await migrate(session, plan));
      const max = values["max-downtime-ms"];
      migration = { plan, result, maxDowntimeMs: max === undefined ? undefined : Number(max) };
    }
    const report = verifyReport(checkHaPlacement(await collectHaSnapshot(session)), migration);
    console.log(report.text);
    return report.failed ? 1 : 0;
  });
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
