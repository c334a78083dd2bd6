import * as pulumi from "@pulumi/pulumi";
import { FlyApp } from "../../../components/fly/fly-app";
import { flySchema } from "../../../infra/config/schema";

// One Fly environment from stack config. The integration suite sets the config and points the
// providers at the test server with FLY_API_HOSTNAME / FLY_API_TOKEN.
const config = new pulumi.Config();
const fly = flySchema.parse(config.requireObject("fly"));

const env = new FlyApp("env", {
  fly,
  releases: config.requireObject<{ blue: string; green: string }>("releases"),
  liveSlot: config.require("liveSlot") === "green" ? "green" : "blue",
  features: config.getObject<Record<string, boolean>>("features") ?? {},
  secrets: config.requireSecretObject<Record<string, string>>("secrets"),
  hostname: config.require("hostname"),
  updateDeadlineMs: config.getNumber("updateDeadlineMs") ?? 20_000,
});

export const appName = env.appName;
export const machineIds = env.machineIds;
export const ipv4 = env.ipv4;
export const ipv6 = env.ipv6;
export const certificateStatus = env.certificateStatus;
export const secretNames = env.secretNames;
