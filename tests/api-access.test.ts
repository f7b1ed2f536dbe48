/**
 * API access providers (PveRole, PveUser, PveApiToken) against the simulated
 * cluster over real SSH: idempotence (a second run runs no pveum write),
 * version-matched privileges, lost-state and rotation handling of the token
 * secret, drift on refresh, delete, and the serialized providers.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAutomationPrivileges } from "../infra/pve-privileges";
import { PVE_API_TOKEN_PROVIDER_VERSION, PveApiTokenInputs, PveApiTokenOutputs, pveApiTokenProvider } from "../infra/providers/proxmox/api-token";
import { PVE_ROLE_PROVIDER_VERSION, PveRoleInputs, PveRoleOutputs, pveRoleProvider } from "../infra/providers/proxmox/api-role";
import { DEFAULT_USER_COMMENT, PVE_USER_PROVIDER_VERSION, PveUserInputs, PveUserOutputs, pveUserProvider } from "../infra/providers/proxmox/api-user";
import { UNKNOWN } from "../infra/providers/proxmox/api-pveum";
import type { ConnectionArgs } from "../infra/providers/connection";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { simConnection } from "./helpers/sim-connection";

let sim: SimCluster;

/** Typed access to a provider's methods (the SDK types every result as optional). */
function driver<I, O>(p: pulumi.dynamic.ResourceProvider<I, O>) {
  return {
    create: async (i: I) => {
      const r = await p.create!(i);
      return { id: r.id, outs: r.outs as O };
    },
    read: async (id: string, props: O) => {
      const r = await p.read!(id, props);
      return { id: r.id ?? "", props: r.props as O };
    },
    diff: (id: string, olds: O, news: I) => p.diff!(id, olds, news),
    update: async (id: string, olds: O, news: I) => ({ outs: (await p.update!(id, olds, news)).outs as O }),
    delete: (id: string, props: O) => p.delete!(id, props),
  };
}

const roles = driver<PveRoleInputs, PveRoleOutputs>(pveRoleProvider);
const users = driver<PveUserInputs, PveUserOutputs>(pveUserProvider);
const tokens = driver<PveApiTokenInputs, PveApiTokenOutputs>(pveApiTokenProvider);

/** Every command any test ran (the log is cleared between steps). */
const fullLog: string[] = [];
/** Every token secret any test saw. */
const secretsSeen: string[] = [];
/** Every error message any test saw. */
const errorsSeen: string[] = [];
/** Every output object any test saw. */
const outputsSeen: Record<string, unknown>[] = [];

function clearLog(): void {
  fullLog.push(...sim.commandLog().map((e) => e.command));
  sim.clearLog();
}

function conn(name: string): ConnectionArgs {
  return simConnection(sim, name);
}

const role = (node: string, extra: Partial<PveRoleInputs> = {}): PveRoleInputs => ({
  ...conn(node),
  providerVersion: PVE_ROLE_PROVIDER_VERSION,
  roleName: "Automation",
  ...extra,
});

const user = (node: string, extra: Partial<PveUserInputs> = {}): PveUserInputs => ({
  ...conn(node),
  providerVersion: PVE_USER_PROVIDER_VERSION,
  userid: "automation@pve",
  roleName: "Automation",
  aclPath: "/",
  comment: DEFAULT_USER_COMMENT,
  ...extra,
});

const token = (node: string, extra: Partial<PveApiTokenInputs> = {}): PveApiTokenInputs => ({
  ...conn(node),
  providerVersion: PVE_API_TOKEN_PROVIDER_VERSION,
  userid: "automation@pve",
  tokenName: "pulumi",
  privsep: true,
  roleName: "Automation",
  aclPath: "/",
  rotation: "",
  ...extra,
});

/** Commands, optionally of one node. */
function commands(node?: string): string[] {
  return sim
    .commandLog()
    .filter((e) => node === undefined || e.node === node)
    .map((e) => e.command);
}

