/**
 * Parsers of Ceph tool output (infra/parse/ceph.ts), fed with the VERBATIM samples of
 * pve-cli.md §2 (leading empty line of `ceph -f json` included) and the ceph.conf formats
 * PVE has written over time.
 */
import { describe, expect, it } from "vitest";
import {
  ipInCidr,
  ipsFromMonHost,
  isCephConnectError,
  normalizeNetworks,
  parseCephConf,
  parseCephDf,
  parseCephHealth,
  parseCephStatus,
  parseCephVersion,
  parseCephVolumeList,
  parseCidr,
  parseIpAddrShow,
  parseLsblk,
  parseMgrDump,
  parseMonDump,
  parseOsdTree,
  summarizeCephConf,
} from "../infra/parse/ceph";

describe("parseCephVersion", () => {
  it("reads version and release from ceph/ceph-mon --version", () => {
    expect(parseCephVersion("ceph version 19.2.3 (2f03f1cd83e5d40cdf1393cb64a662a8e8bb07c6) squid (stable)\n")).toEqual({ version: "19.2.3", major: 19, release: "squid" });
    expect(parseCephVersion("ceph version 17.2.8 (f817ceb7f187defb1d021d6328fa833eb8e943b3) quincy (stable)")).toMatchObject({ release: "quincy", major: 17 });
    // release name missing: derived from the major
    expect(parseCephVersion("ceph version 18.2.7 (4cac8341a72477c60a6f153f3ed344b49870c932)")).toMatchObject({ release: "reef" });
    expect(parseCephVersion("bash: line 1: ceph-mon: command not found")).toBeUndefined();
  });
});

describe("ceph.conf", () => {
  it("parses the current PVE format and normalises keys (spaces, dashes)", () => {
    const text = [
      "[global]",
      "\tauth_client_required = cephx",
      "\tcluster_network = 10.20.0.0/24",
      "\tfsid = 075e6985-ef31-445a-9f33-564610fdb5b7",
      "\tmon_host = 10.10.0.1 [v2:10.10.0.2:3300/0,v1:10.10.0.2:6789/0] 10.10.0.3:6789",
      "\tpublic_network = 10.10.0.0/24 # the mesh",
      "",
      "[client]",
      "\tkeyring = /etc/pve/priv/$cluster.$name.keyring",
      "",
      "[mon.pve1]",
      "\tpublic_addr = 10.10.0.1",
      "",
    ].join("\n");
    const conf = parseCephConf(text);
    expect(conf.client.keyring).toBe("/etc/pve/priv/$cluster.$name.keyring");
    expect(summarizeCephConf(conf)).toEqual({
      fsid: "075e6985-ef31-445a-9f33-564610fdb5b7",
      publicNetwork: "10.10.0.0/24",
      clusterNetwork: "10.20.0.0/24",
      monHost: ["10.10.0.1", "10.10.0.2", "10.10.0.3"],
      monSections: ["pve1"],
    });
  });

  it("parses the older formats (tab + space, spaces in keys, ; comments)", () => {
    const conf = parseCephConf("[global]\n\t public network = 10.1.0.0/16\n\t cluster-network = 10.2.0.0/16 ; replication\n; a comment line\n");
    expect(summarizeCephConf(conf)).toMatchObject({ publicNetwork: "10.1.0.0/16", clusterNetwork: "10.2.0.0/16", monHost: [], monSections: [] });
  });

  it("extracts IPs from mon_host in every form, IPv6 included", () => {
    expect(ipsFromMonHost("[v2:[fd00::1]:3300/0,v1:[fd00::1]:6789/0] fd00::2 [fd00::3]:6789,10.0.0.4")).toEqual(["fd00::1", "fd00::2", "fd00::3", "10.0.0.4"]);
  });
});

describe("networks", () => {
  it("CIDR membership and normalisation", () => {
    expect(ipInCidr("10.5.255.81", "10.5.255.80/28")).toBe(true);
    expect(ipInCidr("10.5.255.97", "10.5.255.80/28")).toBe(false);
    expect(ipInCidr("fc00::81", "fc00::/64")).toBe(true);
    expect(ipInCidr("10.0.0.1", "fc00::/64")).toBe(false);
    expect(parseCidr("10.0.0.0")).toBeUndefined();
    expect(parseCidr("10.0.0.0/33")).toBeUndefined();
    expect(normalizeNetworks("10.0.0.9/24, 10.1.0.0/24")).toBe(normalizeNetworks("10.1.0.0/24 10.0.0.0/24"));
    expect(normalizeNetworks("10.0.0.0/24")).not.toBe(normalizeNetworks("10.0.0.0/25"));
  });

  it("reads addresses from ip -o addr show", () => {
    const out =
      "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
      "5: vmbr0    inet 192.168.1.11/24 brd 192.168.1.255 scope global vmbr0\\       valid_lft forever preferred_lft forever\n" +
      "6: lo    inet 10.0.0.81/32 scope global lo\\       valid_lft forever preferred_lft forever\n";
    expect(parseIpAddrShow(out)).toEqual(["127.0.0.1", "192.168.1.11", "10.0.0.81"]);
  });
});

