import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { BlueGreen } from "../components/bluegreen/bluegreen";
import { FlyAppCore, type FlyConfig } from "../components/fly/fly-app";
import { featureEnv } from "../components/fly/plan";
import { flyPlatform } from "../components/fly/platform";
import { declareTwoApps, flyTwoAppPlatform, twoAppName } from "../components/fly/two-app-platform";
import { CONFIG_NAMESPACE, stackFileName } from "./config/parse";
import type { CloudConfig } from "./config/schema";
import { liveSpec, warmSpec, type DeliveryState } from "./config/delivery";
import type { SlotName } from "./config/schema";
import { flyCanarySettings } from "./switch-settings";
import { declareDelivery } from "./delivery";
import { deliveryOutputs } from "./outputs";
import { checkFeatureFlags, type Features } from "./features";

export interface CloudContext {
  projectDir: string;
  stack: string;
  /** The slot live before this update and after it (infra/deployed.ts): its machines stay in rotation. */
  liveThroughout?: SlotName;
}

/**
 * The other environment's feature flags, from its committed stack file (`Pulumi.<environment>.yaml`)
 * when that file exists and declares that environment; undefined otherwise (nothing to compare).
 */
export function otherEnvironmentFeatures(projectDir: string, environment: CloudConfig["environment"]): { file: string; features: Features } | undefined {
  const other = environment === "staging" ? "production" : "staging";
  const file = path.join(projectDir, stackFileName(other));
  if (!fs.existsSync(file)) return undefined;
  const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const cfg = doc?.config ?? {};
  if (cfg[`${CONFIG_NAMESPACE}:environment`] !== other) return undefined;
  return { file: path.basename(file), features: (cfg[`${CONFIG_NAMESPACE}:features`] ?? {}) as Features };
}

/** Production may only turn on flags staging knows; checked against the other committed stack file. */
function assertFeatureFlags(config: CloudConfig, ctx: CloudContext): void {
  const other = otherEnvironmentFeatures(ctx.projectDir, config.environment);
  if (!other) return;
  const [staging, production] = config.environment === "staging" ? [config.features, other.features] : [other.features, config.features];
  const problems = checkFeatureFlags(staging, production);
  if (problems.length > 0) {
    throw new Error(
      `${stackFileName(ctx.stack)}: feature flags disagree with ${other.file} (nothing was changed):\n` + problems.map((p) => `  - ${p.message}`).join("\n"),
    );
  }
}

/**
 * A cloud environment (staging, production): one Fly app whose blue/green slots are machine groups
 * switched by cordoning (`fly.router: "cordon"`), or two Fly apps switched by the Cloudflare record
 * (`"cloudflare"`), and its delivery settings on GitHub and Cloudflare.
 */
export function cloudEnvironment(config: CloudConfig, deployed: DeliveryState, ctx: CloudContext) {
  // Fail before declaring anything: flags consistent across environments. An image not pinned by
  // digest is the policy pack's to refuse (fly-image-pinned-by-digest, mandatory on every cloud
  // stack, with the allowed registries), in preview, before anything changes; the machine
  // provider's Check refuses it too, should the policy ever be disabled.
  assertFeatureFlags(config, ctx);
  // Each slot runs what it was started with (flags, machine size): a config change reaches the
  // idle slot through deploy, never the live one in place.
  const slotEnv: Partial<Record<SlotName, Record<string, string>>> = {};
  const slotFly: Partial<Record<SlotName, FlyConfig>> = {};
  for (const slot of ["blue", "green"] as const) {
    const spec = deployed.slots[slot];
    if (!spec) continue;
    slotEnv[slot] = featureEnv(spec.features);
    slotFly[slot] = spec.fly ? { ...config.fly, size: spec.fly.size } : config.fly;
  }
  const run = { release: liveSpec(deployed).release, liveSlot: deployed.liveSlot, previousRelease: warmSpec(deployed)?.release };

  // Secret keys are optional and never pass through validation (see SECRET_KEYS).
  const secretConfig = new pulumi.Config(CONFIG_NAMESPACE);
  const appSecrets = secretConfig.getSecretObject<Record<string, string>>("appSecrets") ?? pulumi.secret<Record<string, string>>({});
  const environmentSecrets = secretConfig.getSecretObject<Record<string, string>>("environmentSecrets") ?? pulumi.secret<Record<string, string>>({});

  const hostname = config.cloudflare.hostname;
  const url = `https://${hostname}`;
  if (config.fly.router === "cloudflare") return twoAppEnvironment(config, run, deployed, { slotEnv, slotFly }, { appSecrets, environmentSecrets });
  const core = new FlyAppCore("fly", { fly: config.fly, secrets: appSecrets, hostname });
  const canary = flyCanarySettings(config);
  const bg = new BlueGreen("app", {
    ...run,
    healthGate: config.healthGate,
    restore: config.switchAtOnce === true,
    platform: flyPlatform({
      fly: config.fly,
      appName: core.appName,
      env: featureEnv(config.features),
      slotEnv,
      slotFly,
      url,
      healthPath: config.healthGate.path,
      inRotation: ctx.liveThroughout,
      ...(canary ? { canary } : {}),
      dependsOn: [core.secrets],
    }),
  });
  const delivery = declareDelivery(config, { environmentSecrets }, undefined, { certificate: core.certificate });

  return {
    ...deliveryOutputs(config.environment, bg, deployed),
    flyApp: core.appName,
    githubEnvironment: delivery.githubEnvironment,
    environmentSecretNames: delivery.environmentSecretNames,
  };
}

/**
 * Two-app mode (`fly.router: "cloudflare"`): `<app>-blue` and `<app>-green`, each a whole Fly app,
 * and the proxied record switched between them by the CloudflareRecordRouter. The record is
 * declared first because the router needs its ids; it waits for both apps' certificates, and
 * leaves its content to the router after the first `up`.
 */
function twoAppEnvironment(
  config: CloudConfig,
  run: { release: string; liveSlot: SlotName; previousRelease?: string },
  deployed: DeliveryState,
  perSlot: { slotEnv: Partial<Record<SlotName, Record<string, string>>>; slotFly: Partial<Record<SlotName, FlyConfig>> },
  secrets: { appSecrets: pulumi.Output<Record<string, string>>; environmentSecrets: pulumi.Output<Record<string, string>> },
) {
  const hostname = config.cloudflare.hostname;
  const apps = declareTwoApps("fly", { fly: config.fly, secrets: secrets.appSecrets, hostname });
  const delivery = declareDelivery(config, { environmentSecrets: secrets.environmentSecrets }, undefined, {
    liveFlyApp: twoAppName(config.fly.app, run.liveSlot),
    certificates: [apps.blue.certificate, apps.green.certificate],
    routerOwnsContent: true,
  });
  const bg = new BlueGreen("app", {
    ...run,
    healthGate: config.healthGate,
    restore: config.switchAtOnce === true,
    platform: flyTwoAppPlatform({
      fly: config.fly,
      apps,
      record: delivery.publicHostname.record,
      hostname,
      env: featureEnv(config.features),
      ...perSlot,
      url: `https://${hostname}`,
      healthPath: config.healthGate.path,
    }),
  });
  return {
    ...deliveryOutputs(config.environment, bg, deployed),
    flyApp: apps[run.liveSlot].appName,
    flyApps: { blue: apps.blue.appName, green: apps.green.appName },
    githubEnvironment: delivery.githubEnvironment,
    environmentSecretNames: delivery.environmentSecretNames,
  };
}
