/**
 * The ApiAccess component under Pulumi mocks: what it registers, the order it
 * enforces, and that the token secret stays secret all the way into the
 * native provider.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, it } from "vitest";
import { API_ACCESS_TYPE, ApiAccess, ApiAccessArgs, apiAccessProblems, apiEndpoint } from "../components/api-access";
import { allStrings, isSecretValue, runStack, StackRun, StateFor, stubProviderSerialization } from "./helpers/pulumi-mocks";

const TOKEN_VALUE = "mock-token-0b5e2d6c-1111-4222-8333-444455556666";
const SSH_KEY = "fake-ssh-private-key-for-mock-tests";

/*
 * A dynamic resource serializes its provider when it is constructed. Under
 * vitest that fails: vite rewrites the providers' `await import("ssh2")` into a
 * `__vite_ssr_dynamic_import__` closure the serializer cannot capture (it works
 * under ts-node, as `pulumi up` and tests/api-access.test.ts's serialization
 * tests show). This file is about registrations, so the serializer is stubbed
 * here, and only here.
 */
stubProviderSerialization();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-access-mocks-"));
const stackFile = path.join(dir, "Pulumi.apitest.yaml");
fs.writeFileSync(stackFile, "config: {}\n");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What the providers would report, per dynamic resource type. */
const stateFor: StateFor = (type, _name, inputs) => {
  switch (type) {
    case "pulumi-nodejs:dynamic/proxmox:PveRole":
      return { ...inputs, pveMajor: 9, effectivePrivileges: ["VM.Audit"] };
    case "pulumi-nodejs:dynamic/proxmox:PveUser":
      return { ...inputs, enabled: true, aclRoles: [inputs.roleName] };
    case "pulumi-nodejs:dynamic/proxmox:PveApiToken":
      return { ...inputs, tokenId: `${inputs.userid}!${inputs.tokenName}`, tokenValue: TOKEN_VALUE, tokenAclRoles: [inputs.roleName] };
    default:
      return inputs;
  }
};

const baseArgs: ApiAccessArgs = {
  access: { connection: { node: "foxtrot", host: "10.0.0.11", port: 22, user: "root", hostKey: "SHA256:abc" }, sshPrivateKey: pulumi.secret(SSH_KEY) },
};

let access: ApiAccess | undefined;

function program(args: ApiAccessArgs = baseArgs) {
  return () => {
    access = new ApiAccess("lab-api", args);
    return { tokenId: access.tokenId, tokenSecret: access.tokenSecret, endpoint: access.endpoint };
  };
}

