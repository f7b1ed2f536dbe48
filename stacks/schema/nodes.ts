/**
 * Nodes: the schemas of `ssh` (how every node is reached), of `nodes` (SSH
 * identity, interfaces, thunderbolt ports, OSD devices) and of the
 * `thunderbolt` ring settings, and the checks across nodes (unique names and
 * addresses, ring cables with two ends, OSD devices).
 */
import { z } from "zod";
import { osdInputProblems } from "../../infra/providers/ceph/ceph-osd";
import { DEFAULTS as RING_VERIFY_DEFAULTS } from "../../infra/providers/network/ring-verify";
import { SSH_DEFAULTS } from "../../infra/ssh";
import { bool, hostName, ifName, integer, ipv4, list, mapping, mtu, networkName, oneOf, safeText, text } from "./fields";
import { checkInterfaces, InterfaceSchema } from "./interfaces";
import { show } from "./messages";
import { checkNetworkRef, hostAddressProblem, type KnownNetwork, type NetworkIndex } from "./networks";
import {
  MTU_MAX,
  isDeviceClass,
  isDevicePath,
  hostKeyFromKeygenLine,
  isHostKey,
  isInt,
  isLabel,
  isLinuxUser,
  isPciPath,
  isRecord,
  isString,
} from "./predicates";
import {
  field,
  nodeView,
  pathText,
  type AddIssue,
  type Field,
  type InterfaceView,
  type NodeView,
  type Path,
  type PathIssue,
  type PortView,
} from "./views";

export const SshSchema = mapping(
  {
    /** Remote user. Defaults to root. */
    user: text("a Linux user name ([a-z_][a-z0-9_-], at most 32 characters)", isLinuxUser).default("root"),
    /** SSH port of every node unless a node overrides it. Defaults to 22. */
    port: integer("a TCP port", 1, 65535).default(22),
    /** Seconds to wait for the TCP/SSH handshake. Defaults to 10. */
    connectTimeoutSeconds: integer("a connect timeout in seconds", 1, 300).default(SSH_DEFAULTS.connectTimeoutMs / 1000),
    /** Seconds one remote command may run. Defaults to 900. */
    commandTimeoutSeconds: integer("a command timeout in seconds", 1, 86400).default(SSH_DEFAULTS.commandTimeoutMs / 1000),
    /** Connect retries, exponential backoff. Defaults to 3. */
    retries: integer("a retry count", 0, 10).default(SSH_DEFAULTS.retries),
    /** Use the SSH agent (SSH_AUTH_SOCK) instead of secrets.sshPrivateKey. Defaults to false. */
    useAgent: bool().default(false),
  },
  "a mapping of SSH settings",
);

export const ThunderboltPortSchema = mapping(
  {
    /** Interface name the port is renamed to (systemd .link), e.g. en05. */
    name: ifName(),
    /** PCI path of the Thunderbolt/USB4 controller port, e.g. 0000:00:0d.2. */
    pciPath: text('a PCI path (e.g. "0000:00:0d.2")', isPciPath),
    /** The node at the other end of the cable. */
    peer: hostName(),
  },
  "a thunderbolt port (a mapping with name, pciPath and peer)",
);

export const NodeThunderboltSchema = mapping(
  {
    /** This node's ring loopback (/32), inside thunderbolt.network. */
    loopback: ipv4(),
    ports: list(ThunderboltPortSchema, "a list of thunderbolt ports")
      .min(1, { error: "empty; a ring node needs at least one port" })
      .max(4, { error: "more than 4 thunderbolt ports" }),
  },
  "a mapping with loopback and ports",
);

export const OsdDeviceSchema = mapping(
  {
    /** Whole block device, e.g. /dev/nvme0n1 or /dev/disk/by-id/nvme-…. */
    device: text("a block device path (/dev/<name> or /dev/disk/by-id/<id>)", isDevicePath),
    /** OSDs carved out of this device (equal parts). Defaults to 1. */
    osdsPerDevice: integer("an OSD count per device", 1, 8).default(1),
    /** CRUSH device class. Defaults to what Ceph detects. */
    deviceClass: text("a device class (e.g. nvme, ssd, hdd)", isDeviceClass).optional(),
    /** Separate DB device. */
    dbDevice: text("a block device path", isDevicePath).optional(),
    /** Separate WAL device. */
    walDevice: text("a block device path", isDevicePath).optional(),
    /** Zap whatever is on the device first (partitions, filesystems, LVM). Defaults to false: a used device is refused. */
    wipe: bool().default(false),
  },
  "an OSD device (a mapping with device)",
);

/** The Proxmox VE major each Debian release carries (infra/pve-install.ts debianReleaseFor). */
const PVE_MAJOR_OF_DEBIAN: Record<number, number> = { 12: 8, 13: 9 };

