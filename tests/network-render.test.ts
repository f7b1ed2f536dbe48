/**
 * Pure renderers and parsers of the node network and the Thunderbolt ring:
 * exact expected text.
 */
import { describe, expect, it } from "vitest";
import { beginMarker, endMarker } from "../infra/managed-block";
import { formatStanzas, interfaceStanzas, ringStanzas } from "../infra/network/interfaces";
import { composeInterfaces, interfaceWithAddress, managementChanges, parseInterfaces, stanzaNames } from "../infra/network/interfaces-file";
import {
  frrConfBlock,
  frrDaemonsBlock,
  linkFile,
  linkFilePath,
  linkUnit,
  linkUpScript,
  modulesLoadConf,
  openFabricNet,
  ringUnit,
  sysctlConf,
  udevRule,
} from "../infra/network/thunderbolt";
import type { InterfaceSpec, NetworkSpec } from "../infra/network/types";
import { parseIpAddrOneline, parseIperf3, parsePing } from "../infra/network/verify-parse";
import { matrixFoxtrotBlock } from "./fixtures/interfaces";

const matrixNetworks: NetworkSpec[] = [
  { name: "management", cidr: "192.168.3.0/24", gateway: "192.168.3.1" },
  { name: "corosync", cidr: "192.168.8.0/24" },
  { name: "ceph-public", cidr: "192.168.5.0/24", mtu: 9000 },
  { name: "ceph-private", cidr: "192.168.7.0/24", mtu: 9000 },
];

const matrixFoxtrot: InterfaceSpec[] = [
  { type: "nic", name: "enp4s0" },
  { type: "nic", name: "enp5s0f0np0", mtu: 9000 },
  { type: "nic", name: "enp5s0f1np1", mtu: 9000 },
  { type: "bridge", name: "vmbr0", ports: ["enp4s0"], vlanAware: true, vlanIds: [9], network: "management", address: "192.168.3.5" },
  { type: "vlan", name: "vlan9", device: "vmbr0", vlanId: 9, network: "corosync", address: "192.168.8.5" },
  { type: "bridge", name: "vmbr1", ports: ["enp5s0f0np0"], mtu: 9000, network: "ceph-public", address: "192.168.5.5" },
  { type: "bridge", name: "vmbr2", ports: ["enp5s0f1np1"], mtu: 9000, network: "ceph-private", address: "192.168.7.5" },
];

const MATRIX_BLOCK = matrixFoxtrotBlock();

const ms01Networks: NetworkSpec[] = [
  { name: "management", cidr: "10.203.3.0/24", gateway: "10.203.3.1" },
  { name: "ring", cidr: "10.100.0.0/24" },
];

const ms01Frege: InterfaceSpec[] = [
  { type: "nic", name: "enp2s0f0np0" },
  { type: "nic", name: "enp2s0f1np1" },
  { type: "bond", name: "bond0", slaves: ["enp2s0f0np0", "enp2s0f1np1"], mode: "active-backup", primary: "enp2s0f0np0", miimon: 100 },
  { type: "bridge", name: "vmbr0", ports: ["bond0"], vlanAware: true, network: "management", address: "10.203.3.11" },
];

const MS01_BLOCK = `auto enp2s0f0np0
iface enp2s0f0np0 inet manual

auto enp2s0f1np1
iface enp2s0f1np1 inet manual

auto bond0
iface bond0 inet manual
\tbond-slaves enp2s0f0np0 enp2s0f1np1
\tbond-miimon 100
\tbond-mode active-backup
\tbond-primary enp2s0f0np0

auto vmbr0
iface vmbr0 inet static
\taddress 10.203.3.11/24
\tgateway 10.203.3.1
\tbridge-ports bond0
\tbridge-stp off
\tbridge-fd 0
\tbridge-vlan-aware yes
\tbridge-vids 2-4094

iface en05 inet manual
\tmtu 65520
#Thunderbolt ring port; brought up by homelab-tb-link@.service

iface en06 inet manual
\tmtu 65520
#Thunderbolt ring port; brought up by homelab-tb-link@.service

auto tbloop
iface tbloop inet static
\taddress 10.100.0.11/32
\tlink-type dummy
#Thunderbolt ring loopback, announced by FRR OpenFabric
`;

