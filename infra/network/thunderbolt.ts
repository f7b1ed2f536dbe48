/**
 * Files that turn Thunderbolt/USB4 ports into a routed ring (scyto's recipe,
 * domain-notes §1.12), rendered as plain text:
 *
 * - modules-load.d: `thunderbolt` + `thunderbolt-net` are loaded at boot even
 *   when nothing is plugged in yet (failure point 1: after a power cut all
 *   nodes boot together, nothing is detected, and the modules never load).
 * - one systemd .link file per port, matched by PCI path, so the port is
 *   always called en05/en06 whatever order the controllers enumerate in.
 *   Applied by systemd-udevd (net_setup_link), also inside the initramfs,
 *   hence `update-initramfs -u -k all` after a change. systemd-networkd is not
 *   needed for .link files and is left alone (ifupdown2 owns addressing).
 * - a udev rule + a templated oneshot that bring a port up with the ring MTU
 *   whenever it appears or is renamed (failure point 3: a neighbour reboot or
 *   re-plug leaves the link down), and a boot-time oneshot ordered
 *   `Before=frr.service ceph.target` that waits (bounded) for the ports
 *   (failure point 2: FRR and Ceph OSDs starting before the links exist).
 * - FRR OpenFabric (fabricd) on the loopback /32, hello 1 s / CSNP 2 s, and
 *   `net.ipv4.ip_forward=1`, so every node reaches both others even with one
 *   cable out (the third node forwards).
 *
 * Why classic fabricd and not Proxmox 9's SDN → Fabrics → OpenFabric: the SDN
 * fabric needs the node to already be in a cluster, but corosync may use the
 * ring (e.g. link0 on the loopbacks), so the ring must route before
 * `pvecm create`; classic fabricd also works on Proxmox 8.
 *
 * Pure functions, unit-tested with exact expected text.
 */
import { RING_MTU } from "./interfaces";
import type { ThunderboltPortSpec } from "./types";

export const MODULES_LOAD_PATH = "/etc/modules-load.d/thunderbolt.conf";
export const UDEV_RULE_PATH = "/etc/udev/rules.d/10-homelab-thunderbolt.rules";
/** Kept under /etc (not /usr/local) so it is node configuration, like the units that call it. */
export const LINK_UP_SCRIPT_PATH = "/etc/homelab/thunderbolt-link-up";
export const LINK_UNIT_NAME = "homelab-tb-link@.service";
export const RING_UNIT_NAME = "homelab-tb-ring.service";
export const SYSTEMD_DIR = "/etc/systemd/system";
export const SYSCTL_PATH = "/etc/sysctl.d/80-homelab-ring.conf";
export const FRR_DAEMONS_PATH = "/etc/frr/daemons";
export const FRR_CONF_PATH = "/etc/frr/frr.conf";
/** Block id inside /etc/frr/daemons and /etc/frr/frr.conf. */
export const FRR_BLOCK_ID = "thunderbolt-ring";
/** OpenFabric process tag in frr.conf. */
export const OPENFABRIC_TAG = "1";
/** Seconds the boot-time unit waits for each port before letting FRR/Ceph start anyway. */
export const BOOT_WAIT_SECONDS = 30;

export function linkFilePath(port: Pick<ThunderboltPortSpec, "name">): string {
  // 00- sorts before 99-default.link: the first matching .link file wins.
  return `/etc/systemd/network/00-homelab-${port.name}.link`;
}

export function modulesLoadConf(): string {
  return [
    "# Thunderbolt/USB4 ring networking (managed by Pulumi).",
    "# Loaded at every boot, even before a cable or neighbour is detected.",
    "thunderbolt",
    "thunderbolt-net",
    "",
  ].join("\n");
}

/** `pci-` + the port's PCI path, as udev's path_id names it (ID_PATH). */
export function udevPciPath(pciPath: string): string {
  return pciPath.startsWith("pci-") ? pciPath : `pci-${pciPath}`;
}

export function linkFile(port: Pick<ThunderboltPortSpec, "name" | "pciPath">): string {
  return [
    `# Thunderbolt ring port ${port.name} (managed by Pulumi): stable name by PCI path.`,
    "[Match]",
    `Path=${udevPciPath(port.pciPath)}`,
    "Driver=thunderbolt-net",
    "",
    "[Link]",
    "MACAddressPolicy=none",
    `Name=${port.name}`,
    "",
  ].join("\n");
}

