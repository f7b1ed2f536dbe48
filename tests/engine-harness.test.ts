/**
 * The engine harness (tests/engine) on a small program of recording dynamic
 * resources (tests/fixtures/engine/program.ts): dependency order, parallel
 * steps where independent, the second run's zero changes, a failure that
 * stops its dependants with the error intact, and secrets never printed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANGING_OPS, runOnce, type RunResult } from "./engine/harness";
import { formatOutputs, formatStep } from "./engine/progress";
import { overTheWire } from "./engine/wire";

const TOKEN = "tok-9f1c2e7a55d04b1b-secret";
const DELAY_MS = 600;
let dir: string;

interface Call {
  label: string;
  call: string;
  start: number;
  end: number;
}

async function run(name: string, extra: Record<string, string> = {}, state?: RunResult["state"]): Promise<{ result: RunResult; calls: Call[]; printed: string }> {
  const log = path.join(dir, `${name}.jsonl`);
  fs.writeFileSync(log, "");
  const printed: string[] = [];
  const result = await runOnce({
    program: "tests/fixtures/engine/program.ts",
    stack: "harness-test",
    config: { "test:log": log, "test:token": TOKEN, "test:delayMs": String(DELAY_MS), ...extra },
    secretKeys: ["test:token"],
    state,
    onStep: (e) => printed.push(formatStep(e)),
  });
  printed.push(formatOutputs(result.outputs), result.error ?? "");
  const calls = fs
    .readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Call);
  return { result, calls, printed: printed.join("\n") };
}

const byLabel = (calls: Call[]) => Object.fromEntries(calls.map((c) => [c.label, c]));

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-harness-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("a first run and a second run on its state", () => {
  let first: Awaited<ReturnType<typeof run>>;
  let second: Awaited<ReturnType<typeof run>>;
  let dropped: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    first = await run("first");
    second = await run("second", {}, first.result.state);
    dropped = await run("dropped", { "test:dropG": "true" }, second.result.state);
  }, 180_000);

  it("creates every resource once, a dependant only after what it depends on (by input and by dependsOn)", () => {
    expect(first.result.ok).toBe(true);
    const at = byLabel(first.calls);
    expect(Object.keys(at).sort()).toEqual(["a", "b", "c", "d1", "d2", "e", "f", "g"]);
    // c takes a's and b's outputs; e dependsOn c; f dependsOn the component holding d1 and d2.
    expect(at.c.start).toBeGreaterThanOrEqual(Math.max(at.a.end, at.b.end));
    expect(at.e.start).toBeGreaterThanOrEqual(at.c.end);
    expect(at.f.start).toBeGreaterThanOrEqual(Math.max(at.d1.end, at.d2.end));
    // g feeds no stack output: the run still waits for it, as the CLI does.
    expect(at.g.start).toBeGreaterThanOrEqual(Math.max(at.e.end, at.f.end));
    expect(first.result.steps.find((s) => s.name === "g")?.op).toBe("create");
    // The real outputs flowed on: c saw a's and b's labels as the engine returned them.
    expect(first.result.outputs.cAfter).toBe("a+b");
  });

  it("runs independent resources at the same time", () => {
    const at = byLabel(first.calls);
    const independent = [at.a, at.b, at.d1, at.d2];
    // All four were running at one moment: the last one started before the first one ended.
    expect(Math.max(...independent.map((c) => c.start))).toBeLessThan(Math.min(...independent.map((c) => c.end)));
  });

  it("refreshes and diffs on the second run, and changes nothing", () => {
    expect(second.result.ok).toBe(true);
    expect(second.calls).toEqual([]);
    expect(second.result.steps.map((s) => s.op)).toEqual(Array(8).fill("same"));
    expect(second.result.steps.every((s) => s.calls.join(",") === "read,diff")).toBe(true);
    expect(second.result.steps.filter((s) => CHANGING_OPS.has(s.op))).toEqual([]);
    expect(second.result.outputs.cAfter).toBe("a+b");
  });

  it("deletes a resource the program no longer declares, and only that one", () => {
    expect(dropped.result.ok).toBe(true);
    expect(dropped.calls).toEqual([]);
    // delete gets the stored outputs, so it logs to the file g was created with.
    const firstLog = fs.readFileSync(path.join(dir, "first.jsonl"), "utf8").trim().split("\n");
    expect(JSON.parse(firstLog[firstLog.length - 1])).toMatchObject({ label: "g", call: "delete" });
    expect(dropped.result.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`)).toEqual(["delete g"]);
    expect(Object.keys(dropped.result.state).some((urn) => urn.endsWith("::g"))).toBe(false);
  });

  it("keeps a secret output secret and never prints a secret", () => {
    expect(first.result.outputs.labels).toEqual({ e: "e", f: "f", secret: "[secret]" });
    expect(first.printed).toContain("secret: [secret]");
    for (const text of [first.printed, second.printed, JSON.stringify(first.result.outputs), JSON.stringify(first.result.steps)]) {
      expect(text).not.toContain(TOKEN);
    }
  });
});

describe("a failing step", () => {
  let failed: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    failed = await run("failing", { "test:fail": "c" });
  }, 120_000);

  it("stops its dependants, lets independent steps finish, and reports the error with node and command", () => {
    expect(failed.result.ok).toBe(false);
    const at = byLabel(failed.calls);
    expect(at.c).toBeDefined(); // its create ran and threw
    expect(at.e).toBeUndefined();
    for (const dependant of ["e", "g"]) expect(failed.result.steps.find((s) => s.name === dependant)).toBeUndefined();
    expect(at.g).toBeUndefined();
    for (const label of ["a", "b", "d1", "d2"]) expect(failed.result.steps.find((s) => s.name === label)?.op).toBe("create");
    const step = failed.result.steps.find((s) => s.name === "c")!;
    expect(step.op).toBe("failed");
    expect(step.error).toBe("golf: pvecm add failed (exit 255): unable to copy ssh ID: password [secret] refused");
    expect(failed.result.error).toMatch(/ c: golf: pvecm add failed \(exit 255\): /);
    expect(failed.printed).toContain("error: golf: pvecm add failed (exit 255)");
  });

  it("never prints the secret that was in the error", () => {
    expect(failed.printed).not.toContain(TOKEN);
    // The state (kept in memory between runs, like the engine's decrypted state) is the only place it may be.
    expect(JSON.stringify({ ...failed.result, state: undefined })).not.toContain(TOKEN);
  });
});

describe("values on the wire", () => {
  it("come back with sorted keys, as the dynamic-provider host returns them", () => {
    expect(JSON.stringify(overTheWire({ b: 1, a: { d: [{ z: 1, y: 2 }], c: "x" } }))).toBe('{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}');
  });

  it("refuse undefined as the host does, naming where it is", () => {
    expect(() => overTheWire({ name: "kellen", passwordHash: undefined })).toThrow(
      "Unexpected struct type. (undefined at passwordHash; the engine's dynamic-provider host refuses it too)",
    );
  });
});
