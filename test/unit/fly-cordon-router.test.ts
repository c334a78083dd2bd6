/**
 * The cordon router: its plan and put-back plan as data (table tests), its provider against the
 * Fly API test server, and the health gate probing each instance with fly-force-instance-id.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { healthGateProvider } from "../../components/bluegreen/health-gate";
import { flyAppProvider } from "../../components/fly/app";
import type { FlyCordonRouterInputs, HealthGateInputs } from "../../components/fly/contract";
import { flyCordonRouterProvider } from "../../components/fly/cordon-router";
import { cordonPlan, cordonState, restorePlan, type CordonStep } from "../../components/fly/plan";
import { FakeFly } from "../fly-api/server";

const fly = new FakeFly();
const saved = { ...process.env };
const image = `registry.fly.io/cr-app@sha256:${"a".repeat(64)}`;
const ids: { blue: string[]; green: string[] } = { blue: [], green: [] };

beforeAll(async () => {
  await fly.start();
  process.env.FLY_API_HOSTNAME = fly.url;
  process.env.FLY_API_TOKEN = fly.token;
  process.env.FLIGHTDECK_FLY_RETRY_BASE_MS = "5";
  await flyAppProvider.create!({ org: "acme", name: "cr-app" });
  for (const slot of ["blue", "green"] as const) {
    for (const i of [0, 1]) {
      const res = await fetch(`${fly.url}/v1/apps/cr-app/machines`, {
        method: "POST",
        headers: { authorization: `Bearer ${fly.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `cr-app-${slot}-${i}`, region: "ams", config: { image }, skip_service_registration: true }),
      });
      ids[slot].push(((await res.json()) as { id: string }).id);
    }
  }
});
afterEach(() => {
  expect(fly.violations).toEqual([]);
  fly.injections.length = 0;
  fly.failingImages.clear();
});
afterAll(async () => {
  process.env = saved;
  await fly.stop();
});

const cordoned = () => Object.fromEntries(fly.machines("cr-app").map((m) => [m.name, m.cordoned]));
const liveIs = (slot: "blue" | "green") => ({
  "cr-app-blue-0": slot !== "blue",
  "cr-app-blue-1": slot !== "blue",
  "cr-app-green-0": slot !== "green",
  "cr-app-green-1": slot !== "green",
});
const step = (action: CordonStep["action"], machine: string, slot: CordonStep["slot"] = "blue"): CordonStep => ({ action, machine, slot });

describe("cordon plans", () => {
  it("uncordons every live machine before cordoning any other", () => {
    expect(cordonPlan("green", { blue: ["b0", "b1"], green: ["g0", "g1"] }).map((s) => `${s.action} ${s.machine}`)).toEqual([
      "uncordon g0",
      "uncordon g1",
      "cordon b0",
      "cordon b1",
    ]);
  });

  it("a slot without machines adds no steps", () => {
    expect(cordonPlan("blue", { blue: ["b0"], green: [] })).toEqual([step("uncordon", "b0")]);
  });

  it.each([
    ["nothing touched, nothing to put back", { b0: true }, [], []],
    ["a step that left the found state needs nothing", { b0: false }, [step("uncordon", "b0")], []],
    ["an uncordon of a cordoned machine is undone", { b0: true }, [step("uncordon", "b0")], [step("cordon", "b0")]],
    ["a machine not found before was created cordoned", {}, [step("uncordon", "b0")], [step("cordon", "b0")]],
    [
      "the failed step counts, and uncordons come first",
      { b0: true, g0: false },
      [step("uncordon", "b0"), step("cordon", "g0", "green")],
      [step("uncordon", "g0", "green"), step("cordon", "b0")],
    ],
  ] as const)("put back: %s", (_name, found, touched, expected) => {
    expect(restorePlan(found, touched)).toEqual(expected);
  });

  it("the state a router leaves: live uncordoned, others cordoned", () => {
    expect(cordonState("blue", { blue: ["b0"], green: ["g0"] })).toEqual({ b0: false, g0: true });
  });
});

describe("FlyCordonRouter provider", () => {
  const inputs = (live: "blue" | "green"): FlyCordonRouterInputs => ({ app: "cr-app", live, machines: ids });

  it("create puts the live slot in rotation and the other out", async () => {
    await flyCordonRouterProvider.create!(inputs("blue"));
    expect(cordoned()).toEqual(liveIs("blue"));
  });

  it("a change of live slot is an update, not a replace", async () => {
    const d = await flyCordonRouterProvider.diff!("cr-app-router", inputs("blue"), inputs("green"));
    expect(d).toMatchObject({ changes: true, replaces: [] });
  });

  it("update fails naming the app and machine, and puts back the state it found", async () => {
    fly.inject({ method: "POST", path: new RegExp(`/machines/${ids.blue[1]}/cordon$`), status: 500, times: 5 });
    await expect(flyCordonRouterProvider.update!("cr-app-router", inputs("blue"), inputs("green"))).rejects.toThrow(
      new RegExp(`app cr-app: cordon of machine ${ids.blue[1]} \\(slot blue\\) failed.*state found before the switch is back`),
    );
    expect(cordoned()).toEqual(liveIs("blue"));
  });

  it("read keeps the state (no cordon field in the Machines API) and delete leaves machines alone", async () => {
    expect(await flyCordonRouterProvider.read!("cr-app-router", inputs("blue"))).toEqual({ id: "cr-app-router", props: inputs("blue") });
    const before = fly.log.length;
    await flyCordonRouterProvider.delete!("cr-app-router", inputs("blue"));
    expect(fly.log.length).toBe(before);
    expect(cordoned()).toEqual(liveIs("blue"));
  });

  const canary = { steps: [25, 50], pauseMs: 300, maxErrorRate: 0.01, maxP99Ratio: 2, p99SlackMs: 20, minRequests: 0, org: "acme", percents: [33, 50] };

  it("with canary settings, switches through shares of machines in rotation (33%, then 50%), reading Fly's metrics at each", async () => {
    process.env.FLIGHTDECK_FLY_METRICS_URL = `${fly.url}/prometheus`;
    const before = fly.log.length;
    const queries = fly.metricsLog.length;
    const r = await flyCordonRouterProvider.update!("cr-app-router", inputs("blue"), { ...inputs("green"), canary });
    const moves = fly.log.slice(before).filter((l) => /\/(un)?cordon$/.test(l.path)).map((l) => `${l.path.split("/").pop()} ${l.path.split("/")[4]}`);
    expect(moves[0]).toBe(`uncordon ${ids.green[0]}`);
    expect(moves[1]).toBe(`uncordon ${ids.green[1]}`);
    expect(cordoned()).toEqual(liveIs("green"));
    expect((r.outs as { canaryReport: string[] }).canaryReport).toEqual([
      expect.stringMatching(/^passed at 33%: new release 0 requests.*\(1 of 3 machines in rotation run the new release\)$/),
      expect.stringMatching(/^passed at 50%: .*\(2 of 4 machines in rotation run the new release\)$/),
    ]);
    expect(fly.metricsLog.slice(queries).every((q) => q.org === "acme" && q.status === 200)).toBe(true);
    expect(fly.metricsLog.length - queries).toBeGreaterThanOrEqual(2 * 2 * 2);
  });

  it("a canary whose figures cannot be read is aborted, never passed blind: the stable slot is back alone", async () => {
    process.env.FLIGHTDECK_FLY_METRICS_URL = `${fly.url}/prometheus`;
    await flyCordonRouterProvider.update!("cr-app-router", inputs("green"), inputs("blue"));
    process.env.FLIGHTDECK_FLY_METRICS_URL = "http://127.0.0.1:9";
    await expect(flyCordonRouterProvider.update!("cr-app-router", inputs("blue"), { ...inputs("green"), canary })).rejects.toThrow(
      /^canary aborted at 33%: the step cannot be judged without Fly's metrics \(Fly API GET .*\); live traffic is back on blue$/,
    );
    expect(cordoned()).toEqual(liveIs("blue"));
  });

  it("refuses to switch to a slot without machines", async () => {
    await expect(flyCordonRouterProvider.update!("cr-app-router", inputs("blue"), { ...inputs("green"), machines: { blue: ids.blue, green: [] } })).rejects.toThrow(
      /slot green has no machines/,
    );
    expect(cordoned()).toEqual(liveIs("blue"));
  });
});

describe("health gate over instances", () => {
  const gate = (over: Partial<HealthGateInputs> = {}): HealthGateInputs => ({
    target: fly.url,
    path: "/healthz",
    expectedStatus: 200,
    intervalMs: 50,
    timeoutMs: 1000,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    deadlineMs: 5000,
    release: image,
    instances: ids.green,
    ...over,
  });

  it("probes every instance with fly-force-instance-id in each round, even cordoned ones", async () => {
    const from = fly.proxyLog.length;
    const res = await healthGateProvider.create!(gate());
    expect(res.outs?.probes).toBe(2);
    expect(fly.proxyLog.slice(from).map((p) => p.instance).sort()).toEqual([...ids.green, ...ids.green].sort());
  });

  it("a restore's gate opens on one passing round; a preview after it sees no change, and the next deploy asks for all of them again", async () => {
    const restored = await healthGateProvider.create!(gate({ restore: true }));
    expect(restored.outs?.probes).toBe(1);
    const after = { ...gate({ restore: true }), openedAt: "x", probes: 1 };
    expect((await healthGateProvider.diff!("g", after, gate())).changes).toBe(false);
    const next = await healthGateProvider.update!("g", after, gate({ release: `${image}-next` }));
    expect(next.outs?.probes).toBe(2);
  });

  it("a round fails when one instance fails, naming it", async () => {
    fly.updateOutOfBand("cr-app", ids.green[1], (c) => (c.image = image.replace("aaaa", "bbbb")));
    fly.failingImages.add(image.replace("aaaa", "bbbb"));
    await new Promise((r) => setTimeout(r, 100));
    await expect(healthGateProvider.create!(gate())).rejects.toThrow(new RegExp(`health gate closed.*instance ${ids.green[1]}: HTTP 503`));
  });

  it("a change of instances re-runs the gate; the same inputs do not", async () => {
    const d = await healthGateProvider.diff!("g", { ...gate(), openedAt: "x", probes: 1 }, gate({ instances: ids.blue }));
    expect(d.changes).toBe(true);
    const same = await healthGateProvider.diff!("g", { ...gate(), openedAt: "x", probes: 1 }, gate());
    expect(same.changes).toBe(false);
  });
});
