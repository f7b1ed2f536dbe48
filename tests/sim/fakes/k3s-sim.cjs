"use strict";
// @tools k3s-sim
// What the simulated k3s binary (a script installed at /usr/local/bin/k3s by the fake curl +
// install.sh, see k3s-lib.cjs) runs: `k3s --version`, and `k3s kubectl …` / `kubectl …` (the
// installer's symlink) against the simulated cluster of this host. The binary passes its
// version, architecture and argv[0] in K3S_SIM_VERSION, K3S_SIM_ARCH and K3S_SIM_ARGV0.
const crypto = require("node:crypto");
const lib = require("./lib.cjs");
const k3sLib = require("./k3s-lib.cjs");

const REFUSED = "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?";

function nodeJson(state, name, m) {
  const ready = k3sLib.memberUp(state, m);
  const labels = {
    "beta.kubernetes.io/arch": m.arch,
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": m.arch,
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    ...(m.role === "server" ? { "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true" } : {}),
    ...(m.etcd ? { "node-role.kubernetes.io/etcd": "true" } : {}),
    ...m.labels,
  };
  const taints = m.taints.map((t) => {
    const [kv, effect] = t.split(":");
    const [key, value] = kv.split("=");
    return { effect, key, ...(value ? { value } : {}) };
  });
  if (m.unschedulable) taints.push({ effect: "NoSchedule", key: "node.kubernetes.io/unschedulable", timeAdded: new Date().toISOString() });
  if (!ready) taints.push({ effect: "NoSchedule", key: "node.kubernetes.io/unreachable", timeAdded: new Date().toISOString() });
  const created = new Date(m.created * 1000).toISOString();
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      annotations: { "k3s.io/node-args": JSON.stringify([m.role]), "node.alpha.kubernetes.io/ttl": "0" },
      creationTimestamp: created,
      labels,
      name,
      resourceVersion: String(m.created % 100000),
      uid: crypto.createHash("md5").update(name + created).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5"),
    },
    spec: { podCIDR: "10.42.0.0/24", podCIDRs: ["10.42.0.0/24"], providerID: `k3s://${name}`, ...(m.unschedulable ? { unschedulable: true } : {}), ...(taints.length ? { taints } : {}) },
    status: {
      addresses: [
        { address: m.address, type: "InternalIP" },
        { address: name, type: "Hostname" },
      ],
      conditions: [
        {
          lastHeartbeatTime: new Date().toISOString(),
          lastTransitionTime: created,
          message: ready ? "kubelet is posting ready status" : "Kubelet stopped posting node status.",
          reason: ready ? "KubeletReady" : "NodeStatusUnknown",
          status: ready ? "True" : "Unknown",
          type: "Ready",
        },
      ],
      nodeInfo: { architecture: m.arch, containerRuntimeVersion: "containerd://2.0.4-k3s2", kubeProxyVersion: m.version, kubeletVersion: m.version, operatingSystem: "linux" },
    },
  };
}

