import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { command } from "../infra/shell";
import {
  AuthenticationError,
  CommandFailedError,
  CommandTimeoutError,
  HostKeyMismatchError,
  NodeUnreachableError,
  SshTarget,
  connect,
  summarize,
  withSession,
} from "../infra/ssh";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;

function target(name: string, extra: Partial<SshTarget> = {}): SshTarget {
  const n = sim.node(name);
  return {
    node: n.name,
    host: n.host,
    port: n.port,
    username: "root",
    privateKey: sim.clientPrivateKey,
    hostKey: n.hostKeyFingerprint,
    ...extra,
  };
}

const FAST = { connectTimeoutMs: 2000, retries: 1, retryBaseDelayMs: 50 };

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf", pveVersion: "9.1.1" }]);
});

afterAll(async () => {
  await sim?.stop();
});

describe("running commands", () => {
  it("runs a command and returns stdout, stderr and the exit code", async () => {
    const result = await withSession(target("foxtrot"), (s) => s.run("echo out; echo err >&2; exit 7"), FAST);
    expect(result).toEqual({ stdout: "out\n", stderr: "err\n", code: 7 });
  });

  it("reaches the right node: hostname and pveversion are the node's own", async () => {
    const out = await withSession(
      target("golf"),
      async (s) => [(await s.check("hostname")).stdout.trim(), (await s.check("pveversion")).stdout],
      FAST,
    );
    expect(out[0]).toBe("golf");
    expect(out[1]).toMatch(/^pve-manager\/9\.1\.1\//);
  });

  it("passes stdin to the command without it appearing on the command line", async () => {
    sim.clearLog();
    const secret = "s3cret-pa$$word 'quoted'";
    const out = await withSession(target("foxtrot"), (s) => s.check("cat", { stdin: secret }), FAST);
    expect(out.stdout).toBe(secret);
    expect(JSON.stringify(sim.commandLog())).not.toContain("s3cret");
  });

  it("delivers hostile arguments literally through the quoting helper", async () => {
    const hostile = "x'; touch /tmp/pwned-by-test; echo '$(id)";
    const out = await withSession(target("foxtrot"), (s) => s.check(command("printf", "%s", hostile)), FAST);
    expect(out.stdout).toBe(hostile);
    const pwned = await sim.exec("foxtrot", "test -e /tmp/pwned-by-test; echo $?");
    expect(pwned.stdout.trim()).toBe("1");
  });

  it("reuses one connection for several commands in one session", async () => {
    // $SSH_CONNECTION holds the client's source port: equal means the same TCP connection.
    const inOne = await withSession(
      target("foxtrot"),
      async (s) => [(await s.check("echo $SSH_CONNECTION")).stdout, (await s.check("echo $SSH_CONNECTION")).stdout],
      FAST,
    );
    expect(inOne[0]).toBe(inOne[1]);
    const other = await withSession(target("foxtrot"), (s) => s.check("echo $SSH_CONNECTION"), FAST);
    expect(other.stdout).not.toBe(inOne[0]);
  });

  it("check() throws an error naming node, command and exit code; secrets are redacted", async () => {
    const err = await withSession(
      target("golf"),
      (s) => s.check("echo hunter2 >&2; pvecm status && echo hunter2", { secrets: ["hunter2"] }),
      FAST,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect(err.message).toMatch(/^golf: echo failed \(exit 2\): \*\*\*\nError: Corosync config/);
    expect(err.message).not.toContain("hunter2");
    expect(err.message).toContain("&& echo ***");
    // what the command printed is kept on the error for callers: redacted too
    expect(JSON.stringify(err.result)).not.toContain("hunter2");
    expect(err.result.stderr).toMatch(/^\*\*\*\n/);
  });

  it("times out a slow command and names node and command", async () => {
    sim.injectFault({ node: "foxtrot", match: "pvecm status", mode: "slow", seconds: 5 });
    try {
      const err = await withSession(
        target("foxtrot"),
        (s) => s.run("pvecm status", { timeoutMs: 500 }),
        FAST,
      ).catch((e) => e);
      expect(err).toBeInstanceOf(CommandTimeoutError);
      expect(err.message).toMatch(/^foxtrot: pvecm status timed out after 1 s/);
    } finally {
      sim.clearFaults();
    }
  });

  it("sees an injected one-time failure once", async () => {
    sim.injectFault({ node: "foxtrot", match: "pveversion", mode: "fail-once", exitCode: 255, stderr: "boom" });
    const results = await withSession(
      target("foxtrot"),
      async (s) => [await s.run("pveversion"), await s.run("pveversion")],
      FAST,
    );
    expect(results[0].code).toBe(255);
    expect(results[0].stderr).toContain("boom");
    expect(results[1].code).toBe(0);
  });
});

describe("host key pinning", () => {
  it("refuses a host whose key does not match the pinned fingerprint, naming both", async () => {
    const wrong = sim.node("golf").hostKeyFingerprint;
    const err = await connect(target("foxtrot", { hostKey: wrong }), FAST).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err.message).toContain("foxtrot: host key mismatch");
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(sim.node("foxtrot").hostKeyFingerprint);
  });

  it("refuses to connect with neither a pinned key nor the explicit opt-out", async () => {
    const err = await connect(target("foxtrot", { hostKey: undefined }), FAST).catch((e) => e);
    expect(err.message).toMatch(/^foxtrot: no pinned hostKey configured/);
  });

  it("connects with the explicit opt-out", async () => {
    const out = await withSession(
      target("foxtrot", { hostKey: undefined, insecureIgnoreHostKey: true }),
      (s) => s.check("hostname"),
      FAST,
    );
    expect(out.stdout.trim()).toBe("foxtrot");
  });
});

describe("failures to connect", () => {
  it("reports a node that is down by name after retrying", async () => {
    await sim.stopNode("golf");
    try {
      const started = Date.now();
      const err = await connect(target("golf"), { ...FAST, retries: 2, retryBaseDelayMs: 100 }).catch((e) => e);
      expect(err).toBeInstanceOf(NodeUnreachableError);
      expect(err.message).toMatch(/^golf: cannot connect to .+:22 after 3 attempt\(s\)/);
      // Backoff waited 100 + 200 ms between the three attempts.
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      await sim.startNode("golf");
    }
    const back = await withSession(target("golf"), (s) => s.check("hostname"), FAST);
    expect(back.stdout.trim()).toBe("golf");
  });

  it("does not retry a rejected key and says authentication failed", async () => {
    // A well-formed key the nodes do not authorise.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-ssh-test-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
    const privateKey = fs.readFileSync(path.join(dir, "k"), "utf8");
    fs.rmSync(dir, { recursive: true, force: true });
    const err = await connect(target("foxtrot", { privateKey }), FAST).catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toMatch(/^foxtrot: authentication as root on .* failed/);
  });

  it("never puts the private key into an error message", async () => {
    const err = await connect(target("foxtrot", { privateKey: "-----BEGIN nonsense key material-----" }), FAST).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).not.toContain("nonsense key material");
  });
});

describe("summarize", () => {
  it("names tool and subcommand, skipping env assignments and paths", () => {
    expect(summarize("LC_ALL=C pvecm add 10.0.0.1 --link0 x")).toBe("pvecm add");
    expect(summarize("/usr/bin/qm set 7000 --name x")).toBe("qm set");
    expect(summarize("hostname")).toBe("hostname");
  });
});
