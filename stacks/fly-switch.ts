/**
 * The deploy driver's fly traffic switch: the same uncordon-then-cordon sequence as the
 * FlyCordonRouter resource, straight through the Machines API (FLY_API_TOKEN and
 * FLY_API_HOSTNAME from the environment, as the providers read them), without the engine.
 * Imported for its side effect by the driver's entry points.
 */
import { otherSlot } from "../components/bluegreen/slots";
import { applyCordons } from "../components/fly/cordons";
import { cordonState } from "../components/fly/plan";
import { registerFlySwitch } from "./traffic";

registerFlySwitch((spec) => ({
  // A revert moves traffic away from the slot that was just switched in, so that is the state
  // put back if the switch fails midway.
  pointAt: (slot) => applyCordons(spec.app, slot, spec.machines, cordonState(otherSlot(slot), spec.machines)),
  // The Machines API (spec of March 2024) reports no cordon state, so which group is in rotation
  // cannot be read back: "unknown" rather than a guess.
  live: async () => undefined,
}));
