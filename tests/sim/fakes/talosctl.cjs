"use strict";
// @tools
// Simulated `talosctl` (v1.9–v1.12 behaviour) against the simulated nodes of talos-lib.cjs (the
// state directory $TALOS_SIM_DIR and its format are documented there). Texts and exit codes follow
// /work/shared/reference/talos-k3s.md sections 1, 2 and 6: every failure is exit 1 with the error
// on stderr (no prefix); usage follows an error whose text has "arg(s)", "flag" or "command".
//
// Sub-commands: version [--client], gen secrets, gen config, config endpoint, machineconfig patch,
// apply-config [--insecure], bootstrap, kubeconfig, get machinestatus -o json, service etcd.
// The one text the reference could not quote, `--insecure` against a configured node, is
// RECONSTRUCTED as the TLS handshake failure a client without a certificate gets from apid.
const fs = require("node:fs");
const path = require("node:path");
const lib = require("./talos-lib.cjs");

const VALUE_FLAGS = new Set([
  "--talosconfig", "-e", "--endpoints", "-n", "--nodes", "-m", "--mode", "-o", "--output", "--output-file",
  "-t", "--output-types", "--with-secrets", "--config-patch", "--config-patch-control-plane", "--config-patch-worker",
  "-p", "--patch", "--kubernetes-version", "--talos-version", "--install-image", "--install-disk", "--context",
]);

class Exit extends Error {
  constructor(stderr, code = 1, stdout = "") {
    super(stderr);
    this.stderr = stderr;
    this.code = code;
    this.stdout = stdout;
  }
}

function fail(message) {
  const usage = /arg\(s\)|flag|command/.test(message) ? "\nUsage:\n  talosctl [command]\n\nUse \"talosctl [command] --help\" for more information about a command.\n" : "";
  throw new Exit(`${message}\n${usage}`);
}

/** argv -> { words (positional), flags: { name: [values] } }. `-f` is --file for apply-config, --force elsewhere. */
function parse(argv) {
  const words = [];
  const flags = {};
  const add = (k, v) => (flags[k] ??= []).push(v);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("-") || a === "-") {
      words.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    const isApply = words[0] === "apply-config" || words[0] === "apply";
    if (name === "-f" && isApply) {
      add("--file", eq > 0 ? a.slice(eq + 1) : argv[++i]);
    } else if (VALUE_FLAGS.has(name) || name === "--file") {
      if (eq < 0 && i + 1 >= argv.length) fail(`flag needs an argument: ${name}`);
      add(name, eq > 0 ? a.slice(eq + 1) : argv[++i]);
    } else {
      add(name === "-f" ? "--force" : name === "-i" ? "--insecure" : name, eq > 0 ? a.slice(eq + 1) : "true");
    }
  }
  return { words, flags };
}

const one = (flags, ...names) => names.map((n) => flags[n]).find(Boolean)?.slice(-1)[0];
const many = (flags, ...names) => names.flatMap((n) => flags[n] ?? []).flatMap((v) => v.split(","));
const bool = (flags, name) => flags[name] !== undefined && flags[name].slice(-1)[0] !== "false";

function readPatch(spec) {
  return spec.startsWith("@") ? fs.readFileSync(spec.slice(1), "utf8") : spec;
}

/** Strategic merge (simplified): maps merge, lists append, scalars replace. */
function merge(left, right) {
  if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
  if (left && right && typeof left === "object" && typeof right === "object" && !Array.isArray(left) && !Array.isArray(right)) {
    const out = { ...left };
    for (const [k, v] of Object.entries(right)) out[k] = k in left ? merge(left[k], v) : v;
    return out;
  }
  return right;
}

