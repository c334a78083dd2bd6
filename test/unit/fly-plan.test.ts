import { describe, expect, it } from "vitest";
import { backoffMs, classifyFailure } from "../../components/fly/api";
import type { FlyMachineInputs } from "../../components/fly/contract";
import { assertPinnedImage, featureEnv, machineDiff, managedConfig, regionPlan, slotLayout } from "../../components/fly/plan";
import { secretDigest, secretsPlan } from "../../components/fly/secrets";

const digest = "sha256:" + "a".repeat(64);
const image = `registry.fly.io/app@${digest}`;
const base: FlyMachineInputs = {
  app: "app",
  name: "app-blue-0",
  region: "ams",
  fallbackRegions: ["iad"],
  updateDeadlineMs: 60_000,
  cordoned: false,
  config: { image, guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 }, env: { A: "1" } },
};

describe("retry classification", () => {
  it.each([
    [undefined, undefined, "retry"],
    [429, undefined, "retry"],
    [500, { error: "boom" }, "retry"],
    [503, { error: "upstream unavailable" }, "retry"],
    [412, { error: "no capacity", status: "insufficient_capacity" }, "capacity"],
    [422, { error: "insufficient capacity in region" }, "capacity"],
    [503, { error: "x", status: "insufficient_capacity" }, "capacity"],
    [400, { error: "bad request" }, "fatal"],
    [404, { error: "not found" }, "fatal"],
    [409, { error: "lease held" }, "fatal"],
    [412, { error: "precondition failed" }, "fatal"],
  ] as const)("status %s %j is %s", (status, body, cls) => {
    expect(classifyFailure(status, body)).toBe(cls);
  });

  it("backs off exponentially with jitter, capped, and honours Retry-After", () => {
    expect(backoffMs(1, { baseMs: 100, maxMs: 1000, random: 0 })).toBe(50);
    expect(backoffMs(1, { baseMs: 100, maxMs: 1000, random: 1 })).toBe(100);
    expect(backoffMs(3, { baseMs: 100, maxMs: 1000, random: 1 })).toBe(400);
    expect(backoffMs(10, { baseMs: 100, maxMs: 1000, random: 1 })).toBe(1000);
    expect(backoffMs(1, { baseMs: 100, maxMs: 5000, retryAfterS: 2 })).toBe(2000);
  });
});

describe("region fallback plan", () => {
  it("tries the preferred region, then each fallback once", () => {
    expect(regionPlan("ams", ["iad", "ams", "lhr"])).toEqual(["ams", "iad", "lhr"]);
  });
  it("spreads a slot round-robin and rotates fallbacks after each machine's region", () => {
    expect(slotLayout("web", "green", 3, ["ams", "iad"])).toEqual([
      { slot: "green", index: 0, name: "web-green-0", region: "ams", fallbackRegions: ["iad"] },
      { slot: "green", index: 1, name: "web-green-1", region: "iad", fallbackRegions: ["ams"] },
      { slot: "green", index: 2, name: "web-green-2", region: "ams", fallbackRegions: ["iad"] },
    ]);
  });
  it("with three regions, each machine's fallbacks are the other regions in order after its own", () => {
    expect(slotLayout("web", "blue", 3, ["ams", "iad", "lhr"]).map((p) => [p.name, p.region, p.fallbackRegions])).toEqual([
      ["web-blue-0", "ams", ["iad", "lhr"]],
      ["web-blue-1", "iad", ["lhr", "ams"]],
      ["web-blue-2", "lhr", ["ams", "iad"]],
    ]);
  });
});

describe("image pinning", () => {
  it("accepts a digest", () => expect(assertPinnedImage(image, "m")).toBe(image));
  it.each(["registry.fly.io/app:latest", "registry.fly.io/app", `registry.fly.io/app@sha256:${"a".repeat(63)}`, `registry.fly.io/app:v1@sha256:xyz`, 42])(
    "refuses %s",
    (bad) => expect(() => assertPinnedImage(bad, "machine m")).toThrow(/not pinned by digest/),
  );
});

describe("machine diff", () => {
  it("a new image updates in place", () => {
    const d = machineDiff(base, { ...base, config: { ...base.config, image: `registry.fly.io/app@sha256:${"b".repeat(64)}` } });
    expect(d).toMatchObject({ changes: true, replaces: [], configChanged: true });
    expect(Object.keys(d.detailedDiff)).toEqual(["config.image"]);
  });
  it("guest size and env update in place", () => {
    const d = machineDiff(base, { ...base, config: { ...base.config, guest: { cpu_kind: "shared", cpus: 2, memory_mb: 512 }, env: { A: "2" } } });
    expect(d.replaces).toEqual([]);
    expect(d.configChanged).toBe(true);
  });
  it.each(["app", "region", "name"] as const)("a new %s replaces", (k) => {
    expect(machineDiff(base, { ...base, [k]: "other" }).replaces).toEqual([k]);
  });
  it("fallback regions and deadline change nothing at Fly", () => {
    const d = machineDiff(base, { ...base, fallbackRegions: ["lhr"], updateDeadlineMs: 1 });
    expect(d).toMatchObject({ changes: true, replaces: [], configChanged: false });
  });
  it("cordon state is the router's: a change is not a diff", () => {
    expect(machineDiff(base, { ...base, cordoned: true }).changes).toBe(false);
  });
  it("key order does not matter", () => {
    expect(machineDiff(base, { ...base, config: { env: { A: "1" }, guest: { memory_mb: 256, cpus: 1, cpu_kind: "shared" }, image } }).changes).toBe(false);
  });
  it("refresh ignores Fly's defaults and its own metadata", () => {
    const desired = { ...base.config, metadata: { flightdeck_slot: "blue" } };
    const remote = { ...desired, init: {}, metadata: { flightdeck_slot: "blue", fly_platform_version: "v2" } };
    expect(managedConfig(remote, desired)).toEqual(desired);
  });
});

describe("secrets diff", () => {
  const olds = { salt: "s", digests: { A: secretDigest("s", "A", "one"), B: secretDigest("s", "B", "two") } };
  it("sets changed and new names, removes dropped ones", () => {
    expect(secretsPlan(olds, { A: "one", B: "TWO", C: "three" })).toEqual({ set: ["B", "C"], remove: [] });
    expect(secretsPlan(olds, { A: "one" })).toEqual({ set: [], remove: ["B"] });
  });
  it("a digest does not contain the value", () => {
    expect(secretDigest("s", "A", "hunter2")).not.toContain("hunter2");
    expect(secretDigest("s1", "A", "x")).not.toBe(secretDigest("s2", "A", "x"));
  });
});

describe("feature env", () => {
  it("maps flags to FLAG_<NAME>", () => {
    expect(featureEnv({ new_checkout: true, dark_mode: false })).toEqual({ FLAG_DARK_MODE: "false", FLAG_NEW_CHECKOUT: "true" });
  });
});
