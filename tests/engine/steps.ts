/**
 * The engine's step logic for one `pulumi up`, as the Pulumi engine and the
 * dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) run it:
 *
 * - a dynamic resource's provider is `require-from-string(__provider).handler()`;
 * - new resource: check(olds = {}, news) → create;
 * - resource in the state: check(old inputs, news) → read (refresh, as
 *   `pulumi up --refresh`; id "" = gone → create) → diff(id, outputs, checked) →
 *   nothing, update, or replace (create-then-delete; delete-then-create when
 *   the provider asks for deleteBeforeReplace); a diff without `changes`
 *   falls back to comparing old and new inputs, as the engine does;
 * - the outputs a step returns flow on to dependants; an output is secret when
 *   listed in additionalSecretOutputs or when the same-named input was;
 * - after the first failure no new step starts (in-flight ones finish), and
 *   everything depending on the failed resource is never registered at all.
 *
 * Native resources (custom, not dynamic) and provider resources are answered
 * from their inputs and reported as "mocked"; components need no step.
 */
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { EngineState, StepEvent, StepOp } from "./protocol";
import { Redactor, unwrapSecrets } from "./secrets";
import { runAsStep } from "./step-tag";
import { overTheWire } from "./wire";

type DynamicProvider = pulumi.dynamic.ResourceProvider;

/**
 * A native resource's outputs: its inputs, plus what the program reads back
 * and the real provider would compute. A random password is made here once
 * and kept from then on, as @pulumi/random keeps it in the state.
 */
function nativeOutputs(type: string, inputs: Record<string, unknown>, prior: Record<string, unknown> | undefined): Record<string, unknown> {
  if (type !== "random:index/randomPassword:RandomPassword") return inputs;
  const length = typeof inputs.length === "number" ? inputs.length : 16;
  const result = typeof prior?.result === "string" ? prior.result : crypto.randomBytes(length).toString("base64url").slice(0, length);
  return { ...inputs, result };
}

interface RequestInfo {
  additionalSecretOutputs: string[];
  parent: string;
  dependsOn: string[];
}

interface MonitorLike {
  registerResource(req: { getAdditionalsecretoutputsList(): string[]; getParent(): string; getDependenciesList(): string[] }, cb: unknown): unknown;
}

/** The provider calls of one step, each with when it started. */
class Calls {
  readonly names: string[] = [];
  readonly starts: number[] = [];
  push(name: string): void {
    this.names.push(name);
    this.starts.push(Date.now());
  }
}

const PROVIDER_KEY = "__provider";

export function isDynamicType(type: string): boolean {
  return type === "pulumi-nodejs:dynamic:Resource" || type.startsWith("pulumi-nodejs:dynamic/");
}

export class Engine {
  private readonly next: EngineState = {};
  private readonly providers = new Map<string, DynamicProvider>();
  private pending: RequestInfo | undefined;
  private failure: string | undefined;
  private inFlight = 0;
  private registered = 0;
  private onIdle: (() => void)[] = [];

  constructor(
    private readonly prior: EngineState,
    private readonly redactor: Redactor,
    private readonly emit: (event: StepEvent) => void,
  ) {}

  /** The first failed step's error (`<type> <name>: <message>`), redacted. */
  firstError(): string | undefined {
    return this.failure;
  }

