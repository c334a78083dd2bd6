import { describe, expect, it } from "vitest";
import { canaryRequired, routerTypes } from "../../../policies/rules/canary-required";
import { runResourcePolicy } from "./support";

const canary = { steps: [5, 25], pauseMs: 10000, maxErrorRate: 0.01, maxP99Ratio: 2, p99SlackMs: 20, minRequests: 0 };
const run = (type: string, props: Record<string, unknown>, config = {}) => runResourcePolicy(canaryRequired, type, props, config);

describe("canary-required", () => {
  it("passes a local router that switches in canary steps", async () => {
    expect(await run(routerTypes.local, { live: "green", canary })).toEqual([]);
  });
  it("refuses a local router that switches at once, saying which setting to change", async () => {
    const out = await run(routerTypes.local, { live: "green" });
    expect(out).toHaveLength(1);
    expect(out[0].message).toMatch(/switches all live traffic to a new release at once.*Fix: set strategy: canary/);
  });
  it("refuses a first step larger than maxFirstStepPercent", async () => {
    const out = await run(routerTypes.local, { canary: { ...canary, steps: [50] } }, { maxFirstStepPercent: 10 });
    expect(out[0].message).toMatch(/first step gives a new release 50% of live traffic; this stack's policy allows at most 10%/);
  });
  it("judges a Fly router on the share its machines allow, not the one asked", async () => {
    // Two machines per slot: one new machine in rotation beside two stable ones is 33%.
    const fly = { ...canary, org: "acme", percents: [33] };
    expect(await run(routerTypes.flyCordon, { live: "green", canary: fly }, { maxFirstStepPercent: 40 })).toEqual([]);
    const out = await run(routerTypes.flyCordon, { live: "green", canary: fly });
    expect(out[0].message).toMatch(/first step gives a new release 33% of live traffic \(asked 5%; .*\); this stack's policy allows at most 25%.*Fix: raise fly.machinesPerSlot/);
    expect((await run(routerTypes.flyCordon, { live: "blue" }))[0].message).toMatch(/switches all live traffic to a new release at once/);
  });
  it("says plainly that the Cloudflare record (two apps) cannot run canary steps", async () => {
    const out = await run(routerTypes.cloudflare, { live: "blue" });
    expect(out[0].message).toMatch(/cannot run canary steps.*Fix: use fly.router: cordon/);
  });
  it("never blocks a restore, which switches at once", async () => {
    const restore = { restore: { kind: "rollback", reason: "rollback to version 3" } };
    expect(await run(routerTypes.local, { live: "blue" }, restore)).toEqual([]);
    expect(await run(routerTypes.flyCordon, { live: "blue" }, restore)).toEqual([]);
  });
  it("looks at routers only", async () => {
    expect(await run("pulumi-nodejs:dynamic/flightdeck:HealthGate", {})).toEqual([]);
  });
});
