/**
 * Pure parts of HA as code: the parsers (pve-cli.md §5 formats), the placement command planner,
 * the providers' diff, the verify planner, and homelab:ha:Placement under Pulumi mocks.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatHaNodes, parseHaGroups, parseHaNodes, parseHaResources, parseHaRules, parseHaStatus } from "../infra/parse/ha";
import {
  HA_PROVIDER_VERSION,
  HaPlacementInputs,
  HaResourceInputs,
  haPlacementProblems,
  haPlacementProvider,
  haResourceChanges,
  haResourceProvider,
  placementCommands,
  placementState,
} from "../infra/providers/proxmox/ha";
import {
  allowedNodes,
  checkHaPlacement,
  haMigrationStep,
  migrationError,
  newestNewTask,
  parseClusterMembers,
  parseMigrationLog,
  parseTaskList,
  parseTaskLog,
  planMigration,
  taskFailed,
  verifyReport,
  HaSnapshot,
} from "../scripts/homelab/verify/ha-plan";
import type { HaPlacementComponentArgs } from "../components/ha";
import { allStrings, isSecretValue, runStack, settled, StackRun } from "./helpers/pulumi-mocks";

const CONN = { connection: { node: "pve1", host: "10.0.0.11", port: 22, user: "root" } };
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("parsers", () => {
  it("node lists: priorities kept, 0 dropped, sorted by name", () => {
    expect(parseHaNodes("pve2:1,pve1:2,pve3")).toEqual([{ node: "pve1", priority: 2 }, { node: "pve2", priority: 1 }, { node: "pve3" }]);
    expect(formatHaNodes([{ node: "b" }, { node: "a", priority: 0 }, { node: "c", priority: 5 }])).toBe("a,b,c:5");
  });

  it("the status payload of a PVE 8.4 cluster with no resources (VERBATIM) and with a service", () => {
    expect(parseHaStatus('[{"id":"quorum","node":"pve1","quorate":1,"status":"OK","type":"quorum"}]\n', "pve1")).toEqual({ quorate: true, services: [] });
    const full =
      '[{"id":"quorum","node":"pve1","quorate":1,"status":"OK","type":"quorum"},' +
      '{"id":"master","node":"pve1","status":"pve1 (active, Fri Jul 31 00:04:49 2026)","timestamp":1785470689,"type":"master"},' +
      '{"armed-state":"armed","id":"fencing","node":"pve1","status":"armed (CRM watchdog active)","type":"fencing"},' +
      '{"crm_state":"started","failback":1,"id":"service:vm:100","max_relocate":1,"max_restart":1,"node":"pve1","request_state":"started","sid":"vm:100","state":"started","status":"vm:100 (pve1, started)","type":"service"}]';
    expect(parseHaStatus(full, "pve1").services).toEqual([{ sid: "vm:100", node: "pve1", state: "started", crmState: "started" }]);
  });

  it("resources get PVE defaults for unset keys; groups and rules parse", () => {
    expect(parseHaResources('[{"sid":"vm:100","type":"vm","digest":"x","state":"enabled"},{"sid":"vm:101","state":"stopped","max_restart":"3","group":"g","failback":0}]', "n")).toEqual([
      { sid: "vm:100", state: "started", maxRestart: 1, maxRelocate: 1 },
      { sid: "vm:101", state: "stopped", maxRestart: 3, maxRelocate: 1, group: "g", failback: false },
    ]);
    expect(parseHaGroups('[{"group":"g","nodes":"a:2,b","restricted":1,"type":"group"}]', "n")).toEqual([
      { name: "g", nodes: [{ node: "a", priority: 2 }, { node: "b" }], restricted: true, nofailback: false },
    ]);
    expect(parseHaRules('[{"rule":"r","type":"node-affinity","resources":"vm:2,vm:1","nodes":"a","strict":1}]', "n")).toEqual([
      { id: "r", type: "node-affinity", resources: ["vm:1", "vm:2"], nodes: [{ node: "a" }], strict: true, disabled: false },
    ]);
    expect(() => parseHaResources("cannot index", "pve1")).toThrow(/pve1: pvesh get \/cluster\/ha\/resources did not print JSON/);
  });
});

describe("placement planning", () => {
  const want = { name: "web", nodes: [{ node: "a", priority: 2 }, { node: "b" }], strict: true, nofailback: false, resources: ["vm:100"] };
  const res = [{ sid: "vm:100", state: "started", maxRestart: 1, maxRelocate: 1 }];

  it("PVE 8: groupadd then membership via set --group; nothing when equal", () => {
    const none = placementState("group", "web", res, [], undefined);
    expect(placementCommands("group", want, none, res)).toEqual([
      ["ha-manager", "groupadd", "web", "--nodes", "a:2,b", "--restricted", 1, "--nofailback", 0],
      ["ha-manager", "set", "vm:100", "--group", "web"],
    ]);
    const member = [{ ...res[0], group: "web" }];
    const have = placementState("group", "web", member, [{ name: "web", nodes: parseHaNodes("b,a:2"), restricted: true, nofailback: false }], undefined);
    expect(placementCommands("group", want, have, member)).toEqual([]);
  });

  it("PVE 9: rules add with --resources, never --group", () => {
    const cmds = placementCommands("rule", want, placementState("rule", "web", res, undefined, []), res);
    expect(cmds).toEqual([["ha-manager", "rules", "add", "node-affinity", "web", "--resources", "vm:100", "--nodes", "a:2,b", "--strict", 1]]);
    expect(cmds.flat()).not.toContain("--group");
  });

  it("PVE 9 after migration: group web is found as rule ha-group-web and changed in place", () => {
    const rules = [{ id: "ha-group-web", type: "node-affinity", resources: ["vm:100"], nodes: [{ node: "a" }], strict: false, disabled: false }];
    const have = placementState("rule", "web", res, undefined, rules);
    expect(have).toMatchObject({ exists: true, id: "ha-group-web" });
    expect(placementCommands("rule", want, have, res)).toEqual([
      ["ha-manager", "rules", "set", "node-affinity", "ha-group-web", "--resources", "vm:100", "--nodes", "a:2,b", "--strict", 1],
    ]);
  });

  it("input problems", () => {
    expect(haPlacementProblems({ name: "9bad", nodes: [], resources: ["100"] })).toEqual([
      expect.stringContaining('name "9bad"'),
      "nodes must list at least one node",
      'resource "100" is not an HA resource ID like vm:100',
    ]);
  });

  it("resource changes use ha-manager set options", () => {
    const i: HaResourceInputs = { ...CONN, providerVersion: "1", vmid: 100, state: "stopped", maxRestart: 2, maxRelocate: 1 };
    expect(haResourceChanges(i, res[0])).toEqual(["--state", "stopped", "--max_restart", 2]);
    expect(haResourceChanges({ ...i, state: "started", maxRestart: 1 }, { ...res[0], comment: "x" })).toEqual(["--delete", "comment"]);
  });
});

describe("diff", () => {
  const r: HaResourceInputs = { ...CONN, providerVersion: HA_PROVIDER_VERSION, vmid: 100, state: "started", maxRestart: 1, maxRelocate: 1 };
  const p: HaPlacementInputs = { ...CONN, providerVersion: HA_PROVIDER_VERSION, name: "web", nodes: [{ node: "a" }], strict: false, nofailback: false, resources: ["vm:100"] };

  it("resource: vmid replaces (delete first); settings update; connection never replaces", async () => {
    expect(await haResourceProvider.diff!("vm:100", { ...r, sid: "vm:100" }, { ...r, vmid: 101 })).toEqual({ changes: true, replaces: ["vmid"], deleteBeforeReplace: true });
    expect((await haResourceProvider.diff!("vm:100", { ...r, sid: "vm:100" }, { ...r, maxRestart: 2 })).replaces).toEqual([]);
    expect((await haResourceProvider.diff!("vm:100", { ...r, sid: "vm:100" }, { ...r, state: UNKNOWN as never })).changes).toBe(true);
    const moved = await haResourceProvider.diff!("vm:100", { ...r, sid: "vm:100" }, { ...r, connection: { ...r.connection, node: "pve2" } });
    expect(moved).toMatchObject({ changes: true, replaces: [] });
    expect((await haResourceProvider.diff!("vm:100", { ...r, sid: "vm:100" }, r)).changes).toBe(false);
  });

  it("placement: name replaces; node order and priority 0 are normalized; unknowns count as changed", async () => {
    const olds = { ...p, mode: "rule" as const, pveMajor: 9 };
    expect((await haPlacementProvider.diff!("web", olds, { ...p, name: "db" })).replaces).toEqual(["name"]);
    expect((await haPlacementProvider.diff!("web", { ...olds, nodes: [{ node: "b" }, { node: "a" }] }, { ...p, nodes: [{ node: "a", priority: 0 }, { node: "b" }] })).changes).toBe(false);
    expect((await haPlacementProvider.diff!("web", olds, { ...p, nodes: UNKNOWN as never })).changes).toBe(true);
    expect((await haPlacementProvider.diff!("web", olds, { ...p, resources: ["vm:100", "vm:101"] })).changes).toBe(true);
  });
});

describe("verify planning", () => {
  const snap: HaSnapshot = {
    nodes: ["a", "b", "c"],
    status: { quorate: true, services: [{ sid: "vm:1", node: "a", state: "started" }, { sid: "vm:2", node: "c", state: "started" }] },
    resources: [{ sid: "vm:1", state: "started", maxRestart: 1, maxRelocate: 1 }, { sid: "vm:2", state: "started", maxRestart: 1, maxRelocate: 1 }],
    rules: [{ id: "r", type: "node-affinity", resources: ["vm:1", "vm:2"], nodes: [{ node: "a", priority: 2 }, { node: "b" }], strict: true, disabled: false }],
  };

  it("strict rule: allowed = listed nodes; non-strict: any node, preferred = top priority", () => {
    expect(allowedNodes("vm:1", snap)).toEqual({ allowed: ["a", "b"], preferred: ["a"], via: "rule r" });
    const loose = { ...snap, rules: [{ ...snap.rules![0], strict: false }] };
    expect(allowedNodes("vm:2", loose).allowed).toEqual(["a", "b", "c"]);
    const checks = checkHaPlacement(snap);
    expect(checks.map((c) => c.ok)).toEqual([true, false]);
    expect(checks[1].reason).toBe("vm:2 runs on c, but rule r allows only a, b");
  });

  it("migration target and the qm migrate log (real capture lines)", () => {
    expect(planMigration(100, "b", ["c", "a", "b"])).toEqual({ vmid: 100, source: "b", target: "a" });
    expect(() => planMigration(100, "a", ["a", "b"], "a")).toThrow(/already runs on a/);
    expect(() => planMigration(100, "a", ["a"])).toThrow(/no other online node/);
    const log = [
      "2025-01-04 00:34:38 average migration speed: 457.0 MiB/s - downtime 73 ms",
      "2025-01-04 00:34:38 migration status: completed",
      "2025-01-04 00:34:42 migration finished successfully (duration 00:00:18)",
      "TASK OK",
    ].join("\n");
    const result = parseMigrationLog(log);
    expect(result).toEqual({ ok: true, averageSpeed: "457.0 MiB/s", downtimeMs: 73, durationS: 18 });
    expect(parseMigrationLog("2025-01-04 ERROR: online migrate failure - aborting\nmigration aborted").ok).toBe(false);
    const plan = { vmid: 100, source: "a", target: "b" };
    expect(verifyReport(checkHaPlacement(snap), { plan, result }).text).toContain("ok   migrate VM 100 a -> b: downtime 73 ms, took 18 s");
    expect(verifyReport([], { plan, result, maxDowntimeMs: 50 }).failed).toBe(true);
    expect(verifyReport(checkHaPlacement(snap)).failed).toBe(true);
  });
});

describe("live migration planning (ha-verify --migrate)", () => {
  const ha = { sid: "vm:100", allowed: ["a", "b"], preferred: ["a"], via: "group web" };

  it("cluster members and their online flag from /cluster/status", () => {
    const out =
      '[{"id":"cluster","name":"c","nodes":3,"quorate":1,"type":"cluster","version":3},' +
      '{"id":"node/b","ip":"10.0.0.12","local":0,"name":"b","nodeid":2,"online":0,"type":"node"},' +
      '{"id":"node/a","ip":"10.0.0.11","level":"","local":1,"name":"a","nodeid":1,"online":1,"type":"node"}]';
    expect(parseClusterMembers(out, "a")).toEqual([
      { name: "a", online: true, ip: "10.0.0.11" },
      { name: "b", online: false, ip: "10.0.0.12" },
    ]);
    expect(() => parseClusterMembers("cluster not ready", "a")).toThrow(/^a: pvesh get \/cluster\/status did not print JSON/);
  });

  it("target choice: online members only; HA prefers the placement's preferred nodes, then the allowed ones", () => {
    expect(planMigration(100, "a", ["a", "b", "c"], undefined, { online: ["a", "c"] })).toEqual({ vmid: 100, source: "a", target: "c" });
    expect(planMigration(100, "c", ["a", "b", "c"], undefined, { ha })).toEqual({ vmid: 100, source: "c", target: "a", viaHa: true });
    expect(planMigration(100, "a", ["a", "b", "c"], undefined, { ha })).toEqual({
      vmid: 100,
      source: "a",
      target: "b",
      viaHa: true,
      note: "b is not a preferred node of vm:100 (group web prefers a); HA failback may move it back",
    });
    // no placement: every node is allowed and preferred, no note
    expect(planMigration(100, "a", ["a", "b"], undefined, { ha: { sid: "vm:100", allowed: ["a", "b"], preferred: ["a", "b"] } })).toEqual({
      vmid: 100,
      source: "a",
      target: "b",
      viaHa: true,
    });
    expect(() => planMigration(100, "a", ["a", "b", "c"], undefined, { ha, online: ["a", "c"] })).toThrow(
      "VM 100: no other online node allowed by the HA placement of vm:100 (group web: a, b) to migrate to (cluster: a, b, c; online: a, c)",
    );
  });

  it("a requested target is refused outside a strict placement, when offline, and for a VM that is not running", () => {
    expect(() => planMigration(100, "a", ["a", "b", "c"], "c", { ha })).toThrow("target c is outside the HA placement of vm:100: group web allows only a, b");
    expect(() => planMigration(100, "a", ["a", "b", "c"], "b", { online: ["a", "c"] })).toThrow("target node b is offline (pvesh get /cluster/status)");
    expect(() => planMigration(100, "a", ["a", "b"], "b", { status: "stopped" })).toThrow("VM 100 on a is stopped; a live migration needs a running VM");
    expect(() => planMigration(100, "a", ["a", "b"], "x")).toThrow("target x is not a cluster member (a, b)");
    expect(planMigration(100, "a", ["a", "b"], "b", { status: "running", online: ["a", "b"] })).toEqual({ vmid: 100, source: "a", target: "b" });
  });

  it("HA progress from /cluster/ha/status/current: done only when started on the target", () => {
    const plan = { vmid: 100, source: "a", target: "b", viaHa: true };
    const at = (node: string, state: string) => ({ quorate: true, services: [{ sid: "vm:100", node, state }] });
    expect(haMigrationStep(at("a", "started"), "vm:100", plan)).toEqual({ done: false, moving: false, where: "a (started)" });
    expect(haMigrationStep(at("a", "migrate"), "vm:100", plan)).toEqual({ done: false, moving: true, where: "a (migrate)" });
    expect(haMigrationStep(at("b", "starting"), "vm:100", plan).done).toBe(false);
    expect(haMigrationStep(at("b", "started"), "vm:100", plan)).toEqual({ done: true, moving: false, where: "b (started)" });
    expect(haMigrationStep(at("a", "error"), "vm:100", plan).failed).toBe("vm:100 is in HA state error on a");
    expect(haMigrationStep({ quorate: true, services: [] }, "vm:100", plan)).toEqual({ done: false, moving: false, where: "nowhere (no HA service status)" });
  });

  it("tasks: the list, the new task after a request, its failure and its log", () => {
    const list =
      '[{"id":"100","node":"a","pid":4660,"pstart":11259375,"starttime":1795336900,"status":"RUNNING","type":"qmigrate",' +
      '"upid":"UPID:a:00001234:00ABCDEF:6B02AAC4:qmigrate:100:root@pam:","user":"root@pam"},' +
      '{"endtime":1795336850,"id":"100","node":"a","pid":4000,"pstart":11259000,"starttime":1795336800,"status":"migration aborted","type":"qmigrate",' +
      '"upid":"UPID:a:00000FA0:00ABCC78:6B02AA60:qmigrate:100:root@pam:","user":"root@pam"}]';
    const tasks = parseTaskList(list, "a");
    expect(tasks.map((t) => [t.starttime, t.endtime, t.status])).toEqual([
      [1795336900, undefined, "RUNNING"],
      [1795336800, 1795336850, "migration aborted"],
    ]);
    expect(newestNewTask([tasks[0].upid], tasks)).toBe(tasks[1]);
    expect(newestNewTask([], tasks)).toBe(tasks[0]);
    expect(newestNewTask(tasks.map((t) => t.upid), tasks)).toBeUndefined();
    expect(tasks.map(taskFailed)).toEqual([false, true]);
    expect(taskFailed({ ...tasks[1], status: "WARNINGS: 2" })).toBe(false);
    expect(parseTaskLog('[{"n":2,"t":"second"},{"n":1,"t":"task started by HA resource agent"},{"n":3,"t":"TASK OK"}]', "a")).toBe(
      "task started by HA resource agent\nsecond\nTASK OK",
    );
  });

  it("why a migration failed: the abort line plus the local-disk refusals (PVE's texts)", () => {
    const refused = [
      "2026-01-01 10:00:00 starting migration of VM 101 to node 'b' (10.0.0.12)",
      "2026-01-01 10:00:00 found local disk 'local-lvm:vm-101-disk-0' (attached)",
      "2026-01-01 10:00:00 can't migrate local disk 'local-lvm:vm-101-disk-0': can't live migrate attached local disks without with-local-disks option",
      "2026-01-01 10:00:00 ERROR: Problem found while scanning volumes - can't migrate VM - check log",
      "2026-01-01 10:00:00 aborting phase 1 - cleanup resources",
      "2026-01-01 10:00:00 ERROR: migration aborted (duration 00:00:00): Problem found while scanning volumes - can't migrate VM - check log",
      "TASK ERROR: migration aborted",
    ].join("\n");
    expect(parseMigrationLog(refused)).toEqual({
      ok: false,
      error:
        "migration aborted (duration 00:00:00): Problem found while scanning volumes - can't migrate VM - check log; " +
        "can't migrate local disk 'local-lvm:vm-101-disk-0': can't live migrate attached local disks without with-local-disks option",
    });
    expect(migrationError("2026-01-01 10:00:01 ERROR: online migrate failure - aborting\n2026-01-01 10:00:02 ERROR: migration finished with problems (duration 00:00:02)")).toBe(
      "online migrate failure - aborting; migration finished with problems (duration 00:00:02)",
    );
    expect(migrationError("Requesting HA migration for VM 100 to node b\nTASK ERROR: command 'ha-manager migrate vm:100 b' failed: exit code 255")).toBe(
      "command 'ha-manager migrate vm:100 b' failed: exit code 255",
    );
    expect(migrationError("2026-01-01 10:00:02 migration finished successfully (duration 00:00:02)")).toBeUndefined();
  });

  it("report lines: FAIL with the reason (refused before a plan, or from the log), (HA) marker and note", () => {
    expect(verifyReport([], { vmid: 100, error: "a: target node c is offline (pvesh get /cluster/status)" })).toEqual({
      failed: true,
      text: "FAIL migrate VM 100: a: target node c is offline (pvesh get /cluster/status)\nok   no HA resources",
    });
    const plan = { vmid: 100, source: "a", target: "b", viaHa: true, note: "b is not a preferred node of vm:100" };
    expect(verifyReport([], { plan, result: { ok: true, downtimeMs: 61, durationS: 12 } }).text).toBe(
      "ok   migrate VM 100 a -> b (HA): downtime 61 ms, took 12 s\nnote b is not a preferred node of vm:100\nok   no HA resources",
    );
    const failed = verifyReport([], { plan: { vmid: 101, source: "a", target: "b" }, result: { ok: false, error: "a: qm migrate 101 b --online failed (exit 255): migration aborted" } });
    expect(failed.failed).toBe(true);
    expect(failed.text.split("\n")[0]).toBe("FAIL migrate VM 101 a -> b: a: qm migrate 101 b --online failed (exit 255): migration aborted");
    expect(verifyReport([], { plan, error: "b: ha-manager migrate failed (exit 255): x\n  command: LC_ALL=C ha-manager migrate vm:100 b" }).text.split("\n")[0]).toBe(
      "FAIL migrate VM 100 a -> b (HA): b: ha-manager migrate failed (exit 255): x | command: LC_ALL=C ha-manager migrate vm:100 b",
    );
    expect(verifyReport([], { plan, result: { ok: true } }).text).toContain("ok   migrate VM 100 a -> b (HA): downtime not reported");
  });
});

/** Loaded the way `pulumi up` loads it (Node require + ts-node), so its dynamic providers serialize. */
const nodeRequire = createRequire(__filename);
nodeRequire("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
const { HaPlacementComponent, haPlacementArgsProblems } = nodeRequire("../components/ha") as typeof import("../components/ha");
const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "ha-component-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");
const KEY = "fake-ssh-private-key-for-mock-tests";

