/**
 * A stack file's environment reshaped for the simulated cluster: the same
 * node names, NICs, networks and OSD devices, with the management addresses
 * and host keys of the simulator's nodes (127.A.B.11… port 22), and fresh
 * secrets for the simulation (never printed). Layers that need native
 * resources to exist (templates, VMs, HA) are left out: under this harness a
 * native resource is a mock, so there would be no VM to place.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import YAML from "yaml";
import type { SimCluster, SimDiskSpec, SimNodeSpec } from "../sim/cluster";

type Raw = Record<string, unknown>;
interface RawInterface {
  type: string;
  name: string;
  ports?: string[];
  slaves?: string[];
  address?: string;
  network?: string;
}
interface RawNode {
  name: string;
  address: string;
  hostKey?: string;
  interfaces?: RawInterface[];
  osds?: { device: string }[];
  thunderbolt?: { loopback?: string };
}
interface RawNetwork {
  name: string;
  cidr: string;
  gateway?: string;
}

/**
 * Layers this harness cannot run: templates, VMs and HA need the native
 * provider's VMs, Linode instances are native too, and the K3s clusters and
 * plain hosts run on those machines, which the simulator does not start;
 * Talos clusters run on VMs or VPS hosts the simulator does not start either.
 * The firewall's rules and the SDN zones are native resources too: the
 * harness answers them from their inputs, so no cluster.fw is written and
 * the firewall's verify step would (rightly) refuse to switch it on.
 */
const DROPPED_LAYERS = ["templates", "vms", "ha", "images", "linode", "hosts", "k3s", "talos", "firewall", "sdn"] as const;

export interface SimStack {
  /** The environment as the stack file has it (plain part only). */
  environment: Raw;
  /** Secret keys the stack file sets (values are ciphertext; only the shape is used). */
  secretShape: Raw;
}

export function readStackFile(file: string): SimStack {
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Raw };
  const environment = doc.config?.["homelab:environment"] as Raw | undefined;
  if (!environment) throw new Error(`${file}: no homelab:environment`);
  return { environment, secretShape: (doc.config?.["homelab:secrets"] as Raw | undefined) ?? {} };
}

/** One simulated node per stack node, same names. */
export function simNodeSpecs(stack: SimStack): SimNodeSpec[] {
  return (stack.environment.nodes as RawNode[]).map((n) => ({ name: n.name }));
}

export interface SimStackConfig {
  config: Record<string, string>;
  secretKeys: string[];
  /** What was left out, for the printout. */
  dropped: string[];
  /** OSDs the stack asks for (devices × osdsPerDevice). */
  expectedOsds: number;
  pools: string[];
}

/**
 * Shape the simulated nodes like the stack's (NICs in the installer's
 * /etc/network/interfaces, addresses on the other networks, OSD disks, root
 * passwords) and return the config the program runs with.
 */
