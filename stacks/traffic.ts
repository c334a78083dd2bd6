import type { TrafficSwitchSpec } from "../components/bluegreen/platform";
import type { SlotName } from "../components/bluegreen/slots";
import { readLiveSlot, setLiveSlot } from "../components/local/haproxy-admin";

/** Moves live traffic without the engine: the first half of a revert (traffic first, state second). */
export interface TrafficSwitch {
  pointAt(slot: SlotName): Promise<void>;
  live(): Promise<SlotName | undefined>;
}

export type FlySwitchFactory = (spec: Extract<TrafficSwitchSpec, { kind: "fly" }>) => TrafficSwitch;

let flySwitchFactory: FlySwitchFactory | undefined;

/** The fly platform registers its switch here (kept out of this module so local needs no Fly code). */
export function registerFlySwitch(factory: FlySwitchFactory): void {
  flySwitchFactory = factory;
}

export function trafficSwitchFor(spec: TrafficSwitchSpec): TrafficSwitch {
  switch (spec.kind) {
    case "local":
      return {
        pointAt: (slot) => setLiveSlot(spec.socketPath, slot),
        live: () => readLiveSlot(spec.socketPath),
      };
    case "fly":
      if (!flySwitchFactory) throw new Error("the fly traffic switch is not registered (import stacks/fly-switch)");
      return flySwitchFactory(spec);
  }
}
