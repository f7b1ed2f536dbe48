/**
 * /etc/network/interfaces as a whole file: parse it (the way Proxmox's
 * reader and ifupdown2 split it into stanzas), put our managed block in,
 * adopt stanzas of managed interfaces that live outside the block, and
 * decide whether a change touches the management connection.
 *
 * Pure functions, unit-tested.
 */
import { netmaskPrefix } from "../ipv4";
import { readBlock, writeBlock } from "../managed-block";

// Functions here run inside dynamic providers: they use module-private names, because the closure
// serializer mis-captures a module's own `exports.X`; the exported names are aliases.
const BLOCK_ID = "network";
const BEFORE_SOURCE = "^\\s*source(-directory)?\\s";

/** Id of the managed block: `# BEGIN homelab network …` / `# END homelab network`. */
export const NETWORK_BLOCK_ID = BLOCK_ID;

/** Where a new block goes: before the first `source`/`source-directory` line (so sourced files can't shadow it). */
export const INSERT_BEFORE_SOURCE = BEFORE_SOURCE;

/** Lines that start a new stanza (ifupdown's keywords). */
const KEYWORD = /^\s*(?:(?:iface|mapping|auto|source|source-directory|rename)\s|allow-)/;
/** Our block markers also end a stanza, so a stanza never swallows them. */
const MARKER = /^\s*# (?:BEGIN|END) homelab /;
const IFACE = /^\s*iface\s+(\S+)(?:\s+(inet6?)\s+(\S+))?\s*$/;
const AUTO = /^\s*(auto|allow-[\w-]+)\s+(.*)$/;

/** One `iface` stanza as found in a file. */
export interface ParsedStanza {
  name: string;
  /** "inet", "inet6", or undefined for `iface NAME` alone (ifupdown2). */
  family?: string;
  method?: string;
  /** First line (the `iface` line) and end (exclusive) of the stanza's body. */
  start: number;
  end: number;
  /** Option lines as [key, value], in file order. */
  options: [string, string][];
}

export interface ParsedFile {
  lines: string[];
  stanzas: ParsedStanza[];
  /** Names on `auto`/`allow-auto` lines (what `ifreload -a` brings up). */
  auto: Set<string>;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  return text.replace(/\n$/, "").split("\n");
}

const isBlank = (l: string) => l.trim() === "";
const isComment = (l: string) => /^\s*#/.test(l);

/**
 * Parse a file. A stanza runs from its `iface` line to the next keyword or
 * marker line; trailing blank lines, and a trailing comment paragraph that
 * follows a blank line (it belongs to what comes next), are not part of it.
 */
export function parseInterfaces(text: string): ParsedFile {
  const lines = splitLines(text);
  const stanzas: ParsedStanza[] = [];
  const auto = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const autoMatch = AUTO.exec(lines[i]);
    if (autoMatch && (autoMatch[1] === "auto" || autoMatch[1] === "allow-auto")) {
      for (const n of autoMatch[2].trim().split(/\s+/)) if (n) auto.add(n);
      continue;
    }
    const m = IFACE.exec(lines[i]);
    if (!m) continue;
    let end = i + 1;
    while (end < lines.length && !KEYWORD.test(lines[end]) && !MARKER.test(lines[end])) end++;
    end = trimStanzaEnd(lines, i + 1, end);
    const options: [string, string][] = [];
    for (let j = i + 1; j < end; j++) {
      const l = lines[j].trim();
      if (l === "" || l.startsWith("#")) continue;
      const sp = l.search(/\s/);
      options.push(sp < 0 ? [l, ""] : [l.slice(0, sp), l.slice(sp).trim()]);
    }
    stanzas.push({ name: m[1], family: m[2], method: m[3], start: i, end, options });
    i = end - 1;
  }
  return { lines, stanzas, auto };
}

function trimStanzaEnd(lines: string[], bodyStart: number, end: number): number {
  let e = end;
  for (;;) {
    while (e > bodyStart && isBlank(lines[e - 1])) e--;
    // a comment paragraph separated by a blank line belongs to the next stanza
    let c = e;
    while (c > bodyStart && isComment(lines[c - 1])) c--;
    if (c < e && c > bodyStart && isBlank(lines[c - 1])) {
      e = c;
      continue;
    }
    return e;
  }
}

/** Names of the interfaces (inet or family-less stanzas) a text of stanzas defines. */
export function stanzaNames(text: string): string[] {
  const names: string[] = [];
  for (const s of parseInterfaces(text).stanzas) if (s.family !== "inet6" && !names.includes(s.name)) names.push(s.name);
  return names;
}

