import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyTally, recordProbe } from "../../components/bluegreen/gate-logic";
import { deliveryFromConfig, planDeploy, type DeliveryState } from "../../stacks/plan";
import { chooseRollbackTarget } from "../../stacks/rollback";
import { deliveryMetrics, numberHistory, type DeploymentRecord } from "../../stacks/status";

const slot = fc.constantFrom<"blue" | "green">("blue", "green");
const release = fc.stringMatching(/^v[0-9]{1,3}$/);
const state: fc.Arbitrary<DeliveryState> = fc.record({ release, liveSlot: slot });

describe("slot choice", () => {
  it("a first deploy goes to blue with nothing to fall back to", () => {
    expect(planDeploy(undefined, "v1")).toEqual({ targetSlot: "blue", next: { release: "v1", liveSlot: "blue" }, lastGood: undefined, noop: false });
  });

  it("a new release always goes to the slot that is not live, and the live one becomes the warm one", () => {
    fc.assert(
      fc.property(state, release, (current, next) => {
        fc.pre(next !== current.release);
        const plan = planDeploy(current, next);
        expect(plan.targetSlot).not.toBe(current.liveSlot);
        expect(plan.next).toEqual({ release: next, liveSlot: plan.targetSlot, previousRelease: current.release });
        expect(plan.lastGood).toEqual(current);
      }),
    );
  });

  it("deploying what is already live changes nothing", () => {
    fc.assert(
      fc.property(state, (current) => {
        expect(planDeploy(current, current.release).noop).toBe(true);
      }),
    );
  });

  it("two deploys in a row come back to the first slot", () => {
    const a = planDeploy({ release: "v1", liveSlot: "blue" }, "v2");
    const b = planDeploy(a.next, "v3");
    expect([a.targetSlot, b.targetSlot]).toEqual(["green", "blue"]);
    expect(b.next.previousRelease).toBe("v2");
  });

  it("reads a delivery state back from recorded config", () => {
    expect(
      deliveryFromConfig({
        "flightdeck:environment": { value: "local" },
        "flightdeck:release": { value: "v2" },
        "flightdeck:liveSlot": { value: "green" },
        "flightdeck:previousRelease": { value: "v1" },
        "flightdeck:appSecrets": { value: "[secret]" },
      }),
    ).toEqual({
      release: "v2",
      liveSlot: "green",
      previousRelease: "v1",
    });
    expect(deliveryFromConfig({})).toBeUndefined();
  });

  it("an update made without the driver deployed the schema's defaults", () => {
    expect(deliveryFromConfig({ "flightdeck:environment": { value: "local" } })).toEqual({ release: "v1", liveSlot: "blue" });
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
const cfg = (release: string, liveSlot: string): H["config"] => ({
  "flightdeck:environment": { value: "local", secret: false },
  "flightdeck:release": { value: release, secret: false },
  "flightdeck:liveSlot": { value: liveSlot, secret: false },
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
    expect(chooseRollbackTarget(history, { release: "v2", liveSlot: "green" })).toEqual({ version: 1, state: { release: "v1", liveSlot: "blue" } });
  });
  it("goes to an explicit version", () => {
    expect(chooseRollbackTarget(history, { release: "v2", liveSlot: "green" }, 3).state).toEqual({ release: "v2", liveSlot: "green" });
  });
  it("refuses a version that was not a good state, listing the good ones", () => {
    expect(() => chooseRollbackTarget(history, undefined, 4)).toThrow(/version 4 is not a successful deploy of this stack \(successful versions: 6, 3, 1\)/);
  });
  it("ignores what came before the stack was last destroyed", () => {
    const relived: H[] = numberHistory([
      { version: 0, kind: "update", result: "succeeded", message: "deploy v5 to green", config: cfg("v5", "green") },
      { version: 0, kind: "update", result: "succeeded", message: "up", config: { "flightdeck:environment": { value: "local", secret: false } } },
      { version: 0, kind: "destroy", result: "succeeded", message: "down", config: cfg("v3", "blue") },
      { version: 0, kind: "update", result: "succeeded", message: "deploy v3 to blue", config: cfg("v3", "blue") },
    ]);
    expect(chooseRollbackTarget(relived, { release: "v5", liveSlot: "green" })).toEqual({ version: 3, state: { release: "v1", liveSlot: "blue" } });
  });
  it("refuses when there is nothing earlier", () => {
    expect(() => chooseRollbackTarget(history.slice(5), { release: "v1", liveSlot: "blue" })).toThrow(/no earlier successful state/);
  });
});

describe("delivery metrics", () => {
  const rec = (message: string, result = "succeeded", durationMs = 10_000): DeploymentRecord => ({ version: 1, kind: "update", message, result, startedAt: "", durationMs });
  it("counts deploys, reverts and rollbacks, and the change failure rate", () => {
    const m = deliveryMetrics([rec("deploy v1 to blue"), rec("deploy v2 to green", "succeeded", 20_000), rec("revert: v2 failed"), rec("rollback to version 1 (v1)"), rec("deploy v3 to green", "succeeded", 30_000)]);
    expect(m).toEqual({ deploys: 3, succeeded: 2, reverted: 1, rollbacks: 1, changeFailureRate: 1 / 3, medianDeployMs: 20_000 });
  });
});
