/**
 * The GitHub Actions workflows (.github/workflows): they parse as YAML, their
 * jobs run where they should, every `npm run` they call exists, every shell
 * step is valid bash, and the README names the secrets and variables they read.
 * (actionlint itself runs in the pull request workflow, from its container.)
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { policyPackPath } from "../stacks/policy/path";

const ROOT = path.resolve(__dirname, "..");
const SCRIPTS = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  "runs-on": string | string[];
  if?: string;
  environment?: string;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

function workflow(file: string): Workflow {
  const doc = YAML.parseDocument(fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8"), { uniqueKeys: true });
  expect(doc.errors.map((e) => e.message), file).toEqual([]);
  return doc.toJS() as Workflow;
}

const WORKFLOWS = fs.readdirSync(path.join(ROOT, ".github", "workflows")).sort();
const runs = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps.map((s) => s.run ?? "").filter((r) => r !== ""));

describe.each(WORKFLOWS)("%s", (file) => {
  const w = workflow(file);

  it("has jobs with a runner and steps, and least privilege by default", () => {
    expect(Object.keys(w.jobs).length).toBeGreaterThan(0);
    expect(w.permissions).toEqual({ contents: "read" });
    for (const [name, job] of Object.entries(w.jobs)) {
      expect(job["runs-on"], name).toBeTruthy();
      expect(job.steps.length, name).toBeGreaterThan(0);
      for (const step of job.steps) expect(!!step.uses !== !!step.run, `${name}: a step either uses an action or runs a command`).toBe(true);
    }
  });

  it("pins every action to a release", () => {
    const uses = Object.values(w.jobs).flatMap((j) => j.steps.map((s) => s.uses).filter((u): u is string => !!u));
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
  });

  it("calls only npm scripts that package.json has", () => {
    const called = runs(w).flatMap((r) => [...r.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]));
    expect(called.length).toBeGreaterThan(0);
    for (const script of called) expect(Object.keys(SCRIPTS), `npm run ${script}`).toContain(script);
  });

  it("has shell steps bash can parse", () => {
    for (const script of runs(w)) {
      // Expressions are substituted before the shell sees the script.
      const text = script.replace(/\$\{\{[^}]*\}\}/g, "x");
      expect(() => execFileSync("bash", ["-n"], { input: text, stdio: ["pipe", "pipe", "pipe"] }), script).not.toThrow();
    }
  });

  it("reads only secrets and variables the README explains", () => {
    const text = fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8");
    const names = [...text.matchAll(/\b(?:secrets|vars)\.([A-Z_]+)/g)].map((m) => m[1]).filter((n) => n !== "GITHUB_TOKEN");
    for (const name of new Set(names)) expect(README, name).toContain(name);
  });
});

describe("pr.yml", () => {
  const w = workflow("pr.yml");

  it("runs on pull requests: validate every stack file, typecheck, lint, the README's test command", () => {
    expect(Object.keys(w.on)).toEqual(["pull_request"]);
    const check = w.jobs.check;
    expect(check["runs-on"]).toMatch(/^ubuntu-/);
    const commands = check.steps.map((s) => s.run ?? s.uses);
    expect(commands).toContain("npm run typecheck");
    expect(commands).toContain("npm run lint");
    expect(commands.find((c) => c?.includes("for file in Pulumi.*.yaml"))).toContain('npm run --silent validate -- "${stack%.yaml}"');
    expect(README).toContain("npm ci && npm test");
    expect(commands).toContain('sudo env "PATH=$PATH" npm test');
    expect(commands.find((c) => c?.includes("actionlint"))).toMatch(/rhysd\/actionlint:\d+\.\d+\.\d+/);
  });

  it("renders the plans and diagrams of the base and the head, and comments their differences", () => {
    const plan = w.jobs.plan;
    expect(plan.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(plan.steps.filter((s) => s.uses === "actions/checkout@v4").map((s) => s.with)).toEqual([
      { path: "head" },
      { ref: "${{ github.event.pull_request.base.sha }}", path: "base" },
    ]);
    const render = plan.steps.find((s) => s.name === "Render the plans and diagrams")!.run!;
    for (const side of ["base", "head"]) {
      expect(render).toContain(`(cd ${side} && npm run --silent plan -- "$stack" --out "../out/${side}/$stack.plan.txt"`);
      expect(render).toContain(`(cd ${side} && npm run --silent diagram -- "$stack" --markdown > "../out/${side}/$stack.diagram.md"`);
    }
    expect(render).toContain('npm run --silent plan-diff -- "../out/base/$stack.plan.txt" "../out/head/$stack.plan.txt"');
    expect(render).toContain('! cmp -s "out/base/$stack.diagram.md" "out/head/$stack.diagram.md"');
    const comment = plan.steps.find((s) => s.uses === "actions/github-script@v7")!;
    expect(comment.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(String(comment.with?.script)).toContain("updateComment");
  });
});

describe("lab.yml", () => {
  const w = workflow("lab.yml");
  const pulumiStep = (job: Job) => job.steps.find((s) => s.uses === "pulumi/actions@v6")!;
  const policyPack = path.relative(ROOT, policyPackPath());

  it("previews pull requests from this repository on the lab's self-hosted runner, with a diff comment and the policy pack", () => {
    const preview = w.jobs.preview;
    expect(preview["runs-on"]).toEqual(expect.arrayContaining(["self-hosted"]));
    expect(preview.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    expect(pulumiStep(preview).with).toMatchObject({ command: "preview", diff: true, "comment-on-pr": true, policyPacks: policyPack });
  });

  it("applies merges to main behind the protected environment, with the policy pack", () => {
    const up = w.jobs.up;
    expect(up.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(up.environment).toBe("lab");
    expect(up["runs-on"]).toEqual(w.jobs.preview["runs-on"]);
    expect(pulumiStep(up).with).toMatchObject({ command: "up", policyPacks: policyPack });
  });

  it("takes the backend and the passphrase from the repository's settings, and the CLI version the README names", () => {
    expect(w.env).toMatchObject({ PULUMI_BACKEND_URL: "${{ vars.PULUMI_BACKEND_URL }}" });
    // The passphrase only where Pulumi runs, the SSH key only where the agent gets it.
    for (const job of [w.jobs.preview, w.jobs.up]) {
      expect(pulumiStep(job).env).toEqual({ PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });
      const withSecrets = job.steps.filter((s) => JSON.stringify(s).includes("secrets."));
      expect(withSecrets.map((s) => s.name ?? s.uses)).toEqual(["SSH key in an agent, the cluster CA trusted", "pulumi/actions@v6"]);
    }
    expect(README).toContain(`--version ${w.env!.PULUMI_VERSION}`);
  });
});
