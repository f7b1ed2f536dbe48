/**
 * The kubeconfig and talosconfig of every Kubernetes cluster in a stack's
 * outputs, written to `.homelab/kube/<stack>/<cluster>.kubeconfig|.talosconfig`
 * (gitignored): the folder 0700, the files 0600, since each is a cluster admin
 * credential.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { OutputMap } from "./driver";

/** The `kubernetes` output's key per file kind. */
const KINDS = ["kubeconfig", "talosconfig"] as const;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function kubeDir(root: string, stack: string): string {
  return path.join(root, ".homelab", "kube", stack);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The files to write, by cluster; throws naming what is wrong with the outputs. */
export function kubeFiles(outputs: OutputMap): { cluster: string; kind: (typeof KINDS)[number]; text: string }[] {
  const clusters = outputs.kubernetes?.value;
  if (!isRecord(clusters) || Object.keys(clusters).length === 0) {
    throw new Error("the stack outputs no Kubernetes cluster (`kubernetes` is empty or absent); run `up` first, or add a cluster to the stack file");
  }
  return Object.entries(clusters).flatMap(([cluster, value]) => {
    if (!SAFE_NAME.test(cluster)) throw new Error(`kubernetes.${cluster}: not a usable file name`);
    if (!isRecord(value) || typeof value.kubeconfig !== "string") throw new Error(`kubernetes.${cluster}.kubeconfig: missing from the stack outputs`);
    return KINDS.filter((kind) => typeof value[kind] === "string").map((kind) => ({ cluster, kind, text: value[kind] as string }));
  });
}

/** Writes the files and returns their paths. */
export function writeKubeFiles(root: string, stack: string, outputs: OutputMap): string[] {
  const files = kubeFiles(outputs);
  const dir = kubeDir(root, stack);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder's mode as it was.
  fs.chmodSync(dir, 0o700);
  return files.map(({ cluster, kind, text }) => {
    const file = path.join(dir, `${cluster}.${kind}`);
    // A fresh 0600 file renamed over the old one: the text is never readable by others, not even for a moment.
    const temporary = `${file}.${process.pid}.tmp`;
    fs.rmSync(temporary, { force: true });
    fs.writeFileSync(temporary, text, { mode: 0o600, flag: "wx" });
    fs.renameSync(temporary, file);
    return file;
  });
}
