/**
 * RemoteFile against the simulated cluster: whole files, marked blocks inside
 * files people also edit, validation before install, drift, delete.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { beginMarker, endMarker } from "../infra/managed-block";
import type { ConnectionArgs } from "../infra/providers/connection";
import { REMOTE_FILE_PROVIDER_VERSION, RemoteFileInputs, remoteFileProvider } from "../infra/providers/linux/remote-file";
import { serializeProvider } from "./helpers/serialize";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { simConnection } from "./helpers/sim-connection";

let sim: SimCluster;

function conn(name: string): ConnectionArgs {
  return simConnection(sim, name);
}

function file(extra: Partial<RemoteFileInputs> & { path: string; content: string }): RemoteFileInputs {
  return { ...conn("foxtrot"), providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...extra };
}

async function sh(cmd: string): Promise<string> {
  const r = await sim.exec("foxtrot", cmd);
  if (r.code !== 0) throw new Error(`setup command failed (${r.code}): ${cmd}: ${r.stderr}`);
  return r.stdout;
}

/** Commands that change a file: anything that installs a temp file or removes one. */
function writes(): string[] {
  return sim
    .commandLog()
    .map((e) => e.command)
    .filter((c) => /mv -f --|rm -f --/.test(c));
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot" }]);
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.clearLog());

describe("whole file", () => {
  it("creates the file with content, mode and owner, and a second apply writes nothing", async () => {
    const inputs = file({ path: "/etc/homelab-test/whole.conf", content: "a = 1\n", fileMode: "0640" });
    const { id, outs } = await remoteFileProvider.create!(inputs);
    expect(id).toBe("foxtrot:/etc/homelab-test/whole.conf");
    expect(await sh("cat /etc/homelab-test/whole.conf")).toBe("a = 1\n");
    expect((await sh("stat -c '%a %U %G' /etc/homelab-test/whole.conf")).trim()).toBe("640 root root");
    expect(writes()).toHaveLength(1);

    sim.clearLog();
    await remoteFileProvider.update!(id, outs!, inputs);
    expect(sim.commandLog().length).toBeGreaterThan(0); // it did look
    expect(writes()).toEqual([]);
  });

  it("rewrites when only the mode drifted", async () => {
    const inputs = file({ path: "/etc/homelab-test/mode.conf", content: "x\n", fileMode: "0600" });
    await remoteFileProvider.create!(inputs);
    await sh("chmod 0666 /etc/homelab-test/mode.conf");
    sim.clearLog();
    await remoteFileProvider.update!("id", inputs, inputs);
    expect(writes()).toHaveLength(1);
    expect((await sh("stat -c '%a' /etc/homelab-test/mode.conf")).trim()).toBe("600");
  });

  it("sees a hand edit as drift on read, and the next apply restores the content", async () => {
    const inputs = file({ path: "/etc/homelab-test/drift.conf", content: "managed\n" });
    const { id, outs } = await remoteFileProvider.create!(inputs);
    await sh("echo 'hand edit' >> /etc/homelab-test/drift.conf");
    const read = await remoteFileProvider.read!(id, outs);
    expect(read.props!.content).toBe("managed\nhand edit\n");
    const diff = await remoteFileProvider.diff!(id, read.props!, inputs);
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual([]);
    await remoteFileProvider.update!(id, read.props!, inputs);
    expect(await sh("cat /etc/homelab-test/drift.conf")).toBe("managed\n");
  });

  it("reads a deleted file as gone (empty id)", async () => {
    const inputs = file({ path: "/etc/homelab-test/gone.conf", content: "x\n" });
    const { id, outs } = await remoteFileProvider.create!(inputs);
    await sh("rm /etc/homelab-test/gone.conf");
    expect((await remoteFileProvider.read!(id, outs)).id).toBe("");
  });

  it("runs onChangeCommand only when the file changed", async () => {
    const inputs = file({
      path: "/etc/homelab-test/hooked.conf",
      content: "v1\n",
      onChangeCommand: ["sh", "-c", "echo changed >> /root/hook-count"],
    });
    await remoteFileProvider.create!(inputs);
    await remoteFileProvider.update!("id", inputs, inputs);
    expect(await sh("cat /root/hook-count")).toBe("changed\n");
    await remoteFileProvider.update!("id", inputs, { ...inputs, content: "v2\n" });
    expect(await sh("cat /root/hook-count")).toBe("changed\nchanged\n");
  });

  it("a failed onChangeCommand puts the old file back and fails, so the next run retries it", async () => {
    await sh("printf 'old\\n' > /etc/homelab-test/retry.conf; chmod 600 /etc/homelab-test/retry.conf");
    const inputs = file({
      path: "/etc/homelab-test/retry.conf",
      content: "new\n",
      onChangeCommand: ["sh", "-c", "echo applied >> /root/retry-count"],
    });
    sim.injectFault({ node: "foxtrot", match: "retry-count", mode: "fail-once", stderr: "reload failed" });
    await expect(remoteFileProvider.create!(inputs)).rejects.toThrow(
      /^foxtrot: sh failed \(exit 255\): reload failed[\s\S]*retry\.conf was put back as it was, so the next run retries the change$/,
    );
    expect(await sh("cat /etc/homelab-test/retry.conf; stat -c %a /etc/homelab-test/retry.conf")).toBe("old\n600\n");

    await remoteFileProvider.create!(inputs);
    expect(await sh("cat /etc/homelab-test/retry.conf")).toBe("new\n");
    expect(await sh("cat /root/retry-count")).toBe("applied\n");
  });

  it("a failed onChangeCommand on a new file removes it again", async () => {
    const inputs = file({ path: "/etc/homelab-test/retry-new.conf", content: "x\n", onChangeCommand: ["false"] });
    await expect(remoteFileProvider.create!(inputs)).rejects.toThrow(/^foxtrot: false failed \(exit 1\)/);
    expect(await sh("test -e /etc/homelab-test/retry-new.conf && echo present || echo absent")).toBe("absent\n");
  });

  it("delete removes the file; onDelete keep leaves it", async () => {
    const a = file({ path: "/etc/homelab-test/del-a.conf", content: "a\n" });
    const b = file({ path: "/etc/homelab-test/del-b.conf", content: "b\n", onDelete: "keep" });
    await remoteFileProvider.create!(a);
    await remoteFileProvider.create!(b);
    await remoteFileProvider.delete!("a", a);
    await remoteFileProvider.delete!("b", b);
    expect(await sh("ls /etc/homelab-test/ | grep del- || true")).toBe("del-b.conf\n");
  });
});