export async function prepareSimStack(sim: SimCluster, stack: SimStack): Promise<SimStackConfig> {
  const env = structuredClone(stack.environment);
  const nodes = env.nodes as RawNode[];
  const networks = (env.networks as RawNetwork[] | undefined) ?? [];
  const base = sim.nodes[0].host.replace(/\.\d+$/, "");

  // The management network is the one carrying the first node's address; it moves to the sim's /24.
  const managementName = nodes[0].interfaces?.find((i) => i.address === nodes[0].address)?.network;
  for (const net of networks) {
    if (net.name !== managementName) continue;
    net.cidr = `${base}.0/24`;
    if (net.gateway) net.gateway = `${base}.1`;
  }

  const rootPasswords: Record<string, string> = {};
  for (const node of nodes) {
    const sn = sim.node(node.name);
    const management = node.interfaces?.find((i) => i.address === node.address);
    if (management) management.address = sn.host;
    node.address = sn.host;
    node.hostKey = sn.hostKeyFingerprint;
    // Every address the stack gives the node is up on it (the simulation models reachability by them).
    const others = [...(node.interfaces ?? []).map((i) => i.address), node.thunderbolt?.loopback].filter((a): a is string => !!a && a !== sn.host);
    sim.setAddresses(node.name, [sn.host, ...others]);
    const devices = [...new Set((node.osds ?? []).map((o) => o.device))];
    if (devices.length > 0) sim.setDisks(node.name, simDisks(devices));
    await writeInstallerInterfaces(sim, node, management, base);
    rootPasswords[node.name] = crypto.randomBytes(18).toString("base64url");
    sim.mutateState((s) => {
      s.nodes[node.name].rootPassword = rootPasswords[node.name];
    });
  }

  const dropped: string[] = [];
  for (const layer of DROPPED_LAYERS) {
    if (env[layer] !== undefined) dropped.push(layer);
    delete env[layer];
  }

  const secrets: Raw = { sshPrivateKey: sim.clientPrivateKey, rootPasswords };
  const hashes = stack.secretShape.userPasswordHashes as Raw | undefined;
  if (hashes) secrets.userPasswordHashes = Object.fromEntries(Object.keys(hashes).map((user) => [user, cryptShapedHash()]));

  const ceph = env.ceph as { pools?: { name: string }[] } | undefined;
  const osdsPerNode = (n: RawNode) => (n.osds ?? []).reduce((sum, o) => sum + ((o as { osdsPerDevice?: number }).osdsPerDevice ?? 1), 0);
  return {
    config: { "homelab:environment": JSON.stringify(env), "homelab:secrets": JSON.stringify(secrets) },
    secretKeys: ["homelab:secrets"],
    dropped,
    expectedOsds: ceph ? nodes.reduce((sum, n) => sum + osdsPerNode(n), 0) : 0,
    pools: ceph?.pools?.map((p) => p.name) ?? [],
  };
}

/** What the Proxmox installer leaves: the management bridge on one NIC, the other NICs unconfigured. */
async function writeInstallerInterfaces(sim: SimCluster, node: RawNode, management: RawInterface | undefined, base: string): Promise<void> {
  const nics = (node.interfaces ?? []).filter((i) => i.type === "nic").map((i) => i.name);
  const port = management?.ports?.find((p) => nics.includes(p)) ?? nics[0] ?? "eno1";
  const host = sim.node(node.name).host;
  const text = [
    "auto lo",
    "iface lo inet loopback",
    "",
    `iface ${port} inet manual`,
    "",
    "auto vmbr0",
    "iface vmbr0 inet static",
    `\taddress ${host}/24`,
    `\tgateway ${base}.1`,
    `\tbridge-ports ${port}`,
    "\tbridge-stp off",
    "\tbridge-fd 0",
    "",
    ...nics.filter((n) => n !== port).flatMap((n) => [`iface ${n} inet manual`, ""]),
    "source /etc/network/interfaces.d/*",
    "",
  ].join("\n");
  const r = await sim.exec(node.name, `cat > /etc/network/interfaces <<'EOF_HOMELAB'\n${text}EOF_HOMELAB\n`);
  if (r.code !== 0) throw new Error(`${node.name}: writing the installer's /etc/network/interfaces failed: ${r.stderr}`);
}

/**
 * One simulated disk per OSD device: a kernel path names the disk itself; a
 * /dev/disk/by-id/<nvme|ata>-<model>_<serial> link gets a disk (nvme<N>n1 or
 * sd<x>) with that model and serial, which the simulator resolves it to.
 */
export function simDisks(devices: readonly string[]): SimDiskSpec[] {
  let nvme = 0;
  let sata = 0;
  return devices.map((device) => {
    const byId = /^\/dev\/disk\/by-id\/(nvme|ata)-(.+)_([^_]+)$/.exec(device);
    if (!byId) return { name: device.replace(/^\/dev\//, ""), size: 1_000_204_886_016 };
    const [, bus, model, serial] = byId;
    const name = bus === "nvme" ? `nvme${nvme++}n1` : `sd${String.fromCharCode(98 + sata++)}`;
    return { name, size: 1_000_204_886_016, model: model.replace(/_/g, " "), serial };
  });
}

/** A value shaped like a sha512-crypt hash (the simulation never checks it against a password). */
function cryptShapedHash(): string {
  const alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const pick = (n: number) => Array.from(crypto.randomBytes(n), (b) => alphabet[b % 64]).join("");
  return `$6$${pick(16)}$${pick(86)}`;
}
