/**
 * Interfaces of a node: the schema of `nodes[].interfaces`, and the checks
 * between them (bonds, bridges and VLANs refer to interfaces that exist and are
 * free; networks, addresses and MTUs agree).
 */
import { z } from "zod";
import { vlanNameProblem } from "../../infra/network/interfaces";
import { bool, ifName, integer, ipv4, list, mapping, mtu, networkName, oneOf, safeText } from "./fields";
import { notA, show } from "./messages";
import {
  BOND_MODES,
  HASH_POLICIES,
  INTERFACE_TYPES,
  isInterfaceType,
  isMtu,
  isString,
  isVlanId,
  isVlanIdsEntry,
} from "./predicates";
import { checkNetworkRef, hostAddressProblem, type KnownNetwork, type NetworkIndex } from "./networks";
import type { AddIssue, Field, InterfaceView, NodeView, Path } from "./views";

/** Fields every interface type may carry. */
const interfaceCommon = {
  name: ifName(),
  mtu: mtu().optional(),
  /** Name of the network this interface is on. Required with `address`. */
  network: networkName().optional(),
  /** Bare IPv4 address; the prefix comes from the network. */
  address: ipv4().optional(),
  comment: safeText().optional(),
};

/** Bond modes in which `primary` means something. */
const PRIMARY_MODES: readonly string[] = ["active-backup", "balance-tlb", "balance-alb"];
/** Bond modes in which `hashPolicy` (xmit_hash_policy) means something. */
const HASH_MODES: readonly string[] = ["802.3ad", "balance-xor"];

const NicSchema = mapping({ type: z.literal("nic"), ...interfaceCommon }, "an interface");

const BondSchema = mapping(
  {
    type: z.literal("bond"),
    ...interfaceCommon,
    slaves: list(ifName(), "a list of interface names").min(1, {
      error: "empty; a bond needs at least one slave",
    }),
    mode: oneOf(BOND_MODES, "a bond mode"),
    primary: ifName().optional(),
    hashPolicy: oneOf(HASH_POLICIES, "a hash policy").optional(),
    miimon: integer("a miimon interval in milliseconds", 0, 10000).optional(),
  },
  "an interface",
);

const BridgeSchema = mapping(
  {
    type: z.literal("bridge"),
    ...interfaceCommon,
    /** Bridge ports (nics or bonds of this node). Defaults to none. */
    ports: list(ifName(), "a list of interface names").default([]),
    /** Defaults to false. */
    vlanAware: bool().default(false),
    /** `bridge-vids`: VLAN ids 2–4094 or range strings "a-b"; only with vlanAware. */
    vlanIds: list(
      z.custom<number | string>(isVlanIdsEntry, {
        error: (iss) => notA(iss.input, `a VLAN id or range (2–4094, e.g. 9 or "100-200")`),
      }),
      "a list of VLAN ids",
    )
      .min(1, { error: "empty; leave vlanIds out to allow all VLANs" })
      .optional(),
  },
  "an interface",
);

const VlanSchema = mapping(
  {
    type: z.literal("vlan"),
    ...interfaceCommon,
    /** The interface the VLAN is on (nic, bond or bridge of this node). */
    device: ifName(),
    vlanId: integer("a VLAN id", 1, 4094),
  },
  "an interface",
);

export const InterfaceSchema = z.discriminatedUnion("type", [NicSchema, BondSchema, BridgeSchema, VlanSchema], {
  error: (iss) => {
    const what = `an interface type (${INTERFACE_TYPES.join(", ")})`;
    if (iss.code === "invalid_union") {
      const input = iss.input as Record<string, unknown> | undefined;
      return notA(input?.type, what);
    }
    return notA(iss.input, `an interface (a mapping with type: ${INTERFACE_TYPES.join(" | ")})`);
  },
});

/**
 * The checks between one node's interfaces; returns them by name (first
 * declaration wins). `ringNetwork` is the thunderbolt ring network, whose
 * addresses are loopbacks, not interface addresses.
 */