export interface ComposeResult {
  /** The whole new file. */
  text: string;
  /** Managed interfaces whose stanza was found outside the block and moved into it. */
  adopted: string[];
}

/**
 * The new file: our block (in place, or before the `source` line, or at the
 * end) holding `block`; every `iface` stanza of a managed interface outside
 * the block removed (inet6 stanzas are left alone: we do not render IPv6),
 * and managed names taken off `auto`/`allow-*` lines outside the block.
 * Everything else stays byte for byte.
 */
export function composeInterfaces(current: string, block: string, blockId = BLOCK_ID): ComposeResult {
  const managed = new Set(stanzaNames(block));
  // Empty the block first so only stanzas outside it are candidates for adoption.
  const hadBlock = readBlock(current, blockId) !== undefined;
  const base = hadBlock ? writeBlock(current, blockId, "") : current;
  const parsed = parseInterfaces(base);
  const drop = new Set<number>();
  const rewrite = new Map<number, string>();
  const adopted: string[] = [];
  // Stray markers of this block (a Proxmox GUI save drops top-level comments, so BEGIN vanishes and
  // END ends up as a comment of the last stanza): only the block's own pair is kept.
  const isOurs = (l: string) => l.trim().startsWith(`# BEGIN homelab ${blockId} `) || l.trim() === `# BEGIN homelab ${blockId}` || l.trim() === `# END homelab ${blockId}`;
  const begin = hadBlock ? parsed.lines.findIndex((l) => l.trim().startsWith(`# BEGIN homelab ${blockId}`)) : -1;
  const end = begin >= 0 ? parsed.lines.findIndex((l, i) => i > begin && l.trim() === `# END homelab ${blockId}`) : -1;
  parsed.lines.forEach((l, i) => {
    if (i !== begin && i !== end && isOurs(l)) drop.add(i);
  });
  for (const s of parsed.stanzas) {
    if (!managed.has(s.name) || s.family === "inet6") continue;
    for (let i = s.start; i < s.end; i++) drop.add(i);
    if (!adopted.includes(s.name)) adopted.push(s.name);
  }
  parsed.lines.forEach((line, i) => {
    const m = AUTO.exec(line);
    if (!m) return;
    const names = m[2].trim().split(/\s+/);
    const kept = names.filter((n) => !managed.has(n));
    if (kept.length === names.length) return;
    for (const n of names) if (managed.has(n) && !adopted.includes(n)) adopted.push(n);
    if (kept.length === 0) drop.add(i);
    else rewrite.set(i, `${line.match(/^\s*/)![0]}${m[1]} ${kept.join(" ")}`);
  });
  // A removed run of lines takes one separating blank line with it, so no double blank is left.
  const lines = parsed.lines;
  const blanks: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!drop.has(i) || drop.has(i + 1)) continue;
    let runStart = i;
    while (runStart > 0 && drop.has(runStart - 1)) runStart--;
    const blankBefore = runStart === 0 || isBlank(lines[runStart - 1]);
    if (blankBefore && i + 1 < lines.length && isBlank(lines[i + 1])) blanks.push(i + 1);
  }
  blanks.forEach((i) => drop.add(i));
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (!drop.has(i)) out.push(rewrite.get(i) ?? line);
  });
  const remaining = out.length === 0 ? "" : out.join("\n") + "\n";
  const text = writeBlock(remaining, blockId, block, new RegExp(BEFORE_SOURCE));
  return { text, adopted };
}

// ---------------------------------------------------------------------------
// Management guard
// ---------------------------------------------------------------------------

/** A stanza reduced to what ifupdown2 acts on, for comparison. */
interface Semantic {
  auto: boolean;
  method: string;
  /** normalized key → sorted values */
  options: Map<string, string[]>;
}

const BOND_MODE_NUMBERS: Record<string, string> = {
  "0": "balance-rr",
  "1": "active-backup",
  "2": "balance-xor",
  "3": "broadcast",
  "4": "802.3ad",
  "5": "balance-tlb",
  "6": "balance-alb",
};
const KEY_ALIASES: Record<string, string> = { slaves: "bond-slaves" };
// An array, not a Set: module-level Sets do not survive the closure serializer.
const LIST_KEYS = ["bridge-ports", "bond-slaves"];

