/**
 * The Interfaces provider (NodeNetwork) against the simulated cluster: the
 * managed block with Proxmox-style stanzas, adoption of the installer's
 * stanzas, the management guard, idempotence, validation, rollback, drift,
 * delete, and serialization.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { beginMarker, endMarker } from "../infra/managed-block";
import { formatStanzas, interfaceStanzas, ringStanzas } from "../infra/network/interfaces";
import type { InterfaceSpec, NetworkSpec } from "../infra/network/types";
import type { ConnectionArgs } from "../infra/providers/connection";
import {
  BACKUP_PATH,
  INTERFACES_PROVIDER_VERSION,
  InterfacesInputs,
  applyInterfaces,
  interfacesProvider,
} from "../infra/providers/network/node-network";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { simConnection } from "./helpers/sim-connection";
import { matrixFoxtrotBlock } from "./fixtures/interfaces";

let sim: SimCluster;
let testStart = 0;

function conn(name: string, options: Record<string, number> = {}): ConnectionArgs {
  return simConnection(sim, name, options);
}

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`setup command failed (${r.code}): ${cmd}: ${r.stderr}`);
  return r.stdout;
}

const readFile = (node: string, path = "/etc/network/interfaces") => sh(node, `cat ${path}`);
const writeFile = (node: string, text: string, path = "/etc/network/interfaces") =>
  sh(node, `cat > ${path} <<'EOF_HOMELAB'\n${text}EOF_HOMELAB\n`);

/** SSH commands that change something (everything but reading the file). */
function mutating(node: string): string[] {
  return sim
    .commandLog()
    .filter((e) => e.node === node)
    .map((e) => e.command)
    .filter((c) => !/^if \[ ! -e \/etc\/network\/interfaces \]; then exit 3; fi; cat -- \/etc\/network\/interfaces$/.test(c));
}

/** argv of the fake tool's calls on `node` since the current test started. */
function tools(node: string, tool: string): string[][] {
  return sim
    .toolLog()
    .filter((e) => e.node === node && e.tool === tool && e.time >= testStart)
    .map((e) => e.argv);
}

const base = () => sim.node("foxtrot").host.replace(/\.\d+$/, "");

// --- a matrix-like node (foxtrot) -------------------------------------------
function matrixNetworks(): NetworkSpec[] {
  return [
    { name: "management", cidr: `${base()}.0/24`, gateway: `${base()}.1` },
    { name: "corosync", cidr: "192.168.8.0/24" },
    { name: "ceph-public", cidr: "192.168.5.0/24", mtu: 9000 },
    { name: "ceph-private", cidr: "192.168.7.0/24", mtu: 9000 },
  ];
}

function matrixInterfaces(extra: InterfaceSpec[] = []): InterfaceSpec[] {
  const host = sim.node("foxtrot").host;
  return [
    { type: "nic", name: "enp4s0" },
    { type: "nic", name: "enp5s0f0np0", mtu: 9000 },
    { type: "nic", name: "enp5s0f1np1", mtu: 9000 },
    { type: "bridge", name: "vmbr0", ports: ["enp4s0"], vlanAware: true, vlanIds: [9], network: "management", address: host },
    { type: "vlan", name: "vlan9", device: "vmbr0", vlanId: 9, network: "corosync", address: "192.168.8.5" },
    { type: "bridge", name: "vmbr1", ports: ["enp5s0f0np0"], mtu: 9000, network: "ceph-public", address: "192.168.5.5" },
    { type: "bridge", name: "vmbr2", ports: ["enp5s0f1np1"], mtu: 9000, network: "ceph-private", address: "192.168.7.5" },
    ...extra,
  ];
}

function matrixInputs(extra: Partial<InterfacesInputs> = {}, interfaces = matrixInterfaces()): InterfacesInputs {
  return {
    ...conn("foxtrot"),
    providerVersion: INTERFACES_PROVIDER_VERSION,
    content: formatStanzas(interfaceStanzas(interfaces, matrixNetworks())),
    managementAddress: sim.node("foxtrot").host,
    ...extra,
  };
}

