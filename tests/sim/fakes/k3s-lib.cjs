"use strict";
// @tools
// Simulated K3s: the release artifacts the fake curl serves (install.sh, the k3s binary per
// architecture, sha256sum-<arch>.txt), and the cluster state behind the fake `systemctl
// start|restart|stop k3s|k3s-agent` (system.cjs) and the fake binary's `k3s --version` and
// `k3s kubectl …` (k3s-sim.cjs). Texts follow /work/shared/reference/talos-k3s.md section 4.
//
// The downloaded "binary" is a shell script that runs the k3s-sim tool with its version and
// architecture in the environment, so what is installed on a host is what its file says.
// install.sh is a shell script doing what the real one does with INSTALL_K3S_SKIP_DOWNLOAD=true:
// symlinks, killall/uninstall scripts, env and unit files, enable, and (unless
// INSTALL_K3S_SKIP_START=true) a restart only when something changed.
//
// STATE  state.k3s = {
//   services: { <sim node>: { unit, role, active: "active"|"activating"|"inactive"|"failed", enabled, error? } },
//   clusters: { <id>: { token, etcd: bool, nodes: { <node name>: { host, role, etcd, address, version, arch,
//                       labels: {}, taints: [], unschedulable, created } } } },
// }
// A member is Ready while its host is online and its unit active. A unit that cannot join stays
// "activating" with the error the real k3s logs (state.k3s.services[n].error).
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const lib = require("./lib.cjs");

const RELEASES = "https://github.com/k3s-io/k3s/releases/download/";
const BIN = "/usr/local/bin/k3s";
const CONFIG = "/etc/rancher/k3s/config.yaml";
const KUBECONFIG = "/etc/rancher/k3s/k3s.yaml";
const MACHINE = { amd64: "x86_64", arm64: "aarch64" };

function sha256(text) {
  return crypto.createHash("sha256").update(text).digest("hex");
}

function fakeBinary(version, arch) {
  return (
    "#!/bin/sh\n" +
    `# k3s ${version} linux/${arch} (simulated release binary)\n` +
    `K3S_SIM_VERSION='${version}' K3S_SIM_ARCH='${arch}' K3S_SIM_ARGV0="\${0##*/}" exec /usr/local/sbin/k3s-sim "$@"\n`
  );
}

// install.sh as the fake curl serves it (a file next to this one, so it reads as shell).
const INSTALL_SH = fs.readFileSync(path.join(__dirname, "k3s-install.sh"), "utf8");

/** The content the fake curl serves for `url`, or null (404). */
function artifact(url) {
  let m = /^https:\/\/raw\.githubusercontent\.com\/k3s-io\/k3s\/(v[^/]+)\/install\.sh$/.exec(url);
  if (m) return INSTALL_SH;
  if (!url.startsWith(RELEASES)) return null;
  const [version, file, ...rest] = url.slice(RELEASES.length).split("/");
  if (rest.length > 0 || !/^v\d+\.\d+\.\d+\+k3s\d+$/.test(version)) return null;
  if (file === "k3s") return fakeBinary(version, "amd64");
  if (file === "k3s-arm64") return fakeBinary(version, "arm64");
  m = /^sha256sum-(amd64|arm64)\.txt$/.exec(file);
  if (m) return `${sha256(fakeBinary(version, m[1]))}  k3s${m[1] === "amd64" ? "" : "-arm64"}\n`;
  return null;
}

/** The sha256 pins of the fake artifacts of one version (the component's `artifacts` override). */
function fakeArtifacts(version) {
  return {
    installScriptSha256: sha256(INSTALL_SH),
    amd64: { binarySha256: sha256(fakeBinary(version, "amd64")) },
    arm64: { binarySha256: sha256(fakeBinary(version, "arm64")) },
  };
}

function k3sState(state) {
  state.k3s ??= { services: {}, clusters: {} };
  return state.k3s;
}

