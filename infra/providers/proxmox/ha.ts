/**
 * Proxmox HA as code (pve-cli.md §5), two dynamic providers:
 *
 * - `HaResource` (`pulumi-nodejs:dynamic/ha:Resource`): `vm:<vmid>` as an HA resource with its
 *   state, max_restart and max_relocate (`ha-manager add` once, `ha-manager set` when they differ,
 *   `ha-manager remove` on delete). It never touches the resource's placement.
 * - `HaPlacement` (`pulumi-nodejs:dynamic/ha:Placement`): where a list of HA resources may run.
 *   Realised as a PVE 8 HA group (`groupadd`/`groupset`, members via `ha-manager set <sid> --group`)
 *   or a PVE 9 node-affinity rule (`rules add|set node-affinity`, members in `--resources`,
 *   nofailback via `ha-manager set <sid> --failback 0`). The mode is detected on every operation
 *   from `pveversion` and, on PVE 9, from whether the groups are migrated to rules.
 *
 * The placement owns the membership on both versions, so the HA resources are created first and the
 * placement depends on them (a PVE 9 rule refuses unmanaged resources; a PVE 8 `--group` needs the
 * group, which this ordering avoids by setting the group from the placement).
 *
 * HA config is cluster-wide: the connection only picks the node the commands run on; changing it
 * never replaces anything. Every change needs quorum (`cluster not ready - no quorum?` surfaces as
 * the command's error).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  GROUPS_MIGRATED,
  HaGroupConfig,
  HaNodePriority,
  HaResourceConfig,
  HaRuleConfig,
  HaState,
  RESOURCE_MISSING,
  formatHaNodes,
  normalizeHaNodes,
  parseHaGroups,
  parseHaResources,
  parseHaRules,
} from "../../parse/ha";
import { parsePveversion } from "../../parse/pveversion";
import { command, inCLocale } from "../../shell";
import { CommandFailedError, SshSession, withSession } from "../../ssh";
import { ConnectionArgs, sshOptions, sshTarget } from "../connection";
import { sshResourceInputs, sshResourceOptions } from "../resource";

/** Bump when the providers' behaviour changes, so existing resources update (pulumi/pulumi#6490). */
export const HA_PROVIDER_VERSION = "1";

/** The preview's unknown-value sentinel. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** How a placement is realised on the cluster. */
export type HaMode = "group" | "rule";

// ---------------------------------------------------------------------------------------------
// shared reads

async function pveMajor(session: SshSession, node: string): Promise<number> {
  const out = (await session.check(inCLocale(command("pveversion")))).stdout;
  const v = parsePveversion(out);
  if (!v) throw new Error(`${node}: pveversion printed ${JSON.stringify(out.trim())}; is this a Proxmox VE node?`);
  return v.major;
}

/** Groups (PVE 8, or PVE 9 before the migration), or undefined when migrated to rules. */
async function readGroups(session: SshSession): Promise<HaGroupConfig[] | undefined> {
  const cmd = inCLocale(command("pvesh", "get", "/cluster/ha/groups", "--output-format", "json"));
  const r = await session.run(cmd);
  if (r.code === 0) return parseHaGroups(r.stdout, session.node);
  if (GROUPS_MIGRATED.test(r.stderr)) return undefined;
  throw new CommandFailedError(session.node, cmd, r);
}

async function readRules(session: SshSession): Promise<HaRuleConfig[]> {
  const out = await session.check(inCLocale(command("ha-manager", "rules", "config", "--output-format", "json")));
  return parseHaRules(out.stdout, session.node);
}

async function readResources(session: SshSession): Promise<HaResourceConfig[]> {
  const out = await session.check(inCLocale(command("pvesh", "get", "/cluster/ha/resources", "--output-format", "json")));
  return parseHaResources(out.stdout, session.node);
}

