import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { RING_LOOPBACK_INTERFACE, RING_MTU } from "../infra/network/interfaces";
import {
  FRR_BLOCK_ID,
  FRR_CONF_PATH,
  FRR_DAEMONS_PATH,
  frrConfBlock,
  frrDaemonsBlock,
  LINK_UNIT_NAME,
  LINK_UP_SCRIPT_PATH,
  linkFile,
  linkFilePath,
  linkUnit,
  linkUpScript,
  MODULES_LOAD_PATH,
  modulesLoadConf,
  openFabricNet,
  RING_UNIT_NAME,
  ringUnit,
  SYSCTL_PATH,
  sysctlConf,
  SYSTEMD_DIR,
  UDEV_RULE_PATH,
  udevRule,
} from "../infra/network/thunderbolt";
import type { NodeThunderboltSpec } from "../infra/network/types";
import type { NodeAccess } from "../infra/providers/connection";
import { Packages } from "../infra/providers/linux/packages";
import { RemoteFile } from "../infra/providers/linux/remote-file";
import { CableResult, LinkResult, PairResult, RingVerify, RingVerifyInputs } from "../infra/providers/network/ring-verify";
import { childOptions, refuse, sharedSshKey } from "./child-options";

/** Type token of the ThunderboltRing component. */
export const THUNDERBOLT_RING_TYPE = "homelab:network:ThunderboltRing";

/** Packages the ring needs: FRR (fabricd, and frr-reload for `systemctl reload frr`) and iperf3 for the verification. */
export const RING_PACKAGES = ["frr", "frr-pythontools", "iperf3"];

/** Run after the .link files change: refresh the initramfs, then apply the names to ports still called thunderbolt*. */
export const RENAME_AFTER_LINK_CHANGE =
  "update-initramfs -u -k all && udevadm control --reload && udevadm trigger --action=add --subsystem-match=net --sysname-match='thunderbolt*'";

/** Where the hash of the .link files is kept; a change runs update-initramfs once. */
export const LINK_STAMP_PATH = "/etc/homelab/thunderbolt-links.sha256";

/** One node of the ring. */
export interface ThunderboltRingNode {
  /** How to reach the node over SSH. */
  access: NodeAccess;
  /** The node's loopback and ports (each port names its peer). */
  thunderbolt: NodeThunderboltSpec;
  /** What this node's ring setup waits for, typically its NodeNetwork (ports and loopback stanzas). Defaults to none. */
  dependsOn?: pulumi.Resource[];
}

/** Settings of the verification step: the RingVerify resource's own (docs and defaults live there). */
export type ThunderboltRingVerify = Pick<RingVerifyInputs, "trigger" | "verifyOnEveryUp" | "iperfSeconds" | "iperfPort" | "convergenceSeconds" | "minGbps">;

/** Arguments of the ring. */
export interface ThunderboltRingArgs {
  /** Every ring node (at least 2). Each cable must appear on both ends (a port whose peer names the other node). */
  nodes: ThunderboltRingNode[];
  /** MTU of the ring ports, on both ends. Defaults to 65520. */
  mtu?: number;
  /** Dummy interface holding the loopback /32; must match NodeNetwork's. Defaults to "tbloop". */
  loopbackInterface?: string;
  /** Install frr, frr-pythontools and iperf3 (Packages resource). Defaults to true. */
  installPackages?: boolean;
  /** Verification (ping every pair, iperf3 every cable), or false to skip it. Defaults to {} (verify once). */
  verify?: ThunderboltRingVerify | false;
}

/**
 * A Thunderbolt/USB4 ring (e.g. three MS-01s): on every node the
 * thunderbolt modules at boot, stable port names by PCI path (.link files,
 * initramfs refreshed), a udev rule and oneshot units that bring the ports
 * up with MTU 65520 before FRR and Ceph start, IPv4 forwarding, and FRR
 * OpenFabric (fabricd) announcing the node's loopback /32 so every node
 * reaches every other one even with one cable out; FRR and the ring unit are
 * enabled at boot. Then a verification (services, ping every pair, each cable
 * on its own: carrier, MTU, adjacency, iperf3 across it) whose results are
 * outputs.
 *
 * The ports' and the loopback's stanzas in /etc/network/interfaces belong to
 * each node's NodeNetwork (pass it `thunderbolt`), so one managed block
 * holds all of a node's interfaces.
 */
export class ThunderboltRing extends pulumi.ComponentResource {
  /** The verification resource (undefined with `verify: false`). */
  readonly verify?: RingVerify;
  /** Per ordered pair: reachable, rtt. */
  readonly reachability?: pulumi.Output<PairResult[]>;
  /** Per cable: Gbit/s. */
  readonly links?: pulumi.Output<LinkResult[]>;
  /** Per cable, checked on its own: ok, down or slow, with what is wrong by port. */
  readonly cables?: pulumi.Output<CableResult[]>;
  /** healthy; degraded (a cable down or slow, a service stopped) while every node still reaches every other; failed (a refresh found a node cut off). */
  readonly status?: pulumi.Output<"healthy" | "degraded" | "failed">;
  /** The OpenFabric NET of each node, by node name. */
  readonly nets: Record<string, string> = {};
  /** Every resource a later step (Ceph, corosync on the ring) may need to wait for. */
  readonly ready: pulumi.Resource[] = [];