function readFile(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** Where `host` is a member: [cluster id, cluster, member name] or null. */
function membership(k3s, host) {
  for (const [id, c] of Object.entries(k3s.clusters)) {
    for (const [name, m] of Object.entries(c.nodes)) if (m.host === host) return [id, c, name];
  }
  return null;
}

function memberUp(state, m) {
  const svc = state.k3s.services[m.host];
  const host = state.nodes[m.host];
  return !!host && host.online && !!svc && svc.active === "active";
}

function kubeconfigText(clusterId) {
  const b64 = (s) => Buffer.from(`-----BEGIN ${s}-----\n${sha256(clusterId + s)}\n-----END ${s}-----\n`).toString("base64");
  return [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${b64("CERTIFICATE")}`,
    "    server: https://127.0.0.1:6443",
    "  name: default",
    "contexts:",
    "- context:",
    "    cluster: default",
    "    user: default",
    "  name: default",
    "current-context: default",
    "kind: Config",
    "preferences: {}",
    "users:",
    "- name: default",
    "  user:",
    `    client-certificate-data: ${b64("CERTIFICATE")}`,
    `    client-key-data: ${b64("EC PRIVATE KEY")}`,
    "",
  ].join("\n");
}

/**
 * `systemctl start|restart <unit>`: the unit runs the installed binary with the config file.
 * Runs inside the node's namespace, so the files read are the node's own.
 */
function startUnit(sim, unit) {
  const host = sim.nodeName;
  const unitFile = readFile(`/etc/systemd/system/${unit}.service`);
  if (unitFile === null) lib.die(`Failed to restart ${unit}.service: Unit ${unit}.service not found.`, 5);
  const role = /\bagent\b/.test(unitFile.split("ExecStart=")[1] || "") ? "agent" : "server";
  const binary = readFile(BIN) || "";
  const version = (/K3S_SIM_VERSION='([^']+)'/.exec(binary) || [])[1];
  const arch = (/K3S_SIM_ARCH='([^']+)'/.exec(binary) || [])[1];
  let config = {};
  const configText = readFile(CONFIG);
  if (configText !== null) {
    try {
      config = JSON.parse(configText);
    } catch {
      lib.die(`pve-sim: ${CONFIG} is not JSON (the simulated k3s reads only the JSON form of YAML)`, 70);
    }
  }
  let kubeconfig = null;
  sim.mutate((state) => {
    const k3s = k3sState(state);
    const self = state.nodes[host];
    const svc = (k3s.services[host] = { ...(k3s.services[host] || { enabled: false }), unit, role, active: "active" });
    delete svc.error;
    const fail = (active, error) => {
      svc.active = active;
      svc.error = error;
    };
    if (!version) return fail("failed", `${BIN}: not found`);
    if (arch !== self.arch) return fail("failed", `${BIN}: cannot execute binary file: Exec format error`);
    const name = config["node-name"] || host;
    const address = config["node-ip"] || self.ip;
    const labels = {};
    for (const l of [].concat(config["node-label"] || [])) {
      const i = l.indexOf("=");
      labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? "" : l.slice(i + 1);
    }
    const taints = [].concat(config["node-taint"] || []);
    let found = membership(k3s, host);
    if (!found) {
      if (role === "server" && !config.server) {
        const id = `c-${host}`;
        k3s.clusters[id] = { token: config.token || sha256(id), etcd: !!config["cluster-init"], nodes: {} };
        found = [id, k3s.clusters[id], name];
      } else {
        const url = config.server || "";
        const target = /^https:\/\/([^/:]+|\[[^\]]+\]):(\d+)/.exec(url);
        if (!target) return fail("failed", `level=fatal msg="--server is required" (have ${JSON.stringify(url)})`);
        const addr = target[1];
        let hit = null;
        for (const [id, c] of Object.entries(k3s.clusters)) {
          for (const m of Object.values(c.nodes)) if (m.role === "server" && m.address === addr && memberUp(state, m)) hit = [id, c];
        }
        const where = role === "agent" ? "https://127.0.0.1:6444" : `https://${addr}:6443`;
        if (!hit) {
          return fail(
            "activating",
            role === "agent"
              ? `level=info msg="Waiting to retrieve agent configuration; server is not ready: CA cert validation failed: Get \\"${where}/cacerts\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"`
              : `level=fatal msg="starting kubernetes: preparing server: failed to get CA certs: Get \\"${where}/cacerts\\": dial tcp ${addr}:6443: connect: connection refused"`,
          );
        }
        const [id, c] = hit;
        if (config.token !== c.token) return fail("activating", `level=error msg="token is not valid: ${where}/apis: 401 Unauthorized"`);
        if (c.nodes[name] && c.nodes[name].host !== host) {
          return fail(
            "activating",
            `level=info msg="Waiting to retrieve agent configuration; server is not ready: Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try enabling a unique node name with the --with-node-id flag"`,
          );
        }
        if (role === "server" && !c.etcd) {
          return fail("failed", `level=fatal msg="starting kubernetes: preparing server: ${where} is not an etcd cluster member; use --cluster-init on the first server"`);
        }
        found = [id, c, name];
      }
    }
    const [id, c, memberName] = found;
    const prev = c.nodes[memberName] || {};
    c.nodes[memberName] = {
      host,
      role,
      etcd: role === "server" && c.etcd,
      address,
      version,
      arch,
      // --node-label/--node-taint count only when the node registers (later: kubectl label/taint)
      labels: c.nodes[memberName] ? prev.labels : labels,
      taints: c.nodes[memberName] ? prev.taints : taints,
      unschedulable: !!prev.unschedulable,
      created: prev.created || Math.floor(Date.now() / 1000),
    };
    if (role === "server") kubeconfig = kubeconfigText(id);
  });
  if (kubeconfig !== null && readFile(KUBECONFIG) === null) {
    fs.mkdirSync("/etc/rancher/k3s", { recursive: true });
    fs.writeFileSync(KUBECONFIG, kubeconfig, { mode: 0o600 });
  }
}

