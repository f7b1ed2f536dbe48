import type { NodeThunderboltSpec } from "../../infra/network/types";
import {
  FRR_CONF_PATH,
  FRR_DAEMONS_PATH,
  frrConfBlock,
  frrDaemonsBlock,
  MODULES_LOAD_PATH,
  modulesLoadConf,
  RING_UNIT_NAME,
  ringUnit,
  SYSCTL_PATH,
  sysctlConf,
  SYSTEMD_DIR,
} from "../../infra/network/thunderbolt";
import type { SimCable, SimCluster } from "../sim/cluster";

/** The ms01 ring: frege en05 - russell en06, russell en05 - wittgenstein en06, wittgenstein en05 - frege en06. */
export const MS01_RING: Record<string, NodeThunderboltSpec> = {
  frege: {
    loopback: "10.100.0.11",
    ports: [
      { name: "en05", pciPath: "0000:00:0d.2", peer: "russell" },
      { name: "en06", pciPath: "0000:00:0d.3", peer: "wittgenstein" },
    ],
  },
  russell: {
    loopback: "10.100.0.12",
    ports: [
      { name: "en05", pciPath: "0000:00:0d.2", peer: "wittgenstein" },
      { name: "en06", pciPath: "0000:00:0d.3", peer: "frege" },
    ],
  },
  wittgenstein: {
    loopback: "10.100.0.13",
    ports: [
      { name: "en05", pciPath: "0000:00:0d.2", peer: "frege" },
      { name: "en06", pciPath: "0000:00:0d.3", peer: "russell" },
    ],
  },
};

export const MS01_NODES = Object.keys(MS01_RING);

export const MS01_CABLES: SimCable[] = [
  ["frege", "en05", "russell", "en06"],
  ["russell", "en05", "wittgenstein", "en06"],
  ["wittgenstein", "en05", "frege", "en06"],
];

/** Model the ms01 cables and loopbacks in the simulator (nothing on the nodes yet). */
export function modelMs01Ring(sim: SimCluster): void {
  sim.setRing(MS01_CABLES, Object.fromEntries(MS01_NODES.map((n) => [n, MS01_RING[n].loopback])));
}

/**
 * A working ring without going through the providers (setup for tests of the verification): the
 * rendered modules, ring unit, sysctl and FRR files, modules loaded, forwarding on, the ring unit
 * and FRR enabled and started, the loopbacks up. Runs inside the nodes without SSH (not logged).
 */
export async function bringUpMs01Ring(sim: SimCluster): Promise<void> {
  modelMs01Ring(sim);
  for (const node of MS01_NODES) {
    const tb = MS01_RING[node];
    const ports = tb.ports.map((p) => p.name);
    const files: [string, string][] = [
      [MODULES_LOAD_PATH, modulesLoadConf()],
      [`${SYSTEMD_DIR}/${RING_UNIT_NAME}`, ringUnit(ports)],
      [SYSCTL_PATH, sysctlConf()],
      [FRR_DAEMONS_PATH, `zebra=yes\nfabricd=no\n${frrDaemonsBlock()}`],
      [FRR_CONF_PATH, frrConfBlock({ loopback: tb.loopback, ports, loopbackInterface: "tbloop" })],
    ];
    const script = [
      ...files.map(([p, text]) => `mkdir -p "$(dirname ${p})" && printf '%s' '${text.replace(/'/g, "'\\''")}' > ${p}`),
      "modprobe -a thunderbolt thunderbolt-net",
      `sysctl -q -p ${SYSCTL_PATH}`,
      `systemctl enable --now ${RING_UNIT_NAME} frr.service`,
    ].join(" && ");
    const r = await sim.exec(node, script);
    if (r.code !== 0) throw new Error(`bringUpMs01Ring ${node}: ${r.stderr}`);
    sim.setAddresses(node, [sim.node(node).host, tb.loopback]);
  }
}
