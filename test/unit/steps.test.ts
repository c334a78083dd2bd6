import { describe, expect, it } from "vitest";
import { firstLine, formatStep } from "../../stacks/steps";

describe("step output", () => {
  it("shows the engine's specific error, not the command wrapper", () => {
    const err = new Error(
      "code: -2\n stdout: Updating (local):\n +  pulumi-nodejs:dynamic/flightdeck:HealthGate app-gate updating error: health gate closed for release v4: 2 failed probes\n error: update failed\n",
    );
    expect(firstLine(err)).toBe("health gate closed for release v4: 2 failed probes");
  });
  it("falls back to the first line of a plain error", () => {
    expect(firstLine(new Error("boom\nmore"))).toBe("boom");
  });
  it("formats a step with its time", () => {
    expect(formatStep({ name: "bake", status: "ok", ms: 5012, detail: "5 probes passed" })).toBe("✓ bake                 5.0s  5 probes passed");
  });
});
