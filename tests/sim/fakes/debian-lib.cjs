"use strict";
// Shared model of a Debian host's packages for the fakes of apt-get/apt (system.cjs), dpkg-query,
// curl, uname and the simulated boot, including a plain Debian host that becomes a Proxmox VE node
// the documented way (Proxmox wiki "Install Proxmox VE on Debian 12 Bookworm / 13 Trixie"):
//   - the package database: a base set (plus pveversion -v's packages on a Proxmox node, plus the
//     Debian kernel, grub and os-prober on a plain Debian host), test seeds in state.dpkg[<node>],
//     then the node's logged apt-get/apt calls replayed (install adds, remove leaves config files,
//     purge forgets; globs like 'linux-image-6.*' match installed names);
//   - the Proxmox repository counts once its sources file names download.proxmox.com/debian/pve
//     with the node's codename and the keyring it needs is in place; `apt-get update` then fetches
//     its lists (without the key: apt's NO_PUBKEY / "is not signed" error, exit 100), and only
//     then can Proxmox packages be installed ("E: Unable to locate package …", exit 100);
//   - installing proxmox-ve puts the PVE tool shims on the node's PATH (copies of the cluster's
//     /usr/local/sbin shims), creates /etc/pve and makes pveversion answer the repository's
//     release; proxmox-default-kernel is the kernel the next boot runs (`uname -r`);
//   - `systemctl reboot` / `reboot` leave a request the test process's SimCluster picks up
//     (rebootNode), as a real node drops its connections and comes back.
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const lib = require("./lib.cjs");

const BASE = [
  "adduser", "apt", "base-files", "base-passwd", "bash", "coreutils", "dash", "debianutils", "diffutils",
  "dpkg", "e2fsprogs", "findutils", "grep", "gzip", "hostname", "init-system-helpers", "iproute2",
  "libc-bin", "login", "mount", "ncurses-base", "openssh-client", "openssh-server", "passwd", "perl-base",
  "sed", "systemd", "sysvinit-utils", "tar", "util-linux", "zstd",
];

/** Debian release → codename, the Debian kernel it boots, the Proxmox VE release its repository installs. */
const RELEASES = {
  12: { codename: "bookworm", kernel: "6.1.0-41-amd64", pveVersion: "8.4.14" },
  13: { codename: "trixie", kernel: "6.12.57+deb13-amd64", pveVersion: "9.1.1" },
};

/** Packages only the Proxmox repository has. */
const PROXMOX_ONLY = /^(proxmox-|pve-|libpve-|qemu-server$|lxc-pve$|ceph-)/;

function releaseOf(node) {
  return RELEASES[node.debianVersion || 12];
}

/** The fake keyring the simulated download.proxmox.com serves at `url` (tests pin its digest). */
function fakeKeyring(url) {
  return `pve-sim keyring served for ${url}\n`;
}

/** curl: the Proxmox release keys; null for anything else. */
function keyringFor(url) {
  return /^https:\/\/enterprise\.proxmox\.com\/debian\/proxmox-(archive-keyring|release)-[a-z]+\.gpg$/.test(url) ? fakeKeyring(url) : null;
}

/** The apt-get/apt argv's verb and package arguments (options and their values skipped). */
function aptCall(argv) {
  return lib.verbAndWords(argv, new Set(["-o", "-c", "-t", "--option", "--config-file", "--target-release", "--default-release"]));
}

