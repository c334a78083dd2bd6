import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, StackConfigError, stackFileName } from "./config/parse";
import { initialDelivery, parseDeliveryState, slotSpecFromConfig, type DeliveryState } from "./config/delivery";
import type { StackConfig } from "./config/schema";

/** The stack output the driver, status and a plain `pulumi up` read the delivery state from. */
export const DELIVERY_OUTPUT = "delivery";

/**
 * What this update deploys, in order:
 * 1. `flightdeck:delivery` from the driver's own config file (deploy, revert, rollback);
 * 2. what the stack already runs, read from its own last outputs, so a plain `pulumi preview` or
 *    `pulumi up` keeps the live release (and the live slot as it was started) instead of falling
 *    back to a placeholder or changing a running slot in place;
 * 3. for a stack that never ran: the config's `release` on blue.
 */
export async function resolveDelivery(config: StackConfig): Promise<DeliveryState> {
  // Read on every update, the driver's included: a reference declared only sometimes would show
  // up as a change in every other preview.
  const own = new pulumi.StackReference("deployed", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  if (config.delivery) return config.delivery;
  const recorded = await own.getOutputDetails(DELIVERY_OUTPUT);
  const value = recorded.value ?? recorded.secretValue;
  if (value !== undefined) return parseDeliveryState(value, `stack ${pulumi.getStack()}: output ${DELIVERY_OUTPUT}`);
  if (config.release === undefined) {
    throw new StackConfigError(stackFileName(pulumi.getStack()), [
      {
        key: `${CONFIG_NAMESPACE}:release`,
        expected: "a release for this stack's first deploy (or deploy one: npm run deploy -- --stack <stack> --release <image digest>)",
        found: "nothing (the key is missing and nothing is deployed yet)",
      },
    ]);
  }
  return initialDelivery(slotSpecFromConfig(config, config.release));
}
