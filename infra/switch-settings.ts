/**
 * How a switch goes, from a stack's config: its gate and its canary steps, and how both change in
 * an update the driver runs to restore (revert, rollback, recovery: `switchAtOnce`).
 */
import type { CanarySettings } from "../components/bluegreen/canary-analysis";
import type { FlyCanarySettings } from "../components/fly/contract";
import { flyCanarySteps } from "../components/fly/plan";
import type { CloudConfig, HealthGateConfig, LocalConfig } from "./config/schema";

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

/**
 * The gate's settings. A restore's gate opens on one passing probe: it goes back to a release that
 * passed its own gate and served, and the driver has just checked that the slot serves it (and moved
 * traffic there first), so more probes in a row only hold the restore. Its other rules stay.
 */
export function gateSettings(config: Pick<LocalConfig | CloudConfig, "healthGate" | "switchAtOnce">): HealthGateConfig {
  return config.switchAtOnce ? { ...config.healthGate, healthyThreshold: 1 } : config.healthGate;
}
