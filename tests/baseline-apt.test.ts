/**
 * The baseline's APT repository files on a simulated PVE 9 node, exactly as
 * the component builds them (whole-file RemoteFiles, kept on delete): they
 * replace the installer's enterprise defaults, real apt reads them as meant,
 * a second apply writes nothing, and a hand-enabled enterprise repository
 * shows as drift.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { aptRepoFiles, AptRepoFiles, FileSpec } from "../infra/baseline";
import type { ConnectionArgs } from "../infra/providers/connection";
import { REMOTE_FILE_PROVIDER_VERSION, RemoteFileInputs, remoteFileProvider } from "../infra/providers/linux/remote-file";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { simConnection } from "./helpers/sim-connection";

let sim: SimCluster;
const NODE = "golf";

function conn(): ConnectionArgs {
  return simConnection(sim, NODE);
}

/** What components/node-baseline.ts registers for one repository file. */
const asInputs = (spec: FileSpec): RemoteFileInputs => ({
  ...conn(),
  providerVersion: REMOTE_FILE_PROVIDER_VERSION,
  ...spec,
  onDelete: "keep",
});

const FILES = aptRepoFiles(9, "squid");
const KEYS = Object.keys(FILES) as (keyof AptRepoFiles)[];

/** What a fresh PVE 9 install ships: both Proxmox repositories on, pointing at enterprise.proxmox.com. */
const INSTALLER_PVE_ENTERPRISE = [
  "Types: deb",
  "URIs: https://enterprise.proxmox.com/debian/pve",
  "Suites: trixie",
  "Components: pve-enterprise",
  "Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg",
  "",
].join("\n");
const INSTALLER_CEPH = [
  "Types: deb",
  "URIs: https://enterprise.proxmox.com/debian/ceph-squid",
  "Suites: trixie",
  "Components: enterprise",
  "Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg",
  "",
].join("\n");

async function sh(cmd: string): Promise<string> {
  const r = await sim.exec(NODE, cmd);
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${cmd}: ${r.stderr}`);
  return r.stdout;
}

const writes = () => sim.commandLog().map((e) => e.command).filter((c) => /mv -f --|rm -f --/.test(c));

/**
 * The Proxmox repositories the node's real apt would fetch (the sim's apt-get is a fake, so the
 * real binary by path): deb822 parsing, `Enabled:` and all, done by apt itself.
 */
async function aptProxmoxTargets(): Promise<string[]> {
  const out = await sh("/usr/bin/apt-get indextargets --no-release-info --format '$(SITE) $(RELEASE) $(COMPONENT)'");
  return [...new Set(out.split("\n").filter((l) => l.includes("proxmox.com")))].sort();
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: NODE, pveVersion: "9.1.1" }]);
  await sh(
    `mkdir -p /etc/apt/sources.list.d && cd /etc/apt/sources.list.d && ` +
      `printf '%s' '${INSTALLER_PVE_ENTERPRISE}' > pve-enterprise.sources && printf '%s' '${INSTALLER_CEPH}' > ceph.sources`,
  );
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(() => sim.clearLog());

describe("APT repository files on PVE 9", () => {
  it("the installer's defaults send apt to enterprise.proxmox.com (the starting point)", async () => {
    expect(await aptProxmoxTargets()).toEqual([
      "https://enterprise.proxmox.com/debian/ceph-squid trixie enterprise",
      "https://enterprise.proxmox.com/debian/pve trixie pve-enterprise",
    ]);
  });

  it("are written once, replacing the enterprise defaults; apt then uses only the no-subscription repositories", async () => {
    for (const k of KEYS) await remoteFileProvider.create!(asInputs(FILES[k]));
    expect(writes()).toEqual(KEYS.map((k) => expect.stringContaining(`mv -f -- "$tmp" ${FILES[k].path}`)));
    for (const k of KEYS) {
      expect(await sh(`cat ${FILES[k].path}`)).toBe(FILES[k].content);
      expect((await sh(`stat -c '%a %U %G' ${FILES[k].path}`)).trim()).toBe("644 root root");
    }
    expect(await sh("cat /etc/apt/sources.list.d/pve-enterprise.sources")).toContain("URIs: https://enterprise.proxmox.com/debian/pve\n");
    expect(await aptProxmoxTargets()).toEqual([
      "http://download.proxmox.com/debian/ceph-squid trixie no-subscription",
      "http://download.proxmox.com/debian/pve trixie pve-no-subscription",
    ]);
  });

  it("a second apply writes nothing: one read per file and no other command", async () => {
    for (const k of KEYS) await remoteFileProvider.update!("id", asInputs(FILES[k]), asInputs(FILES[k]));
    expect(writes()).toEqual([]);
    const log = sim.commandLog().map((e) => e.command);
    expect(log).toHaveLength(KEYS.length);
    for (const c of log) expect(c).toMatch(/^if \[ ! -e .*; stat -c '%a %U %G' -- .* && cat -- /);
  });

  it("a hand-enabled enterprise repository shows as drift on read, and the next apply disables it again", async () => {
    const spec = FILES.pveEnterprise;
    const inputs = asInputs(spec);
    await sh(`sed -i '/^Enabled: false$/d' ${spec.path}`);
    expect(await aptProxmoxTargets()).toContain("https://enterprise.proxmox.com/debian/pve trixie pve-enterprise");

    const id = `${NODE}:${spec.path}`;
    const read = await remoteFileProvider.read!(id, inputs);
    expect(read.id).toBe(id);
    const props = read.props as RemoteFileInputs;
    expect(props.content).toBe(spec.content.replace("Enabled: false\n", ""));
    const diff = await remoteFileProvider.diff!(id, props, inputs);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    // the other two files did not drift
    for (const k of ["pveNoSubscription", "ceph"] as const) {
      const r = await remoteFileProvider.read!(`${NODE}:${FILES[k].path}`, asInputs(FILES[k]));
      expect((await remoteFileProvider.diff!("id", r.props as RemoteFileInputs, asInputs(FILES[k]))).changes).toBe(false);
    }

    sim.clearLog();
    await remoteFileProvider.update!(id, props, inputs);
    expect(writes()).toEqual([expect.stringContaining(spec.path)]);
    expect(await sh(`cat ${spec.path}`)).toBe(spec.content);
    expect(await aptProxmoxTargets()).not.toContain("https://enterprise.proxmox.com/debian/pve trixie pve-enterprise");
  });

  it("deleting the resources leaves the files in place (onDelete: keep)", async () => {
    for (const k of KEYS) await remoteFileProvider.delete!(`${NODE}:${FILES[k].path}`, asInputs(FILES[k]));
    expect(sim.commandLog()).toEqual([]);
    for (const k of KEYS) expect(await sh(`cat ${FILES[k].path}`)).toBe(FILES[k].content);
  });
});
