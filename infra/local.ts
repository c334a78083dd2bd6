import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { CONFIG_NAMESPACE } from "./config/parse";
import { BlueGreen } from "../components/bluegreen/bluegreen";
import { canarySettings } from "./switch-settings";
import { featureEnv } from "../components/fly/plan";
import { localPlatform, type LocalSlotSettings } from "../components/local/platform";
import type { SlotName } from "../components/bluegreen/slots";
import { liveSpec, warmSpec, type DeliveryState, type SlotSpec } from "./config/delivery";
import type { LocalConfig } from "./config/schema";
import { deliveryOutputs } from "./outputs";

export interface LocalContext {
  projectDir: string;
  stack: string;
}

function settingsOf(spec: SlotSpec, config: LocalConfig, projectDir: string): LocalSlotSettings {
  const local = spec.local ?? { appDir: config.local.appDir, command: config.local.command };
  return { appDir: path.resolve(projectDir, local.appDir), command: local.command, env: featureEnv(spec.features), secretsDigest: spec.secrets?.digest ?? "" };
}

/** The local environment: blue/green slots as local processes behind HAProxy. */
export function localEnvironment(config: LocalConfig, delivery: DeliveryState, ctx: LocalContext) {
  const slots: Partial<Record<SlotName, LocalSlotSettings>> = {};
  for (const slot of ["blue", "green"] as const) {
    const spec = delivery.slots[slot];
    if (spec) slots[slot] = settingsOf(spec, config, ctx.projectDir);
  }
  // App secrets reach the slots' processes as environment, encrypted in the state. A slot takes new
  // values only when it is (re)deployed with their digest (deploy ships a rotation blue/green).
  const secrets = new pulumi.Config(CONFIG_NAMESPACE).getSecretObject<Record<string, string>>("appSecrets");
  const canary = canarySettings(config);
  const platform = localPlatform({
    slots,
    ...(secrets ? { secrets } : {}),
    ports: {
      proxy: config.local.proxyPort,
      admin: config.local.adminPort,
      blue: config.local.bluePort,
      green: config.local.greenPort,
    },
    stateDir: path.join(ctx.projectDir, ".pulumi", "local", ctx.stack),
    healthCheck: { path: config.healthGate.path, expectedStatus: config.healthGate.expectedStatus },
    ...(canary ? { canary } : {}),
  });
  const bg = new BlueGreen("app", {
    release: liveSpec(delivery).release,
    liveSlot: delivery.liveSlot,
    previousRelease: warmSpec(delivery)?.release,
    healthGate: config.healthGate,
    restore: config.switchAtOnce === true,
    platform,
  });
  return deliveryOutputs(config.environment, bg, delivery);
}