const INSTALLER = `auto lo
iface lo inet loopback

iface enp4s0 inet manual

auto vmbr0
iface vmbr0 inet static
\taddress 192.168.3.5/24
\tgateway 192.168.3.1
\tbridge-ports enp4s0
\tbridge-stp off
\tbridge-fd 0

iface enp5s0f0np0 inet manual

iface enp5s0f1np1 inet manual

iface wlp3s0 inet manual

# the lab's extra bridge, written by hand
auto vmbr9
iface vmbr9 inet manual
\tbridge-ports none
\tbridge-stp off
\tbridge-fd 0

source /etc/network/interfaces.d/*
`;

describe("interface stanzas (as Proxmox writes them)", () => {
  it("renders a matrix-like node: vlan-aware vmbr0 + vlan9, MTU 9000 bridges", () => {
    expect(formatStanzas(interfaceStanzas(matrixFoxtrot, matrixNetworks))).toBe(MATRIX_BLOCK);
  });

  it("renders an ms01-like node: active-backup bond0 under vmbr0, ring ports and loopback", () => {
    const stanzas = [
      ...interfaceStanzas(ms01Frege, ms01Networks),
      ...ringStanzas({ ports: ["en05", "en06"], loopback: "10.100.0.11" }),
    ];
    expect(formatStanzas(stanzas)).toBe(MS01_BLOCK);
  });

  it("writes the hash policy for 802.3ad, the network's MTU, and vlan-id for custom vlan names", () => {
    const out = formatStanzas(
      interfaceStanzas(
        [
          { type: "nic", name: "eno1", mtu: 9000 },
          { type: "nic", name: "eno2", mtu: 9000 },
          { type: "bond", name: "bond1", slaves: ["eno1", "eno2"], mode: "802.3ad", hashPolicy: "layer3+4", network: "storage", comment: "LACP to the switch" },
          { type: "vlan", name: "corosync", device: "bond1", vlanId: 42, network: "cs", address: "10.42.0.5" },
          { type: "vlan", name: "bond1.50", device: "bond1", vlanId: 50 },
        ],
        [
          { name: "storage", cidr: "10.9.0.0/24", mtu: 9000 },
          { name: "cs", cidr: "10.42.0.0/24" },
        ],
      ),
    );
    expect(out).toBe(`auto eno1
iface eno1 inet manual
\tmtu 9000

auto eno2
iface eno2 inet manual
\tmtu 9000

auto bond1
iface bond1 inet manual
\tbond-slaves eno1 eno2
\tbond-miimon 100
\tbond-mode 802.3ad
\tbond-xmit-hash-policy layer3+4
\tmtu 9000
#LACP to the switch

auto corosync
iface corosync inet static
\taddress 10.42.0.5/24
\tvlan-id 42
\tvlan-raw-device bond1

auto bond1.50
iface bond1.50 inet manual
`);
  });

  it("refuses vlan names that contradict device/vlanId", () => {
    expect(() => interfaceStanzas([{ type: "vlan", name: "vlan9", device: "vmbr0", vlanId: 10 }], [])).toThrow(
      "interface vlan9: the name means VLAN 9, but vlanId is 10; rename it to vlan10",
    );
    expect(() => interfaceStanzas([{ type: "vlan", name: "vmbr1.9", device: "vmbr0", vlanId: 9 }], [])).toThrow(
      "interface vmbr1.9: the name means VLAN 9 on vmbr1, but device is vmbr0 and vlanId is 9; rename it to vmbr0.9",
    );
    expect(() => interfaceStanzas([{ type: "nic", name: "eno1", network: "nope", address: "10.0.0.1" }], [])).toThrow(
      'interface eno1: no network named "nope"',
    );
  });
});

