import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { BackendStore } from "../../stacks/backend-store";
import {
  buildRecord,
  commitOf,
  deployerOf,
  formatEngineUpdate,
  formatRecord,
  parseRecord,
  readRecords,
  recordsPrefix,
  runUrlOf,
  startRecord,
  writeRecord,
  type DeploymentRecord,
  type RecordContext,
  type RecordFacts,
} from "../../stacks/records";
import { deliveryMetrics, predating, type EngineUpdate } from "../../stacks/status";
import { StepLog } from "../../stacks/steps";

/** The store beside the state, in memory, with the same atomic `create` as the real ones. */
function memoryStore(besideState = true): BackendStore & { blobs: Map<string, string> } {
  const blobs = new Map<string, string>();
  return {
    blobs,
    where: "memory",
    besideState,
    async list(prefix) {
      return [...blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    async get(key) {
      return blobs.get(key);
    },
    async create(key, data) {
      if (blobs.has(key)) return false;
      blobs.set(key, data);
      return true;
    },
    async put(key, data) {
      blobs.set(key, data);
    },
    async delete(key) {
      blobs.delete(key);
    },
    async close() {},
  };
}

const ctx: RecordContext = { commit: { sha: "3f2a1bc9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3", time: "2026-12-01T10:00:00.000Z", dirty: false }, deployer: "alice" };
const T0 = Date.parse("2026-12-01T11:00:00.000Z");

function facts(over: Partial<RecordFacts> = {}): RecordFacts {
  return { stack: "local", kind: "deploy", outcome: "succeeded", release: "v2", startedAt: T0, endedAt: T0 + 12_345, steps: [], ...over };
}

/** A record `minutes` after T0; a deploy that reached live traffic has switchedAt. */
function rec(minutes: number, over: Partial<RecordFacts> = {}): DeploymentRecord {
  const startedAt = T0 + minutes * 60_000;
  const switched = over.outcome === undefined || over.outcome === "succeeded" || over.outcome === "reverted";
  return buildRecord(facts({ startedAt, endedAt: startedAt + 10_000, ...(switched && (over.kind ?? "deploy") === "deploy" ? { switchedAt: startedAt + 5000 } : {}), ...over }), ctx);
}

describe("a deployment record", () => {
  it("carries the driver's outcome, times to the millisecond, commit and deployer", () => {
    const r = buildRecord(
      facts({ outcome: "reverted", reason: "release v2 failed after the switch", previousRelease: "v1", liveSlot: "blue", trafficBackMs: 412.6, steps: [{ name: "bake", status: "failed", ms: 3001.25, detail: "2 probes failed" }] }),
      ctx,
    );
    expect(r).toMatchObject({
      stack: "local",
      kind: "deploy",
      outcome: "reverted",
      release: "v2",
      previousRelease: "v1",
      liveSlot: "blue",
      startedAt: "2026-12-01T11:00:00.000Z",
      endedAt: "2026-12-01T11:00:12.345Z",
      durationMs: 12_345,
      trafficBackMs: 413,
      commit: { sha: ctx.commit!.sha },
      deployer: "alice",
      steps: [{ name: "bake", status: "failed", ms: 3001.25, detail: "2 probes failed" }],
    });
  });

  it("never holds a secret value, in any step detail or reason", () => {
    const secret = "s3cr3t-Value-42";
    const r = buildRecord(facts({ outcome: "failed", reason: `app said ${secret}`, steps: [{ name: "up", status: "failed", ms: 1, detail: `env API_KEY=${secret}` }] }), ctx, [secret]);
    expect(JSON.stringify(r)).not.toContain(secret);
    expect(r.reason).toBe("app said [secret]");
  });

  it("is refused when it would not validate (an outcome that is not the driver's)", () => {
    expect(() => buildRecord(facts({ outcome: "update" as never }), ctx)).toThrow();
  });
});

describe("reading records back", () => {
  it("lists them newest first, from the stack's own prefix", async () => {
    const store = memoryStore();
    await writeRecord(store, rec(2, { release: "v3" }));
    await writeRecord(store, rec(0, { release: "v1" }));
    await writeRecord(store, rec(1, { release: "v2" }));
    await writeRecord(store, rec(5, { stack: "other", release: "vX" }));
    const { records, unreadable } = await readRecords(store, "local");
    expect(records.map((r) => r.release)).toEqual(["v3", "v2", "v1"]);
    expect(unreadable).toEqual([]);
    expect([...store.blobs.keys()].filter((k) => k.startsWith(recordsPrefix("local")))).toHaveLength(3);
    for (const k of store.blobs.keys()) expect(k).toMatch(/^\.pulumi\/flightdeck-records\/flightdeck\/(local|other)\/2026-12-01T\d{6}\.\d{3}Z-[0-9a-f]{8}\.json$/);
  });

  it("reports a blob that is not a valid record instead of dropping it", async () => {
    const store = memoryStore();
    await writeRecord(store, rec(0));
    await store.create(`${recordsPrefix("local")}2026-12-01T120000.000Z-bad.json`, JSON.stringify({ ...rec(1), outcome: "update" }));
    await store.create(`${recordsPrefix("local")}2026-12-01T120001.000Z-cut.json`, '{"formatVersion": 1, "sta');
    const { records, unreadable } = await readRecords(store, "local");
    expect(records).toHaveLength(1);
    expect(unreadable.map((u) => u.key)).toEqual([`${recordsPrefix("local")}2026-12-01T120001.000Z-cut.json`, `${recordsPrefix("local")}2026-12-01T120000.000Z-bad.json`]);
    expect(unreadable[0]!.problem).toMatch(/not JSON/);
    expect(unreadable[1]!.problem).toMatch(/^outcome: /);
    expect(parseRecord("k", JSON.stringify(rec(0)))).toHaveProperty("record");
  });

  it("a record is only ever created, never put over another: a taken key is retried under a new one", async () => {
    const store = memoryStore();
    let creates = 0;
    const racing: BackendStore = {
      ...store,
      create: async (key, data) => (++creates === 1 ? false : store.create(key, data)),
      put: async () => Promise.reject(new Error("a record must never be put")),
    };
    const key = await writeRecord(racing, rec(0));
    expect(creates).toBe(2);
    expect(store.blobs.get(key)).toBeDefined();
    expect((await readRecords(store, "local")).records).toHaveLength(1);
  });
});

describe("recording a command", () => {
  it("a store that cannot be written leaves a warning note, and the command's outcome stands", async () => {
    const store = { ...memoryStore(), create: async () => Promise.reject(new Error("disk full")) };
    const log = new StepLog();
    const recorder = startRecord(store, log, { workDir: ".", stack: "local", kind: "deploy", startedAt: T0, context: ctx });
    recorder.begin();
    await expect(recorder.finish({ outcome: "succeeded", release: "v2" })).resolves.toBeUndefined();
    expect(log.steps.at(-1)).toMatchObject({ name: "record", status: "note", detail: expect.stringMatching(/WARNING: the deployment record was not written \(disk full\); the deploy itself succeeded/) });
  });

  it("writes the steps so far, and the engine version when the command made an update", async () => {
    const store = memoryStore();
    const log = new StepLog();
    const recorder = startRecord(store, log, { workDir: ".", stack: "local", kind: "rollback", startedAt: T0, context: ctx });
    await store.create(".pulumi/history/flightdeck/local/local-1.history.json", "{}");
    recorder.begin();
    await log.run("up", async () => store.create(".pulumi/history/flightdeck/local/local-2.history.json", "{}"));
    const key = await recorder.finish({ outcome: "rolled back", rollbackTo: 1 });
    const r = JSON.parse(store.blobs.get(key!)!) as DeploymentRecord;
    expect(r).toMatchObject({ kind: "rollback", outcome: "rolled back", rollbackTo: 1, engineVersion: 2, steps: [{ name: "up", status: "ok" }] });
  });

  it("a command that made no update records no engine version", async () => {
    const store = memoryStore();
    await store.create(".pulumi/history/flightdeck/local/local-1.history.json", "{}");
    const recorder = startRecord(store, new StepLog(), { workDir: ".", stack: "local", kind: "deploy", startedAt: T0, context: ctx });
    recorder.begin();
    const key = await recorder.finish({ outcome: "failed", reason: "refused before anything changed" });
    expect(JSON.parse(store.blobs.get(key!)!)).not.toHaveProperty("engineVersion");
  });
});

describe("who and what deployed", () => {
  it("in CI: the actor, the commit CI names and the run's URL", () => {
    const env = { GITHUB_ACTOR: "octocat", GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/flightdeck", GITHUB_RUN_ID: "42" };
    expect(deployerOf(env)).toBe("octocat");
    expect(runUrlOf(env)).toBe("https://github.com/acme/flightdeck/actions/runs/42");
    expect(runUrlOf({})).toBeUndefined();
  });

  it("locally: the user, and the checkout's HEAD with its commit time and whether it is dirty", () => {
    expect(deployerOf({})).toBe(os.userInfo().username);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "records-git-"));
    try {
      expect(commitOf(dir, {})).toBeUndefined();
      const git = (...a: string[]) => execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@e", ...a], { encoding: "utf8" }).trim();
      git("init", "-q");
      fs.writeFileSync(path.join(dir, "a"), "1");
      git("add", "a");
      git("commit", "-q", "-m", "one");
      const head = git("rev-parse", "HEAD");
      expect(commitOf(dir, {})).toEqual({ sha: head, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), dirty: false });
      fs.writeFileSync(path.join(dir, "a"), "2");
      expect(commitOf(dir, {})?.dirty).toBe(true);
      expect(commitOf(dir, { GITHUB_SHA: "ABCDEF1234567" })?.sha).toBe("abcdef1234567");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("delivery metrics from records", () => {
  it("empty: nothing counted, no division by zero", () => {
    expect(deliveryMetrics([])).toMatchObject({ deploys: 0, succeeded: 0, changes: 0, changeFailureRate: 0, medianDeployMs: 0 });
  });

  it("one deploy that succeeded", () => {
    expect(deliveryMetrics([rec(0)])).toMatchObject({ deploys: 1, succeeded: 1, reverted: 0, failed: 0, changes: 1, failedChanges: 0, changeFailureRate: 0, medianDeployMs: 10_000 });
  });

  it("all failed at their gate: failed deploys, but no change reached users", () => {
    const m = deliveryMetrics([rec(0, { outcome: "failed" }), rec(1, { outcome: "failed" }), rec(2, { outcome: "failed" })]);
    expect(m).toMatchObject({ deploys: 3, succeeded: 0, failed: 3, changes: 0, failedChanges: 0, changeFailureRate: 0 });
  });

  it("a failure after the switch with nothing to go back to is a failed change", () => {
    const m = deliveryMetrics([rec(0, { outcome: "failed", switchedAt: T0 + 5000 })]);
    expect(m).toMatchObject({ deploys: 1, failed: 1, changes: 1, failedChanges: 1, changeFailureRate: 1 });
  });

  it("a revert followed by a rollback: both the reverted release and the one rolled back from failed", () => {
    const m = deliveryMetrics([
      rec(4, { kind: "rollback", outcome: "rolled back", release: "v1" }),
      rec(3, { outcome: "reverted", release: "v3" }),
      rec(2, { outcome: "unchanged", release: "v2" }),
      rec(1, { release: "v2" }),
      rec(0, { release: "v1" }),
    ]);
    expect(m).toEqual({
      deploys: 3,
      succeeded: 2,
      reverted: 1,
      failed: 0,
      unchanged: 1,
      rollbacks: 1,
      rollbacksFailed: 0,
      changes: 3,
      failedChanges: 2,
      changeFailureRate: 2 / 3,
      medianDeployMs: 10_000,
    });
  });

  it("41 deploys of which 32 succeeded (4 reverted, 5 stopped at the gate): 32 succeeded, 4 of 36 changes failed", () => {
    const outcomes = [...Array<"succeeded">(32).fill("succeeded"), ...Array<"reverted">(4).fill("reverted"), ...Array<"failed">(5).fill("failed")];
    // Interleaved, as a real run is: the order must not matter to the counts.
    const records = outcomes.map((outcome, i) => rec((i * 7) % 41, { outcome, release: `v${i}` }));
    const m = deliveryMetrics(records);
    expect(m).toMatchObject({ deploys: 41, succeeded: 32, reverted: 4, failed: 5, rollbacks: 0, changes: 36, failedChanges: 4 });
    expect(m.changeFailureRate).toBeCloseTo(4 / 36, 10);
  });

  it("up and failed rollbacks are not deploys", () => {
    const m = deliveryMetrics([rec(0, { kind: "up" }), rec(1), rec(2, { kind: "rollback", outcome: "failed" })]);
    expect(m).toMatchObject({ deploys: 1, succeeded: 1, rollbacks: 0, rollbacksFailed: 1, failedChanges: 0 });
  });
});

describe("history lines", () => {
  it("start with the outcome, and show release, ms duration, short commit, deployer and reason", () => {
    const line = formatRecord(rec(0, { outcome: "reverted", release: "v4-fails-after-5000ms", reason: "release v4 failed after the switch", engineVersion: 14 }));
    expect(line).toMatch(/^REVERTED\s+deploy\s+v4-fails-after-5000ms\s+2026-12-01T11:00:00\.000Z\s+10\.000s\s+3f2a1bc\s+alice\s+v14\s+release v4 failed after the switch$/);
    expect(line).not.toMatch(/succeeded/i);
  });

  it("mark updates from before records as the engine's history", () => {
    const u: EngineUpdate = { version: 3, kind: "update", message: "deploy v1 to blue", result: "succeeded", startedAt: "2026-11-30T10:00:00.000Z", durationMs: 8000, release: "v1", liveSlot: "blue" };
    expect(formatEngineUpdate(u)).toMatch(/^\(engine history\) v3 /);
    expect(predating([u, { ...u, startedAt: "2026-12-01T12:00:00.000Z" }], [rec(0)])).toEqual([u]);
    expect(predating([u], [])).toEqual([u]);
  });
});