describe("monitor and manager maps", () => {
  it("ceph mon dump (VERBATIM Rook fixture, pve-cli.md 2.14)", () => {
    const stdout =
      '\n{"epoch":3,"fsid":"6a31a264-9090-4048-8d95-4b8c3cde909d","modified":"2020-12-09T18:13:36.346150Z","created":"2020-12-09T18:13:13.014270Z","min_mon_release":15,"min_mon_release_name":"octopus","features":{"persistent":["kraken","luminous","mimic","osdmap-prune","nautilus","octopus"],"optional":[]},"election_strategy":1,"mons":[{"rank":0,"name":"a","crush_location":"{zone=a}","public_addrs":{"addrvec":[{"type":"v2","addr":"10.109.80.104:3300","nonce":0},{"type":"v1","addr":"10.109.80.104:6789","nonce":0}]},"addr":"10.109.80.104:6789/0","public_addr":"10.109.80.104:6789/0","priority":0,"weight":0}],"quorum":[0,1,2]}\n';
    expect(parseMonDump(stdout, "pve1")).toEqual({
      epoch: 3,
      fsid: "6a31a264-9090-4048-8d95-4b8c3cde909d",
      mons: [{ name: "a", rank: 0, addresses: ["10.109.80.104"] }],
      quorum: [0, 1, 2],
    });
  });

  it("ceph mon dump without addrvec falls back to addr; garbage names node and command", () => {
    const d = parseMonDump('{"epoch":1,"fsid":"x","mons":[{"rank":0,"name":"pve1","addr":"[fd00::1]:6789/0"}],"quorum":[]}', "pve1");
    expect(d.mons[0].addresses).toEqual(["fd00::1"]);
    expect(() => parseMonDump("Error EACCES: access denied", "pve2")).toThrow('pve2: ceph mon dump did not print JSON: "Error EACCES: access denied"');
  });

  it("ceph mgr dump", () => {
    const d = parseMgrDump('\n{"epoch":4,"active_gid":4100,"active_name":"pve1","available":true,"standbys":[{"gid":4200,"name":"pve3"},{"gid":4300,"name":"pve2"}]}', "pve1");
    expect(d).toEqual({ available: true, active: "pve1", standbys: ["pve3", "pve2"] });
    expect(parseMgrDump('{"active_gid":0,"active_name":"","available":false,"standbys":[]}', "pve1")).toEqual({ available: false, active: undefined, standbys: [] });
  });
});