/** pveum writes: add, modify, delete, remove of users, tokens, roles, ACLs. */
function pveumWrites(node?: string): string[] {
  return commands(node).filter((c) => /\bpveum (?:user token|user|role|acl) (?:add|modify|delete|remove)\b/.test(c));
}

interface SimAccessDb {
  users: Record<string, { enable: number; comment?: string; tokens: Record<string, { privsep: number; comment?: string; tokenHash: string }> }>;
  roles: Record<string, string[]>;
  acl: { path: string; type: string; ugid: string; roleid: string; propagate: number }[];
}

function db(node: string, key = `node:${node}`): SimAccessDb {
  const state = sim.readState() as unknown as { access?: { dbs: Record<string, SimAccessDb> } };
  const d = state.access?.dbs[key];
  if (!d) throw new Error(`no access db ${key}`);
  return d;
}

const sha256 = (v: string) => createHash("sha256").update(v).digest("hex");

/** The secret the node would accept for a token, checked against its stored hash. */
function tokenAccepts(node: string, userid: string, tokenName: string, value: string): boolean {
  const t = db(node).users[userid]?.tokens[tokenName];
  return !!t && t.tokenHash === sha256(value);
}

function seen(outs: object): void {
  const o = outs as Record<string, unknown>;
  outputsSeen.push(o);
  if (typeof o.tokenValue === "string" && o.tokenValue !== "") secretsSeen.push(o.tokenValue);
}

async function expectError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const msg = (e as Error).message;
    errorsSeen.push(msg);
    return msg;
  }
  throw new Error("expected a failure");
}

async function createAll(node: string, tok: Partial<PveApiTokenInputs> = {}) {
  const r = await roles.create(role(node));
  const u = await users.create(user(node));
  const t = await tokens.create(token(node, tok));
  seen(t.outs);
  return { r, u, t };
}

beforeAll(async () => {
  sim = await startSimCluster([
    { name: "eight", pveVersion: "8.4.14" },
    { name: "nine", pveVersion: "9.2.2" },
    { name: "eightone", pveVersion: "8.1.4" },
    { name: "upgrade", pveVersion: "8.4.14" },
    { name: "ca", pveVersion: "8.4.14" },
    { name: "cb", pveVersion: "8.4.14" },
  ]);
});

afterAll(async () => {
  await sim?.stop();
});