describe("validation before install", () => {
  const sudoers = "/etc/sudoers.d/homelab-rf-test";

  it("installs a candidate visudo accepts", async () => {
    const inputs = file({
      path: sudoers,
      content: "rftest ALL=(ALL:ALL) ALL\n",
      fileMode: "0440",
      validateCommand: ["visudo", "-cf", "{}"],
    });
    await remoteFileProvider.create!(inputs);
    expect(await sh(`cat ${sudoers}`)).toBe("rftest ALL=(ALL:ALL) ALL\n");
    expect((await sh(`stat -c '%a' ${sudoers}`)).trim()).toBe("440");
    const validate = sim.commandLog().find((e) => e.command.includes("visudo -cf"));
    expect(validate?.command).toMatch(/if ! visudo -cf "\$tmp"; then exit 86; fi; .*mv -f --/);
  });

  it("refuses a broken candidate, names node and command, and leaves the old file untouched", async () => {
    const broken = file({
      path: sudoers,
      content: "rftest ALL=(ALL:ALL ALL\n",
      fileMode: "0440",
      validateCommand: ["visudo", "-cf", "{}"],
    });
    const err = await remoteFileProvider.update!("id", broken, broken).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^foxtrot: visudo failed \(exit 86\): .*syntax error/);
    expect((err as Error).message).toContain(`command: visudo -cf '<candidate for ${sudoers}>' (the file was left unchanged)`);
    expect(await sh(`cat ${sudoers}`)).toBe("rftest ALL=(ALL:ALL) ALL\n");
    // no temp file left behind next to it (sudo would ignore it, but it is litter)
    expect(await sh("ls -A /etc/sudoers.d/")).not.toMatch(/\.homelab\./);
  });
});