let cached: StackRun | undefined;
async function run(): Promise<StackRun> {
  if (!cached) {
    cached = await runStack(stackFile, program(), stateFor);
    // runStack returns once the stack outputs resolve; the provider registers once its
    // inputs (the token) resolve, which may be a few ticks later.
    for (let i = 0; i < 100 && cached.byType("pulumi:providers:proxmoxve").length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  }
  return cached;
}

/** Registration URNs carry the parent type chain (`...::pulumi:pulumi:Stack$homelab:proxmox:ApiAccess::lab-api`). */
const urnOf = (type: string, name: string) => expect.stringMatching(new RegExp(`[:$]${type.replace(/[.$/]/g, "\\$&")}::${name}$`));

describe("ApiAccess under mocks", () => {
  it("registers role, user and token as children, in that order", async () => {
    const r = await run();
    const component = r.byName("lab-api");
    expect(component.type).toBe(API_ACCESS_TYPE);
    const role = r.byName("lab-api-role");
    const user = r.byName("lab-api-user");
    const token = r.byName("lab-api-token");
    expect(role.type).toBe("pulumi-nodejs:dynamic/proxmox:PveRole");
    expect(user.type).toBe("pulumi-nodejs:dynamic/proxmox:PveUser");
    expect(token.type).toBe("pulumi-nodejs:dynamic/proxmox:PveApiToken");
    for (const child of [role, user, token]) expect(child.parent).toEqual(urnOf(component.type, "lab-api"));
    expect(user.dependsOn).toContainEqual(urnOf(role.type, "lab-api-role"));
    expect(token.dependsOn).toContainEqual(urnOf(user.type, "lab-api-user"));
    expect(token.rawInputs).toMatchObject({ userid: "automation@pve", tokenName: "pulumi", roleName: "Automation", privsep: true, aclPath: "/", rotation: "" });
    expect(token.additionalSecretOutputs).toEqual(expect.arrayContaining(["tokenValue", "sshPrivateKey"]));
    for (const child of [role, user, token]) expect(isSecretValue(child.rawInputs.sshPrivateKey), child.name).toBe(true);
    // no explicit privileges: the provider picks the list of the detected version
    expect(role.rawInputs.privileges).toBeUndefined();
  });

  it("registers a proxmoxve provider whose apiToken is secret and which waits for the token", async () => {
    const r = await run();
    const providers = r.byType("pulumi:providers:proxmoxve");
    expect(providers).toHaveLength(1);
    const p = providers[0];
    expect(p.name).toBe("lab-api-provider");
    expect(p.parent).toEqual(urnOf(API_ACCESS_TYPE, "lab-api"));
    expect(isSecretValue(p.rawInputs.apiToken)).toBe(true);
    expect((p.rawInputs.apiToken as { value: string }).value).toBe(`automation@pve!pulumi=${TOKEN_VALUE}`);
    expect(p.rawInputs.endpoint).toBe("https://10.0.0.11:8006/");
    expect(p.rawInputs.insecure).toBe("false");
    for (const dep of ["lab-api-token", "lab-api-user", "lab-api-role"]) expect(p.dependsOn).toContainEqual(urnOf(r.byName(dep).type, dep));
  });

  it("hands the native provider no SSH (no root key, no trust-on-first-use of host keys)", async () => {
    const r = await run();
    const [p] = r.byType("pulumi:providers:proxmoxve");
    expect(p.rawInputs.ssh).toBeUndefined();
    // not even inside a secret: the key is nowhere in the provider's inputs
    expect(JSON.stringify(p.rawInputs)).not.toContain(SSH_KEY);
    expect(JSON.stringify(p.rawInputs)).not.toMatch(/privateKey|agentSocket/);
  });

  it("outputs the token id in clear and the token secret as a secret", async () => {
    const r = await run();
    expect(r.outputs.tokenId).toBe("automation@pve!pulumi");
    expect(r.outputs.tokenSecret).toBe(`automation@pve!pulumi=${TOKEN_VALUE}`);
    expect(await pulumi.isSecret(access!.tokenId)).toBe(false);
    expect(await pulumi.isSecret(access!.tokenSecret)).toBe(true);
  });

  it("never shows the token secret or the SSH key outside a secret wrapper", async () => {
    const r = await run();
    const unwrap = (v: unknown): unknown => {
      if (isSecretValue(v)) return undefined;
      if (Array.isArray(v)) return v.map(unwrap);
      if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
      return v;
    };
    for (const reg of r.registrations) {
      const leaked = allStrings(unwrap(reg.rawInputs)).filter((s) => s.includes(TOKEN_VALUE) || s.includes(SSH_KEY));
      expect(leaked, `${reg.type} ${reg.name}`).toEqual([]);
    }
    // the component's own stored inputs are a non-secret summary
    expect(r.byName("lab-api").rawInputs).toEqual({ node: "foxtrot", userid: "automation@pve", tokenName: "pulumi", roleName: "Automation" });
  });
});

describe("ApiAccess argument checks", () => {
  it("brackets IPv6 endpoints", () => {
    expect(apiEndpoint("fd00::11", 8006)).toBe("https://[fd00::11]:8006/");
    expect(apiEndpoint("pve.example.net", 443)).toBe("https://pve.example.net:443/");
  });

  it("rejects PVE 8 privileges for a PVE 9 cluster, naming the privilege and the version", () => {
    expect(apiAccessProblems({ ...baseArgs, pveMajor: 9, privileges: ["VM.Audit", "VM.Monitor"] })).toEqual([
      'role Automation: privilege "VM.Monitor" does not exist on Proxmox VE 9; remove it or use VM.GuestAgent.Audit',
    ]);
    expect(apiAccessProblems({ ...baseArgs, pveMajor: 8, privileges: ["VM.Audit", "VM.Monitor"] })).toEqual([]);
    // without a known version the check is left to the provider, which detects it on the node
    expect(apiAccessProblems({ ...baseArgs, privileges: ["VM.Monitor"] })).toEqual([]);
  });

  it("rejects a reserved role name, a malformed user id, a bad port and a bad rotation", () => {
    expect(apiAccessProblems({ ...baseArgs, roleName: "PVEAutomation", userid: "automation", apiPort: 70000, rotation: "next year" })).toEqual([
      'user id "automation" is not of the form name@realm (e.g. automation@pve)',
      'role PVEAutomation: names starting with "PVE" (any case) are reserved by Proxmox; choose another name',
      "apiPort 70000 is not a TCP port (1-65535)",
      'rotation "next year" may only hold letters, digits, ".", "_", ":", "-" (at most 64)',
    ]);
    expect(apiAccessProblems(baseArgs)).toEqual([]);
  });
});
