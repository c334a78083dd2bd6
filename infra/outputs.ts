import type { BlueGreen } from "../components/bluegreen/bluegreen";
import type { DeliveryState } from "./config/delivery";

/**
 * The stack outputs every environment exports, whatever its platform: the deploy driver, status
 * and rollback read these names. `delivery` is what each slot runs: the next update of this stack
 * starts from it (infra/deployed.ts).
 */
export function deliveryOutputs(environment: string, bg: BlueGreen, delivery: DeliveryState) {
  return {
    environment,
    url: bg.url,
    liveSlot: bg.liveSlot,
    release: bg.release,
    previousRelease: bg.previousRelease,
    slotUrls: bg.slotUrls,
    trafficSwitch: bg.trafficSwitch,
    gateOpenedAt: bg.gateOpenedAt,
    canaryReport: bg.canaryReport,
    delivery,
  };
}