describe("health and status", () => {
  it("ceph health -f json (VERBATIM ceph 19.2.3, leading empty line)", () => {
    expect(parseCephHealth('\n{"status":"HEALTH_OK","checks":{},"mutes":[]}\n', "pve1")).toEqual({ status: "HEALTH_OK", checks: [] });
    const warn = parseCephHealth(
      '{"status":"HEALTH_WARN","checks":{"OSD_DOWN":{"severity":"HEALTH_WARN","summary":{"message":"1 osds down","count":1},"muted":false},"PG_DEGRADED":{"severity":"HEALTH_WARN","summary":{"message":"Degraded data redundancy: 12/345 objects degraded","count":12},"muted":false}},"mutes":[]}',
      "pve1",
    );
    expect(warn.checks).toEqual([
      { code: "OSD_DOWN", severity: "HEALTH_WARN", message: "1 osds down", count: 1, detail: [] },
      { code: "PG_DEGRADED", severity: "HEALTH_WARN", message: "Degraded data redundancy: 12/345 objects degraded", count: 12, detail: [] },
    ]);
  });

  it("ceph health detail carries the detail lines", () => {
    const h = parseCephHealth('{"status":"HEALTH_WARN","checks":{"OSD_DOWN":{"severity":"HEALTH_WARN","summary":{"message":"1 osds down","count":1},"detail":[{"message":"osd.3 (root=default,host=pve2) is down"}],"muted":false}},"mutes":[]}', "n");
    expect(h.checks[0].detail).toEqual(["osd.3 (root=default,host=pve2) is down"]);
  });

  it("ceph -s -f json (VERBATIM Reef Rook fixture, pve-cli.md 2.9)", () => {
    const stdout =
      '\n{"fsid":"e32d91a2-24ff-4953-bc4a-6864d31dd2a0","health":{"status":"HEALTH_OK","checks":{},"mutes":[]},"election_epoch":3,"quorum":[0],"quorum_names":["a"],"quorum_age":1177701,"monmap":{"epoch":1,"min_mon_release_name":"reef","num_mons":1},"osdmap":{"epoch":1800,"num_osds":5,"num_up_osds":5,"osd_up_since":1699834324,"num_in_osds":5,"osd_in_since":1699834304,"num_remapped_pgs":11},"pgmap":{"pgs_by_state":[{"state_name":"active+clean","count":174},{"state_name":"active+remapped+backfilling","count":10},{"state_name":"active+clean+remapped","count":1}],"num_pgs":185,"num_pools":9,"num_objects":2383,"data_bytes":2222656224,"bytes_used":8793104384,"bytes_avail":18050441216,"bytes_total":26843545600,"misplaced_objects":139,"misplaced_total":7149,"misplaced_ratio":0.019443278780248985,"recovering_objects_per_sec":10,"recovering_bytes_per_sec":9739877,"recovering_keys_per_sec":0,"num_objects_recovered":62,"num_bytes_recovered":58471087,"num_keys_recovered":0,"write_bytes_sec":2982994,"read_op_per_sec":0,"write_op_per_sec":26},"fsmap":{"epoch":1,"by_rank":[],"up:standby":0},"mgrmap":{"available":true,"num_standbys":0,"modules":["iostat","nfs","prometheus","restful"],"services":{"prometheus":"http://10.244.0.36:9283/"}},"servicemap":{"epoch":1,"modified":"0.000000","services":{}},"progress_events":{}}';
    const s = parseCephStatus(stdout, "pve1");
    expect(s).toMatchObject({
      fsid: "e32d91a2-24ff-4953-bc4a-6864d31dd2a0",
      health: { status: "HEALTH_OK", checks: [] },
      quorumNames: ["a"],
      numMons: 1,
      osds: { total: 5, up: 5, in: 5 },
      bytes: { total: 26843545600, used: 8793104384, avail: 18050441216 },
      mgrAvailable: true,
    });
    expect(s.pgs).toEqual({ total: 185, byState: { "active+clean": 174, "active+remapped+backfilling": 10, "active+clean+remapped": 1 } });
  });

  it("pre-Octopus nested osdmap is understood too", () => {
    const s = parseCephStatus('{"fsid":"x","health":{"status":"HEALTH_OK","checks":{}},"osdmap":{"osdmap":{"num_osds":3,"num_up_osds":2,"num_in_osds":3}}}', "n");
    expect(s.osds).toEqual({ total: 3, up: 2, in: 3 });
  });

  it("ceph df -f json", () => {
    const df = parseCephDf(
      '\n{"stats":{"total_bytes":6597069766656,"total_avail_bytes":6596985880576,"total_used_bytes":83886080,"total_used_raw_bytes":84934656,"total_used_raw_ratio":0.0000128,"num_osds":3,"num_per_pool_osds":3,"num_per_pool_omap_osds":3},"stats_by_class":{"nvme":{"total_bytes":6597069766656}},"pools":[{"name":".mgr","id":1,"stats":{"stored":459280,"objects":2,"kb_used":1348,"bytes_used":1377840,"percent_used":2.1e-7,"max_avail":2089071624192}}]}',
      "pve1",
    );
    expect(df).toEqual({
      totalBytes: 6597069766656,
      usedBytes: 84934656,
      availBytes: 6596985880576,
      pools: [{ name: ".mgr", id: 1, storedBytes: 459280, usedBytes: 1377840, maxAvailBytes: 2089071624192, percentUsed: 2.1e-7 }],
    });
  });

  it("recognises connection failures of the ceph CLI", () => {
    expect(isCephConnectError("[errno 110] RADOS timed out (error connecting to the cluster)\n")).toBe(true);
    expect(isCephConnectError("Error initializing cluster client: ObjectNotFound('RADOS object not found (error calling conf_read_file)')")).toBe(true);
    expect(isCephConnectError("Error ENOENT: osd.99 does not exist")).toBe(false);
  });
});

