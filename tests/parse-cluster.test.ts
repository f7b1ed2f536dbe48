import { describe, expect, it } from "vitest";
import {
  isNotInClusterJoinError,
  isNotInClusterPvecmError,
  joinSucceeded,
  parseClusterStatus,
  parseGuests,
  parseJoinInfo,
  parsePvecmStatus,
} from "../infra/parse/cluster";

// Samples from /work/shared/reference/pve-cli.md (§1.1, 1.4, 1.6, 1.7, 3.11).

describe("parseClusterStatus", () => {
  it("reads the cluster row and the node rows (0/1 booleans, offline node without ip)", () => {
    const out =
      '[{"id":"cluster","name":"prod","nodes":3,"quorate":1,"type":"cluster","version":3},' +
      '{"id":"node/pve1","ip":"10.10.0.11","level":"","local":1,"name":"pve1","nodeid":1,"online":1,"type":"node"},' +
      '{"id":"node/pve2","ip":"10.10.0.12","level":"","local":0,"name":"pve2","nodeid":2,"online":1,"type":"node"},' +
      '{"id":"node/pve3","local":0,"name":"pve3","nodeid":3,"online":0,"type":"node"}]\n';
    const s = parseClusterStatus(out, "pve1");
    expect(s.clusterName).toBe("prod");
    expect(s.quorate).toBe(true);
    expect(s.configVersion).toBe(3);
    expect(s.localName).toBe("pve1");
    expect(s.nodes).toEqual([
      { name: "pve1", nodeid: 1, online: true, local: true, ip: "10.10.0.11" },
      { name: "pve2", nodeid: 2, online: true, local: false, ip: "10.10.0.12" },
      { name: "pve3", nodeid: 3, online: false, local: false },
    ]);
  });

  it("treats a standalone node (no cluster row, nodeid 0) as not clustered", () => {
    const s = parseClusterStatus(
      '[{"id":"node/pve","ip":"192.168.1.10","level":"","local":1,"name":"pve","nodeid":0,"online":1,"type":"node"}]\n',
      "pve",
    );
    expect(s.clusterName).toBeUndefined();
    expect(s.quorate).toBe(false);
    expect(s.localName).toBe("pve");
    expect(s.nodes[0].nodeid).toBe(0);
  });

  it("reads a not-quorate cluster", () => {
    const s = parseClusterStatus('[{"id":"cluster","name":"uk-home1","quorate":0,"type":"cluster"}]', "x");
    expect(s.clusterName).toBe("uk-home1");
    expect(s.quorate).toBe(false);
  });

  it("names the node when the output is not JSON or not a list", () => {
    expect(() => parseClusterStatus("ipcc_send_rec[1] failed: Connection refused", "golf")).toThrow(
      /golf: pvesh get \/cluster\/status did not print JSON/,
    );
    expect(() => parseClusterStatus("{}", "golf")).toThrow(/golf: .*JSON list/);
  });
});

describe("parseJoinInfo", () => {
  const sample =
    '{"config_digest":"abc","nodelist":[' +
    '{"name":"pve2","nodeid":"2","pve_addr":"10.10.0.12","pve_fp":"AA:BB","quorum_votes":"1","ring0_addr":"10.10.0.12","ring1_addr":"10.20.0.12"},' +
    '{"name":"pve1","nodeid":"1","pve_addr":"10.10.0.11","pve_fp":"53:A4:94","quorum_votes":"1","ring0_addr":"10.10.0.11","ring1_addr":"10.20.0.11"}],' +
    '"preferred_node":"pve1","totem":{"cluster_name":"prod","config_version":"4","interface":{"0":{"linknumber":"0"},"1":{"linknumber":"1"}},' +
    '"ip_version":"ipv4-6","link_mode":"passive","secauth":"on","version":"2"}}\n';

  it("converts the string values and sorts the nodelist by nodeid", () => {
    const j = parseJoinInfo(sample, "pve1");
    expect(j.clusterName).toBe("prod");
    expect(j.configVersion).toBe(4);
    expect(j.preferredNode).toBe("pve1");
    expect(j.links).toEqual([0, 1]);
    expect(j.nodes).toEqual([
      { name: "pve1", nodeid: 1, quorumVotes: 1, ring0Addr: "10.10.0.11", ring1Addr: "10.20.0.11", pveAddr: "10.10.0.11", pveFingerprint: "53:A4:94" },
      { name: "pve2", nodeid: 2, quorumVotes: 1, ring0Addr: "10.10.0.12", ring1Addr: "10.20.0.12", pveAddr: "10.10.0.12", pveFingerprint: "AA:BB" },
    ]);
  });

  it("refuses output without a cluster name", () => {
    expect(() => parseJoinInfo('{"nodelist":[]}', "pve1")).toThrow(/pve1: .*cluster_name/);
  });

  it("recognises the standalone error (HTTP 424 text with the Perl location)", () => {
    expect(
      isNotInClusterJoinError(
        "424 node is not in a cluster, no join info available! at /usr/share/perl5/PVE/API2/ClusterConfig.pm line 585.\n",
      ),
    ).toBe(true);
    expect(isNotInClusterJoinError("ipcc_send_rec[1] failed: Connection refused")).toBe(false);
  });
});