describe("parsing /etc/network/interfaces", () => {
  it("splits stanzas like Proxmox's reader: options up to the next keyword, trailing comment paragraphs excluded", () => {
    const parsed = parseInterfaces(INSTALLER);
    expect(parsed.stanzas.map((s) => [s.name, s.method, s.start, s.end])).toEqual([
      ["lo", "loopback", 1, 2],
      ["enp4s0", "manual", 3, 4],
      ["vmbr0", "static", 6, 12],
      ["enp5s0f0np0", "manual", 13, 14],
      ["enp5s0f1np1", "manual", 15, 16],
      ["wlp3s0", "manual", 17, 18],
      ["vmbr9", "manual", 21, 25],
    ]);
    expect([...parsed.auto]).toEqual(["lo", "vmbr0", "vmbr9"]);
    expect(parsed.stanzas[2].options).toEqual([
      ["address", "192.168.3.5/24"],
      ["gateway", "192.168.3.1"],
      ["bridge-ports", "enp4s0"],
      ["bridge-stp", "off"],
      ["bridge-fd", "0"],
    ]);
    expect(stanzaNames(MS01_BLOCK)).toEqual(["enp2s0f0np0", "enp2s0f1np1", "bond0", "vmbr0", "en05", "en06", "tbloop"]);
    expect(interfaceWithAddress(INSTALLER, "192.168.3.5")).toBe("vmbr0");
  });
});

describe("composing the file: block placement and adoption", () => {
  it("adopts the installer's stanzas of managed interfaces, keeps everything else, and puts the block before `source`", () => {
    const { text, adopted } = composeInterfaces(INSTALLER, MATRIX_BLOCK);
    expect(adopted).toEqual(["enp4s0", "vmbr0", "enp5s0f0np0", "enp5s0f1np1"]);
    expect(text).toBe(
      `auto lo
iface lo inet loopback

iface wlp3s0 inet manual

# the lab's extra bridge, written by hand
auto vmbr9
iface vmbr9 inet manual
\tbridge-ports none
\tbridge-stp off
\tbridge-fd 0

${beginMarker("network")}
${MATRIX_BLOCK}${endMarker("network")}

source /etc/network/interfaces.d/*
`,
    );
    // Exactly one stanza per interface: ifupdown2 never sees duplicates.
    const names = parseInterfaces(text).stanzas.map((s) => s.name);
    expect(names.length).toBe(new Set(names).size);
    // Composing again is a fixed point.
    expect(composeInterfaces(text, MATRIX_BLOCK).text).toBe(text);
    expect(composeInterfaces(text, MATRIX_BLOCK).adopted).toEqual([]);
  });

  it("replaces the block in place and re-adopts a stanza someone added outside it", () => {
    const first = composeInterfaces(INSTALLER, MATRIX_BLOCK).text;
    const edited = first.replace("source /etc/network/interfaces.d/*", "auto vmbr1\niface vmbr1 inet manual\n\nsource /etc/network/interfaces.d/*");
    const { text, adopted } = composeInterfaces(edited, MATRIX_BLOCK);
    expect(adopted).toEqual(["vmbr1"]);
    expect(text).toBe(first);
  });

  it("recovers after a Proxmox GUI save dropped BEGIN and moved END into the last stanza", () => {
    const first = composeInterfaces(INSTALLER, MATRIX_BLOCK).text;
    // PVE drops top-level comments and keeps a comment that follows a stanza's options as its comment.
    const guiSaved = first
      .replace(`${beginMarker("network")}\n`, "")
      .replace(`\tvlan-raw-device vmbr0\n${endMarker("network")}\n`, `\tvlan-raw-device vmbr0\n#END homelab network\n`)
      .replace("#END homelab network", endMarker("network"));
    expect(guiSaved).not.toContain(beginMarker("network"));
    const { text, adopted } = composeInterfaces(guiSaved, MATRIX_BLOCK);
    expect(adopted).toEqual(["enp4s0", "enp5s0f0np0", "enp5s0f1np1", "vmbr0", "vmbr1", "vmbr2", "vlan9"]);
    expect(text.split(endMarker("network")).length).toBe(2);
    expect(composeInterfaces(text, MATRIX_BLOCK).text).toBe(text);
    expect(stanzaNames(text).sort()).toEqual(["enp4s0", "enp5s0f0np0", "enp5s0f1np1", "lo", "vlan9", "vmbr0", "vmbr1", "vmbr2", "vmbr9", "wlp3s0"]);
  });

  it("takes managed names off multi-name auto lines and leaves inet6 stanzas alone", () => {
    const current = "auto lo vmbr0 eno9\niface lo inet loopback\n\niface vmbr0 inet6 static\n\taddress fd00::5/64\n";
    const { text } = composeInterfaces(current, "auto vmbr0\niface vmbr0 inet manual\n");
    expect(text).toBe(
      `auto lo eno9\niface lo inet loopback\n\niface vmbr0 inet6 static\n\taddress fd00::5/64\n\n${beginMarker("network")}\nauto vmbr0\niface vmbr0 inet manual\n${endMarker("network")}\n`,
    );
  });
});

