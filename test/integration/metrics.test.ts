/**
 * `flightdeck metrics` on a real history: three deploys of a local test stack on the real engine
 * (one that succeeds, one stopped at its gate, one reverted after its switch), then the CLI's
 * table, --json and --svg, each checked against the deployment records those deploys left.
 */
import { execa } from "execa";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendStore } from "../../stacks/backend-store";
import { deploy } from "../../stacks/deploy";
import { percentile, type MetricsReport } from "../../stacks/metrics";
import { formatDuration } from "../../stacks/metrics-text";
import { readRecords, type DeploymentRecord } from "../../stacks/records";
import { projectDir } from "../../stacks/workspace";
import { FAST_DELIVERY, localTestStack, recordsDirOf, removeStackLeftovers } from "../support/local-stack";
import { allElements, parseXml, type XmlElement } from "../support/xml";
import { driverArgs } from "../support/driver";

const STACK = "test-metrics";
const BASE = 19000;
let env: Awaited<ReturnType<typeof localTestStack>>;
let records: DeploymentRecord[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "metrics-"));

const recordsDir = () => recordsDirOf(STACK);

function cli(...args: string[]) {
  return execa("node", driverArgs(projectDir, ...args), { cwd: projectDir, reject: false, timeout: 120_000 });
}

function markGroup(svg: XmlElement, name: string): XmlElement {
  const groups = allElements(svg).filter((e) => e.name === "g" && (e.attrs.class ?? "").split(" ").includes(name));
  expect(groups, name).toHaveLength(1);
  return groups[0]!;
}

describe("metrics of a real history", () => {
  beforeAll(async () => {
    if (!process.env.PULUMI_BACKEND_URL?.startsWith("file://")) throw new Error("this test cleans the file backend's directory: run it through scripts/engine.sh");
    env = await localTestStack(STACK, BASE, FAST_DELIVERY);
    fs.rmSync(recordsDir(), { recursive: true, force: true });
  });
  afterAll(async () => {
    await env?.cleanup();
    // `stack rm` leaves the stack's history and records in the file backend: this test's are its own.
    removeStackLeftovers(STACK);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const SLOW = 300_000;

  it("three deploys: one succeeds, one stops at its gate, one is reverted after its switch", async () => {
    expect((await deploy({ stack: STACK, release: "v1" })).outcome).toBe("succeeded");
    expect((await deploy({ stack: STACK, release: "v2-unhealthy" })).outcome).toBe("failed");
    // Fails 2.5 s after it starts: after its gate and the switch (as in deployment-records.test.ts).
    expect((await deploy({ stack: STACK, release: "v3-fails-after-2500ms" })).outcome).toBe("reverted");
    const store = backendStore(projectDir);
    try {
      records = (await readRecords(store, STACK)).records;
    } finally {
      await store.close();
    }
    expect(records.map((r) => r.outcome)).toEqual(["reverted", "failed", "succeeded"]);
  }, SLOW);

  it("--json: every figure from those records", { timeout: SLOW }, async () => {
    const run = await cli("metrics", "--stack", STACK, "--since", "1d", "--json");
    expect(run.exitCode, run.stderr).toBe(0);
    const m = JSON.parse(run.stdout) as MetricsReport;
    const [reverted, , v1] = records;
    const lead = Date.parse(v1!.switchedAt!) - Date.parse(v1!.commit!.time!);
    expect(lead).toBeGreaterThan(0);
    expect(m).toMatchObject({ stack: STACK, records: 3, totalRecords: 3, unreadable: 0 });
    // One deploy succeeded in a 1-day window; three set out to change something.
    expect(m.deploymentFrequency).toEqual({ deploys: 1, perDay: 1, perWeek: 7, basis: 3 });
    expect(m.leadTime).toMatchObject({ basis: 1, p50Ms: lead, p95Ms: lead });
    expect(m.leadTime.points).toEqual([{ startedAt: v1!.startedAt, release: "v1", sha: v1!.commit!.sha, ms: lead }]);
    // v1 and v3 took live traffic (v2 never did: its gate stopped it); v3 was reverted: 1 of 2.
    expect(m.changeFailureRate).toEqual({ basis: 2, failedChanges: 1, rate: 0.5, target: 0.05, met: false });
    expect(reverted!.trafficBackMs).toBeGreaterThanOrEqual(0);
    expect(m.timeToRestore).toMatchObject({ basis: 1, p50Ms: reverted!.trafficBackMs, unrestored: 0, met: true });
    expect(m.timeToRestore.points).toEqual([{ startedAt: reverted!.startedAt, how: "revert", release: "v3-fails-after-2500ms", ms: reverted!.trafficBackMs }]);
    const durations = records.map((r) => r.durationMs);
    expect(m.deployDuration).toMatchObject({ basis: 3, p50Ms: percentile(durations, 50), p95Ms: Math.max(...durations) });
  });

  it("the table and the chart say the same", { timeout: SLOW }, async () => {
    const svgFile = path.join(tmp, "metrics.svg");
    const run = await cli("metrics", "--stack", STACK, "--since", "1d", "--svg", svgFile);
    expect(run.exitCode, run.stderr).toBe(0);
    const d = records.map((r) => r.durationMs).sort((a, b) => a - b);
    expect(run.stdout).toMatch(/^deployment frequency\s+1\/day, 7\/week \(1 succeeded\)\s+3\s+-$/m);
    expect(run.stdout).toMatch(/^change failure rate\s+50% \(1 of 2 changes\)\s+2\s+< 5%\s+MISSED$/m);
    expect(run.stdout).toMatch(new RegExp(`^deploy duration\\s+p50 ${formatDuration(d[1]!)}, p95 ${formatDuration(d[2]!)}\\s+3\\s+-$`, "m"));
    expect(run.stdout).toContain(`chart written to ${svgFile}`);
    const svg = parseXml(fs.readFileSync(svgFile, "utf8"));
    expect(markGroup(svg, "record-points").children.map((p) => p.attrs["aria-label"]!.split(",")[0])).toEqual([
      "deploy v1 succeeded",
      "deploy v2-unhealthy failed",
      "deploy v3-fails-after-2500ms reverted",
    ]);
    expect(markGroup(svg, "lead-points").children).toHaveLength(1);
    expect(markGroup(svg, "restore-points").children).toHaveLength(1);
  });

  it("a bad --since is one line, exit 1, no stack trace", { timeout: SLOW }, async () => {
    const run = await cli("metrics", "--stack", STACK, "--since", "a week");
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim()).toBe('flightdeck: --since: expected a duration such as 12h, 7d or 30d (a whole number and m, h, d or w), found "a week"');
  });
});
