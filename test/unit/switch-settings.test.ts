/** How a switch goes from a stack's config: canary steps or at once, and at once in a driver's restore. */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../infra/config/parse";
import type { CloudConfig, StackConfig } from "../../infra/config/schema";
import { canarySettings, flyCanarySettings } from "../../infra/switch-settings";
import { stackFileConfig } from "../support/stack-files";

function cloud(c: StackConfig): CloudConfig {
  if (c.environment === "local") throw new Error("expected a cloud stack's config");
  return c;
}

describe("switch settings", () => {
  const local = parseStackConfig("local", { ...stackFileConfig("local"), strategy: "canary" });
  const production = cloud(parseStackConfig("production", { ...stackFileConfig("production"), strategy: "canary" }));

  it("a deploy's canary is the config's", () => {
    expect(canarySettings(local)).toMatchObject({ steps: [5, 25], pauseMs: 10_000 });
  });

  it("a restore switches at once", () => {
    const restore = { ...local, switchAtOnce: true };
    expect(canarySettings(restore)).toBeUndefined();
    expect(flyCanarySettings({ ...production, switchAtOnce: true })).toBeUndefined();
  });

  it("on Fly the planned shares follow the slot size, and the org whose metrics judge them is named", () => {
    expect(flyCanarySettings(production)).toMatchObject({ org: production.fly.org, percents: [33], steps: [5, 25] });
  });
});
