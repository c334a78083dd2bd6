/**
 * How a switch goes, from a stack's config: in canary steps or at once, and at once in an update
 * the driver runs to restore (revert, rollback, recovery: `switchAtOnce`).
 */
import type { CanarySettings } from "../components/bluegreen/canary-analysis";
import type { FlyCanarySettings } from "../components/fly/contract";
import { flyCanarySteps } from "../components/fly/plan";
import type { CloudConfig, LocalConfig } from "./config/schema";

/** How the router switches: in canary steps with strategy canary, except in the driver's restores. */
export function canarySettings(config: Pick<LocalConfig | CloudConfig, "strategy" | "canary" | "switchAtOnce">): CanarySettings | undefined {
  if (config.strategy !== "canary" || config.switchAtOnce) return undefined;
  const { pauseSeconds, ...rest } = config.canary;
  return { ...rest, pauseMs: pauseSeconds * 1000 };
}

/**
 * The same on one Fly app, where a step is a share of the machines in rotation: the shares each
 * slot's size allows (both slots have `machinesPerSlot`), and the org whose metrics judge them.
 */
export function flyCanarySettings(config: CloudConfig): FlyCanarySettings | undefined {
  const settings = canarySettings(config);
  if (!settings) return undefined;
  const n = config.fly.machinesPerSlot;
  return { ...settings, org: config.fly.org, percents: flyCanarySteps(settings.steps, n, n).map((s) => s.percent) };
}

