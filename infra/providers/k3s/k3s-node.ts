/**
 * What the K3s provider does on one host: read its K3s facts, and bring it to
 * the wanted version and configuration with the fewest mutating commands.
 *
 * Artifacts are fetched on the host itself (curl from the pinned upstream
 * URLs) and checked with sha256sum there before anything uses them: the
 * installer runs with INSTALL_K3S_SKIP_DOWNLOAD=true so it never fetches an
 * unverified binary, and with INSTALL_K3S_SKIP_START=true because its own
 * `systemctl restart` blocks forever when a node cannot join; the provider
 * starts the unit with --no-block and polls the cluster instead.
 *
 * The token reaches the host only inside /etc/rancher/k3s/config.yaml (mode
 * 0600, sent on stdin), never on a command line; the file is compared by its
 * sha256, so the token never comes back over the wire either.
 *
 * Plain function declarations only (serialized with the provider).
 */
import { command, quote } from "../../shell";
import { CommandFailedError, SshSession } from "../../ssh";
import type { Input } from "@pulumi/pulumi";
import type { ConnectionInput, NodeConnection } from "../connection";
import { sleep } from "../diff";

export type K3sArch = "amd64" | "arm64";
export type K3sRole = "server" | "agent";

/** One node as the provider sees it. */
export interface K3sNodeSpec {
  name: string;
  connection: NodeConnection;
  /** --node-ip. */
  address: string;
  arch: K3sArch;
  role: K3sRole;
  labels: Record<string, string>;
  taints: string[];
}

/** A node as a program hands it over: its address and host key may come from other resources (a new cloud machine). */
export type K3sNodeSpecInput = Omit<K3sNodeSpec, "connection" | "address"> & { connection: ConnectionInput; address: Input<string> };

/** The sha256 pins of the artifacts of one release. */
export interface K3sPins {
  installScriptSha256: string;
  binarySha256: Partial<Record<K3sArch, string>>;
}

/** The cluster-wide part of a node's configuration. */
export interface K3sClusterPlan {
  version: string;
  token: string;
  apiAddress: string;
  /** Address of the server every other node joins through (the first server). */
  joinAddress: string;
  /** Embedded etcd (three or more servers). */
  embeddedEtcd: boolean;
  pins: K3sPins;
  readyTimeoutMs: number;
}

/** What one host has now. */
export interface K3sFacts {
  /** `uname -m`. */
  machine: string;
  /** sha256 of /usr/local/bin/k3s, "" when absent. */
  binarySha256: string;
  /** Version from `k3s --version`, "" when absent. */
  version: string;
  /** sha256 of /etc/rancher/k3s/config.yaml, "" when absent. */
  configSha256: string;
  /** Whether the installer has written the node's unit file. */
  unitInstalled: boolean;
  /** `systemctl is-active <unit>`. */
  active: string;
}

/** What ensureNode changed (empty when the host already matched). */
export type K3sNodeChanges = ("binary" | "installer" | "config" | "started")[];

const BIN = "/usr/local/bin/k3s";
const CONFIG = "/etc/rancher/k3s/config.yaml";
const KUBECONFIG = "/etc/rancher/k3s/k3s.yaml";
const RELEASES = "https://github.com/k3s-io/k3s/releases/download";

export function unitOf(role: K3sRole): string {
  return role === "server" ? "k3s" : "k3s-agent";
}

/** Upstream URL of the release binary for one architecture. */
export function binaryUrl(version: string, arch: K3sArch): string {
  return `${RELEASES}/${version}/k3s${arch === "amd64" ? "" : "-" + arch}`;
}

/** install.sh as tagged with the release (so the script matches the version it installs). */
export function installScriptUrl(version: string): string {
  return `https://raw.githubusercontent.com/k3s-io/k3s/${version}/install.sh`;
}

/** The architecture `uname -m` names, or undefined for one K3s is not installed on here. */
export function archOfMachine(machine: string): K3sArch | undefined {
  if (machine === "x86_64" || machine === "amd64") return "amd64";
  if (machine === "aarch64" || machine === "arm64") return "arm64";
  return undefined;
}

/**
 * The node's /etc/rancher/k3s/config.yaml. Written as JSON, which is YAML
 * too, with stable key order so the same inputs give the same bytes.
 */