describe("parsePvecmStatus", () => {
  // VERBATIM 2-node sample (note the trailing blanks after "Quorum:" and "Flags:").
  const twoNodes = [
    "Cluster information",
    "-------------------",
    "Name:             calotech",
    "Config Version:   2",
    "Transport:        knet",
    "Secure auth:      on",
    "",
    "Quorum information",
    "------------------",
    "Date:             Thu Feb 26 14:45:28 2026",
    "Quorum provider:  corosync_votequorum",
    "Nodes:            2",
    "Node ID:          0x00000001",
    "Ring ID:          1.13",
    "Quorate:          Yes",
    "",
    "Votequorum information",
    "----------------------",
    "Expected votes:   2",
    "Highest expected: 2",
    "Total votes:      2",
    "Quorum:           2  ",
    "Flags:            Quorate ",
    "",
    "Membership information",
    "----------------------",
    "    Nodeid      Votes Name",
    "0x00000001          1 192.168.10.201 (local)",
    "0x00000002          1 192.168.10.202",
    "",
  ].join("\n");

  it("reads the verbatim two-node output", () => {
    const s = parsePvecmStatus(twoNodes);
    expect(s).toMatchObject({ clusterName: "calotech", configVersion: 2, quorate: true, nodes: 2, expectedVotes: 2, totalVotes: 2, quorum: 2 });
    expect(s.members).toEqual([
      { nodeid: 1, votes: 1, name: "192.168.10.201", local: true },
      { nodeid: 2, votes: 1, name: "192.168.10.202", local: false },
    ]);
  });

  it("reads lost quorum and the qdevice column", () => {
    const lost = twoNodes
      .replace("Quorate:          Yes", "Quorate:          No")
      .replace("Quorum:           2  ", "Quorum:           2 Activity blocked")
      .replace("Total votes:      2", "Total votes:      1")
      .replace("    Nodeid      Votes Name", "    Nodeid      Votes    Qdevice Name")
      .replace("0x00000001          1 192.168.10.201 (local)", "0x00000001          1    A,V,NMW 192.168.10.201 (local)")
      .replace("0x00000002          1 192.168.10.202\n", "0x00000000          1            Qdevice\n");
    const s = parsePvecmStatus(lost);
    expect(s.quorate).toBe(false);
    expect(s.quorum).toBe(2);
    expect(s.totalVotes).toBe(1);
    // The Qdevice row is the QDevice's vote, not a member.
    expect(s.members).toEqual([{ nodeid: 1, votes: 1, name: "192.168.10.201", local: true }]);
    expect(s.qdevice).toEqual({ votes: 1 });
  });

  it("reads a QDevice that cannot vote, and no QDevice at all", () => {
    const text = twoNodes
      .replace("Flags:            Quorate ", "Flags:            Quorate Qdevice ")
      .replace("    Nodeid      Votes Name", "    Nodeid      Votes    Qdevice Name")
      .replace("0x00000001          1 192.168.10.201 (local)", "0x00000001          1  NA,NV,NMW 192.168.10.201 (local)")
      .replace("0x00000002          1 192.168.10.202\n", "0x00000002          1  NA,NV,NMW 192.168.10.202\n0x00000000          0            Qdevice\n");
    const s = parsePvecmStatus(text);
    expect(s.members.map((m) => m.name)).toEqual(["192.168.10.201", "192.168.10.202"]);
    expect(s.qdevice).toEqual({ votes: 0 });
    expect(parsePvecmStatus(twoNodes).qdevice).toBeUndefined();
  });

  it("recognises the standalone error", () => {
    expect(
      isNotInClusterPvecmError("Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n"),
    ).toBe(true);
    expect(isNotInClusterPvecmError("Cannot initialize CMAP service")).toBe(false);
  });
});

describe("parseGuests", () => {
  it("reads VMs and containers, skips other rows, sorts by vmid", () => {
    const out =
      '[{"cpu":0.01,"id":"qemu/100","maxmem":536870912,"name":"pve-suivi","node":"erplibre-proxmox-9","status":"running","template":0,"type":"qemu","uptime":127,"vmid":100},' +
      '{"id":"lxc/101","name":"ct","node":"n1","status":"stopped","type":"lxc","vmid":101},' +
      '{"id":"qemu/9000","name":"tpl","node":"n1","status":"stopped","template":1,"type":"qemu","vmid":9000}]';
    expect(parseGuests(out, "n1")).toEqual([
      { vmid: 100, node: "erplibre-proxmox-9", type: "qemu", name: "pve-suivi", template: false, status: "running" },
      { vmid: 101, node: "n1", type: "lxc", name: "ct", template: false, status: "stopped" },
      { vmid: 9000, node: "n1", type: "qemu", name: "tpl", template: true, status: "stopped" },
    ]);
  });

  it("reads an empty list", () => {
    expect(parseGuests("[]\n", "n1")).toEqual([]);
  });
});

describe("joinSucceeded", () => {
  it("needs the exact success line for this node", () => {
    const ok = "Login succeeded.\ncheck cluster join API version\nRequest addition of this node\n" +
      "Join request OK, finishing setup locally\nsuccessfully added node 'pve32' to cluster.\n";
    expect(joinSucceeded(ok, "pve32")).toBe(true);
    expect(joinSucceeded(ok, "pve3")).toBe(false);
    expect(joinSucceeded("detected the following error(s):\n* this host already contains virtual guests\n", "pve32")).toBe(false);
  });
});
