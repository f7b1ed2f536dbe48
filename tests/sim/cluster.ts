/**
 * Simulated Proxmox VE cluster for tests: one real sshd per node, each in its own mount + UTS
 * namespace with private /etc, /root, /home, /tmp, /run and /usr/local, and fake PVE tools
 * (tests/sim/fakes/*.cjs) first in PATH. The fakes share JSON state under `stateDir`.
 *
 *   const sim = await startSimCluster([{ name: "alpha" }, { name: "bravo" }]);
 *   // connect with ssh/ssh2 to sim.node("alpha").host:22 as root using sim.clientPrivateKey
 *   await sim.stop();
 *
 * Needs root (unshare, mount) and /usr/sbin/sshd. See tests/sim/fakes/lib.cjs for the state model
 * and how to add a fake tool.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { installPveCerts, makeNodeCert, makePveCa } from "./pve-certs";

export interface SimNodeSpec {
  name: string;
  /** full pve-manager version, default "8.4.14" */
  pveVersion?: string;
  /** reserved for later */
  ceph?: boolean;
  /**
   * A plain Linux host instead of a Proxmox node: no PVE tools in its PATH, no /etc/pve, and
   * /etc/os-release of this distribution. Defaults to a Proxmox node (Debian).
   */
  distro?: "debian" | "rocky";
  /**
   * A Debian host's release: 12 (bookworm, the default) or 13 (trixie). Its /etc/os-release, its
   * Debian kernel (`uname -r`) and the Proxmox VE release its Proxmox repository installs (8 or 9)
   * follow from it (tests/sim/fakes/debian-lib.cjs).
   */
  debianVersion?: 12 | 13;
  /** What `uname -m` answers (amd64: x86_64, arm64: aarch64). Defaults to amd64. */
  arch?: "amd64" | "arm64";
  /**
   * A plain host booted into its provider's rescue system (needs `distro`): the fake findmnt,
   * blockdev and dd (fakes/rescue.cjs) answer for it, each disk (device path → size in bytes) is
   * a file in the state dir, and `active: false` makes it an installed system instead (root on
   * the first disk). Defaults to none.
   */
  rescue?: { disks: Record<string, number>; active?: boolean };
}

/** Fake tools that only a rescue host has (they shadow the real findmnt, blockdev and dd). */
const RESCUE_TOOLS = new Set(["findmnt", "blockdev", "dd"]);

/** Fake tools that only a Proxmox node has. */
const PVE_TOOLS = new Set([
  "proxmox-boot-tool", "pvecm", "pvesh", "pveum", "pveversion", "pveceph", "qm", "ha-manager", "pmxcfs", "killall",
  "ceph", "ceph-mon", "ceph-mgr", "ceph-osd", "ceph-volume", "rados",
]);

/** Tools that only a Debian host has (the Rocky host gets rpm/dnf instead). */
const DEBIAN_TOOLS = new Set(["apt-get", "apt", "dpkg-query"]);
const RPM_TOOLS = new Set(["rpm", "dnf", "yum"]);

function osRelease(distro: "debian" | "rocky", debianVersion: 12 | 13 = 12): string {
  if (distro === "rocky") {
    return 'NAME="Rocky Linux"\nVERSION="9.5 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.5"\nPLATFORM_ID="platform:el9"\n' +
      'PRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"\nANSI_COLOR="0;32"\nHOME_URL="https://rockylinux.org/"\n';
  }
  const codename = debianLib.RELEASES[debianVersion].codename;
  return `PRETTY_NAME="Debian GNU/Linux ${debianVersion} (${codename})"\nNAME="Debian GNU/Linux"\nVERSION_ID="${debianVersion}"\nVERSION="${debianVersion} (${codename})"\n` +
    `VERSION_CODENAME=${codename}\nID=debian\nHOME_URL="https://www.debian.org/"\n`;
}

/**
 * The digest a test pins for the Proxmox release key the simulated download serves at `url`
 * ("sha256:…" or "sha512:…"), as the real keys are pinned by theirs.
 */
