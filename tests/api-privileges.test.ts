/**
 * Pure parts of API access: privilege sets per Proxmox VE major version, their
 * validation, and the parsers of pveum's JSON and error texts.
 */
import { describe, expect, it } from "vitest";
import {
  invalidPrivileges,
  isNoSuchToken,
  isNoSuchUser,
  isRegenerateUnsupported,
  isRoleExists,
  isTokenExists,
  isUserExists,
  parseAclList,
  parseRoleList,
  parseTokenAdd,
  parseTokenList,
  parseTokenRegenerate,
  parseUserList,
} from "../infra/parse/pveum";
import {
  DEFAULT_AUTOMATION_PRIVILEGES,
  PVE_PRIVILEGES,
  assertValidPrivileges,
  defaultAutomationPrivileges,
  normalizePrivileges,
  validatePrivileges,
  validateRoleName,
} from "../infra/pve-privileges";
import { rotationOf, tokenComment } from "../infra/providers/proxmox/api-token";

describe("privilege sets", () => {
  it("PVE 9 removed VM.Monitor and added the guest agent privileges and VM.Replicate", () => {
    const v8 = new Set(PVE_PRIVILEGES[8]);
    const v9 = new Set(PVE_PRIVILEGES[9]);
    expect([...v8].filter((p) => !v9.has(p))).toEqual(["VM.Monitor"]);
    expect([...v9].filter((p) => !v8.has(p)).sort()).toEqual([
      "VM.GuestAgent.Audit",
      "VM.GuestAgent.FileRead",
      "VM.GuestAgent.FileSystemMgmt",
      "VM.GuestAgent.FileWrite",
      "VM.GuestAgent.Unrestricted",
      "VM.Replicate",
    ]);
  });

  it("lists are sorted and free of duplicates", () => {
    for (const list of [...Object.values(PVE_PRIVILEGES), ...Object.values(DEFAULT_AUTOMATION_PRIVILEGES)]) {
      expect([...list]).toEqual(normalizePrivileges([...list]));
    }
  });

  it("each default automation list is valid for its own version and covers VMs, storage, Ceph, HA and SDN", () => {
    for (const major of [8, 9]) {
      const privs = defaultAutomationPrivileges(major);
      expect(validatePrivileges(privs, major)).toEqual([]);
      for (const needed of ["VM.Allocate", "VM.Clone", "Datastore.AllocateSpace", "Sys.Modify", "Sys.Console", "SDN.Allocate", "SDN.Use"]) {
        expect(privs).toContain(needed);
      }
    }
    expect(defaultAutomationPrivileges(8)).toContain("VM.Monitor");
    expect(defaultAutomationPrivileges(9)).not.toContain("VM.Monitor");
    expect(defaultAutomationPrivileges(9)).toContain("VM.GuestAgent.Audit");
    // the PVE 8 default is not valid on 9 and vice versa: a version switch must change the role
    expect(validatePrivileges(defaultAutomationPrivileges(8), 9)).not.toEqual([]);
    expect(validatePrivileges(defaultAutomationPrivileges(9), 8)).not.toEqual([]);
  });
});

