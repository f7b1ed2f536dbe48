/**
 * Tests of the simulated Proxmox cluster harness (tests/sim): real sshd per node in its own
 * namespaces, fake PVE tools with shared state, faults, command log, cleanup.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client } from "ssh2";
import { startSimCluster, type SimCluster } from "./sim/cluster";
import { sshRun } from "./sim/ssh";

const NAMES = ["foxtrot", "golf", "hotel"];

/** exec over ssh2 while checking the host key against node.hostKeyFingerprint ourselves */
function ssh2Exec(sim: SimCluster, node: string, command: string): Promise<{ stdout: string; code: number; seenFingerprint: string }> {
  const n = sim.node(node);
  return new Promise((resolve, reject) => {
    const conn = new Client();
    let seen = "";
    let stdout = "";
    conn.on("ready", () => {
      conn.exec(command, (err, stream) => {
        if (err) return reject(err);
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", () => undefined);
        stream.on("close", (code: number) => {
          conn.end();
          resolve({ stdout, code, seenFingerprint: seen });
        });
      });
    });
    conn.on("error", reject);
    conn.connect({
      host: n.host,
      port: n.port,
      username: "root",
      privateKey: sim.clientPrivateKey,
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => {
        seen = "SHA256:" + crypto.createHash("sha256").update(key).digest("base64").replace(/=+$/, "");
        return seen === n.hostKeyFingerprint;
      },
    });
  });
}

