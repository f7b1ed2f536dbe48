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
} from "../infra/providers/ha";
import { allowedNodes, checkHaPlacement, parseMigrationLog, planMigration, verifyReport, HaSnapshot } from "../scripts/ha-verify-plan";
import type { HaPlacementComponentArgs } from "../components/ha";
import { allStrings, isSecretValue, runStack, StackRun } from "./helpers/pulumi-mocks";

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
    expect(() => planMigration(100, "a", ["a"])).toThrow(/no other node/);
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
    connection: { node: "pve1", host: "10.0.0.11", port: 22, user: "root", hostKey: "SHA256:abc" },
    sshPrivateKey: KEY,
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
    let last = -1;
    while (r.registrations.length !== last) {
      last = r.registrations.length;
      await new Promise((res) => setTimeout(res, 300));
    }
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