/** Applies patches to config documents: a document with `kind` is appended (or merged into the same kind+name), others merge into v1alpha1. */
function applyPatches(docs, patches) {
  const out = docs.map((d) => d);
  for (const patch of patches) {
    let parsed;
    try {
      parsed = lib.parseConfig(readPatch(patch));
    } catch (e) {
      fail(`failed to load patch ${JSON.stringify(patch)}: ${e.message}`);
    }
    for (const doc of parsed) {
      if (doc.kind) {
        const i = out.findIndex((d) => d.kind === doc.kind && d.name === doc.name);
        if (i >= 0) out[i] = merge(out[i], doc);
        else out.push(doc);
      } else {
        out[0] = merge(out[0], doc);
      }
    }
  }
  return out;
}

const render = (docs) => docs.map(lib.dump).join("---\n");

function writeOutput(file, content, force, mode = 0o644) {
  if (fs.existsSync(file) && !force) fail(`file ${JSON.stringify(file)} already exists, use --force to overwrite`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
}

function version(flags) {
  const tag = lib.simSettings().clientVersion;
  const client = `Client:\n\tTag:         ${tag}\n\tSHA:         6d2ad2bd\n\tBuilt:       \n\tGo version:  go1.24.9\n\tOS/Arch:     linux/amd64\n`;
  if (bool(flags, "--client")) return { stdout: client };
  const target = authTarget(flags, "error getting version: ");
  return { stdout: `${client}Server:\n\tNODE:        ${target.address}\n\tTag:         ${tag}\n\tSHA:         6d2ad2bd\n\tBuilt:       \n\tGo version:  go1.24.9\n\tOS/Arch:     linux/amd64\n\tEnabled:     RBAC\n` };
}

function genSecrets(flags) {
  const file = one(flags, "-o", "--output-file") ?? "secrets.yaml";
  const tv = one(flags, "--talos-version");
  if (tv !== undefined && !/^v?\d+\.\d+(\.\d+)?$/.test(tv)) fail(`invalid talos-version: error parsing version "${tv}"`);
  const token = () => `${lib.random(6).replace(/[^a-z0-9]/gi, "").toLowerCase().slice(0, 6).padEnd(6, "a")}.${lib.random(16).replace(/[^a-z0-9]/gi, "").toLowerCase().slice(0, 16).padEnd(16, "b")}`;
  const pair = (kind) => ({ crt: lib.fakePem(`${kind} CERTIFICATE`), key: lib.fakePem(`${kind} KEY`) });
  const bundle = {
    cluster: { id: lib.random(32), secret: lib.random(32) },
    secrets: { bootstraptoken: token(), secretboxencryptionsecret: lib.random(32) },
    trustdinfo: { token: token() },
    certs: { etcd: pair("etcd"), k8s: pair("k8s"), k8saggregator: pair("aggregator"), k8sserviceaccount: { key: lib.fakePem("sa KEY") }, os: pair("os") },
  };
  writeOutput(file, lib.dump(bundle), bool(flags, "--force"), 0o600);
  return {};
}

function baseConfig(type, name, endpoint, bundle, flags) {
  const k8s = one(flags, "--kubernetes-version") ?? "1.34.1";
  const image = one(flags, "--install-image") ?? `ghcr.io/siderolabs/installer:${lib.simSettings().clientVersion}`;
  const cp = type === "controlplane";
  const main = {
    version: "v1alpha1",
    debug: false,
    persist: true,
    machine: {
      type,
      token: bundle.trustdinfo.token,
      ca: { crt: bundle.certs.os.crt, key: cp ? bundle.certs.os.key : "" },
      certSANs: [],
      kubelet: { image: `ghcr.io/siderolabs/kubelet:v${k8s}`, defaultRuntimeSeccompProfileEnabled: true, disableManifestsDirectory: true },
      network: {},
      install: { disk: one(flags, "--install-disk") ?? "/dev/sda", image, wipe: false },
      features: { rbac: true, stableHostname: true, apidCheckExtKeyUsage: true, diskQuotaSupport: true, kubePrism: { enabled: true, port: 7445 } },
    },
    cluster: {
      id: bundle.cluster.id,
      secret: bundle.cluster.secret,
      controlPlane: { endpoint },
      clusterName: name,
      network: { dnsDomain: "cluster.local", podSubnets: ["10.244.0.0/16"], serviceSubnets: ["10.96.0.0/12"] },
      token: bundle.secrets.bootstraptoken,
      ca: { crt: bundle.certs.k8s.crt, key: cp ? bundle.certs.k8s.key : "" },
      discovery: { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } },
    },
  };
  if (cp) {
    Object.assign(main.cluster, {
      secretboxEncryptionSecret: bundle.secrets.secretboxencryptionsecret,
      aggregatorCA: bundle.certs.k8saggregator,
      serviceAccount: bundle.certs.k8sserviceaccount,
      apiServer: { image: `registry.k8s.io/kube-apiserver:v${k8s}`, certSANs: [new URL(endpoint).hostname] },
      controllerManager: { image: `registry.k8s.io/kube-controller-manager:v${k8s}` },
      proxy: { image: `registry.k8s.io/kube-proxy:v${k8s}` },
      scheduler: { image: `registry.k8s.io/kube-scheduler:v${k8s}` },
      etcd: { ca: bundle.certs.etcd },
    });
  }
  return [main];
}