describe("OSDs and block devices", () => {
  it("ceph osd tree -f json (VERBATIM Rook fixture, pve-cli.md 2.11)", () => {
    const t = parseOsdTree(
      '{"nodes":[{"id":-1,"name":"default","type":"root","type_id":11,"children":[-3]},{"id":-3,"name":"master","type":"host","type_id":1,"pool_weights":{},"children":[2,1,0]},{"id":0,"device_class":"hdd","name":"osd.0","type":"osd","type_id":0,"crush_weight":0.009796142578125,"depth":2,"pool_weights":{},"exists":1,"status":"up","reweight":1,"primary_affinity":1},{"id":1,"device_class":"hdd","name":"osd.1","type":"osd","type_id":0,"crush_weight":0.009796142578125,"depth":2,"pool_weights":{},"exists":1,"status":"up","reweight":1,"primary_affinity":1},{"id":2,"device_class":"hdd","name":"osd.2","type":"osd","type_id":0,"crush_weight":0.009796142578125,"depth":2,"pool_weights":{},"exists":1,"status":"up","reweight":1,"primary_affinity":1}],"stray":[]}',
      "pve1",
    );
    expect(t.hosts).toEqual([{ name: "master", id: -3, osds: [0, 1, 2] }]);
    expect(t.osds.map((o) => [o.id, o.host, o.deviceClass, o.up, o.in])).toEqual([
      [0, "master", "hdd", true, true],
      [1, "master", "hdd", true, true],
      [2, "master", "hdd", true, true],
    ]);
  });

  it("ceph-volume lvm list --format json: {} when empty, one entry per LV", () => {
    expect(parseCephVolumeList("{}\n", "pve1")).toEqual([]);
    const lvs = parseCephVolumeList(
      JSON.stringify(
        {
          "0": [
            {
              devices: ["/dev/sdb"],
              lv_name: "osd-block-957d22b7-24ce-466a-9883-b8218eaa1634",
              lv_path: "/dev/ceph-d4962338-46ff-4cd5-8ea6-c033dbdc5b44/osd-block-957d22b7-24ce-466a-9883-b8218eaa1634",
              lv_size: "1000203091968",
              tags: { "ceph.cluster_fsid": "d4962338-46ff-4cd5-8ea6-c033dbdc5b44", "ceph.crush_device_class": "", "ceph.osd_fsid": "957d22b7-24ce-466a-9883-b8218eaa1634", "ceph.osd_id": "0", "ceph.type": "block" },
              type: "block",
              vg_name: "ceph-d4962338-46ff-4cd5-8ea6-c033dbdc5b44",
            },
          ],
        },
        null,
        4,
      ),
      "pve1",
    );
    expect(lvs).toEqual([
      {
        osdId: 0,
        osdFsid: "957d22b7-24ce-466a-9883-b8218eaa1634",
        type: "block",
        lvPath: "/dev/ceph-d4962338-46ff-4cd5-8ea6-c033dbdc5b44/osd-block-957d22b7-24ce-466a-9883-b8218eaa1634",
        vgName: "ceph-d4962338-46ff-4cd5-8ea6-c033dbdc5b44",
        devices: ["/dev/sdb"],
        sizeBytes: 1000203091968,
        deviceClass: "",
        clusterFsid: "d4962338-46ff-4cd5-8ea6-c033dbdc5b44",
      },
    ]);
  });

  it("lsblk -J -b tree", () => {
    const devs = parseLsblk(
      '{\n   "blockdevices": [\n      {\n         "name": "nvme0n1",\n         "path": "/dev/nvme0n1",\n         "type": "disk",\n         "size": 1000204886016,\n         "fstype": null,\n         "mountpoint": null,\n         "pkname": null,\n         "children": [\n            {\n               "name": "nvme0n1p1",\n               "path": "/dev/nvme0n1p1",\n               "type": "part",\n               "size": 500101394432,\n               "fstype": "ext4",\n               "mountpoint": "/srv",\n               "pkname": "nvme0n1"\n            }\n         ]\n      }\n   ]\n}\n',
      "pve1",
    );
    expect(devs).toEqual([
      {
        name: "nvme0n1",
        path: "/dev/nvme0n1",
        type: "disk",
        sizeBytes: 1000204886016,
        fstype: undefined,
        mountpoint: undefined,
        pkname: undefined,
        children: [{ name: "nvme0n1p1", path: "/dev/nvme0n1p1", type: "part", sizeBytes: 500101394432, fstype: "ext4", mountpoint: "/srv", pkname: "nvme0n1", children: [] }],
      },
    ]);
  });
});
