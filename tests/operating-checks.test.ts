/**
 * The pure decisions of preflight and verify: judging releases, name resolution, clocks, the
 * Pulumi CLI version and SSH failures; picking the drill node; the bounded parallel map.
 */
import { describe, expect, it } from "vitest";
import { HostKeyMismatchError, NodeUnreachableError } from "../infra/ssh";
import { mapBounded } from "../scripts/homelab/checks";
import { judgeClock, judgeReleases, judgeResolution, sshFailure } from "../scripts/homelab/preflight/judge";
import { supportedPulumiVersion } from "../scripts/homelab/preflight/pulumi-cli";
import { chooseDrillNode } from "../scripts/homelab/verify/drill";
import { EnvironmentSchema } from "../stacks/schema";

describe("preflight judgements", () => {
  it("releases: one major.minor passes everywhere; older nodes fail naming the newest", () => {
    const same = judgeReleases([
      { node: "a", version: "8.4.14", release: "8.4" },
      { node: "b", version: "8.4.1", release: "8.4" },
    ]);
    expect(same.every((r) => r.ok)).toBe(true);
    const mixed = judgeReleases([
      { node: "a", version: "8.3.5", release: "8.3" },
      { node: "b", version: "8.4.1", release: "8.4" },
    ]);
    expect(mixed.map((r) => [r.node, r.ok])).toEqual([["a", false], ["b", true]]);
    expect(mixed[0].fix).toBe("upgrade a to 8.4: `apt update && apt full-upgrade` on a");
    // 10.0 is newer than 9.1 (numbers, not text)
    expect(judgeReleases([{ node: "a", version: "9.1.1", release: "9.1" }, { node: "b", version: "10.0.1", release: "10.0" }])[0].ok).toBe(false);
  });

  it("resolution: every name to its management address", () => {
    expect(judgeResolution("a", { a: "10.0.0.1", b: "10.0.0.2" }, { a: "10.0.0.1", b: "10.0.0.2" }).ok).toBe(true);
    const bad = judgeResolution("a", { a: "127.0.1.1", b: "" }, { a: "10.0.0.1", b: "10.0.0.2" });
    expect(bad.detail).toBe("a: getent hosts: a resolves to 127.0.1.1, not its management address 10.0.0.1; b does not resolve (its management address is 10.0.0.2)");
  });

  it("clock: the read's own delay counts as uncertainty", () => {
    expect(judgeClock("a", 1000.5, 1000, 1000, 1).ok).toBe(true);
    expect(judgeClock("a", 1003, 1000, 1000, 1).ok).toBe(false);
    // 3 s off, but the read took 6 s: it may be right
    expect(judgeClock("a", 1006, 1000, 1006, 1).ok).toBe(true);
    expect(judgeClock("a", 990, 1000, 1000, 2).detail).toBe("a: clock is -10.000 s off this machine's, more than 2 s (corosync and Ceph need synchronised clocks)");
  });

  it("Pulumi CLI: any v3 at or after the SDK's release", () => {
    expect(supportedPulumiVersion("3.248.0")).toBe(true);
    expect(supportedPulumiVersion("3.250.1")).toBe(true);
    expect(supportedPulumiVersion("3.247.9")).toBe(false);
    expect(supportedPulumiVersion("4.0.0")).toBe(false);
    expect(supportedPulumiVersion("dev")).toBe(false);
  });

  it("SSH: a host key mismatch is its own failure with both fingerprints; unreachable says where", () => {
    const mismatch = sshFailure("a", "10.0.0.1", 22, new HostKeyMismatchError("a", "SHA256:pinned", "SHA256:seen", "10.0.0.1:22"));
    expect(mismatch.detail).toBe("a: wrong host key at 10.0.0.1:22: the stack file pins SHA256:pinned, the host presented SHA256:seen");
    expect(mismatch.fix).toContain("npm run host-keys -- <stack>");
    const down = sshFailure("a", "10.0.0.1", 2222, new NodeUnreachableError("a", "cannot connect"));
    expect(down.fix).toContain("ssh -p 2222 root@10.0.0.1 true");
  });
});

describe("drill node and bounded parallelism", () => {
  const env = EnvironmentSchema.parse({
    name: "x",
    networks: [{ name: "m", cidr: "10.0.0.0/24" }],
    nodes: ["a", "b", "c"].map((n, i) => ({
      name: n,
      address: `10.0.0.${i + 1}`,
      insecureIgnoreHostKey: true,
      interfaces: [{ type: "nic", name: "eno1", network: "m", address: `10.0.0.${i + 1}` }],
    })),
  });

  it("the node with the most started HA guests, else the last node", () => {
    expect(chooseDrillNode(env, [{ sid: "vm:1", node: "b", state: "started" }, { sid: "vm:2", node: "c", state: "started" }, { sid: "vm:3", node: "c", state: "started" }])).toBe("c");
    expect(chooseDrillNode(env, [])).toBe("c");
    expect(chooseDrillNode(env, [{ sid: "vm:1", node: "a", state: "started" }])).toBe("a");
  });

  it("mapBounded keeps the order and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});