describe("role, user, ACL and token", () => {
  it("are created once; a second run (update, or create with lost state) runs no pveum write", async () => {
    clearLog();
    const { r, u, t } = await createAll("eight");
    expect(r.id).toBe("Automation");
    expect(r.outs.pveMajor).toBe(8);
    expect(r.outs.effectivePrivileges).toEqual(defaultAutomationPrivileges(8));
    expect(u.outs.aclRoles).toEqual(["Automation"]);
    expect(t.id).toBe("automation@pve!pulumi");
    expect(t.outs.tokenId).toBe("automation@pve!pulumi");
    expect(t.outs.tokenValue).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(tokenAccepts("eight", "automation@pve", "pulumi", t.outs.tokenValue)).toBe(true);
    expect(t.outs.tokenAclRoles).toEqual(["Automation"]);

    const writes = pveumWrites("eight");
    expect(writes).toHaveLength(5);
    expect(writes[0]).toMatch(/^LC_ALL=C pveum role add Automation --privs /);
    expect(writes[1]).toMatch(/pveum user add automation@pve --comment /);
    expect(writes[2]).toBe("LC_ALL=C pveum acl modify / --users automation@pve --roles Automation --propagate 1");
    expect(writes[3]).toMatch(/pveum user token add automation@pve pulumi --privsep 1 --comment /);
    expect(writes[4]).toBe("LC_ALL=C pveum acl modify / --tokens 'automation@pve!pulumi' --roles Automation --propagate 1");
    const acl = db("eight").acl.map((e) => `${e.path} ${e.type} ${e.ugid} ${e.roleid} ${e.propagate}`);
    expect(acl.sort()).toEqual(["/ token automation@pve!pulumi Automation 1", "/ user automation@pve Automation 1"]);

    clearLog();
    expect((await roles.diff(r.id, r.outs, role("eight"))).changes).toBe(false);
    expect((await users.diff(u.id, u.outs, user("eight"))).changes).toBe(false);
    expect((await tokens.diff(t.id, t.outs, token("eight"))).changes).toBe(false);
    await roles.update(r.id, r.outs, role("eight"));
    await roles.create(role("eight"));
    await users.update(u.id, u.outs, user("eight"));
    await users.create(user("eight"));
    const again = await tokens.update(t.id, t.outs, token("eight"));
    seen(again.outs);
    expect(again.outs.tokenValue).toBe(t.outs.tokenValue);
    expect(commands("eight").filter((c) => c.includes("pveum")).length).toBeGreaterThan(0); // it did look
    expect(pveumWrites()).toEqual([]);
  });

  it("adopts an existing user whose grant is missing with only the missing write", async () => {
    const rest = await sim.exec("eight", "pveum user add adopted@pve --comment 'managed by homelab (Pulumi)'");
    expect(rest.code).toBe(0);
    clearLog();
    await users.create(user("eight", { userid: "adopted@pve" }));
    expect(pveumWrites()).toEqual(["LC_ALL=C pveum acl modify / --users adopted@pve --roles Automation --propagate 1"]);
  });

  it("re-enables a disabled user and restores a revoked grant (drift seen by read)", async () => {
    const u = await users.create(user("eight", { userid: "drift@pve" }));
    expect((await sim.exec("eight", "pveum user modify drift@pve --enable 0 && pveum acl delete / --users drift@pve --roles Automation")).code).toBe(0);
    const read = await users.read(u.id, u.outs);
    expect(read.props).toMatchObject({ enabled: false, aclRoles: [] });
    expect((await users.diff(u.id, read.props, user("eight", { userid: "drift@pve" }))).changes).toBe(true);
    clearLog();
    await users.update(u.id, read.props, user("eight", { userid: "drift@pve" }));
    expect(pveumWrites()).toEqual([
      "LC_ALL=C pveum user modify drift@pve --enable 1",
      "LC_ALL=C pveum acl modify / --users drift@pve --roles Automation --propagate 1",
    ]);
  });

  it("moves the user's grant when the role changes, revoking the old one", async () => {
    const u = await users.create(user("eight", { userid: "mover@pve" }));
    await roles.create(role("eight", { roleName: "Auditing", privileges: ["Sys.Audit", "VM.Audit"] }));
    const d = await users.diff(u.id, u.outs, user("eight", { userid: "mover@pve", roleName: "Auditing" }));
    expect(d).toMatchObject({ changes: true, replaces: [] });
    clearLog();
    const up = await users.update(u.id, u.outs, user("eight", { userid: "mover@pve", roleName: "Auditing" }));
    expect(up.outs.aclRoles).toEqual(["Auditing"]);
    expect(pveumWrites()).toEqual([
      "LC_ALL=C pveum acl modify / --users mover@pve --roles Auditing --propagate 1",
      "LC_ALL=C pveum acl delete / --users mover@pve --roles Automation",
    ]);
  });
});

