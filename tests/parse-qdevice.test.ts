import { describe, expect, it } from "vitest";
import { corosyncQdeviceHost, parseQnetdList } from "../infra/parse/qdevice";

// corosync-qnetd-tool -l, laid out as qdevices/qnetd-ipc-cmd.c prints it (tabs included).
const LIST =
  'Cluster "nexus":\n' +
  "    Algorithm:\t\tFifty-Fifty split\n" +
  "    Tie-breaker:\tNode with lowest node ID\n" +
  "    Node ID 1:\n" +
  "        Client address:\t\t::ffff:192.168.30.11:54112\n" +
  "        Configuration version:\t3\n" +
  "        Configured node list:\t1, 2\n" +
  "        Membership node list:\t1, 2\n" +
  "        Vote:\t\t\tACK (ACK)\n" +
  "    Node ID 2:\n" +
  "        Client address:\t\t::ffff:192.168.30.12:39870\n" +
  "        Vote:\t\t\tACK (ACK)\n" +
  'Cluster "lab":\n' +
  "    Algorithm:\t\tFifty-Fifty split (KAP Tie-breaker)\n" +
  "    Node ID 7:\n" +
  "        Client address:\t\t10.0.0.7:5403\n";

describe("parseQnetdList", () => {
  it("reads each cluster with its clients' addresses, without port and IPv4-mapped prefix", () => {
    expect(parseQnetdList(LIST)).toEqual([
      { name: "nexus", clients: [{ nodeId: 1, address: "192.168.30.11" }, { nodeId: 2, address: "192.168.30.12" }] },
      { name: "lab", clients: [{ nodeId: 7, address: "10.0.0.7" }] },
    ]);
  });

  it("reads an idle qnetd (no cluster connected) as none", () => {
    expect(parseQnetdList("")).toEqual([]);
  });
});

describe("corosyncQdeviceHost", () => {
  const conf = (quorum: string) => `logging {\n  debug: off\n}\n\nquorum {\n${quorum}}\n\ntotem {\n  cluster_name: nexus\n}\n`;

  it("reads quorum.device.net.host", () => {
    const text = conf("  device {\n    model: net\n    net {\n      algorithm: ffsplit\n      host: 192.168.30.5\n      tls: on\n    }\n    votes: 1\n  }\n  provider: corosync_votequorum\n");
    expect(corosyncQdeviceHost(text)).toBe("192.168.30.5");
  });

  it("is undefined without a device section", () => {
    expect(corosyncQdeviceHost(conf("  provider: corosync_votequorum\n"))).toBeUndefined();
  });
});
