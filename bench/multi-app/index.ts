/**
 * The cost-growth benchmark's program (bench/cost-growth.ts): `apps` copies of the local app in one
 * stack, each composed as infra/local.ts composes the one app of the local stack (its slots, health
 * gate and HAProxy router), on its own four ports. What it measures is how the components and the
 * engine scale with the number of apps.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { BlueGreen } from "../../components/bluegreen/bluegreen";
import { localPlatform } from "../../components/local/platform";

const config = new pulumi.Config();
const apps = config.requireNumber("apps");
const basePort = config.requireNumber("basePort");
const release = config.require("release");
const liveSlot = config.require("liveSlot") === "green" ? "green" : "blue";
const previousRelease = config.get("previousRelease");
const projectDir = path.resolve(__dirname, "../..");
const app = { appDir: path.join(projectDir, "examples", "app"), command: ["node", "server.js"], env: {}, secretsDigest: "" };
const healthGate = { path: "/healthz", expectedStatus: 200, intervalMs: 200, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 2, deadlineMs: 15_000 };

export const urls: pulumi.Output<string>[] = [];
for (let i = 0; i < apps; i++) {
  const port = basePort + i * 4;
  const warm = liveSlot === "blue" ? "green" : "blue";
  const platform = localPlatform({
    namePrefix: `app${i}-`,
    slots: { [liveSlot]: app, ...(previousRelease ? { [warm]: app } : {}) },
    ports: { proxy: port, blue: port + 1, green: port + 2, admin: port + 3 },
    stateDir: path.join(projectDir, ".pulumi", "local", `cost-growth-${pulumi.getStack()}`, `app${i}`),
    healthCheck: { path: healthGate.path, expectedStatus: healthGate.expectedStatus },
  });
  const bg = new BlueGreen(`app${i}`, { release, liveSlot, previousRelease, healthGate, platform });
  urls.push(bg.url);
}
