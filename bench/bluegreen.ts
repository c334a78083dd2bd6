/**
 * Blue/green on the local stack under steady load: good deploy, gated bad release, post-switch
 * failure, rollback (in process, then as typed: `npm run rollback`). Prints each figure beside its
 * target; writes bench/results/bluegreen.json and bench/results/bluegreen.md. Run: npm run bench
 * (or scripts/engine.sh npx tsx bench/bluegreen.ts)
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { deploy } from "../stacks/deploy";
import { liveSpec } from "../stacks/plan";
import { rollback } from "../stacks/rollback";
import { benchStack } from "./bench-stack";
import type { LoadSample } from "./load";
import { figure, writeResults, type Figure } from "./results";
import { withWrk } from "./wrk";
import { stopProgramHosts } from "../stacks/program-host";

/**
 * Each measured command starts as a command from the shell does: without a program host left warm
 * by the one before (stacks/program-host), so no figure gains from the benchmark's long-lived driver.
 */
function deployAsCommand(opts: Parameters<typeof deploy>[0]) {
  stopProgramHosts();
  return deploy(opts);
}
function rollbackAsCommand(opts: Parameters<typeof rollback>[0]) {
  stopProgramHosts();
  return rollback(opts);
}

/** A command run from the project's root as a shell runs it: its wall time, exit code and output. */
function timedCommand(command: string, args: string[]): Promise<{ ms: number; code: number; output: string }> {
  const started = Date.now();
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr.on("data", (b: Buffer) => (output += b.toString()));
  return new Promise((resolve) => {
    child.on("error", (e) => resolve({ ms: Date.now() - started, code: -1, output: `${output}\n${e.message}` }));
    child.on("close", (code) => resolve({ ms: Date.now() - started, code: code ?? -1, output }));
  });
}

const RATE = Number(process.env.BENCH_RATE ?? 250);
const root = path.resolve(__dirname, "..");
const STACK = "test-bench-bluegreen";


interface LoadRun {
  rate: number;
  durationMs: number;
  samples: LoadSample[];
}

