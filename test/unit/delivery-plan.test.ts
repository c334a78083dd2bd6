import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyTally, recordProbe } from "../../components/bluegreen/gate-logic";
import { secretsDigest, slotSpecFromConfig } from "../../infra/config/delivery";
import { deliveryFromConfig, deliveryFromOutputs, liveSpec, planDeploy, type DeliveryState, type SlotSpec } from "../../stacks/plan";
import { chooseRollbackTarget, rollbackState } from "../../stacks/rollback";
import { numberHistory } from "../../stacks/status";

const slot = fc.constantFrom<"blue" | "green">("blue", "green");
const release = fc.stringMatching(/^v[0-9]{1,3}$/);
const spec = (r: string, features: Record<string, boolean> = {}): SlotSpec => ({ release: r, features });
const live = (r: string, liveSlot: "blue" | "green", warm?: string): DeliveryState => ({
  liveSlot,
  slots: { [liveSlot]: spec(r), ...(warm ? { [liveSlot === "blue" ? "green" : "blue"]: spec(warm) } : {}) },
});
const state: fc.Arbitrary<DeliveryState> = fc.record({ release, liveSlot: slot }).map(({ release: r, liveSlot }) => live(r, liveSlot));

describe("slot choice", () => {
  it("a first deploy goes to blue with nothing to fall back to", () => {
    expect(planDeploy(undefined, spec("v1"))).toEqual({ targetSlot: "blue", next: live("v1", "blue"), lastGood: undefined, noop: false });
  });

  it("a new release always goes to the slot that is not live, and the live one stays as it is, warm", () => {
    fc.assert(
      fc.property(state, release, (current, next) => {
        fc.pre(next !== liveSpec(current).release);
        const plan = planDeploy(current, spec(next));
        expect(plan.targetSlot).not.toBe(current.liveSlot);
        expect(plan.next).toEqual({ liveSlot: plan.targetSlot, slots: { [plan.targetSlot]: spec(next), [current.liveSlot]: liveSpec(current) } });
        expect(plan.lastGood).toEqual(current);
      }),
    );
  });

  it("a config change alone (a flag) also goes to the idle slot: the live slot is never changed in place", () => {
    const plan = planDeploy(live("v1", "blue"), spec("v1", { dark_mode: true }));
    expect(plan.noop).toBe(false);
    expect(plan.targetSlot).toBe("green");
    expect(plan.next.slots.blue).toEqual(spec("v1"));
  });

  it("deploying exactly what is live changes nothing, unless the live slot does not answer", () => {
    fc.assert(
      fc.property(state, (current) => {
        expect(planDeploy(current, liveSpec(current)).noop).toBe(true);
        expect(planDeploy(current, liveSpec(current), false).noop).toBe(false);
      }),
    );
  });

  it("flags in another order are the same spec", () => {
    const current: DeliveryState = { liveSlot: "blue", slots: { blue: spec("v1", { a: true, b: false }) } };
    expect(planDeploy(current, spec("v1", { b: false, a: true })).noop).toBe(true);
  });

  it("two deploys in a row come back to the first slot", () => {
    const a = planDeploy(live("v1", "blue"), spec("v2"));
    const b = planDeploy(a.next, spec("v3"));
    expect([a.targetSlot, b.targetSlot]).toEqual(["green", "blue"]);
    expect(b.next.slots.green?.release).toBe("v2");
  });

  it("reads a delivery state back from an update's recorded config, and nothing from one without it", () => {
    const d = live("v2", "green", "v1");
    expect(deliveryFromConfig({ "flightdeck:environment": { value: "local" }, "flightdeck:delivery": { value: JSON.stringify(d) } })).toEqual(d);
    expect(deliveryFromConfig({ "flightdeck:environment": { value: "local" } })).toBeUndefined();
    expect(deliveryFromConfig({ "flightdeck:delivery": { value: "{not json" } })).toBeUndefined();
  });

  it("an unreadable delivery output is an error, never 'nothing is live'", () => {
    expect(() => deliveryFromOutputs({ delivery: { value: { liveSlot: "purple" } } }, "s")).toThrow(/stack s: output delivery: not a delivery state/);
    expect(deliveryFromOutputs({}, "s")).toBeUndefined();
  });
});

describe("health gate verdicts", () => {
  const rules = { healthyThreshold: 3, unhealthyThreshold: 2 };
  const run = (probes: boolean[]) => {
    let tally = emptyTally;
    const verdicts: string[] = [];
    for (const ok of probes) {
      const step = recordProbe(tally, { ok, detail: ok ? "HTTP 200" : "HTTP 503" }, rules);
      tally = step.tally;
      verdicts.push(step.verdict);
    }
    return verdicts;
  };
  it("opens after the healthy threshold of passes in a row", () => expect(run([true, true, true])).toEqual(["probing", "probing", "open"]));
  it("closes after the unhealthy threshold of failures in a row", () => expect(run([false, false])).toEqual(["probing", "closed"]));
  it("a failure resets the run of passes", () => expect(run([true, true, false, true, true, true])).toEqual(["probing", "probing", "probing", "probing", "probing", "open"]));
  it("never opens with fewer passes in a row than the threshold", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 30 }), (probes) => {
        const verdicts = run(probes);
        const opened = verdicts.indexOf("open");
        if (opened >= 0) expect(probes.slice(opened - 2, opened + 1)).toEqual([true, true, true]);
      }),
    );
  });
});