export function simKeyringDigest(url: string, algorithm: "sha256" | "sha512" = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(debianLib.fakeKeyring(url)).digest("hex")}`;
}

export interface SimNode {
  name: string;
  host: string;
  port: number;
  hostKeyFingerprint: string;
  root: string;
}

export interface CommandLogEntry {
  node: string;
  command: string;
  /** When sshd started the command (ms since the epoch), before the injected latency. */
  time: number;
  /** The SSH connection that ran it (client address:port); one connection may run several commands. */
  connection: string;
  /** The engine harness's resource step (URN) that ran it, when it came from one (tests/engine/step-tag.ts). */
  step?: string;
}

export interface ToolLogEntry {
  node: string;
  tool: string;
  argv: string[];
  time: number;
}

export interface Fault {
  node?: string;
  match: string;
  mode: "fail-once" | "fail" | "slow";
  exitCode?: number;
  stderr?: string;
  seconds?: number;
}

export interface SimGuest {
  name: string;
  status: "running" | "stopped";
  template: boolean;
  config?: Record<string, string | number>;
  ctime?: number;
  startedAt?: number;
}

/** A partition of a simulated disk (SimCluster.setDisks). */
export interface SimPartitionSpec {
  /** Defaults to <disk>p<N> (NVMe) or <disk><N>. */
  name?: string;
  /** Bytes. Defaults to an equal share of the disk. */
  size?: number;
  /** A filesystem on the partition, e.g. "ext4". */
  fstype?: string;
  mountpoint?: string;
  /** An LVM PV: true (VG "vg-<partition>"), a VG name, or the VG with its LVs. */
  lvm?: boolean | string | { vg: string; lvs?: { name: string; size: number; fstype?: string; mountpoint?: string }[] };
}

/** One disk of a simulated node, as tests seed it (see tests/sim/fakes/ceph-lib.cjs). */
export interface SimDiskSpec {
  /** Kernel name, e.g. "nvme0n1" or "sdb". */
  name: string;
  /** Bytes. Defaults to 1000204886016 (1 TB). */
  size?: number;
  /**
   * Model and serial also name the disk's /dev/disk/by-id link (`nvme-<model>_<serial>`, or
   * `ata-…` for other disks; spaces become "_"; partitions add `-part<N>`), which the fake
   * readlink/realpath, lsblk and pveceph resolve. Defaults derive from the name.
   */
  model?: string;
  serial?: string;
  /** Defaults to false for nvme*, true otherwise. */
  rotational?: boolean;
  /** A partition table: N equal partitions, or the partitions themselves. */
  partitions?: number | SimPartitionSpec[];
  /** A filesystem on the whole disk, e.g. "xfs". */
  fstype?: string;
  mountpoint?: string;
  /** The whole disk is an LVM PV (foreign unless created by pveceph). */
  lvm?: SimPartitionSpec["lvm"];
}

export interface SimNodeState {
  name: string;
  ip: string;
  addresses: string[];
  root: string;
  online: boolean;
  pveVersion: string;
  kernel: string;
  repoid: string;
  sslFingerprint: string;
  bootTime: number;
  /** When stopNode took it down (ms since the epoch); absent while it runs. */
  offlineSince?: number;
  guests: Record<string, SimGuest>;
  cluster: string | null;
  nodeid: number | null;
  links: Record<string, string>;
  rootPassword?: string;
  /** Plain Linux host (SimNodeSpec.distro), absent on Proxmox nodes. */
  distro?: "debian" | "rocky";
  /** A Debian host's release (12 or 13). */
  debianVersion?: number;
  /** `uname -m` architecture. */
  arch: "amd64" | "arm64";
}

export interface SimClusterMember {
  name: string;
  nodeid: number;
  votes: number;
  ip: string;
  links: Record<string, string>;
}

export interface SimClusterState {
  name: string;
  configVersion: number;
  ringSeq: number;
  expectedVotes: number | null;
  authkey: string;
  interfaces: Record<string, { linknumber: number; knet_link_priority?: number }>;
  nodes: SimClusterMember[];
  /** Not quorate before this time (a join still settling; see sim.quorumSettleAfterJoinMs). */
  quorumHeldUntilMs?: number;
}

export interface SimState {
  format: number;
  /** Test knobs of the fakes. */
  sim: {
    joinDelayMs: number;
    /** After a `pvecm add`, the cluster stays without quorum this long (corosync settling). */
    quorumSettleAfterJoinMs?: number;
    /** The mutating PVE tools print their lock/progress lines on stderr, as the real ones do (fakes/lib.cjs chatterFor). */
    stderrChatter?: boolean;
    [knob: string]: unknown;
  };
  nodes: Record<string, SimNodeState>;
  clusters: Record<string, SimClusterState>;
  /** Rescue hosts (SimNodeSpec.rescue): in rescue mode or not, and each disk's backing file. */
  rescue?: Record<string, { active: boolean; disks: Record<string, { file: string; size: number }> }>;
  [section: string]: unknown;
}

export interface SimCluster {
  nodes: SimNode[];
  node(name: string): SimNode;
  /** OpenSSH-format private key authorised for root on every node */
  clientPrivateKey: string;
  /** the same key as a file (mode 0600), for `ssh -i` */
  clientKeyFile: string;
  /** known_hosts file with every node's host key, for StrictHostKeyChecking=yes */
  knownHostsFile: string;
  /** host-side dir with the fakes' shared state */
  stateDir: string;
  stopNode(name: string): Promise<void>;
  startNode(name: string): Promise<void>;
  /**
   * Power-cycle a node: stopped, started, then booted as systemd would (tests/sim/fakes/ring-lib.cjs
   * boot()): only enabled units run, modules from /etc/modules-load.d, sysctls from /etc/sysctl.d.
   */
  rebootNode(name: string): Promise<void>;
  /** Resolves once every reboot a node asked for (`systemctl reboot`, `reboot`) is done: the node is back. */
  rebootsDone(): Promise<void>;
  /** Model a Thunderbolt ring: its cables (every one plugged) and each ring node's loopback. */
  setRing(cables: SimCable[], loopbacks: Record<string, string>): void;
  /** Unplug (false) or plug back (true) the cable on `node`'s `port`. */
  setCablePlugged(node: string, port: string, plugged: boolean): void;
  injectFault(f: Fault): void;
  clearFaults(): void;
  /** Every command over SSH waits this long before it runs (a real network's and node's latency); 0 = none. */
  setCommandLatency(ms: number): void;
  commandLog(): CommandLogEntry[];
  clearLog(): void;
  /** argv of every call of the system fakes (apt-get, systemctl, …) */
  toolLog(): ToolLogEntry[];
  addGuest(node: string, vmid: number, name: string, opts?: { template?: boolean; status?: "running" | "stopped" }): void;
  /**
   * Replace the node's disk inventory (what the fake lsblk, wipefs, sgdisk, ceph-volume and
   * pveceph osd create see). The system disk sda (partitions, LVM "pve" with root mounted at /)
   * stays first unless `systemDisk: false` or a disk named sda is given.
   */
  setDisks(node: string, disks: SimDiskSpec[], opts?: { systemDisk?: boolean }): void;
  /** replace the node's list of local IP addresses (default: just its loopback address) */
  setAddresses(node: string, addresses: string[]): void;
  /** snapshot of the fakes' state */
  readState(): SimState;
  /** change the fakes' state under their lock (test setup) */
  mutateState<T>(fn: (state: SimState) => T): T;
  exec(node: string, shellCommand: string): Promise<{ stdout: string; stderr: string; code: number }>;
  stop(): Promise<void>;
}

/** A Thunderbolt cable between two ports: [node, port, node, port]. */
export type SimCable = [string, string, string, string];

export interface SimClusterOptions {
  /** how long a successful `pvecm add` holds the cluster's corosync.conf lock (default 150 ms) */
  joinDelayMs?: number;
  /** lock/progress lines on stderr from the mutating PVE tools (default false) */
  stderrChatter?: boolean;
}

// ---------------------------------------------------------------------------------------------

interface SimContext {
  read(): SimState;
  write(state: SimState): void;
  mutate<T>(fn: (state: SimState) => T): T;
}

interface SimCephLib {
  normalizeDisk(spec: SimDiskSpec): unknown;
  systemDisk(): { name: string };
  nodeCeph(state: SimState, node: string): { disks?: unknown[] };
  renderCeph(state: SimState): void;
}

interface SimLib {
  context(opts: { stateDir: string; node: string | null }): SimContext;
  newNodeState(opts: { name: string; ip: string; root: string; pveVersion?: string }): SimNodeState;
  parseVersion(v: string): { major: number; minor: number; patch: number };
  visibleNodes(state: SimState, node: string): SimNodeState[];
  renderPmxcfs(state: SimState): void;
}

const SIM_DIR = __dirname;
const FAKES_DIR = path.join(SIM_DIR, "fakes");
const NS_SETUP = path.join(SIM_DIR, "ns-setup.sh");
const SSH_WRAPPER = path.join(SIM_DIR, "sshwrap.sh");
const WATCHDOG = path.join(SIM_DIR, "watchdog.sh");
const SSHD = "/usr/sbin/sshd";
/** The one list of OS prerequisites (also run by `npm test`'s pretest and .ci/run). */
const PREREQS = path.resolve(SIM_DIR, "..", "..", "scripts", "prereqs.sh");
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const NODE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

const lib = createRequire(__filename)("./fakes/lib.cjs") as SimLib;
const cephLib = createRequire(__filename)("./fakes/ceph-lib.cjs") as SimCephLib;
const debianLib = createRequire(__filename)("./fakes/debian-lib.cjs") as {
  RELEASES: Record<12 | 13, { codename: string; kernel: string; pveVersion: string }>;
  fakeKeyring(url: string): string;
};

function run(cmd: string, args: string[], opts: { input?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readNs(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/**
 * Is pid inside one of this cluster's node namespaces? Namespace inode numbers are reused quickly
 * once a namespace dies, so the inode alone is not proof: the process's mount table must also
 * show this cluster's directory (the bind mounts of ns-setup.sh).
 */
function inClusterNamespace(pid: number, ns: string, clusterDir: string): boolean {
  if (readNs(pid) !== ns) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8").includes(`${clusterDir}/nodes/`);
  } catch {
    return false;
  }
}

/** SIGKILL every process in the node namespace `ns`; returns how many were signalled. */
function killNamespaceOnce(ns: string, clusterDir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (inClusterNamespace(pid, ns, clusterDir)) {
      try {
        process.kill(pid, "SIGKILL");
        n++;
      } catch {
        /* gone */
      }
    }
  }
  return n;
}

function killNamespaceSync(ns: string | null, pid: number | null, clusterDir: string): void {
  if (pid !== null && pidAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  if (!ns || ns === readNs(process.pid)) return; // never touch the host's own namespace
  for (let round = 0; round < 50; round++) {
    if (killNamespaceOnce(ns, clusterDir) === 0) return;
    sleepSync(20);
  }
}

/** resolves true when something accepts TCP connections on host:port */
function probe(host: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/** shell-quote for the bash-sourced faults file */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** tool name -> fake file; a file may serve several tools via a `// @tools a b c` header line */
function discoverTools(fakesDir: string): Map<string, string> {
  const tools = new Map<string, string>();
  for (const f of fs.readdirSync(fakesDir).sort()) {
    if (!f.endsWith(".cjs")) continue;
    const file = path.join(fakesDir, f);
    const head = fs.readFileSync(file, "utf8").split("\n").slice(0, 40);
    const tag = head.find((l) => /^\/\/\s*@tools\b/.test(l));
    const names = tag ? tag.replace(/^\/\/\s*@tools/, "").trim().split(/\s+/).filter(Boolean) : [f.replace(/\.cjs$/, "")];
    if (/^pvesh-.+\.cjs$/.test(f) && !tag) continue; // pvesh route modules are not tools
    for (const n of names) tools.set(n, file);
  }
  return tools;
}