describe("privileges per Proxmox VE major version", () => {
  it("a PVE 9 node refuses VM.Monitor at validation and runs no pveum", async () => {
    clearLog();
    const msg = await expectError(roles.create(role("nine", { privileges: defaultAutomationPrivileges(8) })));
    expect(msg).toContain('role Automation: privilege "VM.Monitor" does not exist on Proxmox VE 9; remove it or use VM.GuestAgent.Audit');
    expect(msg).toMatch(/^nine: /);
    expect(commands("nine").some((c) => c.includes("pveversion"))).toBe(true);
    expect(commands("nine").filter((c) => c.includes("pveum"))).toEqual([]);
  });

  it("a PVE 8 node accepts VM.Monitor", async () => {
    const r = await roles.create(role("eight", { roleName: "Monitoring", privileges: ["VM.Monitor", "VM.Audit"] }));
    expect(r.outs.effectivePrivileges).toEqual(["VM.Audit", "VM.Monitor"]);
    expect(db("eight").roles.Monitoring).toEqual(["VM.Audit", "VM.Monitor"]);
  });

  it("without privileges a PVE 9 node gets the PVE 9 default list", async () => {
    const r = await roles.create(role("nine"));
    expect(r.outs.pveMajor).toBe(9);
    expect(r.outs.effectivePrivileges).toEqual(defaultAutomationPrivileges(9));
    expect(r.outs.effectivePrivileges).toContain("VM.GuestAgent.Audit");
    expect(r.outs.effectivePrivileges).not.toContain("VM.Monitor");
  });

  it("a privilege the node's minor version lacks is reported with that version (pveum's own check)", async () => {
    clearLog();
    const msg = await expectError(roles.create(role("eightone", { privileges: ["Sys.Audit", "Sys.AccessNetwork"] })));
    expect(msg).toContain('eightone: role Automation: privilege "Sys.AccessNetwork" does not exist on this node\'s Proxmox VE 8.1.4');
    expect(msg).toContain("privs: invalid format - invalid privilege 'Sys.AccessNetwork'");
    const state = sim.readState() as unknown as { access?: { dbs: Record<string, SimAccessDb> } };
    expect(state.access?.dbs["node:eightone"]?.roles.Automation).toBeUndefined();
  });

  it("after an upgrade to PVE 9, refresh shows the drift and update converges to the PVE 9 list", async () => {
    const r = await roles.create(role("upgrade"));
    expect(r.outs.effectivePrivileges).toContain("VM.Monitor");
    sim.mutateState((s) => {
      s.nodes.upgrade.pveVersion = "9.2.2";
    });
    const read = await roles.read(r.id, r.outs);
    const props = read.props;
    expect(props.pveMajor).toBe(9);
    expect(props.effectivePrivileges).not.toContain("VM.Monitor");
    expect((await roles.diff(r.id, props, role("upgrade"))).changes).toBe(true);
    clearLog();
    const up = await roles.update(r.id, props, role("upgrade"));
    expect(up.outs.effectivePrivileges).toEqual(defaultAutomationPrivileges(9));
    expect(pveumWrites()).toHaveLength(1);
    expect(pveumWrites()[0]).toMatch(/^LC_ALL=C pveum role modify Automation --privs /);
  });

  it("a role deleted by hand is reported gone", async () => {
    await roles.create(role("eight", { roleName: "Ephemeral", privileges: ["VM.Audit"] }));
    expect((await sim.exec("eight", "pveum role delete Ephemeral")).code).toBe(0);
    const read = await roles.read("Ephemeral", { ...role("eight", { roleName: "Ephemeral", privileges: ["VM.Audit"] }), pveMajor: 8, effectivePrivileges: ["VM.Audit"] });
    expect(read.id).toBe("");
  });
});

