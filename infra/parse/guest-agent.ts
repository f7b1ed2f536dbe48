/**
 * The QEMU guest agent's `network-get-interfaces`, as `qm guest cmd VMID
 * network-get-interfaces` prints it (a bare list, pretty JSON) or as the API
 * returns it (`pvesh get /nodes/N/qemu/VMID/agent/network-get-interfaces`:
 * `{"result": [...]}`). See pve-cli.md §3.10.
 */

export interface GuestInterface {
  name: string;
  /** Lowercase MAC; "" when the agent reports none. */
  mac: string;
  ipv4: string[];
}

/** Interfaces with their IPv4 addresses; anything malformed is skipped, not guessed. */
export function parseGuestInterfaces(data: unknown): GuestInterface[] {
  const list = Array.isArray(data) ? data : data && typeof data === "object" ? (data as { result?: unknown }).result : undefined;
  if (!Array.isArray(list)) return [];
  const out: GuestInterface[] = [];
  for (const entry of list) {
    if (!entry || typeof entry !== "object") continue;
    const e = entry as Record<string, unknown>;
    const addresses = Array.isArray(e["ip-addresses"]) ? (e["ip-addresses"] as Record<string, unknown>[]) : [];
    out.push({
      name: typeof e.name === "string" ? e.name : "",
      mac: typeof e["hardware-address"] === "string" ? e["hardware-address"].toLowerCase() : "",
      ipv4: addresses.filter((a) => a && a["ip-address-type"] === "ipv4" && typeof a["ip-address"] === "string").map((a) => a["ip-address"] as string),
    });
  }
  return out;
}

/** Loopback and link-local (169.254/16) addresses say nothing about reachability. */
export function isUsableIpv4(address: string): boolean {
  return !address.startsWith("127.") && !address.startsWith("169.254.") && address !== "0.0.0.0";
}

/** Every usable IPv4 address, interface order kept. */
export function usableAddresses(interfaces: GuestInterface[]): string[] {
  return interfaces.filter((i) => i.name !== "lo").flatMap((i) => i.ipv4.filter(isUsableIpv4));
}

/**
 * The VM's address: the `expected` (static) address when the guest reports
 * it, else the first usable address on the NIC with `mac`, else the first
 * usable one anywhere. Undefined while there is none (or, with `expected`,
 * while the guest does not have that one yet).
 */
export function pickAddress(interfaces: GuestInterface[], want: { mac?: string; expected?: string }): string | undefined {
  const all = usableAddresses(interfaces);
  if (want.expected) return all.includes(want.expected) ? want.expected : undefined;
  const nic = want.mac ? interfaces.find((i) => i.mac === want.mac!.toLowerCase()) : undefined;
  return nic?.ipv4.find(isUsableIpv4) ?? all[0];
}
