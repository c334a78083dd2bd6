import type { Spec } from "vega";
import { inWindow, TARGETS, type MetricsReport, type PercentileFigure } from "./metrics";
import { formatDuration } from "./metrics-text";
import { OUTCOMES, type DeploymentRecord } from "./records";

/**
 * The metrics as an SVG chart, drawn with Vega headless (no browser, no canvas): three panels on
 * one time axis — every record in the window (duration, coloured by outcome, shaped by kind), the
 * lead time of each successful deploy, and each restore — with the team's targets drawn as rules.
 * Everything the chart shows comes from the report and the records, never from the clock, so the
 * same records give the same SVG (a test compares them).
 */

const WIDTH = 720;
const HEIGHT = 140;
const OUTCOME_COLOURS: Record<(typeof OUTCOMES)[number], string> = {
  succeeded: "#2e7d32",
  unchanged: "#9e9e9e",
  reverted: "#ef6c00",
  failed: "#c62828",
  "rolled back": "#1565c0",
};
const KINDS = ["deploy", "rollback", "up"] as const;
const TARGET_COLOUR = "#c62828";

/** Log-axis ticks in seconds, labelled by `TICK_LABEL`: 1 s … 1 week, and each panel's target. */
const TICKS_S = [1, 10, 60, 300, 4 * 3600, 86_400, 604_800];
const TICK_LABEL =
  "datum.value < 60 ? datum.value + ' s' : datum.value < 3600 ? datum.value / 60 + ' min' : datum.value < 86400 ? datum.value / 3600 + ' h' : datum.value / 86400 + ' d'";

/** The x domain: the records' span, padded (at least 2 minutes each side, so a single record has room). */
function timeDomain(records: readonly DeploymentRecord[], report: MetricsReport): [number, number] {
  const times = records.flatMap((r) => [Date.parse(r.startedAt), Date.parse(r.endedAt)]);
  if (times.length === 0) return [Date.parse(report.window.from), Date.parse(report.window.to)];
  const lo = Math.min(...times);
  const hi = Math.max(...times);
  const pad = Math.max((hi - lo) * 0.05, 2 * 60_000);
  return [lo - pad, hi + pad];
}

/** A log domain in seconds that holds the values and the target with room above. */
function logDomain(valuesS: readonly number[], targetS: number): [number, number] {
  const lo = Math.min(1, ...valuesS) / 2;
  const hi = Math.max(targetS * 2, ...valuesS.map((v) => v * 2));
  return [Math.max(lo, 0.01), hi];
}

type Mark = NonNullable<Spec["marks"]>[number];

function noData(show: boolean): Mark[] {
  return show
    ? [{ type: "text", name: "no-data", encode: { enter: { x: { value: WIDTH / 2 }, y: { value: HEIGHT / 2 }, text: { value: "no data" }, align: { value: "center" }, fontSize: { value: 14 }, fill: { value: "#757575" } } } }]
    : [];
}

/** A panel of points in seconds on a log axis, with the target as a dashed rule and its label. */
function secondsPanel(name: string, title: string, data: string, valuesS: number[], targetS: number, targetText: string): Mark {
  const [lo, hi] = logDomain(valuesS, targetS);
  return {
    type: "group",
    name: `panel-${name}`,
    title: { text: title, anchor: "start", fontSize: 13 },
    encode: { enter: { width: { value: WIDTH }, height: { value: HEIGHT } } },
    scales: [{ name: "y", type: "log", domain: [lo, hi], range: [HEIGHT, 0], clamp: true }],
    axes: [
      { scale: "x", orient: "bottom", formatType: "utc", format: "%b %d %H:%M", tickCount: 6, labelOverlap: true },
      { scale: "y", orient: "left", grid: true, values: [...TICKS_S, targetS].sort((a, b) => a - b).filter((t) => t >= lo && t <= hi), encode: { labels: { update: { text: { signal: TICK_LABEL } } } } },
    ],
    marks: [
      {
        type: "rule",
        name: `${name}-target`,
        encode: { enter: { x: { value: 0 }, x2: { value: WIDTH }, y: { scale: "y", value: targetS }, stroke: { value: TARGET_COLOUR }, strokeDash: { value: [6, 4] }, strokeWidth: { value: 1.5 } } },
      },
      {
        type: "text",
        name: `${name}-target-label`,
        encode: { enter: { x: { value: WIDTH - 4 }, y: { scale: "y", value: targetS, offset: -4 }, text: { value: targetText }, align: { value: "right" }, fill: { value: TARGET_COLOUR }, fontSize: { value: 11 } } },
      },
      {
        type: "symbol",
        name: `${name}-points`,
        from: { data },
        encode: {
          enter: {
            x: { scale: "x", field: "t" },
            y: { scale: "y", field: "s" },
            fill: { scale: "colour", field: "outcome" },
            size: { value: 70 },
            stroke: { value: "white" },
            description: { field: "label" },
          },
        },
      },
      ...noData(valuesS.length === 0),
    ],
  };
}

const p50 = (f: PercentileFigure) => (f.p50Ms === null ? "no data" : `p50 ${formatDuration(f.p50Ms)} (${f.basis})`);