function globToRegExp(p) {
  return new RegExp("^" + p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
}

/** name → "installed" | "config-files", of the tool's own node or of `nodeName`. */
function database(sim, nodeName) {
  const state = nodeName === undefined ? sim.self().state : sim.read();
  const node = nodeName === undefined ? sim.self().node : state.nodes[nodeName];
  if (!node) lib.die(`pve-sim: unknown node '${nodeName}'`, 127);
  const db = new Map();
  for (const p of BASE) db.set(p, "installed");
  if (!node.distro) for (const [p] of lib.packageVersions(node)) db.set(p, "installed");
  if (node.distro === "debian") {
    for (const p of ["linux-image-amd64", `linux-image-${releaseOf(node).kernel}`, "grub-pc", "os-prober"]) db.set(p, "installed");
  }
  const seed = (state.dpkg && state.dpkg[node.name]) || {};
  for (const p of seed.installed || []) db.set(p, "installed");
  for (const p of seed.removed || []) db.delete(p);
  for (const e of sim.toolCalls(node.name, ["apt-get", "apt"])) {
    const { verb, words } = aptCall(e.argv || []);
    for (const w of words) {
      // apt-get's per-package action suffixes: "foo-" removes in install, "foo+" installs in remove
      let name = w;
      let action = verb;
      if (/[+-]$/.test(w) && (verb === "install" || verb === "remove" || verb === "purge")) {
        action = w.endsWith("-") ? "remove" : "install";
        name = w.slice(0, -1);
      }
      name = name.replace(/[:=].*$/, "");
      const names = /[*?]/.test(name) ? [...db.keys()].filter((n) => globToRegExp(name).test(n)) : [name];
      for (const n of names) {
        if (action === "install" || action === "reinstall") db.set(n, "installed");
        else if (action === "remove") {
          if (db.has(n)) db.set(n, "config-files");
        } else if (action === "purge") db.delete(n);
      }
    }
  }
  return db;
}

function installed(sim, name) {
  return database(sim).get(name) === "installed";
}

function readText(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** The Proxmox VE repository as the node's sources name it: { uri, keyring (path or null), line } or null. */
function proxmoxRepository(node) {
  const { codename } = releaseOf(node);
  const dir = "/etc/apt/sources.list.d";
  let names = [];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return null;
  }
  for (const f of names) {
    const text = readText(path.join(dir, f)) || "";
    if (f.endsWith(".list")) {
      for (const raw of text.split("\n")) {
        const m = /^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(raw);
        if (!m || !/download\.proxmox\.com\/debian\/pve\/?$/.test(m[2]) || m[3] !== codename || !/\bpve-no-subscription\b/.test(m[4])) continue;
        const signed = /signed-by=(\S+)/.exec(m[1] || "");
        return { uri: m[2], keyring: signed ? signed[1] : null };
      }
    } else if (f.endsWith(".sources")) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k) => {
          const m = new RegExp(`^${k}:\\s*(.*)$`, "mi").exec(stanza);
          return m ? m[1].trim() : "";
        };
        if (/^(no|false)$/i.test(field("Enabled"))) continue;
        if (!/download\.proxmox\.com\/debian\/pve\/?$/.test(field("URIs")) || !field("Suites").split(/\s+/).includes(codename)) continue;
        if (!field("Components").split(/\s+/).includes("pve-no-subscription")) continue;
        return { uri: field("URIs"), keyring: field("Signed-By") || null };
      }
    }
  }
  return null;
}

/** Whether apt can verify the repository: its Signed-By file, else a key in trusted.gpg.d. */
function repositoryKeyPresent(repo) {
  if (repo.keyring) return fs.existsSync(repo.keyring);
  try {
    return fs.readdirSync("/etc/apt/trusted.gpg.d").some((f) => /^proxmox-/.test(f));
  } catch {
    return false;
  }
}

/** The PVE tool shims a Proxmox node has and this host lacks, copied into its PATH. */
function installPveTools() {
  const clusterSbin = path.join(__dirname, "..", "..", "sbin");
  const mine = "/usr/local/sbin";
  for (const f of fs.readdirSync(clusterSbin)) {
    if (!fs.existsSync(path.join(mine, f))) fs.copyFileSync(path.join(clusterSbin, f), path.join(mine, f));
    fs.chmodSync(path.join(mine, f), 0o755);
  }
  fs.mkdirSync("/etc/pve", { recursive: true });
}

function aptHeader() {
  lib.out("Reading package lists...\nBuilding dependency tree...\nReading state information...\n");
}

/**
 * apt-get/apt on a Debian host (the Proxmox node's apt-get stays a logger). Returns the exit code;
 * a refused call is not logged, so the package database does not count it.
 */