  constructor(name: string, args: ThunderboltRingArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      THUNDERBOLT_RING_TYPE,
      name,
      { nodes: args.nodes.map((n) => ({ node: n.access.connection.node, loopback: n.thunderbolt.loopback })) },
      opts,
    );
    const mtu = args.mtu ?? RING_MTU;
    const loopbackInterface = args.loopbackInterface ?? RING_LOOPBACK_INTERFACE;
    const problem = ringProblem(args.nodes);
    if (problem) refuse(this, name, problem);

    const perNodeReady: pulumi.Resource[] = [];
    for (const ringNode of args.nodes) {
      const node = ringNode.access.connection.node;
      const tb = ringNode.thunderbolt;
      const prefix = `${name}-${node}`;
      const conn = ringNode.access;
      // The component's own dependsOn holds for every node's first steps, like the node's own list.
      const after: pulumi.Input<pulumi.Resource>[] = ringNode.dependsOn ?? [];
      const file = (suffix: string, fileArgs: Omit<ConstructorParameters<typeof RemoteFile>[1], "connection" | "sshPrivateKey">, dependsOn: pulumi.Input<pulumi.Resource>[] = []) =>
        new RemoteFile(`${prefix}-${suffix}`, { ...conn, ...fileArgs }, childOptions(this, opts, [...after, ...dependsOn]));

      const packages =
        args.installPackages === false
          ? undefined
          : new Packages(`${prefix}-packages`, { ...conn, packages: RING_PACKAGES }, childOptions(this, opts, after));
      const afterPackages = packages ? [packages] : [];

      // Modules at boot, and now.
      const modules = file("modules", {
        path: MODULES_LOAD_PATH,
        content: modulesLoadConf(),
        onChangeCommand: ["modprobe", "-a", "thunderbolt", "thunderbolt-net"],
      });

      // Stable names by PCI path (.link files).
      const links = tb.ports.map((port) => file(`link-${port.name}`, { path: linkFilePath(port), content: linkFile(port) }));

      // Ports up with the ring MTU: script, per-port unit (started by udev); the boot unit follows below.
      const script = file("link-up-script", { path: LINK_UP_SCRIPT_PATH, content: linkUpScript(), fileMode: "0755" });
      const linkUnitFile = file(
        "link-unit",
        { path: `${SYSTEMD_DIR}/${LINK_UNIT_NAME}`, content: linkUnit(mtu), onChangeCommand: ["systemctl", "daemon-reload"] },
        [script],
      );
      const udev = file(
        "udev-rule",
        { path: UDEV_RULE_PATH, content: udevRule(tb.ports.map((p) => p.name)), onChangeCommand: ["udevadm", "control", "--reload"] },
        [linkUnitFile],
      );

      // One initramfs refresh for all .link files (they also apply in early boot), then re-announce
      // ports that still carry their kernel name (thunderbolt0, …) so the new names apply without a
      // reboot: a rename emits "move", which the udev rule turns into "port up with the ring MTU".
      const linkHash = createHash("sha256")
        .update(tb.ports.map((p) => `${linkFilePath(p)}\n${linkFile(p)}`).join("\n"))
        .digest("hex");
      const initramfs = file(
        "initramfs",
        {
          path: LINK_STAMP_PATH,
          content: `${linkHash}  thunderbolt .link files (managed by Pulumi; a change ran update-initramfs -u -k all)\n`,
          onChangeCommand: ["sh", "-c", RENAME_AFTER_LINK_CHANGE],
        },
        [modules, ...links, udev],
      );
      // After the rename: the ports exist, so (re)starting the boot unit brings them up at once.
      const ringUnitFile = file(
        "ring-unit",
        {
          path: `${SYSTEMD_DIR}/${RING_UNIT_NAME}`,
          content: ringUnit(
            tb.ports.map((p) => p.name),
            mtu,
          ),
          onChangeCommand: [
            "sh",
            "-c",
            `systemctl daemon-reload && systemctl enable ${RING_UNIT_NAME} && systemctl restart ${RING_UNIT_NAME}`,
          ],
        },
        [script, initramfs],
      );

      // Routing: forwarding for the node in the middle, then FRR OpenFabric.
      const sysctl = file("sysctl", { path: SYSCTL_PATH, content: sysctlConf(), onChangeCommand: ["sysctl", "-p", SYSCTL_PATH] });
      const daemons = file(
        "frr-daemons",
        {
          path: FRR_DAEMONS_PATH,
          blockId: FRR_BLOCK_ID,
          content: frrDaemonsBlock(),
          // Enabled at boot too: Proxmox ships frr disabled, and a node rebooting into a stopped FRR
          // loses its ring routes (Ceph and the corosync ring link with them).
          onChangeCommand: ["sh", "-c", "systemctl enable frr.service && systemctl restart frr.service"],
          onDelete: "remove",
        },
        afterPackages,
      );
      this.nets[node] = openFabricNet(tb.loopback);
      const frrConf = file(
        "frr-conf",
        {
          path: FRR_CONF_PATH,
          blockId: FRR_BLOCK_ID,
          content: frrConfBlock({ loopback: tb.loopback, ports: tb.ports.map((p) => p.name), loopbackInterface }),
          // reload (frr-reload.py, from frr-pythontools) keeps adjacencies up; restart if FRR is not running.
          onChangeCommand: ["systemctl", "reload-or-restart", "frr.service"],
        },
        [daemons, ringUnitFile, sysctl, ...afterPackages],
      );
      const nodeResources = [...afterPackages, modules, ...links, initramfs, script, linkUnitFile, ringUnitFile, udev, sysctl, daemons, frrConf];
      perNodeReady.push(...nodeResources);
    }
    this.ready.push(...perNodeReady);