/** PVE 8 → group; PVE 9 with groups not yet migrated → group; otherwise rule. */
export async function detectHaMode(session: SshSession): Promise<{ mode: HaMode; pveMajor: number; groups?: HaGroupConfig[] }> {
  const major = await pveMajor(session, session.node);
  const groups = await readGroups(session);
  if (groups === undefined) return { mode: "rule", pveMajor: major };
  if (major >= 9 && groups.length === 0) return { mode: "rule", pveMajor: major };
  return { mode: "group", pveMajor: major, groups };
}

async function mutate(session: SshSession, ...argv: (string | number)[]): Promise<void> {
  await session.check(inCLocale(command(...argv)));
}

// ---------------------------------------------------------------------------------------------
// HA resource

export interface HaResourceInputs extends ConnectionArgs {
  providerVersion: string;
  /** The VM's ID; the HA resource is `vm:<vmid>`. */
  vmid: number;
  state: HaState;
  maxRestart: number;
  maxRelocate: number;
  /** Empty or absent: no comment. */
  comment?: string;
}

export interface HaResourceOutputs extends HaResourceInputs {
  sid: string;
}

/** Module-local (an exported const is referenced through `exports` and breaks the serializer). */
const STATES: readonly HaState[] = ["started", "stopped", "disabled", "ignored"];
export const HA_STATES = STATES;

export function haSid(vmid: number): string {
  return `vm:${vmid}`;
}

/** Input problems (empty when valid). */
export function haResourceProblems(i: Pick<HaResourceInputs, "vmid" | "state" | "maxRestart" | "maxRelocate">): string[] {
  const p: string[] = [];
  if (!Number.isInteger(i.vmid) || i.vmid < 100 || i.vmid > 999999999) p.push(`vmid ${i.vmid} is not a VMID (100-999999999)`);
  if (!STATES.includes(i.state)) p.push(`state "${i.state}" is not one of ${STATES.join(", ")}`);
  for (const [k, v] of [["maxRestart", i.maxRestart], ["maxRelocate", i.maxRelocate]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 10) p.push(`${k} ${v} must be an integer 0-10`);
  }
  return p;
}

/** `ha-manager set` options for the settings that differ (empty when equal). */
export function haResourceChanges(want: HaResourceInputs, have: HaResourceConfig): (string | number)[] {
  const args: (string | number)[] = [];
  if (have.state !== want.state) args.push("--state", want.state);
  if (have.maxRestart !== want.maxRestart) args.push("--max_restart", want.maxRestart);
  if (have.maxRelocate !== want.maxRelocate) args.push("--max_relocate", want.maxRelocate);
  const wantComment = want.comment ?? "";
  if ((have.comment ?? "") !== wantComment) {
    if (wantComment === "") args.push("--delete", "comment");
    else args.push("--comment", wantComment);
  }
  return args;
}

function checkResource(i: HaResourceInputs): void {
  const p = haResourceProblems(i);
  if (p.length) throw new Error(`${i.connection.node}: HA resource ${haSid(i.vmid)}: ${p.join("; ")}`);
}

async function convergeResource(i: HaResourceInputs): Promise<HaResourceOutputs> {
  checkResource(i);
  const sid = haSid(i.vmid);
  return withSession(
    sshTarget(i),
    async (session) => {
      const have = (await readResources(session)).find((r) => r.sid === sid);
      if (!have) {
        const argv = ["ha-manager", "add", sid, "--state", i.state, "--max_restart", i.maxRestart, "--max_relocate", i.maxRelocate];
        if (i.comment) argv.push("--comment", i.comment);
        const cmd = inCLocale(command(...argv));
        const r = await session.run(cmd);
        if (r.code !== 0) {
          if (RESOURCE_MISSING.test(r.stderr)) {
            throw new Error(
              `${session.node}: cannot make VM ${i.vmid} highly available: VM ${i.vmid} (${sid}) does not exist in the cluster ` +
                `(ha-manager add: ${r.stderr.trim()})`,
            );
          }
          throw new CommandFailedError(session.node, cmd, r);
        }
      } else {
        const changes = haResourceChanges(i, have);
        if (changes.length) await mutate(session, "ha-manager", "set", sid, ...changes);
      }
      const after = (await readResources(session)).find((r) => r.sid === sid);
      if (!after || haResourceChanges(i, after).length) {
        throw new Error(`${session.node}: HA resource ${sid} does not show the requested settings after ha-manager ran`);
      }
      return { ...i, sid };
    },
    sshOptions(i),
  );
}

