import { execa } from "execa";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeApi } from "../../components/local/haproxy-admin";
import { ERROR_LIMIT, liveMapPath, mapRoutesCanary } from "../../components/local/haproxy-config";
import { projectDir } from "../../stacks/workspace";
import { deploy } from "../../stacks/deploy";
import { rollback } from "../../stacks/rollback";
import { SPLIT, status } from "../../stacks/status";
import { localTestStack, versionAt, watchLive } from "../support/local-stack";
import { driverArgs } from "../support/driver";

// strategy: canary on the local platform, through the real engine and a real HAProxy: live traffic
// moves in weighted steps, each judged on HAProxy's own counters and log, and a failed step puts it
// back at once.
const STACK = "test-canary";
const BASE = 19400;
const STEPS = [10, 50];
let env: Awaited<ReturnType<typeof localTestStack>>;

const CLIENTS = 4;

/** Clients back to back on the live URL, so each step sees enough requests to judge. */
function load() {
  const clients = Array.from({ length: CLIENTS }, () => watchLive(env.url, 5));
  return {
    async stop() {
      const seen = await Promise.all(clients.map((c) => c.stop()));
      return {
        served: new Set(seen.flatMap((s) => [...s.served])),
        failures: seen.reduce((n, s) => n + s.failures, 0),
        requests: seen.reduce((n, s) => n + s.requests, 0),
      };
    },
  };
}

/** The router's record of its last switch's canary, from the stack's state. */
async function canaryReport(): Promise<string[]> {
  const state = await env.stack.exportStack();
  const resources = (state.deployment as { resources: { type: string; outputs?: { canaryReport?: unknown } }[] }).resources;
  const report = resources.find((r) => r.type.endsWith("flightdeck:LocalRouter"))?.outputs?.canaryReport;
  return Array.isArray(report) ? report.map(String) : [];
}

describe("canary on the local platform", () => {
  beforeAll(async () => {
    env = await localTestStack(STACK, BASE, {
      healthGate: { intervalMs: 200, healthyThreshold: 2, unhealthyThreshold: 2, timeoutMs: 1000, deadlineMs: 20000 },
      bakeSeconds: 2,
      bakeProbeIntervalMs: 250,
      strategy: "canary",
      canary: { steps: STEPS, pauseSeconds: 3, maxErrorRate: 0.01, maxP99Ratio: 2, p99SlackMs: 40 },
    });
  });
  afterAll(async () => env?.cleanup());

  it("a first deploy has no stable release to compare with: it switches at once", async () => {
    const r = await deploy({ stack: STACK, release: "v1" });
    expect(r.outcome).toBe("succeeded");
    expect(await versionAt(env.url)).toBe("v1");
  });

  it("a good release takes each step, judged on the router's figures, then all traffic", async () => {
    const watch = load();
    const started = Date.now();
    const r = await deploy({ stack: STACK, release: "v2" });
    const seen = await watch.stop();
    expect(r.outcome, r.reason).toBe("succeeded");
    expect(Date.now() - started).toBeGreaterThan(STEPS.length * 3000);
    expect(seen.failures).toBe(0);
    expect(await versionAt(env.url)).toBe("v2");
    const report = await canaryReport();
    expect(report).toHaveLength(STEPS.length);
    report.forEach((line, i) => expect(line).toMatch(new RegExp(`^passed at ${STEPS[i]}%: new release [1-9]\\d* requests, 0\\.00% errors, p99 \\d+ ms; stable [1-9]\\d* requests`)));
  });

  it("a release that fails on live answers is stopped at a step: traffic is back on the stable release and the state reverted", async () => {
    // Passes its gate, then answers 500 from 5 s after it starts: inside the canary's steps.
    const watch = load();
    const r = await deploy({ stack: STACK, release: "v3-fails-after-5000ms" });
    const seen = await watch.stop();
    expect(r.outcome).toBe("failed");
    expect(r.reason).toMatch(/^stopped by its canary: .*canary aborted at (10|50)%: (the router took the new release out \(DOWN|error rate over 1\.00%)/);
    // HAProxy takes a failing canary out after ERROR_LIMIT answers in a row; only its share saw
    // them, plus at most one request per other client already sent to it when it went out.
    expect(seen.failures).toBeLessThanOrEqual(ERROR_LIMIT + CLIENTS - 1);
    expect(seen.served.has("v2")).toBe(true);
    expect(await versionAt(env.url)).toBe("v2");
  });

  it("a release that answers but slowly is stopped on its p99 against the stable release's", async () => {
    const watch = load();
    // 600 ms late: far beyond what a stable release's p99 reaches on a busy 2-core machine.
    const r = await deploy({ stack: STACK, release: "v4-slow-600ms" });
    const seen = await watch.stop();
    expect(r.outcome).toBe("failed");
    expect(r.reason).toMatch(/canary aborted at 10%: p99 over \d+(\.\d+)? ms .*new release [1-9]\d* requests, 0\.00% errors, p99 [6-9]\d\d ms/);
    expect(seen.failures).toBe(0);
    expect(await versionAt(env.url)).toBe("v2");
  });

  it("a rollback switches at once: restores never go through canary steps", async () => {
    const started = Date.now();
    await rollback({ stack: STACK });
    expect(await versionAt(env.url)).toBe("v1");
    expect(Date.now() - started).toBeLessThan(STEPS.length * 3000 + 20_000);
    expect(await canaryReport()).toEqual([]);
  });

  it("a deploy killed with kill -9 during its canary steps leaves no split traffic once the next command recovers", async () => {
    const socket = path.join(projectDir, ".pulumi", "local", STACK, "haproxy", "admin.sock");
    const routesCanary = async () => mapRoutesCanary(await runtimeApi(socket, `show map ${liveMapPath(socket)}`).catch(() => ""));
    const child = execa("node", [...driverArgs(projectDir), "deploy", "--stack", STACK, "--release", "v5"], { cwd: projectDir, detached: true, reject: false, all: true });
    const deadline = Date.now() + 120_000;
    while (!(await routesCanary())) {
      if (Date.now() > deadline) throw new Error("the deploy never reached its canary steps");
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-child.pid!, "SIGKILL");
    await child;
    // The dead driver left live traffic split between v1 and v5, and status says so.
    expect(await routesCanary()).toBe(true);
    const seenBy = await status(STACK);
    expect(seenBy).toMatchObject({ routerLiveSlot: SPLIT, routerSeenBy: "router", consistent: false });

    const r = await deploy({ stack: STACK, release: "v1" });
    expect(r.steps.find((s) => s.name === "lock")?.detail).toMatch(/taken over from pid \d+/);
    expect(["succeeded", "unchanged"]).toContain(r.outcome);
    expect(await routesCanary()).toBe(false);
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 40; i++) seen.add(await versionAt(env.url));
    expect([...seen]).toEqual(["v1"]);
  });
});

