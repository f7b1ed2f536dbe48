/**
 * UnitDisabled against a simulated node, run from its serialized text as the
 * engine runs it: Debian's default dnsmasq (enabled and started by its
 * package) is disabled and stopped once, a second run changes nothing, and
 * one started again by hand shows as drift.
 */
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UNIT_DISABLED_PROVIDER_VERSION, type UnitDisabledInputs } from "../infra/providers/linux/unit-disabled";
import { serializeProvider } from "./helpers/serialize";
import { simConnection } from "./helpers/sim-connection";
import { SimCluster, startSimCluster } from "./sim/cluster";
import { mutatingCommands } from "./sim/mutating";

let sim: SimCluster;
let provider: pulumi.dynamic.ResourceProvider;

const inputs = (): UnitDisabledInputs => ({ ...simConnection(sim, "foxtrot"), providerVersion: UNIT_DISABLED_PROVIDER_VERSION, unit: "dnsmasq.service" });
const state = async () => (await sim.exec("foxtrot", "systemctl is-enabled dnsmasq.service; systemctl is-active dnsmasq.service")).stdout.split("\n").filter(Boolean);
const mutating = () => mutatingCommands(sim.commandLog()).map((c) => c.command);

beforeAll(async () => {
  provider = serializeProvider("infra/providers/linux/unit-disabled.ts", "unitDisabledProvider").load();
  sim = await startSimCluster([{ name: "foxtrot" }]);
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

beforeEach(async () => {
  // What installing the package does on Debian.
  await sim.exec("foxtrot", "systemctl enable --now dnsmasq.service");
  sim.clearLog();
});

describe("UnitDisabled", () => {
  it("disables and stops an enabled, running unit, and reads it back", async () => {
    expect(await state()).toEqual(["enabled", "active"]);
    const { id, outs } = await provider.create!(inputs());
    expect(id).toBe("foxtrot:dnsmasq.service");
    expect(outs).toMatchObject({ enabled: "disabled", active: "inactive" });
    expect(await state()).toEqual(["disabled", "inactive"]);
    expect(mutating()).toEqual(["systemctl disable --now dnsmasq.service"]);
  });

  it("runs no changing command when the unit is already off, and a refresh then sees no change", async () => {
    const first = await provider.create!(inputs());
    sim.clearLog();
    await provider.create!(inputs());
    const read = await provider.read!(first.id, first.outs);
    expect((await provider.diff!(first.id, read.props, inputs())).changes).toBe(false);
    expect(mutating()).toEqual([]);
  });

  it("sees the unit started again by hand as drift, and the update stops it again", async () => {
    const { id, outs } = await provider.create!(inputs());
    await sim.exec("foxtrot", "systemctl start dnsmasq.service");
    const read = await provider.read!(id, outs);
    expect(read.props).toMatchObject({ active: "active" });
    expect((await provider.diff!(id, read.props, inputs())).changes).toBe(true);
    expect((await provider.update!(id, read.props, inputs())).outs).toMatchObject({ enabled: "disabled", active: "inactive" });
  });
});
