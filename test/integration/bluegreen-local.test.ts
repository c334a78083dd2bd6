import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeployLockedError } from "../../stacks/deploy-lock";
import { deploy } from "../../stacks/deploy";
import { rollback } from "../../stacks/rollback";
import { status } from "../../stacks/status";
import { projectDir } from "../../stacks/workspace";
import { killSlotProcess, localTestStack, versionAt, watchLive } from "../support/local-stack";
import { ERROR_LIMIT } from "../../components/local/haproxy-config";
import { setLiveSlot } from "../../components/local/haproxy-admin";
import { driverArgs } from "../support/driver";

// Blue/green on the local platform, through the real engine and a real HAProxy.
const STACK = "test-bg";
const BASE = 18300;
let env: Awaited<ReturnType<typeof localTestStack>>;

const fast = {
  healthGate: { intervalMs: 200, healthyThreshold: 3, unhealthyThreshold: 2, timeoutMs: 1000, deadlineMs: 20000 },
  bakeSeconds: 6,
  bakeProbeIntervalMs: 250,
  bakeUnhealthyThreshold: 2,
};

describe("blue/green on the local platform", () => {
  beforeAll(async () => {
    env = await localTestStack(STACK, BASE, fast);
  });
  afterAll(async () => env?.cleanup());

  it("a first deploy puts the release live on blue", async () => {
    const r = await deploy({ stack: STACK, release: "v1" });
    expect(r.outcome).toBe("succeeded");
    expect(r.liveSlot).toBe("blue");
    expect(await versionAt(env.url)).toBe("v1");
  });

  it("a good deploy switches to the idle slot and keeps the old one warm", async () => {
    const watch = watchLive(env.url);
    const r = await deploy({ stack: STACK, release: "v2" });
    const seen = await watch.stop();
    expect(r.outcome).toBe("succeeded");
    expect(r.liveSlot).toBe("green");
    expect(await versionAt(env.url)).toBe("v2");
    expect(await versionAt(env.slotUrl("blue"))).toBe("v1");
    expect(seen.failures).toBe(0);
  });

  it("a release that fails its health gate is never live", async () => {
    const watch = watchLive(env.url);
    const r = await deploy({ stack: STACK, release: "v3-unhealthy" });
    const seen = await watch.stop();
    expect(r.outcome).toBe("failed");
    expect(r.reason).toMatch(/health gate closed for release v3-unhealthy/);
    expect(seen.served.has("v3-unhealthy")).toBe(false);
    expect(seen.failures).toBe(0);
    expect(await versionAt(env.url)).toBe("v2");
  });

  it("a release that fails after the switch is reverted automatically, traffic first", async () => {
    // Fails 5 s after it starts: after its gate (about 0.6 s) and the switch, inside the 6 s bake,
    // with seconds of margin either side for a slow machine.
    // Users keep asking (every 10 ms: faster than the bake's probes, as real traffic is).
    const watch = watchLive(env.url, 10);
    const r = await deploy({ stack: STACK, release: "v4-fails-after-5000ms" });
    const seen = await watch.stop();
    expect(r.outcome).toBe("reverted");
    // HAProxy saw the failed live answers and moved traffic by itself, before the bake's probes:
    // users saw about its error limit of failures (one client here: nothing else in flight).
    expect(r.reason).toMatch(/HAProxy took (blue|green) out after failed live answers/);
    expect(seen.failures).toBeGreaterThan(0);
    expect(seen.failures).toBeLessThanOrEqual(ERROR_LIMIT + 1);
    expect(r.steps.find((s) => s.name === "traffic back")?.detail).toMatch(/the router had moved it at once/);
    expect(r.steps.map((s) => s.name)).toEqual(expect.arrayContaining(["traffic back", "revert"]));
    const trafficBack = r.steps.findIndex((s) => s.name === "traffic back");
    const revertUp = r.steps.findIndex((s) => s.name === "revert");
    expect(trafficBack).toBeLessThan(revertUp);
    expect(r.trafficBackMs).toBeLessThan(3000);
    expect(await versionAt(env.url)).toBe("v2");
    const s = await status(STACK);
    expect(s).toMatchObject({ release: "v2", liveSlot: "green", routerLiveSlot: "green", consistent: true, healthy: true });
  });

  it("rollback restores the previous release from history", async () => {
    const r = await rollback({ stack: STACK });
    expect(r.to).toMatchObject({ liveSlot: "blue", slots: { blue: { release: "v1" }, green: { release: "v2" } } });
    expect(await versionAt(env.url)).toBe("v1");
    // Traffic moved from the last deploy's record, before the engine was asked anything; history confirmed it.
    const names = r.steps.map((s) => s.name);
    const first = r.steps.find((s) => s.name === "traffic first");
    expect(first).toMatchObject({ status: "ok", detail: expect.stringMatching(/v1 on blue takes live traffic \(the last record's warm slot/) });
    expect(names.indexOf("traffic first")).toBeLessThan(names.indexOf("open stack"));
    expect(names).not.toContain("traffic back");
  });

  it("a rollback whose last record no longer says where the router points moves traffic only after reading the state", async () => {
    const spec = (await env.stack.outputs()).trafficSwitch.value as { socketPath: string };
    await setLiveSlot(spec.socketPath, "green"); // out of band: the record says blue
    const r = await rollback({ stack: STACK });
    const first = r.steps.find((s) => s.name === "traffic first");
    expect(first).toMatchObject({ status: "skipped", detail: expect.stringMatching(/the router points at green, not blue as the last record says/) });
    expect(r.to).toMatchObject({ liveSlot: "green", slots: { green: { release: "v2" } } });
    expect(await versionAt(env.url)).toBe("v2");
  });

  it("a rollback whose warm slot was killed (kill -9) starts it again through the gate instead of failing", async () => {
    // Live: v2 on green; warm: v1 on blue. Kill blue's process out of band.
    await killSlotProcess(env.stack, "blue");

    const r = await rollback({ stack: STACK });
    expect(r.to).toMatchObject({ liveSlot: "blue", slots: { blue: { release: "v1" }, green: { release: "v2" } } });
    const skipped = r.steps.filter((s) => s.name === "traffic first");
    expect(skipped.length).toBeGreaterThan(0);
    for (const s of skipped) expect(s.status).toBe("skipped");
    expect(skipped.at(-1)?.detail).toMatch(/warm slot blue does not serve v1 .*: the update starts it again \(refresh first\)/);
    expect(r.trafficMovedMs).toBeUndefined();
    expect(await versionAt(env.url)).toBe("v1");
    const s = await status(STACK);
    expect(s.consistent).toBe(true);
    expect(s.healthy).toBe(true);
  });

  it("a concurrent deploy of the same stack is refused, naming the holder", async () => {
    const first = deploy({ stack: STACK, release: "v5" });
    await new Promise((r) => setTimeout(r, 200));
    await expect(deploy({ stack: STACK, release: "v6" })).rejects.toThrow(DeployLockedError);
    await expect(deploy({ stack: STACK, release: "v6" })).rejects.toThrow(new RegExp(`pid ${process.pid}`));
    expect((await first).outcome).toBe("succeeded");
  });

  it("a deploy killed with kill -9 during up is recovered by the next deploy", async () => {
    const child = execa("node", [...driverArgs(projectDir), "deploy", "--stack", STACK, "--release", "v7", "--verbose"], {
      cwd: projectDir,
      detached: true,
      reject: false,
      all: true,
    });
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the deploy never reached up:\n${output}`)), 90_000);
      child.all!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        // Kill inside the update, while the engine is changing resources.
        if (/Updating \(/.test(output) && /creating|updating|replacing/.test(output.split("Updating (").pop()!)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    process.kill(-child.pid!, "SIGKILL");
    await child;

    const r = await deploy({ stack: STACK, release: "v7" });
    const lock = r.steps.find((s) => s.name === "lock");
    expect(lock?.detail).toMatch(/taken over from pid \d+/);
    const recover = r.steps.find((s) => s.name === "recover");
    expect(recover?.detail).toMatch(/cleared/);
    expect(["succeeded", "unchanged"]).toContain(r.outcome);
    expect(await versionAt(env.url)).toBe("v7");
  });
});