export const haResourceProvider: pulumi.dynamic.ResourceProvider<HaResourceInputs, HaResourceOutputs> = {
  async create(inputs) {
    const outs = await convergeResource(inputs);
    return { id: outs.sid, outs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return withSession(
      sshTarget(props),
      async (session) => {
        const have = (await readResources(session)).find((r) => r.sid === props.sid);
        if (!have) return { id: "", props };
        const next: HaResourceOutputs = {
          ...props,
          state: have.state as HaState,
          maxRestart: have.maxRestart,
          maxRelocate: have.maxRelocate,
          comment: have.comment ?? (props.comment === undefined ? undefined : ""),
        };
        if (next.comment === undefined) delete next.comment;
        return { id, props: next };
      },
      sshOptions(props),
    );
  },

  async diff(_id, olds, news) {
    const replaces = olds.vmid !== news.vmid ? ["vmid"] : [];
    const changed =
      (["state", "maxRestart", "maxRelocate", "providerVersion"] as const).some((k) => String(news[k]) === UNKNOWN || olds[k] !== news[k]) ||
      (olds.comment ?? "") !== (news.comment ?? "");
    const connChanged =
      JSON.stringify(olds.connection) !== JSON.stringify(news.connection) || olds.sshPrivateKey !== news.sshPrivateKey;
    return {
      changes: replaces.length > 0 || changed || connChanged,
      replaces,
      deleteBeforeReplace: true,
    };
  },

  async update(_id, _olds, news) {
    return { outs: await convergeResource(news) };
  },

  async delete(_id, props) {
    await withSession(
      sshTarget(props),
      async (session) => {
        const have = (await readResources(session)).some((r) => r.sid === props.sid);
        if (have) await mutate(session, "ha-manager", "remove", props.sid);
      },
      sshOptions(props),
    );
  },
};

/** Resource inputs as a program passes them. */
export interface HaResourceArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  vmid: pulumi.Input<number>;
  state: pulumi.Input<HaState>;
  maxRestart: pulumi.Input<number>;
  maxRelocate: pulumi.Input<number>;
  comment?: pulumi.Input<string>;
}

/** Registered as `pulumi-nodejs:dynamic/ha:Resource`. */
export class HaResource extends pulumi.dynamic.Resource {
  declare readonly sid: pulumi.Output<string>;
  declare readonly state: pulumi.Output<HaState>;
  declare readonly maxRestart: pulumi.Output<number>;
  declare readonly maxRelocate: pulumi.Output<number>;

  constructor(name: string, args: HaResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      haResourceProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, HA_PROVIDER_VERSION),
        sid: undefined,
      },
      sshResourceOptions(opts),
      "ha",
      "Resource",
    );
  }
}

// ---------------------------------------------------------------------------------------------
// placement

export interface HaPlacementInputs extends ConnectionArgs {
  providerVersion: string;
  /** Group name (PVE 8) or rule ID (PVE 9). */
  name: string;
  /** Allowed nodes with priorities (higher preferred). */
  nodes: HaNodePriority[];
  /** Only the listed nodes (PVE 8 `--restricted`, PVE 9 `--strict`). */
  strict: boolean;
  /** Do not move back to a higher-priority node when it returns (PVE 8 group `--nofailback`, PVE 9 resource `--failback 0`). */
  nofailback: boolean;
  /** HA resource IDs (`vm:<vmid>`) placed here; they must already be HA resources. */
  resources: string[];
}

