/**
 * Simulated Talos nodes for the providers that run talosctl and kubectl on the
 * machine that runs Pulumi: a temp state dir (format in fakes/talos-lib.cjs)
 * and a bin dir with `talosctl` and `kubectl` shims bound to it. No root, no
 * network: a node is a JSON file named by its address.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const FAKES = path.join(__dirname, "fakes");

export type TalosSimStage = "down" | "maintenance" | "configured" | "installed";

export interface TalosSimNode {
  address: string;
  hostname: string;
  stage: TalosSimStage;
  bootCalls?: number;
  config: string | null;
  applies?: number;
  reboots?: number;
  registered?: boolean;
}

export interface TalosSimCall {
  tool: "talosctl" | "kubectl";
  args: string[];
  at: string;
}

export interface TalosSimFault {
  /** Sub-command as the fake names it: apply-config, bootstrap, kubeconfig. */
  command: string;
  /** Only on this node address. */
  node?: string;
  stderr: string;
  code?: number;
  /** The call's effect happens, then it fails (a reply lost on the way back). */
  afterEffect?: boolean;
}

export interface SimTalos {
  stateDir: string;
  binDir: string;
  talosctlPath: string;
  kubectlPath: string;
  /** Environment with TALOS_SIM_DIR (the shims carry it too). */
  env: NodeJS.ProcessEnv;
  addNode(address: string, stage: TalosSimStage, hostname?: string): void;
  /** Power a node on (maintenance mode if it never had a config, else its installed config) or off. */
  setNodeUp(address: string, up: boolean): void;
  /** Puts a node back into maintenance mode without its config (reinstalled, wiped). */
  wipeNode(address: string): void;
  failNextCommand(fault: TalosSimFault): void;
  setCni(present: boolean): void;
  setClientVersion(version: string): void;
  /** Calls refused while a node installs/reboots (default 1). */
  setBootCalls(n: number): void;
  node(address: string): TalosSimNode;
  state(): { nodes: Record<string, TalosSimNode>; clusters: Record<string, { bootstrapped: boolean; bootstrapNode: string }> };
  commandLog(): TalosSimCall[];
  clearLog(): void;
  stop(): void;
}

export function startSimTalos(): SimTalos {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-talos-sim-"));
  const stateDir = path.join(root, "state");
  const binDir = path.join(root, "bin");
  fs.mkdirSync(path.join(stateDir, "nodes"), { recursive: true });
  fs.mkdirSync(binDir);
  const shim = (tool: string, file: string) => {
    const p = path.join(binDir, tool);
    fs.writeFileSync(p, `#!/bin/sh\nTALOS_SIM_DIR=${JSON.stringify(stateDir)} exec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(FAKES, file))} "$@"\n`, { mode: 0o755 });
    return p;
  };
  const talosctlPath = shim("talosctl", "talosctl.cjs");
  const kubectlPath = shim("kubectl", "kubectl-talos.cjs");
  const file = (name: string) => path.join(stateDir, name);
  const readJson = <T>(name: string, fallback: T): T => (fs.existsSync(file(name)) ? (JSON.parse(fs.readFileSync(file(name), "utf8")) as T) : fallback);
  const writeJson = (name: string, value: unknown) => fs.writeFileSync(file(name), JSON.stringify(value, null, 2));
  const nodeFile = (address: string) => `nodes/${address}.json`;
  const node = (address: string): TalosSimNode => {
    const n = readJson<TalosSimNode | null>(nodeFile(address), null);
    if (!n) throw new Error(`no simulated Talos node ${address}`);
    return n;
  };
  const settings = (change: Record<string, unknown>) => writeJson("sim.json", { ...readJson("sim.json", {}), ...change });
  return {
    stateDir,
    binDir,
    talosctlPath,
    kubectlPath,
    env: { ...process.env, TALOS_SIM_DIR: stateDir },
    addNode(address, stage, hostname = address) {
      writeJson(nodeFile(address), { address, hostname, stage, config: null, applies: 0, reboots: 0 });
    },
    setNodeUp(address, up) {
      const n = node(address);
      writeJson(nodeFile(address), { ...n, stage: up ? (n.config ? "installed" : "maintenance") : "down" });
    },
    wipeNode(address) {
      writeJson(nodeFile(address), { ...node(address), stage: "maintenance", config: null, registered: false });
    },
    failNextCommand(fault) {
      writeJson("faults.json", [...readJson<TalosSimFault[]>("faults.json", []), fault]);
    },
    setCni(present) {
      settings({ cni: present });
    },
    setClientVersion(version) {
      settings({ clientVersion: version });
    },
    setBootCalls(n) {
      settings({ bootCalls: n });
    },
    node,
    state() {
      const nodes = Object.fromEntries(
        fs.readdirSync(file("nodes")).filter((f) => f.endsWith(".json")).map((f) => [f.replace(/\.json$/, ""), JSON.parse(fs.readFileSync(file(`nodes/${f}`), "utf8"))]),
      );
      return { nodes, clusters: readJson("clusters.json", {}) };
    },
    commandLog() {
      if (!fs.existsSync(file("log.jsonl"))) return [];
      return fs.readFileSync(file("log.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as TalosSimCall);
    },
    clearLog() {
      fs.rmSync(file("log.jsonl"), { force: true });
    },
    stop() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
