import type { MetricsReport, PercentileFigure } from "./metrics";

/** The metrics as a table for people: each figure, the records it rests on, the target. */

/** `850ms`, `12.3s`, `4m 05s`, `2h 03m`, `3d 04h`: short, and the same text for the same ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
  const m = Math.round(ms / 60_000);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h ${two(m % 60)}m`;
  const h = Math.round(ms / 3_600_000);
  return `${Math.floor(h / 24)}d ${two(h % 24)}h`;
}

const NO_DATA = "no data";

function percentiles(f: PercentileFigure): string {
  return f.p50Ms === null || f.p95Ms === null ? NO_DATA : `p50 ${formatDuration(f.p50Ms)}, p95 ${formatDuration(f.p95Ms)}`;
}

function verdict(met: boolean | null): string {
  return met === null ? "" : met ? "met" : "MISSED";
}

/** `0.17`, `12`, `1.5`: two significant decimals below 10, whole numbers above. */
function rate(n: number): string {
  return n >= 10 ? n.toFixed(0) : n.toFixed(2).replace(/\.?0+$/, "") || "0";
}

export function formatMetrics(r: MetricsReport): string {
  const f = r.deploymentFrequency;
  const cfr = r.changeFailureRate;
  const ttr = r.timeToRestore;
  const rows: [string, string, number, string, string][] = [
    ["deployment frequency", f.perDay === null || f.perWeek === null ? NO_DATA : `${rate(f.perDay)}/day, ${rate(f.perWeek)}/week (${f.deploys} succeeded)`, f.basis, "-", ""],
    ["lead time for changes", percentiles(r.leadTime), r.leadTime.basis, "p50 < 30 min", verdict(r.leadTime.met)],
    ["change failure rate", cfr.rate === null ? NO_DATA : `${(cfr.rate * 100).toFixed(0)}% (${cfr.failedChanges} of ${cfr.basis} changes)`, cfr.basis, "< 5%", verdict(cfr.met)],
    ["time to restore", `${percentiles(ttr)}${ttr.unrestored ? `; ${ttr.unrestored} not restored` : ""}`, ttr.basis, "p50 < 15 min", verdict(ttr.met)],
    ["deploy duration", percentiles(r.deployDuration), r.deployDuration.basis, "-", ""],
  ];
  const head: [string, string, string, string, string] = ["FIGURE", "VALUE", "RECORDS", "TARGET", ""];
  const w = [0, 1, 2, 3].map((i) => Math.max(head[i]!.length, ...rows.map((row) => String(row[i]).length)));
  const line = (c: readonly (string | number)[]) =>
    [String(c[0]).padEnd(w[0]!), String(c[1]).padEnd(w[1]!), String(c[2]).padStart(w[2]!), String(c[3]).padEnd(w[3]!), String(c[4])].join("  ").trimEnd();
  const notes = [
    r.unreadable ? `${r.unreadable} unreadable record(s) not counted (npm run history lists them)` : "",
    r.totalRecords > r.records ? `${r.totalRecords - r.records} older record(s) outside the window` : "",
  ].filter(Boolean);
  return [
    `${r.stack}: the last ${r.window.since} (${r.window.from} → ${r.window.to}), ${r.records} deployment record(s)`,
    "",
    line(head),
    ...rows.map(line),
    ...(notes.length ? ["", ...notes] : []),
  ].join("\n");
}
