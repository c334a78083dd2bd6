import * as pulumi from "@pulumi/pulumi";
import { BlueGreen } from "../../../components/bluegreen/bluegreen";
import { featureEnv } from "../../../components/fly/plan";
import { declareTwoApps, flyTwoAppPlatform } from "../../../components/fly/two-app-platform";
import { flySchema, healthGateSchema } from "../../../infra/config/schema";

// Two-app blue/green on Fly from stack config. The integration suite points the Fly providers at
// the Fly test server, the router at the Cloudflare test server (CLOUDFLARE_API_BASE), and the
// gate at the Fly test server's proxy (`slotUrl`). The record itself is PublicHostname's in a real
// stack; here it exists on the Cloudflare test server and its ids come from config.
const config = new pulumi.Config();
const fly = flySchema.parse(config.requireObject("fly"));
const hostname = config.require("hostname");
const slotUrl = config.require("slotUrl");

const apps = declareTwoApps("env", { fly, secrets: config.requireSecretObject<Record<string, string>>("secrets"), hostname });
const bg = new BlueGreen("app", {
  release: config.require("release"),
  liveSlot: config.require("liveSlot") === "green" ? "green" : "blue",
  previousRelease: config.get("previousRelease"),
  healthGate: healthGateSchema.parse(config.getObject("healthGate") ?? {}),
  platform: flyTwoAppPlatform({
    fly,
    apps,
    record: { zoneId: config.require("zoneId"), recordId: config.require("recordId") },
    hostname,
    env: featureEnv({ new_checkout: true }),
    url: `https://${hostname}`,
    slotUrl: () => slotUrl,
    updateDeadlineMs: 20_000,
  }),
});

export const url = bg.url;
export const liveSlot = bg.liveSlot;
export const release = bg.release;
export const previousRelease = bg.previousRelease;
export const slotUrls = bg.slotUrls;
export const trafficSwitch = bg.trafficSwitch;
export const gateOpenedAt = bg.gateOpenedAt;
export const flyApps = { blue: apps.blue.appName, green: apps.green.appName };
