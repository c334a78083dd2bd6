import { judgeStep, type StepVerdict } from "../bluegreen/canary-analysis";
import { sleep } from "./api";
import type { FlyCanarySettings } from "./contract";
import { applyCordons, applyCordonSteps } from "./cordons";
import { appFigures, figuresBetween, histogramQuantileMs, type InstanceFigures } from "./metrics";
import { afterCordonSteps, canaryCordonPlan, cordonState, flyCanarySteps, type Slot } from "./plan";

export interface FlyCanary {
  app: string;
  /** The slot in rotation now, which runs the last good release. */
  stable: Slot;
  /** The slot that runs the new release and takes a growing share of machines in rotation. */
  canary: Slot;
  machines: Record<Slot, readonly string[]>;
  settings: FlyCanarySettings;
}

/** What a canary that passed did: a line per step, and the cordon state it left (the last step's). */
export interface FlyCanaryPassed {
  report: string[];
  found: Record<string, boolean>;
}

/** How often a step's figures are read while it lasts, so that errors abort before its end. */
const EARLY_LOOK_MS = 1000;

/**
 * Moves a growing share of the machines in rotation to the new release, judging each step on Fly's
 * per-machine figures (the new slot's machines against the stable slot's), as the local canary does
 * on HAProxy's. A step that fails, or whose figures cannot be read, puts the stable slot back in
 * rotation alone and throws. When every step passes, the new slot is partly in rotation: the caller
 * makes the switch.
 */
export async function runFlyCanary(c: FlyCanary): Promise<FlyCanaryPassed> {
  const { app, stable, canary, machines, settings } = c;
  const plan = flyCanarySteps(settings.steps, machines[stable].length, machines[canary].length);
  if (machines[stable].length === 0 || plan.length === 0) {
    return { report: [`skipped: slot ${stable} has no machines to compare with; the switch is made at once`], found: cordonState(stable, machines) };
  }
  let found = cordonState(stable, machines);
  const abort = async (why: string): Promise<never> => {
    try {
      await applyCordons(app, stable, machines, found);
    } catch (err) {
      throw new Error(`canary aborted ${why}; putting ${stable} back in rotation alone failed: ${(err as Error).message}`);
    }
    // A plain Error: the provider runs serialized by the engine, where a subclass loses its message.
    throw new Error(`canary aborted ${why}; live traffic is back on ${stable}`);
  };
  const figures = async (step: number): Promise<Record<string, InstanceFigures>> => {
    try {
      return await appFigures(settings.org, app);
    } catch (err) {
      return abort(`at ${step}%: the step cannot be judged without Fly's metrics (${(err as Error).message})`);
    }
  };
  const side = (then: Record<string, InstanceFigures>, now: Record<string, InstanceFigures>, slot: Slot) => {
    const f = figuresBetween(then, now, machines[slot]);
    return { requests: f.requests, errors: f.errors, p99Ms: histogramQuantileMs(0.99, f.buckets) };
  };
  const report: string[] = [];
  for (const step of plan) {
    const moves = canaryCordonPlan(step, stable, canary, machines, found);
    try {
      await applyCordonSteps(app, moves, found, `giving ${step.percent}% of the machines in rotation to ${canary}`);
    } catch (err) {
      return abort(`at ${step.percent}%: ${(err as Error).message}`);
    }
    found = afterCordonSteps(found, moves);
    const since = await figures(step.percent);
    const judge = (now: Record<string, InstanceFigures>): StepVerdict => judgeStep(step.percent, side(since, now, canary), side(since, now, stable), settings);
    // Errors are judged as they come: users should not wait for the step's end to be off a failing
    // release. p99 is judged at the step's end.
    const endsAt = Date.now() + settings.pauseMs;
    while (Date.now() < endsAt) {
      await sleep(Math.min(EARLY_LOOK_MS, Math.max(0, endsAt - Date.now())));
      const now = await figures(step.percent);
      if (side(since, now, canary).errors > 0) {
        const early = judge(now);
        if (!early.ok) return abort(early.detail);
      }
    }
    const verdict = judge(await figures(step.percent));
    if (!verdict.ok) return abort(verdict.detail);
    report.push(`passed ${verdict.detail} (${step.canaryIn} of ${step.canaryIn + step.stableIn} machines in rotation run the new release)`);
  }
  return { report, found };
}