describe("token secret", () => {
  it("an existing token with lost state fails clearly and is not rotated", async () => {
    const before = db("eight").users["automation@pve"].tokens.pulumi.tokenHash;
    clearLog();
    const msg = await expectError(tokens.create(token("eight")));
    expect(msg).toContain("eight: API token automation@pve!pulumi already exists, but its secret is not in the Pulumi state");
    expect(msg).toContain("set the token's rotation input to a new value");
    expect(msg).toContain("Nothing was changed");
    expect(pveumWrites()).toEqual([]);
    expect(db("eight").users["automation@pve"].tokens.pulumi.tokenHash).toBe(before);
  });

  it("the refusal names the one command that recovers, and the value it suggests works", async () => {
    const msg = await expectError(tokens.create(token("eight")));
    const command = /`pulumi config set --path environment\.apiAccess\.rotation (recover-\d{8}-\d{4})` and then `pulumi up`/.exec(msg);
    expect(command, msg).not.toBeNull();
    const t = await tokens.create(token("eight", { rotation: command![1] }));
    seen(t.outs);
    expect(tokenAccepts("eight", "automation@pve", "pulumi", t.outs.tokenValue)).toBe(true);
    // with that value in place and the state lost again, the next suggestion differs from it
    const again = await expectError(tokens.create(token("eight", { rotation: command![1] })));
    expect(again).toContain(`(currently "${command![1]}")`);
    expect(again).not.toContain(`rotation ${command![1]}\``);
  });

  it("with lost state, a new rotation value is the explicit request to regenerate", async () => {
    const old = db("eight").users["automation@pve"].tokens.pulumi.tokenHash;
    clearLog();
    const t = await tokens.create(token("eight", { rotation: "2026-11" }));
    seen(t.outs);
    expect(sha256(t.outs.tokenValue)).not.toBe(old);
    expect(tokenAccepts("eight", "automation@pve", "pulumi", t.outs.tokenValue)).toBe(true);
    // PVE 8 has no --regenerate: remove + add, then the token's ACL is granted again
    const writes = pveumWrites();
    expect(writes[0]).toMatch(/pveum user token modify automation@pve pulumi --regenerate 1 /);
    expect(writes.slice(1)).toEqual([
      "LC_ALL=C pveum user token remove automation@pve pulumi",
      expect.stringMatching(/pveum user token add automation@pve pulumi --privsep 1 --comment 'managed by homelab; rotation 2026-11' --output-format json$/),
      "LC_ALL=C pveum acl modify / --tokens 'automation@pve!pulumi' --roles Automation --propagate 1",
    ]);
    expect(t.outs.tokenAclRoles).toEqual(["Automation"]);
    // the same rotation with the state lost again is refused again
    const msg = await expectError(tokens.create(token("eight", { rotation: "2026-11" })));
    expect(msg).toContain('currently "2026-11"');
  });

  it("a changed rotation input regenerates in place where pveum supports it (PVE 9.2)", async () => {
    await users.create(user("nine"));
    const t = await tokens.create(token("nine"));
    seen(t.outs);
    expect((await tokens.diff(t.id, t.outs, token("nine", { rotation: "2027-05" })))).toMatchObject({ changes: true, replaces: [] });
    clearLog();
    const up = await tokens.update(t.id, t.outs, token("nine", { rotation: "2027-05" }));
    seen(up.outs);
    expect(up.outs.tokenValue).not.toBe(t.outs.tokenValue);
    expect(tokenAccepts("nine", "automation@pve", "pulumi", up.outs.tokenValue)).toBe(true);
    expect(tokenAccepts("nine", "automation@pve", "pulumi", t.outs.tokenValue)).toBe(false);
    const writes = pveumWrites();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe(
      "LC_ALL=C pveum user token modify automation@pve pulumi --regenerate 1 --privsep 1 --comment 'managed by homelab; rotation 2027-05' --output-format json",
    );
    // the ACL survived the in-place regeneration
    expect(up.outs.tokenAclRoles).toEqual(["Automation"]);
    clearLog();
    const again = await tokens.update(t.id, up.outs, token("nine", { rotation: "2027-05" }));
    expect(again.outs.tokenValue).toBe(up.outs.tokenValue);
    expect(pveumWrites()).toEqual([]);
  });

  it("read notices a token deleted by hand and keeps the stored secret; the next update makes a new one", async () => {
    const t = await tokens.create(token("eight", { tokenName: "handdel", privsep: false }));
    seen(t.outs);
    expect((await sim.exec("eight", "pveum user token remove automation@pve handdel")).code).toBe(0);
    const read = await tokens.read(t.id, t.outs);
    expect(read.id).toBe("");
    expect(read.props.tokenValue).toBe(t.outs.tokenValue);
    clearLog();
    const up = await tokens.update(t.id, t.outs, token("eight", { tokenName: "handdel", privsep: false }));
    seen(up.outs);
    expect(up.outs.tokenValue).not.toBe(t.outs.tokenValue);
    expect(tokenAccepts("eight", "automation@pve", "handdel", up.outs.tokenValue)).toBe(true);
    expect(pveumWrites()).toEqual([
      expect.stringMatching(/^LC_ALL=C pveum user token add automation@pve handdel --privsep 0 /),
    ]);
  });

  it("a token ACL revoked by hand is drift; update re-grants it without touching the secret", async () => {
    const t = await tokens.create(token("nine", { tokenName: "acldrift" }));
    seen(t.outs);
    expect((await sim.exec("nine", "pveum acl delete / --tokens 'automation@pve!acldrift' --roles Automation")).code).toBe(0);
    const read = await tokens.read(t.id, t.outs);
    const props = read.props;
    expect(props.tokenAclRoles).toEqual([]);
    expect((await tokens.diff(t.id, props, token("nine", { tokenName: "acldrift" }))).changes).toBe(true);
    clearLog();
    const up = await tokens.update(t.id, props, token("nine", { tokenName: "acldrift" }));
    expect(up.outs.tokenValue).toBe(t.outs.tokenValue);
    expect(pveumWrites()).toEqual(["LC_ALL=C pveum acl modify / --tokens 'automation@pve!acldrift' --roles Automation --propagate 1"]);
  });

  it("turning privsep off modifies the token and revokes its own ACL, keeping the secret", async () => {
    const t = await tokens.create(token("nine", { tokenName: "sep" }));
    seen(t.outs);
    clearLog();
    const up = await tokens.update(t.id, t.outs, token("nine", { tokenName: "sep", privsep: false }));
    expect(up.outs.tokenValue).toBe(t.outs.tokenValue);
    expect(up.outs.tokenAclRoles).toEqual([]);
    expect(pveumWrites()).toEqual([
      "LC_ALL=C pveum user token modify automation@pve sep --privsep 0 --output-format json",
      "LC_ALL=C pveum acl delete / --tokens 'automation@pve!sep' --roles Automation",
    ]);
    expect(db("nine").users["automation@pve"].tokens.sep.privsep).toBe(0);
  });

  it("a token of a missing user is a clear error", async () => {
    const msg = await expectError(tokens.create(token("nine", { userid: "ghost@pve" })));
    expect(msg).toBe("nine: user ghost@pve does not exist, so its API token cannot be managed; create the user first");
  });
});

