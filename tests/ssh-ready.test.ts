/**
 * SshReady over real SSH against a simulated host: pinned keys, trust on
 * first use only when asked, and a bounded wait that names the host.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SSH_READY_PROVIDER_VERSION, sshReadyProvider, type SshReadyInputs, type SshReadyOutputs } from "../infra/providers/linux/ssh-ready";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";

let sim: SimCluster;

beforeAll(async () => {
  sim = await startSimCluster([{ name: "kilo" }]);
});

afterAll(async () => {
  await sim?.stop();
});

function inputs(over: Partial<SshReadyInputs> = {}, connection: Partial<SshReadyInputs["connection"]> = {}): SshReadyInputs {
  const base = simConnection(sim, "kilo");
  return {
    ...base,
    connection: { ...base.connection, ...connection },
    providerVersion: SSH_READY_PROVIDER_VERSION,
    timeoutSeconds: 3,
    pollSeconds: 1,
    trustOnFirstUse: false,
    ...over,
  };
}

describe("SshReady", () => {
  it("is ready once the host answers with the pinned key, and outputs that key", async () => {
    const r = await sshReadyProvider.create!(inputs());
    expect(r.outs!.hostKey).toBe(sim.node("kilo").hostKeyFingerprint);
  });

  it("refuses a host that presents another key, naming the host, after the deadline", async () => {
    const wrong = "SHA256:mvdb9XYk0ywce+dcRozKq8X7+v2r/xIUyKJo+g3CEXE";
    const started = Date.now();
    const err = (await sshReadyProvider.create!(inputs({}, { hostKey: wrong })).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/^kilo: SSH on .+ was not ready within 3 s; last attempt: kilo: host key mismatch/);
    expect(err.message).toContain(sim.node("kilo").hostKeyFingerprint);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("never trusts an unknown key unless asked", async () => {
    const err = (await sshReadyProvider.create!(inputs({}, { hostKey: undefined })).catch((e: Error) => e)) as Error;
    expect(err.message).toBe("kilo: no pinned host key, and trustOnFirstUse is off; refusing to trust an unknown key");
  });

  it("with trustOnFirstUse, records the first key and pins it from then on", async () => {
    const outs = (await sshReadyProvider.create!(inputs({ trustOnFirstUse: true }, { hostKey: undefined }))).outs as SshReadyOutputs;
    expect(outs.hostKey).toBe(sim.node("kilo").hostKeyFingerprint);
    const read = await sshReadyProvider.read!("kilo", outs);
    expect(read.props!.hostKey).toBe(outs.hostKey);
    // A later key change is refused: read connects with the recorded key only.
    const tampered = { ...outs, hostKey: "SHA256:mvdb9XYk0ywce+dcRozKq8X7+v2r/xIUyKJo+g3CEXE" };
    await expect(sshReadyProvider.read!("kilo", tampered)).rejects.toThrow(/host key mismatch/);
  });

  it("gives up on a host that never answers, naming it and its address", async () => {
    const err = (await sshReadyProvider.create!(inputs({ timeoutSeconds: 2 }, { host: "127.0.0.1", port: 1 })).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/^kilo: SSH on 127\.0\.0\.1:1 was not ready within 2 s; last attempt: kilo: cannot connect to 127\.0\.0\.1:1/);
  });

  it("replaces on another machine, updates on other connection details", async () => {
    const olds = { ...inputs(), hostKey: "x" };
    expect(await sshReadyProvider.diff!("kilo", olds, inputs({}, { host: "10.0.0.9" }))).toMatchObject({ changes: true, replaces: ["connection"] });
    expect(await sshReadyProvider.diff!("kilo", olds, inputs({}, { user: "admin" }))).toMatchObject({ changes: true, replaces: [] });
    expect(await sshReadyProvider.diff!("kilo", olds, inputs())).toMatchObject({ changes: false });
  });
});