function genConfig(words, flags) {
  if (words.length !== 2) fail(`accepts 2 arg(s), received ${words.length}`);
  const [name, rawEndpoint] = words;
  if (!/^https?:\/\//.test(rawEndpoint)) fail(`no scheme specified for the cluster endpoint URL\ntry: "https://${rawEndpoint}"`);
  if (!rawEndpoint.startsWith("https://")) fail(`the control plane endpoint URL should have scheme https://\ntry: "${rawEndpoint.replace(/^http:/, "https:")}"`);
  const url = new URL(rawEndpoint);
  const endpoint = url.port ? rawEndpoint : `https://${url.hostname}:6443`;
  const tv = one(flags, "--talos-version");
  if (tv !== undefined && !/^v?\d+\.\d+(\.\d+)?$/.test(tv)) fail(`invalid talos-version: error parsing version "${tv}"`);
  const secretsFile = one(flags, "--with-secrets");
  let bundle;
  if (secretsFile) {
    try {
      bundle = lib.YAML.parse(fs.readFileSync(secretsFile, "utf8"));
    } catch (e) {
      fail(`failed to load secrets bundle: ${e.message}`);
    }
    if (!bundle?.certs?.os?.crt || !bundle?.cluster?.id) fail("failed to validate secrets bundle: one or more required fields are missing");
  } else {
    const tmp = `${lib.dir()}/.gen-secrets-${process.pid}.yaml`;
    genSecrets({ "-o": [tmp], "--force": ["true"] });
    bundle = lib.YAML.parse(fs.readFileSync(tmp, "utf8"));
    fs.rmSync(tmp);
  }
  const types = many(flags, "-t", "--output-types");
  const outTypes = types.length > 0 ? types : ["controlplane", "worker", "talosconfig"];
  for (const t of outTypes) if (!["controlplane", "worker", "talosconfig"].includes(t)) fail(`invalid output type: ${JSON.stringify(t)}`);
  const out = one(flags, "-o", "--output") ?? ".";
  if (out === "-" && outTypes.length > 1) fail("can't use multiple output types with stdout");
  const all = many(flags, "--config-patch");
  const files = {
    controlplane: () => render(applyPatches(baseConfig("controlplane", name, endpoint, bundle, flags), [...all, ...(flags["--config-patch-control-plane"] ?? [])])),
    worker: () => render(applyPatches(baseConfig("worker", name, endpoint, bundle, flags), [...all, ...(flags["--config-patch-worker"] ?? [])])),
    talosconfig: () => lib.dump({ context: name, contexts: { [name]: { endpoints: [], ca: bundle.certs.os.crt, crt: lib.fakePem("admin CERTIFICATE"), key: lib.fakePem("admin KEY") } } }),
  };
  let stderr = "";
  for (const t of outTypes) {
    const file = outTypes.length === 1 && out !== "." && !out.endsWith("/") ? out : path.join(out, t === "talosconfig" ? "talosconfig" : `${t}.yaml`);
    writeOutput(file, files[t](), bool(flags, "--force"));
    stderr += `Created ${file}\n`;
  }
  return { stderr };
}

function loadTalosconfig(flags) {
  const file = one(flags, "--talosconfig") ?? process.env.TALOSCONFIG ?? path.join(process.env.HOME ?? "/root", ".talos/config");
  let cfg;
  try {
    cfg = lib.YAML.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    fail(`error reading config: ${e.message}`);
  }
  const ctxName = one(flags, "--context") ?? cfg?.context;
  if (!ctxName) fail("failed to resolve config context");
  const ctx = cfg.contexts?.[ctxName];
  if (!ctx) fail(`context ${JSON.stringify(ctxName)} is not defined`);
  return { file, cfg, ctxName, ctx };
}

function configEndpoint(words, flags) {
  if (words.length === 0) fail("requires at least 1 arg(s), only received 0");
  const { file, cfg, ctxName } = loadTalosconfig(flags);
  cfg.contexts[ctxName].endpoints = words;
  fs.writeFileSync(file, lib.dump(cfg), { mode: 0o600 });
  return {};
}

function machineconfigPatch(words, flags) {
  if (words.length !== 1) fail(`accepts 1 arg(s), received ${words.length}`);
  const docs = lib.parseConfig(fs.readFileSync(words[0], "utf8"));
  const patched = render(applyPatches(docs, flags["-p"] ?? flags["--patch"] ?? []));
  const out = one(flags, "-o", "--output");
  if (!out) return { stdout: `${patched}\n` };
  writeOutput(out, patched, true, 0o600);
  return {};
}

const refused = (address) => `rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp ${address}:50000: connect: connection refused"`;
const UNKNOWN_CA = `rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`;
const NO_CLIENT_CERT = `rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: remote error: tls: certificate required"`;

/** A node as one call finds it: refused while down or rebooting (each call of a reboot counts). */
function reachNode(address, prefix) {
  const node = lib.getNode(address);
  if (!node || node.stage === "down") fail(prefix + refused(address));
  if (node.stage === "configured") {
    node.bootCalls = (node.bootCalls ?? 1) - 1;
    if (node.bootCalls < 0) {
      node.stage = "installed";
      lib.putNode(node);
    } else {
      lib.putNode(node);
      fail(prefix + refused(address));
    }
  }
  return node;
}

/** The node an authenticated call reaches, after the client's checks (endpoints set, node trusts our CA). */
function authTarget(flags, prefix) {
  const { ctx } = loadTalosconfig(flags);
  const endpoints = many(flags, "-e", "--endpoints").length ? many(flags, "-e", "--endpoints") : ctx.endpoints ?? [];
  if (endpoints.length === 0) fail("error constructing client: failed to determine endpoints");
  const nodes = many(flags, "-n", "--nodes").length ? many(flags, "-n", "--nodes") : ctx.nodes ?? [];
  if (nodes.length === 0) fail("nodes are not set for the command: please use `--nodes` flag or configuration file to set the nodes to run the command against");
  for (const address of [...new Set([endpoints[0], nodes[0]])]) {
    const node = reachNode(address, prefix);
    if (node.stage === "maintenance" || lib.configFacts(node.config).osCa !== ctx.ca) fail(prefix + UNKNOWN_CA);
  }
  return { node: lib.getNode(nodes[0]), nodes, address: nodes[0] };
}

/** The node an --insecure call reaches: only a node in maintenance mode answers without a client certificate. */
function insecureTarget(flags, prefix) {
  const nodes = many(flags, "-n", "--nodes");
  if (nodes.length === 0) fail("nodes are not set for the command: please use `--nodes` flag or configuration file to set the nodes to run the command against");
  const node = reachNode(nodes[0], prefix);
  if (node.stage !== "maintenance") fail(prefix + NO_CLIENT_CERT);
  return node;
}

function withFault(command, address, effect) {
  const fault = lib.takeFault(command, address);
  if (fault && !fault.afterEffect) throw new Exit(`${fault.stderr}\n`, fault.code ?? 1);
  const result = effect();
  if (fault) throw new Exit(`${fault.stderr}\n`, fault.code ?? 1);
  return result;
}

function applyConfig(flags) {
  const prefix = "error applying new configuration: ";
  const file = one(flags, "--file");
  if (!file) fail("no filename supplied for configuration");
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    fail(`failed to read configuration from ${JSON.stringify(file)}: ${e.message}`);
  }
  if (text.trim() === "") fail("no configuration data read");
  const mode = one(flags, "-m", "--mode") ?? "auto";
  if (!["auto", "no-reboot", "reboot", "staged", "try"].includes(mode)) fail(`invalid argument ${JSON.stringify(mode)} for "-m, --mode" flag: possible options are: auto, no-reboot, reboot, staged, try`);
  if (bool(flags, "--insecure")) {
    const node = insecureTarget(flags, prefix);
    if (!["auto", "reboot", "try"].includes(mode)) fail(`${prefix}rpc error: code = Unimplemented desc = apply configuration --mode='${mode}' is not supported in maintenance mode`);
    return withFault("apply-config", node.address, () => {
      Object.assign(node, { config: text, stage: "configured", bootCalls: lib.simSettings().bootCalls, applies: (node.applies ?? 0) + 1, reboots: (node.reboots ?? 0) + 1 });
      lib.putNode(node);
      return {};
    });
  }
  const { node } = authTarget(flags, prefix);
  return withFault("apply-config", node.address, () => {
    const before = lib.configFacts(node.config).install;
    const after = lib.configFacts(text).install;
    const reboot = JSON.stringify(before) !== JSON.stringify(after);
    Object.assign(node, { config: text, applies: (node.applies ?? 0) + 1 });
    if (reboot) Object.assign(node, { stage: "configured", bootCalls: lib.simSettings().bootCalls, reboots: (node.reboots ?? 0) + 1 });
    lib.putNode(node);
    return { stderr: reboot ? "Applied configuration with a reboot: this config change can't be applied in immediate mode\n" : "Applied configuration without a reboot\n" };
  });
}

