/**
 * `npm run homelab -- <verb> <stack>`: the verbs' decisions against a fake
 * StackDriver (no Pulumi CLI): exit codes, nothing opened on bad input, the
 * destroy confirmation, drift, redacted outputs, kube files, the JSON result
 * against its schema, and the reports of passed and failed runs.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../scripts/homelab/cli";
import { noPreflight, noVerify } from "../scripts/homelab/hooks";
import { VERBS } from "../scripts/homelab/verbs";
import { REDACTED, RunResultSchema, commandFailure, type RunResult } from "../scripts/homelab/result";
import { DRIFT_EVENTS, FAILED_UP_EVENTS, PVECM_FAILURE, UP_EVENTS } from "./helpers/engine-events";
import { cliDeps, fakeDriver, linesOf, type CapturedDeps, type FakeDriverOptions } from "./helpers/homelab-cli";

let captured: CapturedDeps[] = [];
function setup(driverOptions: FakeDriverOptions = {}, overrides: Parameters<typeof cliDeps>[1] = {}) {
  const fake = fakeDriver(driverOptions);
  const c = cliDeps(fake.driver, overrides);
  captured.push(c);
  return { ...c, calls: fake.calls };
}
afterEach(() => {
  for (const c of captured) c.cleanup();
  captured = [];
});

function jsonResult(stdout: string[]): RunResult & { reports?: { json: string; markdown: string } } {
  // stdout holds exactly one JSON object and nothing else
  return RunResultSchema.parse(JSON.parse(stdout.join("")));
}

const reportFiles = (root: string) => (fs.existsSync(path.join(root, "reports")) ? fs.readdirSync(path.join(root, "reports")).sort() : []);

const SECRET_KUBECONFIG = "apiVersion: v1\nclusters: []\nusers:\n- name: admin\n  user: {token: k3s-secret-token}\n";
const OUTPUTS = {
  nodes: { value: { golf: { address: "10.0.0.11", version: "9.0.3" } }, secret: false },
  api: { value: { endpoint: "https://10.0.0.11:8006", tokenSecret: "pve-token-secret" }, secret: true },
  kubernetes: {
    value: { apps: { kubeconfig: SECRET_KUBECONFIG, apiEndpoint: "https://10.0.0.50:6443" }, talos: { kubeconfig: "kube-talos", talosconfig: "talos-secret" } },
    secret: true,
  },
};

describe("bad input: one line, exit 2, nothing opened, no report", () => {
  const cases: { name: string; argv: string[]; env?: NodeJS.ProcessEnv; line: RegExp }[] = [
    { name: "unknown verb", argv: ["deploy", "matrix"], line: /^homelab: unknown verb "deploy"; use one of: validate, plan, diagram, preflight, verify, preview, up, refresh, drift, destroy, test, outputs, kubeconfig$/ },
    { name: "a verb named like an Object property", argv: ["constructor", "matrix"], line: /^homelab: unknown verb "constructor"/ },
    { name: "unknown stack", argv: ["up", "lab"], line: /^homelab: unknown stack "lab" \(no Pulumi\.lab\.yaml here\); known stacks: linode, matrix, ms01, pifarm$/ },
    { name: "no stack", argv: ["up"], line: /^homelab: expected a verb and a stack; usage: npm run homelab -- <verb> <stack> / },
    { name: "unknown flag", argv: ["up", "matrix", "--force"], line: /^homelab: Unknown option '--force'.*usage: / },
    { name: "destroy without --yes and no terminal", argv: ["destroy", "matrix"], line: /^matrix: destroy removes the stack's resources; pass --yes to confirm \(there is no terminal to ask on\); nothing changed$/ },
    { name: "test without --yes and no terminal", argv: ["test", "matrix"], line: /^matrix: test removes the stack's resources; pass --yes/ },
    {
      name: "no passphrase with the file backend",
      argv: ["up", "matrix"],
      env: { PULUMI_CONFIG_PASSPHRASE: undefined },
      line: /^matrix: no passphrase for the stack's secrets; export PULUMI_CONFIG_PASSPHRASE=<passphrase> or PULUMI_CONFIG_PASSPHRASE_FILE=<file>$/,
    },
    {
      name: "an unreadable passphrase file",
      argv: ["outputs", "matrix"],
      env: { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: "/nonexistent/passphrase" },
      line: /^matrix: PULUMI_CONFIG_PASSPHRASE_FILE=\/nonexistent\/passphrase cannot be read; point it at the file/,
    },
    { name: "no Pulumi CLI for kubeconfig", argv: ["kubeconfig", "matrix"], env: { PATH: "/nonexistent" }, line: /^matrix: the Pulumi CLI is not on PATH; install it with/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const s = setup({}, { preflight: async () => expect.fail("preflight must not run on bad input") });
      const code = await main(c.argv, { ...s.deps, env: { ...s.deps.env, ...c.env } });
      expect(linesOf(s.stderr)).toHaveLength(1);
      expect(linesOf(s.stderr)[0]).toMatch(c.line);
      expect(code).toBe(2);
      expect(s.opened()).toBe(false);
      expect(s.calls).toEqual([]);
      expect(s.stdout).toEqual([]);
      expect(reportFiles(s.root)).toEqual([]);
    });
  }

  it("--help: the usage and one line per verb on stdout, exit 0", async () => {
    const s = setup();
    expect(await main(["--help"], s.deps)).toBe(0);
    const out = linesOf(s.stdout);
    expect(out[0]).toBe("usage: npm run homelab -- <verb> <stack> [--json] [--yes] [--show-secrets] [--skip-preflight] [--no-refresh] [--drill]");
    expect(out.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(Object.keys(VERBS));
    expect(s.opened()).toBe(false);
  });

  it("another backend needs no passphrase from the environment; validate needs neither the CLI nor a passphrase", async () => {
    const s = setup();
    const env = { PATH: s.deps.env.PATH, PULUMI_BACKEND_URL: "https://api.pulumi.com" };
    expect(await main(["preview", "matrix"], { ...s.deps, env })).toBe(0);
    expect(s.calls).toEqual(["preview --refresh"]);
    expect(await main(["validate", "ms01"], { ...s.deps, env: {} })).toBe(0);
    expect(linesOf(s.stdout)).toContain('ms01: OK — 3 nodes, 2 networks, cluster "ms01", 1 Talos cluster');
  });
});

describe("the offline verbs", () => {
  it("plan prints the program's plan and diagram writes Mermaid and SVG, with no driver opened", async () => {
    const s = setup();
    expect(await main(["plan", "pifarm"], { ...s.deps, env: {} })).toBe(0);
    expect(linesOf(s.stdout)).toContain("# homelab plan: pifarm");
    expect(await main(["diagram", "pifarm"], { ...s.deps, env: {} })).toBe(0);
    expect(fs.readFileSync(path.join(s.root, ".homelab/diagrams/pifarm.mmd"), "utf8")).toMatch(/^(graph|flowchart) /m);
    expect(fs.readFileSync(path.join(s.root, ".homelab/diagrams/pifarm.svg"), "utf8")).toMatch(/^<svg /m);
    expect(s.opened()).toBe(false);
  }, 120_000);
});

describe("destroy asks on a terminal", () => {
  it("declined: nothing opened, exit 1; typed the stack name: destroys", async () => {
    const questions: string[] = [];
    let answer = false;
    const s = setup({}, { stdinIsTTY: true, confirm: async (q, expected) => (questions.push(`${q}[${expected}]`), answer) });
    expect(await main(["destroy", "ms01"], s.deps)).toBe(1);
    expect(questions).toEqual(['destroy removes every resource of stack "ms01". Type the stack name to go ahead: [ms01]']);
    expect(linesOf(s.stderr)).toEqual(["ms01: destroy not confirmed; nothing changed"]);
    expect(s.opened()).toBe(false);
    answer = true;
    expect(await main(["destroy", "ms01"], s.deps)).toBe(0);
    expect(s.calls).toEqual(["destroy"]);
    // --yes does not ask
    expect(await main(["destroy", "ms01", "--yes"], s.deps)).toBe(0);
    expect(questions).toHaveLength(2);
  });
});

describe("preflight before the deploy verbs", () => {
  it("runs first; a failed preflight stops before the driver is opened; --skip-preflight skips it", async () => {
    const asked: string[] = [];
    const s = setup({}, {
      preflight: async (stack, { verb }) => {
        asked.push(`${verb} ${stack}`);
        return { ok: false, problems: ["hotel: unreachable over SSH at 10.0.0.13:22; check the node is up"] };
      },
    });
    expect(await main(["up", "matrix"], s.deps)).toBe(1);
    expect(asked).toEqual(["up matrix"]);
    expect(s.opened()).toBe(false);
    const out = linesOf(s.stdout);
    expect(out).toContain("hotel: unreachable over SSH at 10.0.0.13:22; check the node is up");
    expect(out).toContain("matrix: preflight found 1 problem(s); nothing was changed; fix them, or run with --skip-preflight");

    expect(await main(["up", "matrix", "--skip-preflight"], s.deps)).toBe(0);
    expect(asked).toHaveLength(1);
    expect(s.calls).toEqual(["preview --refresh", "up --refresh"]);
    // outputs and kubeconfig touch no node: no preflight
    await main(["outputs", "matrix"], s.deps);
    expect(asked).toHaveLength(1);
  });

  it("the stand-ins until the real checks are wired: preflight lets the deploy go ahead saying so; verify fails", async () => {
    const lines: string[] = [];
    expect(await noPreflight("matrix", { verb: "up", log: (l) => lines.push(l) })).toEqual({ ok: true, problems: [] });
    expect(lines).toEqual(["preflight: no checks built in yet; nothing was checked"]);
    expect((await noVerify("matrix", { outputs: {}, log: () => {} })).ok).toBe(false);
  });
});

describe("drift", () => {
  it("reports what differs from the state, writes nothing, and fails the run", async () => {
    const s = setup({ events: { previewRefresh: DRIFT_EVENTS }, changes: { previewRefresh: { same: 1, update: 1, delete: 1 } } });
    expect(await main(["drift", "matrix", "--json"], s.deps)).toBe(1);
    expect(s.calls).toEqual(["previewRefresh"]);
    const result = jsonResult(s.stdout);
    expect(result.success).toBe(false);
    expect(result.drift).toEqual([
      {
        urn: expect.stringContaining("::matrix-osd-hotel-nvme0n1"),
        type: "pulumi-nodejs:dynamic:Resource",
        name: "matrix-osd-hotel-nvme0n1",
        kind: "deleted",
        properties: [],
      },
      { urn: expect.stringContaining("::matrix-pool-rbd"), type: "pulumi-nodejs:dynamic:Resource", name: "matrix-pool-rbd", kind: "changed", properties: ["size"] },
    ]);
    expect(result.phases.map((p) => [p.name, p.success])).toEqual([
      ["validate", true],
      ["preflight", true],
      ["drift", true],
    ]);
    expect(result.error?.message).toBe(
      "matrix: 2 resource(s) drifted from the state; `npm run homelab -- up matrix` puts them back, `npm run homelab -- refresh matrix` accepts what is there",
    );
    const lines = linesOf(s.stderr);
    expect(lines).toContain("drift: pulumi-nodejs:dynamic:Resource matrix-pool-rbd differs: size");
    expect(lines).toContain("drift: pulumi-nodejs:dynamic:Resource matrix-osd-hotel-nvme0n1 gone from the nodes");
    expect(fs.readFileSync(result.reports!.markdown, "utf8")).toContain("| matrix-pool-rbd | `pulumi-nodejs:dynamic:Resource` | changed | size |");
  });

  it("no drift: exit 0", async () => {
    const s = setup({ events: { previewRefresh: DRIFT_EVENTS.slice(0, 2) } });
    expect(await main(["drift", "matrix"], s.deps)).toBe(0);
    expect(linesOf(s.stdout)).toContain("matrix: no drift; the nodes match the state");
  });
});

describe("outputs", () => {
  it("redacts secrets, on the terminal, in --json and in the reports", async () => {
    const s = setup({ outputs: OUTPUTS });
    expect(await main(["outputs", "matrix"], s.deps)).toBe(0);
    expect(s.calls).toEqual(["outputs"]);
    const out = linesOf(s.stdout);
    expect(out).toContain(`output api: "${REDACTED}"`);
    expect(out).toContain('output nodes: {"golf":{"address":"10.0.0.11","version":"9.0.3"}}');
    expect(s.stdout.join("")).not.toContain("pve-token-secret");
    const json = setup({ outputs: OUTPUTS });
    await main(["outputs", "matrix", "--json"], json.deps);
    expect(jsonResult(json.stdout).outputs).toEqual({ nodes: OUTPUTS.nodes.value, api: REDACTED, kubernetes: REDACTED });
  });

  it("--show-secrets shows them on stdout only; the report files stay redacted", async () => {
    const s = setup({ outputs: OUTPUTS });
    expect(await main(["outputs", "matrix", "--show-secrets", "--json"], s.deps)).toBe(0);
    const result = jsonResult(s.stdout);
    expect(result.outputs.api).toEqual(OUTPUTS.api.value);
    for (const file of [result.reports!.json, result.reports!.markdown]) {
      const text = fs.readFileSync(file, "utf8");
      expect(text).not.toContain("pve-token-secret");
      expect(text).not.toContain("k3s-secret-token");
      expect(text).toContain(REDACTED);
    }
  });
});

describe("kubeconfig", () => {
  it("writes every cluster's kubeconfig, and the talosconfig where there is one, folder 0700, files 0600", async () => {
    const s = setup({ outputs: OUTPUTS });
    const dir = path.join(s.root, ".homelab", "kube", "matrix");
    // an older file with a looser mode is replaced, not reused
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(dir, "apps.kubeconfig"), "old", { mode: 0o644 });
    expect(await main(["kubeconfig", "matrix", "--json"], s.deps)).toBe(0);
    const result = jsonResult(s.stdout);
    const expected = ["apps.kubeconfig", "talos.kubeconfig", "talos.talosconfig"].map((f) => path.join(dir, f));
    expect(result.files).toEqual(expected);
    expect(fs.readdirSync(dir).sort()).toEqual(["apps.kubeconfig", "talos.kubeconfig", "talos.talosconfig"]);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    for (const file of expected) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(expected[0], "utf8")).toBe(SECRET_KUBECONFIG);
    expect(fs.readFileSync(expected[2], "utf8")).toBe("talos-secret");
    expect(fs.readFileSync(result.reports!.json, "utf8")).not.toContain("k3s-secret-token");
    // and neither those files nor the reports can be committed
    const ignored = fs.readFileSync(path.join(__dirname, "..", ".gitignore"), "utf8").split("\n");
    expect(ignored).toEqual(expect.arrayContaining([".homelab/", "reports/"]));
  });

  it("a stack without a Kubernetes cluster: fails saying so, writes nothing", async () => {
    const s = setup({ outputs: { nodes: OUTPUTS.nodes } });
    expect(await main(["kubeconfig", "ms01"], s.deps)).toBe(1);
    expect(linesOf(s.stdout)).toContain(
      "ms01: kubeconfig failed: the stack outputs no Kubernetes cluster (`kubernetes` is empty or absent); run `up` first, or add a cluster to the stack file",
    );
    expect(fs.existsSync(path.join(s.root, ".homelab"))).toBe(false);
  });
});

describe("results and reports", () => {
  it("a passed up: one JSON object on stdout (progress on stderr), valid against the schema, and both reports", async () => {
    const s = setup({ events: { up: UP_EVENTS }, outputs: OUTPUTS });
    expect(await main(["up", "matrix", "--json"], s.deps)).toBe(0);
    const result = jsonResult(s.stdout);
    expect(result).toMatchObject({ stack: "matrix", verb: "up", success: true, startedAt: "2026-12-06T16:02:54.500Z" });
    expect(result.phases.map((p) => p.name)).toEqual(["validate", "preflight", "preview", "up"]);
    expect(result.phases[3].changes).toEqual({ create: 2, same: 5 });
    expect(result.durationSeconds).toBeGreaterThan(0);
    expect(result.error).toBeUndefined();
    expect(linesOf(s.stderr)).toContain("up summary (42.0s)");
    expect(reportFiles(s.root)).toEqual(["20261206-160254-matrix-up.passed.json", "20261206-160254-matrix-up.passed.md"]);
    expect(result.reports).toEqual({
      json: path.join(s.root, "reports", "20261206-160254-matrix-up.passed.json"),
      markdown: path.join(s.root, "reports", "20261206-160254-matrix-up.passed.md"),
    });
    const fromFile = RunResultSchema.parse(JSON.parse(fs.readFileSync(result.reports!.json, "utf8")));
    expect({ ...fromFile, reports: result.reports }).toEqual(result);
    const md = fs.readFileSync(result.reports!.markdown, "utf8");
    expect(md).toContain("# homelab `up` on `matrix`: passed");
    expect(md).toContain("| up | ✅ passed |");
    expect(md).toContain("| 2 create, 5 same |");
    expect(md).toContain(`| api | \`"${REDACTED}"\` |`);
  });

  it("a failed up: the error names the node, the command and the exit status; the reports say failed", async () => {
    const cliText = `code: 255\n stdout: \n stderr: Updating (matrix)\n\n error: ${PVECM_FAILURE}\n`;
    const s = setup({ events: { up: FAILED_UP_EVENTS }, fail: { method: "up", err: new Error(cliText) } });
    expect(await main(["up", "matrix", "--json"], s.deps)).toBe(1);
    const result = jsonResult(s.stdout);
    expect(result.success).toBe(false);
    expect(result.phases.map((p) => [p.name, p.success])).toEqual([
      ["validate", true],
      ["preflight", true],
      ["preview", true],
      ["up", false],
    ]);
    expect(result.error).toMatchObject({
      phase: "up",
      node: "golf",
      command: "pvecm add",
      exitStatus: 255,
      commandLine: "pvecm add 10.0.0.11 --link0 10.0.0.12 --use_ssh",
    });
    expect(result.error!.message).toMatch(/^matrix: up failed: /);
    expect(reportFiles(s.root)).toEqual(["20261206-160254-matrix-up.failed.json", "20261206-160254-matrix-up.failed.md"]);
    const md = fs.readFileSync(result.reports!.markdown, "utf8");
    expect(md).toContain("# homelab `up` on `matrix`: failed");
    expect(md).toContain("In up: node `golf`, command `pvecm add`, exit status 255.");
    expect(md).toContain("| up | ❌ failed |");
  });

  it("the schema refuses a result without its verb or with a field it does not know", () => {
    const good = { stack: "m", verb: "up", success: true, startedAt: "2026-12-06T16:02:54.000Z", durationSeconds: 1, phases: [], outputs: {} };
    expect(RunResultSchema.safeParse(good).success).toBe(true);
    const withoutVerb: Record<string, unknown> = { ...good };
    delete withoutVerb.verb;
    expect(RunResultSchema.safeParse(withoutVerb).success).toBe(false);
    expect(RunResultSchema.safeParse({ ...good, secrets: {} }).success).toBe(false);
    expect(RunResultSchema.safeParse({ ...good, phases: [{ name: "up", success: true, durationSeconds: 1, changes: { create: -1 } }] }).success).toBe(false);
  });

  it("reads node, command and exit status out of our failure texts (and timeouts)", () => {
    expect(commandFailure(["update failed", PVECM_FAILURE])).toEqual({
      node: "golf",
      command: "pvecm add",
      exitStatus: 255,
      commandLine: "pvecm add 10.0.0.11 --link0 10.0.0.12 --use_ssh",
    });
    expect(commandFailure(["  error: hotel: pveceph osd create timed out after 600 s\n  command: pveceph osd create /dev/nvme0n1"])).toEqual({
      node: "hotel",
      command: "pveceph osd create",
      commandLine: "pveceph osd create /dev/nvme0n1",
    });
    expect(commandFailure(["something else broke"])).toEqual({});
  });
});

describe("test: up, verify, destroy", () => {
  it("passes when verify passes, destroying at the end", async () => {
    const verified: unknown[] = [];
    const s = setup({ outputs: OUTPUTS }, { verify: async (_stack, { outputs }) => (verified.push(outputs), { ok: true, problems: [] }) });
    expect(await main(["test", "matrix", "--yes", "--json"], s.deps)).toBe(0);
    expect(s.calls).toEqual(["up --refresh", "destroy"]);
    expect(verified).toEqual([OUTPUTS]);
    expect(jsonResult(s.stdout).phases.map((p) => p.name)).toEqual(["validate", "preflight", "up", "verify", "destroy"]);
  });

  it("a failed verify or a failed up still destroys, and the run fails; the stand-in verify never passes", async () => {
    const s = setup({}, { verify: async () => ({ ok: false, problems: ["matrix: not quorate (2 of 3 votes)"] }) });
    expect(await main(["test", "matrix", "--yes", "--json"], s.deps)).toBe(1);
    expect(s.calls).toEqual(["up --refresh", "destroy"]);
    expect(jsonResult(s.stdout).error).toMatchObject({ phase: "verify", message: "matrix: verify failed: matrix: not quorate (2 of 3 votes)" });

    const failedUp = setup({ fail: { method: "up", err: new Error(PVECM_FAILURE) } });
    expect(await main(["test", "matrix", "--yes"], failedUp.deps)).toBe(1);
    expect(failedUp.calls).toEqual(["up --refresh", "destroy"]);

    const standIn = setup({}, { verify: noVerify });
    expect(await main(["test", "matrix", "--yes"], standIn.deps)).toBe(1);
    expect(linesOf(standIn.stdout)).toContain("matrix: verify failed: verify: no checks built in yet; the stack was not verified");
  });
});

describe("the homelab bin", () => {
  it("runs from any folder; without the Pulumi CLI a deploy verb exits 2 with one line", async () => {
    const { execFile } = await import("node:child_process");
    const bin = path.join(__dirname, "..", "scripts", "homelab", "bin.cjs");
    // only node's own folder on PATH: no pulumi there
    const env = { PATH: path.dirname(process.execPath), PULUMI_CONFIG_PASSPHRASE: "x" };
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, "up", "matrix", "--json"], { cwd: "/", env }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      ),
    );
    expect(r.stderr).toMatch(/^matrix: the Pulumi CLI is not on PATH; install it with: curl -fsSL https:\/\/get\.pulumi\.com[^\n]*\n$/);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });
});

describe("the SSH checks behind preflight and verify", () => {
  it("take the API token from the stack's state for the deploy verbs, and go on without it when there is none yet", async () => {
    const { tokenFromState } = await import("../scripts/homelab/ssh-checks");
    const api = { endpoint: "https://192.168.3.11:8006/", tokenId: "automation@pve!pulumi", tokenSecret: "0f3c…" };
    const lines: string[] = [];
    expect(await tokenFromState(async () => ({ api: { value: api, secret: true } }), (l) => lines.push(l))).toEqual({ endpoint: api.endpoint, tokenId: api.tokenId, secret: api.tokenSecret });
    expect(await tokenFromState(async () => ({}), (l) => lines.push(l))).toBeUndefined();
    expect(await tokenFromState(async () => Promise.reject(new Error("no stack named 'lab' found")), (l) => lines.push(l))).toBeUndefined();
    expect(lines).toEqual(["  api-token: the stack's outputs could not be read (no stack named 'lab' found); the token is not checked"]);
  });

  it("are handed the stack's outputs by the deploy verbs (the engine opened only when asked)", async () => {
    let seen: unknown;
    const s = setup({}, { preflight: async (_stack, { stackOutputs }) => ((seen = await stackOutputs?.()), { ok: true, problems: [] }) });
    expect(await main(["preview", "matrix"], s.deps)).toBe(0);
    expect(seen).toBeDefined();
    expect(s.calls[0]).toBe("outputs");
  });

  it("open the nodes with HOMELAB_SSH_KEY_FILE, else the operator's agent, and say what to do without either", async () => {
    const { sshTarget } = await import("../scripts/homelab/ssh-checks");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-key-"));
    const keyFile = path.join(dir, "id");
    fs.writeFileSync(keyFile, "key material", { mode: 0o600 });
    expect(sshTarget("matrix", { HOMELAB_SSH_KEY_FILE: keyFile }).sshPrivateKey).toBe("key material");
    const viaAgent = sshTarget("matrix", { SSH_AUTH_SOCK: "/run/agent.sock" });
    expect(viaAgent.sshPrivateKey).toBeUndefined();
    expect(viaAgent.stackFile.environment?.ssh.useAgent).toBe(true);
    expect(() => sshTarget("matrix", {})).toThrow("no SSH key: set HOMELAB_SSH_KEY_FILE to the private key root on the nodes accepts, or load it into ssh-agent");
  });
});