describe("homelab:ha:Placement under mocks", () => {
  const args: HaPlacementComponentArgs = {
    access: { connection: { node: "pve1", host: "10.0.0.11", port: 22, user: "root", hostKey: "SHA256:abc" }, sshPrivateKey: KEY },
    nodes: [{ node: "pve1", priority: 2 }, { node: "pve2" }],
    strict: true,
    vms: [{ vmid: 100 }, { vmid: 101, state: "stopped", maxRestart: 3 }],
  };
  let r: StackRun;
  beforeAll(async () => {
    r = await runStack(STACK_FILE, () => {
      const c = new HaPlacementComponent("web", args);
      return { sids: c.sids };
    });
    await settled(r);
  });

  it("refuses a VM listed twice with a ResourceError naming the component, before registering anything under it", () => {
    const twice = () => new HaPlacementComponent("dup", { ...args, vms: [{ vmid: 100 }, { vmid: 100 }] });
    expect(twice).toThrow((nodeRequire("@pulumi/pulumi") as typeof import("@pulumi/pulumi")).ResourceError);
    expect(twice).toThrow("dup: HA placement dup: VM 100 is listed twice");
  });

  it("registers one Resource per VM with defaults, then the Placement depending on them", () => {
    expect(r.byName("web").type).toBe("homelab:ha:Placement");
    expect(r.byName("web").rawInputs).toEqual({ placementName: "web", nodes: ["pve1", "pve2"], sids: ["vm:100", "vm:101"] });
    const r100 = r.byName("web-vm100");
    expect(r100.type).toBe("pulumi-nodejs:dynamic/ha:Resource");
    expect(r100.rawInputs).toMatchObject({ vmid: 100, state: "started", maxRestart: 1, maxRelocate: 1 });
    expect(r.byName("web-vm101").rawInputs).toMatchObject({ state: "stopped", maxRestart: 3 });
    const p = r.byName("web-placement");
    expect(p.type).toBe("pulumi-nodejs:dynamic/ha:Placement");
    expect(p.rawInputs).toMatchObject({ name: "web", strict: true, nofailback: false, resources: ["vm:100", "vm:101"] });
    expect(p.dependsOn).toEqual(expect.arrayContaining([r100.urn, r.byName("web-vm101").urn]));
    expect(p.parent).toBe(r.byName("web").urn);
    expect(r.outputs.sids).toEqual(["vm:100", "vm:101"]);
  });

  it("keeps the key secret", () => {
    for (const reg of r.registrations.filter((x) => x.custom)) {
      expect(isSecretValue(reg.rawInputs.sshPrivateKey)).toBe(true);
      expect(reg.additionalSecretOutputs).toContain("sshPrivateKey");
    }
    expect(allStrings(r.byName("web").rawInputs).some((s) => s.includes(KEY))).toBe(false);
  });

  it("refuses bad args with clear problems", () => {
    expect(haPlacementArgsProblems("web", { ...args, vms: [{ vmid: 100 }, { vmid: 100, maxRestart: 99 }] })).toEqual([
      "HA placement web: VM 100 is listed twice",
      "HA placement web: VM 100: maxRestart 99 must be an integer 0-10",
    ]);
  });
});
