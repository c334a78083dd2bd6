import { describe, expect, it } from "vitest";
import { flyServiceHttpHealthCheck } from "../../../policies/rules/fly-service-http-health-check";
import { types } from "../../../policies/rules/common";
import { changed, runResourcePolicy, unknownString } from "./support";
import { machine } from "./fixtures";

const happy = machine() as unknown as Record<string, unknown>;
const run = (props: Record<string, unknown>, config = {}) => runResourcePolicy(flyServiceHttpHealthCheck, types.flyMachine, props, config);
type M = ReturnType<typeof machine>;

describe("fly-service-http-health-check", () => {
  it("passes a service with an HTTP check", async () => {
    expect(await run(happy)).toEqual([]);
  });
  it("every Fly service has an HTTP health check", async () => {
    const out = await run(changed(happy, (m) => ((m as unknown as M).config.services![0].checks = [])));
    expect(out).toHaveLength(1);
    expect(out[0].message).toMatch(/service 0 \(internal port 8080\) has no HTTP health check.*Fix: add/);
  });
  it("a service without checks at all is a violation", async () => {
    const out = await run(changed(happy, (m) => delete (m as unknown as M).config.services![0].checks));
    expect(out).toHaveLength(1);
  });
  it("a machine without services has nothing to check", async () => {
    expect(await run(changed(happy, (m) => delete (m as unknown as M).config.services))).toEqual([]);
  });
  it("requirePath rejects an HTTP check without a path", async () => {
    const out = await run(changed(happy, (m) => ((m as unknown as M).config.services![0].checks![0].path = "/")), { requirePath: true });
    expect(out[0].message).toMatch(/without a health path/);
  });
  it("ignores other resource types", async () => {
    expect(await runResourcePolicy(flyServiceHttpHealthCheck, types.healthGate, {})).toEqual([]);
  });
  it("an unknown services list surfaces as the engine's unknown-value error during preview", async () => {
    await expect(run(changed(happy, (m) => ((m as unknown as { config: Record<string, unknown> }).config.services = unknownString)))).rejects.toThrow(/can't be known during preview/);
  });
});
