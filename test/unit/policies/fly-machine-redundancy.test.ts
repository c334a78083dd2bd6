import { describe, expect, it } from "vitest";
import { checkRedundancy, flyMachineRedundancy } from "../../../policies/rules/fly-machine-redundancy";
import { types } from "../../../policies/rules/common";
import { machine, view } from "./fixtures";

const prod = { minMachines: 2, minRegions: 2 };
const inSlot = (slot: string, region: string, cordoned = true) => {
  const m = machine({ region, cordoned });
  return { ...m, config: { ...m.config, metadata: { flightdeck_slot: slot, flightdeck_release: m.config.image } } };
};
// Production as the program declares it: every machine starts cordoned; the router uncordons the live slot.
const happy = [view(types.flyMachine, "m0", inSlot("blue", "ams")), view(types.flyMachine, "m1", inSlot("blue", "iad"))];

describe("fly-machine-redundancy", () => {
  it("passes a slot of two machines in two regions, though they are declared cordoned (the router puts them in rotation)", () => {
    expect(checkRedundancy(happy, prod)).toEqual([]);
  });
  it("each slot runs at least 2 machines", () => {
    const f = checkRedundancy(happy.slice(0, 1), prod);
    expect(f.map((x) => x.message).join()).toMatch(/Slot blue runs 1 Fly machine\(s\); at least 2/);
  });
  it("each slot runs in at least the configured number of regions", () => {
    const f = checkRedundancy([happy[0], view(types.flyMachine, "m1", inSlot("blue", "ams"))], prod);
    expect(f).toHaveLength(1);
    expect(f[0].message).toMatch(/Slot blue's Fly machines span 1 region\(s\) \(ams\); at least 2/);
    expect(f[0].remediation).toMatch(/fly\.regions/);
  });
  it("a thin warm slot is refused too: it takes all traffic at the next switch or revert", () => {
    const f = checkRedundancy([...happy, view(types.flyMachine, "g0", inSlot("green", "ams"))], prod);
    expect(f.map((x) => x.message).join()).toMatch(/Slot green runs 1 Fly machine/);
  });
  it("other resource types do not count", () => {
    expect(checkRedundancy([view(types.healthGate, "g", {}), ...happy.slice(0, 1)], prod).length).toBeGreaterThan(0);
  });
  it("minMachines 0 and minRegions 0 allow a stack without machines (local and staging)", () => {
    expect(checkRedundancy([], { minMachines: 0, minRegions: 0 })).toEqual([]);
  });
  it("declares its config schema and a Checks whether description", () => {
    expect(flyMachineRedundancy.description).toMatch(/^Checks whether/);
    expect(Object.keys(flyMachineRedundancy.configSchema?.properties ?? {})).toEqual(["minMachines", "minRegions"]);
  });
});
