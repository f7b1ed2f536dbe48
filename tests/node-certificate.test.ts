/**
 * NodeCertificate over real SSH against the simulator: a node certificate
 * that names the node's address runs nothing; one made for an old address
 * (the address changed, /etc/hosts followed) is made again with
 * `pvecm updatecerts --force` and read back; a node serving its own
 * certificate is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_CERTIFICATE_PROVIDER_VERSION, nodeCertificateProvider, type NodeCertificateOutputs } from "../infra/providers/proxmox/node-certificate";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;
const inputs = () => ({ ...simConnection(sim, "golf"), providerVersion: NODE_CERTIFICATE_PROVIDER_VERSION, address: sim.node("golf").host });
const create = async () => (await nodeCertificateProvider.create!(inputs())).outs as NodeCertificateOutputs;
const updatecerts = () => sim.commandLog().filter((e) => /pvecm updatecerts/.test(e.command));

async function exec(cmd: string): Promise<string> {
  const r = await sim.exec("golf", cmd);
  if (r.code !== 0) throw new Error(`${cmd} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  sim = await startSimCluster([{ name: "golf" }]);
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe("NodeCertificate", () => {
  it("runs nothing when pve-ssl.pem names the node's address", async () => {
    sim.clearLog();
    const outs = await create();
    expect(outs).toMatchObject({ namesAddress: true, customCertificate: false });
    expect(outs.names).toContain(`IP Address:${sim.node("golf").host}`);
    expect(updatecerts()).toEqual([]);
  });

  it("makes it again with pvecm updatecerts --force when it names an old address, and refresh sees it", async () => {
    // The certificate of an earlier address: /etc/hosts said 10.99.0.7 when it was made.
    const hosts = await exec("cat /etc/hosts");
    await exec(`cp /etc/hosts /etc/hosts.orig && printf '10.99.0.7\\tgolf\\n' > /etc/hosts && pvecm updatecerts --force --silent && cp /etc/hosts.orig /etc/hosts`);
    expect(await exec("cat /etc/hosts")).toBe(hosts);
    const stale = await nodeCertificateProvider.read!("golf-node-certificate", { ...inputs(), names: "", namesAddress: true, customCertificate: false });
    expect(stale.props).toMatchObject({ namesAddress: false });
    expect((await nodeCertificateProvider.diff!("golf-node-certificate", stale.props as NodeCertificateOutputs, inputs())).changes).toBe(true);
    sim.clearLog();
    const outs = await create();
    expect(outs.namesAddress).toBe(true);
    expect(updatecerts().map((e) => e.command)).toEqual([expect.stringContaining("pvecm updatecerts --force")]);
    expect(sim.commandLog().filter((e) => /systemctl restart pveproxy/.test(e.command))).toHaveLength(1);
    const read = await nodeCertificateProvider.read!("golf-node-certificate", outs);
    expect(read.props).toEqual(outs);
  });

  it("leaves a node that serves a certificate of its own alone", async () => {
    await exec(`cp /etc/hosts /etc/hosts.orig && printf '10.99.0.7\\tgolf\\n' > /etc/hosts && pvecm updatecerts --force --silent && cp /etc/hosts.orig /etc/hosts`);
    await exec("touch /etc/pve/local/pveproxy-ssl.pem");
    sim.clearLog();
    const outs = await create();
    expect(outs).toMatchObject({ namesAddress: false, customCertificate: true });
    expect(updatecerts()).toEqual([]);
  });
});