// (node:child_process rather than execa: execa is ESM-only and this runs as CommonJS under tsx.)
async function startLoad(url: string): Promise<{ stop(): Promise<LoadRun> }> {
  const child = spawn(path.join(root, "node_modules/.bin/tsx"), [path.join(__dirname, "load.ts"), url, String(RATE)], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.setEncoding("utf8");
  await new Promise<void>((resolve) => child.stdout.once("data", (d: string) => ((stdout += d), resolve())));
  child.stdout.on("data", (d: string) => (stdout += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    async stop() {
      child.stdin.write("stop\n");
      await exited;
      const lines = stdout.trim().split("\n");
      return JSON.parse(lines[lines.length - 1]) as LoadRun;
    },
  };
}

const failed = (s: LoadSample) => s.status !== 200;

async function main(): Promise<void> {
  const figures: Figure[] = [];
  const loads: Record<string, { requests: number; failed: number; achievedRps: number }> = {};
  const record = (scenario: string, run: LoadRun) => {
    loads[scenario] = {
      requests: run.samples.length,
      failed: run.samples.filter(failed).length,
      achievedRps: Math.round((run.samples.length / run.durationMs) * 1000),
    };
  };
  const env = await benchStack(STACK, 18400);
  try {
    // 1. A good deploy.
    let load = await startLoad(env.url);
    const good = await deployAsCommand({ stack: STACK, release: "v2" });
    let run = await load.stop();
    record("good deploy", run);
    const oldLast = Math.max(...run.samples.filter((s) => s.version === "v1").map((s) => s.t + s.ms));
    const newFirst = Math.min(...run.samples.filter((s) => s.version === "v2").map((s) => s.t + s.ms));
    figures.push(figure("good deploy: failed requests", run.samples.filter(failed).length, "req", "0", run.samples.filter(failed).length === 0));
    figures.push(figure("good deploy: switch overlap (last old − first new answer)", Math.max(0, oldLast - newFirst), "ms", "≤ 1000", oldLast - newFirst <= 1000));
    // Issue 12's targets: a deploy ≤ 12 s with its 5 s bake; a rollback moves traffic in ≤ 0.3 s and ends in ≤ 5 s.
    figures.push(figure("good deploy: wall time (5 s bake)", good.durationMs / 1000, "s", "≤ 12", good.outcome === "succeeded" && good.durationMs <= 12_000));

    // 2. A bad release, rejected by the gate.
    load = await startLoad(env.url);
    const bad = await deployAsCommand({ stack: STACK, release: "v3-unhealthy" });
    run = await load.stop();
    record("bad release", run);
    const badServed = run.samples.filter((s) => s.version === "v3-unhealthy").length;
    figures.push(figure("bad release: failed requests", run.samples.filter(failed).length, "req", "0", run.samples.filter(failed).length === 0));
    figures.push(figure("bad release: live requests it served", badServed, "req", "0", badServed === 0 && bad.outcome === "failed"));

    // 3. Passes the gate, fails after the switch (during the bake).
    load = await startLoad(env.url);
    const late = await deployAsCommand({ stack: STACK, release: "v4-fails-after-5000ms" });
    run = await load.stop();
    record("post-switch failure", run);
    const back = late.trafficBackMs ?? Number.NaN;
    const firstBad = Math.min(...run.samples.filter(failed).map((s) => s.t));
    const lastBad = Math.max(...run.samples.filter(failed).map((s) => s.t));
    figures.push(figure("post-switch failure: first failed probe → traffic back", back / 1000, "s", "≤ 3", late.outcome === "reverted" && back <= 3000));
    figures.push(figure("post-switch failure: failed requests in that window", run.samples.filter(failed).length, "req", "report", true));
    figures.push(figure("post-switch failure: users saw failures for", Number.isFinite(lastBad - firstBad) ? (lastBad - firstBad) / 1000 : 0, "s", "report", true));

    // 3b. The same failure under saturating load (wrk, 50 connections): what the router's own
    // failover costs users at full speed. Skipped, saying so, where wrk is not installed.
    const saturated = await withWrk(`${env.url}/version`, () => deployAsCommand({ stack: STACK, release: "v4-fails-after-5000ms" }));
    if (typeof saturated === "string") {
      console.log(`skipped: post-switch failure under wrk: ${saturated}`);
    } else {
      const { result: again, wrk } = saturated;
      figures.push(figure("post-switch failure under wrk -c50: failed requests", wrk.failed, "req", "≤ 100", again.outcome === "reverted" && wrk.failed <= 100));
      figures.push(figure("post-switch failure under wrk -c50: requests/s", Math.round(wrk.rps), "req/s", "≥ 20000 (report)", true));
      figures.push(figure("post-switch failure under wrk -c50: p99", wrk.p99Ms, "ms", "report", true));
    }

    // 4. Rollback to the previous state (its slot is warm).
    load = await startLoad(env.url);
    const rb = await rollbackAsCommand({ stack: STACK });
    run = await load.stop();
    record("rollback", run);
    const moved = rb.trafficMovedMs ?? rb.durationMs;
    figures.push(figure("rollback: until live traffic is on the previous release", moved / 1000, "s", "≤ 0.3", moved <= 300));
    figures.push(figure("rollback: wall time (stack reconciled)", rb.durationMs / 1000, "s", "≤ 5", rb.durationMs <= 5_000));
    figures.push(figure("rollback: failed requests", run.samples.filter(failed).length, "req", "0", run.samples.filter(failed).length === 0));

    // 5. Rolling forward again to the release rolled back from: it stayed warm, so this is a switch.
    const rolledBackFrom = rb.from ? liveSpec(rb.from).release : "v2";
    const warmSlot = rb.from?.liveSlot ?? "green";
    const pidFile = path.join(__dirname, "..", ".pulumi", "local", STACK, "run", `slot-${warmSlot}.pid`);
    const pidBefore = fs.readFileSync(pidFile, "utf8").trim();
    load = await startLoad(env.url);
    const forward = await deployAsCommand({ stack: STACK, release: rolledBackFrom });
    run = await load.stop();
    record("roll forward", run);
    // The same process serves it: the slot was kept warm, not started again.
    const replaced = fs.readFileSync(pidFile, "utf8").trim() !== pidBefore;
    console.log(`roll forward: ${rolledBackFrom} on ${warmSlot}, process ${replaced ? "restarted" : `kept (pid ${pidBefore})`}`);
    figures.push(figure("roll forward to the release rolled back from: wall time", forward.durationMs / 1000, "s", "≤ 12", forward.outcome === "succeeded" && forward.durationMs <= 12_000 && !replaced));
    figures.push(figure("roll forward: failed requests", run.samples.filter(failed).length, "req", "0", run.samples.filter(failed).length === 0));

    // 6. Rollback as an operator types it: npm, scripts/engine.sh and the compiled driver
    // (scripts/driver.cjs) all start before the rollback does; issue 12's "command ≤ 5 s".
    load = await startLoad(env.url);
    const typed = await timedCommand("npm", ["run", "-s", "rollback", "--", "--stack", STACK]);
    run = await load.stop();
    record("rollback as typed", run);
    const rolledBack = typed.code === 0 && /ROLLED BACK/.test(typed.output);
    if (!rolledBack) console.log(`npm run rollback exited ${typed.code}:\n${typed.output}`);
    figures.push(figure("rollback as typed (npm run rollback): wall time", typed.ms / 1000, "s", "≤ 5", rolledBack && typed.ms <= 5_000));
    figures.push(figure("rollback as typed: failed requests", run.samples.filter(failed).length, "req", "0", run.samples.filter(failed).length === 0));
  } finally {
    await env.cleanup();
  }

  writeResults(
    "bluegreen",
    "Blue/green on the local stack",
    `Steady load of ${RATE} requests/s over loopback through HAProxy during each scenario`,
    figures,
    { load: { targetRps: RATE, path: "/version", over: "loopback through HAProxy", scenarios: loads } },
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
