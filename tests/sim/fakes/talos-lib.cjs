"use strict";
// @tools
// State of the simulated Talos nodes, shared by the fake `talosctl` (talosctl.cjs) and the fake
// `kubectl` that answers for a Talos cluster (kubectl-talos.cjs). They run on the machine that
// runs Pulumi (not inside the SSH simulation), so the header above gives them no shim there;
// tests/sim/talos.ts writes their shims.
//
// STATE DIRECTORY  $TALOS_SIM_DIR
//   nodes/<address>.json   one file per node (the address its Talos API answers on, port 50000):
//     { address, hostname,            // hostname = the Kubernetes node name (from DHCP/nocloud)
//       stage: "down"                 // powered off / not booted: every call is refused
//            | "maintenance"          // booted from the ISO/image, no config: only --insecure calls answer
//            | "configured"           // config received, installing and rebooting: refused for
//                                     //   `bootCalls` more calls, then "installed"
//            | "installed",           // running from disk with its config (mTLS with the config's CA)
//       bootCalls: n,                 // calls still refused while "configured" (default sim.bootCalls)
//       config: null | "<machine config YAML>",   // what apply-config stored
//       applies: n, reboots: n,       // counters for tests
//       registered: bool }            // seen by the Kubernetes API once (kubectl-talos.cjs)
//     A rescue-mode install that has written the image puts its node here with stage "maintenance".
//   clusters.json  { <cluster.id from the config>: { bootstrapped: bool, bootstrapNode: address } }
//   sim.json       { clientVersion: "v1.11.5", bootCalls: 1, cni: false }
//   faults.json    [ { command: "bootstrap", node?: address, stderr, code, afterEffect: bool } ]
//                  the next matching call fails once with that stderr/exit code (afterEffect: the
//                  call's effect happens first, then it fails, like a reply lost on the way back)
//   log.jsonl      one line per call: { tool, args, at }
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const YAML = require("yaml");

function dir() {
  const d = process.env.TALOS_SIM_DIR;
  if (!d) {
    process.stderr.write("TALOS_SIM_DIR is not set (the simulated talosctl keeps its nodes there)\n");
    process.exit(2);
  }
  return d;
}

function readJson(file, fallback) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir(), file), "utf8"));
  } catch {
    return fallback;
  }
}

function writeJson(file, value) {
  const target = path.join(dir(), file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(`${target}.tmp`, JSON.stringify(value, null, 2));
  fs.renameSync(`${target}.tmp`, target);
}

const simSettings = () => ({ clientVersion: "v1.11.5", bootCalls: 1, cni: false, ...readJson("sim.json", {}) });
const getNode = (address) => readJson(`nodes/${address}.json`, null);
const putNode = (node) => writeJson(`nodes/${node.address}.json`, node);
const allNodes = () => {
  const d = path.join(dir(), "nodes");
  if (!fs.existsSync(d)) return [];
  return fs.readdirSync(d).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(fs.readFileSync(path.join(d, f), "utf8")));
};
const clusters = () => readJson("clusters.json", {});
const putClusters = (c) => writeJson("clusters.json", c);

function logCall(tool, args) {
  fs.appendFileSync(path.join(dir(), "log.jsonl"), JSON.stringify({ tool, args, at: new Date().toISOString() }) + "\n");
}

/** The first fault for this command (and node), removed as it is taken. */
function takeFault(command, address) {
  const faults = readJson("faults.json", []);
  const i = faults.findIndex((f) => f.command === command && (!f.node || f.node === address));
  if (i < 0) return null;
  const [fault] = faults.splice(i, 1);
  writeJson("faults.json", faults);
  return fault;
}

/** The machine config documents: the v1alpha1 one first, then any others. */
function parseConfig(text) {
  return YAML.parseAllDocuments(text).map((d) => d.toJSON()).filter((d) => d && typeof d === "object");
}

function configFacts(text) {
  const main = parseConfig(text || "")[0] || {};
  const m = main.machine || {};
  const c = main.cluster || {};
  return {
    role: m.type,
    osCa: (m.ca || {}).crt,
    clusterId: c.id,
    clusterName: c.clusterName,
    endpoint: (c.controlPlane || {}).endpoint,
    k8sCa: (c.ca || {}).crt,
    install: m.install || {},
  };
}

function random(bytes) {
  return crypto.randomBytes(bytes).toString("base64");
}

/** A base64 "certificate" or "key" for the simulation: unique, shaped like the real values. */
function fakePem(kind) {
  return Buffer.from(`SIMULATED ${kind} ${crypto.randomBytes(24).toString("hex")}\n`).toString("base64");
}

function dump(value) {
  return YAML.stringify(value, { indent: 4, lineWidth: 0 });
}

module.exports = { dir, readJson, writeJson, simSettings, getNode, putNode, allNodes, clusters, putClusters, logCall, takeFault, parseConfig, configFacts, random, fakePem, dump, YAML };
