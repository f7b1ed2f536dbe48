import { describe, expect, it } from "vitest";
import { parseGuestInterfaces, pickAddress } from "../infra/parse/guest-agent";

// `qm guest cmd 200 network-get-interfaces` (pve-cli.md §3.10: pretty, canonical JSON, a bare list)
const QM_GUEST_CMD = `[
   {
      "hardware-address" : "00:00:00:00:00:00",
      "ip-addresses" : [
         { "ip-address" : "127.0.0.1", "ip-address-type" : "ipv4", "prefix" : 8 },
         { "ip-address" : "::1", "ip-address-type" : "ipv6", "prefix" : 128 }
      ],
      "name" : "lo"
   },
   {
      "hardware-address" : "bc:24:11:0a:0b:0c",
      "ip-addresses" : [
         { "ip-address" : "169.254.10.2", "ip-address-type" : "ipv4", "prefix" : 16 },
         { "ip-address" : "192.168.3.50", "ip-address-type" : "ipv4", "prefix" : 24 }
      ],
      "name" : "eth0"
   },
   {
      "hardware-address" : "02:42:ac:11:00:01",
      "ip-addresses" : [ { "ip-address" : "172.17.0.1", "ip-address-type" : "ipv4", "prefix" : 16 } ],
      "name" : "docker0"
   }
]
`;

describe("guest agent network-get-interfaces", () => {
  const interfaces = parseGuestInterfaces(JSON.parse(QM_GUEST_CMD));

  it("reads the bare list (qm guest cmd) and the API's {result} alike", () => {
    expect(interfaces.map((i) => [i.name, i.mac, i.ipv4])).toEqual([
      ["lo", "00:00:00:00:00:00", ["127.0.0.1"]],
      ["eth0", "bc:24:11:0a:0b:0c", ["169.254.10.2", "192.168.3.50"]],
      ["docker0", "02:42:ac:11:00:01", ["172.17.0.1"]],
    ]);
    expect(parseGuestInterfaces({ result: JSON.parse(QM_GUEST_CMD) })).toEqual(interfaces);
    expect(parseGuestInterfaces({ error: "x" })).toEqual([]);
  });

  it("picks the NIC's usable address by MAC, never loopback or link-local; a static one only when present", () => {
    expect(pickAddress(interfaces, { mac: "BC:24:11:0A:0B:0C" })).toBe("192.168.3.50");
    expect(pickAddress(interfaces, { mac: "02:42:AC:11:00:01" })).toBe("172.17.0.1");
    expect(pickAddress(interfaces, {})).toBe("192.168.3.50");
    expect(pickAddress(interfaces, { expected: "192.168.3.50" })).toBe("192.168.3.50");
    expect(pickAddress(interfaces, { expected: "192.168.3.51" })).toBeUndefined();
    expect(pickAddress(interfaces.slice(0, 1), {})).toBeUndefined();
  });
});