function installer(node: string, port: string, extraNics: string[]): string {
  const host = sim.node(node).host;
  return `auto lo
iface lo inet loopback

iface ${port} inet manual

auto vmbr0
iface vmbr0 inet static
\taddress ${host}/24
\tgateway ${base()}.1
\tbridge-ports ${port}
\tbridge-stp off
\tbridge-fd 0

${extraNics.map((n) => `iface ${n} inet manual\n`).join("\n")}
# kept: a bridge written by hand
auto vmbr9
iface vmbr9 inet manual
\tbridge-ports none
\tbridge-stp off
\tbridge-fd 0

source /etc/network/interfaces.d/*
`;
}

const MATRIX_INSTALLER = () => installer("foxtrot", "enp4s0", ["enp5s0f0np0", "enp5s0f1np1"]);

// --- an ms01-like node (frege) ------------------------------------------------
function ms01Inputs(extra: Partial<InterfacesInputs> = {}): InterfacesInputs {
  const host = sim.node("frege").host;
  const interfaces: InterfaceSpec[] = [
    { type: "nic", name: "enp2s0f0np0" },
    { type: "nic", name: "enp2s0f1np1" },
    { type: "bond", name: "bond0", slaves: ["enp2s0f0np0", "enp2s0f1np1"], mode: "active-backup", primary: "enp2s0f0np0", miimon: 100 },
    { type: "bridge", name: "vmbr0", ports: ["bond0"], vlanAware: true, network: "management", address: host },
  ];
  const networks: NetworkSpec[] = [{ name: "management", cidr: `${base()}.0/24`, gateway: `${base()}.1` }];
  const content = formatStanzas([
    ...interfaceStanzas(interfaces, networks),
    ...ringStanzas({ ports: ["en05", "en06"], loopback: "10.100.0.11" }),
  ]);
  return { ...conn("frege"), providerVersion: INTERFACES_PROVIDER_VERSION, content, managementAddress: host, ...extra };
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "frege" }, { name: "golf" }]);
  await writeFile("foxtrot", MATRIX_INSTALLER());
  await writeFile("frege", installer("frege", "enp2s0f0np0", ["enp2s0f1np1"]));
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => {
  testStart = Date.now();
  sim.clearLog();
  sim.clearFaults();
});