export const ProxmoxSchema = mapping(
  {
    /** The Proxmox VE major nodes marked `install: { from: debian }` get: 8 (Debian 12) or 9 (Debian 13). */
    major: integer("a Proxmox VE major version", 8, 9),
  },
  "a mapping with major",
);

export const PveInstallSchema = mapping(
  {
    /** Where the node starts from: a plain Debian install. */
    from: oneOf(["debian"] as const, "an install source"),
    /** The node's Debian release (12 or 13), when you want it checked here; the node's /etc/os-release is checked anyway. */
    debianRelease: integer("a Debian release", 12, 13).optional(),
    /** Seconds the node may take to come back from the reboot into the Proxmox kernel. Defaults to 900. */
    rebootTimeoutSeconds: integer("a reboot timeout in seconds", 30, 3600).default(900),
  },
  "an install (a mapping with from: debian)",
);

export const NodeSchema = mapping(
  {
    name: hostName(),
    /** Management IPv4 used for SSH; the address of one of the node's interfaces. */
    address: ipv4(),
    /** Overrides ssh.port for this node. */
    sshPort: integer("a TCP port", 1, 65535).optional(),
    /** SHA256 fingerprint of the node's SSH host key (`ssh-keygen -lf`). */
    hostKey: z
      .preprocess(
        hostKeyFromKeygenLine,
        text("an SSH host key fingerprint (SHA256: and 43 base64 characters, as ssh-keygen -lf prints it)", isHostKey),
      )
      .optional(),
    /** Explicit opt-out of host key pinning. Defaults to false. */
    insecureIgnoreHostKey: bool().default(false),
    interfaces: list(InterfaceSchema, "a list of interfaces"),
    thunderbolt: NodeThunderboltSchema.optional(),
    /**
     * Allow a network change that touches the management path (the stanza
     * holding `address`, what is under it, the gateway). Defaults to false:
     * such a change is refused because it can cut the connection mid-apply.
     */
    allowManagementChange: bool().default(false),
    /** Ceph OSDs on this node's devices. Defaults to none. */
    osds: list(OsdDeviceSchema, "a list of OSD devices").default([]),
    /** A plain Debian host that gets Proxmox VE (proxmox.major) installed first. Defaults to none: the node runs Proxmox VE. */
    install: PveInstallSchema.optional(),
  },
  "a node (a mapping with name, address, hostKey and interfaces)",
);

export const ThunderboltSchema = mapping(
  {
    /** The network holding the nodes' ring loopbacks. */
    network: networkName(),
    /** MTU of the ring ports (both ends must agree). Defaults to 65520. */
    mtu: mtu().default(MTU_MAX),
    /** Ring verification after every change: ping every pair, iperf3 every cable. */
    verify: mapping(
      {
        /** Run the verification. Defaults to true. */
        enabled: bool().default(true),
        /** Seconds of iperf3 per cable. Defaults to 3. */
        iperfSeconds: integer("a duration in seconds", 1, 60).default(RING_VERIFY_DEFAULTS.iperfSeconds),
        /** Fail when a cable measures less than this many Gbit/s. Defaults to no minimum. */
        minGbps: integer("a bandwidth in Gbit/s", 1, 100).optional(),
        /** Change this text to run the verification again on the next `pulumi up`. */
        trigger: safeText().optional(),
      },
      "a mapping of verification settings",
    ).prefault({}),
  },
  "a mapping with the ring network",
);

/** The thunderbolt ring network, as far as it is valid and known. */
export interface RingNetwork {
  name: Field<string>;
  network: KnownNetwork | undefined;
}

/** `thunderbolt.network` names a network. */
export function checkRingNetwork(value: Record<string, unknown>, networks: NetworkIndex, add: AddIssue): RingNetwork {
  const tbRaw = value.thunderbolt;
  const tbNetworkName: Field<string> = isRecord(tbRaw) ? field(tbRaw.network, isLabel) : tbRaw === undefined ? undefined : null;
  if (tbNetworkName !== undefined) checkNetworkRef(networks, add, ["thunderbolt", "network"], tbNetworkName);
  const tbNetwork = isString(tbNetworkName) ? networks.known.get(tbNetworkName) : undefined;
  return { name: tbNetworkName, network: tbNetwork };
}

/**
 * Per node: host key pinning, its interfaces (checkInterfaces), its address,
 * its thunderbolt ports; across nodes: unique names and IPv4 addresses. Returns
 * the node views the cluster checks use.
 */
