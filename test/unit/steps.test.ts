import { describe, expect, it } from "vitest";
import { firstLine, formatStep } from "../../stacks/steps";

describe("step output", () => {
  it("shows the engine's specific error, not the command wrapper", () => {
    const err = new Error(
      "code: -2\n stdout: Updating (local):\n +  pulumi-nodejs:dynamic/flightdeck:HealthGate app-gate updating error: health gate closed for release v4: 2 failed probes\n error: update failed\n",
    );
    expect(firstLine(err)).toBe("health gate closed for release v4: 2 failed probes");
  });
  it("names a mandatory policy's refusal with its message, never the wrapper's 'code: -2'", () => {
    const err = new Error(
      "code: -2\n stdout: Policies:\n    ❌ flightdeck@v0.1.0\n        - [mandatory]  deploy-window  (pulumi:pulumi:Stack: s)\n          Checks whether…\n          Deploys are allowed only inside the deploy window.\n\nDiagnostics:\n    error: preview failed\n",
    );
    expect(firstLine(err)).toBe("policy deploy-window: Deploys are allowed only inside the deploy window.");
    expect(firstLine(new Error("code: -2\n stdout: \n stderr: something broke"))).toBe("something broke");
  });
  it("keeps a config error's list of problems", () => {
    const err = new Error("code: 255\n stdout: error: Pulumi.s.yaml: invalid stack config (nothing was changed):\n  - flightdeck:x: expected a, found b\n");
    expect(firstLine(err)).toBe("Pulumi.s.yaml: invalid stack config (nothing was changed):\n  - flightdeck:x: expected a, found b");
  });
  it("falls back to the first line of a plain error", () => {
    expect(firstLine(new Error("boom\nmore"))).toBe("boom");
  });
  it("formats a step with its time", () => {
    expect(formatStep({ name: "bake", status: "ok", ms: 5012, detail: "5 probes passed" })).toBe("✓ bake                 5.0s  5 probes passed");
  });
});