/** systemctl for the k3s units; returns the exit code. */
function systemctl(sim, verb, unit, argv) {
  const quiet = argv.includes("-q") || argv.includes("--quiet");
  if (verb === "start" || verb === "restart") {
    startUnit(sim, unit);
    return 0;
  }
  if (verb === "try-restart" || verb === "reload-or-restart") return 0;
  const state = sim.read();
  const svc = state.k3s && state.k3s.services[sim.nodeName];
  const mine = svc && svc.unit === unit ? svc : null;
  if (verb === "is-active") {
    const active = mine ? mine.active : "inactive";
    if (!quiet) lib.line(active);
    return active === "active" ? 0 : 3;
  }
  if (verb === "is-enabled") {
    const enabled = mine && mine.enabled;
    if (!quiet) lib.line(enabled ? "enabled" : "disabled");
    return enabled ? 0 : 1;
  }
  if (verb === "stop" || verb === "disable" || verb === "enable") {
    const now = argv.includes("--now");
    if (verb === "enable" && fs.existsSync(`/etc/systemd/system/${unit}.service`) && !(mine && mine.enabled)) {
      lib.err(`Created symlink /etc/systemd/system/multi-user.target.wants/${unit}.service → /etc/systemd/system/${unit}.service.\n`);
    }
    if (verb === "enable" && now) startUnit(sim, unit);
    sim.mutate((s) => {
      const k3s = k3sState(s);
      const cur = k3s.services[sim.nodeName] || { unit, role: unit === "k3s" ? "server" : "agent", active: "inactive", enabled: false };
      if (cur.unit !== unit) return;
      if (verb === "enable") cur.enabled = true;
      if (verb === "disable") cur.enabled = false;
      if (verb === "stop" || (verb === "disable" && now)) cur.active = "inactive";
      k3s.services[sim.nodeName] = cur;
    });
    return 0;
  }
  return 0; // daemon-reload, reset-failed, …
}

module.exports = { artifact, fakeArtifacts, fakeBinary, sha256, k3sState, membership, memberUp, systemctl, MACHINE };