describe("block mode", () => {
  const hosts = "/etc/homelab-test/hosts";
  const userLines = "127.0.0.1 localhost\n# my own comment\n10.9.9.9 printer\n";

  it("adds the block, keeps the user's own lines, and a re-run writes nothing", async () => {
    await sh(`mkdir -p /etc/homelab-test && printf '%s' '${userLines}' > ${hosts} && chmod 0644 ${hosts}`);
    const inputs = file({ path: hosts, blockId: "cluster-nodes", content: "10.0.0.1 alpha\n10.0.0.2 bravo\n" });
    const { id, outs } = await remoteFileProvider.create!(inputs);
    expect(id).toBe(`foxtrot:${hosts}#cluster-nodes`);
    const text = await sh(`cat ${hosts}`);
    expect(text).toBe(
      userLines + "\n" + [beginMarker("cluster-nodes"), "10.0.0.1 alpha", "10.0.0.2 bravo", endMarker("cluster-nodes")].join("\n") + "\n",
    );

    sim.clearLog();
    await remoteFileProvider.update!(id, outs!, inputs);
    expect(writes()).toEqual([]);
  });

  it("replaces only the block on change; lines the user added after it survive", async () => {
    const inputs = file({ path: hosts, blockId: "cluster-nodes", content: "10.0.0.1 alpha\n10.0.0.3 charlie\n" });
    await sh(`echo '192.168.1.5 nas' >> ${hosts}`);
    await remoteFileProvider.update!("id", inputs, inputs);
    const text = await sh(`cat ${hosts}`);
    expect(text).toContain(userLines);
    expect(text).toContain("10.0.0.3 charlie\n");
    expect(text).not.toContain("bravo");
    expect(text.trimEnd().endsWith("192.168.1.5 nas")).toBe(true);
  });

  it("keeps the file's own mode and owner in block mode", async () => {
    await sh(`chmod 0664 ${hosts}`);
    const inputs = file({ path: hosts, blockId: "cluster-nodes", content: "10.0.0.1 alpha\n" });
    await remoteFileProvider.update!("id", inputs, inputs);
    expect((await sh(`stat -c '%a' ${hosts}`)).trim()).toBe("664");
  });

  it("reads a hand edit inside the block as drift, and an edit outside it as no drift", async () => {
    const inputs = file({ path: hosts, blockId: "cluster-nodes", content: "10.0.0.1 alpha\n" });
    const { id, outs } = await remoteFileProvider.create!(inputs);
    await sh(`echo '# outside' >> ${hosts}`);
    const clean = await remoteFileProvider.read!(id, outs);
    expect(clean.props!.content).toBe("10.0.0.1 alpha\n");
    expect((await remoteFileProvider.diff!(id, clean.props!, inputs)).changes).toBe(false);

    await sh(`sed -i 's/^10.0.0.1 alpha$/10.0.0.1 alpha evil/' ${hosts}`);
    const drifted = await remoteFileProvider.read!(id, outs);
    expect(drifted.props!.content).toBe("10.0.0.1 alpha evil\n");
    expect((await remoteFileProvider.diff!(id, drifted.props!, inputs)).changes).toBe(true);
  });

  it("reads a removed block as gone", async () => {
    const inputs = file({ path: hosts, blockId: "other", content: "x\n" });
    const { id, outs } = await remoteFileProvider.create!(inputs);
    await remoteFileProvider.delete!(id, outs!);
    expect((await remoteFileProvider.read!(id, outs)).id).toBe("");
  });

  it("delete removes only the block", async () => {
    const before = await sh(`cat ${hosts}`);
    const inputs = file({ path: hosts, blockId: "cluster-nodes", content: "10.0.0.1 alpha\n" });
    await remoteFileProvider.delete!("id", inputs);
    const after = await sh(`cat ${hosts}`);
    expect(after).not.toContain("homelab cluster-nodes");
    expect(after).not.toContain("10.0.0.1 alpha");
    expect(after).toContain(userLines);
    expect(after).toContain("192.168.1.5 nas\n");
    expect(after).toContain("# outside\n");
    expect(before).toContain("homelab cluster-nodes");
    // deleting again is a no-op
    sim.clearLog();
    await remoteFileProvider.delete!("id", inputs);
    expect(writes()).toEqual([]);
  });
});

describe("diff", () => {
  const base = () => file({ path: "/etc/x", content: "a\n" });

  it("replaces on a new path or node, updates on content, ignores the SSH key", async () => {
    const o = base();
    expect(await remoteFileProvider.diff!("id", o, { ...o, path: "/etc/y" })).toMatchObject({
      changes: true,
      replaces: ["path"],
      deleteBeforeReplace: true,
    });
    expect(await remoteFileProvider.diff!("id", o, { ...o, content: "b\n" })).toMatchObject({ changes: true, replaces: [] });
    expect(await remoteFileProvider.diff!("id", o, { ...o, sshPrivateKey: "other" })).toMatchObject({ changes: false });
    const other = { ...o, connection: { ...o.connection, node: "golf" } };
    expect((await remoteFileProvider.diff!("id", o, other)).replaces).toEqual(["connection"]);
  });

  it("shows no change after a refresh of a file whose inputs left mode and owner at their defaults", async () => {
    const inputs = file({ path: "/etc/homelab-test/defaults.conf", content: "x\n" });
    const { id, outs } = await remoteFileProvider.create!(inputs);
    const refreshed = await remoteFileProvider.read!(id, outs);
    expect(refreshed.props).toMatchObject({ fileMode: "0644", owner: "root", group: "root" });
    expect(await remoteFileProvider.diff!(id, refreshed.props!, inputs)).toMatchObject({ changes: false });
    expect(await remoteFileProvider.diff!(id, refreshed.props!, { ...inputs, fileMode: "0600" })).toMatchObject({ changes: true });
  });
});

describe("serialization", () => {
  it("serializes without secrets or key material and creates through the loaded copy", async () => {
    const s = serializeProvider("infra/providers/linux/remote-file.ts", "remoteFileProvider");
    expect(s.containsSecrets).toBe(false);
    expect(s.text).not.toMatch(/PRIVATE KEY/);
    const provider = s.load();
    await provider.create!(file({ path: "/etc/homelab-test/serialized.conf", content: "ok\n" }));
    expect(await sh("cat /etc/homelab-test/serialized.conf")).toBe("ok\n");
  });
});
