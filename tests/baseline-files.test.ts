/**
 * The baseline's files on a simulated node, exactly as the component builds
 * them: the /etc/hosts block and the subscription-nag hook. Also checks the
 * fake dpkg-query against the real tool's behaviour.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FileSpec, hostsBlockFile, noNagHookFile, noNagPatchScript } from "../infra/baseline";
import { beginMarker, endMarker } from "../infra/managed-block";
import type { ConnectionArgs } from "../infra/providers/connection";
import { REMOTE_FILE_PROVIDER_VERSION, RemoteFileInputs, remoteFileProvider } from "../infra/providers/linux/remote-file";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { simConnection } from "./helpers/sim-connection";

let sim: SimCluster;

function conn(name: string): ConnectionArgs {
  return simConnection(sim, name);
}

const asInputs = (node: string, spec: FileSpec): RemoteFileInputs => ({ ...conn(node), providerVersion: REMOTE_FILE_PROVIDER_VERSION, ...spec });

async function sh(node: string, cmd: string): Promise<string> {
  const r = await sim.exec(node, cmd);
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${cmd}: ${r.stderr}`);
  return r.stdout;
}

const writes = () => sim.commandLog().map((e) => e.command).filter((c) => /mv -f --|rm -f --/.test(c));

beforeAll(async () => {
  sim = await startSimCluster([{ name: "foxtrot" }, { name: "golf", pveVersion: "9.1.1" }]);
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.clearLog());

describe("/etc/hosts block", () => {
  const hosts = [
    { address: "10.10.0.11", names: ["foxtrot", "foxtrot-link0"] },
    { address: "10.10.0.12", names: ["golf", "golf-link0"] },
  ];

  it("is written after the node's own lines, which stay exactly as they were", async () => {
    const before = await sh("foxtrot", "cat /etc/hosts");
    expect(before).toContain("localhost");
    await remoteFileProvider.create!(asInputs("foxtrot", hostsBlockFile(hosts)));
    const after = await sh("foxtrot", "cat /etc/hosts");
    expect(after.startsWith(before)).toBe(true);
    expect(after.slice(before.length)).toBe(
      [
        "", // writeBlock separates the block from the user's last line
        beginMarker("cluster-nodes"),
        "10.10.0.11 foxtrot foxtrot-link0",
        "10.10.0.12 golf golf-link0",
        endMarker("cluster-nodes"),
        "",
      ].join("\n"),
    );
    // the resolver on the node sees the names
    expect((await sh("foxtrot", "getent hosts golf-link0")).trim()).toBe("10.10.0.12      golf golf-link0");
  });

  it("a re-run changes nothing, and a line the user adds later survives the next change", async () => {
    await remoteFileProvider.update!("id", asInputs("foxtrot", hostsBlockFile(hosts)), asInputs("foxtrot", hostsBlockFile(hosts)));
    expect(writes()).toEqual([]);
    await sh("foxtrot", "echo '192.168.1.20 nas' >> /etc/hosts");
    const more = [...hosts, { address: "10.10.0.13", names: ["hotel", "hotel-link0"] }];
    await remoteFileProvider.update!("id", asInputs("foxtrot", hostsBlockFile(hosts)), asInputs("foxtrot", hostsBlockFile(more)));
    const text = await sh("foxtrot", "cat /etc/hosts");
    expect(text).toContain("10.10.0.13 hotel hotel-link0\n");
    expect(text).toContain("192.168.1.20 nas\n");
    expect(text.match(/BEGIN homelab cluster-nodes/g)).toHaveLength(1);
  });
});

describe("subscription nag hook", () => {
  const JS = [
    "\t\tsuccess: function(response, opts) {",
    "\t\t    let res = response.result;",
    "\t\t    if (res === null || res === undefined || !res || res",
    "\t\t\t.data.status.toLowerCase() !== 'active') {",
    "\t\t\tExt.Msg.show({",
    "\t\t\t    title: gettext('No valid subscription'),",
    "",
  ].join("\n");

  it("installs the hook after apt-config accepted it, and apt sees it", async () => {
    const spec = noNagHookFile();
    await remoteFileProvider.create!(asInputs("golf", spec));
    expect(await sh("golf", `cat ${spec.path}`)).toBe(spec.content);
    expect(sim.commandLog().some((e) => e.command.includes("if ! apt-config -c"))).toBe(true);
    // the patch ran once (a no-op here: the sim has no proxmoxlib.js)
    expect(sim.commandLog().some((e) => e.command.startsWith("sh -c 'if [ -s /usr/share/javascript/"))).toBe(true);
    const dump = await sh("golf", "apt-config dump DPkg::Post-Invoke");
    expect(dump).toContain(`DPkg::Post-Invoke:: "${noNagPatchScript()} || true";`);
  });

  it("a second apply writes nothing and does not re-run the patch", async () => {
    const spec = noNagHookFile();
    await remoteFileProvider.update!("id", asInputs("golf", spec), asInputs("golf", spec));
    expect(writes()).toEqual([]);
    expect(sim.commandLog().some((e) => e.command.startsWith("sh -c"))).toBe(false);
  });

  it("a hook apt cannot parse is refused and the old one kept", async () => {
    const spec = { ...noNagHookFile(), content: 'DPkg::Post-Invoke { "true" \n' };
    await expect(remoteFileProvider.update!("id", asInputs("golf", spec), asInputs("golf", spec))).rejects.toThrow(
      /^golf: apt-config failed \(exit 86\): .*Syntax error/s,
    );
    expect(await sh("golf", `cat ${spec.path}`)).toBe(noNagHookFile().content);
  });

  it("the patch turns the subscription check off, once, on a copy of proxmoxlib.js", async () => {
    await sh("golf", `cat > /root/proxmoxlib.js <<'EOF'\n${JS}EOF`);
    const patch = noNagPatchScript("/root/proxmoxlib.js");
    await sh("golf", patch);
    const patched = await sh("golf", "cat /root/proxmoxlib.js");
    expect(patched).toContain(".data.status.toLowerCase() == 'NoMoreNagging') {");
    expect(patched).toContain("|| !res || res\n"); // the line without data.status is untouched
    await sh("golf", patch);
    expect(await sh("golf", "cat /root/proxmoxlib.js")).toBe(patched);
  });
});

describe("fake dpkg-query", () => {
  it("prints in package order, reports unknown names on stderr and exits 1, like the real tool", async () => {
    const r = await sim.exec("foxtrot", "dpkg-query -W -f='${Package} ${Status}\\n' sed bash nosuch");
    expect(r.stdout).toBe("bash install ok installed\nsed install ok installed\n");
    expect(r.stderr).toBe("dpkg-query: no packages found matching nosuch\n");
    expect(r.code).toBe(1);
  });

  it("follows what the fake apt-get installed and removed on that node only", async () => {
    await sh("foxtrot", "apt-get install -y tmux");
    expect(await sh("foxtrot", "dpkg-query -W -f='${Package} ${Status}\\n' tmux")).toBe("tmux install ok installed\n");
    expect((await sim.exec("golf", "dpkg-query -W tmux")).code).toBe(1);
    await sh("foxtrot", "apt-get remove -y tmux");
    expect(await sh("foxtrot", "dpkg-query -W -f='${Package} ${Status}\\n' tmux")).toBe("tmux deinstall ok config-files\n");
    await sh("foxtrot", "apt-get purge -y tmux");
    expect((await sim.exec("foxtrot", "dpkg-query -W tmux")).code).toBe(1);
  });
});