/** `https://<address>:6443`, with an IPv6 address in brackets. */
export function serverUrl(address: string): string {
  return `https://${address.includes(":") ? `[${address}]` : address}:6443`;
}

export function renderConfig(node: K3sNodeSpec, plan: K3sClusterPlan, first: boolean): string {
  const config: Record<string, unknown> = { token: plan.token, "node-name": node.name, "node-ip": node.address };
  if (node.role === "server") {
    if (first && plan.embeddedEtcd) config["cluster-init"] = true;
    if (!first) config.server = serverUrl(plan.joinAddress);
    config["tls-san"] = [...new Set([plan.apiAddress, node.address])];
    config["write-kubeconfig-mode"] = "0600";
  } else {
    config.server = serverUrl(plan.joinAddress);
  }
  const labels = Object.keys(node.labels)
    .sort()
    .map((k) => `${k}=${node.labels[k]}`);
  if (labels.length > 0) config["node-label"] = labels;
  if (node.taints.length > 0) config["node-taint"] = [...node.taints];
  return JSON.stringify(config, null, 2) + "\n";
}

export function sha256(text: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(text).digest("hex");
}

/** One read-only round trip: everything ensureNode decides on. */
export async function readFacts(session: SshSession, role: K3sRole): Promise<K3sFacts> {
  const unit = unitOf(role);
  const script = [
    `printf 'machine=%s\\n' "$(uname -m)"`,
    `printf 'binary=%s\\n' "$(sha256sum ${BIN} 2>/dev/null | cut -d' ' -f1)"`,
    `printf 'version=%s\\n' "$(${BIN} --version 2>/dev/null | head -n1)"`,
    `printf 'config=%s\\n' "$(sha256sum ${CONFIG} 2>/dev/null | cut -d' ' -f1)"`,
    `printf 'unit=%s\\n' "$(test -f /etc/systemd/system/${unit}.service && echo yes)"`,
    `printf 'active=%s\\n' "$(systemctl is-active ${unit} 2>/dev/null)"`,
  ].join("; ");
  const result = await session.check(`LC_ALL=C sh -c ${quote(script)}`);
  const field = (key: string): string => {
    const line = result.stdout.split("\n").find((l) => l.startsWith(`${key}=`));
    return line === undefined ? "" : line.slice(key.length + 1).trim();
  };
  // `k3s version v1.31.5+k3s1 (56ec5dd4)`: the third word.
  const version = field("version").split(/\s+/)[2] ?? "";
  return {
    machine: field("machine"),
    binarySha256: field("binary"),
    version,
    configSha256: field("config"),
    unitInstalled: field("unit") === "yes",
    active: field("active") || "inactive",
  };
}

/** Download `url` to `path` on the host and keep it only if its sha256 is `expected`. */
async function fetchVerified(session: SshSession, url: string, path: string, expected: string, what: string): Promise<void> {
  await session.check(command("curl", "-sSfL", "--retry", 3, "-o", path, url));
  const sum = await session.check(command("sha256sum", path));
  const actual = sum.stdout.trim().split(/\s+/)[0] ?? "";
  if (actual !== expected) {
    await session.run(command("rm", "-f", path));
    throw new Error(
      `${session.node}: ${what} from ${url} has sha256 ${actual}, but the pinned checksum is ${expected}; refusing to install it ` +
        "(check the version and artifacts pins)",
    );
  }
}

/**
 * Bring one host to the plan: binary of the pinned version (verified), the
 * installer's unit and scripts, the config file, the unit running. Runs no
 * mutating command when the host already matches.
 */