export interface HaPlacementOutputs extends HaPlacementInputs {
  mode: HaMode;
  pveMajor: number;
}

/** What a placement looks like on the cluster. */
export interface PlacementState {
  exists: boolean;
  /** The group name or rule ID found (a PVE 9 migration may have renamed group G to rule `ha-group-G`). */
  id?: string;
  nodes: HaNodePriority[];
  strict: boolean;
  nofailback: boolean;
  resources: string[];
}

const CONFIG_ID = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Input problems (empty when valid). */
export function haPlacementProblems(i: Pick<HaPlacementInputs, "name" | "nodes" | "resources">): string[] {
  const p: string[] = [];
  if (!CONFIG_ID.test(i.name)) p.push(`name "${i.name}" must start with a letter and contain only letters, digits, "-" and "_"`);
  if (!Array.isArray(i.nodes) || i.nodes.length === 0) p.push("nodes must list at least one node");
  else {
    const seen = new Set<string>();
    for (const n of i.nodes) {
      if (seen.has(n.node)) p.push(`node ${n.node} is listed twice`);
      seen.add(n.node);
      if (n.priority !== undefined && (!Number.isInteger(n.priority) || n.priority < 0 || n.priority > 1000)) {
        p.push(`priority ${n.priority} of node ${n.node} must be an integer 0-1000`);
      }
    }
  }
  for (const sid of i.resources ?? []) if (!/^(vm|ct):\d+$/.test(sid)) p.push(`resource "${sid}" is not an HA resource ID like vm:100`);
  return p;
}

/** Read a placement as it exists in the given mode. */
export function placementState(
  mode: HaMode,
  name: string,
  resources: HaResourceConfig[],
  groups: HaGroupConfig[] | undefined,
  rules: HaRuleConfig[] | undefined,
): PlacementState {
  if (mode === "group") {
    const g = (groups ?? []).find((x) => x.name === name);
    const members = resources.filter((r) => r.group === name).map((r) => r.sid).sort();
    if (!g) return { exists: false, nodes: [], strict: false, nofailback: false, resources: members };
    return { exists: true, id: g.name, nodes: g.nodes, strict: g.restricted, nofailback: g.nofailback, resources: members };
  }
  // pve-ha-manager 5.x migrates group G to the node-affinity rule `ha-group-G` (naming from memory, unverified).
  const rule =
    (rules ?? []).find((x) => x.id === name && x.type === "node-affinity") ??
    (rules ?? []).find((x) => x.id === `ha-group-${name}` && x.type === "node-affinity");
  if (!rule) return { exists: false, nodes: [], strict: false, nofailback: false, resources: [] };
  const members = resources.filter((r) => rule.resources.includes(r.sid));
  const nofailback = members.length > 0 && members.every((r) => r.failback === false);
  return { exists: true, id: rule.id, nodes: rule.nodes, strict: rule.strict, nofailback, resources: [...rule.resources].sort() };
}

