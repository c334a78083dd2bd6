/**
 * `flightdeck metrics`: DORA's four keys and deploy duration from synthetic deployment records,
 * with every expected number counted by hand in the comments; `--since`; the chart is well-formed
 * SVG with one mark per record, lead time and restore, its titles and targets, and the same SVG
 * for the same records.
 */
import { describe, expect, it } from "vitest";
import { computeMetrics, deliveryMetrics, parseSince, percentile, type MetricsReport } from "../../stacks/metrics";
import { metricsChartSpec, renderMetricsSvg } from "../../stacks/metrics-chart";
import { formatDuration, formatMetrics } from "../../stacks/metrics-text";
import { buildRecord, type DeploymentRecord, type RecordFacts } from "../../stacks/records";
import { UsageError } from "../../stacks/usage-error";
import { allElements, parseXml, textOf, type XmlElement } from "../support/xml";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const NOW = T0 + DAY;

/**
 * A record at `at` lasting `s` seconds; a deploy that succeeded by default, its switch 15 s in,
 * from a commit made `commitAgo` ms before the record started.
 */
function rec(at: number, s: number, over: Partial<RecordFacts> & { commitAgo?: number } = {}): DeploymentRecord {
  const { commitAgo = 5 * MIN, ...facts } = over;
  const kind = facts.kind ?? "deploy";
  const outcome = facts.outcome ?? "succeeded";
  const switched = kind === "deploy" && (outcome === "succeeded" || outcome === "reverted");
  return buildRecord(
    { stack: "local", kind, outcome, release: "v1", startedAt: at, endedAt: at + s * 1000, steps: [], ...(switched ? { switchedAt: at + 15_000 } : {}), ...facts },
    { deployer: "alice", commit: { sha: "3f2a1bc4d5e6f7081920", time: new Date(at - commitAgo).toISOString() } },
  );
}

const metrics = (records: DeploymentRecord[], since = "7d") => computeMetrics(records, { stack: "local", since, sinceMs: parseSince(since), now: NOW });

/**
 * A known mixed history, oldest first (T0 = 2026-12-01T10:00Z, now = T0 + 1 day, window 7 days):
 *
 *  #  start    kind      release       outcome      secs  switch  commit before start  other
 *  0  T0-10d   deploy    v0            succeeded     99   +15s    5m                   outside the window
 *  1  T0       deploy    v1            succeeded     20   +15s    5m                   lead 5m + 15s  = 315 000 ms
 *  2  T0+1h    deploy    v2            succeeded     30   +20s    10m                  lead 10m + 20s = 620 000 ms
 *  3  T0+2h    deploy    v3-unhealthy  failed        40   -       1m                   stopped at its gate: not a change
 *  4  T0+3h    deploy    v4            reverted      50   +15s    2m                   trafficBackMs 1 500
 *  5  T0+4h    deploy    v4            unchanged      5   -       -                    not an attempt
 *  6  T0+5h    deploy    v5            succeeded     25   +18s    60m                  lead 60m + 18s = 3 618 000 ms
 *  7  T0+6h    rollback  v2            rolled back   12   -       -                    trafficMovedMs 900: undoes #6 (newest standing)
 *  8  T0+7h    up        v2            succeeded      8   -       -                    neither a deploy nor a restore
 *  9  T0+8h    deploy    v6            succeeded     35   +25s    3m                   lead 3m + 25s  = 205 000 ms
 *
 * In the window (#1–#9, 9 of 10 records):
 *  - attempts (deploys not unchanged): #1 #2 #3 #4 #6 #9 = 6; durations 20 25 30 35 40 50 s:
 *    p50 = 3rd of 6 = 30 s, p95 = 6th of 6 (ceil 5.7) = 50 s.
 *  - deployment frequency: succeeded #1 #2 #6 #9 = 4 over 7 days = 0.571/day, 4/week.
 *  - changes (took live traffic): #1 #2 #4 #6 #9 = 5; failed: #4 reverted + #6 undone by #7 = 2;
 *    rate 2/5 = 40% (target < 5%: missed).
 *  - lead times (succeeded, with commit time): 205 000, 315 000, 620 000, 3 618 000 ms:
 *    p50 = 2nd of 4 = 315 000 (5m 15s, met), p95 = 4th of 4 (ceil 3.8) = 3 618 000 (1h 00m).
 *  - restores: #4's revert 1 500 ms, #7's rollback of v5 900 ms: p50 = 900, p95 = 1 500 (met).
 */
