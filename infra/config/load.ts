import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, parseStackConfig } from "./parse";
import type { StackConfig } from "./schema";

/** Config values arrive as strings; objects and numbers are JSON. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Keys that hold secrets: never validated or echoed here; read with requireSecretObject by their user. */
export const SECRET_KEYS = ["appSecrets", "environmentSecrets"] as const;

/** Reads and validates this stack's `flightdeck:*` config before any resource is declared. */
export function loadStackConfig(): StackConfig {
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if ((SECRET_KEYS as readonly string[]).includes(name)) continue;
    raw[name] = decode(value);
  }
  return parseStackConfig(pulumi.getStack(), raw);
}