function tcpConnect(host: string, port: number): Promise<"connected" | string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(3000, () => {
      s.destroy();
      resolve("timeout");
    });
    s.once("connect", () => {
      s.destroy();
      resolve("connected");
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(text)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** processes inside a node namespace of the cluster in `dir` (inode match + mount table shows dir) */
function processesInNamespace(ns: string, dir: string): number[] {
  const pids: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readlinkSync(`/proc/${e}/ns/mnt`) === ns && fs.readFileSync(`/proc/${e}/mountinfo`, "utf8").includes(`${dir}/nodes/`)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** processes whose mount table shows the cluster dir (i.e. anything left inside its namespaces) */
function processesMountingDir(dir: string): number[] {
  const pids: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/mountinfo`, "utf8").includes(`${dir}/nodes/`)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

describe("simulated Proxmox cluster", () => {
  let sim: SimCluster;
  let fp = ""; // pve_fp of foxtrot, from /cluster/config/join
  const host = (n: string) => sim.node(n).host;

  beforeAll(async () => {
    sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf", pveVersion: "9.1.1" }, { name: "hotel" }]);
  });
  afterAll(async () => {
    await sim?.stop();
  });
  afterEach(() => sim?.clearFaults());

  it("starts one sshd per node, each with its own loopback address, hostname and host key", async () => {
    expect(sim.nodes.map((n) => n.name)).toEqual(NAMES);
    const hosts = sim.nodes.map((n) => n.host);
    const base = hosts[0].replace(/\.\d+$/, "");
    expect(base).toMatch(/^127\.\d+\.\d+$/);
    expect(hosts).toEqual([`${base}.11`, `${base}.12`, `${base}.13`]);
    expect(sim.nodes.every((n) => n.port === 22)).toBe(true);
    expect(new Set(sim.nodes.map((n) => n.hostKeyFingerprint)).size).toBe(3);
    for (const n of sim.nodes) {
      expect(n.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      const r = await ssh2Exec(sim, n.name, "hostname; cat /etc/hostname");
      expect(r.seenFingerprint).toBe(n.hostKeyFingerprint);
      expect(r.stdout).toBe(`${n.name}\n${n.name}\n`);
      expect(r.code).toBe(0);
      // the system client with strict checking against known_hosts agrees
      const s = await sshRun(sim, n.name, "hostname");
      expect(s).toMatchObject({ code: 0, stdout: `${n.name}\n`, stderr: "" });
    }
    expect(NAMES).not.toContain(os.hostname());
    expect(sim.clientPrivateKey).toMatch(/^-{5}BEGIN OPENSSH PRIVATE KEY-{5}/);
  });

  it("puts the fake tools first in PATH", async () => {
    const r = await sshRun(sim, "foxtrot", "command -v pvecm pvesh qm pveversion apt-get systemctl");
    expect(r.stdout.trim().split("\n")).toEqual(["pvecm", "pvesh", "qm", "pveversion", "apt-get", "systemctl"].map((t) => `/usr/local/sbin/${t}`));
    expect(fs.existsSync("/usr/local/sbin/pvecm")).toBe(false);
  });

  it("answers pveversion and /version per node version", async () => {
    expect(await sshRun(sim, "foxtrot", "pveversion")).toMatchObject({ code: 0, stdout: "pve-manager/8.4.14/b502d23c55afcba1 (running kernel: 6.8.12-15-pve)\n", stderr: "" });
    expect(await sshRun(sim, "golf", "pveversion")).toMatchObject({ code: 0, stdout: "pve-manager/9.1.1/42db4a6cf33dac83 (running kernel: 6.17.2-2-pve)\n" });
    const v = await sshRun(sim, "golf", "pveversion -v");
    expect(v.stdout.split("\n").slice(0, 2)).toEqual(["proxmox-ve: 9.1.0 (running kernel: 6.17.2-2-pve)", "pve-manager: 9.1.1 (running version: 9.1.1/42db4a6cf33dac83)"]);
    expect(await sshRun(sim, "foxtrot", "pveversion --bogus")).toMatchObject({ code: 255, stdout: "", stderr: "USAGE: pveversion [--verbose]\n" });
    expect(await sshRun(sim, "foxtrot", "pvesh get /version --output-format json")).toMatchObject({
      code: 0,
      stdout: '{"release":"8.4","repoid":"b502d23c55afcba1","version":"8.4.14"}\n',
    });
  });

  it("reports a standalone node like PVE does", async () => {
    const status = `[{"id":"node/foxtrot","ip":"${host("foxtrot")}","level":"","local":1,"name":"foxtrot","nodeid":0,"online":1,"type":"node"}]\n`;
    expect(await sshRun(sim, "foxtrot", "pvesh get /cluster/status --output-format json")).toMatchObject({ code: 0, stdout: status, stderr: "" });
    expect((await sshRun(sim, "foxtrot", "pvesh get /cluster/status --output-format=json")).stdout).toBe(status);
    expect(await sshRun(sim, "foxtrot", "pvecm status")).toMatchObject({
      code: 2,
      stdout: "",
      stderr: "Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n",
    });
    const join = await sshRun(sim, "foxtrot", "pvesh get /cluster/config/join --output-format json");
    expect(join.code).toBe(255);
    expect(join.stdout).toBe("");
    expect(join.stderr).toMatch(/^424 node is not in a cluster, no join info available! at \/usr\/share\/perl5\/PVE\/API2\/ClusterConfig\.pm line \d+\n$/);
    expect(await sshRun(sim, "foxtrot", "pvesh get /no/such/path --output-format json")).toMatchObject({ code: 1, stdout: "", stderr: "No 'get' handler defined for '/no/such/path'\n" });
  });

  it("lists, shows and configures guests added with addGuest", async () => {
    expect(await sshRun(sim, "foxtrot", "qm list")).toMatchObject({ code: 0, stdout: "", stderr: "" });
    sim.addGuest("foxtrot", 100, "web", { status: "running" });
    sim.addGuest("foxtrot", 9000, "tmpl", { template: true });
    const list = await sshRun(sim, "foxtrot", "qm list");
    expect(list.stdout.split("\n")[0]).toBe("      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       ");
    expect(list.stdout.split("\n").slice(1, 3).map((l) => l.split(/\s+/).filter(Boolean).slice(0, 3))).toEqual([
      ["100", "web", "running"],
      ["9000", "tmpl", "stopped"],
    ]);
    expect(await sshRun(sim, "foxtrot", "qm status 100")).toMatchObject({ code: 0, stdout: "status: running\n" });
    const conf = await sshRun(sim, "foxtrot", "qm config 9000");
    expect(conf.code).toBe(0);
    expect(conf.stdout).toContain("name: tmpl\n");
    expect(conf.stdout).toContain("template: 1\n");
    const keys = conf.stdout.trim().split("\n").map((l) => l.split(":")[0]);
    expect(keys).toEqual([...keys].sort());
    expect(await sshRun(sim, "foxtrot", "qm status 555")).toMatchObject({ code: 255, stdout: "", stderr: "Configuration file 'nodes/foxtrot/qemu-server/555.conf' does not exist\n" });
    expect(await sshRun(sim, "golf", "qm config 100")).toMatchObject({ code: 255, stderr: "Configuration file 'nodes/golf/qemu-server/100.conf' does not exist\n" });
  });

  it("creates a cluster; a second create fails", async () => {
    const r = await sshRun(sim, "foxtrot", `pvecm create lab --link0 ${host("foxtrot")}`);
    expect(r).toMatchObject({
      code: 0,
      stderr: "",
      stdout:
        "Corosync Cluster Engine Authentication key generator.\nGathering 2048 bits for key from /dev/urandom.\nWriting corosync key to /etc/corosync/authkey.\n" +
        "Writing corosync config to /etc/pve/corosync.conf\nRestart corosync and cluster filesystem\n",
    });
    expect(await sshRun(sim, "foxtrot", "pvecm create lab")).toMatchObject({ code: 255, stdout: "", stderr: "cluster config '/etc/pve/corosync.conf' already exists\n" });
    const join = JSON.parse((await sshRun(sim, "foxtrot", "pvesh get /cluster/config/join --output-format json")).stdout);
    expect(join.nodelist).toHaveLength(1);
    expect(join.nodelist[0]).toMatchObject({ name: "foxtrot", nodeid: "1", ring0_addr: host("foxtrot"), pve_addr: host("foxtrot") });
    expect(join.totem).toMatchObject({ cluster_name: "lab", config_version: "1" });
    fp = join.nodelist[0].pve_fp;
    expect(fp).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const st = await sshRun(sim, "foxtrot", "pvecm status");
    expect(st.code).toBe(0);
    expect(st.stdout).toContain("Nodes:            1\n");
    expect(st.stdout).toContain(`0x00000001          1 ${host("foxtrot")} (local)\n`);
  });

  it("refuses joins the way pvecm add does", async () => {
    const add = `pvecm add ${host("foxtrot")} --link0 ${host("hotel")} --fingerprint ${fp}`;
    // no password on stdin (inside the worker: message on stderr, exit 0)
    expect(await sshRun(sim, "hotel", add)).toMatchObject({ code: 0, stdout: "", stderr: "EOF while reading password\n" });
    // guests on the joining node
    sim.addGuest("hotel", 200, "stray");
    expect(await sshRun(sim, "hotel", add, { stdin: "secret\n" })).toMatchObject({
      code: 0,
      stdout: "detected the following error(s):\n* this host already contains virtual guests\n",
      stderr: "Check if node may join a cluster failed!\n",
    });
    sim.mutateState((s) => {
      delete s.nodes.hotel.guests["200"];
    });
    // link address that is not on the node
    expect(await sshRun(sim, "hotel", `pvecm add ${host("foxtrot")} --link0 10.9.9.9 --fingerprint ${fp}`, { stdin: "secret\n" })).toMatchObject({
      code: 0,
      stdout: "detected the following error(s):\n* link0: cannot use IP '10.9.9.9', not found on local node!\n\n",
      stderr: "Check if node may join a cluster failed!\n",
    });
    // wrong certificate fingerprint and no "yes" on stdin
    const bad = await sshRun(sim, "hotel", `pvecm add ${host("foxtrot")} --link0 ${host("hotel")}`, { stdin: "secret\n" });
    expect(bad.code).toBe(0);
    expect(bad.stdout).toContain(`X509 SHA256 key fingerprint is ${fp}.\n`);
    expect(bad.stderr).toBe("Fingerprint not verified, abort!\n");
    expect(sim.readState().nodes.hotel.cluster).toBeNull();
  });

  it("joins two nodes with the password on stdin and shows the cluster everywhere", async () => {
    const g = await sshRun(sim, "golf", `pvecm add ${host("foxtrot")} --link0 ${host("golf")} --fingerprint ${fp}`, { stdin: "secret\n" });
    expect(g.stderr).toBe("");
    expect(g.code).toBe(0);
    expect(g.stdout.split("\n")[0]).toBe(`Establishing API connection with host '${host("foxtrot")}'`);
    expect(g.stdout).not.toContain("authenticity");
    expect(g.stdout.endsWith("successfully added node 'golf' to cluster.\n")).toBe(true);

    // hotel joins by name, on an extra address it now claims
    sim.setAddresses("hotel", [host("hotel"), "10.9.9.13"]);
    const h = await sshRun(sim, "hotel", `pvecm add foxtrot --link0 10.9.9.13 --fingerprint ${fp}`, { stdin: "secret\n" });
    expect(h).toMatchObject({ code: 0, stderr: "" });
    expect(h.stdout).toContain("successfully added node 'hotel' to cluster.\n");

    const rows = JSON.parse((await sshRun(sim, "golf", "pvesh get /cluster/status --output-format json")).stdout);
    expect(rows[0]).toEqual({ id: "cluster", name: "lab", nodes: 3, quorate: 1, type: "cluster", version: 3 });
    expect(rows.slice(1)).toEqual([
      { id: "node/foxtrot", ip: host("foxtrot"), level: "", local: 0, name: "foxtrot", nodeid: 1, online: 1, type: "node" },
      { id: "node/golf", ip: host("golf"), level: "", local: 1, name: "golf", nodeid: 2, online: 1, type: "node" },
      { id: "node/hotel", ip: "10.9.9.13", level: "", local: 0, name: "hotel", nodeid: 3, online: 1, type: "node" },
    ]);

    const st = await sshRun(sim, "foxtrot", "pvecm status");
    expect(st.code).toBe(0);
    for (const l of ["Name:             lab\n", "Config Version:   3\n", "Nodes:            3\n", "Quorate:          Yes\n", "Expected votes:   3\n", "Total votes:      3\n", "Quorum:           2  \n", "Flags:            Quorate \n"])
      expect(st.stdout).toContain(l);
    expect(st.stdout.trimEnd().split("\n").slice(-4)).toEqual([
      "    Nodeid      Votes Name",
      `0x00000001          1 ${host("foxtrot")} (local)`,
      `0x00000002          1 ${host("golf")}`,
      "0x00000003          1 10.9.9.13",
    ]);
    expect(await sshRun(sim, "hotel", "pvecm nodes")).toMatchObject({
      code: 0,
      stdout: "\nMembership information\n----------------------\n    Nodeid      Votes Name\n         1          1 foxtrot\n         2          1 golf\n         3          1 hotel (local)\n",
    });
    for (const n of NAMES) {
      const c = await sim.exec(n, "cat /etc/pve/corosync.conf");
      expect(c.code).toBe(0);
      expect(c.stdout).toContain("cluster_name: lab\n");
      expect(c.stdout).toContain("config_version: 3\n");
    }
    // guests of every member are visible cluster-wide
    const vms = JSON.parse((await sshRun(sim, "hotel", "pvesh get /cluster/resources --type vm --output-format json")).stdout);
    expect(vms.map((v: { vmid: number; node: string; template: number }) => [v.vmid, v.node, v.template])).toEqual([
      [100, "foxtrot", 0],
      [9000, "foxtrot", 1],
    ]);
    // a member trying again gets the "already in a cluster" list
    const again = await sshRun(sim, "golf", `pvecm add ${host("foxtrot")} --link0 ${host("golf")} --fingerprint ${fp}`, { stdin: "secret\n" });
    expect(again.code).toBe(0);
    expect(again.stdout.startsWith("detected the following error(s):\n* authentication key '/etc/corosync/authkey' already exists\n* cluster config '/etc/pve/corosync.conf' already exists\n")).toBe(true);
    expect(again.stdout).toContain("* corosync is already running, is this node already in a cluster?!\n");
    expect(again.stderr).toBe("Check if node may join a cluster failed!\n");
  });

  it("rejects a node whose name is already in the nodelist", async () => {
    // golf "reinstalled": no local cluster files, but still listed in corosync.conf
    const saved = sim.readState().nodes.golf;
    sim.mutateState((s) => {
      Object.assign(s.nodes.golf, { cluster: null, nodeid: null, links: {} });
    });
    try {
      await sim.exec("golf", "rm -f /etc/pve/corosync.conf /etc/corosync/authkey");
      const r = await sshRun(sim, "golf", `pvecm add ${host("foxtrot")} --link0 ${host("golf")} --fingerprint ${fp}`, { stdin: "secret\n" });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Request addition of this node\nAn error occurred on the cluster node: can't add existing node 'golf'\n");
      expect(r.stdout).not.toContain("successfully added");
      expect(r.stderr).toBe("Cluster join aborted!\n");
    } finally {
      // the state is the truth; re-rendering restores golf's corosync.conf and authkey
      sim.mutateState((s) => {
        Object.assign(s.nodes.golf, { cluster: saved.cluster, nodeid: saved.nodeid, links: saved.links });
      });
    }
    expect((await sshRun(sim, "golf", "pvecm status")).code).toBe(0);
  });

  it("loses quorum when two of three nodes are down, and a down node refuses connections", async () => {
    await sim.stopNode("golf");
    await sim.stopNode("hotel");
    try {
      await whileTwoDown();
    } finally {
      // bring them back even if an assertion failed, so later tests see a full cluster
      await sim.startNode("golf");
      await sim.startNode("hotel");
    }
    const back = await ssh2Exec(sim, "golf", "hostname");
    expect(back.seenFingerprint).toBe(sim.node("golf").hostKeyFingerprint);
    expect(back.stdout).toBe("golf\n");
    const st2 = await sshRun(sim, "foxtrot", "pvecm status");
    expect(st2.code).toBe(0);
    expect(st2.stdout).toContain("Expected votes:   3\n");
    expect(st2.stdout).toContain("Nodes:            3\n");
  });

  async function whileTwoDown(): Promise<void> {
    expect(await tcpConnect(host("golf"), 22)).toBe("ECONNREFUSED");
    const down = await sshRun(sim, "golf", "true");
    expect(down.code).toBe(255);
    expect(down.stderr).toContain("Connection refused");

    const st = await sshRun(sim, "foxtrot", "pvecm status");
    expect(st.code).toBe(2);
    expect(st.stdout).toContain("Quorate:          No\n");
    expect(st.stdout).toContain("Nodes:            1\n");
    expect(st.stdout).toContain("Quorum:           2 Activity blocked\n");
    expect(st.stdout).toContain("Flags:            \n");
    const rows = JSON.parse((await sshRun(sim, "foxtrot", "pvesh get /cluster/status --output-format json")).stdout);
    expect(rows[0].quorate).toBe(0);
    expect(rows.slice(1).map((r: { name: string; online: number }) => [r.name, r.online])).toEqual([
      ["foxtrot", 1],
      ["golf", 0],
      ["hotel", 0],
    ]);
    const nodes = JSON.parse((await sshRun(sim, "foxtrot", "pvesh get /nodes --output-format json")).stdout);
    const golf = nodes.find((n: { node: string }) => n.node === "golf");
    expect(golf.status).toBe("offline");
    expect(golf).not.toHaveProperty("uptime");
    expect(golf).not.toHaveProperty("cpu");

    // pvecm expected 1 restores quorum on the survivor
    expect(await sshRun(sim, "foxtrot", "pvecm expected 1")).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect((await sshRun(sim, "foxtrot", "pvecm status")).code).toBe(0);
  }

  it("fail-once faults fail exactly once, only on their node", async () => {
    sim.injectFault({ node: "foxtrot", match: "pvecm status", mode: "fail-once", exitCode: 42, stderr: "injected boom" });
    expect((await sshRun(sim, "golf", "pvecm status")).code).toBe(0);
    expect(await sshRun(sim, "foxtrot", "pvecm status")).toMatchObject({ code: 42, stdout: "", stderr: "injected boom\n" });
    const second = await sshRun(sim, "foxtrot", "pvecm status");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("Quorate:          Yes\n");
    expect((await sshRun(sim, "foxtrot", "pvecm status")).code).toBe(0);
    sim.clearFaults();
  });

  it("fail faults fail every time until cleared", async () => {
    sim.injectFault({ match: "qm list", mode: "fail" });
    for (const n of ["foxtrot", "hotel"]) {
      const r = await sshRun(sim, n, "qm list");
      expect(r.code).toBe(255);
      expect(r.stderr).not.toBe("");
      expect(r.stdout).toBe("");
    }
    expect((await sshRun(sim, "foxtrot", "qm status 100")).code).toBe(0);
    sim.clearFaults();
    expect((await sshRun(sim, "foxtrot", "qm list")).code).toBe(0);
  });

  it("slow faults delay matching commands only", async () => {
    sim.injectFault({ match: "pveversion", mode: "slow", seconds: 1.5 });
    const slow = await sshRun(sim, "hotel", "pveversion");
    expect(slow.code).toBe(0);
    expect(slow.stdout).toMatch(/^pve-manager\/8\.4\.14\//);
    expect(slow.ms).toBeGreaterThanOrEqual(1500);
    const fast = await sshRun(sim, "hotel", "hostname");
    expect(fast.ms).toBeLessThan(1500);
    sim.clearFaults();
    expect((await sshRun(sim, "hotel", "pveversion")).ms).toBeLessThan(1500);
  });

  it("logs every command received over SSH, in order, and nothing from exec()", async () => {
    sim.clearLog();
    expect(sim.commandLog()).toEqual([]);
    const t0 = Date.now();
    await sshRun(sim, "golf", "echo one");
    await sshRun(sim, "foxtrot", `echo 'two "quoted"' | cat`);
    await sim.exec("foxtrot", "echo hidden");
    await sshRun(sim, "hotel", "pvesh get /version --output-format json");
    const log = sim.commandLog();
    expect(log.map(({ node, command }) => ({ node, command }))).toEqual([
      { node: "golf", command: "echo one" },
      { node: "foxtrot", command: `echo 'two "quoted"' | cat` },
      { node: "hotel", command: "pvesh get /version --output-format json" },
    ]);
    expect(log[0].time).toBeGreaterThanOrEqual(t0 - 5);
    expect(log[1].time).toBeGreaterThanOrEqual(log[0].time);
    expect(log[2].time).toBeGreaterThanOrEqual(log[1].time);
    expect(log[2].time).toBeLessThanOrEqual(Date.now());
  });

  it("names each command's SSH connection and the step the client sent (PVE_SIM_STEP)", async () => {
    sim.clearLog();
    const n = sim.node("golf");
    const conn = new Client();
    const exec = (command: string, env?: Record<string, string>) =>
      new Promise<void>((resolve, reject) =>
        conn.exec(command, { env }, (err, stream) => {
          if (err) return reject(err);
          stream.on("data", () => undefined).stderr.on("data", () => undefined);
          stream.on("close", () => resolve());
        }),
      );
    await new Promise<void>((resolve, reject) => {
      conn.once("ready", () => resolve()).once("error", reject);
      conn.connect({ host: n.host, port: n.port, username: "root", privateKey: sim.clientPrivateKey, hostVerifier: () => true });
    });
    await exec("echo first", { PVE_SIM_STEP: "urn:pulumi:s::p::t::a$b" });
    await exec("echo second");
    conn.end();
    await sshRun(sim, "golf", "echo other");
    const log = sim.commandLog();
    expect(log.map((e) => e.step)).toEqual(["urn:pulumi:s::p::t::a$b", undefined, undefined]);
    expect(log[0].connection).toMatch(/^[\d.]+:\d+$/);
    expect(log[1].connection).toBe(log[0].connection);
    expect(log[2].connection).not.toBe(log[0].connection);
  });

  it("delays every command by the command latency until it is set back to 0", async () => {
    sim.setCommandLatency(700);
    expect((await sshRun(sim, "hotel", "hostname")).ms).toBeGreaterThanOrEqual(700);
    sim.setCommandLatency(0);
    expect((await sshRun(sim, "hotel", "hostname")).ms).toBeLessThan(700);
    expect(() => sim.setCommandLatency(-1)).toThrow(/not a whole number/);
  });

  it("records the system fakes' argv", async () => {
    const r = await sshRun(sim, "golf", "apt-get install -y chrony && systemctl is-active pve-cluster && modprobe thunderbolt-net");
    expect(r).toMatchObject({ code: 0, stdout: "active\n" });
    const calls = sim.toolLog().filter((t) => t.node === "golf");
    expect(calls.slice(-3).map((t) => [t.tool, ...t.argv])).toEqual([
      ["apt-get", "install", "-y", "chrony"],
      ["systemctl", "is-active", "pve-cluster"],
      ["modprobe", "thunderbolt-net"],
    ]);
  });

  it("keeps /etc, /root, /home, /tmp and /usr/local of a node private", async () => {
    const token = crypto.randomBytes(6).toString("hex");
    const probe = `sim-probe-${token}`;
    const r = await sshRun(
      sim,
      "foxtrot",
      `echo x > /etc/${probe} && mkdir /root/${probe} /home/${probe} && echo t > /tmp/${probe} && echo u > /usr/local/bin/${probe} && cat /etc/${probe}`,
    );
    expect(r).toMatchObject({ code: 0, stdout: "x\n", stderr: "" });
    for (const p of [`/etc/${probe}`, `/root/${probe}`, `/home/${probe}`, `/tmp/${probe}`, `/usr/local/bin/${probe}`]) expect(fs.existsSync(p)).toBe(false);
    expect(fs.readFileSync(path.join(sim.node("foxtrot").root, "etc", probe), "utf8")).toBe("x\n");
    expect((await sim.exec("foxtrot", `cat /etc/${probe} /tmp/${probe} /usr/local/bin/${probe}`)).stdout).toBe("x\nt\nu\n");
    expect((await sim.exec("golf", `test -e /etc/${probe} || test -e /tmp/${probe}`)).code).toBe(1);
    expect(fs.readFileSync("/etc/hostname", "utf8").trim()).not.toBe("foxtrot");
  });

  it("stop() of the main cluster removes its processes and directory", async () => {
    const dir = path.dirname(sim.stateDir);
    expect(processesMentioning(dir).length).toBeGreaterThanOrEqual(3);
    await sim.stop();
    expect(processesMentioning(dir)).toEqual([]);
    expect(processesMountingDir(dir)).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    expect(await tcpConnect(host("foxtrot"), 22)).toBe("ECONNREFUSED");
    await sim.stop(); // idempotent
  });
});

describe("simulated cluster: concurrent joins", () => {
  let sim: SimCluster;
  beforeAll(async () => {
    sim = await startSimCluster([{ name: "n1" }, { name: "n2" }, { name: "n3" }, { name: "n4" }], { joinDelayMs: 300 });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it("serialises simultaneous pvecm add calls", async () => {
    expect((await sshRun(sim, "n1", "pvecm create par")).code).toBe(0);
    const fp = JSON.parse((await sshRun(sim, "n1", "pvesh get /cluster/config/join --output-format json")).stdout).nodelist[0].pve_fp;
    const started = Date.now();
    const results = await Promise.all(["n2", "n3", "n4"].map((n) => sshRun(sim, n, `pvecm add ${sim.node("n1").host} --fingerprint ${fp}`, { stdin: "pw\n" })));
    for (const [i, r] of results.entries()) {
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`successfully added node 'n${i + 2}' to cluster.\n`);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // three 300 ms critical sections, one after the other
    const state = sim.readState();
    expect(state.clusters.par.configVersion).toBe(4);
    expect(state.clusters.par.nodes.map((m) => m.nodeid).sort()).toEqual([1, 2, 3, 4]);
    const rows = JSON.parse((await sshRun(sim, "n4", "pvesh get /cluster/status --output-format json")).stdout);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({ nodes: 4, quorate: 1, version: 4 });
  });
});

describe("simulated cluster: cleanup", () => {
  it("stop() kills sshd, open sessions and the watchdog, and leaves nothing in /tmp", async () => {
    const sim = await startSimCluster([{ name: "india" }, { name: "juliet" }]);
    const dir = path.dirname(sim.stateDir);
    expect(dir.startsWith(os.tmpdir() + "/pve-sim-")).toBe(true);
    const namespaces = sim.nodes.map((n) => fs.readFileSync(path.join(n.root, "mntns"), "utf8"));
    const session = sshRun(sim, "india", "sleep 30");
    expect(await waitFor(() => sim.commandLog().some((e) => e.command === "sleep 30"), 5000)).toBe(true);
    expect(await waitFor(() => processesInNamespace(namespaces[0], dir).length >= 3, 5000)).toBe(true); // sshd, session, sleep
    const pids = processesMentioning(dir);
    expect(pids.length).toBeGreaterThanOrEqual(3); // two sshd + watchdog
    await sim.stop();
    const ended = await session;
    expect(ended.code).not.toBe(0);
    for (const ns of namespaces) expect(processesInNamespace(ns, dir)).toEqual([]);
    expect(processesMountingDir(dir)).toEqual([]);
    expect(pids.filter((p) => fs.existsSync(`/proc/${p}`) && !fs.readFileSync(`/proc/${p}/stat`, "utf8").includes(") Z "))).toEqual([]);
    expect(processesMentioning(dir)).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    for (const n of sim.nodes) expect(await tcpConnect(n.host, 22)).toBe("ECONNREFUSED");
  });

  const child = (mode: "exit" | "hang") => {
    const p = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "sim", "crash-child.ts"), mode], {
      cwd: path.join(__dirname, ".."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const info = new Promise<{ dir: string; hosts: string[] }>((resolve, reject) => {
      let buf = "";
      let err = "";
      p.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        if (buf.includes("\n")) resolve(JSON.parse(buf.split("\n")[0]));
      });
      p.stderr.on("data", (d: Buffer) => (err += d.toString()));
      p.once("exit", (code) => reject(new Error(`crash-child exited ${code} before reporting: ${err}`)));
    });
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    return { p, info, exited };
  };

  it("a test process that exits without stop() leaves nothing behind", async () => {
    const { info, exited } = child("exit");
    const { dir, hosts } = await info;
    await exited;
    expect(fs.existsSync(dir)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    expect(processesMountingDir(dir)).toEqual([]);
    for (const h of hosts) expect(await tcpConnect(h, 22)).toBe("ECONNREFUSED");
  });

  it("a SIGKILLed test process is cleaned up by the watchdog", async () => {
    const { p, info, exited } = child("hang");
    const { dir, hosts } = await info;
    expect(fs.existsSync(dir)).toBe(true);
    expect(await tcpConnect(hosts[0], 22)).toBe("connected");
    p.kill("SIGKILL");
    await exited;
    expect(await waitFor(() => !fs.existsSync(dir) && processesMentioning(dir).length === 0 && processesMountingDir(dir).length === 0, 10_000)).toBe(true);
    for (const h of hosts) expect(await tcpConnect(h, 22)).toBe("ECONNREFUSED");
  });
});
