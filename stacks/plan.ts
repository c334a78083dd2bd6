import type { SlotName } from "../components/bluegreen/slots";
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

/** Reads a delivery state back from recorded config (history or current), if it has one. */
export function deliveryFromConfig(config: Record<string, { value: string } | undefined>): DeliveryState | undefined {
  const release = config["flightdeck:release"]?.value;
  const live = config["flightdeck:liveSlot"]?.value;
  if (!release) return undefined;
  const liveSlot: SlotName = live === "green" ? "green" : "blue";
  const previousRelease = config["flightdeck:previousRelease"]?.value;
  return previousRelease ? { release, liveSlot, previousRelease } : { release, liveSlot };
}