function mixedHistory(): DeploymentRecord[] {
  return [
    rec(T0 - 10 * DAY, 99, { release: "v0" }),
    rec(T0, 20, { release: "v1" }),
    rec(T0 + HOUR, 30, { release: "v2", switchedAt: T0 + HOUR + 20_000, commitAgo: 10 * MIN }),
    rec(T0 + 2 * HOUR, 40, { release: "v3-unhealthy", outcome: "failed", commitAgo: MIN }),
    rec(T0 + 3 * HOUR, 50, { release: "v4", outcome: "reverted", trafficBackMs: 1500, commitAgo: 2 * MIN }),
    rec(T0 + 4 * HOUR, 5, { release: "v4", outcome: "unchanged" }),
    rec(T0 + 5 * HOUR, 25, { release: "v5", switchedAt: T0 + 5 * HOUR + 18_000, commitAgo: 60 * MIN }),
    rec(T0 + 6 * HOUR, 12, { kind: "rollback", outcome: "rolled back", release: "v2", trafficMovedMs: 900 }),
    rec(T0 + 7 * HOUR, 8, { kind: "up", release: "v2" }),
    rec(T0 + 8 * HOUR, 35, { release: "v6", switchedAt: T0 + 8 * HOUR + 25_000, commitAgo: 3 * MIN }),
  ].reverse(); // newest first, as readRecords gives them: the order must not matter
}

describe("--since", () => {
  it("takes a whole number of minutes, hours, days or weeks", () => {
    expect(parseSince("7d")).toBe(7 * DAY);
    expect(parseSince("30d")).toBe(30 * DAY);
    expect(parseSince("12h")).toBe(12 * HOUR);
    expect(parseSince("90m")).toBe(90 * MIN);
    expect(parseSince("2w")).toBe(14 * DAY);
  });

  it.each(["", "7", "d", "0d", "-1d", "1.5d", "7 days", "7D", "30x", "1e3d"])("refuses %j with one UsageError that says what it expects", (bad) => {
    let err: unknown;
    try {
      parseSince(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(`--since: expected a duration such as 12h, 7d or 30d (a whole number and m, h, d or w), found "${bad}"`);
  });
});

describe("percentiles (nearest rank)", () => {
  it("are values of the set, and undefined for none", () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([40, 10, 30, 20], 50)).toBe(20);
    expect(percentile([40, 10, 30, 20], 95)).toBe(40);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
  });
});

