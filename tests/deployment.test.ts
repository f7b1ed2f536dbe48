import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  PULUMI_CLI_MISSING,
  describeSummary,
  explainFailure,
  plannedSteps,
  runDeployment,
  type StackOps,
} from "../scripts/deployment";

function fakeOps(fail?: { step: keyof StackOps; err: Error }) {
  const calls: string[] = [];
  const step = (name: keyof StackOps) => async (opts?: { refresh: boolean }) => {
    calls.push(opts?.refresh ? `${name} --refresh` : name);
    if (fail?.step === name) throw fail.err;
    return { create: name === "up" ? 2 : 0, same: 5 };
  };
  const ops: StackOps = { refresh: step("refresh"), preview: step("preview"), up: step("up"), destroy: step("destroy") };
  return { ops, calls };
}

function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

const valid = { file: "Pulumi.matrix.yaml", issues: [] };

describe("scripted deployments", () => {
  it("up previews with refresh, then applies with refresh; a failing preview stops before anything changes", async () => {
    expect(plannedSteps("up")).toEqual([
      { op: "preview", refresh: true },
      { op: "up", refresh: true },
    ]);
    expect(plannedSteps("up", { refreshFirst: false })).toEqual([
      { op: "preview", refresh: false },
      { op: "up", refresh: false },
    ]);
    const { ops, calls } = fakeOps({ step: "preview", err: new Error("golf: pvecm add failed (exit 255): boom") });
    const log: string[] = [];
    const code = await runDeployment("matrix", "up", valid, async () => ops, (l) => log.push(l));
    expect(code).toBe(1);
    expect(calls).toEqual(["preview --refresh"]);
    expect(log).toEqual(["matrix: preview failed: golf: pvecm add failed (exit 255): boom"]);
  });

  it("preview never runs a separate refresh (which would write the state): it previews with refresh", async () => {
    const { ops, calls } = fakeOps();
    const log: string[] = [];
    expect(await runDeployment("matrix", "preview", valid, async () => ops, (l) => log.push(l))).toBe(0);
    expect(calls).toEqual(["preview --refresh"]);
    expect(log).toEqual(["preview: 5 same"]);
    const plain = fakeOps();
    await runDeployment("matrix", "preview", valid, async () => plain.ops, () => {}, { refreshFirst: false });
    expect(plain.calls).toEqual(["preview"]);
  });

  it("without the Pulumi CLI on PATH: one line saying how to install it, and nothing runs", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-nopulumi-"));
    const { ops, calls } = fakeOps();
    const log: string[] = [];
    let opened = false;
    const code = await runDeployment("matrix", "preview", valid, async () => ((opened = true), ops), (l) => log.push(l), {
      pathEnv: empty,
    });
    expect(code).toBe(1);
    expect(opened).toBe(false);
    expect(calls).toEqual([]);
    expect(log).toEqual([`matrix: ${PULUMI_CLI_MISSING}`]);
    expect(log[0]).toMatch(/the Pulumi CLI is not on PATH; install it with: curl -fsSL https:\/\/get\.pulumi\.com .*3\.248/);

    // with an executable named pulumi on that PATH the run goes ahead
    fs.writeFileSync(path.join(empty, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
    expect(await runDeployment("matrix", "preview", valid, async () => ops, () => {}, { pathEnv: `/nonexistent:${empty}` })).toBe(0);
    expect(calls).toEqual(["preview --refresh"]);
    fs.rmSync(empty, { recursive: true, force: true });
  });

  it("runs nothing when the stack file is invalid, and lists every issue", async () => {
    const { ops, calls } = fakeOps();
    const log: string[] = [];
    const bad = { file: "x", issues: ['nodes[1].address: "10.0.0.300" is not an IPv4 address', "cluster.name: missing"] };
    expect(await runDeployment("matrix", "up", bad, async () => ops, (l) => log.push(l))).toBe(1);
    expect(calls).toEqual([]);
    expect(log).toEqual([...bad.issues, "matrix: 2 problem(s) in the stack file; nothing was run"]);
  });

  it("refuses destroy without confirmation", async () => {
    const { ops, calls } = fakeOps();
    const log: string[] = [];
    expect(await runDeployment("ms01", "destroy", valid, async () => ops, (l) => log.push(l))).toBe(1);
    expect(calls).toEqual([]);
    expect(await runDeployment("ms01", "destroy", valid, async () => ops, (l) => log.push(l), { confirmDestroy: true })).toBe(0);
    expect(calls).toEqual(["destroy"]);
  });

  it("explains a concurrent update and a missing stack by name", async () => {
    expect(explainFailure("ms01", "up", named("ConcurrentUpdateError", "conflict"))).toBe(
      "ms01: up refused: another update of this stack is running; wait for it, or run `pulumi cancel --stack ms01` if it died",
    );
    const log: string[] = [];
    const code = await runDeployment("lab", "preview", valid, async () => {
      throw named("StackNotFoundError", "no stack named 'lab' found");
    }, (l) => log.push(l));
    expect(code).toBe(1);
    expect(log).toEqual([
      "lab: no such stack; create it with `pulumi stack init lab --secrets-provider passphrase` and set its secrets",
    ]);
  });

  it("summarizes changes per kind, sorted, skipping zeros", () => {
    expect(describeSummary("up", { update: 1, create: 3, same: 20, delete: 0 })).toBe("up: 3 create, 20 same, 1 update");
    expect(describeSummary("preview", {})).toBe("preview: no changes");
  });
});