describe("matrix-like node: vlan-aware vmbr0 + vlan9, vmbr1/vmbr2 with MTU 9000", () => {
  it("refuses to change the management bridge without allowManagementChange, and changes nothing", async () => {
    const err = await interfacesProvider.create!(matrixInputs()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^foxtrot: refusing to change the management network: /);
    expect(msg).toContain(`carry ${sim.node("foxtrot").host} (SSH) or the default gateway:\n`);
    expect(msg).toContain("  - vmbr0: bridge-vids (unset) → 9\n  - vmbr0: bridge-vlan-aware (unset) → yes\n");
    expect(msg).toContain("set allowManagementChange: true for foxtrot");
    expect(mutating("foxtrot")).toEqual([]);
    expect(tools("foxtrot", "ifreload")).toEqual([]);
    expect(await readFile("foxtrot")).toBe(MATRIX_INSTALLER());
  });

  it("with allowManagementChange: writes the block, adopts vmbr0 and its NICs, keeps vmbr9 and `source`, reloads once", async () => {
    const inputs = matrixInputs({ allowManagementChange: true });
    const { id, outs } = await interfacesProvider.create!(inputs);
    expect(id).toBe("foxtrot:/etc/network/interfaces#network");
    expect(outs).toEqual(inputs);
    const host = sim.node("foxtrot").host;
    expect(await readFile("foxtrot")).toBe(`auto lo
iface lo inet loopback

# kept: a bridge written by hand
auto vmbr9
iface vmbr9 inet manual
\tbridge-ports none
\tbridge-stp off
\tbridge-fd 0

${beginMarker("network")}
${matrixFoxtrotBlock(host, `${base()}.1`)}${endMarker("network")}

source /etc/network/interfaces.d/*
`);
    // validated, backed up, reloaded once, confirmed
    expect(tools("foxtrot", "ifup")).toEqual([["-a", "--no-act", "-i", "/etc/network/interfaces.homelab-new"]]);
    expect(tools("foxtrot", "ifreload")).toEqual([["-a"]]);
    expect(await readFile("foxtrot", BACKUP_PATH)).toBe(MATRIX_INSTALLER());
    expect(await sh("foxtrot", "ls -A /etc/network/")).not.toMatch(/homelab-new/);
    // confirmed (the timer lost the race and will exit by itself)
    expect(await sh("foxtrot", "ls -A /run/homelab-network/")).toMatch(/^armed\.confirmed$/m);
    expect(await sh("foxtrot", "ls -A /run/homelab-network/")).not.toMatch(/^armed$/m);
    // the verification ran on a second, fresh connection
    expect(mutating("foxtrot").some((c) => c.startsWith("LC_ALL=C ip -o -4 addr show"))).toBe(true);
  });

  it("a second apply (update, or create after lost state) writes nothing and does not reload", async () => {
    const inputs = matrixInputs({ allowManagementChange: true });
    await interfacesProvider.update!("id", inputs, inputs);
    await interfacesProvider.create!(matrixInputs());
    expect(mutating("foxtrot")).toEqual([]);
    expect(tools("foxtrot", "ifreload")).toEqual([]);
    expect(tools("foxtrot", "ifup")).toEqual([]);
    expect(sim.commandLog().filter((e) => e.node === "foxtrot")).toHaveLength(2);
  });

  it("reads a hand edit inside the block as drift; the next apply restores it", async () => {
    const inputs = matrixInputs();
    await sh("foxtrot", "sed -i 's/^\\taddress 192.168.7.5\\/24$/\\taddress 192.168.7.99\\/24/' /etc/network/interfaces");
    const read = await interfacesProvider.read!("id", inputs);
    expect(read.id).toBe("id");
    expect(read.props!.content).toContain("\taddress 192.168.7.99/24\n");
    const diff = await interfacesProvider.diff!("id", read.props!, inputs);
    expect(diff).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    await interfacesProvider.update!("id", read.props!, inputs);
    expect(await readFile("foxtrot")).toContain("\taddress 192.168.7.5/24\n");
    expect(tools("foxtrot", "ifreload")).toEqual([["-a"]]);
    const clean = await interfacesProvider.read!("id", inputs);
    expect(clean.props!.content).toBe(inputs.content);
    expect((await interfacesProvider.diff!("id", clean.props!, inputs)).changes).toBe(false);
  });

  it("a failing ifreload restores the backup, reloads it, and the error names the node and the command", async () => {
    const before = await readFile("foxtrot");
    sim.injectFault({
      node: "foxtrot",
      match: "ifreload -a",
      mode: "fail-once",
      exitCode: 1,
      stderr: "error: vmbr3: bridge-ports: eno9: no such interface",
    });
    const inputs = matrixInputs({}, matrixInterfaces([{ type: "bridge", name: "vmbr3", ports: [] }]));
    const err = await interfacesProvider.update!("id", matrixInputs(), inputs).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^foxtrot: ifreload -a failed \(exit 1\): error: vmbr3: bridge-ports: eno9: no such interface\n/);
    expect(msg).toContain("command: LC_ALL=C ifreload -a");
    expect(msg).toContain("restored the previous /etc/network/interfaces from /etc/network/interfaces.homelab-bak and reloaded it");
    expect(await readFile("foxtrot")).toBe(before);
    // the injected failure, then the reload of the restored file
    const reloads = sim.commandLog().filter((e) => e.node === "foxtrot" && e.command === "LC_ALL=C ifreload -a");
    expect(reloads).toHaveLength(2);
    expect(await sh("foxtrot", "ls -A /run/homelab-network/")).not.toMatch(/^armed$/m);
  });

  it("a candidate the ifupdown2 dry run rejects is never installed", async () => {
    const before = await readFile("foxtrot");
    sim.injectFault({ node: "foxtrot", match: "ifup -a --no-act", mode: "fail-once", exitCode: 1, stderr: "error: vmbr3: invalid value" });
    const inputs = matrixInputs({}, matrixInterfaces([{ type: "bridge", name: "vmbr3", ports: [] }]));
    const err = await interfacesProvider.update!("id", matrixInputs(), inputs).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /^foxtrot: ifup -a --no-act \(dry run of the new \/etc\/network\/interfaces\) failed \(exit 1\): error: vmbr3: invalid value\n/,
    );
    expect(await readFile("foxtrot")).toBe(before);
    expect(tools("foxtrot", "ifreload")).toEqual([]);
    expect(await sh("foxtrot", "ls -A /etc/network/")).not.toContain("homelab-new");
  });

  it("rolls back when the management address is gone after ifreload", async () => {
    const before = await readFile("foxtrot");
    const host = sim.node("foxtrot").host;
    sim.setAddresses("foxtrot", ["192.0.2.1"]);
    try {
      const inputs = matrixInputs({}, matrixInterfaces([{ type: "bridge", name: "vmbr3", ports: [] }]));
      const err = await interfacesProvider.update!("id", matrixInputs(), inputs).catch((e: Error) => e);
      const msg = (err as Error).message;
      expect(msg).toMatch(new RegExp(`^foxtrot: the management address ${host.replace(/\./g, "\\.")} is not up after ifreload -a: `));
      expect(msg).toContain(`shows no ${host} (expected on vmbr0)`);
      expect(msg).toContain("restored the previous /etc/network/interfaces");
      expect(await readFile("foxtrot")).toBe(before);
    } finally {
      sim.setAddresses("foxtrot", [host]);
    }
  });

  it("a confirmation that comes after the node's timer fired is an error, not a success", async () => {
    const before = await readFile("foxtrot");
    // ifreload outlasts the 1 s timer, but not the SSH command timeout
    sim.injectFault({ node: "foxtrot", match: "LC_ALL=C ifreload -a", mode: "slow", seconds: 3 });
    const inputs = matrixInputs({ confirmTimeoutSeconds: 1 }, matrixInterfaces([{ type: "bridge", name: "vmbr3", ports: [] }]));
    const err = await applyInterfaces(inputs).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      "foxtrot: the new /etc/network/interfaces is not in effect: the confirmation came too late: the node's rollback timer (1 s) " +
        "had already restored /etc/network/interfaces.homelab-bak; raise confirmTimeoutSeconds if ifreload -a takes that long on this node",
    );
    expect(await readFile("foxtrot")).toBe(before);
  }, 30_000);

  it("when the connection dies during ifreload, the node's timer restores the old file by itself", async () => {
    const before = await readFile("foxtrot");
    // Simulate the cut: the reload command outlives the SSH command timeout.
    sim.injectFault({ node: "foxtrot", match: "LC_ALL=C ifreload -a", mode: "slow", seconds: 6 });
    const inputs = {
      ...matrixInputs({ confirmTimeoutSeconds: 2 }, matrixInterfaces([{ type: "bridge", name: "vmbr3", ports: [] }])),
      ...conn("foxtrot", { commandTimeoutMs: 3000 }),
    };
    const err = await applyInterfaces(inputs).catch((e: Error) => e);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^foxtrot: lost the SSH connection during ifreload -a \(foxtrot: ifreload timed out after 3 s/);
    expect(msg).toContain("the node restored the previous /etc/network/interfaces by itself after 2 s");
    expect(msg).toContain("Rollback log: no confirmation within 2 s: restored /etc/network/interfaces.homelab-bak");
    expect(await readFile("foxtrot")).toBe(before);
  }, 60_000);
});

