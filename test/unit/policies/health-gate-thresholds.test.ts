import { describe, expect, it } from "vitest";
import { healthGateThresholds } from "../../../policies/rules/health-gate-thresholds";
import { types } from "../../../policies/rules/common";
import { changed, runResourcePolicy } from "./support";
import { gate } from "./fixtures";

const happy = gate as unknown as Record<string, unknown>;
const run = (props: Record<string, unknown>, config = {}) => runResourcePolicy(healthGateThresholds, types.healthGate, props, config);

describe("health-gate-thresholds", () => {
  it("passes the production gate", async () => {
    expect(await run(happy)).toEqual([]);
  });
  it("the gate has a healthy threshold of at least 1", async () => {
    const out = await run(changed(happy, (g) => (g.healthyThreshold = 0)));
    expect(out[0].message).toMatch(/healthyThreshold is 0; it must be at least 1.*Fix:/);
  });
  it("the gate has an unhealthy threshold", async () => {
    const out = await run(changed(happy, (g) => delete g.unhealthyThreshold));
    expect(out[0].message).toMatch(/unhealthyThreshold is missing/);
  });
  it("the gate has a deadline", async () => {
    const out = await run(changed(happy, (g) => delete g.deadlineMs));
    expect(out[0].message).toMatch(/deadlineMs is missing/);
  });
  it("the deadline is longer than the interval", async () => {
    const out = await run(changed(happy, (g) => (g.deadlineMs = 1000)));
    expect(out).toHaveLength(1);
    expect(out[0].message).toMatch(/deadlineMs \(1000\) is not longer than its intervalMs \(1000\)/);
  });
  it("minHealthyThreshold raises the floor", async () => {
    expect(await run(happy, { minHealthyThreshold: 6 })).toHaveLength(1);
  });
});
