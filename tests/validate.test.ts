/**
 * `npm run validate -- <stack | file>`: the real CLI as a process (exit codes,
 * exact output), and the functions behind it called directly.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveStackFile, summary, validateStackFile, validateStackText } from "../stacks/stack-file";
import { main } from "../stacks/validate";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

interface Run {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Run `tsx stacks/validate.ts <args>` (what `npx tsx` / `npm run validate` run) from the repo root. */
function validate(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, ["stacks/validate.ts", ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      const lines = (text: string) => text.split("\n").filter((l) => l !== "");
      resolve({ code: error ? Number(error.code) : 0, stdout: lines(stdout), stderr: lines(stderr) });
    });
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-validate-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of a reference stack file with text replacements, each of which must apply exactly once. */
function brokenCopy(stack: string, replacements: [string, string][]): string {
  let text = fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
  for (const [from, to] of replacements) {
    expect(text.split(from).length - 1, `"${from}" occurs once`).toBe(1);
    text = text.replace(from, to);
  }
  const file = path.join(fs.mkdtempSync(path.join(tmp, "copy-")), `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

describe("npm run validate (the CLI process)", () => {
  // The reference stack files carry placeholders: valid, with warnings on stderr.
  it("matrix: exit 0, a one-line summary, and warnings for its placeholders", async () => {
    const r = await validate("matrix");
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual(['matrix: OK — 3 nodes, 4 networks, cluster "matrix", 1 K3s cluster']);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(r.stderr.every((l) => l.startsWith("warning: "))).toBe(true);
    expect(r.stderr).toContain(
      "warning: nodes[0].hostKey: the placeholder from the reference stack files, not this node's key; get the real one with npm run host-keys -- <stack>",
    );
  });

  it("ms01: exit 0, a one-line summary, and warnings for its placeholders", async () => {
    const r = await validate("ms01");
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual(['ms01: OK — 3 nodes, 2 networks, cluster "ms01", 1 Talos cluster']);
    expect(r.stderr.every((l) => l.startsWith("warning: "))).toBe(true);
    expect(r.stderr).toContain(
      "warning: secrets.userPasswordHashes.kellen: placeholder ciphertext from the reference stack files; set it with pulumi config set --secret",
    );
  });

  it("a copy with three mistakes: exit 1, exactly three lines naming the three paths", async () => {
    const file = brokenCopy("matrix", [
      ["        mtu: 9000\n        comment: Ceph public network", "        mtu: 90000\n        comment: Ceph public network"],
      ["address: 192.168.8.6", "address: 192.168.9.6"],
      ["links: [corosync, management]", "links: [corosync, mgmt]"],
    ]);
    const r = await validate(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toEqual([]);
    expect(r.stderr).toEqual([
      "networks[2].mtu: 90000 is not a valid MTU (an integer 576–65520)",
      'nodes[1].interfaces[4].address: "192.168.9.6" is not inside network "corosync" (192.168.8.0/24)',
      'cluster.links[1]: no network named "mgmt"',
    ]);
  });

  it("a secret in plain text is refused, and not printed", async () => {
    const file = brokenCopy("ms01", [
      [
        "    sshPrivateKey:\n      secure: v1:LeZibKZkDwoGH0HL:ouji/D9YK8f7EmJiG6EW7GjzNwkud3DEnqeOqvix8Qk4Nr+gp43G6A==",
        "    sshPrivateKey: PLAINTEXT-KEY-MATERIAL",
      ],
    ]);
    const r = await validate(file);
    expect(r).toEqual({
      code: 1,
      stdout: [],
      stderr: ["secrets.sshPrivateKey: must be set with pulumi config set --secret (it is stored in plain text)"],
    });
  });

  it("a fixture path: every mistake reported at once, environment first, then secrets", async () => {
    const r = await validate("tests/fixtures/bad.yaml");
    expect(r).toEqual({
      code: 1,
      stdout: [],
      stderr: [
        'nodes[1].address: "10.1.0.300" is not an IPv4 address',
        'nodes[1].interfaces[1].address: "10.1.0.300" is not an IPv4 address',
        'nodes[2].interfaces[1].ports[0]: "eno2" is not declared as an interface of this node (add { type: nic, name: eno2 } or a bond)',
        "secrets.sshPrivateKey: must be set with pulumi config set --secret (it is stored in plain text)",
      ],
    });
  });

  it("a missing stack file: exit 1 and where it looked", async () => {
    const r = await validate("nosuchstack");
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      `${path.join(ROOT, "Pulumi.nosuchstack.yaml")}: cannot read the stack file (no such file; stacks here: doggos, fluodata, linode, matrix, ms01, nexus, pifarm, vps)`,
    ]);
  });

  it("no argument: usage, exit 2", async () => {
    const r = await validate();
    expect(r).toEqual({ code: 2, stdout: [], stderr: ["usage: npm run validate -- <stack name | path to a stack file>"] });
  });
});

describe("the functions behind the CLI", () => {
  it("resolveStackFile: a stack name is Pulumi.<name>.yaml at the root, anything path-like a path", () => {
    expect(resolveStackFile("matrix", "/repo", "/cwd")).toBe("/repo/Pulumi.matrix.yaml");
    expect(resolveStackFile("tests/fixtures/bad.yaml", "/repo", "/cwd")).toBe("/cwd/tests/fixtures/bad.yaml");
    expect(resolveStackFile("Pulumi.x.yaml", "/repo", "/cwd")).toBe("/cwd/Pulumi.x.yaml");
    expect(resolveStackFile("/abs/Pulumi.y.yaml", "/repo", "/cwd")).toBe("/abs/Pulumi.y.yaml");
  });

  it("validateStackFile on a fixture: the parsed environment and its summary", () => {
    const r = validateStackFile("tests/fixtures/minimal.yaml", ROOT, ROOT);
    expect(r.issues).toEqual([]);
    expect(r.environment?.ssh.useAgent).toBe(true);
    expect(summary(r.environment!)).toBe("lab: OK — 1 node, 1 network, no cluster");
  });

  it("main() prints through the given writers", () => {
    const out: string[] = [];
    const err: string[] = [];
    expect(main(["tests/fixtures/minimal.yaml"], (l) => out.push(l), (l) => err.push(l))).toBe(0);
    expect([out, err]).toEqual([
      ["lab: OK — 1 node, 1 network, no cluster"],
      [
        "warning: nodes[0].insecureIgnoreHostKey: true; the host key is not checked, so anyone on the network path " +
          "can impersonate alpha (pin it: npm run host-keys -- <stack>)",
      ],
    ]);
  });

  it("secure values count as present; a missing key, plain text and unknown homelab: keys are reported", () => {
    const text = (secrets: string, extra = "") =>
      [
        "config:",
        extra,
        "  homelab:environment:",
        "    name: lab",
        "    networks: [{ name: lan, cidr: 10.1.0.0/24 }]",
        "    nodes:",
        "      - name: alpha",
        "        address: 10.1.0.10",
        "        insecureIgnoreHostKey: true",
        "        interfaces: [{ type: nic, name: eno1, network: lan, address: 10.1.0.10 }]",
        secrets,
      ].join("\n");
    const secure = "  homelab:secrets:\n    sshPrivateKey:\n      secure: v1:abc:def";
    expect(validateStackText(text(secure), "/x/Pulumi.lab.yaml").issues).toEqual([]);
    expect(validateStackText(text(""), "/x/Pulumi.lab.yaml").issues).toEqual([
      "secrets.sshPrivateKey: missing; set it with `pulumi config set --secret --path secrets.sshPrivateKey < ~/.ssh/id_ed25519`, " +
        "or set ssh.useAgent: true",
    ]);
    expect(
      validateStackText(
        text("  homelab:secrets:\n    sshPrivateKey: { secure: v1:abc }\n    rootPasswords:\n      alpha: hunter2", "  homelab:nodes: 3"),
        "/x/Pulumi.lab.yaml",
      ).issues,
    ).toEqual([
      "homelab:nodes: unknown config key; the whole environment sits under homelab:environment (secrets under homelab:secrets)",
      "secrets.rootPasswords.alpha: must be set with pulumi config set --secret (it is stored in plain text)",
    ]);
  });

  it("YAML errors and a file without config: are reported with the file name", () => {
    expect(validateStackText("config:\n  a: 1\n  a: 2\n", "/x/Pulumi.dup.yaml").issues).toEqual([
      "Pulumi.dup.yaml: Map keys must be unique at line 3, column 3:",
    ]);
    expect(validateStackText("encryptionsalt: v1:x\n", "/x/Pulumi.empty.yaml").issues).toEqual([
      "Pulumi.empty.yaml: no config: mapping (a stack file has a top-level config: with homelab:environment in it)",
    ]);
    expect(validateStackText("config: {}\n", "/x/Pulumi.none.yaml").issues).toEqual([
      "homelab:environment: missing; the whole environment sits under this config key",
      "secrets.sshPrivateKey: missing; set it with `pulumi config set --secret --path secrets.sshPrivateKey < ~/.ssh/id_ed25519`, " +
        "or set ssh.useAgent: true",
    ]);
  });
  it("a file that expands too many aliases is one line with the file name, not a stack trace", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    const text = `config:\n  homelab:environment:\n    name: bomb\n${levels.map((l) => `  ${l}`).join("\n")}\n`;
    const result = validateStackText(text, "/x/Pulumi.bomb.yaml");
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatch(/^Pulumi\.bomb\.yaml: too many YAML aliases \(.*alias.*\); write the values out instead of nesting aliases$/i);
    expect(result.environment).toBeUndefined();
  });
});
