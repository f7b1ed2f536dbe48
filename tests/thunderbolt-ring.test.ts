/**
 * homelab:network:ThunderboltRing: what it registers under Pulumi mocks
 * (files per node, order, NETs, the verification), its consistency checks,
 * and the registered files applied to simulated nodes through the real
 * RemoteFile provider (contents on disk, the commands run on change, a
 * second apply running nothing).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ringProblem, type ThunderboltRingArgs } from "../components/thunderbolt-ring";
import { beginMarker, endMarker } from "../infra/managed-block";
import { REMOTE_FILE_PROVIDER_VERSION, RemoteFileInputs, remoteFileProvider } from "../infra/providers/linux/remote-file";
import { isSecretValue, runStack, settled, StackRun } from "./helpers/pulumi-mocks";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { MS01_RING } from "./helpers/ring-sim";

/**
 * The components are loaded with Node's own require + ts-node (as `pulumi up` loads them), not
 * through vitest's module runner: vite rewrites `await import()` into a helper that captures
 * `this`, and the closure serializer then cannot serialize any dynamic provider.
 */
const nodeRequire = createRequire(__filename);
nodeRequire("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
const { NodeNetwork } = nodeRequire("../components/node-network") as typeof import("../components/node-network");
const { ThunderboltRing } = nodeRequire("../components/thunderbolt-ring") as typeof import("../components/thunderbolt-ring");

const STACK_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "thunderbolt-ring-"));
const STACK_FILE = path.join(STACK_DIR, "Pulumi.test.yaml");
fs.writeFileSync(STACK_FILE, "config: {}\n");

const KEY = "fake-ssh-private-key-for-mock-tests";
const T = {
  ring: "homelab:network:ThunderboltRing",
  file: "pulumi-nodejs:dynamic/node:RemoteFile",
  packages: "pulumi-nodejs:dynamic/node:Packages",
  verify: "pulumi-nodejs:dynamic/network:RingVerify",
  interfaces: "pulumi-nodejs:dynamic/network:Interfaces",
};

const RING = MS01_RING;

const connection = (node: string, i: number) => ({ node, host: `10.203.3.${11 + i}`, port: 22, user: "root", hostKey: "SHA256:abc" });


/** Last URN segment: the resource name (parents and dependencies carry full URNs with the type chain). */
const nameOf = (urn: string) => urn.split("::").pop()!;

/** A stand-in resource to depend on. */
class Gate extends pulumi.CustomResource {
  constructor() {
    super("test:index:Gate", "gate", {});
  }
}

async function run(mutate: (args: ThunderboltRingArgs) => void = () => {}, withGate = false): Promise<StackRun> {
  return settled(await runStack(STACK_FILE, () => {
    const networks = Object.keys(RING).map(
      (node, i) =>
        new NodeNetwork(`ms01-${node}-network`, {
          access: { connection: connection(node, i), sshPrivateKey: KEY },
          networks: [{ name: "management", cidr: "10.203.3.0/24", gateway: "10.203.3.1" }],
          interfaces: [
            { type: "nic", name: "enp2s0f0np0" },
            { type: "bridge", name: "vmbr0", ports: ["enp2s0f0np0"], network: "management", address: `10.203.3.${11 + i}` },
          ],
          thunderbolt: RING[node],
        }),
    );
    const args: ThunderboltRingArgs = {
      nodes: Object.keys(RING).map((node, i) => ({
        access: { connection: connection(node, i), sshPrivateKey: KEY },
        thunderbolt: RING[node],
        dependsOn: [networks[i].interfaces],
      })),
    };
    mutate(args);
    // something the whole ring must wait for (as the stack could order it after the cluster)
    const gate = withGate ? new Gate() : undefined;
    const ring = new ThunderboltRing("ms01-ring", args, gate ? { dependsOn: [gate] } : undefined);
    return { nets: ring.nets, reachability: ring.reachability ?? pulumi.output([]) };
  }));
}

const input = (r: StackRun, name: string) => r.byName(name).rawInputs as Record<string, unknown>;
const depNames = (r: StackRun, name: string) => r.byName(name).dependsOn.map(nameOf);

describe("ThunderboltRing: its own dependsOn", () => {
  it("holds for every node's first steps, as the node's own list does", async () => {
    const r = await run(undefined, true);
    for (const node of Object.keys(RING)) {
      for (const step of ["packages", "modules"]) {
        expect(depNames(r, `ms01-ring-${node}-${step}`), `${node} ${step}`).toContain("gate");
      }
    }
  });
});

