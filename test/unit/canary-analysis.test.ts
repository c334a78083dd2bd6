import { describe, expect, it } from "vitest";
import { judgeStep, p99, type CanarySettings } from "../../components/bluegreen/canary-analysis";

const settings: CanarySettings = { steps: [5, 25], pauseMs: 10_000, maxErrorRate: 0.01, maxP99Ratio: 2, p99SlackMs: 20, minRequests: 0 };
const times = (n: number, ms: number) => Array.from({ length: n }, () => ms);

describe("canary analysis", () => {
  it("p99 is the nearest-rank 99th percentile", () => {
    expect(p99([])).toBeUndefined();
    expect(p99([7])).toBe(7);
    expect(p99([...times(99, 1), 500])).toBe(1);
    expect(p99([...times(98, 1), 400, 500])).toBe(400);
    expect(p99([3, 1, 2])).toBe(3);
  });

  it("a step whose new release errs no more than allowed and is about as fast passes, with its figures", () => {
    const v = judgeStep(5, { requests: 200, errors: 2, timesMs: times(200, 4) }, { requests: 3800, errors: 0, timesMs: times(3800, 3) }, settings);
    expect(v.ok).toBe(true);
    expect(v.detail).toBe("at 5%: new release 200 requests, 1.00% errors, p99 4 ms; stable 3800 requests, 0.00% errors, p99 3 ms");
  });

  it("an error rate over the limit fails the step", () => {
    const v = judgeStep(5, { requests: 200, errors: 3, timesMs: times(200, 4) }, { requests: 3800, errors: 0, timesMs: times(3800, 3) }, settings);
    expect(v.ok).toBe(false);
    expect(v.detail).toMatch(/^at 5%: error rate over 1\.00%: new release 200 requests, 1\.50% errors/);
  });

  it("a p99 over ratio × stable + slack fails the step; at the limit it passes", () => {
    const stable = { requests: 1000, errors: 0, timesMs: times(1000, 10) };
    expect(judgeStep(25, { requests: 100, errors: 0, timesMs: times(100, 40) }, stable, settings).ok).toBe(true);
    const slow = judgeStep(25, { requests: 100, errors: 0, timesMs: times(100, 41) }, stable, settings);
    expect(slow.ok).toBe(false);
    expect(slow.detail).toMatch(/^at 25%: p99 over 40 ms \(2× stable \+ 20 ms\): /);
  });

  it("a step without traffic passes unless requests are required", () => {
    const none = { requests: 0, errors: 0, timesMs: [] };
    expect(judgeStep(5, none, none, settings).ok).toBe(true);
    const v = judgeStep(5, { requests: 3, errors: 0, timesMs: times(3, 1) }, none, { ...settings, minRequests: 50 });
    expect(v.ok).toBe(false);
    expect(v.detail).toMatch(/fewer than 50 requests reached the new release/);
  });

  it("the router taking the new release out fails the step even when its errors are few among many requests", () => {
    const v = judgeStep(25, { requests: 1000, errors: 3, timesMs: times(1000, 2) }, { requests: 3000, errors: 0, timesMs: times(3000, 2) }, settings, "DOWN (L7STS/500)");
    expect(v.ok).toBe(false);
    expect(v.detail).toMatch(/^at 25%: the router took the new release out \(DOWN \(L7STS\/500\)\): /);
  });
});
