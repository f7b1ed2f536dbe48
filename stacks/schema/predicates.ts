/**
 * Pure predicates, shared by the zod schemas and the cross-field checks (which
 * run on a partly invalid value and so test fields themselves), and the value
 * sets they test against.
 */
import { cidrNetworkAddress } from "../../infra/ipv4";

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
export const SAFE_TEXT_MAX = 128;
const DEVICE_PATH = /^\/dev\/(disk\/by-(id|path)\/[A-Za-z0-9._:+-]{1,128}|[a-z][a-z0-9]{1,31})$/;
const DEVICE_CLASS = /^[a-z][a-z0-9_-]{0,31}$/;
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\p{Cc}]{0,200})?$/u;

export const MTU_MIN = 576;
export const MTU_MAX = 65520;

export const isString = (v: unknown): v is string => typeof v === "string";
export const isBool = (v: unknown): v is boolean => typeof v === "boolean";
export const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

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
/** A whole block device: /dev/<name> or /dev/disk/by-id|by-path/<id>. */
export const isDevicePath = (v: unknown): v is string => isString(v) && DEVICE_PATH.test(v);
/** A CRUSH device class (nvme, ssd, hdd, …). */
export const isDeviceClass = (v: unknown): v is string => isString(v) && DEVICE_CLASS.test(v);
export const isSshPublicKey = (v: unknown): v is string => isString(v) && SSH_PUBLIC_KEY.test(v);

export const INTERFACE_TYPES = ["nic", "bond", "bridge", "vlan"] as const;
export type InterfaceType = (typeof INTERFACE_TYPES)[number];
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

export const isInterfaceType = (v: unknown): v is InterfaceType =>
  isString(v) && (INTERFACE_TYPES as readonly string[]).includes(v);
export const isBondMode = (v: unknown): v is string => isString(v) && (BOND_MODES as readonly string[]).includes(v);
export const isHashPolicy = (v: unknown): v is string => isString(v) && (HASH_POLICIES as readonly string[]).includes(v);
