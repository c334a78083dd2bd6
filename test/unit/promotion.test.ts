import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fileStore } from "../../stacks/backend-store";
import { checkPromotion, promotedReleases, promotionRefusal, readPromotionEvidence, releaseIdentity, releasesRunHere } from "../../stacks/promotion";
import { buildRecord, writeRecord, type DeploymentRecord, type Outcome } from "../../stacks/records";
import { StepLog } from "../../stacks/steps";
import type { StackConfig } from "../../infra/config/schema";

const digest = (c: string) => c.repeat(64);
const staging = (c: string) => `registry.fly.io/flightdeck-staging@sha256:${digest(c)}`;
const production = (c: string) => `registry.fly.io/flightdeck-production@sha256:${digest(c)}`;
let at = Date.parse("2026-12-01T10:00:00Z");

function rec(stack: string, outcome: Outcome, release: string, extra: { kind?: DeploymentRecord["kind"]; previousRelease?: string } = {}): DeploymentRecord {
  at += 60_000;
  return buildRecord({ stack, kind: extra.kind ?? "deploy", outcome, release, previousRelease: extra.previousRelease, startedAt: at, endedAt: at + 1000, steps: [] }, { deployer: "ci" });
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("promotion: production runs what staging succeeded with", () => {
  it("compares image digests, not refs: the two apps name one image differently", () => {
    expect(releaseIdentity(staging("a"))).toBe(`sha256:${digest("a")}`);
    expect(releaseIdentity(production("a"))).toBe(releaseIdentity(staging("a")));
    expect(releaseIdentity("v3")).toBe("v3");
    const evidence = { from: "staging", promoted: promotedReleases([rec("staging", "succeeded", staging("a"))]), ranHere: [] };
    expect(checkPromotion(production("a"), evidence)).toMatchObject({ ok: true });
    expect(checkPromotion(production("b"), evidence)).toMatchObject({ ok: false });
  });

  it("only a succeeded deploy counts: failed, reverted, unchanged, a rollback or an up do not", () => {
    const records = [
      rec("staging", "failed", staging("a")),
      rec("staging", "reverted", staging("b")),
      rec("staging", "unchanged", staging("c")),
      rec("staging", "rolled back", staging("d"), { kind: "rollback" }),
      rec("staging", "succeeded", staging("e"), { kind: "up" }),
    ];
    const evidence = { from: "staging", promoted: promotedReleases(records), ranHere: [] };
    expect(evidence.promoted).toEqual([]);
    for (const c of "abcde") expect(checkPromotion(production(c), evidence).ok).toBe(false);
  });

  it("a refusal names the release and staging's recent successes, newest first, each once", () => {
    const records = [rec("staging", "succeeded", staging("a")), rec("staging", "succeeded", staging("b")), rec("staging", "succeeded", staging("b"))].reverse();
    const v = checkPromotion(production("c"), { from: "staging", promoted: promotedReleases(records), ranHere: [] });
    expect(v.ok).toBe(false);
    const message = v.ok ? "" : v.message;
    expect(message).toContain(`release ${production("c")} was never deployed successfully to staging`);
    expect(message).toContain("staging's recent succeeded deploys:");
    expect(message.indexOf(staging("b"))).toBeLessThan(message.indexOf(staging("a")));
    expect(message.split(staging("b")).length).toBe(2);
    const none = checkPromotion(production("c"), { from: "staging", promoted: [], ranHere: [] });
    expect(none.ok ? "" : none.message).toMatch(/staging has no succeeded deploy on record/);
  });

  it("restores are never blocked, and a release production already ran is no promotion", () => {
    const empty = { from: "staging", promoted: [], ranHere: [] };
    expect(checkPromotion(production("a"), empty, { restore: "rollback" })).toMatchObject({ ok: true, why: "a rollback is never blocked" });
    const ran = releasesRunHere([rec("production", "failed", production("x"), { previousRelease: production("a") }), rec("production", "rolled back", production("b"), { kind: "rollback" })]);
    expect(ran).toEqual([production("a"), production("b")]);
    expect(checkPromotion(production("a"), { ...empty, ranHere: ran }).ok).toBe(true);
    expect(checkPromotion(production("x"), { ...empty, ranHere: ran }).ok).toBe(false);
  });

  it("reads the evidence from the records beside the state; the driver's check refuses with its message", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-"));
    dirs.push(dir);
    const store = fileStore(dir, true);
    await writeRecord(store, rec("staging", "succeeded", staging("a")));
    await writeRecord(store, rec("staging", "reverted", staging("b")));
    const evidence = await readPromotionEvidence(store, "production", "staging");
    expect(evidence.promoted.map((p) => p.release)).toEqual([staging("a")]);

    const config = { environment: "production", promotion: { from: "staging" } } as unknown as StackConfig;
    const log = new StepLog();
    expect(await promotionRefusal(store, log, { stack: "production", release: production("a"), config })).toBeUndefined();
    const refused = await promotionRefusal(store, log, { stack: "production", release: production("b"), config });
    expect(refused).toMatch(new RegExp(`release ${production("b").replace(/[.@]/g, "\\$&")} was never deployed successfully to staging.*${staging("a").replace(/[.@]/g, "\\$&")}`));
    // Without --release (the live release again) or without a source in the stack file: nothing to check.
    expect(await promotionRefusal(store, log, { stack: "production", config })).toBeUndefined();
    const noSource = { environment: "production" } as unknown as StackConfig;
    expect(await promotionRefusal(store, log, { stack: "production", release: production("b"), config: noSource })).toBeUndefined();
  });
});