describe("ThunderboltRing under mocks", () => {
  let r: StackRun;
  beforeAll(async () => {
    r = await run();
  });

  it("registers per node: packages, modules, .link files, initramfs, units, udev, sysctl, FRR; then one verification", () => {
    const ring = r.byName("ms01-ring");
    expect(ring.type).toBe(T.ring);
    const children = r.registrations.filter((x) => x.parent !== "" && nameOf(x.parent) === "ms01-ring");
    const perNode = [
      "packages",
      "modules",
      "link-en05",
      "link-en06",
      "initramfs",
      "link-up-script",
      "link-unit",
      "ring-unit",
      "udev-rule",
      "sysctl",
      "frr-daemons",
      "frr-conf",
    ];
    expect(children.map((c) => c.name).sort()).toEqual(
      [...Object.keys(RING).flatMap((n) => perNode.map((p) => `ms01-ring-${n}-${p}`)), "ms01-ring-verify"].sort(),
    );
    expect(r.byName("ms01-ring-frege-packages").type).toBe(T.packages);
    expect(input(r, "ms01-ring-frege-packages").packages).toEqual(["frr", "frr-pythontools", "iperf3"]);
    expect(r.byName("ms01-ring-verify").type).toBe(T.verify);
    for (const c of children.filter((x) => x.type === T.file)) expect(isSecretValue(c.rawInputs.sshPrivateKey)).toBe(true);
    expect(JSON.stringify(ring.rawInputs)).not.toContain("PRIVATE KEY");
  });

  it("renders the modules, the .link files by PCI path and the ports' MTU 65520", () => {
    expect(input(r, "ms01-ring-frege-modules")).toMatchObject({
      path: "/etc/modules-load.d/thunderbolt.conf",
      onChangeCommand: ["modprobe", "-a", "thunderbolt", "thunderbolt-net"],
    });
    expect(input(r, "ms01-ring-frege-modules").content).toMatch(/\nthunderbolt\nthunderbolt-net\n$/);
    const link = input(r, "ms01-ring-russell-link-en06");
    expect(link.path).toBe("/etc/systemd/network/00-homelab-en06.link");
    expect(link.content).toContain("[Match]\nPath=pci-0000:00:0d.3\nDriver=thunderbolt-net\n\n[Link]\nMACAddressPolicy=none\nName=en06\n");
    expect(input(r, "ms01-ring-russell-initramfs").onChangeCommand).toEqual([
      "sh",
      "-c",
      "update-initramfs -u -k all && udevadm control --reload && udevadm trigger --action=add --subsystem-match=net --sysname-match='thunderbolt*'",
    ]);
    expect(input(r, "ms01-ring-russell-ring-unit").content).toContain("ExecStart=-/etc/homelab/thunderbolt-link-up en06 65520 30\n");
    expect(input(r, "ms01-ring-russell-link-unit").content).toContain("%i 65520 10\n");
    expect(input(r, "ms01-ring-russell-link-up-script").fileMode).toBe("0755");
    // the interfaces side: NodeNetwork renders the ports and the loopback into its block
    const content = input(r, "ms01-russell-network-interfaces").content as string;
    expect(content).toContain("iface en05 inet manual\n\tmtu 65520\n");
    expect(content).toContain("iface en06 inet manual\n\tmtu 65520\n");
    expect(content).toContain("auto tbloop\niface tbloop inet static\n\taddress 10.100.0.12/32\n\tlink-type dummy\n");
  });

  it("gives every node its own OpenFabric NET and announces its loopback", () => {
    expect(r.outputs.nets).toEqual({
      frege: "49.0000.0000.0011.00",
      russell: "49.0000.0000.0012.00",
      wittgenstein: "49.0000.0000.0013.00",
    });
    const conf = input(r, "ms01-ring-wittgenstein-frr-conf");
    expect(conf).toMatchObject({ path: "/etc/frr/frr.conf", blockId: "thunderbolt-ring", onChangeCommand: ["systemctl", "reload-or-restart", "frr.service"] });
    expect(conf.content).toContain(" net 49.0000.0000.0013.00\n");
    expect(conf.content).toContain("interface tbloop\n ip router openfabric 1\n openfabric passive\nexit\n");
    expect(input(r, "ms01-ring-wittgenstein-frr-daemons")).toMatchObject({
      path: "/etc/frr/daemons",
      blockId: "thunderbolt-ring",
      content: "fabricd=yes\n",
      onChangeCommand: ["sh", "-c", "systemctl enable frr.service && systemctl restart frr.service"],
    });
    expect(input(r, "ms01-ring-wittgenstein-sysctl")).toMatchObject({
      path: "/etc/sysctl.d/80-homelab-ring.conf",
      onChangeCommand: ["sysctl", "-p", "/etc/sysctl.d/80-homelab-ring.conf"],
    });
  });

  it("orders: node network first, packages before FRR, FRR after the ports' unit, initramfs after the .link files, verification last", () => {
    for (const c of r.registrations.filter((x) => x.name.startsWith("ms01-ring-frege-"))) {
      expect(c.dependsOn.map(nameOf)).toContain("ms01-frege-network-interfaces");
    }
    expect(depNames(r, "ms01-ring-frege-frr-daemons")).toContain("ms01-ring-frege-packages");
    expect(depNames(r, "ms01-ring-frege-frr-conf")).toEqual(
      expect.arrayContaining(["ms01-ring-frege-frr-daemons", "ms01-ring-frege-ring-unit", "ms01-ring-frege-sysctl"]),
    );
    expect(depNames(r, "ms01-ring-frege-initramfs")).toEqual(
      expect.arrayContaining(["ms01-ring-frege-link-en05", "ms01-ring-frege-link-en06", "ms01-ring-frege-modules", "ms01-ring-frege-udev-rule"]),
    );
    // the boot unit is (re)started once the ports carry their new names
    expect(depNames(r, "ms01-ring-frege-ring-unit")).toContain("ms01-ring-frege-initramfs");
    expect(depNames(r, "ms01-ring-frege-udev-rule")).toContain("ms01-ring-frege-link-unit");
    const verifyDeps = depNames(r, "ms01-ring-verify");
    for (const n of Object.keys(RING)) expect(verifyDeps).toContain(`ms01-ring-${n}-frr-conf`);
  });

  it("passes the ring to the verification, with the key as a secret", () => {
    const v = input(r, "ms01-ring-verify");
    expect(isSecretValue(v.sshPrivateKey)).toBe(true);
    expect(v.nodes).toEqual(
      Object.keys(RING).map((node, i) => ({
        connection: connection(node, i),
        loopback: RING[node].loopback,
        ports: RING[node].ports.map((p) => ({ name: p.name, peer: p.peer })),
      })),
    );
  });

  it("skips packages and verification on request", async () => {
    const r2 = await run((a) => {
      a.installPackages = false;
      a.verify = false;
    });
    expect(r2.byType(T.packages)).toEqual([]);
    expect(r2.byType(T.verify)).toEqual([]);
  });

  it("refuses an inconsistent ring with a clear error", () => {
    const nodes = () => Object.keys(RING).map((node, i) => ({ access: { connection: connection(node, i) }, thunderbolt: structuredClone(RING[node]) }));
    expect(ringProblem(nodes())).toBeUndefined();
    const unknownPeer = nodes();
    unknownPeer[0].thunderbolt.ports[0].peer = "hilbert";
    expect(ringProblem(unknownPeer)).toBe(
      "frege: thunderbolt port en05 names peer hilbert, which is not a ring node (ring: frege, russell, wittgenstein)",
    );
    const oneEnded = nodes();
    oneEnded[1].thunderbolt.ports.pop();
    expect(ringProblem(oneEnded)).toBe(
      "frege: thunderbolt port en05 is cabled to russell, but russell has no port whose peer is frege; list the cable on both ends",
    );
    const sameOctet = nodes();
    sameOctet[2].thunderbolt.loopback = "10.100.1.11";
    expect(ringProblem(sameOctet)).toBe(
      "wittgenstein: loopback 10.100.1.11 ends in .11 like frege's; the OpenFabric NET is derived from the last octet " +
        "(49.0000.0000.0011.00), so give every ring node a different one",
    );
    expect(ringProblem(nodes().slice(0, 1))).toBe("a Thunderbolt ring needs at least 2 nodes, got 1");
  });
});