    if (args.verify !== false) {
      const v = args.verify ?? {};
      this.verify = new RingVerify(
        `${name}-verify`,
        {
          nodes: args.nodes.map((n) => ({
            connection: n.access.connection,
            loopback: n.thunderbolt.loopback,
            ports: n.thunderbolt.ports.map((p) => ({ name: p.name, peer: p.peer })),
          })),
          sshPrivateKey: sharedSshKey(this, name, args.nodes.map((n) => n.access)),
          trigger: v.trigger,
          verifyOnEveryUp: v.verifyOnEveryUp,
          iperfSeconds: v.iperfSeconds,
          iperfPort: v.iperfPort,
          convergenceSeconds: v.convergenceSeconds,
          minGbps: v.minGbps,
          mtu,
          // Enabled and running on every node, repaired by the next up when a refresh finds them off.
          units: ["frr.service", RING_UNIT_NAME],
        },
        { parent: this, dependsOn: perNodeReady },
      );
      this.reachability = this.verify.reachability;
      this.links = this.verify.links;
      this.cables = this.verify.cables;
      this.status = this.verify.status;
      this.ready.push(this.verify);
    }
    this.registerOutputs({ nets: this.nets, reachability: this.reachability, links: this.links, cables: this.cables, status: this.status });
  }
}

/**
 * Why a ring is inconsistent (first problem found), or undefined when it is
 * fine: at least 2 nodes, unique names, every peer a ring node with a port
 * back (each cable listed on both ends), unique port names per node, and
 * unique loopback last octets (the OpenFabric NET is derived from it).
 */
export function ringProblem(nodes: readonly Pick<ThunderboltRingNode, "access" | "thunderbolt">[]): string | undefined {
  if (nodes.length < 2) return `a Thunderbolt ring needs at least 2 nodes, got ${nodes.length}`;
  const names = new Map<string, Pick<ThunderboltRingNode, "access" | "thunderbolt">>();
  const octets = new Map<string, string>();
  for (const n of nodes) {
    const node = n.access.connection.node;
    if (names.has(node)) return `node ${node} is listed twice`;
    names.set(node, n);
    const last = n.thunderbolt.loopback.split(".")[3];
    const other = octets.get(last);
    if (other !== undefined) {
      return (
        `${node}: loopback ${n.thunderbolt.loopback} ends in .${last} like ${other}'s; the OpenFabric NET is ` +
        `derived from the last octet (${openFabricNet(n.thunderbolt.loopback)}), so give every ring node a different one`
      );
    }
    octets.set(last, node);
    const portNames = new Set<string>();
    for (const p of n.thunderbolt.ports) {
      if (portNames.has(p.name)) return `${node}: thunderbolt port ${p.name} is listed twice`;
      portNames.add(p.name);
    }
  }
  for (const n of nodes) {
    const node = n.access.connection.node;
    for (const p of n.thunderbolt.ports) {
      if (p.peer === node) return `${node}: thunderbolt port ${p.name} has itself as peer`;
      const peer = names.get(p.peer);
      if (!peer) return `${node}: thunderbolt port ${p.name} names peer ${p.peer}, which is not a ring node (ring: ${[...names.keys()].join(", ")})`;
      if (!peer.thunderbolt.ports.some((q) => q.peer === node)) {
        return `${node}: thunderbolt port ${p.name} is cabled to ${p.peer}, but ${p.peer} has no port whose peer is ${node}; list the cable on both ends`;
      }
    }
  }
  return undefined;
}