export function checkNodes(value: Record<string, unknown>, networks: NetworkIndex, ring: RingNetwork, add: AddIssue): NodeView[] {
  const nodes = Array.isArray(value.nodes) ? value.nodes.map(nodeView) : [];
  const nodeNamesComplete = Array.isArray(value.nodes) && nodes.every((n) => isString(n.name));
  const nodeByName = new Map<string, NodeView>();
  for (const node of nodes) {
    if (!isString(node.name)) continue;
    const first = nodeByName.get(node.name);
    if (first) add(["nodes", node.index, "name"], `${show(node.name)} is already the name of nodes[${first.index}]`);
    else nodeByName.set(node.name, node);
  }

  /** Every IPv4 used by a node, first owner wins: ip -> path text. */
  const ipOwners = new Map<string, string>();

  for (const node of nodes) {
    const at = (...rest: Path): Path => ["nodes", node.index, ...rest];

    // host key pinning
    if ((node.insecure === false || node.insecure === undefined) && node.hostKey === undefined) {
      const addr = isString(node.address) ? node.address : "<address>";
      add(
        at("hostKey"),
        `missing; pin the node's SSH host key (ssh-keyscan -t ed25519 ${addr} | ssh-keygen -lf -) or set insecureIgnoreHostKey: true`,
      );
    }
    if (node.insecure === true && node.hostKey !== undefined) {
      add(at("insecureIgnoreHostKey"), "true, but hostKey is set too; keep one of them");
    }

    const byName = checkInterfaces(node, networks, ring.name, add);
    const ifaces = node.interfaces ?? [];
    const ifacesOk = node.interfaces !== null;
    const ifRef = (i: InterfaceView) => `nodes[${node.index}].interfaces[${i.index}]`;
    const ifPath = (i: InterfaceView, ...rest: Path): Path => at("interfaces", i.index, ...rest);

    // node.address is the address of one of its interfaces
    if (isString(node.address) && ifacesOk && ifaces.every((i) => i.address !== null)) {
      const addressed = ifaces.filter((i) => isString(i.address));
      if (!addressed.some((i) => i.address === node.address)) {
        const list = addressed.length
          ? `its interfaces have ${addressed.map((i) => `${i.name ?? "?"} ${i.address}`).join(", ")}`
          : "none of its interfaces has an address";
        add(at("address"), `${show(node.address)} is not the address of any of its interfaces (${list})`);
      }
    }

    // thunderbolt
    const tb = node.thunderbolt;
    if (tb) {
      if (isString(tb.loopback) && ring.network) {
        const problem = hostAddressProblem(tb.loopback, ring.network.cidr);
        if (problem) {
          add(at("thunderbolt", "loopback"), `${show(tb.loopback)} ${problem} network ${show(ring.network.name)} (${ring.network.cidr})`);
        }
      }
      const portNames = new Map<string, PortView>();
      const pciPaths = new Map<string, PortView>();
      const peers = new Map<string, PortView>();
      for (const port of tb.ports ?? []) {
        const pp = (...rest: Path): Path => at("thunderbolt", "ports", port.index, ...rest);
        if (isString(port.name)) {
          const firstPort = portNames.get(port.name);
          const iface = byName.get(port.name);
          if (firstPort) add(pp("name"), `${show(port.name)} is already the name of thunderbolt.ports[${firstPort.index}]`);
          else if (iface) add(pp("name"), `${show(port.name)} is already declared as ${ifRef(iface)}`);
          else portNames.set(port.name, port);
        }
        if (isString(port.pciPath)) {
          const first = pciPaths.get(port.pciPath);
          if (first) add(pp("pciPath"), `${show(port.pciPath)} is already the PCI path of thunderbolt.ports[${first.index}]`);
          else pciPaths.set(port.pciPath, port);
        }
        if (isString(port.peer)) {
          const first = peers.get(port.peer);
          if (port.peer === node.name) {
            add(pp("peer"), `${show(port.peer)} is this node itself`);
          } else if (first) {
            add(pp("peer"), `${show(port.peer)} is already the peer of thunderbolt.ports[${first.index}]`);
          } else {
            peers.set(port.peer, port);
            const peer = nodeByName.get(port.peer);
            if (!peer) {
              if (nodeNamesComplete) add(pp("peer"), `no node named ${show(port.peer)}`);
            } else if (peer.thunderbolt === undefined) {
              add(pp("peer"), `node ${show(port.peer)} has no thunderbolt ports`);
            } else if (
              peer.thunderbolt &&
              Array.isArray(peer.thunderbolt.ports) &&
              peer.thunderbolt.ports.every((p) => isString(p.peer)) &&
              isString(node.name) &&
              !peer.thunderbolt.ports.some((p) => p.peer === node.name)
            ) {
              add(
                pp("peer"),
                `${show(port.peer)} does not list ${show(node.name)} as a peer (nodes[${peer.index}].thunderbolt.ports); a cable has two ends`,
              );
            }
          }
        }
      }
    }

    // every IPv4 unique across the environment; node.address repeats one interface address by design
    const mine: { ip: string; path: Path; kind: "node" | "interface" | "loopback" }[] = [];
    if (isString(node.address)) mine.push({ ip: node.address, path: at("address"), kind: "node" });
    for (const iface of ifaces) {
      if (isString(iface.address)) mine.push({ ip: iface.address, path: ifPath(iface, "address"), kind: "interface" });
    }
    if (tb && isString(tb.loopback)) mine.push({ ip: tb.loopback, path: at("thunderbolt", "loopback"), kind: "loopback" });
    const local = new Map<string, { path: Path; kind: string; repeated: boolean }>();
    for (const { ip, path, kind } of mine) {
      const here = local.get(ip);
      if (here) {
        if (here.kind === "node" && !here.repeated && kind === "interface") {
          here.repeated = true;
          here.path = path;
        } else {
          add(path, `${show(ip)} is already used by ${pathText(here.path)}`);
        }
        continue;
      }
      local.set(ip, { path, kind, repeated: false });
      const owner = ipOwners.get(ip);
      if (owner) add(path, `${show(ip)} is already used by ${owner}`);
      else ipOwners.set(ip, pathText(path));
    }
  }

  // thunderbolt settings required when a node has ports
  const firstTbNode = nodes.find((n) => n.thunderbolt !== undefined);
  if (firstTbNode && value.thunderbolt === undefined) {
    add(
      ["thunderbolt"],
      `missing; nodes[${firstTbNode.index}]${isString(firstTbNode.name) ? ` (${firstTbNode.name})` : ""} has thunderbolt ports, ` +
        "so the ring settings (thunderbolt.network) are required",
    );
  }
  return nodes;
}

