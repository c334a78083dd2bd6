/**
 * Deployment records on the real engine: every deploy, rollback and up leaves a record with the
 * driver's outcome (a deploy reverted after its switch is "reverted", though the engine's result
 * for its `up` was "succeeded"), the commit and the deployer, beside the state in the file backend;
 * `history` shows them, outcome first. No record holds a secret of the stack in plain text.
 */
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy } from "../../stacks/deploy";
import { deployerOf, recordsPrefix, type DeploymentRecord } from "../../stacks/records";
import { rollback } from "../../stacks/rollback";
import { history } from "../../stacks/status";
import { upAsIs } from "../../stacks/up";
import { projectDir } from "../../stacks/workspace";
import { FAST_DELIVERY, localTestStack, recordsDirOf, removeStackLeftovers, versionAt } from "../support/local-stack";
import { driverArgs } from "../support/driver";

const STACK = "test-records";
const BASE = 18950;
const API_KEY = "rec0rds-Pl41ntext-Never-7731";
// A second app secret whose value is a phrase the health gate's own error says ("…; live traffic
// was not moved"): the failed deploy's reason and step details would carry it in plain text, so
// the record files lacking it proves the records are scrubbed on the real deploy path.
const CANARY = "live traffic was not moved";
const APP_SECRETS = JSON.stringify({ API_KEY, CANARY });
let env: Awaited<ReturnType<typeof localTestStack>>;

const recordsDir = () => recordsDirOf(STACK);

function cli(...args: string[]) {
  return execa("node", driverArgs(projectDir, ...args), { cwd: projectDir, reject: false, all: true, timeout: 120_000 });
}

