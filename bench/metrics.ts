/**
 * What one engine run cost on the simulated nodes, from the simulator's
 * command log and the harness's step events.
 *
 * Attribution: sshd's ForceCommand logs each command with its node, start
 * time, SSH connection (client address:port) and the URN of the resource
 * step that ran it (the harness sends it as an SSH environment variable,
 * tests/engine/step-tag.ts). A command without that tag falls back to time:
 * its connection goes to the step on that node whose time window holds all
 * of the connection's commands (the shortest such window when steps overlap;
 * `ambiguous` counts those, `unattributed` the connections no step window
 * holds). Within the step, a command belongs to the provider call (read,
 * diff, create, …) that had started last before it.
 */
import { isMutating } from "../tests/sim/mutating";
import type { CommandLogEntry } from "../tests/sim/cluster";
import type { StepEvent } from "../tests/engine/protocol";

export interface TypeFigures {
  steps: number;
  connections: number;
  commands: number;
  mutating: number;
  /** Sum of the steps' durations. */
  stepMs: number;
  /** Commands per provider call (read, diff, create, …). */
  commandsByCall: Record<string, number>;
}

export interface RunFigures {
  wallMs: number;
  /** From the first step's start to the last step's end (program loading left out). */
  stepsWallMs: number;
  connections: number;
  commands: number;
  mutating: number;
  /** Connections that fit no step's window, or several equally. */
  unattributed: number;
  ambiguous: number;
  byType: Record<string, TypeFigures>;
}

/** `pulumi-nodejs:dynamic/ceph:CephOsd` → `ceph:CephOsd`. */
export function shortType(type: string): string {
  return type.replace(/^pulumi-nodejs:dynamic\//, "");
}

interface Window {
  step: StepEvent;
  start: number;
  end: number;
}

export function attribute(steps: readonly StepEvent[], log: readonly CommandLogEntry[], wallMs: number): RunFigures {
  const acting = steps.filter((s) => s.calls.length > 0);
  const windows: Window[] = acting.map((s) => ({ step: s, start: s.startedAt, end: s.startedAt + s.durationMs }));
  const byType: Record<string, TypeFigures> = {};
  const figures = (type: string): TypeFigures =>
    (byType[shortType(type)] ??= { steps: 0, connections: 0, commands: 0, mutating: 0, stepMs: 0, commandsByCall: {} });
  for (const s of acting) {
    const f = figures(s.type);
    f.steps++;
    f.stepMs += s.durationMs;
  }

  const byUrn = new Map(acting.map((s) => [s.urn, s]));
  const tagged = new Set<string>();
  const seenConnections = new Set<string>();
  const add = (step: StepEvent, e: CommandLogEntry): void => {
    const f = figures(step.type);
    f.commands++;
    if (isMutating(e.command)) f.mutating++;
    const call = callAt(step, e.time);
    f.commandsByCall[call] = (f.commandsByCall[call] ?? 0) + 1;
    const connection = `${e.node} ${e.connection}`;
    if (!seenConnections.has(connection)) {
      seenConnections.add(connection);
      f.connections++;
    }
  };
  const connections = new Map<string, CommandLogEntry[]>();
  for (const e of log) {
    const step = e.step === undefined ? undefined : byUrn.get(e.step);
    if (step) {
      tagged.add(`${e.node} ${e.connection}`);
      add(step, e);
      continue;
    }
    const key = `${e.node} ${e.connection}`;
    connections.set(key, [...(connections.get(key) ?? []), e]);
  }
  let unattributed = 0;
  let ambiguous = 0;
  for (const [key, entries] of connections) {
    if (tagged.has(key)) continue;
    const node = entries[0].node;
    const first = Math.min(...entries.map((e) => e.time));
    const last = Math.max(...entries.map((e) => e.time));
    // The log's clock is whole milliseconds; a step's window is too: allow one either side.
    const fits = windows.filter((w) => w.step.nodes.includes(node) && w.start - 1 <= first && last <= w.end + 1);
    if (fits.length === 0) {
      unattributed++;
      continue;
    }
    if (fits.length > 1) ambiguous++;
    const w = fits.reduce((a, b) => (b.end - b.start < a.end - a.start ? b : a));
    for (const e of entries) add(w.step, e);
  }
  const starts = acting.map((s) => s.startedAt);
  const ends = acting.map((s) => s.startedAt + s.durationMs);
  return {
    wallMs,
    stepsWallMs: acting.length > 0 ? Math.max(...ends) - Math.min(...starts) : 0,
    connections: new Set(log.map((e) => `${e.node} ${e.connection}`)).size,
    commands: log.length,
    mutating: log.filter((e) => isMutating(e.command)).length,
    unattributed,
    ambiguous,
    byType,
  };
}

function callAt(step: StepEvent, time: number): string {
  let call = step.calls[0] ?? "?";
  step.callStarts.forEach((start, i) => {
    if (start <= time) call = step.calls[i];
  });
  return call;
}

export interface CriticalPath {
  /** Longest chain of step durations along the dependency graph. */
  boundMs: number;
  /** The chain, first step first: `type name (ms)`. */
  path: string[];
  unknownDependencies: number;
}

/**
 * The critical-path bound: each step takes what it took, starts when the
 * last of its dependencies ended, and nothing else waits (unlimited
 * parallelism). The SDK expands a dependency on a component into the
 * component's resources; any other dependency that is no step is counted in
 * `unknownDependencies` (it should stay 0).
 */
export function criticalPath(steps: readonly StepEvent[]): CriticalPath {
  const byUrn = new Map(steps.map((s) => [s.urn, s]));
  const finish = new Map<string, { ms: number; via?: string }>();
  const unknown = new Set<string>();
  const visit = (urn: string, seen: Set<string>): number => {
    const done = finish.get(urn);
    if (done) return done.ms;
    const step = byUrn.get(urn)!;
    let best = 0;
    let via: string | undefined;
    for (const dep of step.dependsOn) {
      if (seen.has(dep)) continue;
      if (!byUrn.has(dep)) {
        unknown.add(dep);
        continue;
      }
      const ms = visit(dep, new Set([...seen, urn]));
      if (ms > best) {
        best = ms;
        via = dep;
      }
    }
    const ms = best + step.durationMs;
    finish.set(urn, { ms, via });
    return ms;
  };
  let end: string | undefined;
  let boundMs = 0;
  for (const s of steps) {
    const ms = visit(s.urn, new Set());
    if (ms > boundMs) {
      boundMs = ms;
      end = s.urn;
    }
  }
  const path: string[] = [];
  for (let at = end; at; at = finish.get(at)?.via) {
    const s = byUrn.get(at)!;
    path.unshift(`${shortType(s.type)} ${s.name} (${s.durationMs} ms)`);
  }
  return { boundMs, path, unknownDependencies: unknown.size };
}
