import { describe, expect, it } from "vitest";
import type { DeliveryState } from "../../stacks/plan";
import { parseTrafficSwitchSpec } from "../../stacks/traffic-spec";
import { recordedTraffic, warmSwitchMatches, type WarmSwitch } from "../../stacks/warm-switch";

const spec = (release: string) => ({ release, features: {} });
const state = (live: "blue" | "green", blue: string, green: string): DeliveryState => ({ liveSlot: live, slots: { blue: spec(blue), green: spec(green) } });
const early = (from: DeliveryState, to: DeliveryState): WarmSwitch => ({ from, to, ms: 40, undo: async () => {} });

describe("warm-switch: rollback's first switch, from the last record", () => {
  const from = state("green", "v1", "v2");
  const moved = state("blue", "v1", "v2");

  it("matches when the state is what the record said and history chose the warm release", () => {
    expect(warmSwitchMatches(early(from, moved), from, moved)).toBe(true);
  });

  it("does not match when the state moved on since the record (another release live), or history chose another release", () => {
    expect(warmSwitchMatches(early(from, moved), state("green", "v1", "v3"), moved)).toBe(false);
    expect(warmSwitchMatches(early(from, moved), from, state("blue", "v0", "v2"))).toBe(false);
    expect(warmSwitchMatches(early(from, moved), undefined, moved)).toBe(false);
  });

  it("a record keeps the switch and the slot URLs from the update's outputs, checked", () => {
    const outputs = {
      trafficSwitch: { value: { kind: "local", socketPath: "/tmp/admin.sock" } },
      slotUrls: { value: { blue: "http://127.0.0.1:1", green: "http://127.0.0.1:2", other: "x" } },
    };
    expect(recordedTraffic(outputs, from)).toEqual({ delivery: from, switch: { kind: "local", socketPath: "/tmp/admin.sock" }, slotUrls: { blue: "http://127.0.0.1:1", green: "http://127.0.0.1:2" } });
    expect(recordedTraffic({ ...outputs, trafficSwitch: { value: { kind: "local" } } }, from)).toBeUndefined();
    expect(recordedTraffic({ slotUrls: outputs.slotUrls }, from)).toBeUndefined();
  });

  it("a malformed traffic switch is an error that names where it came from and what was wrong", () => {
    expect(parseTrafficSwitchSpec(undefined, "x")).toBeUndefined();
    expect(() => parseTrafficSwitchSpec({ kind: "fly", app: "a" }, "stack s: output trafficSwitch")).toThrow(/^stack s: output trafficSwitch: expected a traffic switch .*machines/);
    expect(() => parseTrafficSwitchSpec({ kind: "nginx" }, "o")).toThrow(/expected a traffic switch/);
  });
});
