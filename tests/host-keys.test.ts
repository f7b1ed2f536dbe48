/**
 * Host key pins: the line `ssh-keyscan … | ssh-keygen -lf -` prints is accepted
 * in nodes[].hostKey (its SHA256 field is the pin), and `npm run host-keys`
 * asks the simulated nodes for their keys without authenticating.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, nodesToScan } from "../scripts/host-keys";
import { validateStackText } from "../stacks/stack-file";
import { startSimCluster, type SimCluster } from "./sim/cluster";

const ROOT = path.resolve(__dirname, "..");
const MATRIX = fs.readFileSync(path.join(ROOT, "Pulumi.matrix.yaml"), "utf8");
const FOXTROT_PIN = "SHA256:BwQApq+4Is5EchuWDyu7dMQT82T/iieOZPmHNntWf8Q";

function withFoxtrotKey(value: string) {
  expect(MATRIX.split(`hostKey: ${FOXTROT_PIN}`).length - 1).toBe(1);
  return validateStackText(MATRIX.replace(`hostKey: ${FOXTROT_PIN}`, `hostKey: ${value}`), "/x/Pulumi.matrix.yaml");
}

describe("nodes[].hostKey", () => {
  it("accepts the line ssh-keygen -lf prints and keeps its SHA256 field", () => {
    const result = withFoxtrotKey(`"256 ${FOXTROT_PIN} 192.168.3.5 (ED25519)"`);
    expect(result.issues).toEqual([]);
    expect(result.environment?.nodes[0].hostKey).toBe(FOXTROT_PIN);
  });

  it("still refuses anything else, naming the value", () => {
    expect(withFoxtrotKey(`"256 MD5:16:27:ac 192.168.3.5 (ED25519)"`).issues).toEqual([
      'nodes[0].hostKey: "256 MD5:16:27:ac 192.168.3.5 (ED25519)" is not an SSH host key fingerprint ' +
        "(SHA256: and 43 base64 characters, as ssh-keygen -lf prints it)",
    ]);
  });

  it("host-keys reads the pasted line as the pin too", () => {
    expect(
      nodesToScan({ nodes: [{ name: "a", address: "10.0.0.1", hostKey: `256 ${FOXTROT_PIN} 10.0.0.1 (ED25519)` }] }).nodes,
    ).toEqual([{ name: "a", address: "10.0.0.1", port: 22, pinned: FOXTROT_PIN }]);
  });
});

describe("npm run host-keys against the simulated cluster", () => {
  let sim: SimCluster;
  let dir: string;
  beforeAll(async () => {
    sim = await startSimCluster([{ name: "k1" }, { name: "k2" }, { name: "k3" }]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-host-keys-"));
  });
  afterAll(async () => {
    await sim?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("prints each node's hostKey line, warns on a stale pin, and never logs in", async () => {
    const [k1, k2, k3] = ["k1", "k2", "k3"].map((n) => sim.node(n));
    const stale = "SHA256:" + "A".repeat(43);
    const file = path.join(dir, "Pulumi.lab.yaml");
    fs.writeFileSync(
      file,
      [
        "config:",
        "  homelab:environment:",
        "    name: lab",
        "    nodes:",
        `      - { name: k1, address: ${k1.host}, sshPort: ${k1.port} }`,
        `      - { name: k2, address: ${k2.host}, sshPort: ${k2.port}, hostKey: ${stale} }`,
        `      - { name: k3, address: ${k3.host}, sshPort: ${k3.port}, hostKey: ${k3.hostKeyFingerprint} }`,
        "",
      ].join("\n"),
    );
    const out: string[] = [];
    const err: string[] = [];
    expect(await main([file], (l) => out.push(l), (l) => err.push(l))).toBe(0);
    const where = (n: typeof k1) => (n.port === 22 ? n.host : `${n.host}:${n.port}`);
    expect(out).toEqual([
      `hostKey: ${k1.hostKeyFingerprint}   # k1 ${where(k1)}`,
      `hostKey: ${k2.hostKeyFingerprint}   # k2 ${where(k2)}`,
      `hostKey: ${k3.hostKeyFingerprint}   # k3 ${where(k3)}`,
    ]);
    expect(err).toEqual([
      `warning: k2: pinned hostKey ${stale} differs from the key ${where(k2)} presents (${k2.hostKeyFingerprint}); ` +
        "replace the pin only if the node was reinstalled (check on its console), otherwise something else answers at that address",
    ]);
    // the key was refused before authentication: no session ran a command
    expect(sim.commandLog()).toEqual([]);
  });

  it("a node that does not answer is named, with the exit code 1", async () => {
    const file = path.join(dir, "Pulumi.down.yaml");
    fs.writeFileSync(file, "config:\n  homelab:environment:\n    nodes:\n      - { name: gone, address: 127.0.0.1, sshPort: 1 }\n");
    const err: string[] = [];
    expect(await main([file], () => {}, (l) => err.push(l))).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^gone: cannot get the host key of 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});