describe("metrics from records", () => {
  it("an empty window: every figure is no data, never NaN", () => {
    const m = metrics([]);
    expect(m).toMatchObject({
      records: 0,
      deploymentFrequency: { deploys: 0, perDay: null, perWeek: null, basis: 0 },
      leadTime: { basis: 0, p50Ms: null, p95Ms: null, met: null },
      changeFailureRate: { basis: 0, rate: null, met: null },
      timeToRestore: { basis: 0, p50Ms: null, unrestored: 0 },
      deployDuration: { basis: 0, p50Ms: null },
    });
    const text = formatMetrics(m);
    expect(text).not.toMatch(/NaN|Infinity|undefined/);
    expect(text.match(/no data/g)).toHaveLength(5);
    expect(JSON.stringify(m)).not.toMatch(/NaN/);
  });

  it("one deploy: 1 in 30 days, its lead time, no failure, no restore", () => {
    // Commit 5 min before the start, switch 15 s in: lead 315 000 ms; 20 s long.
    const m = metrics([rec(T0, 20)], "30d");
    expect(m.deploymentFrequency).toEqual({ deploys: 1, perDay: 1 / 30, perWeek: 7 / 30, basis: 1 });
    expect(m.leadTime).toMatchObject({ basis: 1, p50Ms: 315_000, p95Ms: 315_000, targetMs: 30 * MIN, met: true });
    expect(m.changeFailureRate).toMatchObject({ basis: 1, failedChanges: 0, rate: 0, met: true });
    expect(m.timeToRestore).toMatchObject({ basis: 0, p50Ms: null, met: null });
    expect(m.deployDuration).toMatchObject({ basis: 1, p50Ms: 20_000, p95Ms: 20_000, targetMs: null, met: null });
  });

  it("all failed at their gate: no change reached users, so no failure rate and no lead time", () => {
    const m = metrics([rec(T0, 40, { outcome: "failed" }), rec(T0 + HOUR, 41, { outcome: "failed" }), rec(T0 + 2 * HOUR, 42, { outcome: "failed" })]);
    expect(m.deploymentFrequency).toEqual({ deploys: 0, perDay: 0, perWeek: 0, basis: 3 });
    expect(m.leadTime.basis).toBe(0);
    expect(m.changeFailureRate).toMatchObject({ basis: 0, failedChanges: 0, rate: null, met: null });
    expect(m.timeToRestore.basis).toBe(0);
    expect(m.deployDuration).toMatchObject({ basis: 3, p50Ms: 41_000, p95Ms: 42_000 });
    expect(formatMetrics(m)).toMatch(/^change failure rate\s+no data\s+0\s+< 5%$/m);
  });

  it("a revert followed by a rollback: two failed changes, two restores, told apart", () => {
    // v1, v2 succeed; v3 reverted (traffic back 2 s after the first failed probe); a rollback
    // (traffic moved in 0.7 s) undoes v2, the newest deploy still standing. Changes: v1 v2 v3.
    const m = metrics([
      rec(T0, 20, { release: "v1" }),
      rec(T0 + HOUR, 20, { release: "v2" }),
      rec(T0 + 2 * HOUR, 30, { release: "v3", outcome: "reverted", trafficBackMs: 2000 }),
      rec(T0 + 3 * HOUR, 10, { kind: "rollback", outcome: "rolled back", release: "v1", trafficMovedMs: 700 }),
    ]);
    expect(m.changeFailureRate).toMatchObject({ basis: 3, failedChanges: 2, rate: 2 / 3, met: false });
    expect(m.timeToRestore.points).toEqual([
      { startedAt: new Date(T0 + 2 * HOUR).toISOString(), how: "revert", release: "v3", ms: 2000 },
      { startedAt: new Date(T0 + 3 * HOUR).toISOString(), how: "rollback", release: "v2", ms: 700 },
    ]);
    expect(m.timeToRestore).toMatchObject({ basis: 2, p50Ms: 700, p95Ms: 2000, met: true, unrestored: 0 });
  });

  it("restores without the traffic timings: the revert from its switch to its end, the rollback its whole duration; a failure with nothing to go back to is not restored", () => {
    const m = metrics([
      rec(T0, 20, { release: "v1" }),
      // Switched 15 s in, the revert ended at 60 s: 45 s from the switch.
      rec(T0 + HOUR, 60, { release: "v2", outcome: "reverted" }),
      rec(T0 + 2 * HOUR, 20, { release: "v3" }),
      rec(T0 + 3 * HOUR, 33, { kind: "rollback", outcome: "rolled back", release: "v1" }),
      rec(T0 + 4 * HOUR, 20, { release: "v9", outcome: "failed", switchedAt: T0 + 4 * HOUR + 10_000 }),
    ]);
    expect(m.timeToRestore.points.map((p) => [p.how, p.release, p.ms])).toEqual([
      ["revert", "v2", 45_000],
      ["rollback", "v3", 33_000],
    ]);
    expect(m.timeToRestore.unrestored).toBe(1);
    // v1 v2 v3 v9 took traffic; v2 reverted, v3 rolled back, v9 failed after its switch.
    expect(m.changeFailureRate).toMatchObject({ basis: 4, failedChanges: 3 });
    expect(formatMetrics(m)).toMatch(/^time to restore\s+p50 33\.0s, p95 45\.0s; 1 not restored\s+2\s+p50 < 15 min\s+met$/m);
  });

  it("a known mixed history: every figure as counted by hand (see mixedHistory)", () => {
    const m = metrics(mixedHistory());
    expect(m.window).toEqual({ since: "7d", from: new Date(NOW - 7 * DAY).toISOString(), to: new Date(NOW).toISOString(), days: 7 });
    expect(m).toMatchObject({ records: 9, totalRecords: 10, unreadable: 0 });
    expect(m.deploymentFrequency).toEqual({ deploys: 4, perDay: 4 / 7, perWeek: 4, basis: 6 });
    expect(m.leadTime).toMatchObject({ basis: 4, p50Ms: 315_000, p95Ms: 3_618_000, targetMs: 1_800_000, met: true });
    expect(m.leadTime.points.map((p) => [p.release, p.ms])).toEqual([
      ["v1", 315_000],
      ["v2", 620_000],
      ["v5", 3_618_000],
      ["v6", 205_000],
    ]);
    expect(m.changeFailureRate).toEqual({ basis: 5, failedChanges: 2, rate: 0.4, target: 0.05, met: false });
    expect(m.timeToRestore).toMatchObject({ basis: 2, p50Ms: 900, p95Ms: 1500, targetMs: 900_000, met: true, unrestored: 0 });
    expect(m.timeToRestore.points.map((p) => [p.how, p.release, p.ms])).toEqual([
      ["revert", "v4", 1500],
      ["rollback", "v5", 900],
    ]);
    expect(m.deployDuration).toEqual({ basis: 6, p50Ms: 30_000, p95Ms: 50_000, targetMs: null, met: null });
    expect(m.delivery).toEqual(deliveryMetrics(mixedHistory().slice(0, 9)));
    expect(m.delivery).toMatchObject({ deploys: 6, succeeded: 4, reverted: 1, failed: 1, unchanged: 1, rollbacks: 1, changes: 5, failedChanges: 2, medianDeployMs: 30_000 });
  });

  it("the text table: each figure, its record count and its target", () => {
    const lines = formatMetrics(metrics(mixedHistory())).split("\n");
    expect(lines[0]).toBe("local: the last 7d (2026-11-25T10:00:00.000Z → 2026-12-02T10:00:00.000Z), 9 deployment record(s)");
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^deployment frequency\s+0\.57\/day, 4\/week \(4 succeeded\)\s+6\s+-$/),
        expect.stringMatching(/^lead time for changes\s+p50 5m 15s, p95 1h 00m\s+4\s+p50 < 30 min\s+met$/),
        expect.stringMatching(/^change failure rate\s+40% \(2 of 5 changes\)\s+5\s+< 5%\s+MISSED$/),
        expect.stringMatching(/^time to restore\s+p50 900ms, p95 1\.5s\s+2\s+p50 < 15 min\s+met$/),
        expect.stringMatching(/^deploy duration\s+p50 30\.0s, p95 50\.0s\s+6\s+-$/),
        "1 older record(s) outside the window",
      ]),
    );
  });

  it("durations read as people say them", () => {
    expect([850, 1500, 59_949, 245_000, 3_618_000, 7_380_000, 3 * DAY + 4 * HOUR].map(formatDuration)).toEqual(["850ms", "1.5s", "59.9s", "4m 05s", "1h 00m", "2h 03m", "3d 04h"]);
  });
});