describe("validatePrivileges", () => {
  it("names the privilege, the version and the replacement", () => {
    expect(validatePrivileges(["VM.Audit", "VM.Monitor"], 9)).toEqual([
      'privilege "VM.Monitor" does not exist on Proxmox VE 9; remove it or use VM.GuestAgent.Audit',
    ]);
    expect(validatePrivileges(["VM.GuestAgent.Audit", "VM.Replicate"], 8)).toEqual([
      'privilege "VM.GuestAgent.Audit" does not exist on Proxmox VE 8; remove it or use VM.Monitor',
      'privilege "VM.Replicate" does not exist on Proxmox VE 8; remove it or use Datastore.Allocate',
    ]);
  });

  it("accepts valid lists, including pveum's comma/space separated form", () => {
    expect(validatePrivileges(["VM.Monitor", "Sys.Audit"], 8)).toEqual([]);
    expect(validatePrivileges(["VM.Audit,Sys.Audit Datastore.Audit;Pool.Audit"], 9)).toEqual([]);
  });

  it("suggests the nearest name for a typo or a wrong case", () => {
    expect(validatePrivileges(["vm.audit"], 9)[0]).toBe('privilege "vm.audit" does not exist on Proxmox VE 9; remove it or use VM.Audit');
    expect(validatePrivileges(["VM.Config.Disks"], 8)[0]).toMatch(/use VM\.Config\.Disk$/);
    expect(validatePrivileges(["Totally.Unrelated.Thing"], 8)[0]).toMatch(/^privilege "Totally.Unrelated.Thing" does not exist on Proxmox VE 8; remove it \(valid privileges: /);
  });

  it("reports each bad privilege once", () => {
    expect(validatePrivileges(["VM.Monitor", "VM.Monitor"], 9)).toHaveLength(1);
  });

  it("refuses versions whose privileges are unknown", () => {
    expect(validatePrivileges(["VM.Audit"], 7)).toEqual(["the privileges of Proxmox VE 7 are not known (known: 8, 9); add them to infra/pve-privileges.ts"]);
    expect(() => defaultAutomationPrivileges(10)).toThrow("the privileges of Proxmox VE 10 are not known");
  });

  it("assertValidPrivileges prefixes the role", () => {
    expect(() => assertValidPrivileges("Automation", ["VM.Monitor"], 9)).toThrow(
      'role Automation: privilege "VM.Monitor" does not exist on Proxmox VE 9; remove it or use VM.GuestAgent.Audit',
    );
    expect(() => assertValidPrivileges("Automation", ["VM.Monitor"], 8)).not.toThrow();
  });

  it("role names follow pveum's rules", () => {
    expect(validateRoleName("Automation")).toBeUndefined();
    expect(validateRoleName("PVEAutomation")).toMatch(/reserved by Proxmox/);
    expect(validateRoleName("pveThing")).toMatch(/reserved by Proxmox/);
    expect(validateRoleName("Administrator")).toMatch(/built-in/);
    expect(validateRoleName("bad name")).toMatch(/invalid characters/);
  });
});

describe("pveum JSON parsers", () => {
  it("role list: privileges split and sorted, special as boolean", () => {
    const roles = parseRoleList(
      '[{"privs":"VM.Audit,Sys.Audit","roleid":"Automation","special":0},{"privs":"","roleid":"NoAccess","special":1}]\n',
      "n",
    );
    expect(roles).toEqual([
      { roleid: "Automation", privs: ["Sys.Audit", "VM.Audit"], special: false },
      { roleid: "NoAccess", privs: [], special: true },
    ]);
  });

  it("user list", () => {
    const users = parseUserList('[{"comment":"c","enable":1,"expire":0,"realm-type":"pve","userid":"automation@pve"},{"enable":0,"userid":"x@pve"}]', "n");
    expect(users).toEqual([
      { userid: "automation@pve", enable: true, expire: 0, comment: "c" },
      { userid: "x@pve", enable: false, expire: 0, comment: undefined },
    ]);
  });

  it("acl list (verbatim shape from a fixture)", () => {
    const acl = parseAclList('[{"path":"/","propagate":1,"roleid":"BoetticherProvisioner","type":"token","ugid":"labadmin@pve!boetticher"}]', "n");
    expect(acl).toEqual([{ path: "/", type: "token", ugid: "labadmin@pve!boetticher", roleid: "BoetticherProvisioner", propagate: true }]);
    expect(() => parseAclList('[{"path":"/","type":"alien","ugid":"x","roleid":"R"}]', "n")).toThrow(/unknown type "alien"/);
  });

  it("token list (verbatim, privsep as number)", () => {
    const tokens = parseTokenList(
      '[{"expire":0,"privsep":1,"tokenid":"pveexporter"},{"expire":0,"privsep":0,"tokenid":"homarr"},{"comment":"Terraform User","expire":0,"privsep":0,"tokenid":"terraform"}]',
      "n",
    );
    expect(tokens.map((t) => [t.tokenid, t.privsep, t.comment])).toEqual([
      ["pveexporter", true, undefined],
      ["homarr", false, undefined],
      ["terraform", false, "Terraform User"],
    ]);
  });

  it("token add: info.privsep comes back as a string", () => {
    const t = parseTokenAdd('{"full-tokenid":"probe@pve!vault","info":{"privsep":"0"},"value":"11111111-2222-4333-8444-555555555555"}\n', "n");
    expect(t).toEqual({ fullTokenId: "probe@pve!vault", value: "11111111-2222-4333-8444-555555555555", privsep: false });
    expect(parseTokenAdd('{"full-tokenid":"a@pve!b","info":{"privsep":"1"},"value":"v"}', "n").privsep).toBe(true);
    expect(parseTokenAdd('{"full-tokenid":"a@pve!b","info":{"privsep":1},"value":"v"}', "n").privsep).toBe(true);
  });

  it("token modify --regenerate: flat object", () => {
    const t = parseTokenRegenerate('{"expire":0,"full-tokenid":"user@pve!tok","privsep":0,"value":"abc"}', "n");
    expect(t).toEqual({ fullTokenId: "user@pve!tok", value: "abc", privsep: false });
  });

  it("never echoes token output in its errors", () => {
    const secret = "99999999-aaaa-4bbb-8ccc-dddddddddddd";
    expect(() => parseTokenAdd(`not json ${secret}`, "n")).toThrow(/did not print JSON/);
    try {
      parseTokenAdd(`{"value":"${secret}" broken`, "n");
    } catch (e) {
      expect((e as Error).message).not.toContain(secret);
    }
    expect(() => parseTokenAdd(`{"value":"${secret}"}`, "n")).toThrow(/printed no full-tokenid/);
    try {
      parseTokenAdd(`{"value":"${secret}"}`, "n");
    } catch (e) {
      expect((e as Error).message).not.toContain(secret);
    }
  });

  it("names the node and the command when a list is not JSON", () => {
    expect(() => parseRoleList("┌──", "golf")).toThrow('golf: pveum role list did not print JSON: "┌──"');
  });
});

describe("pveum error texts (pve-cli.md §4, Appendix A rows 14-16)", () => {
  it("recognises the exact texts", () => {
    expect(isUserExists("create user failed: user 'automation@pve' already exists\n")).toBe(true);
    expect(isRoleExists("create role failed: role 'Provisioner' already exists\n")).toBe(true);
    expect(isTokenExists("400 Parameter verification failed.\ntokenid: Token already exists.\npveum user token add <userid> <tokenid> [OPTIONS] [FORMAT_OPTIONS]\n")).toBe(true);
    expect(isTokenExists("generating token failed: Token already exists.\n")).toBe(true);
    expect(isNoSuchUser("no such user ('x@pve')\n")).toBe(true);
    expect(isNoSuchToken("ACL update failed: no such token 't' for user 'u@pve'\n")).toBe(true);
    expect(isRegenerateUnsupported("Unknown option: regenerate\n400 unable to parse option\npveum user token modify <userid> <tokenid> [OPTIONS] [FORMAT_OPTIONS]\n")).toBe(true);
  });

  it("does not confuse them", () => {
    expect(isUserExists("create role failed: role 'x' already exists")).toBe(false);
    expect(isRoleExists("create user failed: user 'x@pve' already exists")).toBe(false);
    expect(isTokenExists("no such user ('x@pve')")).toBe(false);
    expect(isRegenerateUnsupported("no such token 't' for user 'u@pve'")).toBe(false);
  });

  it("extracts rejected privileges from both the real and the reconstructed form", () => {
    expect(invalidPrivileges("400 Parameter verification failed.\nprivs: invalid format - invalid privilege 'VM.Monitor'\npveum role add <roleid> [OPTIONS]\n")).toEqual([
      "VM.Monitor",
    ]);
    expect(invalidPrivileges("create role failed: invalid privilege 'Sys.AccessNetwork'\n")).toEqual(["Sys.AccessNetwork"]);
    expect(invalidPrivileges("create role failed: role 'x' already exists")).toEqual([]);
  });
});

describe("token comment rotation marker", () => {
  it("round-trips", () => {
    expect(tokenComment("")).toBe("managed by homelab");
    expect(tokenComment("2026-11")).toBe("managed by homelab; rotation 2026-11");
    expect(rotationOf(tokenComment("2026-11"))).toBe("2026-11");
    expect(rotationOf(tokenComment(""))).toBe("");
    expect(rotationOf(undefined)).toBe("");
    expect(rotationOf("Terraform User")).toBe("");
  });
});
