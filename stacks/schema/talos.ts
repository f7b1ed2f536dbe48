/**
 * Talos Kubernetes clusters: the schema of `talos` (versions pinned, the
 * Image Factory schematic, control-plane and worker nodes with their
 * addresses and patches, Cilium or flannel) in one of two flavours —
 * `proxmox` (VMs booted from the Factory ISO on this environment's nodes) or
 * `vps` (a rescue-mode host whose disk gets the pinned image) — and its
 * checks (an odd number of control planes, a VIP inside the node subnet,
 * unique addresses, Proxmox nodes that exist, a VPS reachable in rescue mode
 * and its APIs restricted to admin networks).
 *
 * No secret is configured here: the cluster's secrets, talosconfig and
 * kubeconfig are made by `talosctl` and live only in the state, as secrets.
 */
import { ipInCidr } from "../../infra/ipv4";
import { bool, cidr, hostName, integer, ipv4, list, mapping, networkName, oneOf, safeText, storageId, text, ifName } from "./fields";
import { show } from "./messages";
import { isCidr, isDevicePath, isHostKey, isInt, isIPv4, isLabel, isLinuxUser, isRecord, isString } from "./predicates";
import type { PathIssue } from "./views";

/** An exact release, `vX.Y.Z`: "latest", "v1.11" or a range are not pins. */
const EXACT_VERSION = /^v[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/;
/** A Cilium Helm chart version (the chart's versions carry no "v"). */
const CHART_VERSION = /^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/;
const SCHEMATIC = /^[0-9a-f]{64}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** An official extension name as the Factory lists it, e.g. siderolabs/qemu-guest-agent. */
const EXTENSION = /^[a-z0-9][a-z0-9-]{0,62}\/[a-z0-9][a-z0-9._-]{0,62}$/;
const VM_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A patch is YAML text handed to `talosctl --config-patch`; bounded so a pasted file stays a patch. */
const PATCH_MAX = 65536;
/** An absolute executable path or a bare name looked up on PATH. */
const EXECUTABLE = /^(\/[A-Za-z0-9._/-]{1,200}|[A-Za-z0-9._-]{1,64})$/;

const exactVersion = (what: string) => text(`${what} pinned to an exact release (e.g. "v1.11.5")`, (v) => EXACT_VERSION.test(v));
const patch = () => text(`a YAML patch (text, at most ${PATCH_MAX} characters)`, (v) => v.trim().length > 0 && v.length <= PATCH_MAX);
const patches = () => list(patch(), "a list of YAML patches").default([]);

/** The Talos platform images a VPS disk gets (the `.raw.xz` ones the rescue install decompresses). */
export const TALOS_VPS_PLATFORMS = ["metal", "nocloud", "hcloud"] as const;

const TalosNodeSchema = mapping(
  {
    /** Node name (the VM's name on Proxmox, the Kubernetes node name). */
    name: text("a node name (lowercase letters, digits, hyphens)", (v) => VM_NAME.test(v)),
    /** The node's static IPv4 address (on Proxmox: inside proxmox.network; on a VPS: its public address). */
    address: ipv4(),
    /** Patches of this node only (YAML text), after the cluster's and the role's. Defaults to none. */
    patches: patches(),
    /** Disk Talos installs to. Defaults to /dev/vda on Proxmox (virtio) and vps disk on a VPS. */
    installDisk: text("a device path (/dev/vda, /dev/disk/by-id/…)", isDevicePath).optional(),

    // Proxmox flavour: where the VM runs and how big it is.
    /** Proxmox node the VM runs on. */
    node: hostName().optional(),
    /** The VM's VMID (unique across templates, VMs and Talos VMs). */
    vmid: integer("a VMID", 100, 999999999).optional(),
    /** Cores. Defaults to proxmox.cores. */
    cores: integer("a core count", 1, 256).optional(),
    /** Memory in MiB. Defaults to proxmox.memoryMb. */
    memoryMb: integer("a memory size in MiB", 2048, 4194304).optional(),
    /** System disk size in GiB. Defaults to proxmox.diskGb. */
    diskGb: integer("a disk size in GiB", 10, 65536).optional(),
    /** Make the VM highly available under this placement of ha.placements. */
    ha: mapping(
      { placement: text("a placement name", (v) => VM_NAME.test(v)) },
      "a mapping with placement",
    ).optional(),

    // VPS flavour: the rescue system the image is written from.
    /** The rescue system SSH reaches (the provider's rescue mode, booted before the first run). */
    rescue: mapping(
      {
        /** Address of the rescue system (usually the public address). */
        address: ipv4(),
        /** Pinned host key fingerprint of the rescue system: `ssh-keyscan -t ed25519 <address> | ssh-keygen -lf -`. */
        hostKey: text('a host key fingerprint ("SHA256:" and 43 base64 characters)', isHostKey),
        /** Login user of the rescue system. Defaults to root. */
        user: text("a Linux user name", isLinuxUser).default("root"),
        /** SSH port. Defaults to 22. */
        port: integer("a TCP port", 1, 65535).default(22),
      },
      "a mapping with address and hostKey",
    ).optional(),
    /** The VPS disk the image is written to (everything on it is replaced). */
    disk: text("a device path (/dev/sda, /dev/vda, /dev/disk/by-id/…)", isDevicePath).optional(),
  },
  "a Talos node (a mapping with name and address)",
);

const ProxmoxFlavourSchema = mapping(
  {
    /** sha256 of the Factory's nocloud ISO for this schematic and Talos version (verified on download). */
    isoSha256: text("a sha256 (64 lowercase hex digits)", (v) => SHA256.test(v)),
    /** Storage the ISO is downloaded to, on every node that runs a Talos VM. Defaults to local. */
    isoStorage: storageId().default("local"),
    /** Network of the nodes' addresses (its cidr and gateway give the static configuration). */
    network: networkName(),
    /** Storage of the VMs' disks and cloud-init drives. Defaults to local-lvm. */
    storage: storageId().default("local-lvm"),
    /** Bridge of the VMs' NIC. Defaults to vmbr0. */
    bridge: ifName().default("vmbr0"),
    /** VLAN tag on a VLAN-aware bridge. Defaults to untagged. */
    vlanId: integer("a VLAN id", 1, 4094).optional(),
    /** DNS servers of the nodes. Defaults to the network's gateway. */
    dnsServers: list(ipv4(), "a list of IPv4 addresses").optional(),
    /** Cores per VM. Defaults to 2. */
    cores: integer("a core count", 1, 256).default(2),
    /** Memory per VM in MiB (Talos needs 2 GiB on a control plane). Defaults to 4096. */
    memoryMb: integer("a memory size in MiB", 2048, 4194304).default(4096),
    /** System disk per VM in GiB. Defaults to 32. */
    diskGb: integer("a disk size in GiB", 10, 65536).default(32),
  },
  "a mapping of Proxmox VM settings (isoSha256, network, …)",
);

const VpsFlavourSchema = mapping(
  {
    /** Factory platform of the disk image. Defaults to metal. */
    platform: oneOf(TALOS_VPS_PLATFORMS, "a Talos platform").default("metal"),
    /** sha256 of the Factory's `<platform>-amd64.raw.xz` for this schematic and Talos version (verified before it is written). */
    imageSha256: text("a sha256 (64 lowercase hex digits)", (v) => SHA256.test(v)),
    /** Who may reach the Talos API (50000) and the Kubernetes API (6443); every other source is blocked by Talos's ingress firewall. */
    adminCidrs: list(cidr(), "a list of IPv4 CIDRs").default([]),
    /** Leave both APIs open to the internet (no adminCidrs). Defaults to false: a VPS cluster without adminCidrs is refused. */
    allowOpenApi: bool().default(false),
  },
  "a mapping of VPS settings (imageSha256, adminCidrs)",
);

export const TalosClusterSchema = mapping(
  {
    /** Cluster name (stack output kubernetes.<name>). */
    name: text("a cluster name (lowercase letters, digits and hyphens, 1–63 characters)", isLabel),
    /** Talos release of the image and the installer, e.g. v1.11.5. */
    talosVersion: exactVersion("a Talos release"),
    /** Kubernetes release, e.g. v1.34.1. */
    kubernetesVersion: exactVersion("a Kubernetes release"),
    /** The talosctl the machine running Pulumi uses; its version is checked before anything runs. */
    talosctl: mapping(
      {
        /** Release of talosctl (same minor as talosVersion). */
        version: exactVersion("a talosctl release"),
        /** Executable: an absolute path or a name on PATH. Defaults to talosctl. */
        path: text("an executable path or name", (v) => EXECUTABLE.test(v)).default("talosctl"),
      },
      "a mapping with version",
    ),
    /**
     * Image Factory schematic id (64 hex): POST the schematic YAML to
     * https://factory.talos.dev/schematics; it is content-addressed, so the
     * same extensions give the same id.
     */
    schematic: text("an Image Factory schematic id (64 lowercase hex digits)", (v) => SCHEMATIC.test(v)),
    /** The extensions the schematic holds (documentation of what the id means; e.g. siderolabs/qemu-guest-agent). */
    extensions: list(text("an extension name (e.g. siderolabs/qemu-guest-agent)", (v) => EXTENSION.test(v)), "a list of extension names").default([]),
    /** Control-plane nodes: 1, 3 or 5 (etcd needs a majority). */
    controlPlanes: list(TalosNodeSchema, "a list of Talos nodes").min(1, { error: "empty; a cluster needs at least one control plane" }),
    /** Worker nodes. Defaults to none (control planes then run workloads). */
    workers: list(TalosNodeSchema, "a list of Talos nodes").default([]),
    /** Shared control-plane address (Layer-2 VIP, Proxmox only): inside the nodes' network, no node's address. */
    vip: ipv4().optional(),
    /** Patches (YAML text) of every node, of control planes, of workers. Defaults to none. */
    patches: mapping(
      { cluster: patches(), controlPlane: patches(), worker: patches() },
      "a mapping with cluster, controlPlane and worker patches",
    ).prefault({}),
    /** The CNI: cilium (installed with Helm after bootstrap; Talos's own CNI and kube-proxy off) or flannel (Talos's default). Defaults to cilium. */
    cni: oneOf(["cilium", "flannel"] as const, "a CNI").default("cilium"),
    /** Cilium Helm chart version, pinned (e.g. 1.18.0). Required with cni: cilium. */
    ciliumVersion: text('a Cilium chart version pinned to an exact release (e.g. "1.18.0")', (v) => CHART_VERSION.test(v)).optional(),
    /** Change this text to regenerate the cluster's secrets (a new cluster identity) on the next `pulumi up`. Defaults to none. */
    secretsRotation: safeText().optional(),
    /** Seconds every node may take to become Ready after Cilium is installed. Defaults to 600. */
    readyTimeoutSeconds: integer("a number of seconds", 30, 7200).default(600),
    /** VMs on this environment's Proxmox nodes. */
    proxmox: ProxmoxFlavourSchema.optional(),
    /** Hosts with a rescue mode (any VPS provider), their disk written from it. */
    vps: VpsFlavourSchema.optional(),
  },
  "a Talos cluster (a mapping with name, versions, schematic, controlPlanes and proxmox or vps)",
);

export const TalosSchema = mapping(
  {
    clusters: list(TalosClusterSchema, "a list of Talos clusters").default([]),
  },
  "a mapping with clusters",
);

type Issue = (path: (string | number)[], message: string) => void;

/** One control plane or worker of a cluster with its place in the config. */
interface NodeAt {
  node: Record<string, unknown>;
  role: "controlPlanes" | "workers";
  index: number;
}

/** Versions, control-plane count, VIP, addresses, the flavour's needs, and names shared with K3s. */
export function checkTalos(value: Record<string, unknown>): PathIssue[] {
  const issues: PathIssue[] = [];
  const talos = isRecord(value.talos) ? value.talos : {};
  const clusters = Array.isArray(talos.clusters) ? talos.clusters : [];
  const addresses = new Map<string, string>();
  const names = new Map<string, string>();
  const k3s = isRecord(value.k3s) && Array.isArray(value.k3s.clusters) ? value.k3s.clusters.filter(isRecord).map((c) => c.name) : [];
  const outputNames = new Set<string>();
  clusters.forEach((c, ci) => {
    if (!isRecord(c)) return;
    const add: Issue = (path, message) => issues.push({ path: ["talos", "clusters", ci, ...path], message });
    if (isLabel(c.name)) {
      if (k3s.includes(c.name)) add(["name"], `${show(c.name)} is also a K3s cluster's name; both are stack outputs kubernetes.<name>`);
      else if (outputNames.has(c.name)) add(["name"], `${show(c.name)} is the name of another Talos cluster`);
      outputNames.add(c.name);
    }
    const nodes: NodeAt[] = [];
    for (const role of ["controlPlanes", "workers"] as const) {
      if (Array.isArray(c[role])) c[role].forEach((n, index) => isRecord(n) && nodes.push({ node: n, role, index }));
    }
    const controlPlanes = Array.isArray(c.controlPlanes) ? c.controlPlanes.length : 0;
    if (controlPlanes >= 2 && controlPlanes % 2 === 0) {
      add(
        ["controlPlanes"],
        `${controlPlanes} control planes; etcd needs a majority, so use an odd number (1, 3, 5): an even number tolerates no more failures than one less`,
      );
    }
    checkVersions(c, add);
    if (c.cni === undefined || c.cni === "cilium") {
      if (c.ciliumVersion === undefined) add(["ciliumVersion"], 'missing; cni cilium needs its chart version pinned (e.g. "1.18.0"), or set cni: flannel');
    } else if (c.ciliumVersion !== undefined) {
      add(["ciliumVersion"], `set, but cni is ${show(c.cni)}; Cilium is installed only with cni: cilium`);
    }
    const clusterName = isLabel(c.name) ? c.name : `talos.clusters[${ci}]`;
    for (const { node, role, index } of nodes) {
      const at = (...rest: (string | number)[]) => [role, index, ...rest];
      if (isLabel(node.name)) {
        const other = names.get(node.name);
        if (other !== undefined) add(at("name"), `${show(node.name)} is already a node of ${other}`);
        else names.set(node.name, clusterName === `talos.clusters[${ci}]` ? clusterName : `Talos cluster ${show(clusterName)}`);
      }
      if (isIPv4(node.address)) {
        const other = addresses.get(node.address);
        if (other !== undefined) add(at("address"), `${show(node.address)} is already the address of ${other}`);
        else addresses.set(node.address, isLabel(node.name) ? `node ${show(node.name)}` : `${role}[${index}]`);
      }
    }
    const proxmox = c.proxmox !== undefined;
    const vps = c.vps !== undefined;
    if (proxmox === vps) {
      add([], proxmox ? "give either proxmox or vps, not both" : "missing proxmox or vps: say where the nodes run (Proxmox VMs, or rescue-mode VPS hosts)");
    } else if (proxmox) {
      checkProxmoxFlavour(value, c, nodes, add);
    } else {
      checkVpsFlavour(c, nodes, add);
    }
  });
  issues.push(...checkTalosVmids(value));
  return issues;
}

function checkVersions(c: Record<string, unknown>, add: Issue): void {
  const minor = (v: unknown) => (isString(v) && EXACT_VERSION.test(v) ? v.split(".").slice(0, 2).join(".") : undefined);
  const talos = minor(c.talosVersion);
  const talosctl = isRecord(c.talosctl) ? minor(c.talosctl.version) : undefined;
  if (talos !== undefined && talosctl !== undefined && talos !== talosctl) {
    add(["talosctl", "version"], `${show((c.talosctl as Record<string, unknown>).version)} is not a ${talos}.x release; use the talosctl of the cluster's Talos minor (${show(c.talosVersion)})`);
  }
}

/** The network, the VIP inside it, each VM on a node of this environment, HA placements that exist. */
function checkProxmoxFlavour(value: Record<string, unknown>, c: Record<string, unknown>, nodes: NodeAt[], add: Issue): void {
  const flavour = isRecord(c.proxmox) ? c.proxmox : {};
  const envNodes = Array.isArray(value.nodes) ? value.nodes.filter(isRecord) : [];
  const nodeNames = envNodes.map((n) => n.name).filter(isLabel);
  const nodesComplete = nodeNames.length === envNodes.length;
  if (envNodes.length === 0) add(["proxmox"], "needs Proxmox nodes (nodes is empty); a cluster on hosts with a rescue mode is a vps cluster");
  if (!isRecord(value.apiAccess)) add(["proxmox"], "needs apiAccess: the ISO and the VMs are created with the Proxmox API token");
  const networks = Array.isArray(value.networks) ? value.networks.filter(isRecord) : [];
  const network = isLabel(flavour.network) ? networks.find((n) => n.name === flavour.network) : undefined;
  if (isLabel(flavour.network) && !network) add(["proxmox", "network"], `no network named ${show(flavour.network)}`);
  const subnet = network && isCidr(network.cidr) ? network.cidr : undefined;
  if (subnet !== undefined && network && !isIPv4(network.gateway)) {
    add(["proxmox", "network"], `network ${show(network.name)} has no gateway; the nodes' static configuration needs one`);
  }
  const placements = isRecord(value.ha) && Array.isArray(value.ha.placements) ? value.ha.placements.filter(isRecord).map((p) => p.name) : [];
  // One placement is one HA group or rule, managed in one place: the VMs' or a Talos cluster's.
  const vmPlacements = new Set(
    (Array.isArray(value.vms) ? value.vms.filter(isRecord) : []).map((v) => (isRecord(v.ha) ? v.ha.placement : undefined)).filter(isString),
  );
  for (const { node, role, index } of nodes) {
    const at = (...rest: (string | number)[]) => [role, index, ...rest];
    const what = isLabel(node.name) ? `Talos VM ${show(node.name)}` : "a Talos VM";
    if (node.node === undefined) add(at("node"), `missing; ${what} needs the Proxmox node it runs on`);
    else if (isLabel(node.node) && nodesComplete && !nodeNames.includes(node.node)) add(at("node"), `no Proxmox node named ${show(node.node)} in this environment`);
    if (node.vmid === undefined) add(at("vmid"), `missing; ${what} needs a VMID`);
    if (subnet !== undefined && isIPv4(node.address) && !ipInCidr(node.address, subnet)) {
      add(at("address"), `${show(node.address)} is not inside network ${show(flavour.network)} (${subnet})`);
    }
    if (isRecord(node.ha) && isString(node.ha.placement) && !placements.includes(node.ha.placement)) {
      add(at("ha", "placement"), `no placement named ${show(node.ha.placement)} in ha.placements`);
    } else if (isRecord(node.ha) && isString(node.ha.placement) && vmPlacements.has(node.ha.placement)) {
      add(at("ha", "placement"), `${show(node.ha.placement)} already places VMs of vms; give Talos nodes placements of their own`);
    }
    for (const key of ["rescue", "disk"] as const) {
      if (node[key] !== undefined) add(at(key), "only for a vps cluster; a Proxmox VM boots the Factory ISO");
    }
  }
  if (isIPv4(c.vip)) {
    if (subnet !== undefined && !ipInCidr(c.vip, subnet)) {
      add(["vip"], `${show(c.vip)} is not inside the nodes' network ${show(flavour.network)} (${subnet}); a Layer-2 VIP lives on the nodes' own subnet`);
    }
    const owner = nodes.find((n) => n.node.address === c.vip);
    if (owner) add(["vip"], `${show(c.vip)} is the address of node ${show(owner.node.name)}; the VIP must be a free address`);
  }
}

/** Each VPS node reachable in its rescue system with a target disk; the APIs restricted unless explicitly open. */
function checkVpsFlavour(c: Record<string, unknown>, nodes: NodeAt[], add: Issue): void {
  const flavour = isRecord(c.vps) ? c.vps : {};
  if (c.vip !== undefined) add(["vip"], "only for a proxmox cluster: a Layer-2 VIP needs a shared segment, which VPS hosts do not have");
  for (const { node, role, index } of nodes) {
    const at = (...rest: (string | number)[]) => [role, index, ...rest];
    const what = isLabel(node.name) ? `VPS node ${show(node.name)}` : "a VPS node";
    if (node.rescue === undefined) add(at("rescue"), `missing; ${what} needs its rescue system's address and host key (the image is written from there)`);
    if (node.disk === undefined) add(at("disk"), `missing; ${what} needs the disk the Talos image is written to`);
    for (const key of ["node", "vmid", "cores", "memoryMb", "diskGb", "ha"] as const) {
      if (node[key] !== undefined) add(at(key), "only for a proxmox cluster");
    }
  }
  const cidrs = Array.isArray(flavour.adminCidrs) ? flavour.adminCidrs : [];
  if (cidrs.length === 0 && flavour.allowOpenApi !== true) {
    add(
      ["vps", "adminCidrs"],
      "empty; a VPS has no firewall in front of the Talos API (50000) and the Kubernetes API (6443): list the admin networks, or set allowOpenApi: true to leave them open",
    );
  } else if (cidrs.length > 0 && flavour.allowOpenApi === true) {
    add(["vps", "allowOpenApi"], "true, but adminCidrs restricts the APIs; drop one of them");
  }
}

/** Talos VMs' VMIDs collide neither with each other nor with templates and VMs. */
function checkTalosVmids(value: Record<string, unknown>): PathIssue[] {
  const issues: PathIssue[] = [];
  const taken = new Map<number, string>();
  const templates = Array.isArray(value.templates) ? value.templates.filter(isRecord) : [];
  templates.forEach((t, i) => isInt(t.vmid, 100, 999999999) && taken.set(t.vmid, `templates[${i}]`));
  const base = isInt(value.vmidBase, 100, 999999000) ? value.vmidBase : 200;
  const vms = Array.isArray(value.vms) ? value.vms : [];
  vms.forEach((v, i) => {
    if (!isRecord(v)) return;
    const id = v.vmid ?? base + i;
    if (isInt(id, 100, 999999999) && !taken.has(id)) taken.set(id, `vms[${i}]`);
  });
  const talos = isRecord(value.talos) && Array.isArray(value.talos.clusters) ? value.talos.clusters : [];
  talos.forEach((c, ci) => {
    if (!isRecord(c) || c.proxmox === undefined) return;
    for (const role of ["controlPlanes", "workers"] as const) {
      if (!Array.isArray(c[role])) continue;
      c[role].forEach((n, i) => {
        if (!isRecord(n) || !isInt(n.vmid, 100, 999999999)) return;
        const path = ["talos", "clusters", ci, role, i, "vmid"];
        const owner = taken.get(n.vmid);
        if (owner) issues.push({ path, message: `VMID ${n.vmid} is already used by ${owner}` });
        else taken.set(n.vmid, `talos.clusters[${ci}].${role}[${i}]`);
      });
    }
  });
  return issues;
}