/** Semantic view of every inet (or family-less) interface in a file. */
function semantics(file: ParsedFile): Map<string, Semantic> {
  const out = new Map<string, Semantic>();
  for (const s of file.stanzas) {
    if (s.family === "inet6") continue;
    const sem = out.get(s.name) ?? { auto: file.auto.has(s.name), method: s.method ?? "", options: new Map() };
    if (s.method) sem.method = s.method;
    const netmask = s.options.find(([k]) => k.toLowerCase() === "netmask")?.[1];
    for (const [rawKey, rawValue] of s.options) {
      let key = rawKey.toLowerCase().replace(/_/g, "-");
      key = KEY_ALIASES[key] ?? key;
      let value = rawValue.trim().replace(/\s+/g, " ");
      if (key === "netmask") continue;
      if (key === "address" && !value.includes("/") && netmask) {
        const bits = netmaskPrefix(netmask);
        if (bits !== undefined) value = `${value}/${bits}`;
      }
      if (LIST_KEYS.includes(key)) value = value.split(" ").filter((v) => v !== "none").sort().join(" ");
      if (key === "bridge-stp") value = /^(on|yes)$/i.test(value) ? "on" : "off";
      if (key === "bridge-vlan-aware") {
        if (!/^(yes|on|1)$/i.test(value)) continue;
        value = "yes";
      }
      if (key === "bond-mode") value = BOND_MODE_NUMBERS[value] ?? value;
      const list = sem.options.get(key) ?? [];
      list.push(value);
      sem.options.set(key, list);
    }
    for (const [k, v] of sem.options) sem.options.set(k, [...v].sort());
    out.set(s.name, sem);
  }
  return out;
}

function addressIp(value: string): string {
  return value.split("/")[0];
}

/** The interface carrying `address`, and everything under it (ports, slaves, raw devices). */
function managementChain(sem: Map<string, Semantic>, address: string): string[] {
  const top = [...sem.entries()].find(([, s]) => (s.options.get("address") ?? []).some((a) => addressIp(a) === address));
  if (!top) return [];
  const chain: string[] = [];
  const visit = (name: string) => {
    if (chain.includes(name)) return;
    chain.push(name);
    const s = sem.get(name);
    const lower: string[] = [];
    for (const key of ["bridge-ports", "bond-slaves", "vlan-raw-device"]) {
      for (const v of s?.options.get(key) ?? []) lower.push(...v.split(" ").filter(Boolean));
    }
    const dotted = /^(.+)\.\d+$/.exec(name);
    if (dotted) lower.push(dotted[1]);
    lower.forEach(visit);
  };
  visit(top[0]);
  return chain;
}

function withGateway(sem: Map<string, Semantic>): string[] {
  return [...sem.entries()].filter(([, s]) => s.options.has("gateway")).map(([n]) => n);
}

function describe(values: string[] | undefined): string {
  return values && values.length > 0 ? values.join(", ") : "(unset)";
}

/**
 * What a change from `current` to `candidate` does to the management
 * connection: the stanza carrying `managementAddress`, every port, slave or
 * raw device under it (recursively), and any stanza with a `gateway`.
 * Returns one line per difference, empty when the change leaves all of them
 * semantically identical (formatting, option order, comments, `_` vs `-`
 * spellings and netmask vs prefix do not count).
 */
export function managementChanges(current: string, candidate: string, managementAddress: string): string[] {
  const before = semantics(parseInterfaces(current));
  const after = semantics(parseInterfaces(candidate));
  const names: string[] = [];
  const add = (n: string) => {
    if (!names.includes(n)) names.push(n);
  };
  [
    ...managementChain(before, managementAddress),
    ...managementChain(after, managementAddress),
    ...withGateway(before),
    ...withGateway(after),
  ].forEach(add);
  const changes: string[] = [];
  for (const name of names) {
    const a = before.get(name);
    const b = after.get(name);
    if (!a && !b) continue;
    if (a && !b) {
      changes.push(`${name}: stanza removed`);
      continue;
    }
    if (!a && b) {
      changes.push(`${name}: stanza added (${[...b.options].map(([k, v]) => `${k} ${v.join(", ")}`).join("; ") || b.method})`);
      continue;
    }
    if (a!.auto !== b!.auto) changes.push(`${name}: auto ${a!.auto ? "removed" : "added"}`);
    if (a!.method !== b!.method) changes.push(`${name}: inet ${a!.method} → ${b!.method}`);
    const keys = [...new Set([...a!.options.keys(), ...b!.options.keys()])].sort();
    for (const k of keys) {
      const va = a!.options.get(k);
      const vb = b!.options.get(k);
      if (JSON.stringify(va ?? []) !== JSON.stringify(vb ?? [])) changes.push(`${name}: ${k} ${describe(va)} → ${describe(vb)}`);
    }
  }
  return changes;
}

/** The interface whose stanza carries `address` in a file, if any. */
export function interfaceWithAddress(text: string, address: string): string | undefined {
  return managementChain(semantics(parseInterfaces(text)), address)[0];
}
