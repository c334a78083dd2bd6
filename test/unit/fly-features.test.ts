import { describe, expect, it } from "vitest";
import { checkFeatureFlags, type Features } from "../../infra/features";
import { stackFileConfig } from "../support/stack-files";

const features = (stack: string) => (stackFileConfig(stack).features ?? {}) as Features;

describe("feature flags across environments", () => {
  it("the committed staging and production stacks are consistent", () => {
    expect(checkFeatureFlags(features("staging"), features("production"))).toEqual([]);
  });
  it("a flag on in production but unknown to staging is a problem naming the flag and the files", () => {
    const problems = checkFeatureFlags(features("staging"), { ...features("production"), instant_refunds: true });
    expect(problems).toHaveLength(1);
    expect(problems[0].flag).toBe("instant_refunds");
    expect(problems[0].message).toMatch(/Pulumi\.production\.yaml.*Pulumi\.staging\.yaml/);
  });
  it("a flag off in production may be unknown to staging", () => {
    expect(checkFeatureFlags({}, { legacy: false })).toEqual([]);
  });
  it("a flag on in production and off in staging is known, so allowed", () => {
    expect(checkFeatureFlags({ beta: false }, { beta: true })).toEqual([]);
  });
});