export async function ensureNode(session: SshSession, node: K3sNodeSpec, plan: K3sClusterPlan, first: boolean): Promise<K3sNodeChanges> {
  const changes: K3sNodeChanges = [];
  const facts = await readFacts(session, node.role);
  const hostArch = archOfMachine(facts.machine);
  if (hostArch !== node.arch) {
    throw new Error(`${node.name}: arch is "${node.arch}" in the config, but the host reports ${facts.machine || "nothing"} (uname -m); fix the node's arch`);
  }
  const binarySha = plan.pins.binarySha256[node.arch];
  if (!binarySha) throw new Error(`${node.name}: no pinned sha256 for the ${node.arch} binary of K3s ${plan.version}; give artifacts.${node.arch}.binarySha256`);

  const unit = unitOf(node.role);
  if (facts.binarySha256 !== binarySha) {
    const download = `${BIN}.download`;
    await fetchVerified(session, binaryUrl(plan.version, node.arch), download, binarySha, `the K3s ${plan.version} ${node.arch} binary`);
    await session.check(`chmod 0755 ${download} && mv -f ${download} ${BIN}`);
    changes.push("binary");
  }

  const config = renderConfig(node, plan, first);
  if (facts.configSha256 !== sha256(config)) {
    // Secret content: on stdin, into a 0600 file, renamed into place.
    await session.check(`umask 077 && mkdir -p /etc/rancher/k3s && cat > ${CONFIG}.new && mv -f ${CONFIG}.new ${CONFIG}`, { stdin: config });
    changes.push("config");
  }

  if (!facts.unitInstalled || changes.includes("binary")) {
    const script = "/root/k3s-install.sh";
    await fetchVerified(session, installScriptUrl(plan.version), script, plan.pins.installScriptSha256, `install.sh of K3s ${plan.version}`);
    const env = `INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_SKIP_START=true INSTALL_K3S_EXEC=${node.role}`;
    const run = await session.run(`${env} sh ${script}`);
    await session.run(command("rm", "-f", script));
    if (run.code !== 0) throw new CommandFailedError(session.node, `${env} sh ${script}`, run);
    changes.push("installer");
  }

  if (changes.length > 0 || facts.active !== "active") {
    // --no-block: the unit is Type=notify and a node that cannot join would hold the command forever.
    await session.check(command("systemctl", "restart", "--no-block", unit));
    changes.push("started");
  }
  return changes;
}

/** One node of `kubectl get nodes -o json`, the fields the provider uses. */
export interface ClusterNode {
  name: string;
  ready: boolean;
  version: string;
  roles: string[];
  labels: Record<string, string>;
  /** `key=value:Effect` or `key:Effect`, as the config writes them. */
  taints: string[];
}

/** The nodes the cluster knows, asked on a server. */
export async function clusterNodes(control: SshSession): Promise<ClusterNode[]> {
  return parseNodeList((await control.check(`${BIN} kubectl get nodes -o json`)).stdout, control.node);
}

/**
 * Wait until `name` is Ready at `version`, asking `control` (a server). The
 * node's own unit state goes into the timeout message: "activating" is a
 * node that cannot join (token, address, server down).
 */
export async function waitReady(control: SshSession, nodeSession: SshSession, node: K3sNodeSpec, version: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "not registered";
  for (;;) {
    const result = await control.run(`${BIN} kubectl get nodes -o json`);
    if (result.code === 0) {
      const found = parseNodeList(result.stdout, control.node).find((n) => n.name === node.name);
      if (found && found.ready && found.version === version) return;
      last = found ? `${found.ready ? "Ready" : "NotReady"} at ${found.version}` : "not registered";
    } else {
      // The API of a server that is itself still starting.
      last = `the API on ${control.node} does not answer: ${(result.stderr || result.stdout).trim().split("\n").pop()}`;
    }
    if (Date.now() > deadline) {
      const unit = unitOf(node.role);
      const state = (await nodeSession.run(command("systemctl", "is-active", unit))).stdout.trim() || "unknown";
      throw new Error(
        `${node.name}: did not become Ready at ${version} within ${Math.round(timeoutMs / 1000)} s (${last}; unit ${unit} is ${state}); ` +
          `see journalctl -u ${unit} on ${node.name}`,
      );
    }
    await sleep(500);
  }
}

