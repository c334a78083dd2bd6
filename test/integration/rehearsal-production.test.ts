/**
 * Rehearsal of production: the program we ship with the committed Pulumi.production.yaml (two
 * machines per slot in two regions, a 120 s bake, reviewers, a ruleset) and the committed
 * policies/config/production.json, driven by the CLI as the workflows run it, on the real engine.
 * Fly is the emulator; GitHub and Cloudflare are provider doubles. The deploy window's clock is the
 * only thing set: inside the window unless a test says otherwise.
 *
 * The deploys, under steady load. The guards that refuse production before anything changes (the
 * previews, the deploy window, an unpromoted release) are rehearsed on their own stack in
 * rehearsal-production-guards.test.ts, so the two run side by side.
 */
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outsideDeployWindow, recordStagingSuccesses, startRehearsal, type Rehearsal } from "../support/rehearsal";
import { expectEveryRequestCounted, expectRevertedAfterSwitch } from "../support/rehearsal-scenarios";
import { steadyLoad } from "../support/steady-load";
import { POLICY_NOW_ENV } from "../../policies/rules/deploy-window";

let r: Rehearsal;
let load: ReturnType<typeof steadyLoad> | undefined;
let failedDuringPostSwitchFailure = 0;
const releases: Record<string, string> = {};
const STACK = "production";
/** A production deploy: machines in two regions, the gate (5 healthy probes), the switch, the 120 s bake. */
const DEPLOY_TIMEOUT_MS = 300_000;


describe("rehearsal: production, the shipped program on the real engine", () => {
  beforeAll(async () => {
    r = await startRehearsal(STACK);
    releases.r1 = r.image("r1");
    releases.r2 = r.image("r2");
    releases.failsLater = r.image("fails-later", { env: { FAIL_AFTER_MS: "40000" } });
    // fails-later passes staging's 30 s bake (it fails after 40 s): promoted, and reverted in production.
    await recordStagingSuccesses(r, ["r1", "r2", "fails-later"]);
  });
  afterAll(async () => {
    await load?.stop();
    await r?.cleanup();
  });

  it("first deploy: two machines per slot in ams and iad, gated, switched, baked", async () => {
    const d = await r.cli("deploy", "--stack", STACK, "--release", releases.r1!);
    expect(d.exitCode, d.all).toBe(0);
    expect(d.all).toMatch(/SUCCEEDED/);
    const app = r.fly.apps.get(r.app)!;
    const live = [...app.machines.values()].filter((m) => m.config.image === releases.r1);
    expect(live.length).toBe(2);
    expect(new Set(live.map((m) => m.region))).toEqual(new Set(["ams", "iad"]));
    expect(await r.status()).toMatchObject({ release: releases.r1, healthy: true, consistent: true });
    load = steadyLoad(r.fly.proxyUrl, r.hostname);
  }, DEPLOY_TIMEOUT_MS);

  it("a good release under steady load: no request fails, both machines of the new slot serve", async () => {
    const before = load!.tally.failed;
    const d = await r.cli("deploy", "--stack", STACK, "--release", releases.r2!);
    expect(d.exitCode, d.all).toBe(0);
    expect(load!.tally.failed - before).toBe(0);
    expect(await r.status()).toMatchObject({ release: releases.r2, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("a release that fails after the switch is reverted during the bake; traffic is back at once", async () => {
    failedDuringPostSwitchFailure = await expectRevertedAfterSwitch(r, releases.failsLater!, load!);
    expect(await r.status()).toMatchObject({ release: releases.r2, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("rollback is never blocked: outside the deploy window it returns to the previous release", async () => {
    const before = load!.tally.failed;
    const d = await r.cliWith({ env: { [POLICY_NOW_ENV]: outsideDeployWindow() } }, "rollback", "--stack", STACK);
    expect(d.exitCode, d.all).toBe(0);
    expect(load!.tally.failed - before).toBe(0);
    const s = await r.status();
    expect(s).toMatchObject({ release: releases.r1, healthy: true, consistent: true });
  });

  it("drift is clean right after, and the doubles hold the production environment with its reviewers", async () => {
    const d = await r.cli("drift", "--stack", STACK);
    expect(d.exitCode, d.all).toBe(0);
    const held = fs.readFileSync(r.doubleState, "utf8");
    expect(held).toMatch(/RepositoryEnvironment/);
    expect(held).toMatch(/RepositoryRuleset/);
  });

  it("a live machine changed out of band: drift names the fix, and up --refresh puts it back in place, never out of rotation", async () => {
    const app = r.fly.apps.get(r.app)!;
    const inRotation = () => [...app.machines.values()].filter((m) => !m.cordoned).map((m) => m.id).sort();
    const live = inRotation();
    expect(live).toHaveLength(2);
    const before = load!.tally.failed;
    r.fly.updateOutOfBand(r.app, live[0]!, (c) => ((c.env as Record<string, string>).CHANGED_BY_HAND = "yes"));
    const drift = await r.cli("drift", "--stack", STACK);
    expect(drift.exitCode).not.toBe(0);
    expect(drift.all).toMatch(new RegExp(`npm run flightdeck -- up --stack ${STACK} --refresh`));

    const logFrom = r.fly.log.length;
    const repair = await r.cli("up", "--stack", STACK, "--refresh");
    expect(repair.exitCode, repair.all).toBe(0);
    expect(app.machines.get(live[0]!)!.config.env).not.toHaveProperty("CHANGED_BY_HAND");
    // Repaired in place, and still serving: the machine was put back with its services registered.
    // (Before that fix it came back cordoned, out of rotation, and nothing put it back.)
    expect(inRotation()).toEqual(live);
    // Drained first: cordoned, given time for its requests in flight, updated, uncordoned once
    // healthy. The emulated machine is killed at once on update (harsher than Fly's stop signal),
    // so a request still in flight to it would fail; the other live machine served them all.
    // (Before the drain, 0 or 1 request a run was cut off here, a 502 or a 503.)
    expect(load!.tally.failed - before).toBe(0);
    const moves = r.fly.log.slice(logFrom).filter((l) => l.method === "POST" && l.path.startsWith(`/apps/${r.app}/machines/${live[0]}`)).map((l) => l.path.split("/").pop());
    expect(moves.filter((m) => m !== "lease")).toEqual(["cordon", live[0], "uncordon"]);
    expect(await r.status()).toMatchObject({ release: releases.r1, healthy: true, consistent: true });
    expect((await r.cli("drift", "--stack", STACK)).exitCode).toBe(0);
  }, DEPLOY_TIMEOUT_MS);

  it("every request of the steady load was counted, by the load and by the emulated proxy", async () => {
    const running = load!;
    load = undefined; // stopped here, whatever the assertions say
    await expectEveryRequestCounted(r, running, failedDuringPostSwitchFailure);
  });
});
