/**
 * The HA verification (`runVerify` of scripts/homelab/verify/ha.ts, which scripts/ha-verify.ts
 * runs) against the simulated cluster over real SSH: live migration of plain VMs (`qm migrate
 * --online` on the VM's node) and of HA-managed VMs (`ha-manager migrate`, then polling
 * /cluster/ha/status/current and reading the CRM's qmigrate task through /nodes/<node>/tasks),
 * on a PVE 8 cluster with an HA group (a1..a3) and a PVE 9 cluster with a node-affinity rule
 * (b1..b3). Clusters, Ceph pool storage and HA config are seeded in the fakes' state, so the
 * command log shows only what the verify ran. The last block checks the fakes themselves against
 * the texts of qemu-server, pve-ha-manager and pve-manager.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshOptions, sshTarget } from "../infra/providers/connection";
import { runVerify, VerifyOptions } from "../scripts/homelab/verify/ha";
import { seedQuorateCluster } from "./helpers/sim-state";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, SimState, startSimCluster } from "./sim/cluster";

/** Commands that change anything on a PVE node. */
const MUTATING =
  /\b(qm (migrate|start|stop|shutdown|reboot|set|create|destroy|template|clone|resize|importdisk|disk)|ha-manager (add|set|remove|migrate|relocate|crm-command|groupadd|groupset|groupremove|rules (add|set|remove))|pvesh (create|set|delete))\b/;

let sim: SimCluster;

function mutating(): { node: string; command: string }[] {
  return sim
    .commandLog()
    .filter((e) => MUTATING.test(e.command))
    .map((e) => ({ node: e.node, command: e.command }));
}

function verify(node: string, options: VerifyOptions) {
  const conn = simConnection(sim, node);
  return runVerify(sshTarget(conn), { ...options, ssh: sshOptions(conn) });
}

