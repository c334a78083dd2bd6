import { describe, expect, it } from "vitest";
import { checkRedundancy, flyMachineRedundancy } from "../../../policies/rules/fly-machine-redundancy";
import { types } from "../../../policies/rules/common";
import { machine, view } from "./fixtures";

const prod = { minMachines: 2, minRegions: 2 };
const happy = [view(types.flyMachine, "m0", machine({ region: "ams" })), view(types.flyMachine, "m1", machine({ region: "iad" }))];

describe("fly-machine-redundancy", () => {
  it("passes two live machines in two regions", () => {
    expect(checkRedundancy(happy, prod)).toEqual([]);
  });
  it("production runs at least 2 machines", () => {
    const f = checkRedundancy(happy.slice(0, 1), prod);
    expect(f.map((x) => x.message).join()).toMatch(/1 live Fly machine\(s\); at least 2/);
  });
  it("production runs in at least the configured number of regions", () => {
    const f = checkRedundancy([happy[0], view(types.flyMachine, "m1", machine({ region: "ams" }))], prod);
    expect(f).toHaveLength(1);
    expect(f[0].message).toMatch(/span 1 region\(s\) \(ams\); at least 2/);
    expect(f[0].remediation).toMatch(/fly\.regions/);
  });
  it("cordoned machines (the idle slot) do not count", () => {
    const f = checkRedundancy([happy[0], view(types.flyMachine, "m1", machine({ region: "iad", cordoned: true }))], prod);
    expect(f.length).toBeGreaterThan(0);
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