function bootstrap(flags) {
  const prefix = "error executing bootstrap: ";
  if (many(flags, "-n", "--nodes").length > 1) fail('command "bootstrap" is not supported with multiple nodes');
  const { node } = authTarget(flags, prefix);
  const facts = lib.configFacts(node.config);
  if (facts.role !== "controlplane") fail(`${prefix}rpc error: code = FailedPrecondition desc = bootstrap can only be performed on a control plane node`);
  return withFault("bootstrap", node.address, () => {
    const all = lib.clusters();
    if (all[facts.clusterId]?.bootstrapped) fail(`${prefix}rpc error: code = AlreadyExists desc = etcd data directory is not empty`);
    all[facts.clusterId] = { bootstrapped: true, bootstrapNode: node.address };
    lib.putClusters(all);
    return {};
  });
}

function kubeconfig(words, flags) {
  const { node } = authTarget(flags, "error copying: ");
  const facts = lib.configFacts(node.config);
  if (facts.role !== "controlplane") fail('error copying: rpc error: code = NotFound desc = stat /system/state/kubeconfig: no such file or directory');
  let file = words[0] ?? (bool(flags, "--merge") || flags["--merge"] === undefined ? path.join(process.env.HOME ?? "/root", ".kube/config") : "kubeconfig");
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "kubeconfig");
  const merge = flags["--merge"] === undefined || bool(flags, "--merge");
  if (merge) fail("the simulated talosctl only writes with --merge=false");
  if (fs.existsSync(file) && !bool(flags, "--force")) fail(`kubeconfig file already exists, use --force to overwrite: ${JSON.stringify(file)}`);
  return withFault("kubeconfig", node.address, () => {
    const name = facts.clusterName;
    const user = `admin@${name}`;
    const text = lib.dump({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name, cluster: { server: facts.endpoint, "certificate-authority-data": facts.k8sCa } }],
      users: [{ name: user, user: { "client-certificate-data": lib.fakePem("admin CERTIFICATE"), "client-key-data": lib.fakePem("admin KEY") } }],
      contexts: [{ context: { cluster: name, namespace: "default", user }, name: user }],
      "current-context": user,
    });
    writeOutput(file, text, true, 0o600);
    return {};
  });
}