/** The Vega spec for a report and its records (those outside the report's window are left out). */
export function metricsChartSpec(report: MetricsReport, all: readonly DeploymentRecord[]): Spec {
  const to = Date.parse(report.window.to);
  const records = inWindow(all, to, to - Date.parse(report.window.from)).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const recordRows = records.map((r) => ({
    t: Date.parse(r.startedAt),
    s: r.durationMs / 1000,
    outcome: r.outcome,
    kind: r.kind,
    label: `${r.kind} ${r.release ?? ""} ${r.outcome}, ${formatDuration(r.durationMs)}, ${r.startedAt}`,
  }));
  const leadRows = report.leadTime.points.map((p) => ({ t: Date.parse(p.startedAt), s: p.ms / 1000, outcome: "succeeded", label: `lead time ${p.release ?? p.sha.slice(0, 7)}: ${formatDuration(p.ms)}` }));
  // A restore is coloured like the outcome it came from: a revert (the deploy's own) or a rollback.
  const restoreRows = report.timeToRestore.points.map((p) => ({
    t: Date.parse(p.startedAt),
    s: p.ms / 1000,
    outcome: p.how === "revert" ? "reverted" : "rolled back",
    label: `${p.how} of ${p.release ?? "a change"}: ${formatDuration(p.ms)}`,
  }));
  const cfr = report.changeFailureRate;
  const cfrText = cfr.rate === null ? "change failure rate: no data" : `change failure rate ${(cfr.rate * 100).toFixed(0)}% (${cfr.failedChanges} of ${cfr.basis} changes)`;
  const durMax = Math.max(1, ...recordRows.map((r) => r.s)) * 1.1;
  return {
    $schema: "https://vega.github.io/schema/vega/v6.json",
    description: `Delivery metrics of ${report.stack}`,
    background: "white",
    padding: 16,
    config: { text: { font: "Helvetica, Arial, sans-serif" }, title: { font: "Helvetica, Arial, sans-serif" }, axis: { labelFont: "Helvetica, Arial, sans-serif", titleFont: "Helvetica, Arial, sans-serif" }, legend: { labelFont: "Helvetica, Arial, sans-serif", titleFont: "Helvetica, Arial, sans-serif" } },
    title: {
      text: `Delivery metrics: ${report.stack}, the last ${report.window.since} (${report.records} records)`,
      subtitle: [
        `${cfrText} · target < 5%`,
        `lead time ${p50(report.leadTime)} · time to restore ${p50(report.timeToRestore)} · dashed red: the team's targets (p50 under them)`,
      ],
      anchor: "start",
      fontSize: 16,
      offset: 12,
    },
    layout: { columns: 1, padding: 36, bounds: "full" },
    data: [
      { name: "records", values: recordRows },
      { name: "lead", values: leadRows },
      { name: "restore", values: restoreRows },
    ],
    scales: [
      { name: "x", type: "utc", domain: timeDomain(records, report), range: [0, WIDTH] },
      { name: "colour", type: "ordinal", domain: [...OUTCOMES], range: OUTCOMES.map((o) => OUTCOME_COLOURS[o]) },
      { name: "shape", type: "ordinal", domain: [...KINDS], range: ["circle", "diamond", "square"] },
    ],
    legends: [
      { fill: "colour", title: "outcome", orient: "right", symbolType: "circle" },
      { shape: "shape", title: "kind", orient: "right" },
    ],
    marks: [
      {
        type: "group",
        name: "panel-records",
        title: { text: "Deploys, rollbacks and ups over time: duration, coloured by outcome", anchor: "start", fontSize: 13 },
        encode: { enter: { width: { value: WIDTH }, height: { value: HEIGHT } } },
        scales: [{ name: "y", type: "linear", domain: [0, durMax], range: [HEIGHT, 0], nice: true }],
        axes: [
          { scale: "x", orient: "bottom", formatType: "utc", format: "%b %d %H:%M", tickCount: 6, labelOverlap: true },
          { scale: "y", orient: "left", grid: true, title: "duration (s)", tickCount: 5 },
        ],
        marks: [
          {
            type: "symbol",
            name: "record-points",
            from: { data: "records" },
            encode: {
              enter: {
                x: { scale: "x", field: "t" },
                y: { scale: "y", field: "s" },
                fill: { scale: "colour", field: "outcome" },
                shape: { scale: "shape", field: "kind" },
                size: { value: 90 },
                stroke: { value: "white" },
                description: { field: "label" },
              },
            },
          },
          ...noData(recordRows.length === 0),
        ],
      },
      secondsPanel("lead", "Lead time for changes: commit → live traffic (log scale)", "lead", leadRows.map((r) => r.s), TARGETS.leadTimeMs / 1000, "target < 30 min"),
      secondsPanel("restore", "Time to restore: failure → live traffic on a good release (log scale)", "restore", restoreRows.map((r) => r.s), TARGETS.timeToRestoreMs / 1000, "target < 15 min"),
    ],
  };
}

/** The chart as SVG text. Vega is ESM-only: loaded here, when a chart is asked for. */
export async function renderMetricsSvg(report: MetricsReport, records: readonly DeploymentRecord[]): Promise<string> {
  const vega = await import("vega");
  const view = new vega.View(vega.parse(metricsChartSpec(report, records)), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
