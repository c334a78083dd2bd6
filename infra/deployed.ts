import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, StackConfigError, stackFileName } from "./config/parse";
import { initialDelivery, parseDeliveryState, slotSpecFromConfig, type DeliveryState } from "./config/delivery";
import { appSecretValues } from "./config/load";
import { slotName, type SlotName, type StackConfig } from "./config/schema";

/** The stack output the driver, status and a plain `pulumi up` read the delivery state from. */
export const DELIVERY_OUTPUT = "delivery";

/**
 * One output of this stack as its last update left it, through the engine's built-in
 * `readStackOutputs` (what a StackReference reads, but as an invoke: nothing is added to the state,
 * so a refresh or a drift check has nothing of it to report). Undefined for a stack never deployed.
 */
async function ownOutput(name: string): Promise<unknown> {
  const stackName = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const result: unknown = await pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", { name: stackName });
  if (result === null || typeof result !== "object") return undefined;
  const outputs: unknown = Reflect.get(result, "outputs");
  if (outputs === null || typeof outputs !== "object") return undefined;
  return Reflect.get(outputs, name);
}

/**
 * What this update deploys, in order:
 * 1. `flightdeck:delivery` from the driver's own config file (deploy, revert, rollback);
 * 2. what the stack already runs, read from its own last outputs, so a plain `pulumi preview` or
 *    `pulumi up` keeps the live release (and the live slot as it was started) instead of falling
 *    back to a placeholder or changing a running slot in place;
 * 3. for a stack that never ran: the config's `release` on blue.
 */
export async function resolveDelivery(config: StackConfig): Promise<ResolvedDelivery> {
  // Read on every update, the driver's included: the invoke's default provider must be in the
  // state of every update alike, or each plain preview would show it as a change.
  const recorded = await ownOutput(DELIVERY_OUTPUT);
  if (config.delivery) return { delivery: config.delivery, liveThroughout: liveThroughout(recordedLiveSlot(recorded), config.delivery) };
  if (recorded !== undefined) {
    const delivery = parseDeliveryState(recorded, `stack ${pulumi.getStack()}: output ${DELIVERY_OUTPUT}`);
    return { delivery, liveThroughout: delivery.liveSlot };
  }
  if (config.release === undefined) {
    throw new StackConfigError(stackFileName(pulumi.getStack()), [
      {
        key: `${CONFIG_NAMESPACE}:release`,
        expected: "a release for this stack's first deploy (or deploy one: npm run deploy -- --stack <stack> --release <image digest>)",
        found: "nothing (the key is missing and nothing is deployed yet)",
      },
    ]);
  }
  // A first plain `up` starts the slot with the app secrets there are now: its spec says which.
  return { delivery: initialDelivery(slotSpecFromConfig(config, config.release, appSecretValues())) };
}

export interface ResolvedDelivery {
  /** What this update deploys. */
  delivery: DeliveryState;
  /**
   * The slot that takes live traffic before this update and keeps it after: its machines are in
   * the router's rotation now, and an in-place update of one (a drift repair) must keep it there.
   * Undefined when the live slot changes (a deploy, a rollback) or nothing ran before.
   */
  liveThroughout?: SlotName;
}

/** The live slot the last update recorded, if its output says one (a malformed output is the driver's to report, not this). */
function recordedLiveSlot(recorded: unknown): SlotName | undefined {
  const parsed = slotName.safeParse(typeof recorded === "object" && recorded !== null ? Reflect.get(recorded, "liveSlot") : undefined);
  return parsed.success ? parsed.data : undefined;
}

function liveThroughout(before: SlotName | undefined, after: DeliveryState): SlotName | undefined {
  return before === after.liveSlot ? before : undefined;
}