/** The commands (argv lists) that take `have` to `want`; empty when they match. */
export function placementCommands(
  mode: HaMode,
  want: Pick<HaPlacementInputs, "name" | "nodes" | "strict" | "nofailback" | "resources">,
  have: PlacementState,
  resources: HaResourceConfig[],
): (string | number)[][] {
  const cmds: (string | number)[][] = [];
  const nodes = formatHaNodes(want.nodes);
  const wantSids = [...new Set(want.resources)].sort();
  const settingsDiffer =
    formatHaNodes(have.nodes) !== nodes || have.strict !== want.strict || (mode === "group" && have.nofailback !== want.nofailback);
  if (mode === "group") {
    const flags = ["--nodes", nodes, "--restricted", want.strict ? 1 : 0, "--nofailback", want.nofailback ? 1 : 0];
    if (!have.exists) cmds.push(["ha-manager", "groupadd", want.name, ...flags]);
    else if (settingsDiffer) cmds.push(["ha-manager", "groupset", want.name, ...flags]);
    for (const sid of wantSids) {
      const r = resources.find((x) => x.sid === sid);
      if (r && r.group !== want.name) cmds.push(["ha-manager", "set", sid, "--group", want.name]);
    }
    for (const sid of have.resources) if (!wantSids.includes(sid)) cmds.push(["ha-manager", "set", sid, "--delete", "group"]);
    return cmds;
  }
  const list = wantSids.join(",");
  const flags = ["--resources", list, "--nodes", nodes, "--strict", want.strict ? 1 : 0];
  if (!have.exists) cmds.push(["ha-manager", "rules", "add", "node-affinity", want.name, ...flags]);
  else if (settingsDiffer || have.resources.join(",") !== list) {
    cmds.push(["ha-manager", "rules", "set", "node-affinity", have.id ?? want.name, ...flags]);
  }
  for (const sid of wantSids) {
    const r = resources.find((x) => x.sid === sid);
    if (r && (r.failback ?? true) === want.nofailback) cmds.push(["ha-manager", "set", sid, "--failback", want.nofailback ? 0 : 1]);
  }
  return cmds;
}

interface PlacementView {
  mode: HaMode;
  pveMajor: number;
  resources: HaResourceConfig[];
  state: PlacementState;
}

async function viewPlacement(session: SshSession, name: string): Promise<PlacementView> {
  const { mode, pveMajor: major, groups } = await detectHaMode(session);
  const resources = await readResources(session);
  const rules = mode === "rule" ? await readRules(session) : undefined;
  return { mode, pveMajor: major, resources, state: placementState(mode, name, resources, groups, rules) };
}

function samePlacement(mode: HaMode, want: HaPlacementInputs, have: PlacementState): boolean {
  return (
    have.exists &&
    formatHaNodes(have.nodes) === formatHaNodes(want.nodes) &&
    have.strict === want.strict &&
    have.nofailback === (want.resources.length === 0 && mode === "rule" ? false : want.nofailback) &&
    have.resources.join(",") === [...new Set(want.resources)].sort().join(",")
  );
}

async function convergePlacement(i: HaPlacementInputs): Promise<HaPlacementOutputs> {
  const problems = haPlacementProblems(i);
  if (problems.length) throw new Error(`${i.connection.node}: HA placement ${i.name}: ${problems.join("; ")}`);
  return withSession(
    sshTarget(i),
    async (session) => {
      const view = await viewPlacement(session, i.name);
      const unmanaged = i.resources.filter((sid) => !view.resources.some((r) => r.sid === sid));
      if (unmanaged.length) {
        throw new Error(
          `${session.node}: HA placement ${i.name}: ${unmanaged.join(", ")} ${unmanaged.length === 1 ? "is not an HA resource" : "are not HA resources"}; ` +
            `create the HA resources before the placement`,
        );
      }
      if (view.mode === "rule" && i.resources.length === 0) {
        throw new Error(`${session.node}: HA placement ${i.name}: a PVE ${view.pveMajor} node-affinity rule needs at least one resource`);
      }
      for (const argv of placementCommands(view.mode, i, view.state, view.resources)) await mutate(session, ...argv);
      const after = await viewPlacement(session, i.name);
      if (!samePlacement(after.mode, i, after.state)) {
        throw new Error(`${session.node}: HA placement ${i.name} does not show the requested settings after ha-manager ran`);
      }
      return { ...i, mode: view.mode, pveMajor: view.pveMajor };
    },
    sshOptions(i),
  );
}

