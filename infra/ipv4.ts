/**
 * IPv4 and CIDR arithmetic, once for every caller (schema checks, renderers,
 * parsers, providers). Pure functions on already well-formed text: the
 * callers decide what is well-formed and what to say when it is not.
 *
 * Exported functions only, no module constants: providers call these from
 * serialized closures.
 */

/** Dotted-quad IPv4 address to an unsigned 32-bit integer. */
export function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Unsigned 32-bit integer to a dotted-quad IPv4 address. */
export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The prefix length of an IPv4 CIDR: `prefixLength("192.168.3.0/24") === 24` (NaN without one). */
export function prefixLength(cidr: string): number {
  return Number(cidr.split("/")[1]);
}

/** First and last address of a CIDR as integers, and its prefix length. */
export function cidrRange(cidr: string): { first: number; last: number; prefix: number } {
  const [ip, prefixText] = cidr.split("/");
  const prefix = Number(prefixText);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(ipv4ToInt(ip) / size) * size;
  return { first, last: first + size - 1, prefix };
}

/** The network address of a CIDR: `cidrNetworkAddress("10.1.2.3/16") === "10.1.0.0"`. */
export function cidrNetworkAddress(cidr: string): string {
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

/** Prefix length of a netmask ("255.255.255.0" → 24, "24" → 24); undefined when it is not contiguous ones then zeros. */
export function netmaskPrefix(mask: string): number | undefined {
  if (/^\d+$/.test(mask)) return Number(mask);
  const parts = mask.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const bits = parts.map((p) => p.toString(2).padStart(8, "0")).join("");
  return /^1*0*$/.test(bits) ? bits.indexOf("0") < 0 ? 32 : bits.indexOf("0") : undefined;
}
