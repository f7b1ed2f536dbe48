/**
 * `npm run plan`: the offline plan of a stack under mocks (deterministic across
 * processes, secrets masked, sorted), and the Markdown diff of two plans.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diffPlans, parsePlan, COMMENT_LIMIT } from "../scripts/homelab/plan-diff";
import { flatten, formatPlan, renderPlan, SECRET_MASK, shortRef } from "../scripts/homelab/plan";
import { parsePlanArgs, PLAN_USAGE } from "../scripts/homelab/plan-main";
import { SECRET_SIG, type Registration } from "./helpers/pulumi-mocks";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-plan-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function planProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(TSX, ["scripts/homelab/plan-main.ts", ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}

const URN = (type: string, name: string, parents = "") => `urn:pulumi:t::homelab::${parents}${type}::${name}`;
const secret = (value: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value });

function registration(partial: Partial<Registration> & Pick<Registration, "type" | "name">): Registration {
  return {
    urn: URN(partial.type, partial.name),
    parent: "",
    dependsOn: [],
    rawInputs: {},
    additionalSecretOutputs: [],
    custom: true,
    provider: "",
    ...partial,
  };
}

describe("npm run plan (the process)", () => {
  it("renders matrix byte-identically in two separate processes, secrets masked", async () => {
    const files = [path.join(tmp, "a.txt"), path.join(tmp, "b.txt")];
    const runs = await Promise.all(files.map((f) => planProcess("matrix", "--out", f)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const [a, b] = files.map((f) => fs.readFileSync(f, "utf8"));
    expect(a).toBe(b);
    expect(a.split("\n")[0]).toBe("# homelab plan: matrix");
    expect(a).toMatch(/^# \d+ resources; outputs: api \[secret\], ceph, cluster, /m);
    // The mocks' dummy secrets and the generated key never show; the inputs that carry them say [secret].
    for (const leak of ["mock-secret:", "MOCKSECRET", "PRIVATE KEY"]) expect(a).not.toContain(leak);
    expect(a).toContain(`      sshPrivateKey = ${SECRET_MASK}\n`);
    expect(a).not.toContain("__provider");
  }, 120_000);

  it("prints to stdout, the same text it writes with --out", async () => {
    const r = await planProcess("ms01");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(await renderPlan("ms01"));
  }, 120_000);

  it("fails with exit 1 naming an unknown stack, and 2 on wrong usage", async () => {
    const missing = await planProcess("nosuchstack");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^plan nosuchstack: .*Pulumi\.nosuchstack\.yaml: no such stack file$/m);
    const usage = await planProcess();
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim()).toBe(PLAN_USAGE);
  }, 60_000);
});

describe("the plan's form", () => {
  it("groups by type in order, sorts names, and shows parent, dependencies, provider and secret outputs", () => {
    const text = formatPlan("t", {
      secretOutputs: { zed: false, api: true },
      registrations: [
        registration({ type: "pulumi:pulumi:Stack", name: "homelab-t", custom: false }),
        registration({ type: "b:index:B", name: "y", dependsOn: [URN("a:index:A", "x"), URN("a:index:A", "x")] }),
        registration({ type: "b:index:B", name: "w", parent: URN("c:x:Comp", "comp"), provider: `${URN("pulumi:providers:p", "prov")}::id1` }),
        registration({
          type: "a:index:A",
          name: "x",
          additionalSecretOutputs: ["token", "key"],
          rawInputs: { __provider: "exports.handler = ...", password: secret("hunter2"), list: [], nested: { b: 1, a: "v" }, unknown: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" },
        }),
      ],
    });
    expect(text).toBe(
      [
        "# homelab plan: t",
        "# 3 resources; outputs: api [secret], zed",
        "",
        "## a:index:A (1)",
        "- x",
        "    secretOutputs: key, token",
        "    inputs:",
        "      list = []",
        '      nested.a = "v"',
        "      nested.b = 1",
        "      password = [secret]",
        "      unknown = [unknown]",
        "",
        "## b:index:B (2)",
        "- w",
        "    parent: c:x:Comp::comp",
        "    provider: pulumi:providers:p::prov",
        "- y",
        "    dependsOn:",
        "      - a:index:A::x",
        "",
      ].join("\n"),
    );
    expect(text).not.toContain("hunter2");
  });

  it("shows long or multi-line strings by length and digest, and a secret nested anywhere as [secret]", () => {
    const content = "line\n".repeat(50);
    const flat = flatten({ file: { content, mode: "0644" }, users: [{ name: "kellen", hash: secret("$6$x") }] }, "");
    expect(flat).toEqual([
      ["file.content", expect.stringMatching(/^<250 chars, sha256:[0-9a-f]{16}>$/)],
      ["file.mode", '"0644"'],
      ["users[0].hash", SECRET_MASK],
      ["users[0].name", '"kellen"'],
    ]);
  });

  it("names a resource by its own type and name, whatever its parents", () => {
    expect(shortRef("urn:pulumi:matrix::homelab::homelab:proxmox:Node$pulumi-nodejs:dynamic/proxmox:NodeFacts::matrix-foxtrot-facts")).toBe(
      "pulumi-nodejs:dynamic/proxmox:NodeFacts::matrix-foxtrot-facts",
    );
    expect(shortRef("urn:pulumi:matrix::homelab::pulumi:pulumi:Stack::homelab-matrix")).toBe("");
  });

  it("reads --out and the stack from the arguments", () => {
    expect(parsePlanArgs(["matrix"])).toEqual({ stack: "matrix", out: undefined });
    expect(parsePlanArgs(["--out", "p.txt", "ms01"])).toEqual({ stack: "ms01", out: "p.txt" });
    expect(parsePlanArgs(["ms01", "--out"])).toBeUndefined();
    expect(parsePlanArgs(["a", "b"])).toBeUndefined();
    expect(parsePlanArgs([])).toBeUndefined();
  });
});

describe("diffPlans", () => {
  const plan = (resources: Record<string, Record<string, string[]>>) =>
    formatLike("matrix", resources);
  /** A plan text in the form plan.ts writes. */
  function formatLike(stack: string, byType: Record<string, Record<string, string[]>>): string {
    const lines = [`# homelab plan: ${stack}`, "# n resources; outputs: none"];
    for (const [type, resources] of Object.entries(byType)) {
      lines.push("", `## ${type} (${Object.keys(resources).length})`);
      for (const [name, detail] of Object.entries(resources)) lines.push(`- ${name}`, ...detail.map((d) => `    ${d}`));
    }
    return lines.join("\n") + "\n";
  }

  const base = plan({
    "a:index:A": { one: ["inputs:", '  size = 3'], two: ["inputs:", '  x = "1"'] },
    "b:index:B": { gone: ["inputs:", "  y = 2"] },
  });
  const head = plan({
    "a:index:A": { one: ["inputs:", "  size = 4"], two: ["inputs:", '  x = "1"'], three: [] },
  });

  it("parses a plan back into its resources", () => {
    const parsed = parsePlan(base);
    expect(parsed.stack).toBe("matrix");
    expect([...parsed.resources.keys()]).toEqual(["a:index:A::one", "a:index:A::two", "b:index:B::gone"]);
    expect(parsed.resources.get("a:index:A::one")).toEqual(["inputs:", "  size = 3"]);
  });

  it("lists added, removed and changed resources, each change with its old and new lines", () => {
    const md = diffPlans(base, head);
    expect(md).toContain("### Plan for `matrix`");
    expect(md).toContain("**1 to add, 1 to change, 1 to remove** (1 unchanged).");
    expect(md).toContain("#### Added\n\n- `a:index:A::three`\n");
    expect(md).toContain("#### Removed\n\n- `b:index:B::gone`\n");
    expect(md).toContain("<details><summary><code>a:index:A::one</code></summary>\n\n```diff\n- size = 3\n+ size = 4\n```\n");
    expect(md).not.toContain("a:index:A::two");
  });

  it("says so when nothing changes, and treats a missing base as everything added", () => {
    expect(diffPlans(head, head)).toBe("### Plan for `matrix`\n\nNo changes (3 resources).\n");
    expect(diffPlans("", head)).toContain("**3 to add, 0 to change, 0 to remove** (0 unchanged).");
  });

  it("stays under GitHub's comment limit, cutting between resources", () => {
    const many = (v: number) =>
      plan({ "a:index:A": Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`r${i}`, ["inputs:", `  value = "${"v".repeat(20)}${v}"`]])) });
    const md = diffPlans(many(1), many(2));
    expect(md.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(md).toMatch(/<\/details>\n\n_Truncated: the whole diff is in the workflow run's artifacts._\n$/);
  });
});
