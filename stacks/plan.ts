import {
  DELIVERY_KEY,
  otherSlot,
  liveSpec,
  parseDeliveryState,
  sameSpec,
  warmSpec,
  type DeliveryState,
  type SlotName,
  type SlotSpec,
} from "../infra/config/delivery";
import { CONFIG_NAMESPACE } from "../infra/config/parse";

export type { DeliveryState, SlotSpec };

export interface DeployPlan {
  /** The slot that receives the new spec. */
  targetSlot: SlotName;
  /** What the update deploys. */
  next: DeliveryState;
  /** What to put back if anything fails: what runs now, or undefined for a first deploy. */
  lastGood?: DeliveryState;
  /** Nothing to do: the live slot already runs exactly this spec. */
  noop: boolean;
}

/**
 * Chooses the idle slot: the desired spec (a new release, or new flags, command, app…) goes to
 * the slot that is not live, and the live one stays as it is, warm for a revert. The live slot is
 * never changed in place. `liveAnswers: false` (the live slot does not serve its release) turns a
 * no-op into a redeploy to the idle slot.
 */
export function planDeploy(current: DeliveryState | undefined, desired: SlotSpec, liveAnswers = true): DeployPlan {
  if (!current) {
    return { targetSlot: "blue", next: { liveSlot: "blue", slots: { blue: desired } }, lastGood: undefined, noop: false };
  }
  if (sameSpec(liveSpec(current), desired) && liveAnswers) {
    return { targetSlot: current.liveSlot, next: current, lastGood: current, noop: true };
  }
  const targetSlot = otherSlot(current.liveSlot);
  const next: DeliveryState = { liveSlot: targetSlot, slots: { [current.liveSlot]: liveSpec(current), [targetSlot]: desired } };
  return { targetSlot, next, lastGood: current, noop: false };
}

/** `v2 on green (warm: v1)` */
export function describeDelivery(d: DeliveryState | undefined): string {
  if (!d) return "nothing";
  const warm = warmSpec(d);
  return `${liveSpec(d).release} on ${d.liveSlot}${warm ? ` (warm: ${warm.release})` : ""}`;
}

/** Reads the delivery state an update ran with from its recorded config; undefined when it has none. */
export function deliveryFromConfig(config: Record<string, { value: string } | undefined> | undefined): DeliveryState | undefined {
  const entry = config?.[`${CONFIG_NAMESPACE}:${DELIVERY_KEY}`];
  if (!entry) return undefined;
  try {
    return parseDeliveryState(entry.value, "recorded config");
  } catch {
    return undefined; // recorded by another version of the program: not a state to return to
  }
}

/** Reads the delivery state a stack runs from its outputs; undefined for a stack that never ran. */
export function deliveryFromOutputs(outputs: Record<string, { value: unknown } | undefined>, stack: string): DeliveryState | undefined {
  const value = outputs.delivery?.value;
  if (value === undefined) return undefined;
  return parseDeliveryState(value, `stack ${stack}: output delivery`);
}

export { liveSpec, warmSpec, sameSpec };
