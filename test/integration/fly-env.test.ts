/**
 * One Fly environment as the shipped program composes it (FlyAppCore + BlueGreen over flyPlatform,
 * as infra/cloud.ts does; the program is test/programs/fly-bluegreen) on the real Pulumi engine
 * (Automation API) against the Fly API test server: up, an in-place image update, a secret change
 * that never reaches state or output in plaintext, refresh after an out-of-band change, destroy to
 * an empty server. test/integration/fly-bluegreen.test.ts covers releases, the gate and the switch.
 */
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TrafficSwitchSpec } from "../../components/bluegreen/platform";
import { FakeFly } from "../fly-api/server";
import { flySection } from "../support/fly-fixtures";

const workDir = path.resolve(__dirname, "../programs/fly-bluegreen");
const stackName = `test-fly-${process.pid}`;
const app = "fd-itest";
const digest = (c: string) => `registry.fly.io/${app}@sha256:${c.repeat(64)}`;
const secretValues = ["postgres://user:pw-Xq7-one@db/app", "sk_live_Zr9-two", "sk_live_Zr9-rotated-three"];

const fly = new FakeFly();
let stack: Stack;
const output: string[] = [];
const onOutput = (s: string) => output.push(s);

/** Blue live with release a, green warm with `green` (the previous release); the program sets FLAG_NEW_CHECKOUT=true. */
async function setConfig(over: { green?: string; apiKey?: string } = {}) {
  await stack.setAllConfig({
    fly: { value: flySection(app) },
    release: { value: digest("a") },
    liveSlot: { value: "blue" },
    previousRelease: { value: over.green ?? digest("a") },
    hostname: { value: "itest.example.com" },
    slotUrl: { value: fly.url },
    healthGate: { value: JSON.stringify({ intervalMs: 100, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3, deadlineMs: 10_000 }) },
    secrets: { value: JSON.stringify({ DATABASE_URL: secretValues[0], API_KEY: over.apiKey ?? secretValues[1] }), secret: true },
  });
}

const machineIds = (outputs: Record<string, { value: unknown }>) => (outputs.trafficSwitch.value as Extract<TrafficSwitchSpec, { kind: "fly" }>).machines;

/** POST requests the server answered 200, by path. */
const answered = (re: RegExp) => fly.log.filter((r) => r.method === "POST" && r.status === 200 && re.test(r.path));

/**
 * The state as the backend stores it: every file of this stack under the file backend (current
 * checkpoint, history, backups). Not `exportStack()`: the Automation API exports with
 * --show-secrets, which decrypts secrets on purpose.
 */
function storedStateText(): string {
  const backend = (process.env.PULUMI_BACKEND_URL ?? "").replace(/^file:\/\//, "");
  if (!backend) throw new Error("PULUMI_BACKEND_URL is not a file backend: run under scripts/engine.sh");
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (f.includes(stackName)) texts.push(f.endsWith(".gz") ? zlib.gunzipSync(fs.readFileSync(f)).toString("utf8") : fs.readFileSync(f, "utf8"));
    }
  };
  walk(path.join(backend, ".pulumi"));
  if (texts.length === 0) throw new Error(`no state files for ${stackName} under ${backend}`);
  return texts.join("\n");
}

async function stateText(): Promise<string> {
  return JSON.stringify((await stack.exportStack()).deployment);
}

beforeAll(async () => {
  await fly.start();
  stack = await LocalWorkspace.createOrSelectStack(
    { stackName, workDir },
    {
      envVars: {
        FLY_API_HOSTNAME: fly.url,
        FLY_API_TOKEN: fly.token,
        PULUMI_CONFIG_PASSPHRASE: "test",
        FLIGHTDECK_FLY_RETRY_BASE_MS: "20",
      },
    },
  );
  await setConfig();
});

afterAll(async () => {
  try {
    await stack?.workspace.removeStack(stackName, { force: true });
  } finally {
    for (const f of fs.readdirSync(workDir)) if (/^Pulumi\.test-fly-.*\.yaml$/.test(f)) fs.rmSync(path.join(workDir, f));
    await fly.stop();
  }
});