  /**
   * Resolves once a step has failed and the steps in flight have finished.
   * The SDK never settles the run then (dependants wait on the failed
   * resource forever), so this is when the run is over.
   */
  failed(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.failure && this.inFlight === 0 ? resolve() : this.onIdle.push(check));
      check();
    });
  }

  private stepDone(): void {
    this.inFlight--;
    const waiting = this.onIdle.splice(0);
    waiting.forEach((f) => f());
  }

  /** The state after this run: what ran now, plus anything the run did not get to. */
  state(): EngineState {
    if (this.failure) return { ...this.prior, ...this.next };
    return { ...this.next };
  }

  /**
   * The mock monitor drops additionalSecretOutputs before calling the mocks;
   * it calls them synchronously inside registerResource, so the request can
   * be handed over in a field.
   */
  watchRegistrations(monitor: unknown): void {
    const m = monitor as MonitorLike;
    const original = m.registerResource.bind(m);
    m.registerResource = (req, cb) => {
      this.pending = { additionalSecretOutputs: req.getAdditionalsecretoutputsList(), parent: req.getParent(), dependsOn: req.getDependenciesList() };
      try {
        return original(req, cb);
      } finally {
        this.pending = undefined;
      }
    };
  }

  /** How many registrations reached the engine so far. */
  registrations(): number {
    return this.registered;
  }

  mocks(): pulumi.runtime.Mocks {
    return {
      newResource: (args) => {
        const info = this.pending ?? { additionalSecretOutputs: [], parent: "", dependsOn: [] };
        this.pending = undefined;
        this.registered++;
        return this.register(args, info);
      },
      call: (args) => {
        throw new Error(`${args.token}: provider functions are not answered by this harness`);
      },
    };
  }

  private async register(args: pulumi.runtime.MockResourceArgs, info: RequestInfo): Promise<pulumi.runtime.MockResourceResult> {
    if (!args.custom) return { id: undefined, state: {} };
    const urn = this.urnOf(args.type, args.name, info.parent);
    const inputs: Record<string, unknown> = {};
    const secretInputs = new Set<string>();
    for (const [k, v] of Object.entries((args.inputs ?? {}) as Record<string, unknown>)) {
      const u = unwrapSecrets(v);
      inputs[k] = u.value;
      if (u.secret) {
        secretInputs.add(k);
        this.redactor.add(u.value);
      }
    }
    const secretOutputs = new Set([...secretInputs, ...info.additionalSecretOutputs]);
    const event = (op: StepOp, startedAt: number, calls: Calls, error?: string): void =>
      this.emit({
        kind: "step",
        urn,
        type: args.type,
        name: args.name,
        op,
        calls: calls.names,
        callStarts: calls.starts,
        dependsOn: info.dependsOn,
        startedAt,
        durationMs: Date.now() - startedAt,
        nodes: nodesOf(inputs),
        error,
      });

    if (!isDynamicType(args.type)) {
      // Native resources (and provider resources) are not driven: they answer with their inputs.
      const id = this.prior[urn]?.id ?? `${args.name}-id`;
      const outputs = nativeOutputs(args.type, inputs, this.prior[urn]?.outputs);
      this.next[urn] = { type: args.type, id, inputs, outputs };
      event("mocked", Date.now(), new Calls());
      return { id, state: this.wrapSecrets(outputs, secretOutputs) };
    }

    const startedAt = Date.now();
    if (this.failure) {
      event("skipped", startedAt, new Calls());
      throw new Error(`${args.name}: not started, an earlier step failed`);
    }
    const calls = new Calls();
    this.inFlight++;
    try {
      const { op, id, outputs, checked } = await runAsStep(urn, () => this.dynamicStep(urn, inputs, calls));
      this.next[urn] = { type: args.type, id, inputs: checked, outputs };
      for (const k of secretOutputs) this.redactor.add(outputs[k]);
      event(op, startedAt, calls);
      return { id, state: this.wrapSecrets(outputs, secretOutputs) };
    } catch (e) {
      const message = this.redactor.redact(e instanceof Error ? e.message : String(e));
      this.failure ??= `${args.type} ${args.name}: ${message}`;
      event("failed", startedAt, calls, message);
      // What the SDK reports for this resource; the run's error is firstError().
      throw new Error(`${args.name}: ${message}`);
    } finally {
      this.stepDone();
    }
  }

  private async dynamicStep(
    urn: string,
    news: Record<string, unknown>,
    calls: Calls,
  ): Promise<{ op: StepOp; id: string; outputs: Record<string, unknown>; checked: Record<string, unknown> }> {
    const providerText = news[PROVIDER_KEY] as string;
    const provider = this.load(providerText);
    const prior = this.prior[urn];

    let checked = news;
    if (provider.check) {
      calls.push("check");
      const r = await provider.check(prior?.inputs ?? {}, news);
      if (r.failures && r.failures.length > 0) throw new Error(r.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
      checked = { ...(r.inputs ?? news) };
    }
    checked[PROVIDER_KEY] = providerText;
    checked = overTheWire(checked);
    const withProvider = (outs: Record<string, unknown> | undefined, props: Record<string, unknown>) =>
      overTheWire({ ...(outs ?? {}), [PROVIDER_KEY]: props[PROVIDER_KEY] });
    const create = async (): Promise<{ id: string; outputs: Record<string, unknown> }> => {
      calls.push("create");
      const r = await provider.create(checked);
      return { id: r.id, outputs: withProvider(r.outs, checked) };
    };

    // Refresh: the node's state is the truth.
    let current = prior ? { id: prior.id, outputs: prior.outputs, inputs: prior.inputs } : undefined;
    if (current) {
      const old = this.load(current.outputs[PROVIDER_KEY] as string);
      if (old.read) {
        calls.push("read");
        const r = await old.read(current.id, current.outputs);
        current = r.id ? { id: r.id, outputs: withProvider(r.props, current.outputs), inputs: current.inputs } : undefined;
      }
    }
    if (!current) return { op: "create", ...(await create()), checked };

    let changes: boolean;
    let replaces: string[] = [];
    let deleteBeforeReplace = false;
    if (provider.diff) {
      calls.push("diff");
      const d = await provider.diff(current.id, current.outputs, checked);
      changes = d.changes ?? !isDeepStrictEqual(current.inputs, checked);
      replaces = d.replaces ?? [];
      deleteBeforeReplace = d.deleteBeforeReplace ?? false;
    } else {
      changes = !isDeepStrictEqual(current.inputs, checked);
    }
    if (!changes) return { op: "same", id: current.id, outputs: current.outputs, checked };

    if (replaces.length > 0 || deleteBeforeReplace) {
      const old = this.load(current.outputs[PROVIDER_KEY] as string);
      const remove = async () => {
        calls.push("delete");
        await old.delete?.(current!.id, current!.outputs);
      };
      if (deleteBeforeReplace) await remove();
      const created = await create();
      if (!deleteBeforeReplace) await remove();
      return { op: "replace", ...created, checked };
    }
    calls.push("update");
    const r = provider.update ? ((await provider.update(current.id, current.outputs, checked)) ?? {}) : {};
    return { op: "update", id: current.id, outputs: withProvider(r.outs, checked), checked };
  }

  /** Resources in the prior state the program no longer declares, deleted last-created first. */
  async deleteUnregistered(): Promise<void> {
    const gone = Object.entries(this.prior).filter(([urn]) => !(urn in this.next)).reverse();
    for (const [urn, res] of gone) {
      const startedAt = Date.now();
      const name = urn.split("::").pop()!;
      const calls = new Calls();
      const emit = (op: StepOp, error?: string) =>
        this.emit({
          kind: "step",
          urn,
          type: res.type,
          name,
          op,
          calls: calls.names,
          callStarts: calls.starts,
          dependsOn: [],
          startedAt,
          durationMs: Date.now() - startedAt,
          nodes: nodesOf(res.inputs),
          error,
        });
      if (!isDynamicType(res.type)) {
        emit("mocked");
        continue;
      }
      try {
        const provider = this.load(res.outputs[PROVIDER_KEY] as string);
        calls.push("delete");
        await runAsStep(urn, async () => provider.delete?.(res.id, res.outputs));
        emit("delete");
      } catch (e) {
        const message = this.redactor.redact(e instanceof Error ? e.message : String(e));
        this.failure ??= `${res.type} ${name}: ${message}`;
        this.next[urn] = res;
        emit("failed", message);
        return;
      }
    }
  }

  /** Exactly the dynamic-provider host's loader (one instance per provider text). */
  private load(text: string): DynamicProvider {
    let provider = this.providers.get(text);
    if (!provider) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const requireFromString = require("require-from-string") as (code: string) => { handler: () => DynamicProvider };
      provider = requireFromString(text).handler();
      this.providers.set(text, provider);
    }
    return provider;
  }

  private wrapSecrets(values: Record<string, unknown>, secret: Set<string>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) out[k] = secret.has(k) && v !== undefined ? pulumi.secret(v) : v;
    return out;
  }

  /** The URN the mock monitor gives this registration (its own rule: parent type $ type). */
  private urnOf(type: string, name: string, parent: string): string {
    const qualified = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
  }
}

/** Nodes a resource talks to: every `{ node, host }` object in its inputs. */
export function nodesOf(inputs: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.node === "string" && typeof o.host === "string") found.add(o.node);
      Object.values(o).forEach(walk);
    }
  };
  walk(inputs);
  return [...found].sort();
}
