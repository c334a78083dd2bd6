import * as pulumi from "@pulumi/pulumi";
import { BlueGreen } from "../../../components/bluegreen/bluegreen";
import { FlyAppCore } from "../../../components/fly/fly-app";
import { featureEnv } from "../../../components/fly/plan";
import { flyPlatform } from "../../../components/fly/platform";
import { flySchema, healthGateSchema } from "../../../infra/config/schema";

// Blue/green on one Fly app from stack config. The integration suite points the providers at the
// test server (FLY_API_HOSTNAME / FLY_API_TOKEN) and the gate at its proxy (`slotUrl`).
const config = new pulumi.Config();
const fly = flySchema.parse(config.requireObject("fly"));
const hostname = config.require("hostname");

const core = new FlyAppCore("env", { fly, secrets: config.requireSecretObject<Record<string, string>>("secrets"), hostname });
const bg = new BlueGreen("app", {
  release: config.require("release"),
  liveSlot: config.require("liveSlot") === "green" ? "green" : "blue",
  previousRelease: config.get("previousRelease"),
  healthGate: healthGateSchema.parse(config.getObject("healthGate") ?? {}),
  platform: flyPlatform({
    fly,
    appName: core.appName,
    env: featureEnv({ new_checkout: true }),
    url: `https://${hostname}`,
    slotUrl: config.require("slotUrl"),
    updateDeadlineMs: 20_000,
    // What infra/cloud.ts passes from the stack's recorded delivery state: the slot live throughout.
    inRotation: config.get("inRotation") === "blue" ? "blue" : config.get("inRotation") === "green" ? "green" : undefined,
    dependsOn: [core.secrets],
  }),
});

export const url = bg.url;
export const liveSlot = bg.liveSlot;
export const release = bg.release;
export const previousRelease = bg.previousRelease;
export const slotUrls = bg.slotUrls;
export const trafficSwitch = bg.trafficSwitch;
export const gateOpenedAt = bg.gateOpenedAt;