describe("ms01-like node: active-backup bond0 under vmbr0, ring ports", () => {
  it("refuses moving vmbr0 onto the bond without the flag, then applies it with the flag", async () => {
    const err = await interfacesProvider.create!(ms01Inputs()).catch((e: Error) => e);
    expect((err as Error).message).toContain(
      "  - vmbr0: bridge-ports enp2s0f0np0 → bond0\n" +
        "  - vmbr0: bridge-vids (unset) → 2-4094\n" +
        "  - vmbr0: bridge-vlan-aware (unset) → yes\n" +
        "  - enp2s0f0np0: auto added\n" +
        "  - bond0: stanza added (bond-slaves enp2s0f0np0 enp2s0f1np1; bond-miimon 100; bond-mode active-backup; bond-primary enp2s0f0np0)\n" +
        "  - enp2s0f1np1: auto added\n",
    );
    expect(mutating("frege")).toEqual([]);

    await interfacesProvider.create!(ms01Inputs({ allowManagementChange: true }));
    const text = await readFile("frege");
    const block = text.slice(text.indexOf(beginMarker("network")), text.indexOf(endMarker("network")));
    expect(block).toContain(
      "auto bond0\niface bond0 inet manual\n\tbond-slaves enp2s0f0np0 enp2s0f1np1\n\tbond-miimon 100\n\tbond-mode active-backup\n\tbond-primary enp2s0f0np0\n",
    );
    expect(block).toContain("auto vmbr0\niface vmbr0 inet static\n");
    expect(block).toContain("\tbridge-ports bond0\n\tbridge-stp off\n\tbridge-fd 0\n\tbridge-vlan-aware yes\n\tbridge-vids 2-4094\n");
    expect(block).toContain("iface en05 inet manual\n\tmtu 65520\n");
    expect(block).toContain("auto tbloop\niface tbloop inet static\n\taddress 10.100.0.11/32\n\tlink-type dummy\n");
    expect(block).not.toContain("auto en05");
    // exactly one stanza per interface in the whole file
    const ifaces = text.split("\n").filter((l) => l.startsWith("iface ")).map((l) => l.split(" ")[1]);
    expect(ifaces.length).toBe(new Set(ifaces).size);
    expect(text).toContain("auto vmbr9\n");
    expect(tools("frege", "ifreload")).toEqual([["-a"]]);
  });
});