function aptGet(sim, tool, argv) {
  const { node } = sim.self();
  const { verb, words } = aptCall(argv);
  const debianHost = node.distro === "debian";
  const repo = debianHost ? proxmoxRepository(node) : null;
  const { codename } = releaseOf(node);
  const st = (sim.read().debian || {})[node.name] || {};
  if (debianHost && verb === "update") {
    for (const [i, suite] of [codename, `${codename}-updates`].entries()) lib.out(`Hit:${i + 1} http://deb.debian.org/debian ${suite} InRelease\n`);
    if (repo) {
      if (!repositoryKeyPresent(repo)) {
        lib.out(`Get:3 ${repo.uri} ${codename} InRelease [2,771 B]\n`);
        lib.err(
          `W: GPG error: ${repo.uri} ${codename} InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 24B30F06ECC1836A\n` +
            `E: The repository '${repo.uri} ${codename} InRelease' is not signed.\n` +
            "N: Updating from such a repository can't be done securely, and is therefore disabled by default.\n",
        );
        return 100;
      }
      lib.out(`Get:3 ${repo.uri} ${codename} InRelease [2,771 B]\nGet:4 ${repo.uri} ${codename}/pve-no-subscription amd64 Packages [412 kB]\n`);
    }
    lib.out("Reading package lists...\n");
    sim.mutate((state) => {
      state.debian ??= {};
      state.debian[node.name] = { ...(state.debian[node.name] || {}), proxmoxLists: !!repo };
    });
    sim.logTool(tool, argv);
    return 0;
  }
  if (debianHost && (verb === "install" || verb === "reinstall")) {
    aptHeader();
    const proxmoxListed = !!repo && st.proxmoxLists;
    const missing = words.filter((w) => PROXMOX_ONLY.test(w.replace(/[:=+].*$/, "")) && !proxmoxListed);
    if (missing.length > 0) {
      lib.err(`E: Unable to locate package ${missing[0]}\n`);
      return 100;
    }
    sim.logTool(tool, argv);
    const names = words.map((w) => w.replace(/[:=+].*$/, ""));
    if (names.includes("proxmox-ve")) {
      installPveTools();
      const pveVersion = releaseOf(node).pveVersion;
      sim.mutate((state) => {
        const n = state.nodes[node.name];
        n.pveVersion = pveVersion;
        n.repoid = lib.repoidFor(pveVersion);
      });
    }
    lib.out(`The following NEW packages will be installed:\n  ${names.join(" ")}\n0 upgraded, ${names.length} newly installed, 0 to remove and 0 not upgraded.\n`);
    for (const n of names) lib.out(`Setting up ${n} ...\n`);
    return 0;
  }
  if (debianHost && (verb === "remove" || verb === "purge")) {
    aptHeader();
    const db = database(sim);
    const hits = words.flatMap((w) => (/[*?]/.test(w) ? [...db.keys()].filter((n) => db.get(n) === "installed" && globToRegExp(w).test(n)) : [w]));
    const unknown = words.filter((w) => !/[*?]/.test(w) && !db.has(w));
    if (unknown.length > 0) {
      lib.err(`E: Unable to locate package ${unknown[0]}\n`);
      return 100;
    }
    sim.logTool(tool, argv);
    lib.out(`The following packages will be REMOVED:\n  ${hits.join(" ")}\n0 upgraded, 0 newly installed, ${hits.length} to remove and 0 not upgraded.\n`);
    return 0;
  }
  sim.logTool(tool, argv);
  return 0;
}

/** At boot a Debian host turned Proxmox runs the Proxmox kernel once proxmox-default-kernel is installed. */
function boot(sim) {
  const { node } = sim.self();
  if (node.distro !== "debian") return;
  const kernel = installed(sim, "proxmox-default-kernel") ? lib.kernelFor(releaseOf(node).pveVersion) : releaseOf(node).kernel;
  sim.mutate((state) => {
    state.nodes[node.name].kernel = kernel;
  });
}

/** `systemctl reboot` / `reboot`: the test process's SimCluster sees the request and power-cycles the node. */
function requestReboot(sim) {
  const dir = path.join(sim.stateDir, "reboot-requests");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, sim.nodeName), String(Date.now()));
}

module.exports = { RELEASES, database, installed, aptGet, boot, requestReboot, keyringFor, fakeKeyring, globToRegExp, sha256: (t) => crypto.createHash("sha256").update(t).digest("hex") };