describe("management guard", () => {
  const adoptUnchanged = `iface enp4s0 inet manual

auto vmbr0
iface vmbr0 inet static
\taddress 192.168.3.5/24
\tgateway 192.168.3.1
\tbridge-ports enp4s0
\tbridge-stp off
\tbridge-fd 0
`;

  it("adopting the management bridge unchanged is not a change (formatting, netmask and _ spellings ignored)", () => {
    const legacy = INSTALLER.replace("\taddress 192.168.3.5/24\n", "\taddress 192.168.3.5\n\tnetmask 255.255.255.0\n").replace(
      "bridge-ports",
      "bridge_ports",
    );
    expect(managementChanges(legacy, composeInterfaces(legacy, adoptUnchanged).text, "192.168.3.5")).toEqual([]);
  });

  it("lists each semantic change to the management stanza, its ports and the gateway", () => {
    const candidate = composeInterfaces(INSTALLER, MATRIX_BLOCK).text;
    expect(managementChanges(INSTALLER, candidate, "192.168.3.5")).toEqual([
      "vmbr0: bridge-vids (unset) → 9",
      "vmbr0: bridge-vlan-aware (unset) → yes",
    ]);
    const bonded = composeInterfaces(
      INSTALLER,
      adoptUnchanged.replace("bridge-ports enp4s0", "bridge-ports bond0") + "\nauto bond0\niface bond0 inet manual\n\tbond-slaves enp4s0\n\tbond-miimon 100\n\tbond-mode active-backup\n",
    ).text;
    expect(managementChanges(INSTALLER, bonded, "192.168.3.5")).toEqual([
      "vmbr0: bridge-ports enp4s0 → bond0",
      "bond0: stanza added (bond-slaves enp4s0; bond-miimon 100; bond-mode active-backup)",
    ]);
    const moved = composeInterfaces(INSTALLER, adoptUnchanged.replace("192.168.3.5/24", "192.168.3.50/24")).text;
    expect(managementChanges(INSTALLER, moved, "192.168.3.5")).toEqual(["vmbr0: address 192.168.3.5/24 → 192.168.3.50/24"]);
  });

  it("ignores changes to interfaces off the management path", () => {
    const candidate = composeInterfaces(INSTALLER, adoptUnchanged + "\nauto vmbr1\niface vmbr1 inet manual\n\tbridge-ports none\n").text;
    expect(managementChanges(INSTALLER, candidate, "192.168.3.5")).toEqual([]);
  });
});