describe("in a cluster (one shared user database)", () => {
  async function run(node: string, cmd: string, stdin?: string): Promise<string> {
    const r = await sim.exec(node, stdin === undefined ? cmd : `printf '%s\\n' ${stdin} | ${cmd}`);
    if (r.code !== 0 || r.stderr !== "") throw new Error(`${node}: ${cmd}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  it("what one member created is seen, unchanged, through another; without quorum a re-run still works but a write fails", async () => {
    await run("ca", `pvecm create lab --link0 ${sim.node("ca").host}`);
    const fp = JSON.parse(await run("ca", "pvesh get /cluster/config/join --output-format json")).nodelist[0].pve_fp;
    await run("cb", `pvecm add ${sim.node("ca").host} --link0 ${sim.node("cb").host} --fingerprint ${fp}`, "secret");
    expect(sim.readState().nodes.cb.cluster).toBe("lab");

    const r = await roles.create(role("ca"));
    const u = await users.create(user("ca"));
    const t = await tokens.create(token("ca"));
    seen(t.outs);
    // stored in the cluster's database, not in a node's own
    const dbs = (sim.readState() as unknown as { access: { dbs: Record<string, SimAccessDb> } }).access.dbs;
    expect(dbs["node:ca"]).toBeUndefined();
    expect(db("ca", "cluster:lab").users["automation@pve"].tokens.pulumi.tokenHash).toBe(sha256(t.outs.tokenValue));

    // the other member answers with the same state: refresh and a re-run through it change nothing
    clearLog();
    const viaB = { ...conn("cb") };
    expect((await tokens.read(t.id, { ...t.outs, ...viaB })).id).toBe(t.id);
    await roles.update(r.id, r.outs, role("cb"));
    await users.update(u.id, u.outs, user("cb"));
    const again = await tokens.update(t.id, t.outs, token("cb"));
    expect(again.outs.tokenValue).toBe(t.outs.tokenValue);
    expect(commands("cb").length).toBeGreaterThan(0);
    expect(pveumWrites()).toEqual([]);

    // quorum lost: the idempotent re-run only reads, so it still succeeds; a real write fails clearly
    await sim.stopNode("cb");
    try {
      clearLog();
      await roles.update(r.id, r.outs, role("ca"));
      await tokens.update(t.id, t.outs, token("ca"));
      expect(pveumWrites()).toEqual([]);
      const msg = await expectError(roles.create(role("ca", { roleName: "NoQuorum", privileges: ["VM.Audit"] })));
      expect(msg).toContain("ca: pveum role failed (exit 255): create role failed: cfs-lock 'file-user_cfg' error: no quorum!");
    } finally {
      await sim.startNode("cb");
    }
  });
});

describe("delete", () => {
  it("removes token, user and role, and a second delete runs no write", async () => {
    const t = await tokens.create(token("nine", { tokenName: "gone" }));
    seen(t.outs);
    const u = await users.create(user("nine", { userid: "gone@pve" }));
    const r = await roles.create(role("nine", { roleName: "Gone", privileges: ["VM.Audit"] }));
    await tokens.delete(t.id, t.outs);
    await users.delete(u.id, u.outs);
    await roles.delete(r.id, r.outs);
    expect(db("nine").users["automation@pve"].tokens.gone).toBeUndefined();
    expect(db("nine").users["gone@pve"]).toBeUndefined();
    expect(db("nine").roles.Gone).toBeUndefined();
    clearLog();
    await tokens.delete(t.id, t.outs);
    await users.delete(u.id, u.outs);
    await roles.delete(r.id, r.outs);
    expect(pveumWrites()).toEqual([]);
  });
});

describe("diff", () => {
  const outsOf = <T, E>(i: T, extra: E): T & E => ({ ...i, ...extra });

  it("role: a new name replaces, privileges and connection update, unknowns count as changed", async () => {
    const olds = outsOf(role("eight"), { pveMajor: 8, effectivePrivileges: defaultAutomationPrivileges(8) });
    expect(await roles.diff("Automation", olds, role("eight"))).toMatchObject({ changes: false });
    expect(await roles.diff("Automation", olds, role("eight", { roleName: "Other" }))).toMatchObject({ changes: true, replaces: ["roleName"] });
    expect(await roles.diff("Automation", olds, role("eight", { privileges: ["VM.Audit"] }))).toMatchObject({ changes: true, replaces: [] });
    expect(await roles.diff("Automation", olds, role("eight", { privileges: [UNKNOWN] }))).toMatchObject({ changes: true, replaces: [] });
    expect(await roles.diff("Automation", olds, role("nine"))).toMatchObject({ replaces: [] });
    // same set in another order and spelling is no change
    const explicit = outsOf(role("eight", { privileges: ["VM.Audit", "Sys.Audit"] }), { pveMajor: 8, effectivePrivileges: ["Sys.Audit", "VM.Audit"] });
    expect(await roles.diff("Automation", explicit, role("eight", { privileges: ["Sys.Audit,VM.Audit"] }))).toMatchObject({ changes: false });
  });

  it("token: identity replaces (new token first), settings and rotation update", async () => {
    const olds = outsOf(token("eight"), { tokenId: "automation@pve!pulumi", tokenValue: "x", tokenAclRoles: ["Automation"] }) as PveApiTokenOutputs;
    expect(await tokens.diff("i", olds, token("eight"))).toMatchObject({ changes: false });
    expect(await tokens.diff("i", olds, token("eight", { tokenName: "other" }))).toMatchObject({
      changes: true,
      replaces: ["tokenName"],
      deleteBeforeReplace: false,
    });
    expect(await tokens.diff("i", olds, token("eight", { rotation: "2026-11" }))).toMatchObject({ changes: true, replaces: [] });
    expect(await tokens.diff("i", olds, token("eight", { rotation: UNKNOWN }))).toMatchObject({ changes: true, replaces: [] });
    expect(await tokens.diff("i", olds, token("nine"))).toMatchObject({ changes: true, replaces: [] });
    expect(await tokens.diff("i", olds, token("eight", { userid: UNKNOWN }))).toMatchObject({ replaces: ["userid"] });
  });
});

describe("serialized providers (as the engine runs them)", () => {
  const cases = [
    { file: "infra/providers/proxmox/api-role.ts", exportName: "pveRoleProvider" },
    { file: "infra/providers/proxmox/api-user.ts", exportName: "pveUserProvider" },
    { file: "infra/providers/proxmox/api-token.ts", exportName: "pveApiTokenProvider" },
  ] as const;
  const loaded: Record<string, pulumi.dynamic.ResourceProvider> = {};

  for (const c of cases) {
    it(`${c.exportName} serializes without secrets or key material`, () => {
      const s = serializeProvider(c.file, c.exportName);
      expect(s.containsSecrets).toBe(false);
      expect(s.text).not.toContain("PRIVATE KEY");
      expect(s.text).not.toContain(sim.clientPrivateKey.split("\n")[1]);
      loaded[c.exportName] = s.load();
    });
  }

  it("the loaded providers create role, user and token on the node", async () => {
    const lroles = driver<PveRoleInputs, PveRoleOutputs>(loaded.pveRoleProvider);
    const lusers = driver<PveUserInputs, PveUserOutputs>(loaded.pveUserProvider);
    const ltokens = driver<PveApiTokenInputs, PveApiTokenOutputs>(loaded.pveApiTokenProvider);
    const r = await lroles.create(role("eight", { roleName: "Serialized", privileges: ["VM.Audit"] }));
    expect(r.outs.effectivePrivileges).toEqual(["VM.Audit"]);
    const u = await lusers.create(user("eight", { userid: "serial@pve", roleName: "Serialized" }));
    expect(u.outs.aclRoles).toEqual(["Serialized"]);
    const t = await ltokens.create(token("eight", { userid: "serial@pve", tokenName: "ser", roleName: "Serialized" }));
    seen(t.outs);
    expect(tokenAccepts("eight", "serial@pve", "ser", t.outs.tokenValue)).toBe(true);
    // the lost-state error keeps its message when thrown by the serialized code
    const msg = await expectError(ltokens.create(token("eight", { userid: "serial@pve", tokenName: "ser", roleName: "Serialized" })));
    expect(msg).toContain("already exists, but its secret is not in the Pulumi state");
    // and a failed pveum keeps its text (node, command, stderr) when thrown by the serialized code
    const failed = await expectError(
      lroles.create(role("eightone", { roleName: "Net", privileges: ["Sys.AccessNetwork"] })),
    );
    expect(failed).toContain('eightone: role Net: privilege "Sys.AccessNetwork" does not exist on this node\'s Proxmox VE 8.1.4');
    expect(failed).toContain("pveum role failed (exit 255): 400 Parameter verification failed.");
  });
});

describe("the token secret (checked last, over every test above)", () => {
  it("never shows up in the command log, in errors or in non-secret outputs", async () => {
    clearLog();
    expect(secretsSeen.length).toBeGreaterThanOrEqual(6);
    const log = fullLog.join("\n");
    const errors = errorsSeen.join("\n");
    const plainOutputs = JSON.stringify(outputsSeen.map(({ tokenValue: _t, sshPrivateKey: _k, ...rest }) => rest));
    const fakeState = JSON.stringify(sim.readState());
    for (const secret of secretsSeen) {
      expect(log).not.toContain(secret);
      expect(errors).not.toContain(secret);
      expect(plainOutputs).not.toContain(secret);
      expect(fakeState).not.toContain(secret);
    }
    // the check itself can fail: the secrets are in the secret output
    expect(JSON.stringify(outputsSeen)).toContain(secretsSeen[0]);
  });
});
