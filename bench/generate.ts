/**
 * Generated environments of any size for the evaluation benchmark: the
 * matrix stack's layers (networks, baseline, cluster, API access, Ceph with
 * its pools, templates, VMs, HA) on N nodes shaped like its first node.
 * The first three nodes keep the matrix names, so the templates, VMs and HA
 * placements that name them stay valid; monitors are on those three.
 */
import * as crypto from "node:crypto";
import { readStackFile } from "../tests/engine/sim-stack";
import { resolveStackFile } from "../stacks/stack-file";

type Raw = Record<string, unknown>;

function fingerprint(seed: string): string {
  return `SHA256:${crypto.createHash("sha256").update(seed).digest("base64").replace(/=+$/, "")}`;
}

/** The flat config map the CLI would pass the program, with mock secrets. */
export function generatedConfig(nodeCount: number): { config: Record<string, string>; secretKeys: string[] } {
  if (!Number.isInteger(nodeCount) || nodeCount < 3 || nodeCount > 200) throw new Error(`generatedConfig: 3 to 200 nodes, not ${nodeCount}`);
  const env = structuredClone(readStackFile(resolveStackFile("matrix")).environment);
  const model = (env.nodes as Raw[])[0];
  const kept = (env.nodes as Raw[]).map((n) => n.name as string);
  const octet = (address: string, i: number) => address.replace(/\.\d+$/, `.${10 + i}`);
  const nodes = Array.from({ length: nodeCount }, (_, i) => {
    const node = structuredClone(model);
    node.name = kept[i] ?? `pve${String(i + 1).padStart(3, "0")}`;
    node.address = octet(node.address as string, i);
    node.hostKey = fingerprint(node.name as string);
    for (const iface of node.interfaces as Raw[]) if (typeof iface.address === "string") iface.address = octet(iface.address, i);
    return node;
  });
  env.nodes = nodes;
  (env.ceph as Raw).monNodes = kept;
  const secrets = {
    sshPrivateKey: "mock-secret:sshPrivateKey",
    rootPasswords: Object.fromEntries(nodes.map((n) => [n.name as string, `mock-secret:root-${n.name as string}`])),
  };
  return { config: { "homelab:environment": JSON.stringify(env), "homelab:secrets": JSON.stringify(secrets) }, secretKeys: ["homelab:secrets"] };
}
