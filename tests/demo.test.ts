/**
 * `npm run demo` end to end (default stack: matrix): the simulated cluster
 * converges, the demo's own check passes, the second run changes nothing,
 * no secret is printed, and nothing is left listening afterwards.
 */
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");

let output = "";
let exitCode: number | null = null;

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

beforeAll(async () => {
  await new Promise<void>((resolve, reject) => {
    // As `npm run demo` runs it.
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      exitCode = code;
      resolve();
    });
  });
}, 600_000);

describe("npm run demo (matrix)", () => {
  it("converges the matrix layers and passes its own check", () => {
    expect(output, output).toContain("first run: done");
    expect(output).toMatch(/ok {3}cluster quorate: yes, 3\/3 nodes/);
    expect(output).toMatch(/ok {3}ceph health: HEALTH_OK/);
    expect(output).toMatch(/ok {3}OSDs: 12 \(stack asks for 12\), 12 up, 12 in/);
    expect(output).toMatch(/ok {3}pools: vm_ssd, vm_containers present/);
  });

  it("says it is a harness, and marks native resources as mocked", () => {
    expect(output).toContain("not a replacement for `pulumi up`");
    expect(output).toMatch(/mocked \(native resource, not driven\) proxmoxve:cluster\/options:Options matrix-datacenter/);
  });

  it("runs a second time with 0 changes and 0 mutating commands, and exits 0", () => {
    expect(output).toContain("\n0 changes, 0 mutating commands\n");
    expect(output).toContain("demo passed");
    expect(exitCode).toBe(0);
  });

  it("prints outputs with the token secret redacted, and no key or password", () => {
    expect(output).toMatch(/tokenSecret: \[secret\]/);
    expect(output).not.toMatch(/PRIVATE KEY|BEGIN OPENSSH/);
    expect(output).not.toMatch(/rootPassword|\$6\$/);
  });

  it("stops the simulation: nothing listens on the nodes' addresses any more", async () => {
    const hosts = [...output.matchAll(/(?:foxtrot|golf|hotel) (127\.\d+\.\d+\.\d+):22/g)].map((m) => m[1]);
    expect(hosts).toHaveLength(3);
    for (const host of hosts) expect(await listening(host, 22)).toBe(false);
  });

});