function knobs(st: SimState): Record<string, unknown> {
  return st.sim as unknown as Record<string, unknown>;
}

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`${node}: ${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function json<T>(node: string, cmd: string): Promise<T> {
  return JSON.parse(await sh(node, cmd)) as T;
}

function whereIs(vmid: number): string[] {
  const st = sim.readState();
  return Object.values(st.nodes)
    .filter((n) => n.guests[String(vmid)])
    .map((n) => n.name);
}

interface ServiceRow {
  type: string;
  sid: string;
  node: string;
  state: string;
}

async function service(node: string, sid: string): Promise<ServiceRow | undefined> {
  const rows = await json<ServiceRow[]>(node, "pvesh get /cluster/ha/status/current --output-format json");
  return rows.find((r) => r.type === "service" && r.sid === sid);
}

interface TaskRow {
  upid: string;
  type: string;
  id: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  endtime?: number;
  status?: string;
  user: string;
}

const onCeph = (vmid: number) => ({ scsi0: `vm-ceph:vm-${vmid}-disk-0,size=32G` });

beforeAll(async () => {
  sim = await startSimCluster([
    { name: "a1" },
    { name: "a2" },
    { name: "a3" },
    { name: "b1", pveVersion: "9.1.1" },
    { name: "b2", pveVersion: "9.1.1" },
    { name: "b3", pveVersion: "9.1.1" },
  ]);
  seedQuorateCluster(sim, "eight", ["a1", "a2", "a3"]);
  seedQuorateCluster(sim, "nine", ["b1", "b2", "b3"]);
  sim.addGuest("a1", 100, "web-ceph", { status: "running" });
  sim.addGuest("a1", 101, "db-local", { status: "running" });
  sim.addGuest("a1", 102, "app-ceph", { status: "running" });
  sim.addGuest("a1", 103, "job-ceph", { status: "running" });
  sim.addGuest("a1", 110, "ha-web", { status: "running" });
  sim.addGuest("b1", 200, "ha-app", { status: "running" });
  sim.mutateState((st) => {
    // a Ceph RBD pool the fakes know as storage "vm-ceph" (qm.cjs knownStorage): shared storage
    st.ceph = { pools: { "vm-ceph": { name: "vm-ceph", size: 3, min_size: 2, application: "rbd" } } };
    for (const vmid of [100, 102, 103, 110]) st.nodes.a1.guests[String(vmid)].config = onCeph(vmid);
    // 101 and 200 keep the default scsi0 on local-lvm
    st.ha = {
      eight: {
        resources: { "vm:110": { sid: "vm:110", type: "vm", state: "started", max_restart: 1, max_relocate: 1, group: "web" } },
        groups: { web: { group: "web", nodes: "a1:2,a2:1", restricted: 1 } },
        rules: {},
        crmStarted: true,
      },
      nine: {
        resources: { "vm:200": { sid: "vm:200", type: "vm", state: "started", max_restart: 1, max_relocate: 1 } },
        groups: {},
        rules: { app: { rule: "app", type: "node-affinity", resources: "vm:200", nodes: "b1:2,b2:1", strict: 1 } },
        crmStarted: true,
      },
    };
    knobs(st).migrationDowntimeMs = { "100": 42, "110": 61, "200": 37 };
  });
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("plain VM on a PVE 8 cluster", () => {
  it("live-migrates a VM on Ceph storage: report with QEMU's downtime, VM running on the target, one mutating command", async () => {
    sim.clearLog();
    const report = await verify("a1", { migrate: 100 });
    expect(report.failed).toBe(false);
    expect(report.text).toMatch(/^ok {3}migrate VM 100 a1 -> a2: downtime 42 ms, took \d+ s$/m);
    expect(whereIs(100)).toEqual(["a2"]);
    expect(sim.readState().nodes.a2.guests["100"].status).toBe("running");
    const vms = await json<{ vmid: number; node: string; status: string }[]>("a3", "pvesh get /cluster/resources --type vm --output-format json");
    expect(vms.find((v) => v.vmid === 100)).toMatchObject({ node: "a2", status: "running" });
    expect(mutating()).toEqual([{ node: "a1", command: "LC_ALL=C qm migrate 100 a2 --online" }]);
  });

  it("an explicit target and a downtime limit: over the limit is a FAIL", async () => {
    sim.clearLog();
    const report = await verify("a2", { migrate: 100, target: "a1", maxDowntimeMs: 10 });
    expect(report.failed).toBe(true);
    expect(report.text).toMatch(/^FAIL migrate VM 100 a2 -> a1: downtime 42 ms, took \d+ s \(limit 10 ms\)$/m);
    expect(whereIs(100)).toEqual(["a1"]);
    expect(mutating()).toEqual([{ node: "a2", command: "LC_ALL=C qm migrate 100 a1 --online" }]);
  });

  it("a running VM on local-lvm is refused with PVE's text; the report says FAIL with it", async () => {
    sim.clearLog();
    const report = await verify("a1", { migrate: 101 });
    expect(report.failed).toBe(true);
    expect(report.text).toContain(
      "FAIL migrate VM 101 a1 -> a2: a1: qm migrate 101 a2 --online failed (exit 255): " +
        "migration aborted (duration 00:00:00): Problem found while scanning volumes - can't migrate VM - check log; " +
        "can't migrate local disk 'local-lvm:vm-101-disk-0': can't live migrate attached local disks without with-local-disks option",
    );
    expect(whereIs(101)).toEqual(["a1"]);
    const tasks = await json<TaskRow[]>("a2", "pvesh get /nodes/a1/tasks --typefilter qmigrate --vmid 101 --output-format json");
    expect(tasks[0]).toMatchObject({ type: "qmigrate", id: "101", status: "migration aborted", user: "root@pam" });
    expect(mutating()).toEqual([{ node: "a1", command: "LC_ALL=C qm migrate 101 a2 --online" }]);
  });

  it("a stopped target node is a FAIL naming the node, and nothing is run (the fake itself aborts like PVE)", async () => {
    await sim.stopNode("a3");
    try {
      sim.clearLog();
      const report = await verify("a1", { migrate: 102, target: "a3" });
      expect(report.failed).toBe(true);
      expect(report.text).toContain("FAIL migrate VM 102: a1: target node a3 is offline (pvesh get /cluster/status)");
      expect(mutating()).toEqual([]);
      // without --target the offline node is skipped
      expect((await verify("a1", { migrate: 102 })).text).toMatch(/^ok {3}migrate VM 102 a1 -> a2: downtime \d+ ms/m);
      // what `qm migrate` says when the target went down
      const r = await sim.exec("a2", "qm migrate 102 a3 --online");
      expect(r.code).toBe(255);
      expect(r.stderr).toBe("migration aborted\n");
      expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d # \/usr\/bin\/ssh -e none -o BatchMode=yes -o HostKeyAlias=a3 .* root@[\d.]+ \/bin\/true$/m);
      expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ERROR: migration aborted \(duration 00:00:03\): Can't connect to destination address using public key$/m);
      expect(whereIs(102)).toEqual(["a2"]);
    } finally {
      await sim.startNode("a3");
    }
  });

  it("an abort inside the migration task (one-shot fault) is a FAIL with the task's reason; the next run works", async () => {
    sim.mutateState((st) => {
      knobs(st).failQmMigrate = [103];
    });
    sim.clearLog();
    const report = await verify("a1", { migrate: 103 });
    expect(report.failed).toBe(true);
    expect(report.text).toContain(
      "FAIL migrate VM 103 a1 -> a2: a1: qm migrate 103 a2 --online failed (exit 255): " +
        "migration aborted (duration 00:00:10): can't lock file '/var/lock/qemu-server/lock-103.conf' - got timeout",
    );
    expect(whereIs(103)).toEqual(["a1"]);
    expect(knobs(sim.readState()).failQmMigrate).toEqual([]);
    const again = await verify("a1", { migrate: 103 });
    expect(again.failed).toBe(false);
    expect(whereIs(103)).toEqual(["a2"]);
  });

  it("a plain VM must be migrated from its own node: a clear refusal, nothing run", async () => {
    sim.clearLog();
    const report = await verify("a3", { migrate: 101 });
    expect(report.failed).toBe(true);
    expect(report.text).toContain("FAIL migrate VM 101 a1 -> a2: a3: VM 101 runs on a1; qm migrate runs on the VM's node, so connect to a1 (--node/--host)");
    expect(mutating()).toEqual([]);
  });
});

describe("HA-managed VM", () => {
  it("PVE 8 group: migrates through HA while the CRM takes its time; polls, then reads downtime from the CRM's task", async () => {
    sim.mutateState((st) => {
      knobs(st).haMigrationDelayMs = 800;
    });
    sim.clearLog();
    const t0 = Date.now();
    const report = await verify("a3", { migrate: 110, haPollMs: 100, haTimeoutMs: 30_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    expect(report.failed).toBe(false);
    expect(report.text).toMatch(/^ok {3}migrate VM 110 a1 -> a2 \(HA\): downtime 61 ms, took \d+ s$/m);
    expect(report.text).toContain("note a2 is not a preferred node of vm:110 (group web prefers a1); HA failback may move it back");
    expect(report.text).toContain("ok   vm:110 on a2 (started), allowed: a1, a2");
    expect(whereIs(110)).toEqual(["a2"]);
    expect(mutating()).toEqual([{ node: "a3", command: "LC_ALL=C ha-manager migrate vm:110 a2" }]);
    const log = sim.commandLog().map((e) => e.command);
    const polls = log.slice(log.findIndex((c) => c.includes("ha-manager migrate"))).filter((c) => c.includes("/cluster/ha/status/current"));
    expect(polls.length).toBeGreaterThanOrEqual(3);
    const tasks = await json<TaskRow[]>("a2", "pvesh get /nodes/a1/tasks --typefilter qmigrate --vmid 110 --output-format json");
    const taskLog = await json<{ n: number; t: string }[]>("a2", `pvesh get /nodes/a1/tasks/${tasks[0].upid}/log --limit 0 --output-format json`);
    expect(taskLog[0]).toEqual({ n: 1, t: "task started by HA resource agent" });
    expect(taskLog[taskLog.length - 1].t).toBe("TASK OK");
  });

  it("PVE 8 group: a --target outside the restricted group is refused before anything runs", async () => {
    sim.clearLog();
    const report = await verify("a2", { migrate: 110, target: "a3" });
    expect(report.failed).toBe(true);
    expect(report.text).toContain("FAIL migrate VM 110: a2: target a3 is outside the HA placement of vm:110: group web allows only a1, a2");
    expect(mutating()).toEqual([]);
  });

  it("PVE 9 rule: migrates through HA (HA moves local-lvm disks itself) and the placement check is ok", async () => {
    sim.mutateState((st) => {
      knobs(st).haMigrationDelayMs = 500;
    });
    sim.clearLog();
    const report = await verify("b1", { migrate: 200, haPollMs: 100 });
    expect(report.failed).toBe(false);
    expect(report.text).toMatch(/^ok {3}migrate VM 200 b1 -> b2 \(HA\): downtime 37 ms, took \d+ s$/m);
    expect(report.text).toContain("ok   vm:200 on b2 (started), allowed: b1, b2");
    expect(whereIs(200)).toEqual(["b2"]);
    expect(mutating()).toEqual([{ node: "b1", command: "LC_ALL=C ha-manager migrate vm:200 b2" }]);
  });

  it("PVE 9 rule: an abort in the CRM's task is a FAIL with that task's reason; the VM stays", async () => {
    sim.mutateState((st) => {
      knobs(st).failQmMigrate = [200];
      knobs(st).haMigrationDelayMs = 300;
    });
    sim.clearLog();
    const report = await verify("b3", { migrate: 200, target: "b1", haPollMs: 100 });
    expect(report.failed).toBe(true);
    expect(report.text).toMatch(
      /^FAIL migrate VM 200 b2 -> b1 \(HA\): b2: qmigrate task UPID:b2:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmigrate:200:root@pam: failed: migration aborted \(duration 00:00:10\): can't lock file '\/var\/lock\/qemu-server\/lock-200.conf' - got timeout$/m,
    );
    expect(report.text).toContain("ok   vm:200 on b2 (started), allowed: b1, b2");
    expect(whereIs(200)).toEqual(["b2"]);
  });

  it("the wait is bounded: a CRM slower than --ha-timeout is a FAIL naming the node and the command", async () => {
    sim.mutateState((st) => {
      knobs(st).haMigrationDelayMs = 2500;
    });
    const report = await verify("b3", { migrate: 200, target: "b1", haPollMs: 100, haTimeoutMs: 400 });
    expect(report.failed).toBe(true);
    expect(report.text).toContain(
      "FAIL migrate VM 200 b2 -> b1 (HA): b3: ha-manager migrate vm:200 b1: vm:200 is not started on b1 after 0.4 s; pvesh get /cluster/ha/status/current shows it on b2 (migrate)",
    );
    // the CRM finishes on its own later
    await new Promise((r) => setTimeout(r, 2300));
    expect(await service("b3", "vm:200")).toMatchObject({ node: "b1", state: "started" });
    expect(whereIs(200)).toEqual(["b1"]);
  });
});

describe("the fakes (texts from qemu-server, pve-ha-manager, pve-manager)", () => {
  it("qm migrate: checks before the fork die with exit 255 and record no task", async () => {
    const before = await json<TaskRow[]>("a1", "pvesh get /nodes/a1/tasks --limit 500 --output-format json");
    const cases: [string, string][] = [
      ["qm migrate 101 a1 --online", "400 Parameter verification failed.\ntarget: target is local node.\nqm migrate <vmid> <target> [OPTIONS]\n"],
      ["qm migrate 101 zz --online", "no such cluster node 'zz'\n"],
      ["qm migrate 999 a2 --online", "Configuration file 'nodes/a1/qemu-server/999.conf' does not exist\n"],
      ["qm migrate 101 a2", "can't migrate running VM without --online\n"],
    ];
    for (const [cmd, stderr] of cases) {
      const r = await sim.exec("a1", cmd);
      expect([cmd, r.code, r.stdout, r.stderr]).toEqual([cmd, 255, "", stderr]);
    }
    sim.mutateState((st) => {
      st.clusters.eight.expectedVotes = 7;
    });
    try {
      const r = await sim.exec("a1", "qm migrate 101 a2 --online");
      expect([r.code, r.stderr]).toEqual([255, "cluster not ready - no quorum?\n"]);
    } finally {
      sim.mutateState((st) => {
        st.clusters.eight.expectedVotes = null;
      });
    }
    const after = await json<TaskRow[]>("a1", "pvesh get /nodes/a1/tasks --limit 500 --output-format json");
    expect(after.length).toBe(before.length);
  });

  it("qm migrate: offline migration of a stopped VM copies local disks and has no downtime line; --with-local-disks live-migrates them", async () => {
    sim.addGuest("a1", 120, "stopped-local", { status: "stopped" });
    const r = await sim.exec("a1", "qm migrate 120 a2 --online");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("VM isn't running. Doing offline migration instead.\n");
    const text = r.stdout.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /gm, "");
    expect(text).toContain("starting migration of VM 120 to node 'a2' (");
    expect(text).toContain("found local disk 'local-lvm:vm-120-disk-0' (attached)\ncopying local disk images\n");
    expect(text).toContain("volume 'local-lvm:vm-120-disk-0' is 'local-lvm:vm-120-disk-0' on the target\n");
    expect(text).not.toContain("downtime");
    expect(text).toMatch(/migration finished successfully \(duration \d\d:\d\d:\d\d\)\n$/);
    expect(sim.readState().nodes.a2.guests["120"].status).toBe("stopped");

    const live = await sim.exec("a1", "qm migrate 101 a2 --online --with-local-disks");
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(/ starting storage migration\n/);
    expect(live.stdout).toMatch(/ average migration speed: [\d.]+ [KMG]iB\/s - downtime \d+ ms\n/);
    expect(live.stdout).toMatch(/ migration status: completed\n/);
    expect(whereIs(101)).toEqual(["a2"]);
  });

  it("qm migrate of an HA-managed VM only requests it; the service shows 'migrate' and the VM is locked until the CRM acts", async () => {
    // The CRM is held back until the checks below are done, however slow the machine is.
    sim.mutateState((st) => {
      knobs(st).haMigrationDelayMs = 0;
      knobs(st).haMigrationHold = true;
    });
    // vm:110 is on a2 now
    const r = await sim.exec("a2", "qm migrate 110 a1 --online");
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "Requesting HA migration for VM 110 to node a1\n", ""]);
    expect(await service("a3", "vm:110")).toMatchObject({ node: "a2", state: "migrate" });
    expect(await sh("a2", "ha-manager status")).toContain("service vm:110 (a2, migrate)");
    expect(await sh("a2", "qm config 110")).toContain("lock: migrate\n");
    const again = await sim.exec("a2", "qm migrate 110 a1 --online");
    expect([again.code, again.stderr]).toEqual([255, "VM is locked (migrate)\n"]);
    const running = await json<TaskRow[]>("a3", "pvesh get /nodes/a2/tasks --source active --output-format json");
    expect(running.map((t) => [t.type, t.id, t.status])).toEqual([["qmigrate", "110", "RUNNING"]]);
    sim.mutateState((st) => {
      knobs(st).haMigrationHold = false;
    });
    expect(await service("a3", "vm:110")).toMatchObject({ node: "a1", state: "started" });
    expect(whereIs(110)).toEqual(["a1"]);
    const tasks = await json<TaskRow[]>("a3", "pvesh get /nodes/a2/tasks --vmid 110 --limit 2 --output-format json");
    expect(tasks.map((t) => [t.type, t.status]).sort()).toEqual([["hamigrate", "OK"], ["qmigrate", "OK"]]);
    const ha = tasks.find((t) => t.type === "hamigrate")!;
    expect(await json("a3", `pvesh get /nodes/a2/tasks/${ha.upid}/log --output-format json`)).toEqual([
      { n: 1, t: "Requesting HA migration for VM 110 to node a1" },
      { n: 2, t: "TASK OK" },
    ]);
  });

  it("ha-manager migrate / crm-command migrate: errors as pve-ha-manager prints them; success prints nothing", async () => {
    const cases: [string, number, string][] = [
      ["ha-manager migrate vm:100 a3", 255, "resource 'vm:100' is not HA managed\n"],
      ["ha-manager migrate 999 a3", 255, "unable to detect SID from VMID - VM/CT 999 does not exist\n"],
      ["ha-manager crm-command migrate vm:110 bad_name", 255, "400 Parameter verification failed.\nnode: invalid format - value does not look like a valid node name\nha-manager crm-command migrate <sid> <node>\n"],
    ];
    for (const [cmd, code, stderr] of cases) {
      const r = await sim.exec("a1", cmd);
      expect([cmd, r.code, r.stderr]).toEqual([cmd, code, stderr]);
    }
    sim.mutateState((st) => {
      st.clusters.eight.expectedVotes = 7;
    });
    try {
      const r = await sim.exec("a1", "ha-manager migrate vm:110 a2");
      expect([r.code, r.stderr]).toEqual([255, "cfs-lock 'domain-ha' error: no quorum!\n"]);
    } finally {
      sim.mutateState((st) => {
        st.clusters.eight.expectedVotes = null;
      });
    }
    sim.mutateState((st) => {
      knobs(st).haMigrationDelayMs = 0;
    });
    const ok = await sim.exec("a3", "ha-manager crm-command migrate 110 a2");
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, "", ""]);
    expect(whereIs(110)).toEqual(["a2"]);
  });

  it("task endpoints: real UPIDs, newest first, filters, log paging, status, and their errors", async () => {
    const all = await json<TaskRow[]>("a3", "pvesh get /nodes/a1/tasks --output-format json");
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (const t of all) {
      expect(t.upid).toMatch(/^UPID:a1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:(qmigrate|hamigrate):\d+:root@pam:$/);
      const [, , pid, pstart, start, type, id] = t.upid.split(":");
      expect([parseInt(pid, 16), parseInt(pstart, 16), parseInt(start, 16), type, id]).toEqual([t.pid, t.pstart, t.starttime, t.type, t.id]);
      expect(t.endtime).toBeGreaterThanOrEqual(t.starttime);
    }
    expect(all.map((t) => t.starttime)).toEqual([...all.map((t) => t.starttime)].sort((x, y) => y - x));
    expect(await json<TaskRow[]>("a3", "pvesh get /nodes/a1/tasks --limit 2 --output-format json")).toEqual(all.slice(0, 2));
    expect(await json<TaskRow[]>("a3", "pvesh get /nodes/a1/tasks --start 1 --limit 1 --output-format json")).toEqual(all.slice(1, 2));
    const failed = await json<TaskRow[]>("a3", "pvesh get /nodes/a1/tasks --errors 1 --output-format json");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((t) => t.status !== "OK")).toBe(true);

    const ok = all.find((t) => t.status === "OK" && t.type === "qmigrate")!;
    const page = await json<{ n: number; t: string }[]>("a3", `pvesh get /nodes/a1/tasks/${ok.upid}/log --start 1 --limit 2 --output-format json`);
    expect(page.map((l) => l.n)).toEqual([2, 3]);
    const whole = await json<{ n: number; t: string }[]>("a3", `pvesh get /nodes/a1/tasks/${ok.upid}/log --output-format json`);
    expect(whole.length).toBeLessThanOrEqual(50);
    expect(await json("a3", `pvesh get /nodes/a1/tasks/${ok.upid}/status --output-format json`)).toEqual({
      exitstatus: "OK",
      id: ok.id,
      node: "a1",
      pid: ok.pid,
      pstart: ok.pstart,
      starttime: ok.starttime,
      status: "stopped",
      type: "qmigrate",
      upid: ok.upid,
      user: "root@pam",
    });

    const bad = await sim.exec("a3", "pvesh get /nodes/a1/tasks/UPID:nope/status --output-format json");
    expect([bad.code, bad.stderr.split("\n").slice(0, 2)]).toEqual([255, ["400 Parameter verification failed.", "upid: unable to parse worker upid"]]);
    const ghost = "UPID:a1:00001234:00ABCDEF:6B000000:qmigrate:100:root@pam:";
    expect(await json("a3", `pvesh get /nodes/a1/tasks/${ghost}/log --output-format json`)).toEqual([{ n: 1, t: "unable to open file - No such file or directory" }]);
    const gone = await sim.exec("a3", `pvesh get /nodes/a1/tasks/${ghost}/status --output-format json`);
    expect([gone.code, gone.stderr.split("\n")[1]]).toEqual([255, "upid: no such task"]);
    const src = await sim.exec("a3", "pvesh get /nodes/a1/tasks --source nope --output-format json");
    expect(src.stderr.split("\n")[1]).toBe("source: value 'nope' does not have a value in the enumeration 'archive, active, all'");
  });
});