describe("Thunderbolt ring files", () => {
  it("loads both modules at boot", () => {
    expect(modulesLoadConf()).toBe(
      "# Thunderbolt/USB4 ring networking (managed by Pulumi).\n# Loaded at every boot, even before a cable or neighbour is detected.\nthunderbolt\nthunderbolt-net\n",
    );
  });

  it("names ports by PCI path with a .link file sorting before 99-default.link", () => {
    const port = { name: "en05", pciPath: "0000:00:0d.2", peer: "russell" };
    expect(linkFilePath(port)).toBe("/etc/systemd/network/00-homelab-en05.link");
    expect(linkFile(port)).toBe(
      "# Thunderbolt ring port en05 (managed by Pulumi): stable name by PCI path.\n[Match]\nPath=pci-0000:00:0d.2\nDriver=thunderbolt-net\n\n[Link]\nMACAddressPolicy=none\nName=en05\n",
    );
  });

  it("brings ports up with MTU 65520 from udev and at boot before FRR and Ceph", () => {
    expect(udevRule(["en05", "en06"])).toBe(
      "# Thunderbolt ring ports (managed by Pulumi): bring a port up with the ring MTU whenever it\n" +
        "# appears or is renamed (boot, neighbour reboot, re-plugged cable).\n" +
        'ACTION=="add|move", SUBSYSTEM=="net", KERNEL=="en05", RUN+="/usr/bin/systemctl --no-block start homelab-tb-link@en05.service"\n' +
        'ACTION=="add|move", SUBSYSTEM=="net", KERNEL=="en06", RUN+="/usr/bin/systemctl --no-block start homelab-tb-link@en06.service"\n',
    );
    expect(linkUnit()).toContain("ExecStart=/etc/homelab/thunderbolt-link-up %i 65520 10\n");
    expect(ringUnit(["en05", "en06"])).toBe(`# Managed by Pulumi.
[Unit]
Description=Thunderbolt ring ports up before FRR and Ceph
Wants=systemd-modules-load.service
After=systemd-modules-load.service systemd-udevd.service
Before=frr.service ceph.target ceph-mon.target ceph-osd.target ceph-mgr.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=-/etc/homelab/thunderbolt-link-up en05 65520 30
ExecStart=-/etc/homelab/thunderbolt-link-up en06 65520 30

[Install]
WantedBy=multi-user.target
`);
    const script = linkUpScript();
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain('ip link set dev "$dev" mtu "$mtu" up');
    expect(sysctlConf()).toContain("\nnet.ipv4.ip_forward=1\n");
  });

  it("configures FRR OpenFabric with the node's NET, hello 1 s and CSNP 2 s", () => {
    expect(openFabricNet("10.100.0.11")).toBe("49.0000.0000.0011.00");
    expect(openFabricNet("10.0.0.81")).toBe("49.0000.0000.0081.00");
    expect(openFabricNet("10.0.0.3")).toBe("49.0000.0000.0003.00");
    expect(frrDaemonsBlock()).toBe("fabricd=yes\n");
    expect(frrConfBlock({ loopback: "10.100.0.12", ports: ["en05", "en06"], loopbackInterface: "tbloop" })).toBe(`interface en05
 ip router openfabric 1
 openfabric csnp-interval 2
 openfabric hello-interval 1
 openfabric hello-multiplier 2
exit
!
interface en06
 ip router openfabric 1
 openfabric csnp-interval 2
 openfabric hello-interval 1
 openfabric hello-multiplier 2
exit
!
interface tbloop
 ip router openfabric 1
 openfabric passive
exit
!
router openfabric 1
 net 49.0000.0000.0012.00
 lsp-gen-interval 1
 max-lsp-lifetime 600
 lsp-refresh-interval 180
exit
!
`);
  });
});

describe("tool output parsers", () => {
  it("parses iputils ping summaries", () => {
    expect(
      parsePing(
        "PING 10.100.0.12 (10.100.0.12) from 10.100.0.11 : 56(84) bytes of data.\n\n--- 10.100.0.12 ping statistics ---\n" +
          "3 packets transmitted, 3 received, 0% packet loss, time 402ms\nrtt min/avg/max/mdev = 0.101/0.120/0.140/0.016 ms\n",
      ),
    ).toEqual({ transmitted: 3, received: 3, avgRttMs: 0.12 });
    expect(parsePing("3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2051ms\n")).toEqual({ transmitted: 3, received: 0 });
    expect(parsePing("ping: connect: Network is unreachable\n")).toBeUndefined();
  });

  it("parses iperf3 -J results and errors", () => {
    const ok = JSON.stringify({
      start: {},
      intervals: [],
      end: {
        sum_sent: { seconds: 3.0001, bits_per_second: 26.4e9, retransmits: 12 },
        sum_received: { seconds: 3.0001, bits_per_second: 26.337e9 },
      },
    });
    expect(parseIperf3(ok)).toEqual({ gbps: 26.34, retransmits: 12, seconds: 3 });
    expect(parseIperf3('{"start":{},"intervals":[],"end":{},"error":"unable to connect to server: Connection refused"}')).toEqual({
      error: "unable to connect to server: Connection refused",
    });
    expect(parseIperf3("iperf3: error - bad")).toEqual({ error: 'iperf3 did not print JSON: "iperf3: error - bad"' });
  });

  it("parses ip -o -4 addr show", () => {
    expect(
      parseIpAddrOneline(
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
          "5: vmbr0    inet 192.168.3.5/24 brd 192.168.3.255 scope global vmbr0\\       valid_lft forever preferred_lft forever\n" +
          "7: vlan9@vmbr0    inet 192.168.8.5/24 scope global vlan9\\       valid_lft forever preferred_lft forever\n",
      ),
    ).toEqual([
      { interface: "lo", cidr: "127.0.0.1/8" },
      { interface: "vmbr0", cidr: "192.168.3.5/24" },
      { interface: "vlan9", cidr: "192.168.8.5/24" },
    ]);
  });
});
