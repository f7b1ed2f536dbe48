/**
 * Networks: the schema of `networks`, and the checks between them (unique
 * names, no overlap, gateway inside). Interfaces and addresses refer to them
 * through the NetworkIndex built here.
 */
import { cidrRange, cidrsOverlap, ipInCidr, ipv4ToInt } from "../../infra/ipv4";
import { cidr, ipv4, mapping, mtu, networkName, safeText } from "./fields";
import { show } from "./messages";
import { isMtu, isString } from "./predicates";
import { networkView, type AddIssue, type Field, type Path } from "./views";

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

/**
 * Why `ip` can't be a host address in `cidr`, or undefined if it can.
 * /31 and /32 have no network or broadcast address (RFC 3021).
 */
export function hostAddressProblem(ip: string, cidr: string): string | undefined {
  if (!ipInCidr(ip, cidr)) return `is not inside`;
  const { first, last, prefix } = cidrRange(cidr);
  if (prefix >= 31) return undefined;
  const n = ipv4ToInt(ip);
  if (n === first) return "is the network address of";
  if (n === last) return "is the broadcast address of";
  return undefined;
}

/** A named network usable by the checks (valid name and cidr). */
export interface KnownNetwork {
  name: string;
  cidr: string;
  gateway: string | undefined;
  mtu: number | undefined;
  index: number;
}

/** The networks as the other checks see them. */
export interface NetworkIndex {
  /** Networks with a valid name and cidr. */
  known: Map<string, KnownNetwork>;
  /** Names that exist, even if their cidr is invalid (so references to them aren't "unknown"). */
  names: Set<string>;
  /** Whether every network has a valid name (only then is a reference "unknown"). */
  complete: boolean;
}

/** Unique names, no overlapping CIDRs, gateways inside their network. */
export function checkNetworks(value: Record<string, unknown>, add: AddIssue): NetworkIndex {
  const networkViews = Array.isArray(value.networks) ? value.networks.map(networkView) : null;
  const known = new Map<string, KnownNetwork>();
  const names = new Set<string>();
  const complete = networkViews !== null && networkViews.every((n) => isString(n.name));
  for (const n of networkViews ?? []) {
    if (!isString(n.name)) continue;
    if (names.has(n.name)) {
      const first = networkViews!.find((o) => o.name === n.name)!;
      add(["networks", n.index, "name"], `${show(n.name)} is already the name of networks[${first.index}]`);
      continue;
    }
    names.add(n.name);
    if (isString(n.cidr)) {
      for (const other of known.values()) {
        if (cidrsOverlap(n.cidr, other.cidr)) {
          add(["networks", n.index, "cidr"], `${n.cidr} overlaps network ${show(other.name)} (${other.cidr})`);
        }
      }
      if (isString(n.gateway)) {
        const problem = hostAddressProblem(n.gateway, n.cidr);
        if (problem) add(["networks", n.index, "gateway"], `${show(n.gateway)} ${problem} ${n.cidr}`);
      }
      known.set(n.name, {
        name: n.name,
        cidr: n.cidr,
        gateway: isString(n.gateway) ? n.gateway : undefined,
        mtu: isMtu(n.mtu) ? n.mtu : undefined,
        index: n.index,
      });
    }
  }
  return { known, names, complete };
}

/** Reference check: true when `name` names a network; "unknown" is reported only if the list of names is complete. */
export function checkNetworkRef(networks: NetworkIndex, add: AddIssue, path: Path, name: Field<string>): boolean {
  if (!isString(name)) return false;
  if (networks.names.has(name)) return true;
  if (networks.complete) add(path, `no network named ${show(name)}`);
  return false;
}