function age(created) {
  const s = Math.max(0, Math.floor(Date.now() / 1000) - created);
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

function kubectl(sim, args) {
  const state = sim.read();
  const k3s = state.k3s || { services: {}, clusters: {} };
  const svc = k3s.services[sim.nodeName];
  const found = k3sLib.membership(k3s, sim.nodeName);
  if (!svc || svc.role !== "server" || svc.active !== "active" || !found) lib.die(REFUSED, 1);
  const [id, cluster] = found;
  if (cluster.etcd) {
    const members = Object.values(cluster.nodes).filter((m) => m.etcd);
    const up = members.filter((m) => k3sLib.memberUp(state, m)).length;
    if (up < Math.floor(members.length / 2) + 1) lib.die("Error from server: etcdserver: request timed out", 1);
  }
  const words = args.filter((a) => !a.startsWith("-"));
  const [verb, kind, name] = words;
  const isNodes = (k) => k === "nodes" || k === "node" || k === "no";
  if (verb === "get" && isNodes(kind)) {
    const names = Object.keys(cluster.nodes).sort();
    const json = args.includes("json") || args.includes("-ojson") || args.includes("--output=json");
    if (json) {
      lib.out(JSON.stringify({ apiVersion: "v1", items: names.map((n) => nodeJson(state, n, cluster.nodes[n])), kind: "List", metadata: { resourceVersion: "" } }, null, 4) + "\n");
      return 0;
    }
    const rows = names.map((n) => {
      const m = cluster.nodes[n];
      const roles = m.role === "server" ? (m.etcd ? "control-plane,etcd,master" : "control-plane,master") : "<none>";
      const status = (k3sLib.memberUp(state, m) ? "Ready" : "NotReady") + (m.unschedulable ? ",SchedulingDisabled" : "");
      return [n, status, roles, age(m.created), m.version];
    });
    const all = [["NAME", "STATUS", "ROLES", "AGE", "VERSION"], ...rows];
    const widths = all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
    lib.out(all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join("")).join("\n") + "\n");
    return 0;
  }
  if (verb === "label" || verb === "taint") {
    if (!isNodes(kind) || !name) lib.die(`error: resource(s) were provided, but no name was specified`, 1);
    if (!cluster.nodes[name]) lib.die(`Error from server (NotFound): nodes "${name}" not found`, 1);
    const overwrite = args.includes("--overwrite");
    const changes = words.slice(3);
    if (changes.length === 0) lib.die(`error: at least one ${verb === "label" ? "label" : "taint"} update is required`, 1);
    sim.mutate((s) => {
      const m = s.k3s.clusters[id].nodes[name];
      for (const c of changes) {
        if (verb === "label") {
          if (c.endsWith("-")) delete m.labels[c.slice(0, -1)];
          else {
            const [k, v] = [c.slice(0, c.indexOf("=")), c.slice(c.indexOf("=") + 1)];
            if (k in m.labels && m.labels[k] !== v && !overwrite) lib.die(`error: '${k}' already has a value (${m.labels[k]}), and --overwrite is false`, 1);
            m.labels[k] = v;
          }
        } else {
          const keyEffect = (t) => t.replace(/=[^:]*/, "");
          if (c.endsWith("-")) {
            const before = m.taints.length;
            m.taints = m.taints.filter((t) => keyEffect(t) !== c.slice(0, -1) && t.split(/[=:]/)[0] !== c.slice(0, -1));
            if (m.taints.length === before) lib.die(`error: taint "${c.slice(0, -1)}" not found`, 1);
          } else {
            if (m.taints.some((t) => keyEffect(t) === keyEffect(c)) && !overwrite) {
              lib.die(`error: node ${name} already has ${c.split(/[=:]/)[0]} taint(s) with same effect(s) and --overwrite is false`, 1);
            }
            m.taints = [...m.taints.filter((t) => keyEffect(t) !== keyEffect(c)), c];
          }
        }
      }
    });
    lib.line(`node/${name} ${verb === "label" ? "labeled" : changes.every((c) => c.endsWith("-")) ? "untainted" : "tainted"}`);
    return 0;
  }
  const target = verb === "delete" ? (isNodes(kind) ? name : kind && kind.startsWith("node/") ? kind.slice(5) : undefined) : kind;
  if (["drain", "cordon", "uncordon", "delete"].includes(verb)) {
    if (!target) lib.die(`error: resource(s) were provided, but no name was specified`, 1);
    if (!cluster.nodes[target]) lib.die(`Error from server (NotFound): nodes "${target}" not found`, 1);
    sim.mutate((s) => {
      const c = s.k3s.clusters[id];
      if (verb === "delete") delete c.nodes[target];
      else c.nodes[target].unschedulable = verb !== "uncordon";
    });
    if (verb === "delete") lib.line(`node "${target}" deleted`);
    else if (verb === "drain") lib.out(`node/${target} cordoned\nnode/${target} drained\n`);
    else lib.line(`node/${target} ${verb === "cordon" ? "cordoned" : "uncordoned"}`);
    return 0;
  }
  lib.die(`error: unknown command "${verb}" for "kubectl"\nRun 'kubectl --help' for usage.`, 1);
}

lib.main(() => {
  const sim = lib.context();
  const version = process.env.K3S_SIM_VERSION;
  const arch = process.env.K3S_SIM_ARCH;
  const argv0 = process.env.K3S_SIM_ARGV0 || "k3s";
  if (!version) lib.die("k3s-sim: run it through an installed k3s binary", 127);
  const self = sim.self().node;
  if (arch !== self.arch) lib.die(`/usr/local/bin/k3s: cannot execute binary file: Exec format error`, 126);
  const argv = process.argv.slice(2);
  sim.logTool(argv0, argv);
  if (argv0 === "kubectl") return kubectl(sim, argv);
  if (argv[0] === "--version" || argv[0] === "-v" || argv[0] === "version") {
    lib.out(`k3s version ${version} (${k3sLib.sha256(version).slice(0, 8)})\ngo version go1.22.10\n`);
    return 0;
  }
  if (argv[0] === "kubectl") return kubectl(sim, argv.slice(1));
  lib.die(`k3s-sim: "${argv[0]}" is not simulated (the server and agent run through systemctl)`, 1);
});
