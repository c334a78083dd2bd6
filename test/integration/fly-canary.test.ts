/**
 * A canary on Fly: the program we ship with the committed Pulumi.staging.yaml, set to
 * `strategy: canary` with two machines per slot, driven by the CLI on the real engine. Fly is the
 * emulator: its proxy balances over the machines in rotation and keeps Fly's per-machine series,
 * which its Prometheus answers; each step is judged on them. Steady load runs through the
 * emulated proxy, and every request is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type YAML from "yaml";
import { startRehearsal, type Rehearsal } from "../support/rehearsal";
import { expectEveryRequestCounted } from "../support/rehearsal-scenarios";
import { steadyLoad } from "../support/steady-load";

const STACK = "staging";
const DEPLOY_TIMEOUT_MS = 240_000;
/** Steps of 25% and 50%: with two machines per slot, one new machine beside two stable ones (33%), then two and two (50%). */
const PAUSE_SECONDS = 6;

function canaryStack(doc: YAML.Document): void {
  doc.setIn(["config", "flightdeck:strategy"], "canary");
  // p99 slack of 100 ms: the test shares two cores with another test file, and a stall there must not
  // read as a slow release; the slow release here is 400 ms late, far beyond 2 × stable + 100 ms.
  doc.setIn(["config", "flightdeck:canary"], { steps: [25, 50], pauseSeconds: PAUSE_SECONDS, p99SlackMs: 100 });
  doc.setIn(["config", "flightdeck:bakeSeconds"], 2);
  doc.setIn(["config", "flightdeck:fly", "machinesPerSlot"], 2);
}

let r: Rehearsal;
let load: ReturnType<typeof steadyLoad> | undefined;
let failedInAbortedCanary = 0;
const releases: Record<string, string> = {};
const deploy = (release: string) => r.cliWith({ editStackFile: canaryStack }, "deploy", "--stack", STACK, "--release", release);

/** Machine ids in Fly's rotation now, by the release they run. */
function inRotationByRelease(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of r.fly.apps.get(r.app)!.machines.values()) {
    if (!m.cordoned) out[String(m.config.image)] = (out[String(m.config.image)] ?? 0) + 1;
  }
  return out;
}

