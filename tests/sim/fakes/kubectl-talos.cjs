"use strict";
// @tools
// Simulated `kubectl get nodes -o json --kubeconfig <file>` for a simulated Talos cluster
// (talos-lib.cjs). The kubeconfig's CA names the cluster; its API answers once etcd is
// bootstrapped on an installed control plane. Every installed node whose config carries that CA is
// a Kubernetes node named by its hostname: Ready while a CNI runs (sim.json `cni`), else NotReady
// with the kubelet's CNI text; a node seen once and now down or rebooting is Unknown.
// Real texts: kubectl's "The connection to the server ... was refused" and the kubelet's
// NetworkPluginNotReady condition.
const fs = require("node:fs");
const lib = require("./talos-lib.cjs");

const CNI_NOT_READY =
  "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized";

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exitCode = code;
}

function flag(argv, ...names) {
  for (let i = 0; i < argv.length; i++) {
    for (const n of names) {
      if (argv[i] === n) return argv[i + 1];
      if (argv[i].startsWith(`${n}=`)) return argv[i].slice(n.length + 1);
    }
  }
  return undefined;
}

function condition(node, cni) {
  const now = new Date().toISOString();
  if (node.stage !== "installed") {
    return { type: "Ready", status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", lastHeartbeatTime: now, lastTransitionTime: now };
  }
  return cni
    ? { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: now, lastTransitionTime: now }
    : { type: "Ready", status: "False", reason: "KubeletNotReady", message: CNI_NOT_READY, lastHeartbeatTime: now, lastTransitionTime: now };
}

function main(argv) {
  lib.logCall("kubectl", argv);
  const words = argv.filter((a, i) => !a.startsWith("-") && !["--kubeconfig", "-o", "--output"].includes(argv[i - 1]));
  if (words[0] !== "get" || !["nodes", "node", "no"].includes(words[1])) return fail(`the simulated kubectl knows only "get nodes" (got ${words.join(" ")})`);
  if ((flag(argv, "-o", "--output") ?? "") !== "json") return fail("the simulated kubectl prints nodes only with -o json");
  const file = flag(argv, "--kubeconfig") ?? process.env.KUBECONFIG;
  let cfg;
  try {
    cfg = lib.YAML.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    return fail(`error: error loading config file "${file}": ${e.message}`);
  }
  const cluster = cfg?.clusters?.[0]?.cluster ?? {};
  const server = new URL(cluster.server ?? "https://localhost:8080");
  const members = lib.allNodes().filter((n) => n.config && lib.configFacts(n.config).k8sCa === cluster["certificate-authority-data"]);
  const facts = members.map((n) => lib.configFacts(n.config));
  const bootstrapped = facts.some((f) => lib.clusters()[f.clusterId]?.bootstrapped);
  const apiUp = bootstrapped && members.some((n, i) => facts[i].role === "controlplane" && n.stage === "installed");
  if (!apiUp) return fail(`The connection to the server ${server.host} was refused - did you specify the right host or port?`);
  const cni = lib.simSettings().cni;
  const items = [];
  for (const node of members) {
    if (node.stage === "installed" && !node.registered) lib.putNode({ ...node, registered: true });
    if (node.stage !== "installed" && !node.registered) continue;
    const role = lib.configFacts(node.config).role;
    items.push({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: node.hostname,
        labels: { "kubernetes.io/hostname": node.hostname, "kubernetes.io/os": "linux", ...(role === "controlplane" ? { "node-role.kubernetes.io/control-plane": "" } : {}) },
      },
      spec: role === "controlplane" ? { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] } : {},
      status: {
        addresses: [{ type: "InternalIP", address: node.address }, { type: "Hostname", address: node.hostname }],
        conditions: [condition(node, cni)],
        nodeInfo: { kubeletVersion: `v${/kubelet:v(\S+)/.exec(node.config)?.[1] ?? "1.34.1"}`, osImage: "Talos (v1.11.5)" },
      },
    });
  }
  process.stdout.write(JSON.stringify({ apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } }, null, 4) + "\n");
}

main(process.argv.slice(2));
