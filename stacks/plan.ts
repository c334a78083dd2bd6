import type { SlotName } from "../components/bluegreen/slots";
import { SECRET_KEYS } from "../infra/config/load";
import { parseStackConfig } from "../infra/config/parse";
import type { StackConfig } from "../infra/config/schema";
import { otherSlot } from "../components/bluegreen/slots";

/** The part of a stack's config that says what is deployed where. */
export interface DeliveryState {
  release: string;
  liveSlot: SlotName;
  previousRelease?: string;
}

export interface DeployPlan {
  /** The slot that receives the new release. */
  targetSlot: SlotName;
  /** Config to apply for the deploy. */
  next: DeliveryState;
  /** Config to re-apply if anything fails: the last good state, or undefined for a first deploy. */
  lastGood?: DeliveryState;
  /** Nothing to do: the release is already live. */
  noop: boolean;
}

/**
 * Chooses the idle slot from the stack's last good state: the new release goes to the slot that
 * is not live, the live one becomes the warm previous slot.
 */
export function planDeploy(current: DeliveryState | undefined, release: string): DeployPlan {
  if (!current) {
    return { targetSlot: "blue", next: { release, liveSlot: "blue" }, lastGood: undefined, noop: false };
  }
  if (current.release === release) {
    return { targetSlot: current.liveSlot, next: current, lastGood: current, noop: true };
  }
  const targetSlot = otherSlot(current.liveSlot);
  return {
    targetSlot,
    next: { release, liveSlot: targetSlot, previousRelease: current.release },
    lastGood: current,
    noop: false,
  };
}

/** Config keys the deploy driver owns, as `flightdeck:<key>`. */
export const DELIVERY_KEYS = ["release", "liveSlot", "previousRelease"] as const;

/** Config values for a delivery state; `undefined` means remove the key. */
export function deliveryConfig(state: DeliveryState): Record<(typeof DELIVERY_KEYS)[number], string | undefined> {
  return { release: state.release, liveSlot: state.liveSlot, previousRelease: state.previousRelease };
}

/**
 * Reads a delivery state back from recorded config (history or current). An update made without
 * the driver (`npm start`, a plain `pulumi up`) records no release: what it deployed is the
 * schema's default, so the recorded config is read through the schema like the program reads it.
 */
export function deliveryFromConfig(config: Record<string, { value: string } | undefined>): DeliveryState | undefined {
  const raw: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(config)) {
    if (!key.startsWith("flightdeck:") || entry === undefined) continue;
    if ((SECRET_KEYS as readonly string[]).includes(key.slice("flightdeck:".length))) continue;
    try {
      raw[key.slice("flightdeck:".length)] = JSON.parse(entry.value);
    } catch {
      raw[key.slice("flightdeck:".length)] = entry.value;
    }
  }
  let parsed: StackConfig;
  try {
    parsed = parseStackConfig("history", raw);
  } catch {
    return undefined; // not a config this program ran with: no state to return to
  }
  const { release, liveSlot, previousRelease } = parsed;
  return previousRelease ? { release, liveSlot, previousRelease } : { release, liveSlot };
}
