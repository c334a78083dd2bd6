import * as path from "node:path";
import { BlueGreen } from "../components/bluegreen/bluegreen";
import { localPlatform } from "../components/local/platform";
import { featureEnv } from "./features-env";
import type { LocalConfig } from "./config/schema";
import { deliveryOutputs } from "./outputs";

export interface LocalContext {
  projectDir: string;
  stack: string;
}

/** The local environment: blue/green slots as local processes behind HAProxy. */
export function localEnvironment(config: LocalConfig, ctx: LocalContext) {
  const platform = localPlatform({
    appDir: path.resolve(ctx.projectDir, config.local.appDir),
    command: config.local.command,
    env: featureEnv(config.features),
    ports: {
      proxy: config.local.proxyPort,
      admin: config.local.adminPort,
      blue: config.local.bluePort,
      green: config.local.greenPort,
    },
    stateDir: path.join(ctx.projectDir, ".pulumi", "local", ctx.stack),
  });
  const bg = new BlueGreen("app", {
    release: config.release,
    liveSlot: config.liveSlot,
    previousRelease: config.previousRelease,
    healthGate: config.healthGate,
    platform,
  });
  return deliveryOutputs(config.environment, bg);
}
