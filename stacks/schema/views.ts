/**
 * Views of a possibly partly invalid environment value, for the cross-field
 * checks: each field as it passed (or failed) its own check, so one mistake
 * gives one message, not a cascade.
 */
import {
  isBondMode,
  isBool,
  isCidr,
  isHashPolicy,
  hostKeyFromKeygenLine,
  isHostKey,
  isIfName,
  isInterfaceType,
  isIPv4,
  isLabel,
  isMtu,
  isPciPath,
  isRecord,
  isVlanId,
  isVlanIdsEntry,
  type InterfaceType,
} from "./predicates";

/** A problem found by a cross-field check: path relative to the checked object. */
export interface PathIssue {
  path: (string | number)[];
  message: string;
}

export type Path = (string | number)[];

/** Records one issue. */
export type AddIssue = (path: Path, message: string) => void;

/** A path as the messages print it: `nodes[1].address`. */
export function pathText(path: Path): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  return out;
}

/**
 * A field as the cross checks see it: the value if it passed its own check,
 * `undefined` if absent, `null` if present but invalid (already reported).
 */
export type Field<T> = T | undefined | null;

export function field<T>(raw: unknown, ok: (v: unknown) => v is T): Field<T> {
  if (raw === undefined) return undefined;
  return ok(raw) ? raw : null;
}

export function fieldList<T>(raw: unknown, ok: (v: unknown) => v is T): Field<Field<T>[]> {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) return null;
  return raw.map((v) => field(v, ok));
}

export interface NetworkView {
  index: number;
  name: Field<string>;
  cidr: Field<string>;
  gateway: Field<string>;
  mtu: Field<number>;
}

export interface InterfaceView {
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

export interface PortView {
  index: number;
  name: Field<string>;
  pciPath: Field<string>;
  peer: Field<string>;
}

export interface NodeView {
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

export function networkView(raw: unknown, index: number): NetworkView {
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

export function interfaceView(raw: unknown, index: number): InterfaceView {
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

export function nodeView(raw: unknown, index: number): NodeView {
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
