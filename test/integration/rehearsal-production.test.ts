/**
 * Rehearsal of production: the program we ship with the committed Pulumi.production.yaml (two
 * machines per slot in two regions, a 120 s bake, reviewers, a ruleset) and the committed
 * policies/config/production.json, driven by the CLI as the workflows run it, on the real engine.
 * Fly is the emulator; GitHub and Cloudflare are provider doubles. The deploy window's clock is the
 * only thing set: inside the window unless a test says otherwise.
 *
 * The previews first (nothing deployed yet, the release given as CI's merge job would): the
 * committed config passes every mandatory policy, and each way of getting production wrong is
 * refused with the message of the guard that owns it.
 */
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type YAML from "yaml";
import { fileURLToPath } from "node:url";
import { committedSettings, outsideDeployWindow, releaseRef, startRehearsal, type Rehearsal } from "../support/rehearsal";
import { fileStore } from "../../stacks/backend-store";
import { buildRecord, writeRecord } from "../../stacks/records";
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

/**
 * Promotion, not rebuild: production takes only what staging recorded as a succeeded deploy. The
 * honest way would be staging deploying each release first in this backend; that is three more
 * blue/green deploys with a 30 s bake each (minutes, on a rehearsal already ~8 min long), and
 * rehearsal-staging already proves staging's deploys write those records. So staging's records are
 * written here with the driver's own buildRecord/writeRecord, exactly as a staging deploy leaves them:
 * the same image under staging's app name (one digest, two refs, as deploy.yml pushes it).
 */
async function stagingSucceeded(labels: string[]): Promise<void> {
  const store = fileStore(fileURLToPath(r.env.PULUMI_BACKEND_URL!), true);
  const app = committedSettings("staging").app;
  for (const label of labels) {
    const at = Date.now();
    await writeRecord(store, buildRecord({ stack: "staging", kind: "deploy", outcome: "succeeded", release: releaseRef(app, label), startedAt: at, endedAt: at + 30_000, steps: [] }, { deployer: "rehearsal" }));
  }
}

/** `[mandatory] <policy>:` lines of a preview's output. */
function mandatoryViolations(out: string): string[] {
  return [...out.matchAll(/\[mandatory\] ([a-z-]+):/g)].map((m) => m[1]!);
}

const previewWith = (edit: ((doc: YAML.Document) => void) | undefined, release: string) =>
  r.cliWith(edit ? { editStackFile: edit } : {}, "preview", "--stack", STACK, "--release", release);

describe("rehearsal: production, the shipped program on the real engine", () => {
  beforeAll(async () => {
    r = await startRehearsal(STACK);
    releases.r1 = r.image("r1");
    releases.r2 = r.image("r2");
    releases.failsLater = r.image("fails-later", { env: { FAIL_AFTER_MS: "40000" } });
    // Never deployed to staging: production must refuse it.
    releases.unpromoted = r.image("unpromoted");
    // fails-later passes staging's 30 s bake (it fails after 40 s): promoted, and reverted in production.
    await stagingSucceeded(["r1", "r2", "fails-later"]);
  });
  afterAll(async () => {
    await load?.stop();
    await r?.cleanup();
  });

  it("a preview of the committed production config passes every mandatory policy", async () => {
    const p = await previewWith(undefined, releases.r1!);
    expect(p.exitCode, p.all).toBe(0);
    expect(p.all).toMatch(/PREVIEWED production: create: \d+; 0 policy violation\(s\)/);
  });

  it("one machine per slot in one region: refused by fly-machine-redundancy", async () => {
    const p = await previewWith((doc) => {
      doc.setIn(["config", "flightdeck:fly", "machinesPerSlot"], 1);
      doc.setIn(["config", "flightdeck:fly", "regions"], doc.createNode(["ams"]));
    }, releases.r1!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(mandatoryViolations(p.all), p.all).toContain("fly-machine-redundancy");
    expect(p.all).toMatch(/machine/i);
  });

  it("a :latest image: refused by fly-image-pinned-by-digest", async () => {
    const p = await previewWith(undefined, "registry.fly.io/flightdeck-production:latest");
    expect(p.exitCode, p.all).not.toBe(0);
    expect(mandatoryViolations(p.all), p.all).toContain("fly-image-pinned-by-digest");
  });

  it("a release staging never deployed: refused by the driver naming staging's successes, and by release-promoted in preview", async () => {
    const d = await r.cli("deploy", "--stack", STACK, "--release", releases.unpromoted!);
    expect(d.exitCode, d.all).not.toBe(0);
    expect(d.all).toContain(`release ${releases.unpromoted} was never deployed successfully to staging`);
    expect(d.all).toContain(releaseRef(committedSettings("staging").app, "r1"));
    expect(d.all).toMatch(/refused before anything changed/);
    expect(r.fly.apps.size).toBe(0);
    const p = await previewWith(undefined, releases.unpromoted!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(mandatoryViolations(p.all), p.all).toContain("release-promoted");
    expect(p.all).toMatch(/Promotion, not rebuild/);
  });

  it("a plaintext app secret in the stack file: refused before the engine changes anything, naming file and key", async () => {
    const p = await previewWith((doc) => {
      doc.setIn(["config", "flightdeck:appSecrets"], doc.createNode({ API_KEY: "sk_live_rehearsal_plaintext" }));
    }, releases.r1!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(p.all).toMatch(/Pulumi\.production\.yaml/);
    expect(p.all).toMatch(/flightdeck:appSecrets/);
    expect(p.all).toMatch(/plaintext/);
    expect(p.all).not.toMatch(/sk_live_rehearsal_plaintext/);
  });

  it("no reviewers, merge declared the release: refused by protected-deploy-environment", async () => {
    const p = await previewWith((doc) => {
      doc.setIn(["config", "flightdeck:github", "reviewers"], doc.createNode({ users: [], teams: [] }));
      doc.setIn(["config", "flightdeck:github", "mergeIsRelease"], true);
    }, releases.r1!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(mandatoryViolations(p.all), p.all).toContain("protected-deploy-environment");
  });

  it("no reviewers at all: refused by the config check, naming the key", async () => {
    const p = await previewWith((doc) => {
      doc.setIn(["config", "flightdeck:github", "reviewers"], doc.createNode({ users: [], teams: [] }));
    }, releases.r1!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(p.all).toMatch(/Pulumi\.production\.yaml/);
    expect(p.all).toMatch(/reviewers/);
  });

  it("outside the deploy window a deploy is refused before anything changes", async () => {
    const d = await r.cliWith({ env: { [POLICY_NOW_ENV]: outsideDeployWindow() } }, "deploy", "--stack", STACK, "--release", releases.r1!);
    expect(d.exitCode, d.all).not.toBe(0);
    expect(d.all).toMatch(/deploy-window/);
    expect(r.fly.apps.size).toBe(0);
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