/** OSD devices: unique per node; several OSDs per device cannot have a separate DB/WAL device, nor DB/WAL the device itself; and whatever else the OSD provider refuses. */
export function checkOsdDevices(nodes: Record<string, unknown>[]): PathIssue[] {
  const issues: PathIssue[] = [];
  nodes.forEach((node, n) => {
    const osds = Array.isArray(node.osds) ? node.osds : [];
    const devices = new Map<string, number>();
    osds.forEach((osd, i) => {
      if (!isRecord(osd) || !isDevicePath(osd.device)) return;
      const before = issues.length;
      for (const key of ["dbDevice", "walDevice"] as const) {
        if (osd[key] === osd.device) {
          issues.push({ path: ["nodes", n, "osds", i, key], message: `${show(osd.device)} is the OSD device itself; a separate ${key === "dbDevice" ? "DB" : "WAL"} device is another disk` });
        }
      }
      const first = devices.get(osd.device);
      if (first !== undefined) {
        issues.push({ path: ["nodes", n, "osds", i, "device"], message: `${show(osd.device)} is already nodes[${n}].osds[${first}]` });
      } else devices.set(osd.device, i);
      if (isInt(osd.osdsPerDevice, 2, 8) && (osd.dbDevice !== undefined || osd.walDevice !== undefined)) {
        issues.push({
          path: ["nodes", n, "osds", i, "osdsPerDevice"],
          message: "more than one OSD per device cannot use a separate DB/WAL device (pveceph refuses the combination)",
        });
      }
      // Whatever else the OSD provider would refuse (its rules live there), once this device's own checks passed.
      const parsed = OsdDeviceSchema.safeParse(osd);
      if (issues.length === before && parsed.success && isLabel(node.name)) {
        const prefix = `${node.name}: device `;
        for (const problem of osdInputProblems(node.name, [parsed.data])) {
          issues.push({ path: ["nodes", n, "osds", i], message: problem.startsWith(prefix) ? problem.slice(prefix.length) : problem });
        }
      }
    });
  });
  return issues;
}

/** A node marked for an install needs proxmox.major, and the Debian release it states must carry that major. */
export function checkPveInstalls(value: Record<string, unknown>, nodes: Record<string, unknown>[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const proxmox = value.proxmox;
  const major = isRecord(proxmox) && isInt(proxmox.major, 8, 9) ? proxmox.major : undefined;
  nodes.forEach((node, n) => {
    if (!isRecord(node.install)) return;
    const name = isLabel(node.name) ? ` (${node.name})` : "";
    if (proxmox === undefined) {
      issues.push({ path: ["proxmox"], message: `missing; nodes[${n}]${name} installs Proxmox VE from Debian, so proxmox.major (8 or 9) is required` });
      return;
    }
    const release = node.install.debianRelease;
    if (major !== undefined && isInt(release, 12, 13) && PVE_MAJOR_OF_DEBIAN[release] !== major) {
      issues.push({
        path: ["nodes", n, "install", "debianRelease"],
        message: `${release} does not carry Proxmox VE ${major} (proxmox.major); Proxmox VE ${major} installs on Debian ${major === 9 ? "13 (trixie)" : "12 (bookworm)"}, Debian ${release} takes Proxmox VE ${PVE_MAJOR_OF_DEBIAN[release]}`,
      });
    }
  });
  return issues;
}
