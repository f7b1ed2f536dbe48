/**
 * Unsafe settings and placeholders left from the reference stack files are
 * warned about, with their paths, by validate and by the program at run time;
 * they never fail validation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { runProgram } from "../stacks/program";
import { validateStackText } from "../stacks/stack-file";
import { REFERENCE_PLACEHOLDERS } from "../stacks/warnings";
import { runStack } from "./helpers/pulumi-mocks";

const ROOT = path.resolve(__dirname, "..");
const read = (stack: string) => fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");

describe("warnings", () => {
  it("every placeholder the reference stack files carry is known (so a copied file is warned about)", () => {
    for (const stack of ["matrix", "ms01"]) {
      const text = read(stack);
      const known = Object.values(REFERENCE_PLACEHOLDERS).flat() as string[];
      const hostKeys = [...text.matchAll(/hostKey: (SHA256:\S+)/g)].map((m) => m[1]);
      const secure = [...text.matchAll(/secure: (v1:\S+)/g)].map((m) => m[1]);
      const salt = /^encryptionsalt: (\S+)$/m.exec(text)?.[1];
      const keys = [...text.matchAll(/ssh-ed25519 (\S+)/g)].map((m) => m[1]);
      expect([hostKeys.length, keys.length > 0, secure.length > 0, salt !== undefined]).toEqual([3, true, true, true]);
      for (const v of [...hostKeys, ...secure, salt!, ...keys]) expect(known, `${stack}: ${v}`).toContain(v);
    }
    // The inventory's other clusters (no VMs, so no public keys; nexus pins its QDevice host too).
    for (const [stack, pins] of [["doggos", 3], ["nexus", 3]] as const) {
      const text = read(stack);
      const known = Object.values(REFERENCE_PLACEHOLDERS).flat() as string[];
      const hostKeys = [...text.matchAll(/hostKey: (SHA256:\S+)/g)].map((m) => m[1]);
      const secure = [...text.matchAll(/secure: (v1:\S+)/g)].map((m) => m[1]);
      const salt = /^encryptionsalt: (\S+)$/m.exec(text)?.[1];
      expect([hostKeys.length, secure.length > 0, salt !== undefined]).toEqual([pins, true, true]);
      for (const v of [...hostKeys, ...secure, salt!]) expect(known, `${stack}: ${v}`).toContain(v);
    }
  });

  it("insecure settings and placeholders are warnings with paths; the file stays valid", () => {
    const text = read("matrix")
      .replace("tokenName: pulumi", "tokenName: pulumi\n      insecureTls: true")
      .replace(/hostKey: SHA256:BwQApq\S+/, "insecureIgnoreHostKey: true");
    const result = validateStackText(text, "/x/Pulumi.matrix.yaml");
    expect(result.issues).toEqual([]);
    expect(result.environment).toBeDefined();
    expect(result.warnings).toEqual(
      expect.arrayContaining([
        "encryptionsalt: the reference stack files' dummy salt; delete the line, run `pulumi stack init <stack> --secrets-provider passphrase` " +
          "(it writes a new salt) and set every secret again",
        "secrets.sshPrivateKey: placeholder ciphertext from the reference stack files; set it with pulumi config set --secret",
        "nodes[0].insecureIgnoreHostKey: true; the host key is not checked, so anyone on the network path can impersonate foxtrot " +
          "(pin it: npm run host-keys -- <stack>)",
        "nodes[1].hostKey: the placeholder from the reference stack files, not this node's key; get the real one with npm run host-keys -- <stack>",
        "apiAccess.insecureTls: true; the API certificate is not checked, so anyone on the network path can take the API token; instead run npm run trust-ca -- <stack> (npm run homelab then sets SSL_CERT_FILE)",
        "vms[0].cloudInit.sshKeys[0]: a placeholder public key from the reference stack files; put your own public key here",
      ]),
    );
    expect(result.warnings!.some((w) => w.startsWith("nodes[0].hostKey"))).toBe(false);
  });

  it("a stack file with real values and pins has no warnings", () => {
    const text = [
      "encryptionsalt: v1:c29tZXNhbHQ=:v1:abc:def",
      "config:",
      "  homelab:environment:",
      "    name: lab",
      "    ssh: { useAgent: true }",
      "    networks: [{ name: lan, cidr: 10.1.0.0/24, gateway: 10.1.0.1 }]",
      "    nodes:",
      `      - { name: alpha, address: 10.1.0.10, hostKey: "SHA256:${"b".repeat(43)}", interfaces: [{ type: nic, name: eno1 }, { type: bridge, name: vmbr0, ports: [eno1], network: lan, address: 10.1.0.10 }] }`,
      "",
    ].join("\n");
    const result = validateStackText(text, "/x/Pulumi.lab.yaml");
    expect(result.issues).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it("the program warns at run time through pulumi.log.warn", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue();
    await runStack(path.join(ROOT, "tests/fixtures/minimal.yaml"), runProgram);
    expect(warn.mock.calls.map((c) => c[0])).toContain(
      "nodes[0].insecureIgnoreHostKey: true; the host key is not checked, so anyone on the network path can impersonate alpha " +
        "(pin it: npm run host-keys -- <stack>)",
    );
  });
});
