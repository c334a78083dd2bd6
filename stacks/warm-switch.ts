import type { BackendStore } from "./backend-store";
import { SLOTS, otherSlot } from "../components/bluegreen/slots";
import { liveSpec, sameSpec, type DeliveryState } from "./plan";
import { latestRecord, type DeploymentRecord } from "./record-format";
import { parseTrafficSwitchSpec } from "./traffic-spec";
import { trafficSwitchFor, warmSlotProblem } from "./traffic";

export type RecordedTraffic = NonNullable<DeploymentRecord["traffic"]>;

/** What a record keeps for rollback's first switch, from the outputs of the update that made `delivery` live. */
export function recordedTraffic(outputs: Record<string, { value: unknown }>, delivery: DeliveryState): RecordedTraffic | undefined {
  try {
    const spec = parseTrafficSwitchSpec(outputs.trafficSwitch?.value, "output trafficSwitch");
    const urls = outputs.slotUrls?.value;
    if (!spec || typeof urls !== "object" || urls === null) return undefined;
    const slotUrls = Object.fromEntries(
      Object.entries(urls).filter((e): e is [string, string] => (SLOTS as readonly string[]).includes(e[0]) && typeof e[1] === "string"),
    );
    return { delivery, switch: spec, slotUrls };
  } catch {
    // A record without it only makes the next rollback wait for the engine.
    return undefined;
  }
}

/** The switch rollback made before asking the engine: where traffic was, and what it was moved to. */
export interface WarmSwitch {
  from: DeliveryState;
  /** The release the warm slot answered with, now live. */
  to: DeliveryState;
  ms: number;
  undo(): Promise<void>;
}

/**
 * Rollback's first move, before the engine is asked anything: when the stack's last record says what
 * ran when it ended (a command that left the stack as its state says: see `traffic` in
 * record-format.ts), the router still points where that
 * record left it, and the warm slot answers with the release the record says it keeps, live
 * traffic goes to the warm slot now. The engine's history confirms it afterwards; when history
 * would choose another target, `undo` puts traffic back. When any check fails, nothing moved and
 * the reason says which: the rollback then moves traffic the usual way, after reading the state.
 */
export async function switchToWarmFromRecord(
  store: BackendStore,
  stack: string,
  started: number,
  /** Called just before the router moves, with what runs now (the deploy lock's restore point). */
  beforeSwitch: (from: DeliveryState) => Promise<void>,
): Promise<{ switched: WarmSwitch } | { skipped: string }> {
  const latest = await latestRecord(store, stack);
  if (!latest) return { skipped: "the stack has no deployment record" };
  if (!latest.traffic) {
    return { skipped: `its last record (a ${latest.kind} that ${latest.outcome === "rolled back" ? "rolled back" : latest.outcome}) does not say what runs` };
  }
  const { delivery, switch: spec, slotUrls } = latest.traffic;
  const warm = otherSlot(delivery.liveSlot);
  const warmSpec = delivery.slots[warm];
  const warmUrl = slotUrls[warm];
  if (!warmSpec || !warmUrl) return { skipped: "no release is warm" };
  const router = trafficSwitchFor(spec);
  const liveNow = await router.live().catch(() => undefined);
  if (liveNow !== delivery.liveSlot) return { skipped: `the router points at ${liveNow ?? "an unknown slot"}, not ${delivery.liveSlot} as the last record says` };
  const problem = await warmSlotProblem(spec, warm, warmUrl, warmSpec.release);
  if (problem) return { skipped: problem };
  await beforeSwitch(delivery);
  await router.pointAt(warm);
  // The same two slots, the warm one live.
  return { switched: { from: delivery, to: { ...delivery, liveSlot: warm }, ms: Date.now() - started, undo: () => router.pointAt(delivery.liveSlot) } };
}

/** Whether the early switch made what the rollback chose from the engine's history live. */
export function warmSwitchMatches(early: WarmSwitch, current: DeliveryState | undefined, next: DeliveryState): boolean {
  if (!current || current.liveSlot !== early.from.liveSlot || next.liveSlot !== early.to.liveSlot) return false;
  return SLOTS.every((slot) => sameSpec(current.slots[slot], early.from.slots[slot])) && sameSpec(liveSpec(next), liveSpec(early.to));
}