describe("delete", () => {
  it("leaves the stanzas (and the network) in place and only drops the markers", async () => {
    await interfacesProvider.create!(ms01Inputs({ allowManagementChange: true }));
    const before = await readFile("frege");
    sim.clearLog();
    await interfacesProvider.delete!("id", ms01Inputs());
    const after = await readFile("frege");
    expect(after).toBe(before.replace(`${beginMarker("network")}\n`, "").replace(`${endMarker("network")}\n`, ""));
    expect(tools("frege", "ifreload")).toEqual([]);
  });
});

describe("serialization", () => {
  it("serializes without secrets and runs create through the engine's loader", async () => {
    const serialized = serializeProvider("infra/providers/network/node-network.ts", "interfacesProvider");
    expect(serialized.containsSecrets).toBe(false);
    expect(serialized.text).not.toMatch(/PRIVATE KEY/);
    const provider = serialized.load();
    const host = sim.node("golf").host;
    // Adopting the simulator's own vmbr0 unchanged: no management change, so no flag needed.
    const content = `iface eno1 inet manual\n\nauto vmbr0\niface vmbr0 inet static\n\taddress ${host}/24\n\tbridge-ports eno1\n\tbridge-stp off\n\tbridge-fd 0\n`;
    const inputs: InterfacesInputs = { ...conn("golf"), providerVersion: INTERFACES_PROVIDER_VERSION, content, managementAddress: host };
    const { id } = await provider.create!(inputs);
    expect(id).toBe("golf:/etc/network/interfaces#network");
    expect(await readFile("golf")).toBe(
      `auto lo\niface lo inet loopback\n\n${beginMarker("network")}\n${content}${endMarker("network")}\n\nsource /etc/network/interfaces.d/*\n`,
    );
  });
});