describe("deployment records", () => {
  beforeAll(async () => {
    if (!process.env.PULUMI_BACKEND_URL?.startsWith("file://")) throw new Error("this test reads the file backend's directory: run it through scripts/engine.sh");
    env = await localTestStack(STACK, BASE, FAST_DELIVERY);
    await env.stack.setConfig("flightdeck:appSecrets", { value: APP_SECRETS, secret: true });
    fs.rmSync(recordsDir(), { recursive: true, force: true });
  });
  afterAll(async () => {
    await env?.cleanup();
    // `stack rm` leaves the stack's history and records in the file backend: this test's are its own.
    removeStackLeftovers(STACK);
  });

  // Generous timeouts: on a loaded 2-core machine one engine update can take half a minute.
  const SLOW = 300_000;
  const reports: Record<string, { recordKey?: string }> = {};

  it("a first deploy and a second one succeed", async () => {
    expect((await deploy({ stack: STACK, release: "v1" })).outcome).toBe("succeeded");
    expect((await deploy({ stack: STACK, release: "v2" })).outcome).toBe("succeeded");
  }, SLOW);

  it("a release that fails its gate fails", async () => {
    const r = await deploy({ stack: STACK, release: "v3-unhealthy" });
    expect(r.outcome).toBe("failed");
    reports.gate = r;
  }, SLOW);

  it("a release that fails after the switch is reverted", async () => {
    // Fails 2.5 s after it starts: after its gate and the switch, inside or before the bake.
    const r = await deploy({ stack: STACK, release: "v4-fails-after-2500ms" });
    expect(r.outcome).toBe("reverted");
    reports.late = r;
  }, SLOW);

  it("rollback rolls back, and npm start's up runs as it is", async () => {
    const back = await rollback({ stack: STACK });
    expect(back.to.slots[back.to.liveSlot]?.release).toBe("v1");
    reports.back = back;
    await upAsIs({ stack: STACK });
    expect(await versionAt(env.url)).toBe("v1");
    for (const r of Object.values(reports)) expect(r.recordKey).toMatch(new RegExp(`^${recordsPrefix(STACK)}`));
  }, SLOW);

  it("history --json lists them newest first with the driver's outcomes, commit and deployer", { timeout: SLOW }, async () => {
    const run = await cli("history", "--stack", STACK, "--json");
    expect(run.exitCode, run.all).toBe(0);
    const h = JSON.parse(run.stdout) as { deployments: DeploymentRecord[]; unreadable: unknown[]; metrics: Record<string, number> };
    expect(h.unreadable).toEqual([]);
    expect(h.deployments.map((d) => [d.kind, d.outcome, d.release])).toEqual([
      ["up", "succeeded", "v1"],
      ["rollback", "rolled back", "v1"],
      ["deploy", "reverted", "v4-fails-after-2500ms"],
      ["deploy", "failed", "v3-unhealthy"],
      ["deploy", "succeeded", "v2"],
      ["deploy", "succeeded", "v1"],
    ]);
    const [up, rb, reverted, failed, , first] = h.deployments;
    const head = execFileSync("git", ["-C", projectDir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    for (const d of h.deployments) {
      expect(d.commit?.sha).toBe(process.env.GITHUB_SHA ?? head);
      expect(d.deployer).toBe(deployerOf());
      expect(Date.parse(d.endedAt) - Date.parse(d.startedAt)).toBe(d.durationMs);
      expect(d.steps.length).toBeGreaterThan(0);
    }
    // Milliseconds, not the engine's whole seconds.
    expect(h.deployments.some((d) => d.durationMs % 1000 !== 0)).toBe(true);
    expect(first!.previousRelease).toBeUndefined();
    expect(failed).toMatchObject({ previousRelease: "v2", reason: expect.stringMatching(/health gate closed for release v3-unhealthy/) });
    expect(failed!.switchedAt).toBeUndefined();
    expect(reverted).toMatchObject({ previousRelease: "v2", liveSlot: "green", reason: expect.stringMatching(/failed after the switch/) });
    expect(reverted!.switchedAt).toBeDefined();
    expect(reverted!.trafficBackMs).toBeGreaterThanOrEqual(0);
    expect(reverted!.steps.map((s) => s.name)).toEqual(expect.arrayContaining(["traffic back", "revert"]));
    expect(rb).toMatchObject({ previousRelease: "v2", liveSlot: "blue", reason: expect.stringMatching(/^rollback to version \d+$/) });
    expect(rb!.rollbackTo).toBeGreaterThan(0);
    expect(rb!.engineVersion).toBeGreaterThan(rb!.rollbackTo!);
    expect(up!.engineVersion).toBe(rb!.engineVersion! + 1);
    expect(h.metrics).toMatchObject({ deploys: 4, succeeded: 2, reverted: 1, failed: 1, rollbacks: 1, changes: 3, failedChanges: 2 });
  });

  it("history for people: outcome first, never 'succeeded' for the reverted deploy", { timeout: SLOW }, async () => {
    const run = await cli("history", "--stack", STACK);
    expect(run.exitCode, run.all).toBe(0);
    const lines = run.stdout.split("\n").filter((l) => /^(SUCCEEDED|FAILED|REVERTED|ROLLED BACK|UNCHANGED) /.test(l));
    expect(lines.map((l) => /^(SUCCEEDED|FAILED|REVERTED|ROLLED BACK)/.exec(l)![1])).toEqual(["SUCCEEDED", "ROLLED BACK", "REVERTED", "FAILED", "SUCCEEDED", "SUCCEEDED"]);
    const reverted = lines[2]!;
    expect(reverted).toMatch(/^REVERTED\s+deploy\s+v4-fails-after-2500ms\s+\S+Z\s+\d+\.\d{3}s\s+[0-9a-f]{7}\+?\s+\S+/);
    expect(reverted).not.toMatch(/succeeded/i);
    expect(run.stdout).toMatch(/4 deploys: 2 succeeded, 1 reverted, 1 failed; 1 rollbacks; change failure rate 67% \(2 of 3 /);
    // Every update of this stack was made with records kept: none is shown as the engine's.
    expect(run.stdout).not.toContain("(engine history)");
    const h = await history(STACK);
    expect(h.earlier).toEqual([]);
    expect(h.records.length).toBeGreaterThan(h.deployments.length);
  });

  it("the records are files beside the state, and hold no secret in plain text", () => {
    const files = fs.readdirSync(recordsDir()).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(6);
    const texts = files.map((f) => fs.readFileSync(path.join(recordsDir(), f), "utf8"));
    for (const t of texts) {
      expect(t).not.toContain(API_KEY);
      expect(t).not.toContain(CANARY);
    }
    // The canary was in what the failed deploy said: it was scrubbed, not absent.
    expect(texts.join("\n")).toMatch(/health gate closed for release v3-unhealthy[^"]*\[secret\]/);
  });
});
