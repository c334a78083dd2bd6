/**
 * Rehearsal of staging: the program we ship with the committed Pulumi.staging.yaml and
 * policies/config/staging.json, driven by the CLI as the workflows run it, on the real engine;
 * Fly is the emulator (machines are processes behind an emulated fly-proxy), GitHub and Cloudflare
 * are provider doubles. Steady load runs through the emulated proxy from the first deploy on, and
 * every request is counted.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRehearsal, type Rehearsal } from "../support/rehearsal";
import { expectEveryRequestCounted, expectRevertedAfterSwitch } from "../support/rehearsal-scenarios";
import { steadyLoad } from "../support/steady-load";

/** A staging deploy: machine, gate, switch, the 30 s bake, with room for a slow runner. */
const DEPLOY_TIMEOUT_MS = 240_000;

let r: Rehearsal;
let load: ReturnType<typeof steadyLoad> | undefined;
let failedDuringPostSwitchFailure = 0;
const releases: Record<string, string> = {};

describe("rehearsal: staging, the shipped program on the real engine", () => {
  beforeAll(async () => {
    r = await startRehearsal("staging");
    releases.r1 = r.image("r1");
    releases.r2 = r.image("r2");
    releases.r3 = r.image("r3");
    releases.unhealthy = r.image("unhealthy", { env: { FAIL_HEALTH: "1" } });
    releases.failsLater = r.image("fails-later", { env: { FAIL_AFTER_MS: "15000" } });
  });
  afterAll(async () => {
    await load?.stop();
    await r?.cleanup();
  });

  it("first deploy: machines created and gated on the emulator, GitHub and Cloudflare through their doubles", async () => {
    const d = await r.cli("deploy", "--stack", "staging", "--release", releases.r1!);
    expect(d.all, d.all).toMatch(/SUCCEEDED/);
    expect(d.exitCode).toBe(0);
    const s = await r.status();
    // Consistent as seen in the answers the emulated proxy really gives, not only in the state.
    expect(s).toMatchObject({ release: releases.r1, healthy: true, consistent: true, routerSeenBy: "answers" });
    const created = JSON.parse(fs.readFileSync(r.doubleState, "utf8")) as unknown;
    expect(JSON.stringify(created)).toMatch(/RepositoryEnvironment/);
    expect(JSON.stringify(created)).toMatch(/DnsRecord/);
    load = steadyLoad(r.fly.proxyUrl, r.hostname);
  }, DEPLOY_TIMEOUT_MS);

  it("a pull request's preview writes its comment and passes the staging policies", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fd-comment-")), "comment.md");
    const p = await r.cli("preview", "--stack", "staging", "--comment-file", file);
    expect(p.exitCode, p.all).toBe(0);
    const comment = fs.readFileSync(file, "utf8");
    expect(comment).toMatch(/staging/);
    expect(comment).not.toMatch(/mandatory/);
  });

  it("a good release: gate on the emulated machines, switch, bake; no request fails; a second deploy meanwhile is refused", async () => {
    const before = load!.tally.failed;
    const deploying = r.cli("deploy", "--stack", "staging", "--release", releases.r2!);
    // A second deploy meanwhile (another runner, a person) is refused, naming the holder; the first goes on.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const second = await r.cli("deploy", "--stack", "staging", "--release", releases.r1!);
    expect(second.exitCode, second.all).not.toBe(0);
    expect(second.all).toMatch(/is being deployed by pid \d+/);
    const d = await deploying;
    expect(d.exitCode, d.all).toBe(0);
    expect(load!.tally.failed - before).toBe(0);
    expect(await r.status()).toMatchObject({ release: releases.r2, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("a release that fails its gate is never served", async () => {
    const before = load!.tally.failed;
    const d = await r.cli("deploy", "--stack", "staging", "--release", releases.unhealthy!);
    expect(d.exitCode, d.all).not.toBe(0);
    expect(d.all).toMatch(/gate|health/i);
    expect(load!.tally.failed - before).toBe(0);
    expect(load!.tally.served[releases.unhealthy!] ?? 0).toBe(0);
    expect(await r.status()).toMatchObject({ release: releases.r2, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("a release that fails after the switch is reverted, traffic first", async () => {
    failedDuringPostSwitchFailure = await expectRevertedAfterSwitch(r, releases.failsLater!, load!);
    const s = await r.status();
    expect(s).toMatchObject({ release: releases.r2, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("rollback returns to the previous release, the warm slot checked machine by machine", async () => {
    const before = load!.tally.failed;
    const d = await r.cli("rollback", "--stack", "staging");
    expect(d.exitCode, d.all).toBe(0);
    expect(load!.tally.failed - before).toBe(0);
    expect(await r.status()).toMatchObject({ release: releases.r1, healthy: true, consistent: true });
  });

  it("a driver killed (-9) mid-deploy, its machine created, is put right by the next deploy", async () => {
    const before = load!.tally.failed;
    const app = r.fly.apps.get(r.app)!;
    const killed = r.cliStart({}, "deploy", "--stack", "staging", "--release", releases.r3!);
    // Die as a runner does: once the idle slot's machine runs the new release, before the switch.
    await expect.poll(() => [...app.machines.values()].some((m) => m.config.image === releases.r3 && m.state === "started"), { timeout: 90_000, interval: 100 }).toBe(true);
    process.kill(killed.pid, "SIGKILL");
    expect((await killed.done).exitCode).not.toBe(0);
    const d = await r.cli("deploy", "--stack", "staging", "--release", releases.r3!);
    expect(d.exitCode, d.all).toBe(0);
    expect(d.all).toMatch(/recover/);
    expect(load!.tally.failed - before).toBe(0);
    expect(await r.status()).toMatchObject({ release: releases.r3, healthy: true, consistent: true });
  }, DEPLOY_TIMEOUT_MS);

  it("drift is clean right after", async () => {
    const d = await r.cli("drift", "--stack", "staging");
    expect(d.exitCode, d.all).toBe(0);
  });

  it("every request of the steady load was counted, by the load and by the emulated proxy", async () => {
    const running = load!;
    load = undefined; // stopped here, whatever the assertions say
    await expectEveryRequestCounted(r, running, failedDuringPostSwitchFailure);
  });
});