export function parseNodeList(stdout: string, where: string): ClusterNode[] {
  let list: {
    items?: {
      metadata?: { name?: string; labels?: Record<string, string> };
      spec?: { taints?: { key?: string; value?: string; effect?: string }[] };
      status?: { conditions?: { type?: string; status?: string }[]; nodeInfo?: { kubeletVersion?: string } };
    }[];
  };
  try {
    list = JSON.parse(stdout);
  } catch {
    throw new Error(`${where}: k3s kubectl get nodes -o json printed no JSON: ${stdout.slice(0, 200)}`);
  }
  return (list.items ?? []).map((item) => {
    const labels = item.metadata?.labels ?? {};
    return {
      name: item.metadata?.name ?? "",
      labels,
      taints: (item.spec?.taints ?? []).map((t) => `${t.key}${t.value ? "=" + t.value : ""}:${t.effect}`),
      ready: (item.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
      version: item.status?.nodeInfo?.kubeletVersion ?? "",
      roles: Object.keys(labels)
        .filter((k) => k.startsWith("node-role.kubernetes.io/"))
        .map((k) => k.slice("node-role.kubernetes.io/".length))
        .sort(),
    };
  });
}

/**
 * Labels and taints of a registered node as the config has them. K3s applies
 * --node-label/--node-taint only when a node registers, so a later change
 * goes through kubectl; what `previous` set and the config dropped is removed.
 * Labels and taints set by others are left alone.
 */
export async function reconcileLabels(control: SshSession, node: K3sNodeSpec, previous: K3sNodeSpec | undefined): Promise<void> {
  const current = (await clusterNodes(control)).find((n) => n.name === node.name);
  if (!current) throw new Error(`${node.name}: not registered in the cluster (asked on ${control.node})`);
  const labelArgs = Object.keys(node.labels)
    .sort()
    .filter((k) => current.labels[k] !== node.labels[k])
    .map((k) => `${k}=${node.labels[k]}`);
  for (const k of Object.keys(previous?.labels ?? {}).sort()) if (!(k in node.labels) && k in current.labels) labelArgs.push(`${k}-`);
  if (labelArgs.length > 0) await control.check(command(BIN, "kubectl", "label", "node", node.name, "--overwrite", ...labelArgs));
  const taintArgs = node.taints.filter((t) => !current.taints.includes(t));
  for (const t of previous?.taints ?? []) if (!node.taints.includes(t) && current.taints.includes(t)) taintArgs.push(`${t.replace(/=[^:]*/, "")}-`);
  if (taintArgs.length > 0) await control.check(command(BIN, "kubectl", "taint", "node", node.name, "--overwrite", ...taintArgs));
}

/**
 * Drain a node and delete it from the cluster, on a server; `stop` runs in
 * between (the node's own unit stopped, so it does not register again). A
 * node already gone is fine.
 */
export async function removeFromCluster(control: SshSession, name: string, stop: () => Promise<void>): Promise<void> {
  const present = (await clusterNodes(control)).some((n) => n.name === name);
  if (!present) return;
  await control.check(command(BIN, "kubectl", "drain", name, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=300s"));
  await stop();
  await control.check(command(BIN, "kubectl", "delete", "node", name));
  if ((await clusterNodes(control)).some((n) => n.name === name)) {
    throw new Error(`${control.node}: kubectl delete node ${name} exited 0 but the node is still listed`);
  }
}

/** Stop and disable the node's unit (a kubelet still running would register the node again). */
export async function stopUnit(session: SshSession, role: K3sRole): Promise<void> {
  await session.check(command("systemctl", "disable", "--now", unitOf(role)));
}

/** Run the installer's uninstall script, if the host has one. */
export async function uninstall(session: SshSession, role: K3sRole): Promise<void> {
  const script = role === "server" ? "/usr/local/bin/k3s-uninstall.sh" : "/usr/local/bin/k3s-agent-uninstall.sh";
  await session.check(`if [ -x ${script} ]; then ${script}; fi`);
}

/** The admin kubeconfig, its server rewritten from 127.0.0.1 to the API address. */
export async function readKubeconfig(session: SshSession, apiAddress: string): Promise<string> {
  const text = (await session.check(`cat ${KUBECONFIG}`)).stdout;
  const host = apiAddress.includes(":") ? `[${apiAddress}]` : apiAddress;
  const rewritten = text.replace(/(server:\s*https:\/\/)(127\.0\.0\.1|localhost|\[::1\])(:\d+)/g, `$1${host}$3`);
  if (!rewritten.includes(`https://${host}:`)) {
    throw new Error(`${session.node}: ${KUBECONFIG} has no "server: https://127.0.0.1:6443" line to point at ${apiAddress}`);
  }
  return rewritten;
}