/** The `<g>` of a named mark: its children are the mark's items. */
function markGroup(svg: XmlElement, name: string): XmlElement {
  const groups = allElements(svg).filter((e) => e.name === "g" && (e.attrs.class ?? "").split(" ").includes(name));
  expect(groups, name).toHaveLength(1);
  return groups[0]!;
}

describe("the chart", () => {
  const render = (records: DeploymentRecord[], since = "7d") => renderMetricsSvg(metrics(records, since), records);

  it("is well-formed SVG with one mark per record, lead time and restore in the window, titled, the targets drawn", async () => {
    const svg = parseXml(await render(mixedHistory()));
    expect(svg.name).toBe("svg");
    expect(svg.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    // 9 records in the window (the 10th is older): 9 symbols, each labelled with its record.
    const points = markGroup(svg, "record-points").children;
    expect(points).toHaveLength(9);
    expect(points.every((p) => p.name === "path")).toBe(true);
    expect(points.map((p) => p.attrs["aria-label"]!.split(",")[0])).toEqual([
      "deploy v1 succeeded",
      "deploy v2 succeeded",
      "deploy v3-unhealthy failed",
      "deploy v4 reverted",
      "deploy v4 unchanged",
      "deploy v5 succeeded",
      "rollback v2 rolled back",
      "up v2 succeeded",
      "deploy v6 succeeded",
    ]);
    // Coloured by outcome: the reverted one orange, the failed one red.
    expect(points[3]!.attrs.fill).toBe("#ef6c00");
    expect(points[2]!.attrs.fill).toBe("#c62828");
    expect(markGroup(svg, "lead-points").children).toHaveLength(4);
    expect(markGroup(svg, "restore-points").children).toHaveLength(2);
    expect(markGroup(svg, "lead-target").children).toHaveLength(1);
    expect(textOf(markGroup(svg, "lead-target-label"))).toBe("target < 30 min");
    expect(textOf(markGroup(svg, "restore-target-label"))).toBe("target < 15 min");
    const titles = allElements(svg).filter((e) => (e.attrs.class ?? "").includes("role-title")).map(textOf).join("\n");
    expect(titles).toContain("Delivery metrics: local, the last 7d (9 records)");
    expect(titles).toContain("change failure rate 40% (2 of 5 changes) · target < 5%");
    expect(titles).toContain("Lead time for changes");
    expect(titles).toContain("Time to restore");
    expect(allElements(svg).some((e) => e.attrs.class?.includes("no-data"))).toBe(false);
  });

  it("is the same SVG for the same records, and different for different ones", async () => {
    const a = await render(mixedHistory());
    expect(await render(mixedHistory())).toBe(a);
    expect(await render(mixedHistory().slice(1))).not.toBe(a);
  });

  it("says no data in each panel of an empty window, and holds no NaN", async () => {
    const text = await render([]);
    const svg = parseXml(text);
    expect(markGroup(svg, "record-points").children).toHaveLength(0);
    expect(allElements(svg).filter((e) => e.attrs.class?.split(" ").includes("no-data")).map(textOf)).toEqual(["no data", "no data", "no data"]);
    expect(text).not.toMatch(/NaN/);
  });

  it("the spec uses the report's window, not the clock: records outside it are not drawn", () => {
    const records = mixedHistory();
    const spec = metricsChartSpec(metrics(records, "2h"), records);
    // now = T0 + 24 h: a 2 h window holds none of the records (the newest started at T0 + 8 h).
    expect(spec.data?.find((d) => d.name === "records")).toMatchObject({ values: [] });
  });
});

// The report is a documented shape: a compile-time check that --json's keys stay as docs/metrics.md lists them.
const _keys: (keyof MetricsReport)[] = ["stack", "window", "records", "totalRecords", "unreadable", "deploymentFrequency", "leadTime", "changeFailureRate", "timeToRestore", "deployDuration", "delivery"];
void _keys;
