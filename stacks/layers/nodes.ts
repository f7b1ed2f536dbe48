import * as pulumi from "@pulumi/pulumi";
import { BaselineUser } from "../../components/host-baseline";
import { NodeBaseline } from "../../components/node-baseline";
import { NodeNetwork } from "../../components/node-network";
import { ProxmoxNode } from "../../components/proxmox-node";
import type { HostEntry } from "../../infra/baseline";
import type { DiskInfo } from "../../infra/parse/disks";
import { EnvironmentGate } from "../../infra/providers/proxmox/environment-gate";
import { nodeAddressOn } from "../lookup";
import type { Environment, Node } from "../schema";
import type { EnvironmentContext } from "./context";

/** One node's steps, for ordering later layers. */
export interface NodeLayer {
  node: Node;
  facts: ProxmoxNode;
  baseline: NodeBaseline;
  network: NodeNetwork;
}

/** Each node: its facts (is it the node we think, which Proxmox) → baseline → networks. */
export function buildNodes(ctx: EnvironmentContext, usersWithPasswordHash: ReadonlySet<string>): NodeLayer[] {
  const { env } = ctx;
  const hosts = hostEntries(env);
  const users = baselineUsers(ctx, usersWithPasswordHash);
  // Every node is read, and the whole environment refused on a problem (a node down, a Proxmox
  // release mix, a node in another cluster), before any step changes any node.
  const gate = new EnvironmentGate(`${env.name}-gate`, {
    nodes: env.nodes.map((node) => ctx.access(node).connection),
    sshPrivateKey: ctx.access(env.nodes[0]).sshPrivateKey,
    clusterName: env.cluster?.name,
    // Nodes to be installed from Debian may lack Proxmox VE; the gate checks their Debian release instead.
    pveInstalls: pveInstalls(env),
  });
  return env.nodes.map((node) => buildNode(ctx, node, hosts, users, gate));
}

/** The baseline's login accounts, each with its password hash (a secret) when secrets has one. */
export function baselineUsers(ctx: EnvironmentContext, usersWithPasswordHash: ReadonlySet<string>): BaselineUser[] {
  return ctx.env.baseline.users.map((u) => ({
    ...u,
    passwordHash: usersWithPasswordHash.has(u.name) ? ctx.secrets.apply((s) => s.userPasswordHashes?.[u.name] ?? "") : undefined,
  }));
}

function buildNode(ctx: EnvironmentContext, node: Node, hosts: HostEntry[], users: BaselineUser[], gate: EnvironmentGate): NodeLayer {
  const { env } = ctx;
  const access = ctx.access(node);
  const prefix = `${env.name}-${node.name}`;
  const install =
    node.install && env.proxmox
      ? { pveMajor: env.proxmox.major, address: node.address, rebootTimeoutSeconds: node.install.rebootTimeoutSeconds, debianRelease: node.install.debianRelease }
      : undefined;
  const facts = new ProxmoxNode(prefix, { access, install }, { dependsOn: [gate] });
  const baseline = new NodeBaseline(
    `${prefix}-baseline`,
    {
      access,
      pveMajor: facts.pveRelease.apply((release) => Number(release.split(".")[0])),
      cephRelease: env.baseline.cephRelease,
      // SDN zones with DHCP run their own dnsmasq instances (stacks/layers/sdn.ts disables the default one).
      packages: env.sdn.networks.some((n) => n.dhcp) ? [...new Set([...env.baseline.packages, "dnsmasq"])] : env.baseline.packages,
      removeSubscriptionNag: env.baseline.removeSubscriptionNag,
      hosts,
      users,
      timezone: env.baseline.timezone,
      sysctls: env.baseline.sysctls,
      kernelParameters: env.baseline.kernelParameters,
    },
    { dependsOn: [facts] },
  );
  const network = new NodeNetwork(
    `${prefix}-network`,
    {
      access,
      networks: env.networks,
      interfaces: node.interfaces,
      managementAddress: node.address,
      allowManagementChange: node.allowManagementChange,
      thunderbolt:
        node.thunderbolt && env.thunderbolt
          ? { loopback: node.thunderbolt.loopback, ports: node.thunderbolt.ports, mtu: env.thunderbolt.mtu }
          : undefined,
    },
    { dependsOn: [baseline] },
  );
  return { node, facts, baseline, network };
}

/** The nodes marked for a Proxmox VE install from Debian, with the requested major; undefined when none is. */
function pveInstalls(env: Environment): Record<string, number> | undefined {
  const marked = env.nodes.filter((n) => n.install && env.proxmox);
  return marked.length > 0 ? Object.fromEntries(marked.map((n) => [n.name, env.proxmox!.major])) : undefined;
}

/** /etc/hosts: every node by its name on the management address, and `<name>-<network>` on each cluster link. */
export function hostEntries(env: Environment): HostEntry[] {
  const entries: HostEntry[] = [];
  for (const node of env.nodes) {
    entries.push({ address: node.address, names: [node.name] });
    for (const link of env.cluster?.links ?? []) {
      const address = nodeAddressOn(env, node, link);
      if (address && address !== node.address) entries.push({ address, names: [`${node.name}-${link}`] });
    }
  }
  return entries;
}

/** One node in the stack output `nodes`. */
export interface NodeOutput {
  address: string;
  pveVersion: pulumi.Output<string>;
  /** Each disk: device, by-id path, size, model, serial, rotational, what uses it (as of the last refresh). */
  disks: pulumi.Output<DiskInfo[]>;
  /** Kernel parameters (baseline.kernelParameters) the running kernel was not booted with: reboot the node for them. */
  pendingReboot: pulumi.Output<string[]>;
}

/** The nodes' stack output: address, Proxmox version, disks and kernel parameters waiting for a reboot, per node. */
export function nodeOutputs(nodes: NodeLayer[]): Record<string, NodeOutput> {
  return Object.fromEntries(
    nodes.map((p) => [
      p.node.name,
      { address: p.node.address, pveVersion: p.facts.pveVersion, disks: p.facts.disks, pendingReboot: p.baseline.kernel?.pendingReboot ?? pulumi.output([]) },
    ]),
  );
}
