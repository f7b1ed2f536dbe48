/**
 * The environment schema: one stack file = one environment, the whole of it
 * under the config key `homelab:environment`, validated here before any
 * resource is registered.
 *
 * Every value that can reach a shell (names, devices, addresses, paths) is
 * constrained to a narrow character set by this schema; `infra/shell.ts`
 * quotes them anyway.
 *
 * Validation collects every issue: field checks are zod's, cross-field checks
 * run in one superRefine that also runs when some fields failed, and only
 * looks at values that passed their own field check (so one mistake gives one
 * message, not a cascade).
 *
 * Messages name the bad value; `stacks/errors.ts` prefixes them with the path.
 */
import { z } from "zod";
import { isCryptHash } from "../infra/providers/linux/linux-user";
import { IMAGE_CATALOG, resolveImage, type ChecksumAlgorithm, type CloudImage } from "../infra/images";
import { validatePrivileges } from "../infra/pve-privileges";

const KNOWN_IMAGES = Object.keys(IMAGE_CATALOG);

// ---------------------------------------------------------------------------
// Value rendering for messages
// ---------------------------------------------------------------------------

const SHOW_MAX = 60;

/** Render a user value for a message: strings quoted (escaped), others by kind. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    const text = value.length > SHOW_MAX ? `${value.slice(0, SHOW_MAX)}…` : value;
    return JSON.stringify(text);
  }
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

/** `"x" is not <what>`, or `missing; expected <what>` when there is no value. */
function notA(input: unknown, what: string): string {
  return input === undefined ? `missing; expected ${what}` : `${show(input)} is not ${what}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// ---------------------------------------------------------------------------
// Pure predicates (shared by the zod schemas and the cross-field checks)
// ---------------------------------------------------------------------------

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const IFNAME = /^[a-zA-Z0-9_.][a-zA-Z0-9_.-]{0,14}$/;
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,14}$/;
const HOST_KEY = /^SHA256:[A-Za-z0-9+/]{43}$/;
/** A line of `ssh-keyscan … | ssh-keygen -lf -`: `256 SHA256:… 192.168.3.5 (ED25519)`. */
const KEYGEN_LINE = /^\s*\d+\s+(SHA256:[A-Za-z0-9+/]{43})\s.*\([A-Z0-9-]+\)\s*$/;
const PCI_PATH = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const VLAN_RANGE = /^(\d{1,4})-(\d{1,4})$/;
const IPV4_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const CIDR = new RegExp(`^(${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3})/(3[0-2]|[12][0-9]|[0-9])$`);
/** Printable text on one line: no control, format or line/paragraph separator characters. */
const SAFE_TEXT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;
const SAFE_TEXT_MAX = 128;

const isString = (v: unknown): v is string => typeof v === "string";
const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** RFC 1123 label: lowercase letters, digits and hyphens, 1–63, no leading/trailing hyphen. */
export const isLabel = (v: unknown): v is string => isString(v) && LABEL.test(v);
/** Dotted-quad IPv4 address, no leading zeros. */
export const isIPv4 = (v: unknown): v is string => isString(v) && IPV4.test(v);
/** Syntactically valid IPv4 CIDR (host bits not checked). */
export const isCidrSyntax = (v: unknown): v is string => isString(v) && CIDR.test(v);
/** Valid IPv4 CIDR whose address is the network address. */
export const isCidr = (v: unknown): v is string =>
  isCidrSyntax(v) && cidrNetworkAddress(v) === v.split("/")[0];
/** Linux interface name (IFNAMSIZ 16 with NUL), not "." or "..", no leading hyphen. */
export const isIfName = (v: unknown): v is string => isString(v) && IFNAME.test(v) && v !== "." && v !== "..";
export const isLinuxUser = (v: unknown): v is string => isString(v) && LINUX_USER.test(v);
export const isClusterName = (v: unknown): v is string => isString(v) && CLUSTER_NAME.test(v);
export const isHostKey = (v: unknown): v is string => isString(v) && HOST_KEY.test(v);
/** The pin from a pasted `ssh-keygen -lf` line (its SHA256 field); any other value unchanged. */
export const hostKeyFromKeygenLine = (v: unknown): unknown => (isString(v) ? (KEYGEN_LINE.exec(v)?.[1] ?? v) : v);
export const isPciPath = (v: unknown): v is string => isString(v) && PCI_PATH.test(v);
export const isSafeText = (v: unknown): v is string =>
  isString(v) && v.length <= SAFE_TEXT_MAX && SAFE_TEXT.test(v);
export const isMtu = (v: unknown): v is number => isInt(v, MTU_MIN, MTU_MAX);
export const isVlanId = (v: unknown): v is number => isInt(v, 1, 4094);
/** One `bridge-vids` entry: a VLAN id 2–4094 or a range string "a-b" with 2 ≤ a ≤ b ≤ 4094. */
export const isVlanIdsEntry = (v: unknown): v is number | string => {
  if (typeof v === "number") return isInt(v, 2, 4094);
  if (!isString(v)) return false;
  const m = VLAN_RANGE.exec(v);
  if (!m || /^0\d/.test(m[1]) || /^0\d/.test(m[2])) return false;
  const from = Number(m[1]);
  const to = Number(m[2]);
  return from >= 2 && to <= 4094 && from <= to;
};

export const MTU_MIN = 576;
export const MTU_MAX = 65520;

// ---------------------------------------------------------------------------
// IPv4 arithmetic
// ---------------------------------------------------------------------------

/** IPv4 address to an unsigned 32-bit integer. */
export function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Unsigned 32-bit integer to a dotted-quad IPv4 address. */
export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The prefix length of an IPv4 CIDR: `prefixLength("192.168.3.0/24") === 24`. */
export function prefixLength(cidr: string): number {
  return Number(cidr.split("/")[1]);
}

function cidrRange(cidr: string): { first: number; last: number; prefix: number } {
  const [ip, prefixText] = cidr.split("/");
  const prefix = Number(prefixText);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(ipv4ToInt(ip) / size) * size;
  return { first, last: first + size - 1, prefix };
}

function cidrNetworkAddress(cidr: string): string {
  return intToIpv4(cidrRange(cidr).first);
}

/** Whether `ip` lies inside `cidr` (network and broadcast addresses included). */
export function ipInCidr(ip: string, cidr: string): boolean {
  const n = ipv4ToInt(ip);
  const { first, last } = cidrRange(cidr);
  return n >= first && n <= last;
}

/** Whether two CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const ra = cidrRange(a);
  const rb = cidrRange(b);
  return ra.first <= rb.last && rb.first <= ra.last;
}

/**
 * Why `ip` can't be a host address in `cidr`, or undefined if it can.
 * /31 and /32 have no network or broadcast address (RFC 3021).
 */
function hostAddressProblem(ip: string, cidr: string): string | undefined {
  if (!ipInCidr(ip, cidr)) return `is not inside`;
  const { first, last, prefix } = cidrRange(cidr);
  if (prefix >= 31) return undefined;
  const n = ipv4ToInt(ip);
  if (n === first) return "is the network address of";
  if (n === last) return "is the broadcast address of";
  return undefined;
}

// ---------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------

/** A string field checked by `ok`; every failure reads `"<value>" is not <what>`. */
function text(what: string, ok: (s: string) => boolean) {
  return z
    .string({ error: (iss) => notA(iss.input, what) })
    .refine(ok, { error: (iss) => notA(iss.input, what) });
}

/** An integer field in [min, max]; every failure reads `<value> is not <what> (an integer min–max)`. */
function integer(what: string, min: number, max: number) {
  const full = `${what} (an integer ${min}–${max})`;
  return z
    .number({ error: (iss) => notA(iss.input, full) })
    .refine((n) => isInt(n, min, max), { error: (iss) => notA(iss.input, full) });
}

function bool() {
  return z.boolean({ error: (iss) => notA(iss.input, "true or false") });
}

function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, { error: (iss) => notA(iss.input, what) });
}

function mapping<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  return z.strictObject(shape, {
    error: (iss) => (iss.code === "invalid_type" ? notA(iss.input, what) : undefined),
  });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, { error: (iss) => notA(iss.input, `${what} (${values.join(", ")})`) });
}

const LABEL_RULE = "lowercase letters, digits and hyphens, 1–63 characters";
const hostName = () => text(`a valid host name (${LABEL_RULE})`, isLabel);
const networkName = () => text(`a valid network name (${LABEL_RULE})`, isLabel);
const envName = () => text(`a valid environment name (${LABEL_RULE})`, isLabel);
const ifName = () =>
  text("a valid interface name (letters, digits, _ . -, 1–15 characters, not starting with -)", isIfName);
const ipv4 = () => text("an IPv4 address", isIPv4);
const mtu = () => integer("a valid MTU", MTU_MIN, MTU_MAX);
const safeText = () =>
  text(`a safe comment (printable characters on one line, at most ${SAFE_TEXT_MAX})`, isSafeText);

const cidr = () =>
  z
    .string({ error: (iss) => notA(iss.input, "an IPv4 CIDR (e.g. 192.168.3.0/24)") })
    .superRefine((value, ctx) => {
      if (!isCidrSyntax(value)) {
        ctx.addIssue({ code: "custom", message: notA(value, "an IPv4 CIDR (e.g. 192.168.3.0/24)") });
      } else if (!isCidr(value)) {
        const fixed = `${cidrNetworkAddress(value)}/${prefixLength(value)}`;
        ctx.addIssue({
          code: "custom",
          message: `${show(value)} has host bits set; the network address is ${fixed}`,
        });
      }
    });

// ---------------------------------------------------------------------------
// Object schemas
// ---------------------------------------------------------------------------

export const SshSchema = mapping(
  {
    /** Remote user. Defaults to root. */
    user: text("a Linux user name ([a-z_][a-z0-9_-], at most 32 characters)", isLinuxUser).default("root"),
    /** SSH port of every node unless a node overrides it. Defaults to 22. */
    port: integer("a TCP port", 1, 65535).default(22),
    /** Seconds to wait for the TCP/SSH handshake. Defaults to 10. */
    connectTimeoutSeconds: integer("a connect timeout in seconds", 1, 300).default(10),
    /** Seconds one remote command may run. Defaults to 900. */
    commandTimeoutSeconds: integer("a command timeout in seconds", 1, 86400).default(900),
    /** Connect retries, exponential backoff. Defaults to 3. */
    retries: integer("a retry count", 0, 10).default(3),
    /** Use the SSH agent (SSH_AUTH_SOCK) instead of secrets.sshPrivateKey. Defaults to false. */
    useAgent: bool().default(false),
  },
  "a mapping of SSH settings",
);

export const NetworkSchema = mapping(
  {
    name: networkName(),
    cidr: cidr(),
    gateway: ipv4().optional(),
    mtu: mtu().optional(),
    comment: safeText().optional(),
  },
  "a network (a mapping with name and cidr)",
);

/** Fields every interface type may carry. */
const interfaceCommon = {
  name: ifName(),
  mtu: mtu().optional(),
  /** Name of the network this interface is on. Required with `address`. */
  network: networkName().optional(),
  /** Bare IPv4 address; the prefix comes from the network. */
  address: ipv4().optional(),
  comment: safeText().optional(),
};

export const BOND_MODES = [
  "active-backup",
  "802.3ad",
  "balance-xor",
  "broadcast",
  "balance-tlb",
  "balance-alb",
  "balance-rr",
] as const;
export const HASH_POLICIES = ["layer2", "layer2+3", "layer3+4"] as const;
/** Bond modes in which `primary` means something. */
const PRIMARY_MODES: readonly string[] = ["active-backup", "balance-tlb", "balance-alb"];
/** Bond modes in which `hashPolicy` (xmit_hash_policy) means something. */
const HASH_MODES: readonly string[] = ["802.3ad", "balance-xor"];

const NicSchema = mapping({ type: z.literal("nic"), ...interfaceCommon }, "an interface");

const BondSchema = mapping(
  {
    type: z.literal("bond"),
    ...interfaceCommon,
    slaves: list(ifName(), "a list of interface names").min(1, {
      error: "empty; a bond needs at least one slave",
    }),
    mode: oneOf(BOND_MODES, "a bond mode"),
    primary: ifName().optional(),
    hashPolicy: oneOf(HASH_POLICIES, "a hash policy").optional(),
    miimon: integer("a miimon interval in milliseconds", 0, 10000).optional(),
  },
  "an interface",
);

const BridgeSchema = mapping(
  {
    type: z.literal("bridge"),
    ...interfaceCommon,
    /** Bridge ports (nics or bonds of this node). Defaults to none. */
    ports: list(ifName(), "a list of interface names").default([]),
    /** Defaults to false. */
    vlanAware: bool().default(false),
    /** `bridge-vids`: VLAN ids 2–4094 or range strings "a-b"; only with vlanAware. */
    vlanIds: list(
      z.custom<number | string>(isVlanIdsEntry, {
        error: (iss) => notA(iss.input, `a VLAN id or range (2–4094, e.g. 9 or "100-200")`),
      }),
      "a list of VLAN ids",
    )
      .min(1, { error: "empty; leave vlanIds out to allow all VLANs" })
      .optional(),
  },
  "an interface",
);

const VlanSchema = mapping(
  {
    type: z.literal("vlan"),
    ...interfaceCommon,
    /** The interface the VLAN is on (nic, bond or bridge of this node). */
    device: ifName(),
    vlanId: integer("a VLAN id", 1, 4094),
  },
  "an interface",
);

export const INTERFACE_TYPES = ["nic", "bond", "bridge", "vlan"] as const;

export const InterfaceSchema = z.discriminatedUnion("type", [NicSchema, BondSchema, BridgeSchema, VlanSchema], {
  error: (iss) => {
    const what = `an interface type (${INTERFACE_TYPES.join(", ")})`;
    if (iss.code === "invalid_union") {
      const input = iss.input as Record<string, unknown> | undefined;
      return notA(input?.type, what);
    }
    return notA(iss.input, `an interface (a mapping with type: ${INTERFACE_TYPES.join(" | ")})`);
  },
});

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

const DEVICE_PATH = /^\/dev\/(disk\/by-(id|path)\/[A-Za-z0-9._:+-]{1,128}|[a-z][a-z0-9]{1,31})$/;
const DEVICE_CLASS = /^[a-z][a-z0-9_-]{0,31}$/;
export const isDevicePath = (v: unknown): v is string => isString(v) && DEVICE_PATH.test(v);

export const OsdDeviceSchema = mapping(
  {
    /** Whole block device, e.g. /dev/nvme0n1 or /dev/disk/by-id/nvme-…. */
    device: text("a block device path (/dev/<name> or /dev/disk/by-id/<id>)", isDevicePath),
    /** OSDs carved out of this device (equal parts). Defaults to 1. */
    osdsPerDevice: integer("an OSD count per device", 1, 8).default(1),
    /** CRUSH device class. Defaults to what Ceph detects. */
    deviceClass: text("a device class (e.g. nvme, ssd, hdd)", (v) => DEVICE_CLASS.test(v)).optional(),
    /** Separate DB device. */
    dbDevice: text("a block device path", isDevicePath).optional(),
    /** Separate WAL device. */
    walDevice: text("a block device path", isDevicePath).optional(),
    /** Zap whatever is on the device first (partitions, filesystems, LVM). Defaults to false: a used device is refused. */
    wipe: bool().default(false),
  },
  "an OSD device (a mapping with device)",
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
        iperfSeconds: integer("a duration in seconds", 1, 60).default(3),
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

export const ClusterSchema = mapping(
  {
    /** Corosync cluster name (Proxmox: at most 15 characters; cannot change later). */
    name: text("a valid cluster name (letters, digits and hyphens, 1–15 characters, not starting with -)", isClusterName),
    /** Networks for corosync link0, link1, …; every node needs an address on each. */
    links: list(networkName(), "a list of network names")
      .min(1, { error: "empty; a cluster needs at least one link network" })
      .max(8, { error: "more than 8 links; corosync supports link0–link7" }),
    /** Allow fewer than 3 nodes (no quorum when one fails). Defaults to false. */
    allowSmallCluster: bool().default(false),
    /** Seconds to wait for quorum after each join. Defaults to 120. */
    quorumTimeoutSeconds: integer("a timeout in seconds", 10, 3600).default(120),
    /** Separate an online node that is dropped from `nodes` (offline ones are just removed). Defaults to false. */
    allowNodeRemoval: bool().default(false),
    /** `pulumi destroy` dissolves the cluster (all but the first node separated). Defaults to false: the cluster stays. */
    dissolveOnDelete: bool().default(false),
    /** Datacenter migration settings: live migration over this network. */
    migration: mapping(
      {
        /** Name of the network live migration uses (every cluster node needs an address on it). */
        network: networkName(),
        /** "secure" tunnels migration through SSH; "insecure" is faster on a trusted, dedicated network. Defaults to secure. */
        type: oneOf(["secure", "insecure"] as const, "a migration type").default("secure"),
      },
      "a mapping with the migration network",
    ).optional(),
  },
  "a mapping with the cluster name and links",
);

const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\p{Cc}]{0,200})?$/u;
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]{1,100}$/;
const SHELL_PATH = /^\/[A-Za-z0-9_./-]{1,100}$/;
export const isSshPublicKey = (v: unknown): v is string => isString(v) && SSH_PUBLIC_KEY.test(v);

export const SUDO_MODES = ["none", "password", "nopasswd"] as const;

export const UserSchema = mapping(
  {
    /** Login name; not root (root's keys belong to the Proxmox cluster). */
    name: text("a Linux user name ([a-z_][a-z0-9_-], at most 32 characters)", (v) => isLinuxUser(v) && v !== "root"),
    /** Public keys allowed to log in (~/.ssh/authorized_keys holds exactly these). */
    sshKeys: list(text("an SSH public key (type, base64 key, optional comment, on one line)", isSshPublicKey), "a list of SSH public keys").min(1, {
      error: "empty; a user needs at least one SSH key",
    }),
    /** Login shell. Defaults to /bin/bash. */
    shell: text("an absolute shell path", (v) => SHELL_PATH.test(v) && !v.includes("..")).default("/bin/bash"),
    /** Supplementary groups (must exist). Defaults to none. */
    groups: list(text("a group name", isLinuxUser), "a list of group names").default([]),
    /** sudo rights: none, password (full sudo after the user's password) or nopasswd. Defaults to none. */
    sudo: oneOf(SUDO_MODES, "a sudo mode").default("none"),
    /** Allow SSH password logins. Defaults to false: SSH keys only, enforced by sshd (the password itself only serves sudo, and is locked unless secrets.userPasswordHashes has one). */
    passwordLogin: bool().default(false),
  },
  "a user (a mapping with name and sshKeys)",
);

export const BaselineSchema = mapping(
  {
    /** Debian packages every node gets. Defaults to none. */
    packages: list(text("a Debian package name", (v) => DEBIAN_PACKAGE.test(v)), "a list of package names").default([]),
    /** Remove the "No valid subscription" dialog (an apt hook). Defaults to false. */
    removeSubscriptionNag: bool().default(false),
    /** Ceph release whose no-subscription repository is configured. Defaults to squid. */
    cephRelease: oneOf(["quincy", "reef", "squid", "tentacle"] as const, "a Ceph release").default("squid"),
    /** Login accounts on every node. Defaults to none. */
    users: list(UserSchema, "a list of users").default([]),
  },
  "a mapping of baseline settings",
);

const PRIVILEGE = /^[A-Z][A-Za-z]*(\.[A-Z][A-Za-z]*)+$/;

export const ApiAccessSchema = mapping(
  {
    /** Automation user. Defaults to automation@pve. */
    userid: text("a Proxmox user id (name@pve or name@pam)", (v) => /^[A-Za-z0-9._-]{1,64}@(pve|pam)$/.test(v)).default("automation@pve"),
    /** API token name. Defaults to pulumi. */
    tokenName: text("a token name (a letter, then letters, digits, . _ -)", (v) => /^[A-Za-z][A-Za-z0-9._-]{0,63}$/.test(v)).default("pulumi"),
    /** Role granted on /. Defaults to Automation. */
    roleName: text("a role name (letters, digits, . _ -; not starting with PVE)", (v) => /^[A-Za-z][A-Za-z0-9._-]{0,63}$/.test(v) && !/^pve/i.test(v)).default("Automation"),
    /** Privileges of the role. Defaults to the list for the cluster's Proxmox major version. */
    privileges: list(text("a privilege name (e.g. VM.Allocate)", (v) => PRIVILEGE.test(v)), "a list of privileges").optional(),
    /** Token with its own ACL (privilege separation). Defaults to true. */
    privsep: bool().default(true),
    /** Change this text to rotate the token secret on the next `pulumi up`. Defaults to "" (never). */
    rotation: safeText().default(""),
    /** Skip TLS verification of the API (self-signed certificates). Defaults to false. */
    insecureTls: bool().default(false),
  },
  "a mapping of API access settings",
);

const POOL_NAME = /^[a-z][a-z0-9_.-]{0,62}[a-z0-9]$/;

export const CephPoolSchema = mapping(
  {
    /** Pool name (also the Proxmox storage ID with addStorage). */
    name: text("a pool name (lowercase letters, digits, _ . -; as Proxmox storage IDs allow)", (v) => POOL_NAME.test(v)),
    /** Replicas. Defaults to 3. */
    size: integer("a replica count", 1, 10).default(3),
    /** Replicas needed to accept writes. Defaults to 2. */
    minSize: integer("a replica count", 1, 10).default(2),
    /** Placement groups (a power of two); leave out with autoscale. */
    pgNum: integer("a PG count", 1, 32768).optional(),
    /** Let the PG autoscaler manage pg_num. Defaults to false when pgNum is set, true otherwise. */
    autoscale: bool().optional(),
    /** Pool application. Defaults to rbd. */
    application: oneOf(["rbd", "cephfs", "rgw"] as const, "a pool application").default("rbd"),
    /** Place the pool only on OSDs of this device class (a replicated CRUSH rule per class). */
    deviceClass: text("a device class", (v) => DEVICE_CLASS.test(v)).optional(),
    /** Add the pool as Proxmox RBD storage. Defaults to true. */
    addStorage: bool().default(true),
  },
  "a pool (a mapping with name)",
);

export const CephSchema = mapping(
  {
    /** Network for monitors and clients. */
    publicNetwork: networkName(),
    /** Network for OSD replication. Defaults to publicNetwork. */
    clusterNetwork: networkName().optional(),
    /** Nodes running a monitor. Defaults to every node. */
    monNodes: list(hostName(), "a list of node names").optional(),
    /** Nodes running a manager. Defaults to the monitor nodes. */
    mgrNodes: list(hostName(), "a list of node names").optional(),
    /**
     * Let `pulumi destroy` (or dropping a pool/device from config) destroy pools
     * and OSDs, data included. Defaults to false: they are left in place.
     */
    destroyOnDelete: bool().default(false),
    /** Allow size-1 pools (single node labs only; sets mon_allow_pool_size_one and osd_crush_chooseleaf_type 0). Defaults to false. */
    allowSingleReplica: bool().default(false),
    pools: list(CephPoolSchema, "a list of pools").default([]),
    /** The health gate after OSDs and pools. */
    health: mapping(
      {
        /** Seconds to wait for HEALTH_OK. Defaults to 900. */
        timeoutSeconds: integer("a timeout in seconds", 10, 7200).default(900),
        /** Health check codes accepted instead of OK (e.g. POOL_NO_REDUNDANCY). Defaults to none. */
        allowedWarnings: list(text("a health check code (e.g. OSD_NEARFULL)", (v) => /^[A-Z][A-Z0-9_]{1,63}$/.test(v)), "a list of health codes").default([]),
      },
      "a mapping of health gate settings",
    ).prefault({}),
  },
  "a mapping of Ceph settings",
);

const VM_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const vmid = () => integer("a VMID", 100, 999999999);
const CHECKSUM = /^(md5|sha1|sha224|sha256|sha384|sha512):[0-9a-f]{32,128}$/;

const IMAGE_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const imageName = () => text("an image name (lowercase letters, digits, hyphens, at most 32)", (v) => IMAGE_NAME.test(v));

/**
 * One entry of `images`: a new image, or an override of a built-in one (rocky9,
 * rocky10, debian12, debian13) — e.g. a newer dated build before homelab's
 * catalog has it. A new URL needs its checksum.
 */
export const ImageSchema = mapping(
  {
    /** Download URL of the qcow2 image (a dated build, not a "latest" alias). */
    url: text("an http(s) URL", (v) => /^https?:\/\/[A-Za-z0-9._~:/?#@%+=&-]+$/.test(v)).optional(),
    /** Pinned digest of the file at url, `<algorithm>:<hex>` (sha256, sha512, …): verified on download. */
    checksum: text("a checksum (<algorithm>:<hex>, e.g. sha256:…)", (v) => CHECKSUM.test(v)).optional(),
    /** File name on the node; must end in .img (Proxmox's iso content). Defaults to the URL's file name with .img. */
    fileName: text("a file name ending in .img", (v) => /^[A-Za-z0-9._-]{1,200}\.img$/.test(v)).optional(),
    /** The image's cloud-init user. Required for a new image. */
    defaultUser: text("a Linux user name", isLinuxUser).optional(),
    /** qm ostype. Defaults to l26. */
    ostype: oneOf(["l26", "l24", "other"] as const, "an ostype").optional(),
    /** Tags of templates built from it. */
    tags: list(text("a tag (lowercase letters, digits, - _)", (v) => /^[a-z0-9_][a-z0-9_-]{0,31}$/.test(v)), "a list of tags").optional(),
    /** Whether the image ships qemu-guest-agent. Defaults to false for a new image (homelab then installs it). */
    guestAgent: bool().optional(),
  },
  "an image (a mapping with url, checksum and defaultUser)",
);

export const TemplateSchema = mapping(
  {
    /** Template name (a DNS label). */
    name: text("a template name (lowercase letters, digits, hyphens)", (v) => VM_NAME.test(v)),
    /** Image: rocky9, rocky10, debian12, debian13, or a name from `images`. */
    image: imageName(),
    vmid: vmid(),
    /** Node that downloads the image and builds the template (on shared storage it serves the whole cluster). */
    node: hostName(),
    /** Storage of the template's disk and cloud-init drive. Defaults to local-lvm. */
    storage: text("a storage ID", (v) => /^[a-z][a-z0-9_.-]{0,62}[a-z0-9]$/.test(v)).default("local-lvm"),
    /** Bridge of net0. Defaults to vmbr0. */
    bridge: ifName().default("vmbr0"),
    /** Disk size, e.g. 32G. Defaults to 32G. */
    diskSize: text("a size like 32G", (v) => /^[1-9][0-9]{0,5}G$/.test(v)).default("32G"),
    /** Cores. Defaults to 4. */
    cores: integer("a core count", 1, 256).default(4),
    /** Memory in MiB. Defaults to 4096. */
    memoryMb: integer("a memory size in MiB", 256, 4194304).default(4096),
    /**
     * Install qemu-guest-agent through a cloud-init vendor snippet (see `snippets`).
     * Defaults to true for images without the agent (Debian), false for those with it (Rocky).
     */
    installGuestAgent: bool().optional(),
  },
  "a template (a mapping with name, image, vmid and node)",
);

export const VmSchema = mapping(
  {
    name: text("a VM name (lowercase letters, digits, hyphens)", (v) => VM_NAME.test(v)),
    /** Name of a template in `templates`. */
    template: text("a template name", (v) => VM_NAME.test(v)),
    /** Node the VM runs on. */
    node: hostName(),
    /** VMID. Defaults to vmidBase + the VM's index in `vms`. */
    vmid: vmid().optional(),
    /** Storage of the clone's disks. Defaults to the template's storage. */
    storage: text("a storage ID", (v) => /^[a-z][a-z0-9_.-]{0,62}[a-z0-9]$/.test(v)).optional(),
    cores: integer("a core count", 1, 256).default(2),
    memoryMb: integer("a memory size in MiB", 256, 4194304).default(2048),
    /** Boot disk size in GiB (grows the template's disk, virtio0). Shorthand for disks: [{ interface: virtio0, sizeGb }]. */
    diskGb: integer("a disk size in GiB", 1, 65536).optional(),
    /** Disks: virtio0 resizes the template's boot disk, others are added. Defaults to the template's. */
    disks: list(
      mapping(
        {
          interface: text("a disk slot (virtio0–15, scsi0–30, sata0–5)", (v) => /^(virtio([0-9]|1[0-5])|scsi([0-9]|[12][0-9]|30)|sata[0-5])$/.test(v)),
          sizeGb: integer("a disk size in GiB", 1, 65536),
          /** Defaults to the VM's storage. */
          storage: text("a storage ID", (v) => /^[a-z][a-z0-9_.-]{0,62}[a-z0-9]$/.test(v)).optional(),
        },
        "a disk (a mapping with interface and sizeGb)",
      ),
      "a list of disks",
    ).optional(),
    networks: list(
      mapping(
        { bridge: ifName(), vlanId: integer("a VLAN id", 1, 4094).optional(), mtu: integer("an MTU (1 = the bridge's)", 1, MTU_MAX).optional() },
        "a network (a mapping with bridge)",
      ),
      "a list of networks",
    ).default([{ bridge: "vmbr0" }]),
    cloudInit: mapping(
      {
        user: text("a Linux user name", isLinuxUser).optional(),
        sshKeys: list(text("an SSH public key", isSshPublicKey), "a list of SSH public keys").min(1, { error: "empty; a VM needs at least one SSH key" }),
        /** "dhcp" or a static address with prefix (192.168.3.50/24). Defaults to dhcp. */
        ipv4: text('"dhcp" or an IPv4 address with prefix', (v) => v === "dhcp" || isCidrSyntax(v)).default("dhcp"),
        gateway: ipv4().optional(),
        dnsServers: list(ipv4(), "a list of IPv4 addresses").optional(),
        /** DNS search domain. */
        dnsDomain: text("a DNS domain", (v) => v.length <= 253 && v.split(".").every((l) => LABEL.test(l))).optional(),
      },
      "a mapping with sshKeys",
    ),
    /** Make the VM highly available. */
    ha: mapping(
      {
        /** Name of a placement in ha.placements (which nodes may run it). */
        placement: text("a placement name", (v) => VM_NAME.test(v)),
        state: oneOf(["started", "stopped", "disabled", "ignored"] as const, "an HA state").default("started"),
        maxRestart: integer("a restart count", 0, 10).default(1),
        maxRelocate: integer("a relocate count", 0, 10).default(1),
      },
      "a mapping of HA settings",
    ).optional(),
  },
  "a VM (a mapping with name, template, node and cloudInit)",
);

export const HaSchema = mapping(
  {
    placements: list(
      mapping(
        {
          name: text("a placement name", (v) => VM_NAME.test(v)),
          nodes: list(
            mapping({ node: hostName(), priority: integer("a priority", 0, 1000).optional() }, "a mapping with node"),
            "a list of nodes",
          ).min(1, { error: "empty; a placement needs at least one node" }),
          /** Only these nodes (PVE 8 restricted group / PVE 9 strict rule). Defaults to false. */
          strict: bool().default(false),
          /** Do not move back when a preferred node returns. Defaults to false. */
          nofailback: bool().default(false),
        },
        "a placement (a mapping with name and nodes)",
      ),
      "a list of placements",
    ).default([]),
  },
  "a mapping of HA settings",
);

const EnvironmentObject = mapping(
  {
    name: envName(),
    ssh: SshSchema.prefault({}),
    networks: list(NetworkSchema, "a list of networks"),
    nodes: list(NodeSchema, "a list of nodes").min(1, { error: "empty; at least one node is required" }),
    thunderbolt: ThunderboltSchema.optional(),
    cluster: ClusterSchema.optional(),
    /** Repositories, packages and login accounts of every node. */
    baseline: BaselineSchema.prefault({}),
    /** Automation user and API token (created once the cluster exists). Needs `cluster`. */
    apiAccess: ApiAccessSchema.optional(),
    /** Ceph on the cluster: monitors, managers, OSDs (nodes[].osds) and pools. Needs `cluster`. */
    ceph: CephSchema.optional(),
    /** Extra images, or overrides of built-in ones, by name (see ImageSchema). */
    // Keys are checked in crossCheckGuests (a record key schema's message can't name the key).
    images: z
      .record(z.string(), ImageSchema, { error: (iss) => (iss.code === "invalid_type" ? notA(iss.input, "a mapping of image name to image") : undefined) })
      .default({}),
    /** Where cloud-init snippets (the guest-agent vendor data) are written: a directory storage present on every node. */
    snippets: mapping(
      {
        /** Storage ID; homelab enables its `snippets` content type. Defaults to local. */
        storage: text("a storage ID", (v) => /^[a-z][a-z0-9_.-]{0,62}[a-z0-9]$/.test(v)).default("local"),
        /** The storage's path on the nodes (snippets go to <path>/snippets). Defaults to /var/lib/vz (local's). */
        path: text("an absolute path", (v) => /^\/[A-Za-z0-9._/-]{0,200}$/.test(v) && !v.split("/").includes("..")).default("/var/lib/vz"),
      },
      "a mapping of snippet storage settings",
    ).prefault({}),
    /** Cloud-init VM templates (need apiAccess: images are downloaded with the API). */
    templates: list(TemplateSchema, "a list of templates").default([]),
    /** First VMID of VMs that have none. Defaults to 200. */
    vmidBase: integer("a VMID", 100, 999999000).default(200),
    /** VMs cloned from templates (need apiAccess). */
    vms: list(VmSchema, "a list of VMs").default([]),
    /** HA placements for VMs. */
    ha: HaSchema.prefault({}),
  },
  "an environment (a mapping with name, networks and nodes)",
);

export const EnvironmentSchema = EnvironmentObject.superRefine(
  (value, ctx) => {
    const layout = crossCheck(value);
    // Operation checks look at addresses per network; with a broken layout they would only echo it.
    const operations = crossCheckOperations(value, layout.length === 0);
    for (const issue of [...layout, ...operations]) {
      ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    }
  },
  // Also when some fields failed: the cross checks only use values that passed.
  { when: (payload) => isRecord(payload.value) },
);

export type Environment = z.output<typeof EnvironmentSchema>;
export type EnvironmentInput = z.input<typeof EnvironmentSchema>;
export type Ssh = Environment["ssh"];
export type Network = Environment["networks"][number];
export type Node = Environment["nodes"][number];
export type Interface = Node["interfaces"][number];
export type InterfaceType = Interface["type"];
export type NicInterface = Extract<Interface, { type: "nic" }>;
export type BondInterface = Extract<Interface, { type: "bond" }>;
export type BridgeInterface = Extract<Interface, { type: "bridge" }>;
export type VlanInterface = Extract<Interface, { type: "vlan" }>;
export type BondMode = BondInterface["mode"];
export type NodeThunderbolt = NonNullable<Node["thunderbolt"]>;
export type ThunderboltPort = NodeThunderbolt["ports"][number];
export type Thunderbolt = NonNullable<Environment["thunderbolt"]>;
export type Cluster = NonNullable<Environment["cluster"]>;
export type User = Environment["baseline"]["users"][number];
export type ApiAccessConfig = NonNullable<Environment["apiAccess"]>;
export type CephConfig = NonNullable<Environment["ceph"]>;
export type CephPool = CephConfig["pools"][number];
export type OsdDevice = Node["osds"][number];
export type Template = Environment["templates"][number];
export type ImageConfig = z.output<typeof ImageSchema>;

/** A config `images` entry in the catalog's shape (`checksum: "sha256:…"` split into algorithm and digest). */
export function userImageEntry(entry: ImageConfig): Partial<CloudImage> {
  const { checksum, ...rest } = entry;
  const out: Partial<CloudImage> = { ...rest };
  for (const k of Object.keys(out) as (keyof CloudImage)[]) if (out[k] === undefined) delete out[k];
  if (checksum) {
    const [algorithm, digest] = checksum.split(":");
    out.checksumAlgorithm = algorithm as ChecksumAlgorithm;
    out.checksum = digest;
  }
  return out;
}

/** The catalog entry a template uses: the stack's `images` first, then the built-in catalog. */
export function templateImage(env: Environment, template: Template): CloudImage {
  const user = Object.fromEntries(Object.entries(env.images).map(([name, entry]) => [name, userImageEntry(entry)]));
  return resolveImage(template.image, user);
}
export type VmConfig = Environment["vms"][number];
export type HaPlacementConfig = Environment["ha"]["placements"][number];

/** The VMID of the VM at `index`: its own, or vmidBase + index. */
export function vmVmid(env: Environment, index: number): number {
  return env.vms[index].vmid ?? env.vmidBase + index;
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

/** What `npm run validate` puts in place of an encrypted (`secure:`) value it cannot read. */
export const SECURE_PLACEHOLDER = "[secure]";

/** `homelab:secrets`. Messages never echo a secret value. */
export const SecretsSchema = z.strictObject(
  {
    /** Private key (OpenSSH/PEM text) for ssh.user on every node; not needed with ssh.useAgent. */
    sshPrivateKey: z.string({ error: "expected the private key text (a string)" }).min(1, { error: "empty" }).optional(),
    /** Root password per node name (pvecm add asks the joined node's root password). */
    rootPasswords: z
      .record(z.string(), z.string({ error: "expected a password (a string)" }).min(1, { error: "empty" }), {
        error: "expected a mapping of node name to password",
      })
      .optional(),
    /** crypt(3) password hash per baseline user (`mkpasswd -m yescrypt`); needed for `sudo: password`. */
    userPasswordHashes: z
      .record(
        z.string(),
        // An encrypted value (validated from the stack file without the passphrase) can't be checked here.
        z.string({ error: "expected a crypt(3) hash (a string)" }).refine((v) => v === SECURE_PLACEHOLDER || isCryptHash(v), {
          error: "not a crypt(3) hash of a supported kind (yescrypt $y$, sha512 $6$, bcrypt $2b$, …); make one with `mkpasswd -m yescrypt`",
        }),
        { error: "expected a mapping of user name to password hash" },
      )
      .optional(),
  },
  { error: (iss) => (iss.code === "invalid_type" ? "expected a mapping of secrets" : undefined) },
);

export type Secrets = z.output<typeof SecretsSchema>;

/** A problem found by a cross-field check: path relative to the checked object. */
export interface PathIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Cross-check secrets against the environment (both possibly partly invalid):
 * the SSH key is required unless ssh.useAgent; rootPasswords keys are node names.
 * Paths are relative to the secrets object.
 */
export function crossCheckSecrets(secrets: unknown, environment: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  if (!isRecord(secrets)) return issues;
  const env = isRecord(environment) ? environment : {};
  const ssh = isRecord(env.ssh) ? env.ssh : {};
  const useAgent = ssh.useAgent === undefined ? false : ssh.useAgent === true ? true : null;
  if (secrets.sshPrivateKey === undefined && useAgent === false) {
    issues.push({
      path: ["sshPrivateKey"],
      message:
        "missing; set it with `pulumi config set --secret --path secrets.sshPrivateKey < ~/.ssh/id_ed25519`, or set ssh.useAgent: true",
    });
  }
  const nodes = Array.isArray(env.nodes) ? env.nodes : null;
  const founder = nodes && isRecord(nodes[0]) && isLabel(nodes[0].name) ? nodes[0].name : undefined;
  if (isRecord(env.cluster) && nodes && nodes.length > 1 && founder !== undefined) {
    const passwords = isRecord(secrets.rootPasswords) ? secrets.rootPasswords : {};
    if (passwords[founder] === undefined) {
      issues.push({
        path: ["rootPasswords", founder],
        message:
          `missing; pvecm add needs the root password of ${founder}, the node that founds the cluster ` +
          `(pulumi config set --secret --path secrets.rootPasswords.${founder})`,
      });
    }
  }
  const baseline = isRecord(env.baseline) ? env.baseline : {};
  const users = Array.isArray(baseline.users) ? baseline.users.filter(isRecord) : [];
  const hashes = isRecord(secrets.userPasswordHashes) ? secrets.userPasswordHashes : {};
  for (const key of Object.keys(hashes)) {
    if (!users.some((u) => u.name === key)) {
      issues.push({ path: ["userPasswordHashes", key], message: `no baseline user named ${show(key)}` });
    }
  }
  for (const u of users) {
    if (u.sudo === "password" && isLinuxUser(u.name) && hashes[u.name] === undefined) {
      issues.push({
        path: ["userPasswordHashes", u.name],
        message:
          `missing; ${u.name} has sudo: password, which needs a password to type ` +
          `(pulumi config set --secret --path secrets.userPasswordHashes.${u.name} "$(mkpasswd -m yescrypt)")`,
      });
    }
  }
  if (isRecord(secrets.rootPasswords) && nodes) {
    const names = nodes.map((n) => (isRecord(n) ? n.name : undefined));
    if (names.every(isLabel)) {
      for (const key of Object.keys(secrets.rootPasswords)) {
        if (!names.includes(key)) issues.push({ path: ["rootPasswords", key], message: `no node named ${show(key)}` });
      }
    }
  }
  return issues;
}

// ---------------------------------------------------------------------------
// Cross-field checks
// ---------------------------------------------------------------------------

/**
 * A field as the cross checks see it: the value if it passed its own check,
 * `undefined` if absent, `null` if present but invalid (already reported).
 */
type Field<T> = T | undefined | null;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function field<T>(raw: unknown, ok: (v: unknown) => v is T): Field<T> {
  if (raw === undefined) return undefined;
  return ok(raw) ? raw : null;
}

function fieldList<T>(raw: unknown, ok: (v: unknown) => v is T): Field<Field<T>[]> {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) return null;
  return raw.map((v) => field(v, ok));
}

const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isInterfaceType = (v: unknown): v is InterfaceType =>
  isString(v) && (INTERFACE_TYPES as readonly string[]).includes(v);
const isBondMode = (v: unknown): v is string => isString(v) && (BOND_MODES as readonly string[]).includes(v);
const isHashPolicy = (v: unknown): v is string => isString(v) && (HASH_POLICIES as readonly string[]).includes(v);

interface NetworkView {
  index: number;
  name: Field<string>;
  cidr: Field<string>;
  gateway: Field<string>;
  mtu: Field<number>;
}

interface InterfaceView {
  index: number;
  type: Field<InterfaceType>;
  name: Field<string>;
  network: Field<string>;
  address: Field<string>;
  mtu: Field<number>;
  /** bond */
  slaves: Field<Field<string>[]>;
  mode: Field<string>;
  primary: Field<string>;
  hashPolicy: Field<string>;
  /** bridge */
  ports: Field<Field<string>[]>;
  vlanAware: Field<boolean>;
  vlanIds: Field<Field<number | string>[]>;
  /** vlan */
  device: Field<string>;
  vlanId: Field<number>;
}

interface PortView {
  index: number;
  name: Field<string>;
  pciPath: Field<string>;
  peer: Field<string>;
}

interface NodeView {
  index: number;
  name: Field<string>;
  address: Field<string>;
  hostKey: Field<string>;
  insecure: Field<boolean>;
  /** null: not a list. */
  interfaces: InterfaceView[] | null;
  /** undefined: no thunderbolt; null: not a mapping. */
  thunderbolt: { loopback: Field<string>; ports: PortView[] | null } | undefined | null;
}

function networkView(raw: unknown, index: number): NetworkView {
  const r = isRecord(raw) ? raw : {};
  const bad = !isRecord(raw);
  return {
    index,
    name: bad ? null : field(r.name, isLabel),
    cidr: bad ? null : field(r.cidr, isCidr),
    gateway: bad ? null : field(r.gateway, isIPv4),
    mtu: bad ? null : field(r.mtu, isMtu),
  };
}

function interfaceView(raw: unknown, index: number): InterfaceView {
  const bad = !isRecord(raw);
  const r = isRecord(raw) ? raw : {};
  const f = <T>(v: unknown, ok: (x: unknown) => x is T): Field<T> => (bad ? null : field(v, ok));
  return {
    index,
    type: f(r.type, isInterfaceType),
    name: f(r.name, isIfName),
    network: f(r.network, isLabel),
    address: f(r.address, isIPv4),
    mtu: f(r.mtu, isMtu),
    slaves: bad ? null : fieldList(r.slaves, isIfName),
    mode: f(r.mode, isBondMode),
    primary: f(r.primary, isIfName),
    hashPolicy: f(r.hashPolicy, isHashPolicy),
    ports: bad ? null : fieldList(r.ports, isIfName),
    vlanAware: f(r.vlanAware, isBool),
    vlanIds: bad ? null : fieldList(r.vlanIds, isVlanIdsEntry),
    device: f(r.device, isIfName),
    vlanId: f(r.vlanId, isVlanId),
  };
}

function nodeView(raw: unknown, index: number): NodeView {
  const bad = !isRecord(raw);
  const r = isRecord(raw) ? raw : {};
  const f = <T>(v: unknown, ok: (x: unknown) => x is T): Field<T> => (bad ? null : field(v, ok));
  let thunderbolt: NodeView["thunderbolt"];
  if (bad) thunderbolt = null;
  else if (r.thunderbolt === undefined) thunderbolt = undefined;
  else if (!isRecord(r.thunderbolt)) thunderbolt = null;
  else {
    const tb = r.thunderbolt;
    thunderbolt = {
      loopback: field(tb.loopback, isIPv4),
      ports: Array.isArray(tb.ports)
        ? tb.ports.map((p, i) => {
            const pr = isRecord(p) ? p : {};
            const pbad = !isRecord(p);
            return {
              index: i,
              name: pbad ? null : field(pr.name, isIfName),
              pciPath: pbad ? null : field(pr.pciPath, isPciPath),
              peer: pbad ? null : field(pr.peer, isLabel),
            };
          })
        : null,
    };
  }
  return {
    index,
    name: f(r.name, isLabel),
    address: f(r.address, isIPv4),
    hostKey: f(hostKeyFromKeygenLine(r.hostKey), isHostKey),
    insecure: f(r.insecureIgnoreHostKey, isBool),
    interfaces: bad || !Array.isArray(r.interfaces) ? null : r.interfaces.map(interfaceView),
    thunderbolt,
  };
}

type Path = (string | number)[];

function pathText(path: Path): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  return out;
}

/** A named network usable by the checks (valid name and cidr). */
interface KnownNetwork {
  name: string;
  cidr: string;
  gateway: string | undefined;
  mtu: number | undefined;
  index: number;
}

/**
 * The cross-field checks, on a possibly partly invalid environment value.
 * Each check only uses fields that passed their own validation, and a check
 * that needs a complete picture (e.g. "some interface has this address") is
 * skipped when a field it depends on is invalid.
 */
export function crossCheck(value: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const add = (path: Path, message: string) => issues.push({ path, message });
  if (!isRecord(value)) return issues;

  // --- networks -----------------------------------------------------------
  const networkViews = Array.isArray(value.networks) ? value.networks.map(networkView) : null;
  const networks = new Map<string, KnownNetwork>();
  /** Names that exist, even if their cidr is invalid (so references to them aren't "unknown"). */
  const networkNames = new Set<string>();
  const networksComplete = networkViews !== null && networkViews.every((n) => isString(n.name));
  for (const n of networkViews ?? []) {
    if (!isString(n.name)) continue;
    if (networkNames.has(n.name)) {
      const first = networkViews!.find((o) => o.name === n.name)!;
      add(["networks", n.index, "name"], `${show(n.name)} is already the name of networks[${first.index}]`);
      continue;
    }
    networkNames.add(n.name);
    if (isString(n.cidr)) {
      for (const other of networks.values()) {
        if (cidrsOverlap(n.cidr, other.cidr)) {
          add(["networks", n.index, "cidr"], `${n.cidr} overlaps network ${show(other.name)} (${other.cidr})`);
        }
      }
      if (isString(n.gateway)) {
        const problem = hostAddressProblem(n.gateway, n.cidr);
        if (problem) add(["networks", n.index, "gateway"], `${show(n.gateway)} ${problem} ${n.cidr}`);
      }
      networks.set(n.name, {
        name: n.name,
        cidr: n.cidr,
        gateway: isString(n.gateway) ? n.gateway : undefined,
        mtu: isMtu(n.mtu) ? n.mtu : undefined,
        index: n.index,
      });
    }
  }
  /** Reference check: unknown only if the list of names is complete. */
  const checkNetworkRef = (path: Path, name: Field<string>): boolean => {
    if (!isString(name)) return false;
    if (networkNames.has(name)) return true;
    if (networksComplete) add(path, `no network named ${show(name)}`);
    return false;
  };

  // --- thunderbolt ring settings ------------------------------------------
  const tbRaw = value.thunderbolt;
  const tbNetworkName: Field<string> = isRecord(tbRaw) ? field(tbRaw.network, isLabel) : tbRaw === undefined ? undefined : null;
  if (tbNetworkName !== undefined) checkNetworkRef(["thunderbolt", "network"], tbNetworkName);
  const tbNetwork = isString(tbNetworkName) ? networks.get(tbNetworkName) : undefined;

  // --- nodes ---------------------------------------------------------------
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

    const ifaces = node.interfaces ?? [];
    const ifacesOk = node.interfaces !== null;
    const byName = new Map<string, InterfaceView>();
    const namesComplete = ifacesOk && ifaces.every((i) => isString(i.name) && isInterfaceType(i.type));
    for (const iface of ifaces) {
      if (!isString(iface.name)) continue;
      const first = byName.get(iface.name);
      if (first) {
        add(at("interfaces", iface.index, "name"), `${show(iface.name)} is already declared (nodes[${node.index}].interfaces[${first.index}])`);
      } else byName.set(iface.name, iface);
    }
    const ifPath = (i: InterfaceView, ...rest: Path): Path => at("interfaces", i.index, ...rest);
    const ifRef = (i: InterfaceView) => `nodes[${node.index}].interfaces[${i.index}]`;

    // who encloses whom: slave/port name -> the bond/bridge that takes it
    const enclosedBy = new Map<string, InterfaceView>();
    const effectiveMtu = (i: InterfaceView): number | undefined => {
      if (isMtu(i.mtu)) return i.mtu;
      if (i.mtu === null) return undefined;
      if (i.network === null) return undefined;
      const net = isString(i.network) ? networks.get(i.network) : undefined;
      return net?.mtu ?? 1500;
    };

    // bonds and bridges first: membership decides what else is allowed
    for (const iface of ifaces) {
      if (iface.type === "bond" && Array.isArray(iface.slaves)) {
        const seen = new Set<string>();
        for (const [k, slave] of iface.slaves.entries()) {
          if (!isString(slave)) continue;
          const p = ifPath(iface, "slaves", k);
          if (seen.has(slave)) {
            add(p, `${show(slave)} is listed twice`);
            continue;
          }
          seen.add(slave);
          if (slave === iface.name) {
            add(p, `${show(slave)} is this bond itself`);
            continue;
          }
          const member = byName.get(slave);
          if (!member) {
            if (namesComplete) {
              add(p, `${show(slave)} is not declared as an interface of this node (add { type: nic, name: ${slave} })`);
            }
            continue;
          }
          if (member.type !== "nic" && isInterfaceType(member.type)) {
            add(p, `${show(slave)} is a ${member.type}; bond slaves must be nics`);
            continue;
          }
          const taken = enclosedBy.get(slave);
          if (taken) {
            add(p, `${show(slave)} is already taken by ${describeEncloser(taken)}`);
            continue;
          }
          enclosedBy.set(slave, iface);
          const bondMtu = effectiveMtu(iface);
          const slaveMtu = effectiveMtu(member);
          if (bondMtu !== undefined && slaveMtu !== undefined && slaveMtu < bondMtu) {
            add(p, `${show(slave)} has MTU ${slaveMtu}, below the bond's MTU ${bondMtu}; set mtu: ${bondMtu} on it`);
          }
        }
        if (isString(iface.primary) && iface.slaves.every(isString) && !iface.slaves.includes(iface.primary)) {
          add(ifPath(iface, "primary"), `${show(iface.primary)} is not one of the bond's slaves (${iface.slaves.join(", ")})`);
        }
        if (isString(iface.mode)) {
          if (iface.primary !== undefined && !PRIMARY_MODES.includes(iface.mode)) {
            add(ifPath(iface, "primary"), `has no effect in mode ${iface.mode} (only in ${PRIMARY_MODES.join(", ")})`);
          }
          if (iface.hashPolicy !== undefined && !HASH_MODES.includes(iface.mode)) {
            add(ifPath(iface, "hashPolicy"), `has no effect in mode ${iface.mode} (only in ${HASH_MODES.join(", ")})`);
          }
        }
      }
    }
    for (const iface of ifaces) {
      if (iface.type !== "bridge") continue;
      if (iface.vlanIds !== undefined && (iface.vlanAware === false || iface.vlanAware === undefined)) {
        add(ifPath(iface, "vlanIds"), "set on a bridge that is not VLAN-aware (set vlanAware: true)");
      }
      if (!Array.isArray(iface.ports)) continue;
      const seen = new Set<string>();
      for (const [k, port] of iface.ports.entries()) {
        if (!isString(port)) continue;
        const p = ifPath(iface, "ports", k);
        if (seen.has(port)) {
          add(p, `${show(port)} is listed twice`);
          continue;
        }
        seen.add(port);
        if (port === iface.name) {
          add(p, `${show(port)} is this bridge itself`);
          continue;
        }
        const member = byName.get(port);
        if (!member) {
          if (namesComplete) {
            add(p, `${show(port)} is not declared as an interface of this node (add { type: nic, name: ${port} } or a bond)`);
          }
          continue;
        }
        if (member.type !== "nic" && member.type !== "bond" && isInterfaceType(member.type)) {
          add(p, `${show(port)} is a ${member.type}; bridge ports must be nics or bonds`);
          continue;
        }
        const taken = enclosedBy.get(port);
        if (taken) {
          add(p, `${show(port)} is already taken by ${describeEncloser(taken)}`);
          continue;
        }
        enclosedBy.set(port, iface);
        const bridgeMtu = effectiveMtu(iface);
        const portMtu = effectiveMtu(member);
        if (bridgeMtu !== undefined && portMtu !== undefined && portMtu < bridgeMtu) {
          add(p, `${show(port)} has MTU ${portMtu}, below the bridge's MTU ${bridgeMtu}; set mtu: ${bridgeMtu} on it`);
        }
      }
    }

    // vlans
    const vlanKeys = new Map<string, InterfaceView>();
    for (const iface of ifaces) {
      if (iface.type !== "vlan" || !isString(iface.device)) continue;
      const p = ifPath(iface, "device");
      if (iface.device === iface.name) {
        add(p, `${show(iface.device)} is this VLAN interface itself`);
        continue;
      }
      const device = byName.get(iface.device);
      if (!device) {
        if (namesComplete) add(p, `${show(iface.device)} is not declared as an interface of this node`);
        continue;
      }
      const encloser = enclosedBy.get(iface.device);
      if (encloser) {
        add(p, `${show(iface.device)} is taken by ${describeEncloser(encloser)}; put the VLAN on ${show(encloser.name)} instead`);
        continue;
      }
      if (isVlanId(iface.vlanId)) {
        const key = `${iface.device}.${iface.vlanId}`;
        const other = vlanKeys.get(key);
        if (other) {
          add(ifPath(iface, "vlanId"), `VLAN ${iface.vlanId} on ${show(iface.device)} is already interface ${show(other.name)}`);
        } else vlanKeys.set(key, iface);
        if (device.type === "bridge" && device.vlanAware === true && Array.isArray(device.vlanIds) && device.vlanIds.every((v) => v !== null)) {
          const allowed = device.vlanIds as (number | string)[];
          if (!allowed.some((entry) => vlanEntryContains(entry, iface.vlanId as number))) {
            add(
              ifPath(iface, "vlanId"),
              `${iface.vlanId} is not among the VLANs of bridge ${show(device.name)} (vlanIds: ${allowed.join(", ")})`,
            );
          }
        }
      }
      const vlanMtu = effectiveMtu(iface);
      const deviceMtu = effectiveMtu(device);
      if (vlanMtu !== undefined && deviceMtu !== undefined && deviceMtu < vlanMtu) {
        add(p, `${show(iface.device)} has MTU ${deviceMtu}, below this VLAN's MTU ${vlanMtu}; set mtu: ${vlanMtu} on it`);
      }
    }

    // networks and addresses
    const onNetwork = new Map<string, InterfaceView>();
    let gatewayIface: { iface: InterfaceView; net: KnownNetwork } | undefined;
    for (const iface of ifaces) {
      const encloser = isString(iface.name) ? enclosedBy.get(iface.name) : undefined;
      if (encloser && (iface.network !== undefined || iface.address !== undefined)) {
        const key = iface.network !== undefined ? "network" : "address";
        add(
          ifPath(iface, key),
          `${show(iface.name)} is taken by ${describeEncloser(encloser)}; put network and address on ${show(encloser.name)} instead`,
        );
        continue;
      }
      if (iface.address !== undefined && iface.network === undefined) {
        add(
          ifPath(iface, "address"),
          `${show(iface.address)} needs a network (set network: to the name of the network it belongs to)`,
        );
      }
      if (!checkNetworkRef(ifPath(iface, "network"), iface.network)) continue;
      const netName = iface.network as string;
      if (netName === tbNetworkName) {
        add(
          ifPath(iface, "network"),
          `${show(netName)} is the thunderbolt ring network; its addresses are the nodes' thunderbolt loopbacks`,
        );
        continue;
      }
      const other = onNetwork.get(netName);
      if (other) {
        add(
          ifPath(iface, "network"),
          `${show(netName)} is already the network of interface ${show(other.name)} (${ifRef(other)}); a node has one interface per network`,
        );
        continue;
      }
      onNetwork.set(netName, iface);
      const net = networks.get(netName);
      if (!net) continue;
      if (isString(iface.address)) {
        const problem = hostAddressProblem(iface.address, net.cidr);
        if (problem) {
          add(ifPath(iface, "address"), `${show(iface.address)} ${problem} network ${show(net.name)} (${net.cidr})`);
        } else if (iface.address === net.gateway) {
          add(ifPath(iface, "address"), `${show(iface.address)} is the gateway of network ${show(net.name)}`);
        }
      }
      if (isMtu(iface.mtu) && net.mtu !== undefined && iface.mtu !== net.mtu) {
        add(ifPath(iface, "mtu"), `${iface.mtu} differs from the MTU ${net.mtu} of network ${show(net.name)}`);
      }
      if (net.gateway !== undefined) {
        if (gatewayIface) {
          add(
            ifPath(iface, "network"),
            `${show(net.name)} has a gateway (${net.gateway}), but interface ${show(gatewayIface.iface.name)} is already on ` +
              `network ${show(gatewayIface.net.name)} with gateway ${gatewayIface.net.gateway}; a node has one default gateway`,
          );
        } else gatewayIface = { iface, net };
      }
    }

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
      if (isString(tb.loopback) && tbNetwork) {
        const problem = hostAddressProblem(tb.loopback, tbNetwork.cidr);
        if (problem) {
          add(at("thunderbolt", "loopback"), `${show(tb.loopback)} ${problem} network ${show(tbNetwork.name)} (${tbNetwork.cidr})`);
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
  if (firstTbNode && tbRaw === undefined) {
    add(
      ["thunderbolt"],
      `missing; nodes[${firstTbNode.index}]${isString(firstTbNode.name) ? ` (${firstTbNode.name})` : ""} has thunderbolt ports, ` +
        "so the ring settings (thunderbolt.network) are required",
    );
  }

  // --- cluster -------------------------------------------------------------
  const cluster = value.cluster;
  if (isRecord(cluster)) {
    const allowSmall = cluster.allowSmallCluster === undefined ? false : cluster.allowSmallCluster;
    if (Array.isArray(value.nodes) && value.nodes.length >= 1 && value.nodes.length < 3 && allowSmall === false) {
      const n = value.nodes.length;
      add(
        ["cluster"],
        `${plural(n, "node")} cannot keep quorum when one fails; a cluster needs at least 3 nodes ` +
          "(set cluster.allowSmallCluster: true to allow this)",
      );
    }
    const links = fieldList(cluster.links, isLabel);
    if (Array.isArray(links)) {
      const seen = new Set<string>();
      for (const [k, link] of links.entries()) {
        if (!isString(link)) continue;
        if (seen.has(link)) {
          add(["cluster", "links", k], `${show(link)} is listed twice`);
          continue;
        }
        seen.add(link);
        if (!checkNetworkRef(["cluster", "links", k], link)) continue;
        for (const node of nodes) {
          if (link === tbNetworkName) {
            if (node.thunderbolt === undefined) {
              add(
                ["nodes", node.index, "thunderbolt"],
                `missing; cluster.links[${k}] is the thunderbolt ring network ${show(link)}, which needs a thunderbolt loopback on every node`,
              );
            }
            continue;
          }
          // an invalid or unknown network reference is reported already; don't guess what it meant
          const unsure = (i: InterfaceView) =>
            i.network === null || i.address === null || (isString(i.network) && !networkNames.has(i.network));
          if (node.interfaces === null || node.interfaces.some(unsure)) continue;
          const iface = node.interfaces.find((i) => i.network === link);
          if (!iface) {
            add(
              ["nodes", node.index, "interfaces"],
              `no interface on network ${show(link)}, which cluster.links[${k}] needs on every node`,
            );
          } else if (iface.address === undefined) {
            add(
              ["nodes", node.index, "interfaces", iface.index, "address"],
              `missing; cluster.links[${k}] (${show(link)}) needs an address on every node`,
            );
          }
        }
      }
    }
  }

  return issues;
}

function describeEncloser(i: InterfaceView): string {
  return `${i.type === "bond" ? "bond" : "bridge"} ${show(i.name)}`;
}

function vlanEntryContains(entry: number | string, id: number): boolean {
  if (typeof entry === "number") return entry === id;
  const [from, to] = entry.split("-").map(Number);
  return id >= from && id <= to;
}

// ---------------------------------------------------------------------------
// Helpers for code that uses a parsed Environment
// ---------------------------------------------------------------------------

/** The network named `name`. */
export function networkByName(env: Environment, name: string): Network | undefined {
  return env.networks.find((n) => n.name === name);
}

/** The node named `name`. */
export function nodeByName(env: Environment, name: string): Node | undefined {
  return env.nodes.find((n) => n.name === name);
}

/** The node's interface on network `networkName` (a node has at most one). */
export function interfaceOnNetwork(node: Node, networkName: string): Interface | undefined {
  return node.interfaces.find((i) => i.network === networkName);
}

/**
 * The node's address on a network: its interface's address there, or its
 * thunderbolt loopback when `networkName` is the ring network.
 */
export function nodeAddressOn(env: Environment, node: Node, networkName: string): string | undefined {
  if (env.thunderbolt?.network === networkName) return node.thunderbolt?.loopback;
  return interfaceOnNetwork(node, networkName)?.address;
}

/** `address/prefix` of an interface, the prefix taken from its network. */
export function interfaceCidrAddress(env: Environment, iface: Interface): string | undefined {
  if (iface.address === undefined || iface.network === undefined) return undefined;
  const net = networkByName(env, iface.network);
  return net ? `${iface.address}/${prefixLength(net.cidr)}` : undefined;
}

/** The MTU an interface ends up with: its own, else its network's, else 1500. */
export function interfaceMtu(env: Environment, iface: Interface): number {
  if (iface.mtu !== undefined) return iface.mtu;
  const net = iface.network === undefined ? undefined : networkByName(env, iface.network);
  return net?.mtu ?? 1500;
}

/** SSH port for a node: its override, else ssh.port. */
export function nodeSshPort(env: Environment, node: Node): number {
  return node.sshPort ?? env.ssh.port;
}

/** Corosync link addresses of a node, in link order (link0, link1, …). */
export function clusterLinkAddresses(env: Environment, node: Node): string[] {
  return (env.cluster?.links ?? []).map((link) => {
    const address = nodeAddressOn(env, node, link);
    if (address === undefined) throw new Error(`node ${node.name} has no address on cluster link network ${link}`);
    return address;
  });
}

/** The `bridge-vids` text of a VLAN-aware bridge ("2-4094" when unset). */
export function bridgeVids(bridge: BridgeInterface): string {
  return (bridge.vlanIds ?? ["2-4094"]).map(String).join(" ");
}

// ---------------------------------------------------------------------------
// Cross-field checks of cluster operations, baseline and API access
// ---------------------------------------------------------------------------

/** Checks of the fields that drive operations rather than the network layout. */
export function crossCheckOperations(value: unknown, layoutIsValid: boolean): PathIssue[] {
  const issues: PathIssue[] = [];
  if (!isRecord(value)) return issues;
  const nodes = Array.isArray(value.nodes) ? value.nodes.filter(isRecord) : [];
  const cluster = isRecord(value.cluster) ? value.cluster : undefined;

  const migration = cluster && isRecord(cluster.migration) ? cluster.migration : undefined;
  if (migration && isLabel(migration.network) && layoutIsValid) {
    const network = migration.network;
    const ring = isRecord(value.thunderbolt) ? value.thunderbolt.network : undefined;
    const known = Array.isArray(value.networks) && value.networks.some((n) => isRecord(n) && n.name === network);
    if (!known) {
      issues.push({ path: ["cluster", "migration", "network"], message: `no network named ${show(network)}` });
    } else {
      for (const node of nodes) {
        if (!Array.isArray(node.interfaces)) continue; // already reported as a wrong type
        const onIt =
          (network === ring && isRecord(node.thunderbolt)) ||
          (Array.isArray(node.interfaces) &&
            node.interfaces.some((i) => isRecord(i) && i.network === network && isIPv4(i.address)));
        if (!onIt && isLabel(node.name)) {
          issues.push({
            path: ["cluster", "migration", "network"],
            message: `node ${show(node.name)} has no address on network ${show(network)}, so it could not migrate over it`,
          });
        }
      }
    }
  }

  if (isRecord(value.apiAccess) && !cluster) {
    issues.push({
      path: ["apiAccess"],
      message: "needs cluster: the API user and token are created once the cluster exists (its user database is shared)",
    });
  }
  const privileges = isRecord(value.apiAccess) && Array.isArray(value.apiAccess.privileges) ? value.apiAccess.privileges : [];
  privileges.forEach((priv, i) => {
    // The running major version is only known on the node; here a privilege must exist in some supported version.
    if (isString(priv) && validatePrivileges([priv], 8).length > 0 && validatePrivileges([priv], 9).length > 0) {
      issues.push({ path: ["apiAccess", "privileges", i], message: validatePrivileges([priv], 9)[0] });
    }
  });

  issues.push(...crossCheckCeph(value, nodes, layoutIsValid));
  issues.push(...crossCheckGuests(value, nodes));

  const users = isRecord(value.baseline) && Array.isArray(value.baseline.users) ? value.baseline.users : [];
  const seen = new Map<string, number>();
  users.forEach((u, i) => {
    if (!isRecord(u) || !isLinuxUser(u.name)) return;
    const first = seen.get(u.name);
    if (first !== undefined) {
      issues.push({ path: ["baseline", "users", i, "name"], message: `${show(u.name)} is already baseline.users[${first}]` });
    } else seen.set(u.name, i);
  });
  return issues;
}

/** Ceph: needs a cluster; networks reach the nodes; pools fit the OSD hosts; devices unique per node. */
function crossCheckCeph(value: Record<string, unknown>, nodes: Record<string, unknown>[], layoutIsValid: boolean): PathIssue[] {
  const issues: PathIssue[] = [];
  nodes.forEach((node, n) => {
    const osds = Array.isArray(node.osds) ? node.osds : [];
    const devices = new Map<string, number>();
    osds.forEach((osd, i) => {
      if (!isRecord(osd) || !isDevicePath(osd.device)) return;
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
    });
  });
  const ceph = isRecord(value.ceph) ? value.ceph : undefined;
  if (!ceph) {
    nodes.forEach((node, n) => {
      if (Array.isArray(node.osds) && node.osds.length > 0) {
        issues.push({ path: ["nodes", n, "osds"], message: "OSDs need a ceph: section (networks, pools)" });
      }
    });
    return issues;
  }
  if (!isRecord(value.cluster)) {
    issues.push({ path: ["ceph"], message: "needs cluster: Ceph runs on a quorate Proxmox cluster (cluster first, Ceph after)" });
  }
  const names = nodes.map((n) => n.name).filter(isLabel);
  for (const key of ["monNodes", "mgrNodes"] as const) {
    const list = Array.isArray(ceph[key]) ? ceph[key] : [];
    list.forEach((name, i) => {
      if (isLabel(name) && !names.includes(name)) issues.push({ path: ["ceph", key, i], message: `no node named ${show(name)}` });
    });
  }
  if (layoutIsValid) {
    const ring = isRecord(value.thunderbolt) ? value.thunderbolt.network : undefined;
    const monNodes = Array.isArray(ceph.monNodes) ? ceph.monNodes : names;
    for (const key of ["publicNetwork", "clusterNetwork"] as const) {
      const network = ceph[key];
      if (!isLabel(network)) continue;
      if (!Array.isArray(value.networks) || !value.networks.some((x) => isRecord(x) && x.name === network)) {
        issues.push({ path: ["ceph", key], message: `no network named ${show(network)}` });
        continue;
      }
      for (const node of nodes) {
        if (!Array.isArray(node.interfaces)) continue; // already reported as a wrong type
        const needs = key === "publicNetwork" ? monNodes.includes(node.name) || (Array.isArray(node.osds) && node.osds.length > 0) : Array.isArray(node.osds) && node.osds.length > 0;
        if (!needs || !isLabel(node.name)) continue;
        const onIt =
          (network === ring && isRecord(node.thunderbolt)) ||
          (Array.isArray(node.interfaces) && node.interfaces.some((i) => isRecord(i) && i.network === network && isIPv4(i.address)));
        if (!onIt) issues.push({ path: ["ceph", key], message: `node ${show(node.name)} has no address on network ${show(network)}` });
      }
    }
  }
  const osdHosts = nodes.filter((n) => Array.isArray(n.osds) && n.osds.length > 0).length;
  const pools = Array.isArray(ceph.pools) ? ceph.pools : [];
  const poolNames = new Map<string, number>();
  pools.forEach((pool, i) => {
    if (!isRecord(pool)) return;
    const at = (k: string) => ["ceph", "pools", i, k];
    if (isString(pool.name)) {
      const first = poolNames.get(pool.name);
      if (first !== undefined) issues.push({ path: at("name"), message: `${show(pool.name)} is already ceph.pools[${first}]` });
      else poolNames.set(pool.name, i);
    }
    const size = isInt(pool.size, 1, 10) ? pool.size : pool.size === undefined ? 3 : undefined;
    const minSize = isInt(pool.minSize, 1, 10) ? pool.minSize : pool.minSize === undefined ? 2 : undefined;
    if (size !== undefined && minSize !== undefined && minSize > size) {
      issues.push({ path: at("minSize"), message: `${minSize} is more than size ${size}` });
    }
    if (size !== undefined && size > osdHosts) {
      issues.push({
        path: at("size"),
        message: `${size} replicas need ${size} hosts with OSDs, but ${plural(osdHosts, "node has", "nodes have")} OSDs (nodes[].osds)`,
      });
    }
    if (size === 1 && ceph.allowSingleReplica !== true) {
      issues.push({ path: at("size"), message: "1 keeps a single copy of the data; set ceph.allowSingleReplica: true for a single-node lab" });
    }
    if (isInt(pool.pgNum, 1, 32768) && (pool.pgNum & (pool.pgNum - 1)) !== 0) {
      issues.push({ path: at("pgNum"), message: `${pool.pgNum} is not a power of two (Ceph warns about uneven placement groups)` });
    }
    if (pool.pgNum !== undefined && pool.autoscale === true) {
      issues.push({ path: at("autoscale"), message: "true with a fixed pgNum; choose one" });
    }
  });
  return issues;
}

/** Templates, VMs and HA: references resolve, VMIDs never collide, the API exists. */
function crossCheckGuests(value: Record<string, unknown>, nodes: Record<string, unknown>[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const nodeNames = nodes.map((n) => n.name).filter(isLabel);
  // With a broken node list (bad or duplicate names) references would only echo that error.
  const nodesComplete = nodeNames.length === nodes.length && new Set(nodeNames).size === nodeNames.length;
  const unknownNode = (name: unknown) => nodesComplete && isLabel(name) && !nodeNames.includes(name);
  const templates = Array.isArray(value.templates) ? value.templates.filter(isRecord) : [];
  const vms = Array.isArray(value.vms) ? value.vms : [];
  const placements = isRecord(value.ha) && Array.isArray(value.ha.placements) ? value.ha.placements : [];
  if ((templates.length > 0 || vms.length > 0) && !isRecord(value.apiAccess)) {
    issues.push({ path: [templates.length > 0 ? "templates" : "vms"], message: "needs apiAccess: templates and VMs use the Proxmox API token" });
  }
  const vmids = new Map<number, string>();
  const claim = (id: unknown, path: (string | number)[]) => {
    if (!isInt(id, 100, 999999999)) return;
    const owner = vmids.get(id);
    if (owner) issues.push({ path, message: `VMID ${id} is already used by ${owner}` });
    else vmids.set(id, pathText(path));
  };
  const userImages = isRecord(value.images) ? value.images : {};
  const known = [...new Set([...KNOWN_IMAGES, ...Object.keys(userImages)])].sort();
  for (const [name, entry] of Object.entries(userImages)) {
    // Entries with field errors already have their messages.
    if (!IMAGE_NAME.test(name)) {
      issues.push({ path: ["images", name], message: notA(name, "an image name (lowercase letters, digits, hyphens, at most 32)") });
      continue;
    }
    const parsed = ImageSchema.safeParse(entry);
    if (!parsed.success) continue;
    try {
      resolveImage(name, { [name]: userImageEntry(parsed.data) });
    } catch (e) {
      // resolveImage says `image "<name>": <problems>`; the path already names the image.
      issues.push({ path: ["images", name], message: (e as Error).message.replace(/^(unknown )?image "[^"]*":? ?/, "") });
    }
  }
  const names = new Set<string>();
  templates.forEach((t, i) => {
    if (unknownNode(t.node)) issues.push({ path: ["templates", i, "node"], message: `no node named ${show(t.node)}` });
    if (isString(t.image) && !known.includes(t.image)) {
      issues.push({ path: ["templates", i, "image"], message: `${show(t.image)} is not a known image (${known.join(", ")}); add it under images` });
    }
    if (isString(t.name)) names.add(t.name);
    claim(t.vmid, ["templates", i, "vmid"]);
  });
  const base = isInt(value.vmidBase, 100, 999999000) ? value.vmidBase : value.vmidBase === undefined ? 200 : undefined;
  vms.forEach((vm, i) => {
    if (!isRecord(vm)) return;
    if (isString(vm.template) && !names.has(vm.template)) issues.push({ path: ["vms", i, "template"], message: `no template named ${show(vm.template)}` });
    if (unknownNode(vm.node)) issues.push({ path: ["vms", i, "node"], message: `no node named ${show(vm.node)}` });
    if (vm.diskGb !== undefined && vm.disks !== undefined) issues.push({ path: ["vms", i, "diskGb"], message: "give either diskGb or disks, not both" });
    if (Array.isArray(vm.disks)) {
      const slots = new Set<string>();
      vm.disks.forEach((d, j) => {
        if (!isRecord(d) || !isString(d.interface)) return;
        if (slots.has(d.interface)) issues.push({ path: ["vms", i, "disks", j, "interface"], message: `${show(d.interface)} is used twice` });
        slots.add(d.interface);
      });
    }
    claim(vm.vmid ?? (base === undefined ? undefined : base + i), ["vms", i, "vmid"]);
    const ha = isRecord(vm.ha) ? vm.ha : undefined;
    if (ha && isString(ha.placement) && !placements.some((p) => isRecord(p) && p.name === ha.placement)) {
      issues.push({ path: ["vms", i, "ha", "placement"], message: `no placement named ${show(ha.placement)} in ha.placements` });
    }
  });
  placements.forEach((p, i) => {
    if (!isRecord(p) || !Array.isArray(p.nodes)) return;
    p.nodes.forEach((n, j) => {
      if (isRecord(n) && unknownNode(n.node)) {
        issues.push({ path: ["ha", "placements", i, "nodes", j, "node"], message: `no node named ${show(n.node)}` });
      }
    });
  });
  return issues;
}