describe("the canary-required policy on the real engine", () => {
  const POLICY_STACK = "test-canary-policy";
  const policyFile = path.join(projectDir, "policies", "config", `${POLICY_STACK}.json`);
  let policyEnv: Awaited<ReturnType<typeof localTestStack>>;
  const gate = { intervalMs: 200, healthyThreshold: 2, unhealthyThreshold: 2, timeoutMs: 1000, deadlineMs: 20000 };

  beforeAll(() => {
    // This stack's own policy config: the local one, with canary steps required.
    const local = JSON.parse(fs.readFileSync(path.join(projectDir, "policies", "config", "local.json"), "utf8")) as Record<string, unknown>;
    fs.writeFileSync(policyFile, JSON.stringify({ ...local, "canary-required": { enforcementLevel: "mandatory", maxFirstStepPercent: 10 } }, null, 2));
  });
  afterAll(async () => {
    await policyEnv?.cleanup();
    fs.rmSync(policyFile, { force: true });
  });

  it("refuses a stack that would switch at once, before anything changes, and lets it through with canary steps", async () => {
    policyEnv = await localTestStack(POLICY_STACK, BASE + 10, { healthGate: gate, bakeSeconds: 1 });
    const refused = await deploy({ stack: POLICY_STACK, release: "v1" });
    expect(refused.outcome).toBe("failed");
    expect(refused.reason).toMatch(/^refused before anything changed: .*canary-required/);
    expect(await versionAt(policyEnv.url)).toBeUndefined();

    policyEnv = await localTestStack(POLICY_STACK, BASE + 10, { healthGate: gate, bakeSeconds: 1, strategy: "canary", canary: { steps: [20], pauseSeconds: 1 } });
    const tooBig = await deploy({ stack: POLICY_STACK, release: "v1" });
    expect(tooBig.reason).toMatch(/first step gives a new release 20% of live traffic; this stack's policy allows at most 10%/);

    policyEnv = await localTestStack(POLICY_STACK, BASE + 10, { healthGate: gate, bakeSeconds: 1, strategy: "canary", canary: { steps: [5], pauseSeconds: 1 } });
    const r = await deploy({ stack: POLICY_STACK, release: "v1" });
    expect(r.outcome, r.reason).toBe("succeeded");
    expect(await versionAt(policyEnv.url)).toBe("v1");
  });
});

