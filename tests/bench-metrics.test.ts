/**
 * The converge benchmark's arithmetic (bench/metrics.ts, bench/results.ts):
 * which resource type a command is charged to, the critical-path bound, and
 * the regression flag against the previous results file.
 */
import { describe, expect, it } from "vitest";
import { attribute, criticalPath } from "../bench/metrics";
import { compare, type Results } from "../bench/results";
import type { StepEvent } from "../tests/engine/protocol";
import type { CommandLogEntry } from "../tests/sim/cluster";

const urn = (name: string) => `urn:pulumi:s::homelab::pulumi-nodejs:dynamic/t:T::${name}`;
function step(name: string, type: string, startedAt: number, durationMs: number, dependsOn: string[] = [], calls = ["check", "create"], callStarts = [startedAt, startedAt]): StepEvent {
  return { kind: "step", urn: urn(name), type: `pulumi-nodejs:dynamic/${type}`, name, op: "create", calls, callStarts, dependsOn: dependsOn.map(urn), startedAt, durationMs, nodes: ["n1"] };
}
const cmd = (command: string, time: number, connection: string, stepName?: string): CommandLogEntry => ({ node: "n1", command, time, connection, step: stepName && urn(stepName) });

describe("bench metrics", () => {
  it("charges a command to the step named in its tag, else to the step whose window holds its connection", () => {
    const steps = [step("a", "x:A", 0, 100), step("b", "x:B", 50, 100)];
    const log = [cmd("cat /etc/hosts", 60, "c1", "a"), cmd("mv -f -- x y", 70, "c1", "a"), cmd("hostname", 120, "c2"), cmd("hostname", 130, "c2")];
    const f = attribute(steps, log, 200);
    expect(f.byType["x:A"]).toMatchObject({ connections: 1, commands: 2, mutating: 1 });
    expect(f.byType["x:B"]).toMatchObject({ connections: 1, commands: 2, mutating: 0 });
    expect(f).toMatchObject({ connections: 2, commands: 4, mutating: 1, unattributed: 0, ambiguous: 0, stepsWallMs: 150 });
  });

  it("charges a command to the provider call that started last before it", () => {
    const s = step("a", "x:A", 0, 100, [], ["check", "read", "diff"], [0, 10, 60]);
    const f = attribute([s], [cmd("cat f", 20, "c", "a"), cmd("cat g", 70, "c", "a")], 100);
    expect(f.byType["x:A"].commandsByCall).toEqual({ read: 1, diff: 1 });
  });

  it("bounds a run by its longest dependency chain of step durations", () => {
    const steps = [step("gate", "g", 0, 10), step("n1", "n", 10, 30, ["gate"]), step("n2", "n", 10, 50, ["gate"]), step("join", "j", 60, 20, ["n1", "n2"])];
    expect(criticalPath(steps)).toEqual({ boundMs: 80, path: ["g gate (10 ms)", "n n2 (50 ms)", "j join (20 ms)"], unknownDependencies: 0 });
  });

  it("flags a figure more than 20% worse than the previous results, either direction of better", () => {
    const before: Results = { date: "d1", opsPerSecond: { v: 100 }, targets: [] };
    const after: Results = { date: "d2", opsPerSecond: { v: 70 }, targets: [] };
    expect(compare(before, after).regressions).toEqual(["ops/s v"]);
    expect(compare(after, before).regressions).toEqual([]);
  });
});