// ---------------------------------------------------------------------------
// The registered files, applied to simulated nodes by the real RemoteFile provider.
// ---------------------------------------------------------------------------

describe("the ring's files on (simulated) nodes", () => {
  let sim: SimCluster;
  let files: Record<string, unknown>[];
  const start = Date.now();

  beforeAll(async () => {
    sim = await startSimCluster([{ name: "frege" }, { name: "russell" }, { name: "wittgenstein" }]);
    const r = await run((a) => {
      a.verify = false;
    });
    files = r.byType(T.file).map((x) => ({ ...x.rawInputs, name: x.name }));
    // What the frr package leaves behind (Debian's defaults, abridged).
    for (const n of Object.keys(RING)) {
      await sim.exec(n, "mkdir -p /etc/frr && printf 'bgpd=no\\nospfd=no\\nfabricd=no\\nvrrpd=no\\n' > /etc/frr/daemons && printf 'log syslog informational\\n' > /etc/frr/frr.conf");
    }
  });

  afterAll(async () => {
    await sim?.stop();
  });

  function inputsFor(file: Record<string, unknown>): RemoteFileInputs {
    const node = String(file.name).replace(/^ms01-ring-/, "").split("-")[0];
    const n = sim.node(node);
    const keep = ["path", "content", "blockId", "fileMode", "onChangeCommand", "onDelete"] as const;
    const picked = Object.fromEntries(keep.filter((k) => file[k] !== undefined).map((k) => [k, file[k]]));
    return {
      ...(picked as Pick<RemoteFileInputs, "path" | "content">),
      providerVersion: REMOTE_FILE_PROVIDER_VERSION,
      connection: { node, host: n.host, port: n.port, user: "root", hostKey: n.hostKeyFingerprint, options: { retries: 1, retryBaseDelayMs: 50 } },
      sshPrivateKey: sim.clientPrivateKey,
    };
  }

  const toolCalls = (since: number) =>
    sim
      .toolLog()
      .filter((e) => e.time >= since)
      .map((e) => `${e.node}: ${e.tool} ${e.argv.join(" ")}`);

  it("writes every file and runs each change hook once per node", async () => {
    for (const f of files) await remoteFileProvider.create!(inputsFor(f));
    const calls = toolCalls(start);
    for (const n of Object.keys(RING)) {
      expect(calls.filter((c) => c.startsWith(`${n}: `)).sort()).toEqual(
        [
          `${n}: modprobe -a thunderbolt thunderbolt-net`,
          `${n}: update-initramfs -u -k all`,
          `${n}: udevadm control --reload`,
          `${n}: udevadm trigger --action=add --subsystem-match=net --sysname-match=thunderbolt*`,
          `${n}: systemctl daemon-reload`,
          `${n}: systemctl daemon-reload`,
          `${n}: systemctl enable homelab-tb-ring.service`,
          `${n}: systemctl restart homelab-tb-ring.service`,
          `${n}: udevadm control --reload`,
          `${n}: sysctl -p /etc/sysctl.d/80-homelab-ring.conf`,
          `${n}: systemctl enable frr.service`,
          `${n}: systemctl restart frr.service`,
          `${n}: systemctl reload-or-restart frr.service`,
        ].sort(),
      );
    }
    const cat = async (n: string, p: string) => (await sim.exec(n, `cat ${p}`)).stdout;
    expect(await cat("russell", "/etc/systemd/network/00-homelab-en05.link")).toContain("Path=pci-0000:00:0d.2\n");
    expect(await cat("russell", "/etc/modules-load.d/thunderbolt.conf")).toContain("\nthunderbolt-net\n");
    expect(await cat("frege", "/etc/frr/daemons")).toBe(
      `bgpd=no\nospfd=no\nfabricd=no\nvrrpd=no\n\n${beginMarker("thunderbolt-ring")}\nfabricd=yes\n${endMarker("thunderbolt-ring")}\n`,
    );
    const frr = await cat("wittgenstein", "/etc/frr/frr.conf");
    expect(frr.startsWith("log syslog informational\n\n# BEGIN homelab thunderbolt-ring")).toBe(true);
    expect(frr).toContain(" net 49.0000.0000.0013.00\n");
    const script = await sim.exec("frege", "head -1 /etc/homelab/thunderbolt-link-up && stat -c %a /etc/homelab/thunderbolt-link-up");
    expect(script.stdout).toBe("#!/bin/sh\n755\n");
    // forwarding went to the (simulated) kernel through sysctl, never to the test host
    expect((await sim.exec("frege", "sysctl -n net.ipv4.ip_forward")).stdout).toBe("1\n");
  });

  it("a second apply writes nothing and runs no hook", async () => {
    const since = Date.now();
    sim.clearLog();
    for (const f of files) await remoteFileProvider.update!("id", inputsFor(f), inputsFor(f));
    expect(toolCalls(since)).toEqual([]);
    expect(sim.commandLog().filter((e) => /mv -f --/.test(e.command))).toEqual([]);
  });
});