function machineStatus(node, address) {
  const now = new Date().toISOString();
  const stage = node.stage === "maintenance" ? "maintenance" : "running";
  return JSON.stringify(
    {
      node: address,
      metadata: { namespace: "runtime", type: "MachineStatuses.runtime.talos.dev", id: "machine", version: 3, owner: "runtime.MachineStatusController", phase: "running", created: now, updated: now },
      spec: { stage, status: { ready: stage === "running", unmetConditions: [] } },
    },
    null,
    4,
  ) + "\n";
}

function get(words, flags) {
  const type = (words[0] ?? "").toLowerCase();
  if (!["machinestatus", "machinestatuses", "machinestatuses.runtime.talos.dev"].includes(type)) fail(`the simulated talosctl has no resource type ${JSON.stringify(words[0])}`);
  if ((one(flags, "-o", "--output") ?? "table") !== "json") fail("the simulated talosctl prints machinestatus only with -o json");
  const node = bool(flags, "--insecure") ? insecureTarget(flags, "") : authTarget(flags, "").node;
  return { stdout: machineStatus(node, node.address) };
}

function service(words, flags) {
  const { node } = authTarget(flags, "");
  const facts = lib.configFacts(node.config);
  if (words[0] !== "etcd") fail(`the simulated talosctl knows only the etcd service`);
  if (facts.role !== "controlplane") fail(`service "etcd" is not registered on any nodes`);
  const running = Boolean(lib.clusters()[facts.clusterId]?.bootstrapped);
  const lines = running
    ? ["STATE    Running", "HEALTH   OK", "EVENTS   [Running]: Health check successful (12s ago)", "         [Running]: Started task etcd (PID 2740) for container etcd (14s ago)", "         [Preparing]: Running pre state (1m3s ago)"]
    : ["STATE    Preparing", "HEALTH   ?", "EVENTS   [Preparing]: Running pre state (1m3s ago)"];
  return { stdout: [`NODE     ${node.address}`, "ID       etcd", ...lines].join("\n") + "\n" };
}

