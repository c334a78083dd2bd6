/**
 * Two-app blue/green on Fly (`fly.router: "cloudflare"`) on the real Pulumi engine (Automation API)
 * against the Fly API and Cloudflare API test servers: two apps, `<app>-blue` and `<app>-green`,
 * all machines in rotation; the gate probing each machine of the new app; the CloudflareRecordRouter
 * PATCHing the proxied record; the driver's switch; a failing PATCH; destroy to an empty server.
 */
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrafficSwitchSpec } from "../../components/bluegreen/platform";
import "../../stacks/cloudflare-switch";
import { trafficSwitchFor } from "../../stacks/traffic";
import { FakeCloudflare } from "../cloudflare-api/server";
import { FakeFly } from "../fly-api/server";
import { flySection } from "../support/fly-fixtures";

const workDir = path.resolve(__dirname, "../programs/fly-two-app");
const stackName = `test-flytwo-${process.pid}`;
const app = "fd-twotest";
const ZONE = "0123456789abcdef0123456789abcdef";
const digest = (c: string) => `registry.fly.io/${app}@sha256:${c.repeat(64)}`;
const [Z, A, B] = [digest("0"), digest("a"), digest("b")];

const fly = new FakeFly();
const cf = new FakeCloudflare();
let stack: Stack;
let recordId: string;
const output: string[] = [];
const onOutput = (s: string) => output.push(s);
const envKeys = ["CLOUDFLARE_API_BASE", "CLOUDFLARE_API_TOKEN", "FLIGHTDECK_CLOUDFLARE_RETRY_BASE_MS"] as const;
const savedEnv = Object.fromEntries(envKeys.map((k) => [k, process.env[k]]));

async function setConfig(c: { release: string; liveSlot: "blue" | "green"; previousRelease: string }) {
  await stack.setAllConfig({
    fly: { value: flySection(app, { router: "cloudflare" }) },
    hostname: { value: "two.example.com" },
    slotUrl: { value: fly.url },
    zoneId: { value: ZONE },
    recordId: { value: recordId },
    secrets: { value: JSON.stringify({ DATABASE_URL: "postgres://u:p@db/app" }), secret: true },
    healthGate: { value: JSON.stringify({ intervalMs: 100, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3, deadlineMs: 10_000 }) },
    release: { value: c.release },
    liveSlot: { value: c.liveSlot },
    previousRelease: { value: c.previousRelease },
  });
}

const content = () => cf.records.get(recordId)!.content;
/** "<machine name>@<region> <image>" of one app, sorted. */
const machinesOf = (a: string) =>
  fly
    .machines(a)
    .map((m) => `${m.name}@${m.region}${m.cordoned ? " cordoned" : ""} ${String(m.config.image)}`)
    .sort();

beforeAll(async () => {
  await fly.start();
  await cf.start();
  // As PublicHostname creates it: a proxied CNAME at the live slot's app.
  recordId = cf.addRecord({ zoneId: ZONE, name: "two.example.com", content: `${app}-blue.fly.dev` }).id;
  // The driver's switch runs in this process, and reads the same variables as the provider.
  process.env.CLOUDFLARE_API_BASE = cf.url;
  process.env.CLOUDFLARE_API_TOKEN = cf.token;
  process.env.FLIGHTDECK_CLOUDFLARE_RETRY_BASE_MS = "20";
  stack = await LocalWorkspace.createOrSelectStack(
    { stackName, workDir },
    {
      envVars: {
        FLY_API_HOSTNAME: fly.url,
        FLY_API_TOKEN: fly.token,
        FLIGHTDECK_FLY_RETRY_BASE_MS: "20",
        CLOUDFLARE_API_BASE: cf.url,
        CLOUDFLARE_API_TOKEN: cf.token,
        FLIGHTDECK_CLOUDFLARE_RETRY_BASE_MS: "20",
        PULUMI_CONFIG_PASSPHRASE: "test",
      },
    },
  );
});

afterAll(async () => {
  try {
    await stack?.workspace.removeStack(stackName, { force: true });
  } finally {
    for (const f of fs.readdirSync(workDir)) if (/^Pulumi\.test-flytwo-.*\.yaml$/.test(f)) fs.rmSync(path.join(workDir, f));
    await fly.stop();
    await cf.stop();
    for (const k of envKeys) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
  }
});

