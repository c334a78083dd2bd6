/**
 * A canary on one Fly app: its steps as shares of machines in rotation, the cordon calls of each
 * step, and the figures it is judged on (Fly's Prometheus counters and histogram).
 */
import { describe, expect, it } from "vitest";
import { figuresBetween, histogramQuantileMs, type InstanceFigures } from "../../components/fly/metrics";
import { afterCordonSteps, canaryCordonPlan, cordonState, flyCanarySteps } from "../../components/fly/plan";
import { instantQuery, type Series } from "../fly-api/prometheus";

describe("flyCanarySteps", () => {
  it("two machines per slot: 5% and 25% are one step of 33% (one new machine beside two stable ones)", () => {
    expect(flyCanarySteps([5, 25], 2, 2)).toEqual([{ asked: 5, percent: 33, canaryIn: 1, stableIn: 2 }]);
  });
  it("rising asks reach rising shares, each the closest the machines allow", () => {
    expect(flyCanarySteps([10, 50, 75], 4, 4).map((s) => [s.percent, s.canaryIn, s.stableIn])).toEqual([
      [20, 1, 4],
      [50, 4, 4],
      [75, 3, 1],
    ]);
  });
  it("one machine per slot: every step is 50% (the stable machine always stays in rotation)", () => {
    expect(flyCanarySteps([5, 25, 90], 1, 1)).toEqual([{ asked: 5, percent: 50, canaryIn: 1, stableIn: 1 }]);
  });
  it("no machines on a side: no steps", () => {
    expect(flyCanarySteps([5], 0, 2)).toEqual([]);
    expect(flyCanarySteps([5], 2, 0)).toEqual([]);
  });
});

describe("canaryCordonPlan", () => {
  const machines = { blue: ["b1", "b2"], green: ["g1", "g2"] };
  it("uncordons the step's new machines first, then cordons stable ones beyond its share; touches nothing already right", () => {
    const found = cordonState("blue", machines);
    const [step] = flyCanarySteps([25], 2, 2);
    const plan = canaryCordonPlan(step!, "blue", "green", machines, found);
    expect(plan).toEqual([{ action: "uncordon", machine: "g1", slot: "green" }]);
    const next = afterCordonSteps(found, plan);
    expect(next).toEqual({ b1: false, b2: false, g1: false, g2: true });
    const later = canaryCordonPlan({ asked: 67, percent: 67, canaryIn: 2, stableIn: 1 }, "blue", "green", machines, next);
    expect(later.map((s) => `${s.action} ${s.machine}`)).toEqual(["uncordon g2", "cordon b2"]);
  });
});

describe("figures from Fly's metrics", () => {
  const at = (requests: number, errors: number, buckets: Record<string, number>): InstanceFigures => ({ requests, errors, buckets });
  it("a group's figures are the growth of its machines' counters; a machine that restarted counts from zero", () => {
    const then = { m1: at(100, 1, { "0.005": 90, "+Inf": 100 }), m2: at(50, 0, { "0.005": 50, "+Inf": 50 }) };
    const now = { m1: at(160, 4, { "0.005": 140, "+Inf": 160 }), m2: at(20, 0, { "0.005": 20, "+Inf": 20 }), m3: at(9, 9, {}) };
    expect(figuresBetween(then, now, ["m1", "m2"])).toEqual({ requests: 80, errors: 3, buckets: { "0.005": 70, "+Inf": 80 } });
  });
  it("p99 is estimated as Prometheus's histogram_quantile does: linear in its bucket, the top finite bound in +Inf", () => {
    expect(histogramQuantileMs(0.99, { "0.005": 0, "0.01": 100, "+Inf": 100 })).toBe(9.95);
    expect(histogramQuantileMs(0.99, { "0.005": 98, "0.25": 98, "0.5": 100, "+Inf": 100 })).toBe(375);
    expect(histogramQuantileMs(0.99, { "0.005": 10, "10": 10, "+Inf": 100 })).toBe(10_000);
    expect(histogramQuantileMs(0.99, { "+Inf": 0 })).toBeUndefined();
  });
});

describe("the emulated Fly Prometheus", () => {
  const series: Series[] = [
    { name: "fly_app_http_responses_count", labels: { app: "a", instance: "m1", status: "200" }, value: 7 },
    { name: "fly_app_http_responses_count", labels: { app: "a", instance: "m1", status: "500" }, value: 2 },
    { name: "fly_app_http_responses_count", labels: { app: "b", instance: "m9", status: "200" }, value: 5 },
  ];
  it("answers a selector and a sum by, as Prometheus's vector", () => {
    const r = instantQuery(`sum by (instance) (fly_app_http_responses_count{app="a"})`, series, 1000);
    expect(r).toEqual({ status: 200, body: { status: "success", data: { resultType: "vector", result: [{ metric: { instance: "m1" }, value: [1, "9"] }] } } });
    const plain = instantQuery(`fly_app_http_responses_count{app="b"}`, series, 1000);
    expect((plain.body as { data: { result: unknown[] } }).data.result).toHaveLength(1);
  });
  it("refuses what it cannot answer with Prometheus's bad_data, never a wrong answer", () => {
    expect(instantQuery(`rate(fly_app_http_responses_count{app="a"}[1m])`, series)).toMatchObject({ status: 400, body: { errorType: "bad_data" } });
    expect(instantQuery(`fly_app_http_responses_count{app=~"a.*"}`, series)).toMatchObject({ status: 400 });
  });
});
