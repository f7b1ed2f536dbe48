/**
 * Secrets bundle, machine configs and talosconfig of a Talos cluster, made by
 * the pinned talosctl in a private temp dir (local-tool.ts). Configs are a
 * pure function of the secrets and the inputs (gen config with
 * `--with-secrets` writes the same bytes every time), so the sha256 of a
 * node's config says whether the node needs it applied again. The talosconfig
 * is not (its admin certificate is new on every gen config): it is made once
 * per secrets bundle and kept.
 */
import { stableJson } from "../diff";
import type { LocalTool } from "./local-tool";
import { sha256 } from "./talosctl-steps";

/** What gen config and the patches need from the cluster inputs. */
export interface ConfigInputs {
  clusterName: string;
  talosVersion: string;
  kubernetesVersion: string;
  installImage: string;
  endpoint: string;
  vip?: string;
  nodes: { name: string; role: "controlplane" | "worker"; patches: string[]; installDisk?: string }[];
  clusterPatches: string[];
  controlPlanePatches: string[];
  workerPatches: string[];
  cniNone: boolean;
}

export interface RenderedNode {
  /** Path of the node's machine config in the temp dir. */
  path: string;
  hash: string;
}

/** Cilium replaces flannel and kube-proxy (reference 2.4). JSON is YAML, and a strategic-merge patch. */
export function cniNonePatch(): string {
  return JSON.stringify({ cluster: { network: { cni: { name: "none" } }, proxy: { disabled: true } } });
}

/**
 * The VIP on the physical interface (reference 2.5, `interfaces[].vip`, which
 * Talos v1.9–v1.11 take). No `dhcp:` and no addresses: the node keeps the
 * address the platform (nocloud, DHCP) gave it.
 */
export function vipPatch(vip: string): string {
  return JSON.stringify({ machine: { network: { interfaces: [{ deviceSelector: { physical: true }, vip: { ip: vip } }] } } });
}

/** A node's install disk, when it is not gen config's default /dev/sda. */
export function installDiskPatch(disk: string): string {
  return JSON.stringify({ machine: { install: { disk } } });
}

/** `talosctl gen secrets`: a new bundle (the only place one is made). */
export async function genSecrets(tool: LocalTool, cluster: string, talosVersion: string): Promise<string> {
  await tool.must(cluster, ["gen", "secrets", "--output-file", `${tool.dir}/secrets.yaml`, "--talos-version", talosVersion, "--force"]);
  return tool.read("secrets.yaml");
}

async function patchFlags(tool: LocalTool, flag: string, prefix: string, patches: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const [i, patch] of patches.entries()) out.push(flag, `@${await tool.write(`${prefix}-${i}.yaml`, patch)}`);
  return out;
}

/**
 * Machine configs for every node (role config from gen config, then the
 * node's own patches with `machineconfig patch`), and a fresh talosconfig
 * when `withTalosconfig`.
 */
export async function renderConfigs(
  tool: LocalTool,
  inputs: ConfigInputs,
  secrets: string,
  withTalosconfig: boolean,
): Promise<{ nodes: Record<string, RenderedNode>; talosconfig?: string }> {
  const cluster = inputs.clusterName;
  const secretsPath = await tool.write("secrets.yaml", secrets);
  const out = `${tool.dir}/gen`;
  const args = [
    "gen",
    "config",
    cluster,
    `https://${inputs.endpoint}:6443`,
    "--with-secrets",
    secretsPath,
    "--kubernetes-version",
    inputs.kubernetesVersion,
    "--talos-version",
    inputs.talosVersion,
    "--install-image",
    inputs.installImage,
    "--with-docs=false",
    "--with-examples=false",
    "--output-types",
    withTalosconfig ? "controlplane,worker,talosconfig" : "controlplane,worker",
    "--output",
    out,
    "--force",
    ...(await patchFlags(tool, "--config-patch", "cluster", [...inputs.clusterPatches, ...(inputs.cniNone ? [cniNonePatch()] : [])])),
    ...(await patchFlags(tool, "--config-patch-control-plane", "controlplane", [...inputs.controlPlanePatches, ...(inputs.vip ? [vipPatch(inputs.vip)] : [])])),
    ...(await patchFlags(tool, "--config-patch-worker", "worker", inputs.workerPatches)),
  ];
  await tool.must(cluster, args);
  const nodes: Record<string, RenderedNode> = {};
  for (const node of inputs.nodes) {
    const base = `${out}/${node.role}.yaml`;
    const own = [...node.patches, ...(node.installDisk ? [installDiskPatch(node.installDisk)] : [])];
    let path = base;
    if (own.length > 0) {
      path = `${tool.dir}/node-${node.name}.yaml`;
      await tool.must(node.name, ["machineconfig", "patch", base, ...(await patchFlags(tool, "--patch", `node-${node.name}`, own)), "--output", path]);
    }
    nodes[node.name] = { path, hash: sha256(await tool.read(path.slice(tool.dir.length + 1))) };
  }
  return { nodes, talosconfig: withTalosconfig ? await tool.read("gen/talosconfig") : undefined };
}

/**
 * The talosconfig with its endpoints set to the control planes' addresses
 * (gen config leaves `endpoints: []`, and every command then fails with
 * `failed to determine endpoints`; the VIP is never one: it is only up while
 * etcd and the API server are). Written to `<tmp>/talosconfig`.
 */
export async function withEndpoints(tool: LocalTool, cluster: string, talosconfig: string, endpoints: string[]): Promise<{ path: string; text: string }> {
  const path = await tool.write("talosconfig", talosconfig);
  if (stableJson(await talosconfigEndpoints(talosconfig)) === stableJson(endpoints)) return { path, text: talosconfig };
  await tool.must(cluster, ["config", "endpoint", ...endpoints, "--talosconfig", path]);
  return { path, text: await tool.read("talosconfig") };
}

/** The endpoints of a talosconfig's current context. */
export async function talosconfigEndpoints(talosconfig: string): Promise<string[]> {
  const YAML = await import("yaml");
  const doc = YAML.parse(talosconfig) as { context?: string; contexts?: Record<string, { endpoints?: string[] }> } | null;
  return doc?.contexts?.[doc.context ?? ""]?.endpoints ?? [];
}