export function udevRule(ports: readonly string[]): string {
  const lines = [
    "# Thunderbolt ring ports (managed by Pulumi): bring a port up with the ring MTU whenever it",
    "# appears or is renamed (boot, neighbour reboot, re-plugged cable).",
  ];
  for (const p of ports) {
    lines.push(
      `ACTION=="add|move", SUBSYSTEM=="net", KERNEL=="${p}", RUN+="/usr/bin/systemctl --no-block start homelab-tb-link@${p}.service"`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * `thunderbolt-link-up DEV MTU [SECONDS]`: set DEV up with MTU, retrying
 * while the device is missing or the driver is not ready. A plain POSIX sh
 * script, uploaded through stdin (never a heredoc, so the shebang cannot be
 * escaped into `#\!`, failure point 6).
 */
export function linkUpScript(): string {
  return `#!/bin/sh
# Bring a Thunderbolt ring port up with the ring MTU (managed by Pulumi).
# usage: thunderbolt-link-up DEV MTU [SECONDS]
set -u
dev="$1"
mtu="$2"
wait="\${3:-10}"
i=0
while :; do
  if [ -e "/sys/class/net/$dev" ] && ip link set dev "$dev" mtu "$mtu" up 2>/dev/null; then
    if [ "$(cat "/sys/class/net/$dev/mtu")" = "$mtu" ]; then
      echo "$dev is up with MTU $mtu"
      exit 0
    fi
  fi
  i=$((i + 1))
  if [ "$i" -ge "$wait" ]; then
    echo "$dev did not come up with MTU $mtu within $wait s" >&2
    exit 1
  fi
  sleep 1
done
`;
}

/** Template unit started by the udev rule for one port (`%i` = port name). */
export function linkUnit(mtu: number = RING_MTU): string {
  return [
    "# Managed by Pulumi.",
    "[Unit]",
    `Description=Thunderbolt ring port %i up with MTU ${mtu}`,
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${LINK_UP_SCRIPT_PATH} %i ${mtu} 10`,
    "",
  ].join("\n");
}

/**
 * Boot-time unit: waits for every port (bounded, failures ignored with `-`
 * so a missing neighbour never blocks boot) and is ordered before FRR and
 * every Ceph target, so fabricd sees the ports and OSDs/mons can bind.
 */
export function ringUnit(ports: readonly string[], mtu: number = RING_MTU): string {
  return [
    "# Managed by Pulumi.",
    "[Unit]",
    "Description=Thunderbolt ring ports up before FRR and Ceph",
    "Wants=systemd-modules-load.service",
    "After=systemd-modules-load.service systemd-udevd.service",
    "Before=frr.service ceph.target ceph-mon.target ceph-osd.target ceph-mgr.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    ...ports.map((p) => `ExecStart=-${LINK_UP_SCRIPT_PATH} ${p} ${mtu} ${BOOT_WAIT_SECONDS}`),
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

export function sysctlConf(): string {
  return [
    "# Thunderbolt ring (managed by Pulumi): a node forwards for its neighbours when a cable is out.",
    "net.ipv4.ip_forward=1",
    "",
  ].join("\n");
}

/**
 * Block appended to /etc/frr/daemons. The file is sourced by frrinit.sh, so
 * a later assignment wins over the package default `fabricd=no`.
 */
export function frrDaemonsBlock(): string {
  return "fabricd=yes\n";
}

/**
 * The node's NET: area 49.0000, system id 0000.0000.XXXX where XXXX is the
 * loopback's last octet in decimal, zero-padded (10.100.0.11 →
 * 49.0000.0000.0011.00), as in scyto's recipe (…0081 for 10.0.0.81). The
 * ring component checks that no two ring nodes share a last octet.
 */
export function openFabricNet(loopback: string): string {
  const octets = loopback.split(".");
  const last = Number(octets[3]);
  if (octets.length !== 4 || !Number.isInteger(last) || last < 0 || last > 255) {
    throw new Error(`"${loopback}" is not an IPv4 address`);
  }
  return `49.0000.0000.${String(last).padStart(4, "0")}.00`;
}

export interface FrrArgs {
  loopback: string;
  ports: readonly string[];
  loopbackInterface: string;
}

/** Block for /etc/frr/frr.conf: OpenFabric on the ports, the loopback passive. */
export function frrConfBlock(args: FrrArgs): string {
  const lines: string[] = [];
  for (const p of args.ports) {
    lines.push(
      `interface ${p}`,
      ` ip router openfabric ${OPENFABRIC_TAG}`,
      " openfabric csnp-interval 2",
      " openfabric hello-interval 1",
      " openfabric hello-multiplier 2",
      "exit",
      "!",
    );
  }
  lines.push(
    `interface ${args.loopbackInterface}`,
    ` ip router openfabric ${OPENFABRIC_TAG}`,
    " openfabric passive",
    "exit",
    "!",
    `router openfabric ${OPENFABRIC_TAG}`,
    ` net ${openFabricNet(args.loopback)}`,
    " lsp-gen-interval 1",
    " max-lsp-lifetime 600",
    " lsp-refresh-interval 180",
    "exit",
    "!",
  );
  return lines.join("\n") + "\n";
}
