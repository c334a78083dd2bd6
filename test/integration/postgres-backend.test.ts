/**
 * Pulumi's diy Postgres backend (postgres://, in the pinned engine) against a real PostgreSQL the
 * test starts itself: state, history, the engine's locks and the driver's deploy lock all live in
 * the database, two deploys at once never interleave, and `kill -9` of the driver at any step is put
 * right by the next command with traffic on a healthy release throughout.
 */
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresStore } from "../../stacks/backend-store";
import { DeployLockedError, lockKey } from "../../stacks/deploy-lock";
import { deploy } from "../../stacks/deploy";
import { orphansOf } from "../../stacks/orphans";
import { recordsPrefix } from "../../stacks/records";
import { rollback } from "../../stacks/rollback";
import { status } from "../../stacks/status";
import { projectDir } from "../../stacks/workspace";
import { FAST_DELIVERY, localTestStack, versionAt, watchLive } from "../support/local-stack";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { driverArgs } from "../support/driver";

const STACK = "test-pg";
const BASE = 18710;
const backendBefore = process.env.PULUMI_BACKEND_URL;
let db: TestPostgres;
let env: Awaited<ReturnType<typeof localTestStack>>;

const fast = FAST_DELIVERY;

/** Keys in the backend's table, through the driver's own store (blob paths, without the database prefix). */
async function keys(prefix: string): Promise<string[]> {
  const store = postgresStore(db.url);
  try {
    return await store.list(prefix);
  } finally {
    await store.close();
  }
}

/** The driver as CI runs it, as one process (node itself: its pid is the driver's). */
function driver(...args: string[]): ResultPromise<{ cwd: string; reject: false; all: true }> {
  return execa("node", driverArgs(projectDir, ...args), { cwd: projectDir, reject: false, all: true });
}

function waitFor(child: ReturnType<typeof driver>, pattern: RegExp, what: string): Promise<void> {
  let output = "";
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`never saw ${what}:\n${output}`)), 90_000);
    child.all!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

describe("the Postgres backend", () => {
  beforeAll(async () => {
    db = startPostgres(18700);
    process.env.PULUMI_BACKEND_URL = db.url;
    env = await localTestStack(STACK, BASE, fast);
  });
  afterAll(async () => {
    await env?.cleanup();
    if (backendBefore === undefined) delete process.env.PULUMI_BACKEND_URL;
    else process.env.PULUMI_BACKEND_URL = backendBefore;
    db?.stop();
  });

  it("deploys and rolls back with the state, its history and the locks in PostgreSQL", async () => {
    expect((await deploy({ stack: STACK, release: "v1" })).outcome).toBe("succeeded");
    expect((await deploy({ stack: STACK, release: "v2" })).outcome).toBe("succeeded");
    expect(await keys(".pulumi/stacks/")).toContain(`.pulumi/stacks/flightdeck/${STACK}.json`);
    expect((await keys(`.pulumi/history/flightdeck/${STACK}/`)).length).toBeGreaterThan(0);
    const r = await rollback({ stack: STACK });
    expect(r.to.liveSlot).toBe("blue");
    expect(await versionAt(env.url)).toBe("v1");
    // Released: no driver lock and no engine lock is left behind.
    expect(await keys(".pulumi/flightdeck-locks/")).toEqual([]);
    expect(await keys(".pulumi/locks/")).toEqual([]);
    // A deployment record per deploy and rollback, rows beside the state.
    expect((await keys(recordsPrefix(STACK))).filter((k) => k.endsWith(".json"))).toHaveLength(3);
  });

  it("two deploys at once: the second is refused naming the holder, whose lock is a row beside the state", async () => {
    const first = driver("deploy", "--stack", STACK, "--release", "v3");
    await waitFor(first, /✓ lock/, "the first deploy take its lock");
    expect(await keys(".pulumi/flightdeck-locks/")).toEqual([lockKey(STACK)]);
    const second = await deploy({ stack: STACK, release: "v4" }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(second).toBeInstanceOf(DeployLockedError);
    expect(second!.message).toMatch(new RegExp(`pid ${first.pid} .*deploy v3.*lock in postgres://127\\.0\\.0\\.1:18700/flightdeck \\(table pulumi_state\\)`));
    expect((await first).exitCode).toBe(0);
    expect(await versionAt(env.url)).toBe("v3");
  });

  // Where the driver dies: before it changes anything, while the engine changes resources, and
  // after the switch while it bakes. Each time the next command must leave a healthy release live,
  // with nothing of the dead driver still running.
  const killPoints: [string, RegExp][] = [
    ["after taking the lock", /✓ read state/],
    ["while the engine updates", /Updating \([^)]*\):[\s\S]*(creating|updating|replacing|deleting)/],
    ["during the bake", /✓ up \(slot, gate, switch\)/],
  ];
  let n = 5;
  for (const [when, marker] of killPoints) {
    it(`kill -9 of the driver ${when}: the next command recovers with no hand edit, traffic healthy throughout`, async () => {
      const healthy = new Set(["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"]);
      const release = `v${n++}`;
      const watch = watchLive(env.url, 100);
      const child = driver("deploy", "--stack", STACK, "--release", release, "--verbose");
      await waitFor(child, marker, when);
      const dead = child.pid!;
      process.kill(dead, "SIGKILL");
      await child;

      const next = await deploy({ stack: STACK });
      const seen = await watch.stop();
      expect(next.steps.find((s) => s.name === "lock")?.detail).toMatch(new RegExp(`taken over from pid ${dead}`));
      expect(["succeeded", "unchanged"]).toContain(next.outcome);
      expect(orphansOf(dead)).toEqual([]);
      expect(seen.failures).toBe(0);
      for (const v of seen.served) expect(healthy.has(v), `served ${v}`).toBe(true);
      const s = await status(STACK);
      expect(s).toMatchObject({ consistent: true, healthy: true });
      expect(await keys(".pulumi/locks/")).toEqual([]);
    });
  }
});
