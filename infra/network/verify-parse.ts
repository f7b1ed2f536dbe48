/**
 * Parsers for the output of the tools the network providers run: `ping`
 * (iputils), `iperf3 -J` and `ip -o -4 addr show`. Pure, unit-tested.
 */

export interface PingResult {
  transmitted: number;
  received: number;
  /** Average round trip in ms, when any reply came back. */
  avgRttMs?: number;
}

/** iputils ping summary: "3 packets transmitted, 3 received, 0% packet loss, time 2003ms" + "rtt min/avg/max/mdev = …". */
export function parsePing(stdout: string): PingResult | undefined {
  const summary = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  if (!summary) return undefined;
  const rtt = /(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = [\d.]+\/([\d.]+)\//.exec(stdout);
  const result: PingResult = { transmitted: Number(summary[1]), received: Number(summary[2]) };
  if (rtt) result.avgRttMs = Number(rtt[1]);
  return result;
}

export interface IperfResult {
  /** Received throughput in Gbit/s, two decimals. */
  gbps: number;
  /** TCP retransmits seen by the sender (when reported). */
  retransmits?: number;
  seconds: number;
}

/**
 * `iperf3 -c … -J` output. Returns the error text iperf3 put in the JSON
 * ("error": "unable to connect to server: …") as `{ error }`.
 */
export function parseIperf3(stdout: string): IperfResult | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout.trim());
  } catch {
    const sample = stdout.trim().slice(0, 200);
    return { error: `iperf3 did not print JSON: ${JSON.stringify(sample)}` };
  }
  const d = doc as {
    error?: string;
    end?: {
      sum_received?: { bits_per_second?: number; seconds?: number };
      sum_sent?: { bits_per_second?: number; seconds?: number; retransmits?: number };
    };
  };
  if (typeof d.error === "string" && d.error !== "") return { error: d.error };
  const received = d.end?.sum_received;
  const sent = d.end?.sum_sent;
  const bps = received?.bits_per_second ?? sent?.bits_per_second;
  if (typeof bps !== "number") return { error: "iperf3 JSON has no end.sum_received.bits_per_second" };
  const out: IperfResult = {
    gbps: Math.round(bps / 1e7) / 100,
    seconds: Math.round((received?.seconds ?? sent?.seconds ?? 0) * 100) / 100,
  };
  if (typeof sent?.retransmits === "number") out.retransmits = sent.retransmits;
  return out;
}

export interface AddressEntry {
  interface: string;
  /** "a.b.c.d/p" */
  cidr: string;
}

/** `ip -o -4 addr show`: "2: vmbr0    inet 192.168.3.5/24 brd … scope global vmbr0\       valid_lft …". */
export function parseIpAddrOneline(stdout: string): AddressEntry[] {
  const out: AddressEntry[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\S+)/.exec(line);
    if (m) out.push({ interface: m[1], cidr: m[2] });
  }
  return out;
}

export interface LinkState {
  /** Administratively up (flag UP). */
  up: boolean;
  /** Carrier (flag LOWER_UP): the cable is plugged and the other end is up. */
  carrier: boolean;
  mtu: number;
}

/** `ip -j link show dev X`: `[{"ifname":"en05","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":65520,…}]`. */
export function parseIpLinkJson(stdout: string): LinkState | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout.trim());
  } catch {
    return undefined;
  }
  const first = Array.isArray(doc) ? (doc[0] as { flags?: unknown; mtu?: unknown } | undefined) : undefined;
  if (!first || !Array.isArray(first.flags) || typeof first.mtu !== "number") return undefined;
  const flags = first.flags as string[];
  return { up: flags.includes("UP"), carrier: flags.includes("LOWER_UP"), mtu: first.mtu };
}

export interface OpenFabricAdjacency {
  /** The neighbour's hostname (FRR's dynamic hostname). */
  neighbor: string;
  interface: string;
  /** "Up", "Initializing" or "Down". */
  state: string;
}

/**
 * `vtysh -c 'show openfabric neighbor json'` (FRR's isis_neighbor_common_json):
 * `{"areas":[{"area":"1","circuits":[{"circuit":0,"adj":"russell","interface":"en05","state":"Up",…},{"circuit":1}]}]}`;
 * circuits without a neighbour carry only their number. Undefined when the text is not that JSON.
 */
export function parseOpenFabricNeighbors(stdout: string): OpenFabricAdjacency[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout.trim());
  } catch {
    return undefined;
  }
  const areas = (doc as { areas?: unknown }).areas;
  if (!Array.isArray(areas)) return undefined;
  const out: OpenFabricAdjacency[] = [];
  for (const area of areas as { circuits?: unknown }[]) {
    if (!Array.isArray(area.circuits)) continue;
    for (const c of area.circuits as Record<string, unknown>[]) {
      if (typeof c.adj === "string" && typeof c.interface === "string") out.push({ neighbor: c.adj, interface: c.interface, state: String(c.state ?? "") });
    }
  }
  return out;
}