function placementDiffKeys(olds: HaPlacementInputs, news: HaPlacementInputs): string[] {
  const keys: string[] = [];
  const unknown = (v: unknown) => v === UNKNOWN;
  const nodesOf = (v: unknown) => (Array.isArray(v) ? formatHaNodes(normalizeHaNodes(v as HaNodePriority[])) : String(v));
  const sidsOf = (v: unknown) => (Array.isArray(v) ? [...new Set(v as string[])].sort().join(",") : String(v));
  if (unknown(news.nodes) || nodesOf(olds.nodes) !== nodesOf(news.nodes)) keys.push("nodes");
  if (unknown(news.resources) || sidsOf(olds.resources) !== sidsOf(news.resources)) keys.push("resources");
  for (const k of ["strict", "nofailback", "providerVersion"] as const) {
    if (unknown(news[k]) || olds[k] !== news[k]) keys.push(k);
  }
  if (JSON.stringify(olds.connection) !== JSON.stringify(news.connection) || olds.sshPrivateKey !== news.sshPrivateKey) {
    keys.push("connection");
  }
  return keys;
}

export const haPlacementProvider: pulumi.dynamic.ResourceProvider<HaPlacementInputs, HaPlacementOutputs> = {
  async create(inputs) {
    const outs = await convergePlacement(inputs);
    return { id: outs.name, outs };
  },

  async read(id, props) {
    if (!props) throw new Error(`${id}: no stored state to refresh from`);
    return withSession(
      sshTarget(props),
      async (session) => {
        const view = await viewPlacement(session, props.name);
        if (!view.state.exists) return { id: "", props };
        return {
          id,
          props: {
            ...props,
            mode: view.mode,
            pveMajor: view.pveMajor,
            nodes: view.state.nodes,
            strict: view.state.strict,
            nofailback: view.state.nofailback,
            resources: view.state.resources,
          },
        };
      },
      sshOptions(props),
    );
  },

  async diff(_id, olds, news) {
    const replaces = olds.name !== news.name ? ["name"] : [];
    const keys = placementDiffKeys(olds, news);
    return { changes: replaces.length > 0 || keys.length > 0, replaces, deleteBeforeReplace: true };
  },

  async update(_id, _olds, news) {
    return { outs: await convergePlacement(news) };
  },

  async delete(_id, props) {
    await withSession(
      sshTarget(props),
      async (session) => {
        const view = await viewPlacement(session, props.name);
        if (view.mode === "group") {
          for (const sid of view.state.resources) await mutate(session, "ha-manager", "set", sid, "--delete", "group");
          if (view.state.exists) await mutate(session, "ha-manager", "groupremove", props.name);
          return;
        }
        if (!view.state.exists) return;
        await mutate(session, "ha-manager", "rules", "remove", view.state.id ?? props.name);
        for (const sid of view.state.resources) {
          const r = view.resources.find((x) => x.sid === sid);
          if (r && r.failback === false) await mutate(session, "ha-manager", "set", sid, "--failback", 1);
        }
      },
      sshOptions(props),
    );
  },
};

/** Resource inputs as a program passes them. */
export interface HaPlacementArgs {
  connection: pulumi.Input<ConnectionArgs["connection"]>;
  /** Secret; omitted when the SSH agent is used. */
  sshPrivateKey?: pulumi.Input<string>;
  name: pulumi.Input<string>;
  nodes: pulumi.Input<pulumi.Input<HaNodePriority>[]>;
  strict: pulumi.Input<boolean>;
  nofailback: pulumi.Input<boolean>;
  resources: pulumi.Input<pulumi.Input<string>[]>;
}

/** Registered as `pulumi-nodejs:dynamic/ha:Placement`. */
export class HaPlacement extends pulumi.dynamic.Resource {
  declare readonly mode: pulumi.Output<HaMode>;
  declare readonly pveMajor: pulumi.Output<number>;
  declare readonly resources: pulumi.Output<string[]>;

  constructor(name: string, args: HaPlacementArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      haPlacementProvider,
      name,
      {
        ...args,
        ...sshResourceInputs(args.sshPrivateKey, HA_PROVIDER_VERSION),
        mode: undefined,
        pveMajor: undefined,
      },
      sshResourceOptions(opts),
      "ha",
      "Placement",
    );
  }
}