interface NodeRuntime {
  spec: Required<Pick<SimNodeSpec, "name" | "pveVersion">>;
  info: SimNode;
  dir: string;
  proc: ChildProcess | null;
  pid: number | null;
  ns: string | null;
}

// ---------------------------------------------------------------------------------------------

let prerequisitesPresent = false;

/** Fail at once, naming the packages and the command, when the host lacks what the simulator runs. */
export function checkPrerequisites(prereqsPath?: string): void {
  if (prerequisitesPresent && prereqsPath === undefined) return;
  const env = prereqsPath === undefined ? process.env : { ...process.env, PREREQS_PATH: prereqsPath };
  const r = spawnSync("bash", [PREREQS, "--check"], { encoding: "utf8", env });
  if (r.status !== 0) throw new Error(`the simulated cluster cannot start: ${(r.stderr || r.error?.message || "").trim()}`);
  if (prereqsPath === undefined) prerequisitesPresent = true;
}

export async function startSimCluster(specs: SimNodeSpec[], opts: SimClusterOptions = {}): Promise<SimCluster> {
  checkPrerequisites();
  if (process.getuid && process.getuid() !== 0) throw new Error("startSimCluster needs root (unshare, mount)");
  if (specs.length === 0) throw new Error("startSimCluster: no nodes");
  const seen = new Set<string>();
  for (const s of specs) {
    if (!NODE_NAME.test(s.name)) throw new Error(`invalid node name '${s.name}'`);
    if (seen.has(s.name)) throw new Error(`duplicate node name '${s.name}'`);
    seen.add(s.name);
    if (s.pveVersion !== undefined) lib.parseVersion(s.pveVersion);
  }
  if (specs.length > 200) throw new Error("at most 200 nodes");

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pve-sim-"));
  // Non-root logins (test users) run the ssh wrapper from harness/ inside this dir: let every
  // user traverse it (not list it; the client key and root's files stay 0600/0700).
  fs.chmodSync(dir, 0o711);
  const stateDir = path.join(dir, "state");
  const keysDir = path.join(dir, "keys");
  const sbinDir = path.join(dir, "sbin");
  const runtimes = new Map<string, NodeRuntime>();
  let watchdog: ChildProcess | null = null;
  let stopped = false;

  const syncCleanup = () => {
    if (stopped) return;
    stopped = true;
    if (watchdog?.pid && pidAlive(watchdog.pid)) {
      try {
        process.kill(watchdog.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    for (const rt of runtimes.values()) {
      killNamespaceSync(rt.ns, rt.pid, dir);
      rt.proc = null;
      rt.pid = null;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", syncCleanup);

  try {
    for (const d of [stateDir, keysDir, sbinDir, path.join(stateDir, "locks"), path.join(stateDir, "faults.fired")]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(stateDir, "commands.jsonl"), "");
    fs.writeFileSync(path.join(stateDir, "tools.jsonl"), "");

    // a random 127.A.B.0/24 per cluster instance, so parallel test files never collide
    let base = "";
    for (let attempt = 0; attempt < 20 && !base; attempt++) {
      const candidate = `127.${16 + Math.floor(Math.random() * 230)}.${Math.floor(Math.random() * 256)}`;
      const busy = await Promise.all(specs.map((_, i) => probe(`${candidate}.${11 + i}`, 22, 200)));
      if (!busy.some(Boolean)) base = candidate;
    }
    if (!base) throw new Error("no free loopback range found");

    // The nodes run the fakes and the ssh wrapper from a copy inside the cluster dir: a
    // checkout under /tmp would be hidden by each node's private /tmp (ns-setup.sh).
    const harnessDir = path.join(dir, "harness");
    fs.cpSync(FAKES_DIR, path.join(harnessDir, "fakes"), { recursive: true });
    const sshWrapper = path.join(harnessDir, "sshwrap.sh");
    fs.copyFileSync(SSH_WRAPPER, sshWrapper);

    // shims for every fake tool, bind-mounted over /usr/local/sbin in each node; a plain host
    // gets its own directory (sbin.<node>, see ns-setup.sh) without the PVE tools and with only
    // its distribution's package tools
    const tools = discoverTools(path.join(harnessDir, "fakes"));
    const writeShims = (dirPath: string, keep: (tool: string) => boolean) => {
      fs.mkdirSync(dirPath, { recursive: true });
      for (const [tool, file] of tools) {
        if (!keep(tool)) continue;
        const shim = path.join(dirPath, tool);
        fs.writeFileSync(shim, `#!/bin/sh\nexport PVE_SIM_TOOL=${tool}\nexec ${process.execPath} --no-warnings ${file} "$@"\n`, { mode: 0o755 });
      }
    };
    writeShims(sbinDir, (t) => !RPM_TOOLS.has(t) && !RESCUE_TOOLS.has(t));
    for (const spec of specs) {
      if (!spec.distro) continue;
      const other = spec.distro === "rocky" ? DEBIAN_TOOLS : RPM_TOOLS;
      writeShims(path.join(dir, `sbin.${spec.name}`), (t) => !PVE_TOOLS.has(t) && !other.has(t) && (spec.rescue !== undefined || !RESCUE_TOOLS.has(t)));
    }

    // client key
    const clientKeyFile = path.join(keysDir, "client_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pve-sim-client", "-f", clientKeyFile]);
    fs.chmodSync(clientKeyFile, 0o600);
    const clientPub = fs.readFileSync(`${clientKeyFile}.pub`, "utf8").trim();

    const allHosts = specs.map((s, i) => `${base}.${11 + i}\t${s.name}.pve-sim.internal ${s.name}`).join("\n");
    const etcSkeleton = path.join(dir, "etc-skel");
    fs.mkdirSync(etcSkeleton);
    await run("cp", ["-a", "/etc/.", etcSkeleton + "/"]);
    // one cluster CA signing every node's API certificate, as after pvecm create/add
    const certsDir = path.join(dir, "certs");
    const pveCa = await makePveCa(certsDir, path.basename(dir));

    await Promise.all(
      specs.map(async (spec, i) => {
        const name = spec.name;
        const host = `${base}.${11 + i}`;
        const nd = path.join(dir, "nodes", name);
        for (const d of ["etc", "root", "home", "tmp", "usrlocal.upper", "usrlocal.work"]) fs.mkdirSync(path.join(nd, d), { recursive: true });
        fs.chmodSync(path.join(nd, "tmp"), 0o1777);
        // what /proc/cmdline says inside the node (ns-setup.sh; fakes/boot-lib.cjs changes it at boot)
        fs.writeFileSync(path.join(nd, "cmdline"), "BOOT_IMAGE=/boot/vmlinuz-6.8.12-15-pve root=/dev/mapper/pve-root ro quiet\n");
        fs.chmodSync(path.join(nd, "root"), 0o700);
        // private /etc: a copy of the host's, made the node's own
        await run("cp", ["-a", etcSkeleton + "/.", path.join(nd, "etc") + "/"]);
        const etc = path.join(nd, "etc");
        fs.writeFileSync(path.join(etc, "hostname"), `${name}\n`);
        fs.writeFileSync(
          path.join(etc, "hosts"),
          `127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n${allHosts}\n`,
        );
        fs.rmSync(path.join(etc, "pve"), { recursive: true, force: true });
        if (spec.distro) {
          // the host's copy is a symlink into /usr/lib, shared with the host: replace the link
          fs.rmSync(path.join(etc, "os-release"), { force: true });
          fs.writeFileSync(path.join(etc, "os-release"), osRelease(spec.distro, spec.debianVersion));
        } else {
          fs.mkdirSync(path.join(etc, "pve"));
          // Node certificates in their own folder: a node may be called "ca" (the CA is ca.pem/ca.key).
          const nodeCert = await makeNodeCert(path.join(certsDir, "nodes"), pveCa, name, [name, `${name}.pve-sim.internal`, "localhost"], [host, "127.0.0.1", "::1"]);
          installPveCerts(etc, name, pveCa, nodeCert);
        }
        fs.writeFileSync(path.join(etc, "machine-id"), `${Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256))).toString("hex")}\n`);
        const netDir = path.join(etc, "network");
        fs.mkdirSync(netDir, { recursive: true });
        if (!fs.existsSync(path.join(netDir, "interfaces")))
          fs.writeFileSync(
            path.join(netDir, "interfaces"),
            `auto lo\niface lo inet loopback\n\niface eno1 inet manual\n\nauto vmbr0\niface vmbr0 inet static\n\taddress ${host}/24\n\tbridge-ports eno1\n\tbridge-stp off\n\tbridge-fd 0\n\nsource /etc/network/interfaces.d/*\n`,
          );
        // host key: the node's own; drop the copies of the host machine's keys
        const sshDir = path.join(etc, "ssh");
        fs.mkdirSync(sshDir, { recursive: true });
        for (const f of fs.readdirSync(sshDir)) if (f.startsWith("ssh_host_")) fs.rmSync(path.join(sshDir, f));
        const hostKey = path.join(nd, "ssh_host_ed25519_key");
        await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `root@${name}`, "-f", hostKey]);
        fs.copyFileSync(hostKey, path.join(sshDir, "ssh_host_ed25519_key"));
        fs.copyFileSync(`${hostKey}.pub`, path.join(sshDir, "ssh_host_ed25519_key.pub"));
        fs.chmodSync(path.join(sshDir, "ssh_host_ed25519_key"), 0o600);
        const fp = (await run("ssh-keygen", ["-lf", `${hostKey}.pub`])).stdout.trim().split(/\s+/)[1];
        // private /root (a fresh skeleton, not a copy of the host's) with the client key
        if (fs.existsSync("/etc/skel")) await run("cp", ["-a", "/etc/skel/.", path.join(nd, "root") + "/"]);
        fs.mkdirSync(path.join(nd, "root", ".ssh"), { mode: 0o700 });
        fs.writeFileSync(path.join(nd, "root", ".ssh", "authorized_keys"), clientPub + "\n", { mode: 0o600 });
        fs.writeFileSync(
          path.join(nd, "sshd_config"),
          [
            `ListenAddress ${host}:22`,
            `HostKey ${hostKey}`,
            `PidFile ${path.join(nd, "sshd.pid")}`,
            "UsePAM no",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "AuthorizedKeysFile .ssh/authorized_keys",
            "StrictModes no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "MaxStartups 200:30:400",
            "MaxSessions 100",
            `SetEnv PVE_SIM_NODE=${name} PVE_SIM_STATE=${stateDir}`,
            // The engine harness names the resource step that runs each command (tests/engine/step-tag.ts).
            "AcceptEnv PVE_SIM_STEP",
            `ForceCommand /bin/bash ${sshWrapper}`,
            "Subsystem sftp /usr/lib/openssh/sftp-server",
            "",
          ].join("\n"),
        );
        runtimes.set(name, {
          spec: { name, pveVersion: spec.pveVersion ?? "8.4.14" },
          info: { name, host, port: 22, hostKeyFingerprint: fp, root: nd },
          dir: nd,
          proc: null,
          pid: null,
          ns: null,
        });
      }),
    );
    fs.rmSync(etcSkeleton, { recursive: true, force: true });

    const knownHostsFile = path.join(keysDir, "known_hosts");
    fs.writeFileSync(
      knownHostsFile,
      specs
        .map((s) => {
          const rt = runtimes.get(s.name)!;
          const pub = fs.readFileSync(path.join(rt.dir, "ssh_host_ed25519_key.pub"), "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
          return `${rt.info.host} ${pub}\n`;
        })
        .join(""),
    );

    const ctx = lib.context({ stateDir, node: null });
    const initial: SimState = { format: 1, sim: { joinDelayMs: opts.joinDelayMs ?? 150, stderrChatter: opts.stderrChatter ?? false }, nodes: {}, clusters: {} };
    for (const s of specs) {
      const rt = runtimes.get(s.name)!;
      initial.nodes[s.name] = {
        ...lib.newNodeState({ name: s.name, ip: rt.info.host, root: rt.dir, pveVersion: rt.spec.pveVersion }),
        arch: s.arch ?? "amd64",
        ...(s.distro ? { distro: s.distro } : {}),
        ...(s.distro === "debian" ? { debianVersion: s.debianVersion ?? 12, kernel: debianLib.RELEASES[s.debianVersion ?? 12].kernel } : {}),
      };
      if (s.rescue) {
        if (!s.distro) throw new Error(`${s.name}: a rescue host is a plain host; give it a distro`);
        // Each disk a sparse file of its size in the state dir (the node's namespace sees it there).
        const disks: Record<string, { file: string; size: number }> = {};
        for (const [device, size] of Object.entries(s.rescue.disks)) {
          const file = path.join(stateDir, `disk-${s.name}-${device.replace(/[^A-Za-z0-9]/g, "_")}.img`);
          fs.writeFileSync(file, "");
          fs.truncateSync(file, size);
          disks[device] = { file, size };
        }
        initial.rescue = { ...initial.rescue, [s.name]: { active: s.rescue.active ?? true, disks } };
      }
    }
    ctx.write(initial);

    // safety net for a SIGKILLed test process (the 'exit' handler covers normal exits and crashes)
    watchdog = spawn("/bin/bash", [WATCHDOG, String(process.pid), dir], { detached: true, stdio: "ignore" });
    watchdog.unref();

    const launch = async (rt: NodeRuntime) => {
      const log = path.join(rt.dir, "sshd.log");
      const child = spawn(
        "unshare",
        ["--mount", "--uts", "--propagation", "private", "/bin/bash", NS_SETUP, dir, rt.info.name, SSHD, "-D", "-f", path.join(rt.dir, "sshd_config"), "-E", log],
        { stdio: ["ignore", "ignore", "pipe"], env: { PATH: DEFAULT_PATH } },
      );
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      child.unref();
      (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
      let exited = false;
      child.once("exit", () => (exited = true));
      rt.proc = child;
      rt.pid = child.pid ?? null;
      const deadline = Date.now() + 15000;
      for (;;) {
        if (exited) {
          const sshdLog = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
          throw new Error(`sshd of node ${rt.info.name} exited during start: ${stderr}${sshdLog}`);
        }
        if (await probe(rt.info.host, 22)) break;
        if (Date.now() > deadline) throw new Error(`sshd of node ${rt.info.name} did not start listening on ${rt.info.host}:22`);
        await sleep(25);
      }
      rt.ns = rt.pid ? readNs(rt.pid) : null;
      if (rt.ns) fs.writeFileSync(path.join(rt.dir, "mntns"), rt.ns);
    };

    const halt = async (rt: NodeRuntime) => {
      const { pid, ns, proc } = rt;
      rt.proc = null;
      rt.pid = null;
      rt.ns = null;
      fs.rmSync(path.join(rt.dir, "mntns"), { force: true });
      if (pid === null) return;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise<void>((r) => proc.once("exit", () => r()));
        killNamespaceSync(ns, pid, dir);
        await Promise.race([gone, sleep(5000)]);
      } else {
        killNamespaceSync(ns, pid, dir);
      }
      for (let i = 0; i < 100 && (await probe(rt.info.host, 22, 100)); i++) await sleep(20);
    };

    await Promise.all([...runtimes.values()].map(launch));

    const get = (name: string): NodeRuntime => {
      const rt = runtimes.get(name);
      if (!rt) throw new Error(`no simulated node '${name}'`);
      return rt;
    };

    const faults: (Fault & { id: number })[] = [];
    let faultSeq = 0;
    const writeFaults = () => {
      const file = path.join(stateDir, "faults.sh");
      if (faults.length === 0) {
        fs.rmSync(file, { force: true });
        return;
      }
      const arr = (name: string, vals: string[]) => `${name}=(${vals.map(shq).join(" ")})\n`;
      const text =
        arr("F_ID", faults.map((f) => String(f.id))) +
        arr("F_NODE", faults.map((f) => f.node ?? "")) +
        arr("F_MODE", faults.map((f) => f.mode)) +
        arr("F_CODE", faults.map((f) => String(f.exitCode ?? 255))) +
        arr("F_SEC", faults.map((f) => String(f.seconds ?? 0))) +
        arr("F_MATCH", faults.map((f) => f.match)) +
        arr("F_ERR", faults.map((f) => f.stderr ?? ""));
      const tmp = `${file}.tmp`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
    };

    const readJsonl = <T>(file: string): T[] =>
      fs
        .readFileSync(path.join(stateDir, file), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as T);

    let stopPromise: Promise<void> | null = null;

    const sim: SimCluster = {
      // Set below, with the reboot requests it watches.
      rebootsDone: async () => {},
      nodes: specs.map((s) => get(s.name).info),
      node: (name) => get(name).info,
      clientPrivateKey: fs.readFileSync(clientKeyFile, "utf8"),
      clientKeyFile,
      knownHostsFile,
      stateDir,

      async stopNode(name) {
        const rt = get(name);
        await halt(rt);
        ctx.mutate((s) => {
          s.nodes[name].online = false;
          // when it went down: the HA fake fences and recovers its services after this (pvesh-ha.cjs)
          s.nodes[name].offlineSince = Date.now();
          const c = s.nodes[name].cluster;
          if (c && s.clusters[c]) s.clusters[c].ringSeq += 4;
        });
      },

      async startNode(name) {
        const rt = get(name);
        if (rt.pid !== null && pidAlive(rt.pid)) return;
        ctx.mutate((s) => {
          const n = s.nodes[name];
          n.online = true;
          delete n.offlineSince;
          n.bootTime = Math.floor(Date.now() / 1000);
          const c = n.cluster;
          if (c && s.clusters[c]) {
            s.clusters[c].ringSeq += 4;
            s.clusters[c].expectedVotes = null; // the rejoining node brings the configured expected votes back
          }
        });
        await launch(rt);
      },

      async rebootNode(name) {
        await sim.stopNode(name);
        await sim.startNode(name);
        const booted = await sim.exec(name, "pve-sim-boot");
        if (booted.code !== 0) throw new Error(`rebootNode ${name}: boot failed: ${booted.stderr}`);
      },

      setRing(cables, loopbacks) {
        for (const [a, , b] of cables) {
          get(a);
          get(b);
        }
        ctx.mutate((s) => {
          s.ring = {
            cables: cables.map(([an, ap, bn, bp]) => ({ ends: [{ node: an, port: ap }, { node: bn, port: bp }], plugged: true })),
            loopbacks: { ...loopbacks },
          };
        });
      },

      setCablePlugged(node, port, plugged) {
        ctx.mutate((s) => {
          const ring = s.ring as { cables: { ends: { node: string; port: string }[]; plugged: boolean }[] } | undefined;
          const cable = ring?.cables.find((c) => c.ends.some((e) => e.node === node && e.port === port));
          if (!cable) throw new Error(`setCablePlugged: no cable on ${node} ${port}`);
          cable.plugged = plugged;
        });
      },

      injectFault(f) {
        if (stopped) throw new Error("injectFault: the simulated cluster is stopped");
        if (!f.match) throw new Error("injectFault: match must be a non-empty string");
        if (f.node !== undefined) get(f.node);
        if (!["fail-once", "fail", "slow"].includes(f.mode)) throw new Error(`injectFault: bad mode '${f.mode}'`);
        let stderr = f.stderr ?? (f.mode === "slow" ? "" : `pve-sim: injected fault for '${f.match}'`);
        if (stderr && !stderr.endsWith("\n")) stderr += "\n";
        faults.push({ ...f, stderr, id: ++faultSeq });
        writeFaults();
      },

      clearFaults() {
        if (stopped) return;
        faults.length = 0;
        writeFaults();
        const fired = path.join(stateDir, "faults.fired");
        fs.rmSync(fired, { recursive: true, force: true });
        fs.mkdirSync(fired);
      },

      setCommandLatency(ms) {
        if (!Number.isInteger(ms) || ms < 0) throw new Error(`setCommandLatency: ${ms} is not a whole number of milliseconds`);
        fs.writeFileSync(path.join(stateDir, "latency_ms"), `${ms}\n`);
      },

      commandLog: () => readJsonl<CommandLogEntry>("commands.jsonl"),
      clearLog: () => fs.writeFileSync(path.join(stateDir, "commands.jsonl"), ""),
      toolLog: () => readJsonl<ToolLogEntry>("tools.jsonl"),

      addGuest(node, vmid, name, o = {}) {
        get(node);
        if (!Number.isInteger(vmid) || vmid < 100) throw new Error(`addGuest: invalid vmid ${vmid}`);
        const template = !!o.template;
        const status = o.status ?? "stopped";
        if (template && status === "running") throw new Error("addGuest: a template cannot be running");
        ctx.mutate((s) => {
          for (const n of lib.visibleNodes(s, node)) {
            if (n.guests[String(vmid)]) throw new Error(`addGuest: VM ${vmid} already exists on node '${n.name}'`);
          }
          const now = Math.floor(Date.now() / 1000);
          s.nodes[node].guests[String(vmid)] = { name, status, template, ctime: now, ...(status === "running" ? { startedAt: now } : {}) };
        });
      },

      setDisks(node, disks, o = {}) {
        get(node);
        const normalized = disks.map((d) => cephLib.normalizeDisk(d));
        const names = new Set<string>();
        for (const d of disks) {
          if (names.has(d.name)) throw new Error(`setDisks: disk ${d.name} listed twice`);
          names.add(d.name);
        }
        const withSystem = (o.systemDisk ?? true) && !names.has("sda") ? [cephLib.systemDisk(), ...normalized] : normalized;
        ctx.mutate((s) => {
          cephLib.nodeCeph(s, node).disks = withSystem;
        });
      },

      setAddresses(node, addresses) {
        get(node);
        ctx.mutate((s) => {
          s.nodes[node].addresses = [...new Set(addresses)];
        });
      },

      readState: () => ctx.read(),
      mutateState: (fn) => ctx.mutate(fn),

      exec(node, shellCommand) {
        const rt = get(node);
        const inner = [
          "/usr/bin/env",
          "-i",
          `PATH=${DEFAULT_PATH}`,
          "HOME=/root",
          "USER=root",
          "LOGNAME=root",
          "SHELL=/bin/bash",
          `PVE_SIM_NODE=${node}`,
          `PVE_SIM_STATE=${stateDir}`,
          "/bin/bash",
          "-c",
          'cd /root 2>/dev/null || cd /; exec /bin/bash -c "$1"',
          "bash",
          shellCommand,
        ];
        const running = rt.pid !== null && pidAlive(rt.pid) && rt.ns !== null && readNs(rt.pid) === rt.ns;
        const [cmd, args] = running
          ? ["nsenter", ["-t", String(rt.pid), "-m", "-u", "--", ...inner]]
          : ["unshare", ["--mount", "--uts", "--propagation", "private", "/bin/bash", NS_SETUP, dir, node, ...inner]];
        return new Promise((resolve, reject) => {
          const child = spawn(cmd as string, args as string[], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: DEFAULT_PATH } });
          const out: Buffer[] = [];
          const err: Buffer[] = [];
          child.stdout.on("data", (d: Buffer) => out.push(d));
          child.stderr.on("data", (d: Buffer) => err.push(d));
          child.once("error", reject);
          child.once("close", (code, signal) => {
            const sig = signal ? (os.constants.signals as Record<string, number>)[signal] ?? 0 : 0;
            resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? 128 + sig });
          });
        });
      },

      stop() {
        if (!stopPromise) {
          stopPromise = (async () => {
            if (stopped) return;
            if (watchdog?.pid && pidAlive(watchdog.pid)) {
              try {
                process.kill(watchdog.pid, "SIGKILL");
              } catch {
                /* gone */
              }
            }
            clearInterval(rebootPoll);
            await Promise.all([...runtimes.values()].map(halt));
            syncCleanup();
            process.off("exit", syncCleanup);
          })();
        }
        return stopPromise;
      },
    };

    // A node asked to reboot (`systemctl reboot`, `reboot`: fakes/debian-lib.cjs) is power-cycled
    // as the machine would be: its SSH connections drop, and it comes back through its boot.
    const rebootDir = path.join(stateDir, "reboot-requests");
    const rebooting = new Set<string>();
    const rebootPoll = setInterval(() => {
      let names: string[] = [];
      try {
        names = fs.readdirSync(rebootDir);
      } catch {
        return;
      }
      for (const name of names) {
        if (rebooting.has(name) || stopped) continue;
        fs.rmSync(path.join(rebootDir, name), { force: true });
        rebooting.add(name);
        // The command that asked returns first, as `systemctl reboot` does.
        setTimeout(() => {
          sim
            .rebootNode(name)
            .catch((e: unknown) => console.error(`pve-sim: reboot of ${name} failed: ${String(e)}`))
            .finally(() => rebooting.delete(name));
        }, 300);
      }
    }, 200);
    rebootPoll.unref();
    sim.rebootsDone = async () => {
      const pending = () => {
        try {
          return fs.readdirSync(rebootDir).length > 0;
        } catch {
          return false;
        }
      };
      const deadline = Date.now() + 120_000;
      while (pending() || rebooting.size > 0) {
        if (Date.now() > deadline) throw new Error(`pve-sim: reboots still running after 120 s: ${[...rebooting].join(", ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    return sim;
  } catch (e) {
    syncCleanup();
    process.off("exit", syncCleanup);
    throw e;
  }
}
