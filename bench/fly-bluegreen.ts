/**
 * Blue/green on the emulated Fly path under steady load: the shipped program with the committed
 * Pulumi.staging.yaml (cordon router, 30 s bake) on the real engine, machines as processes behind
 * the emulated fly-proxy (test/fly-emulator), GitHub and Cloudflare as provider doubles. The same
 * scenarios as bench/bluegreen.ts: good deploy, gated bad release, post-switch failure, rollback.
 * Prints each figure beside its target; writes bench/results/fly-bluegreen.{json,md}.
 * Run: npm run bench (or scripts/engine.sh npx tsx bench/fly-bluegreen.ts)
 */
import { deploy } from "../stacks/deploy";
import { rollback } from "../stacks/rollback";
import { startRehearsal } from "../test/support/rehearsal";
import { steadyLoad, type LoadTally } from "../test/support/steady-load";
import { figure, writeResults, type Figure } from "./results";

const STACK = "staging";
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);


async function main(): Promise<void> {
  const figures: Figure[] = [];
  const loads: Record<string, { requests: number; failed: number; rps: number }> = {};
  const r = await startRehearsal(STACK);
  // The driver runs in this process, in the rehearsal's checkout, with the environment a runner's job has.
  Object.assign(process.env, r.env);
  const workDir = r.workDir;
  const rel = {
    v1: r.image("v1"),
    v2: r.image("v2"),
    bad: r.image("v3-unhealthy", { env: { FAIL_HEALTH: "1" } }),
    late: r.image("v4-fails-later", { env: { FAIL_AFTER_MS: "15000" } }),
  };
  const measure = async <T>(scenario: string, run: () => Promise<T>): Promise<{ result: T; tally: LoadTally }> => {
    const load = steadyLoad(r.fly.proxyUrl, r.hostname, { concurrency: CONCURRENCY, everyMs: 0 });
    const started = Date.now();
    const result = await run();
    const tally = await load.stop();
    loads[scenario] = { requests: tally.requests, failed: tally.failed, rps: Math.round((tally.requests / (Date.now() - started)) * 1000) };
    return { result, tally };
  };
  try {
    const first = await deploy({ stack: STACK, release: rel.v1, workDir });
    if (first.outcome !== "succeeded") throw new Error(`setup deploy failed: ${first.reason}`);

    // 1. A good deploy.
    const good = await measure("good deploy", () => deploy({ stack: STACK, release: rel.v2, workDir }));
    const oldLast = good.tally.servedBetween[rel.v1]?.last ?? 0;
    const newFirst = good.tally.servedBetween[rel.v2]?.first ?? Number.POSITIVE_INFINITY;
    figures.push(figure("good deploy: failed requests", good.tally.failed, "req", "0", good.tally.failed === 0));
    figures.push(figure("good deploy: switch overlap (last old − first new answer)", Math.max(0, oldLast - newFirst), "ms", "≤ 1000", oldLast - newFirst <= 1000));
    const goodS = good.result.durationMs / 1000;
    figures.push(figure("good deploy: wall time (30 s bake)", goodS, "s", "≤ 90", good.result.outcome === "succeeded" && goodS <= 90));

    // 2. A bad release, rejected by the gate.
    const bad = await measure("bad release", () => deploy({ stack: STACK, release: rel.bad, workDir }));
    const badServed = bad.tally.served[rel.bad] ?? 0;
    figures.push(figure("bad release: failed requests", bad.tally.failed, "req", "0", bad.tally.failed === 0));
    figures.push(figure("bad release: live requests it served", badServed, "req", "0", badServed === 0 && bad.result.outcome === "failed"));
    figures.push(figure("bad release: wall time until refused", bad.result.durationMs / 1000, "s", "≤ 60", bad.result.durationMs <= 60_000));

    // 3. Passes the gate, fails after the switch (during the bake).
    const late = await measure("post-switch failure", () => deploy({ stack: STACK, release: rel.late, workDir }));
    const back = late.result.trafficBackMs ?? Number.NaN;
    const window = late.tally.lastFailureAt !== undefined && late.tally.firstFailureAt !== undefined ? late.tally.lastFailureAt - late.tally.firstFailureAt : 0;
    figures.push(figure("post-switch failure: first failed probe → traffic back", back / 1000, "s", "≤ 3", late.result.outcome === "reverted" && back <= 3000));
    figures.push(figure("post-switch failure: failed requests in that window", late.tally.failed, "req", "report", true));
    figures.push(figure("post-switch failure: users saw failures for", window / 1000, "s", "report", true));

    // 4. Rollback to the previous state (its slot is warm).
    const rb = await measure("rollback", () => rollback({ stack: STACK, workDir }));
    const moved = rb.result.trafficMovedMs ?? rb.result.durationMs;
    figures.push(figure("rollback: until live traffic is on the previous release", moved / 1000, "s", "≤ 10", moved <= 10_000));
    figures.push(figure("rollback: wall time (stack reconciled)", rb.result.durationMs / 1000, "s", "≤ 30", rb.result.durationMs <= 30_000));
    figures.push(figure("rollback: failed requests", rb.tally.failed, "req", "0", rb.tally.failed === 0));
  } finally {
    await r.cleanup();
  }

  writeResults(
    "fly-bluegreen",
    "Blue/green on the emulated Fly path",
    `Committed Pulumi.staging.yaml (cordon router, 30 s bake) on the real engine; machines are processes behind the emulated fly-proxy; ${CONCURRENCY} connections sending back to back through it during each scenario`,
    figures,
    { load: { connections: CONCURRENCY, path: "/version", over: "loopback through the emulated fly-proxy", scenarios: loads } },
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
