import type { BlueGreen } from "../components/bluegreen/bluegreen";

/**
 * The stack outputs every environment exports, whatever its platform: the deploy driver, status
 * and rollback read these names.
 */
export function deliveryOutputs(environment: string, bg: BlueGreen) {
  return {
    environment,
    url: bg.url,
    liveSlot: bg.liveSlot,
    release: bg.release,
    previousRelease: bg.previousRelease,
    slotUrls: bg.slotUrls,
    trafficSwitch: bg.trafficSwitch,
    gateOpenedAt: bg.gateOpenedAt,
  };
}