describe("two-app blue/green on Fly, switched by the Cloudflare record, on the real engine", () => {
  it("first up: two apps with all machines in rotation; the record points at blue's app", async () => {
    await setConfig({ release: A, liveSlot: "blue", previousRelease: Z });
    const res = await stack.up({ onOutput });
    expect(res.summary.result).toBe("succeeded");
    expect([...fly.apps.keys()].sort()).toEqual([`${app}-blue`, `${app}-green`]);
    expect(machinesOf(`${app}-blue`)).toEqual([`${app}-blue-0@ams ${A}`, `${app}-blue-1@iad ${A}`]);
    expect(machinesOf(`${app}-green`)).toEqual([`${app}-green-0@ams ${Z}`, `${app}-green-1@iad ${Z}`]);
    for (const a of ["blue", "green"]) {
      expect(fly.apps.get(`${app}-${a}`)!.certificates.has("two.example.com")).toBe(true);
      expect([...fly.apps.get(`${app}-${a}`)!.secrets.keys()]).toEqual(["DATABASE_URL"]);
    }
    expect(content()).toBe(`${app}-blue.fly.dev`);
    expect(cf.patches()).toEqual([`200 ${app}-blue.fly.dev`]);
    expect(res.outputs.trafficSwitch.value).toEqual({
      kind: "cloudflare",
      zoneId: ZONE,
      recordId,
      hostname: "two.example.com",
      targets: { blue: `${app}-blue.fly.dev`, green: `${app}-green.fly.dev` },
    });
    expect(fly.violations).toEqual([]);
  });

  it("a release to green updates green's machines, gates each of them, then PATCHes the record to green", async () => {
    const from = cf.log.length;
    const probesFrom = fly.proxyLog.length;
    await setConfig({ release: B, liveSlot: "green", previousRelease: A });
    const res = await stack.up({ onOutput });
    expect(res.summary.result).toBe("succeeded");
    expect(machinesOf(`${app}-green`)).toEqual([`${app}-green-0@ams ${B}`, `${app}-green-1@iad ${B}`]);
    expect(machinesOf(`${app}-blue`)).toEqual([`${app}-blue-0@ams ${A}`, `${app}-blue-1@iad ${A}`]);
    const greenIds = new Set(fly.machines(`${app}-green`).map((m) => m.id));
    expect(new Set(fly.proxyLog.slice(probesFrom).map((p) => p.instance))).toEqual(greenIds);
    expect(cf.patches(from)).toEqual([`200 ${app}-green.fly.dev`]);
    expect(content()).toBe(`${app}-green.fly.dev`);
    expect(fly.violations).toEqual([]);
  });

  it("the driver's switch flips the record back to blue without the engine, and reads it", async () => {
    const spec = (await stack.outputs()).trafficSwitch.value as TrafficSwitchSpec;
    const sw = trafficSwitchFor(spec);
    expect(await sw.live()).toBe("green");
    await sw.pointAt("blue");
    expect(content()).toBe(`${app}-blue.fly.dev`);
    expect(await sw.live()).toBe("blue");
  });

  it("a failed PATCH (500s past the retries) fails the up and leaves the record on blue", async () => {
    // Refresh first, as deploy does: the router reads the record and sees blue (the driver's switch).
    await stack.refresh({ onOutput });
    cf.inject({ method: "PATCH", status: 500, times: 4 });
    const from = cf.log.length;
    const err = await stack.up({ onOutput }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(String(err?.message)).toContain(`CloudflareRecordRouter: moving two.example.com to slot green (${app}-green.fly.dev)`);
    expect(String(err?.message)).toContain(`zone ${ZONE}, record ${recordId} failed: HTTP 500`);
    expect(cf.patches(from)).toEqual(Array(4).fill(`500 ${app}-green.fly.dev`));
    expect(content()).toBe(`${app}-blue.fly.dev`);
  });

  it("destroy leaves the Fly test server empty and the record (PublicHostname's) in place", async () => {
    await stack.destroy({ onOutput });
    expect(fly.isEmpty()).toBe(true);
    expect(fly.violations).toEqual([]);
    expect(content()).toBe(`${app}-blue.fly.dev`);
  });
});