function main(argv) {
  const { words, flags } = parse(argv);
  const [cmd, ...rest] = words;
  switch (cmd) {
    case "version":
      return version(flags);
    case "gen":
      if (rest[0] === "secrets") return genSecrets(flags);
      if (rest[0] === "config") return genConfig(rest.slice(1), flags);
      return fail(`unknown command ${JSON.stringify(rest[0])} for "talosctl gen"`);
    case "config":
      if (rest[0] === "endpoint" || rest[0] === "endpoints") return configEndpoint(rest.slice(1), flags);
      return fail(`the simulated talosctl has no command "config ${rest[0]}"`);
    case "machineconfig":
    case "mc":
      if (rest[0] === "patch") return machineconfigPatch(rest.slice(1), flags);
      return fail(`the simulated talosctl has no command "machineconfig ${rest[0]}"`);
    case "apply-config":
    case "apply":
      return applyConfig(flags);
    case "bootstrap":
      return bootstrap(flags);
    case "kubeconfig":
      return kubeconfig(rest, flags);
    case "get":
      return get(rest, flags);
    case "service":
    case "services":
      return service(rest, flags);
    default:
      return fail(`unknown command ${JSON.stringify(cmd)} for "talosctl"`);
  }
}

const argv = process.argv.slice(2);
lib.logCall("talosctl", argv);
try {
  const out = main(argv) ?? {};
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  process.exitCode = 0;
} catch (e) {
  if (!(e instanceof Exit)) throw e;
  if (e.stdout) process.stdout.write(e.stdout);
  process.stderr.write(e.stderr);
  process.exitCode = e.code;
}