describe("canary on Fly: shares of machines in rotation, judged on Fly's per-machine metrics", () => {
  beforeAll(async () => {
    r = await startRehearsal(STACK);
    releases.r1 = r.image("r1");
    releases.r2 = r.image("r2");
    releases.r3 = r.image("r3");
    releases.slow = r.image("slow", { env: { SLOW_MS: "400" } });
    // Passes its gate, then answers 500 from 12 s after it starts: inside the canary's steps.
    releases.failsLater = r.image("fails-later", { env: { FAIL_AFTER_MS: "12000" } });
  });
  afterAll(async () => {
    await load?.stop();
    await r?.cleanup();
  });

  it("a first deploy has no stable release to compare with: it switches at once", async () => {
    const d = await deploy(releases.r1!);
    expect(d.exitCode, d.all).toBe(0);
    expect(d.all).not.toMatch(/canary/);
    expect(inRotationByRelease()).toEqual({ [releases.r1!]: 2 });
    load = steadyLoad(r.fly.proxyUrl, r.hostname);
  }, DEPLOY_TIMEOUT_MS);

  it("a good release takes each step as a share of machines, judged on Fly's metrics, then all of them; no request fails", async () => {
    const before = load!.tally.failed;
    const queries = r.fly.metricsLog.length;
    const d = await deploy(releases.r2!);
    expect(d.exitCode, d.all).toBe(0);
    expect(d.all).toMatch(/passed at 33%: new release [1-9]\d* requests, 0\.00% errors, p99 [\d.]+ ms; stable [1-9]\d* requests.*\(1 of 3 machines in rotation run the new release\)/);
    expect(d.all).toMatch(/passed at 50%: new release [1-9]\d* requests, 0\.00% errors.*\(2 of 4 machines in rotation run the new release\)/);
    expect(load!.tally.failed - before).toBe(0);
    expect(inRotationByRelease()).toEqual({ [releases.r2!]: 2 });
    // Judged on Fly's Prometheus, every query answered.
    const asked = r.fly.metricsLog.slice(queries);
    expect(asked.length).toBeGreaterThan(2 * PAUSE_SECONDS);
    expect(asked.every((q) => q.status === 200 && q.org === "flightdeck")).toBe(true);
    expect(await r.status()).toMatchObject({ release: releases.r2, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("a release that answers but slowly is stopped at its first step on p99 against the stable machines'; nothing fails", async () => {
    const before = load!.tally.failed;
    const d = await deploy(releases.slow!);
    expect(d.exitCode, d.all).not.toBe(0);
    expect(d.all).toMatch(/canary aborted at 33%: p99 over [\d.]+ ms .*new release [1-9]\d* requests, 0\.00% errors, p99 (3|4)\d\d(\.\d+)? ms/);
    expect(load!.tally.failed - before).toBe(0);
    expect(inRotationByRelease()).toEqual({ [releases.r2!]: 2 });
    expect(await r.status()).toMatchObject({ release: releases.r2, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("a release that fails on live answers is stopped at a step: only its share failed, and traffic is back on the stable machines", async () => {
    const before = load!.tally.failed;
    const d = await deploy(releases.failsLater!);
    expect(d.exitCode, d.all).not.toBe(0);
    expect(d.all).toMatch(/canary aborted at (33|50)%: error rate over 1\.00%/);
    failedInAbortedCanary = load!.tally.failed - before;
    expect(failedInAbortedCanary).toBeGreaterThan(0);
    // Errors are judged as they come (a look a second); Fly's proxy also takes a machine out once its check fails.
    expect(failedInAbortedCanary).toBeLessThan(load!.tally.requests / 20);
    const settled = load!.tally.failed;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(load!.tally.failed).toBe(settled);
    expect(inRotationByRelease()).toEqual({ [releases.r2!]: 2 });
    expect(await r.status()).toMatchObject({ release: releases.r2, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("a rollback switches at once: restores never go through canary steps", async () => {
    const queries = r.fly.metricsLog.length;
    const d = await r.cliWith({ editStackFile: canaryStack }, "rollback", "--stack", STACK);
    expect(d.exitCode, d.all).toBe(0);
    expect(r.fly.metricsLog.length).toBe(queries);
    expect(inRotationByRelease()).toEqual({ [releases.r1!]: 2 });
  }, DEPLOY_TIMEOUT_MS);

  it("a deploy killed with kill -9 during its canary steps leaves nothing split once the next command recovers", async () => {
    const queries = r.fly.metricsLog.length;
    const running = r.cliStart({ editStackFile: canaryStack }, "deploy", "--stack", STACK, "--release", releases.r3!);
    const deadline = Date.now() + 180_000;
    while (r.fly.metricsLog.length === queries) {
      if (Date.now() > deadline) throw new Error("the deploy never reached its canary steps");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.kill(running.pid, "SIGKILL");
    await running.done;
    // The dead driver left new machines in rotation beside the stable ones (its orphaned engine
    // processes go on until the next command stops them).
    expect(inRotationByRelease()[releases.r3!] ?? 0).toBeGreaterThan(0);
    const up = await r.cliWith({ editStackFile: canaryStack }, "up", "--stack", STACK);
    expect(up.exitCode, up.all).toBe(0);
    expect(up.all).toMatch(/stop orphans +stopped \d+ engine process\(es\) of dead pid \d+/);
    expect(up.all).toMatch(/recover .*pending operation\(s\): updating router/);
    // The state never saw the canary's cordons: recovery points traffic at the stable slot first
    // (before the restore updates the new slot's machines in place), and once more after.
    expect(up.all).toMatch(/traffic first +live traffic on (blue|green) alone before the restore/);
    expect(up.all).toMatch(/traffic .*live traffic on (blue|green) alone, as the state says/);
    expect(inRotationByRelease()).toEqual({ [releases.r1!]: 2 });
    expect(await r.status()).toMatchObject({ release: releases.r1, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("every request of the steady load was counted, by the load and by the emulated proxy", async () => {
    const running = load!;
    load = undefined;
    await expectEveryRequestCounted(r, running, failedInAbortedCanary);
  });
});