export function checkInterfaces(
  node: NodeView,
  networks: NetworkIndex,
  ringNetwork: Field<string>,
  add: AddIssue,
): Map<string, InterfaceView> {
  const at = (...rest: Path): Path => ["nodes", node.index, ...rest];
  const ifaces = node.interfaces ?? [];
  const ifacesOk = node.interfaces !== null;
  const byName = new Map<string, InterfaceView>();
  const namesComplete = ifacesOk && ifaces.every((i) => isString(i.name) && isInterfaceType(i.type));
  for (const iface of ifaces) {
    if (!isString(iface.name)) continue;
    const first = byName.get(iface.name);
    if (first) {
      add(at("interfaces", iface.index, "name"), `${show(iface.name)} is already declared (nodes[${node.index}].interfaces[${first.index}])`);
    } else byName.set(iface.name, iface);
  }
  const ifPath = (i: InterfaceView, ...rest: Path): Path => at("interfaces", i.index, ...rest);
  const ifRef = (i: InterfaceView) => `nodes[${node.index}].interfaces[${i.index}]`;

  // who encloses whom: slave/port name -> the bond/bridge that takes it
  const enclosedBy = new Map<string, InterfaceView>();
  const effectiveMtu = (i: InterfaceView): number | undefined => {
    if (isMtu(i.mtu)) return i.mtu;
    if (i.mtu === null) return undefined;
    if (i.network === null) return undefined;
    const net = isString(i.network) ? networks.known.get(i.network) : undefined;
    return net?.mtu ?? 1500;
  };

  // bonds and bridges first: membership decides what else is allowed
  for (const iface of ifaces) {
    if (iface.type === "bond" && Array.isArray(iface.slaves)) {
      const seen = new Set<string>();
      for (const [k, slave] of iface.slaves.entries()) {
        if (!isString(slave)) continue;
        const p = ifPath(iface, "slaves", k);
        if (seen.has(slave)) {
          add(p, `${show(slave)} is listed twice`);
          continue;
        }
        seen.add(slave);
        if (slave === iface.name) {
          add(p, `${show(slave)} is this bond itself`);
          continue;
        }
        const member = byName.get(slave);
        if (!member) {
          if (namesComplete) {
            add(p, `${show(slave)} is not declared as an interface of this node (add { type: nic, name: ${slave} })`);
          }
          continue;
        }
        if (member.type !== "nic" && isInterfaceType(member.type)) {
          add(p, `${show(slave)} is a ${member.type}; bond slaves must be nics`);
          continue;
        }
        const taken = enclosedBy.get(slave);
        if (taken) {
          add(p, `${show(slave)} is already taken by ${describeEncloser(taken)}`);
          continue;
        }
        enclosedBy.set(slave, iface);
        const bondMtu = effectiveMtu(iface);
        const slaveMtu = effectiveMtu(member);
        if (bondMtu !== undefined && slaveMtu !== undefined && slaveMtu < bondMtu) {
          add(p, `${show(slave)} has MTU ${slaveMtu}, below the bond's MTU ${bondMtu}; set mtu: ${bondMtu} on it`);
        }
      }
      if (isString(iface.primary) && iface.slaves.every(isString) && !iface.slaves.includes(iface.primary)) {
        add(ifPath(iface, "primary"), `${show(iface.primary)} is not one of the bond's slaves (${iface.slaves.join(", ")})`);
      }
      if (isString(iface.mode)) {
        if (iface.primary !== undefined && !PRIMARY_MODES.includes(iface.mode)) {
          add(ifPath(iface, "primary"), `has no effect in mode ${iface.mode} (only in ${PRIMARY_MODES.join(", ")})`);
        }
        if (iface.hashPolicy !== undefined && !HASH_MODES.includes(iface.mode)) {
          add(ifPath(iface, "hashPolicy"), `has no effect in mode ${iface.mode} (only in ${HASH_MODES.join(", ")})`);
        }
      }
    }
  }
  for (const iface of ifaces) {
    if (iface.type !== "bridge") continue;
    if (iface.vlanIds !== undefined && (iface.vlanAware === false || iface.vlanAware === undefined)) {
      add(ifPath(iface, "vlanIds"), "set on a bridge that is not VLAN-aware (set vlanAware: true)");
    }
    if (!Array.isArray(iface.ports)) continue;
    const seen = new Set<string>();
    for (const [k, port] of iface.ports.entries()) {
      if (!isString(port)) continue;
      const p = ifPath(iface, "ports", k);
      if (seen.has(port)) {
        add(p, `${show(port)} is listed twice`);
        continue;
      }
      seen.add(port);
      if (port === iface.name) {
        add(p, `${show(port)} is this bridge itself`);
        continue;
      }
      const member = byName.get(port);
      if (!member) {
        if (namesComplete) {
          add(p, `${show(port)} is not declared as an interface of this node (add { type: nic, name: ${port} } or a bond)`);
        }
        continue;
      }
      if (member.type !== "nic" && member.type !== "bond" && isInterfaceType(member.type)) {
        add(p, `${show(port)} is a ${member.type}; bridge ports must be nics or bonds`);
        continue;
      }
      const taken = enclosedBy.get(port);
      if (taken) {
        add(p, `${show(port)} is already taken by ${describeEncloser(taken)}`);
        continue;
      }
      enclosedBy.set(port, iface);
      const bridgeMtu = effectiveMtu(iface);
      const portMtu = effectiveMtu(member);
      if (bridgeMtu !== undefined && portMtu !== undefined && portMtu < bridgeMtu) {
        add(p, `${show(port)} has MTU ${portMtu}, below the bridge's MTU ${bridgeMtu}; set mtu: ${bridgeMtu} on it`);
      }
    }
  }

  // vlans
  const vlanKeys = new Map<string, InterfaceView>();
  for (const iface of ifaces) {
    if (iface.type !== "vlan" || !isString(iface.device)) continue;
    const p = ifPath(iface, "device");
    if (iface.device === iface.name) {
      add(p, `${show(iface.device)} is this VLAN interface itself`);
      continue;
    }
    if (isString(iface.name) && isVlanId(iface.vlanId)) {
      const problem = vlanNameProblem({ name: iface.name, device: iface.device, vlanId: iface.vlanId });
      if (problem) add(ifPath(iface, "name"), problem);
    }
    const device = byName.get(iface.device);
    if (!device) {
      if (namesComplete) add(p, `${show(iface.device)} is not declared as an interface of this node`);
      continue;
    }
    const encloser = enclosedBy.get(iface.device);
    if (encloser) {
      add(p, `${show(iface.device)} is taken by ${describeEncloser(encloser)}; put the VLAN on ${show(encloser.name)} instead`);
      continue;
    }
    if (isVlanId(iface.vlanId)) {
      const key = `${iface.device}.${iface.vlanId}`;
      const other = vlanKeys.get(key);
      if (other) {
        add(ifPath(iface, "vlanId"), `VLAN ${iface.vlanId} on ${show(iface.device)} is already interface ${show(other.name)}`);
      } else vlanKeys.set(key, iface);
      if (device.type === "bridge" && device.vlanAware === true && Array.isArray(device.vlanIds) && device.vlanIds.every((v) => v !== null)) {
        const allowed = device.vlanIds as (number | string)[];
        if (!allowed.some((entry) => vlanEntryContains(entry, iface.vlanId as number))) {
          add(
            ifPath(iface, "vlanId"),
            `${iface.vlanId} is not among the VLANs of bridge ${show(device.name)} (vlanIds: ${allowed.join(", ")})`,
          );
        }
      }
    }
    const vlanMtu = effectiveMtu(iface);
    const deviceMtu = effectiveMtu(device);
    if (vlanMtu !== undefined && deviceMtu !== undefined && deviceMtu < vlanMtu) {
      add(p, `${show(iface.device)} has MTU ${deviceMtu}, below this VLAN's MTU ${vlanMtu}; set mtu: ${vlanMtu} on it`);
    }
  }

  // networks and addresses
  const onNetwork = new Map<string, InterfaceView>();
  let gatewayIface: { iface: InterfaceView; net: KnownNetwork } | undefined;
  for (const iface of ifaces) {
    const encloser = isString(iface.name) ? enclosedBy.get(iface.name) : undefined;
    if (encloser && (iface.network !== undefined || iface.address !== undefined)) {
      const key = iface.network !== undefined ? "network" : "address";
      add(
        ifPath(iface, key),
        `${show(iface.name)} is taken by ${describeEncloser(encloser)}; put network and address on ${show(encloser.name)} instead`,
      );
      continue;
    }
    if (iface.address !== undefined && iface.network === undefined) {
      add(
        ifPath(iface, "address"),
        `${show(iface.address)} needs a network (set network: to the name of the network it belongs to)`,
      );
    }
    if (!checkNetworkRef(networks, add, ifPath(iface, "network"), iface.network)) continue;
    const netName = iface.network as string;
    if (netName === ringNetwork) {
      add(
        ifPath(iface, "network"),
        `${show(netName)} is the thunderbolt ring network; its addresses are the nodes' thunderbolt loopbacks`,
      );
      continue;
    }
    const other = onNetwork.get(netName);
    if (other) {
      add(
        ifPath(iface, "network"),
        `${show(netName)} is already the network of interface ${show(other.name)} (${ifRef(other)}); a node has one interface per network`,
      );
      continue;
    }
    onNetwork.set(netName, iface);
    const net = networks.known.get(netName);
    if (!net) continue;
    if (isString(iface.address)) {
      const problem = hostAddressProblem(iface.address, net.cidr);
      if (problem) {
        add(ifPath(iface, "address"), `${show(iface.address)} ${problem} network ${show(net.name)} (${net.cidr})`);
      } else if (iface.address === net.gateway) {
        add(ifPath(iface, "address"), `${show(iface.address)} is the gateway of network ${show(net.name)}`);
      }
    }
    if (isMtu(iface.mtu) && net.mtu !== undefined && iface.mtu !== net.mtu) {
      add(ifPath(iface, "mtu"), `${iface.mtu} differs from the MTU ${net.mtu} of network ${show(net.name)}`);
    }
    if (net.gateway !== undefined) {
      if (gatewayIface) {
        add(
          ifPath(iface, "network"),
          `${show(net.name)} has a gateway (${net.gateway}), but interface ${show(gatewayIface.iface.name)} is already on ` +
            `network ${show(gatewayIface.net.name)} with gateway ${gatewayIface.net.gateway}; a node has one default gateway`,
        );
      } else gatewayIface = { iface, net };
    }
  }
  return byName;
}

function describeEncloser(i: InterfaceView): string {
  return `${i.type === "bond" ? "bond" : "bridge"} ${show(i.name)}`;
}

function vlanEntryContains(entry: number | string, id: number): boolean {
  if (typeof entry === "number") return entry === id;
  const [from, to] = entry.split("-").map(Number);
  return id >= from && id <= to;
}