describe("a Fly environment on the real engine", () => {
  let ids: { blue: string[]; green: string[] };

  it("up creates the app, 2+2 machines over 2 regions (all started out of rotation, the router puts the live slot in), secrets, IPs and the certificate", async () => {
    // A 429 and a 503 on the way: the providers retry them.
    fly.inject({ method: "POST", path: /^\/apps\/fd-itest\/machines$/, status: 429, times: 1 });
    fly.inject({ method: "GET", path: /^\/apps\/fd-itest\/secrets$/, status: 503, times: 1 });
    const res = await stack.up({ onOutput });
    expect(res.summary.result).toBe("succeeded");
    ids = machineIds(res.outputs);
    // Every machine is created without service registration; only the live slot is uncordoned after.
    const created = answered(/^\/apps\/fd-itest\/machines$/).map((r) => r.body as { name: string; skip_service_registration?: boolean });
    expect(created.map((b) => `${b.name} ${b.skip_service_registration}`).sort()).toEqual([
      "fd-itest-blue-0 true",
      "fd-itest-blue-1 true",
      "fd-itest-green-0 true",
      "fd-itest-green-1 true",
    ]);
    const uncordoned = answered(/^\/apps\/fd-itest\/machines\/[^/]+\/uncordon$/).map((r) => r.path.split("/")[4]);
    expect(uncordoned.sort()).toEqual([...ids.blue].sort());
    const machines = fly.machines(app);
    expect(machines.map((m) => `${m.name}@${m.region}${m.cordoned ? " cordoned" : ""}`).sort()).toEqual([
      "fd-itest-blue-0@ams",
      "fd-itest-blue-1@iad",
      "fd-itest-green-0@ams cordoned",
      "fd-itest-green-1@iad cordoned",
    ]);
    expect(ids.blue).toHaveLength(2);
    expect(fly.machine(app, ids.green[0]).config).toMatchObject({
      image: digest("a"),
      env: { FLAG_NEW_CHECKOUT: "true" },
      metadata: { flightdeck_slot: "green", flightdeck_release: digest("a") },
    });
    const fa = fly.apps.get(app)!;
    expect([...fa.secrets.keys()].sort()).toEqual(["API_KEY", "DATABASE_URL"]);
    expect(fa.ips.map((i) => i.type).sort()).toEqual(["shared_v4", "v6"]);
    expect([...fa.certificates.keys()]).toEqual(["itest.example.com"]);
    expect(fly.violations).toEqual([]);
  });

  it("a new image digest for the idle slot updates its machines in place: ids kept, new instances, still out of rotation", async () => {
    const instances = ids.green.map((id) => fly.machine(app, id).instanceId);
    const blueInstances = ids.blue.map((id) => fly.machine(app, id).instanceId);
    await setConfig({ green: digest("b") });
    const res = await stack.up({ onOutput, diff: true });
    expect(res.summary.resourceChanges).toMatchObject({ update: 2 });
    expect(res.summary.resourceChanges?.create ?? 0).toBe(0);
    expect(res.summary.resourceChanges?.replace ?? 0).toBe(0);
    expect(machineIds(res.outputs)).toEqual(ids);
    ids.green.forEach((id, i) => {
      expect(fly.machine(app, id).config.image).toBe(digest("b"));
      expect(fly.machine(app, id).instanceId).not.toBe(instances[i]);
      expect(fly.machine(app, id).cordoned).toBe(true);
    });
    expect(ids.blue.map((id) => fly.machine(app, id).instanceId)).toEqual(blueInstances);
    expect(fly.violations).toEqual([]);
  });

  it("a changed secret is set at Fly, and no secret value is in state or engine output", async () => {
    await setConfig({ green: digest("b"), apiKey: secretValues[2] });
    const res = await stack.up({ onOutput, diff: true });
    expect(res.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(fly.apps.get(app)!.secrets.get("API_KEY")!.value).toBe(secretValues[2]);
    const state = storedStateText();
    const engine = output.join("");
    expect(state).toContain("ciphertext"); // the secrets are there, encrypted
    expect(engine.length).toBeGreaterThan(0);
    for (const v of secretValues) {
      expect(state).not.toContain(v);
      expect(engine).not.toContain(v);
    }
    expect(state).toContain("API_KEY"); // names are fine
    expect(state).not.toContain(fly.token); // the Fly token is read per call, never stored
  });

  it("refresh shows an out-of-band change to a live machine as drift, and the next up undoes it", async () => {
    fly.updateOutOfBand(app, ids.blue[0], (c) => ((c.env as Record<string, string>).FLAG_NEW_CHECKOUT = "false"));
    const refreshed = await stack.refresh({ onOutput });
    expect(refreshed.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(await stateText()).toContain('"FLAG_NEW_CHECKOUT":"false"');
    const preview = await stack.preview({ onOutput });
    expect(preview.changeSummary).toMatchObject({ update: 1 });
    // Blue is live before this up and after it, as infra/cloud.ts would tell the platform.
    await stack.setConfig("inRotation", { value: "blue" });
    await stack.up({ onOutput });
    expect((fly.machine(app, ids.blue[0]).config.env as Record<string, string>).FLAG_NEW_CHECKOUT).toBe("true");
    // Repaired in place and still serving: updated with its services registered, not cordoned.
    expect(fly.machines(app).filter((m) => !m.cordoned).map((m) => m.id).sort()).toEqual([...ids.blue].sort());
  });

  it("destroy leaves the server empty", async () => {
    const res = await stack.destroy({ onOutput });
    expect(res.summary.result).toBe("succeeded");
    expect(fly.isEmpty()).toBe(true);
    expect(fly.violations).toEqual([]);
  });
});
