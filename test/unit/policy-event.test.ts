import { describe, expect, it } from "vitest";
import { formatPolicyAdvice, isAdvisory } from "../../stacks/policy-event";

// The event as the engine sent it in a preview of the local stack with deploy-window at advisory.
const event = {
  resourceUrn: "urn:pulumi:local::flightdeck::pulumi:pulumi:Stack::flightdeck-local",
  message:
    "Checks whether the update runs inside the configured deploy window, or under a complete, unexpired and audited emergency override.\n" +
    "Deploys are allowed only inside the deploy window (no days 09:00–17:00 UTC); it is now 2026-12-01T19:08:08.078Z. Fix: deploy inside the window.\n",
  color: "never",
  policyName: "deploy-window",
  policyPackName: "flightdeck",
  policyPackVersion: "0.1.0",
  enforcementLevel: "advisory",
};

describe("advisory policy findings in a deploy's steps", () => {
  it("one line: the level, the policy and its finding with the fix, without the policy's description", () => {
    expect(formatPolicyAdvice(event as never)).toBe(
      "[advisory] deploy-window: Deploys are allowed only inside the deploy window (no days 09:00–17:00 UTC); it is now 2026-12-01T19:08:08.078Z. Fix: deploy inside the window.",
    );
  });

  it("advisory is what the engine sends, warning what the SDK's type says; mandatory and no event are not advice", () => {
    expect(isAdvisory(event as never)).toBe(true);
    expect(isAdvisory({ ...event, enforcementLevel: "warning" } as never)).toBe(true);
    expect(isAdvisory({ ...event, enforcementLevel: "mandatory" } as never)).toBe(false);
    expect(isAdvisory(undefined)).toBe(false);
  });
});
