/**
 * The deploy verbs' order of operations and their failure texts (what
 * scripts/deploy.ts did, now `npm run homelab -- preview|up|refresh|destroy`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../scripts/homelab/cli";
import { PULUMI_CLI_MISSING, describeSummary, explainFailure, plannedSteps } from "../scripts/homelab/steps";
import { cliDeps, fakeDriver, linesOf, named, type CapturedDeps } from "./helpers/homelab-cli";

let captured: CapturedDeps[] = [];
function setup(...args: Parameters<typeof cliDeps>): CapturedDeps {
  const c = cliDeps(...args);
  captured.push(c);
  return c;
}
afterEach(() => {
  for (const c of captured) c.cleanup();
  captured = [];
});

describe("deploy verbs: order of operations", () => {
  it("up previews with refresh, then applies with refresh; a failing preview stops before anything changes", async () => {
    expect(plannedSteps("up")).toEqual([
      { op: "preview", refresh: true },
      { op: "up", refresh: true },
    ]);
    expect(plannedSteps("up", { refreshFirst: false })).toEqual([
      { op: "preview", refresh: false },
      { op: "up", refresh: false },
    ]);
    const { driver, calls } = fakeDriver({ fail: { method: "preview", err: new Error("golf: pvecm add failed (exit 255): boom") } });
    const c = setup(driver);
    expect(await main(["up", "matrix"], c.deps)).toBe(1);
    expect(calls).toEqual(["preview --refresh"]);
    expect(linesOf(c.stdout)).toContain("matrix: preview failed: golf: pvecm add failed (exit 255): boom");

    const ok = fakeDriver();
    expect(await main(["up", "matrix", "--no-refresh"], setup(ok.driver).deps)).toBe(0);
    expect(ok.calls).toEqual(["preview", "up"]);
  });

  it("preview never runs a separate refresh (which would write the state): it previews with refresh", async () => {
    const { driver, calls } = fakeDriver();
    const c = setup(driver);
    expect(await main(["preview", "matrix"], c.deps)).toBe(0);
    expect(calls).toEqual(["preview --refresh"]);
    expect(linesOf(c.stdout)).toContain("preview: 5 same");
    const plain = fakeDriver();
    await main(["preview", "matrix", "--no-refresh"], setup(plain.driver).deps);
    expect(plain.calls).toEqual(["preview"]);
  });

  it("without the Pulumi CLI on PATH: one line saying how to install it, exit 2, and nothing runs", async () => {
    const { driver, calls } = fakeDriver();
    const c = setup(driver);
    const withoutCli = { ...c.deps, env: { ...c.deps.env, PATH: path.join(c.root, "empty") } };
    expect(await main(["preview", "matrix"], withoutCli)).toBe(2);
    expect(c.opened()).toBe(false);
    expect(calls).toEqual([]);
    expect(linesOf(c.stderr)).toEqual([`matrix: ${PULUMI_CLI_MISSING}`]);
    expect(linesOf(c.stderr)[0]).toMatch(/the Pulumi CLI is not on PATH; install it with: curl -fsSL https:\/\/get\.pulumi\.com .*3\.248/);
    expect(fs.existsSync(path.join(c.root, "reports"))).toBe(false);

    // with an executable named pulumi on that PATH the run goes ahead
    expect(await main(["preview", "matrix"], { ...c.deps, env: { ...c.deps.env, PATH: `/nonexistent:${c.deps.env.PATH}` } })).toBe(0);
    expect(calls).toEqual(["preview --refresh"]);
  });

  it("runs nothing when the stack file is invalid, and lists every issue", async () => {
    const { driver, calls } = fakeDriver();
    const bad = { file: "x", issues: ['nodes[1].address: "10.0.0.300" is not an IPv4 address', "cluster.name: missing"] };
    const c = setup(driver, { validateStack: () => bad });
    expect(await main(["up", "matrix"], c.deps)).toBe(1);
    expect(calls).toEqual([]);
    expect(c.opened()).toBe(false);
    expect(linesOf(c.stdout).slice(0, 3)).toEqual([...bad.issues, "matrix: 2 problem(s) in the stack file; nothing was run"]);
  });

  it("refuses destroy without confirmation, and destroys with --yes", async () => {
    const { driver, calls } = fakeDriver();
    const c = setup(driver);
    expect(await main(["destroy", "ms01"], c.deps)).toBe(2);
    expect(calls).toEqual([]);
    expect(await main(["destroy", "ms01", "--yes"], c.deps)).toBe(0);
    expect(calls).toEqual(["destroy"]);
  });

  it("explains a concurrent update and a missing stack by name", async () => {
    expect(explainFailure("ms01", "up", named("ConcurrentUpdateError", "conflict"))).toBe(
      "ms01: up refused: another update of this stack is running; wait for it, or run `pulumi cancel --stack ms01` if it died",
    );
    const { driver } = fakeDriver();
    const c = setup(driver, {
      openDriver: async () => {
        throw named("StackNotFoundError", "no stack named 'lab' found");
      },
    });
    expect(await main(["preview", "matrix"], c.deps)).toBe(1);
    expect(linesOf(c.stdout)).toContain(
      "matrix: no such stack; create it with `pulumi stack init matrix --secrets-provider passphrase` and set its secrets",
    );
  });

  it("summarizes changes per kind, sorted, skipping zeros", () => {
    expect(describeSummary("up", { update: 1, create: 3, same: 20, delete: 0 })).toBe("up: 3 create, 20 same, 1 update");
    expect(describeSummary("preview", {})).toBe("preview: no changes");
  });
});