type H = { version: number; kind: "update" | "refresh" | "destroy"; result: "succeeded" | "failed"; message: string; config: Record<string, { value: string; secret: boolean }> };
const cfg = (release: string, liveSlot: "blue" | "green"): H["config"] => ({
  "flightdeck:environment": { value: "local", secret: false },
  "flightdeck:delivery": { value: JSON.stringify(live(release, liveSlot)), secret: false },
});

describe("rollback target", () => {
  // Newest first, as the engine lists history; the file backend numbers every update 0.
  const history: H[] = numberHistory([
    { version: 0, kind: "update", result: "succeeded", message: "revert: release v3 failed after the switch", config: cfg("v2", "green") },
    { version: 0, kind: "refresh", result: "succeeded", message: "refresh before revert", config: cfg("v3", "blue") },
    { version: 0, kind: "update", result: "succeeded", message: "deploy v3 to blue", config: cfg("v3", "blue") },
    { version: 0, kind: "update", result: "succeeded", message: "deploy v2 to green", config: cfg("v2", "green") },
    { version: 0, kind: "update", result: "failed", message: "deploy v9-unhealthy to blue", config: cfg("v9-unhealthy", "blue") },
    { version: 0, kind: "update", result: "succeeded", message: "deploy v1 to blue", config: cfg("v1", "blue") },
  ]);

  it("numbers file-backend history by position, oldest first", () => {
    expect(history.map((h) => h.version)).toEqual([6, 5, 4, 3, 2, 1]);
  });
  it("goes to the last good state before the current one, skipping failed and reverted deploys", () => {
    expect(chooseRollbackTarget(history, live("v2", "green"))).toEqual({ version: 1, state: live("v1", "blue") });
  });
  it("goes to an explicit version", () => {
    expect(chooseRollbackTarget(history, live("v2", "green"), 3).state).toEqual(live("v2", "green"));
  });
  it("refuses a version that was not a good state, listing the good ones", () => {
    expect(() => chooseRollbackTarget(history, undefined, 4)).toThrow(/--to 4: expected a version of a successful deploy of this stack \(6, 3, 1\)/);
  });
  it("ignores what came before the stack was last destroyed", () => {
    const relived: H[] = numberHistory([
      { version: 0, kind: "update", result: "succeeded", message: "deploy v5 to green", config: cfg("v5", "green") },
      { version: 0, kind: "update", result: "succeeded", message: "up", config: { "flightdeck:environment": { value: "local", secret: false } } },
      { version: 0, kind: "destroy", result: "succeeded", message: "down", config: cfg("v3", "blue") },
      { version: 0, kind: "update", result: "succeeded", message: "deploy v3 to blue", config: cfg("v3", "blue") },
    ]);
    // The plain `up` recorded no delivery state: it is not a state to return to.
    expect(() => chooseRollbackTarget(relived, live("v5", "green"))).toThrow(/no earlier successful state/);
  });
  it("refuses when there is nothing earlier", () => {
    expect(() => chooseRollbackTarget(history.slice(5), live("v1", "blue"))).toThrow(/no earlier successful state/);
  });
  it("rolling back to the warm release is a switch, and the release rolled back from stays warm", () => {
    const { next, warmSwitch } = rollbackState(live("v2", "green", "v1"), live("v1", "blue"));
    expect(warmSwitch).toBe(true);
    expect(next).toEqual(live("v1", "blue", "v2"));
  });
  it("rolling back to a release that is not warm goes to the idle slot, never over the live one", () => {
    const { next, warmSwitch } = rollbackState(live("v3", "blue", "v2"), live("v1", "blue"));
    expect(warmSwitch).toBe(false);
    expect(next).toEqual(live("v1", "green", "v3"));
  });
});

describe("app secrets in the slot spec", () => {
  const config = { environment: "local", features: {}, local: { appDir: "examples/app", command: ["node", "server.js"] } } as unknown as Parameters<typeof slotSpecFromConfig>[0];
  it("records a salted digest, never a value; the same secrets with the same salt are the same spec", () => {
    const a = slotSpecFromConfig(config, "v1", { API_KEY: "hunter2" });
    expect(JSON.stringify(a)).not.toContain("hunter2");
    expect(a.secrets?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(slotSpecFromConfig(config, "v1", { API_KEY: "hunter2" }, a.secrets!.salt)).toEqual(a);
  });
  it("a rotated secret is a new spec: it ships through the idle slot", () => {
    const live = slotSpecFromConfig(config, "v1", { API_KEY: "old" });
    const current: DeliveryState = { liveSlot: "blue", slots: { blue: live } };
    const plan = planDeploy(current, slotSpecFromConfig(config, "v1", { API_KEY: "new" }, live.secrets!.salt));
    expect(plan.noop).toBe(false);
    expect(plan.targetSlot).toBe("green");
    expect(secretsDigest("s", { A: "1", B: "2" })).toBe(secretsDigest("s", { B: "2", A: "1" }));
  });
});

describe("a machine size change on Fly", () => {
  const staging = (cpus: number) =>
    ({ environment: "staging", features: {}, fly: { size: { cpuKind: "shared", cpus, memoryMb: 256 } } }) as unknown as Parameters<typeof slotSpecFromConfig>[0];
  it("is part of the slot spec, so it ships through the idle slot like a release", () => {
    const live = slotSpecFromConfig(staging(1), "img@sha256:a");
    expect(live.fly).toEqual({ size: { cpuKind: "shared", cpus: 1, memoryMb: 256 } });
    const plan = planDeploy({ liveSlot: "blue", slots: { blue: live } }, slotSpecFromConfig(staging(2), "img@sha256:a"));
    expect(plan).toMatchObject({ noop: false, targetSlot: "green" });
    expect(plan.next.slots.blue?.fly?.size.cpus).toBe(1);
  });
});
