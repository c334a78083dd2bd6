import type { DeploymentRecord } from "./records";
import { UsageError } from "./usage-error";

/**
 * Delivery metrics from deployment records: DORA's four keys (dora.dev) and deploy duration,
 * counted from the driver's outcomes only (never the engine's result of one update). Pure: the
 * caller reads the records (stacks/status.ts `recordsOf`) and gives the clock. docs/metrics.md
 * says how each figure is counted and why.
 */

/** The targets the team set (issue 11). Deploy frequency and duration have none. */
export const TARGETS = {
  leadTimeMs: 30 * 60_000,
  changeFailureRate: 0.05,
  timeToRestoreMs: 15 * 60_000,
} as const;

export interface DeliveryMetrics {
  /** Deploys that set out to change something (kind deploy, outcome other than unchanged). */
  deploys: number;
  succeeded: number;
  reverted: number;
  failed: number;
  /** Deploys with nothing to change (not counted in `deploys`). */
  unchanged: number;
  /** Rollbacks that finished ("rolled back"); one that failed is counted in `rollbacksFailed`. */
  rollbacks: number;
  rollbacksFailed: number;
  /** Deploys whose release took live traffic (the router switched to it): changes users saw. */
  changes: number;
  /** Of those, the ones that failed in front of users: reverted, failed after the switch, or rolled back later. */
  failedChanges: number;
  /** failedChanges / changes (0 with no changes). */
  changeFailureRate: number;
  /** Median (p50, nearest rank) duration of the deploys counted in `deploys`. */
  medianDeployMs: number;
}

const byStart = (records: readonly DeploymentRecord[]) => [...records].sort((a, b) => a.startedAt.localeCompare(b.startedAt));

/**
 * Which finished rollback undid which deploy: each rollback counts against the newest successful
 * deploy before it (one that took live traffic) that no earlier rollback already undid. One
 * definition, used by the change failure rate and by time to restore, so the two always agree.
 */
export function rollbacksOfChanges(records: readonly DeploymentRecord[]): { rollback: DeploymentRecord; undid: DeploymentRecord }[] {
  const standing: DeploymentRecord[] = [];
  const pairs: { rollback: DeploymentRecord; undid: DeploymentRecord }[] = [];
  for (const r of byStart(records)) {
    if (r.kind === "deploy" && r.outcome === "succeeded" && r.switchedAt !== undefined) standing.push(r);
    if (r.kind === "rollback" && r.outcome === "rolled back") {
      const undid = standing.pop();
      if (undid) pairs.push({ rollback: r, undid });
    }
  }
  return pairs;
}

/**
 * Delivery metrics from deployment records (any order).
 *
 * Change failure rate, as DORA defines it: the share of changes that reached users and then
 * needed remediation. A change is a deploy whose release took live traffic (the router switched
 * to it: `switchedAt`). It failed when the deploy itself put the last good release back
 * (reverted), when it failed after the switch with nothing to go back to or a revert that did not
 * finish (failed, with `switchedAt`), or when a later rollback undid it (`rollbacksOfChanges`).
 * A release stopped by its health gate or refused by a policy never reached users: it is a failed
 * deploy (the delivery path doing its job), not a failed change.
 */
export function deliveryMetrics(records: readonly DeploymentRecord[]): DeliveryMetrics {
  const ordered = byStart(records);
  const deploys = attemptedDeploys(ordered);
  const count = (o: DeploymentRecord["outcome"]) => deploys.filter((r) => r.outcome === o).length;
  const changes = deploys.filter((r) => r.switchedAt !== undefined);
  const failedInFront = changes.filter((r) => r.outcome === "reverted" || r.outcome === "failed").length;
  const rollbacks = ordered.filter((r) => r.kind === "rollback");
  const failedChanges = failedInFront + rollbacksOfChanges(ordered).length;
  return {
    deploys: deploys.length,
    succeeded: count("succeeded"),
    reverted: count("reverted"),
    failed: count("failed"),
    unchanged: ordered.filter((r) => r.kind === "deploy" && r.outcome === "unchanged").length,
    rollbacks: rollbacks.filter((r) => r.outcome === "rolled back").length,
    rollbacksFailed: rollbacks.filter((r) => r.outcome === "failed").length,
    changes: changes.length,
    failedChanges,
    changeFailureRate: changes.length ? failedChanges / changes.length : 0,
    medianDeployMs: percentile(deploys.map((d) => d.durationMs), 50) ?? 0,
  };
}

/** Deploys that set out to change something: succeeded, reverted or failed (not unchanged). */
function attemptedDeploys(records: readonly DeploymentRecord[]): DeploymentRecord[] {
  return records.filter((r) => r.kind === "deploy" && r.outcome !== "unchanged");
}

/**
 * The p-th percentile by nearest rank (the smallest value with at least p% of the values at or
 * below it): always one of the values, never an interpolation between two deploys. Undefined for
 * no values, so an empty window is "no data", never NaN.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `--since`: a whole number and a unit, m(inutes), h(ours), d(ays) or w(eeks): 90m, 12h, 7d, 30d, 2w. */
export function parseSince(text: string): number {
  const m = /^\s*(\d+)\s*([mhdw])\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--since: expected a duration such as 12h, 7d or 30d (a whole number and m, h, d or w), found "${text}"`);
  }
  return n * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** A figure with percentiles; null is "no data" (no record to count from). */
export interface PercentileFigure {
  /** How many records the figure rests on. */
  basis: number;
  p50Ms: number | null;
  p95Ms: number | null;
  /** The team's target (the p50 must be under it), or null where none was set. */
  targetMs: number | null;
  /** Whether the p50 is under the target; null without data or without a target. */
  met: boolean | null;
}

/** One deploy's lead time: its commit's time to when live traffic moved to it. */
export interface LeadTimePoint {
  startedAt: string;
  release?: string;
  sha: string;
  ms: number;
}

/** One restore: a failed change, and how long until users were on a good release again. */
export interface RestorePoint {
  /** When the record that restored started (the reverted deploy, or the rollback). */
  startedAt: string;
  /** revert: the deploy put the last good release back itself; rollback: a later rollback undid the change. */
  how: "revert" | "rollback";
  /** The release that failed. */
  release?: string;
  ms: number;
}

/** What `flightdeck metrics --json` prints. Durations in ms; null means "no data". */
export interface MetricsReport {
  stack: string;
  window: {
    /** As given: `30d`. */
    since: string;
    /** Records started in [from, to] are counted. */
    from: string;
    to: string;
    days: number;
  };
  /** Records in the window, and in all. */
  records: number;
  totalRecords: number;
  /** Blobs under the records prefix that are not valid records (not counted; `history` lists them). */
  unreadable: number;
  deploymentFrequency: {
    /** Deploys that succeeded: their release took live traffic and passed its bake. */
    deploys: number;
    perDay: number | null;
    perWeek: number | null;
    /** Every deploy record that set out to change something (succeeded, reverted, failed). */
    basis: number;
  };
  leadTime: PercentileFigure & { points: LeadTimePoint[] };
  changeFailureRate: {
    /** Changes: deploys whose release took live traffic. */
    basis: number;
    failedChanges: number;
    rate: number | null;
    target: number;
    met: boolean | null;
  };
  timeToRestore: PercentileFigure & {
    points: RestorePoint[];
    /** Failed changes with no restore in the records (failed after the switch, nothing to go back to). */
    unrestored: number;
  };
  deployDuration: PercentileFigure;
  /** The counts behind the figures (the same as `history`'s, for the window). */
  delivery: DeliveryMetrics;
}

function figure(values: number[], targetMs: number | null): PercentileFigure {
  const p50 = percentile(values, 50) ?? null;
  return {
    basis: values.length,
    p50Ms: p50,
    p95Ms: percentile(values, 95) ?? null,
    targetMs,
    met: p50 === null || targetMs === null ? null : p50 < targetMs,
  };
}

/** The records started inside [now - sinceMs, now]. */
export function inWindow(records: readonly DeploymentRecord[], now: number, sinceMs: number): DeploymentRecord[] {
  return records.filter((r) => {
    const t = Date.parse(r.startedAt);
    return t >= now - sinceMs && t <= now;
  });
}

/**
 * Time to restore for each failed change in the records:
 * - reverted (or failed with traffic put back): `trafficBackMs`, the first failed bake probe to
 *   live traffic on the warm last good slot — what users saw. A revert without a traffic-first
 *   step (no router switch to call) counts from its switch to the end of the revert (`endedAt`).
 * - undone by a rollback: the rollback's start to live traffic on its target (`trafficMovedMs`;
 *   when the target was not warm, its whole duration: its `up` moved traffic at the end). When
 *   people noticed the failure before starting the rollback is not in the records.
 * A change that failed after its switch with nothing to go back to has no restore: `unrestored`.
 */
function restores(records: readonly DeploymentRecord[]): { points: RestorePoint[]; unrestored: number } {
  const points: RestorePoint[] = [];
  let unrestored = 0;
  for (const r of attemptedDeploys(records)) {
    if (r.switchedAt === undefined || (r.outcome !== "reverted" && r.outcome !== "failed")) continue;
    const ms = r.trafficBackMs ?? (r.outcome === "reverted" ? Date.parse(r.endedAt) - Date.parse(r.switchedAt) : undefined);
    if (ms === undefined) unrestored++;
    else points.push({ startedAt: r.startedAt, how: "revert", ...(r.release ? { release: r.release } : {}), ms: Math.max(0, ms) });
  }
  for (const { rollback, undid } of rollbacksOfChanges(records)) {
    points.push({ startedAt: rollback.startedAt, how: "rollback", ...(undid.release ? { release: undid.release } : {}), ms: rollback.trafficMovedMs ?? rollback.durationMs });
  }
  points.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return { points, unrestored };
}

/**
 * Lead time for changes: for each deploy that succeeded (its release took live traffic and passed
 * its bake) and whose record names its commit's time, commit time → `switchedAt`. A commit dated
 * after its switch (a skewed clock) counts as 0.
 */
function leadTimes(records: readonly DeploymentRecord[]): LeadTimePoint[] {
  return byStart(records).flatMap((r) =>
    r.kind === "deploy" && r.outcome === "succeeded" && r.switchedAt !== undefined && r.commit?.time !== undefined
      ? [{ startedAt: r.startedAt, ...(r.release ? { release: r.release } : {}), sha: r.commit.sha, ms: Math.max(0, Date.parse(r.switchedAt) - Date.parse(r.commit.time)) }]
      : [],
  );
}

/** The metrics of the records started in the window ending at `now`. Pure: same records and clock, same report. */
export function computeMetrics(
  all: readonly DeploymentRecord[],
  opts: { stack: string; since: string; sinceMs: number; now: number; unreadable?: number },
): MetricsReport {
  const records = byStart(inWindow(all, opts.now, opts.sinceMs));
  const delivery = deliveryMetrics(records);
  const attempts = attemptedDeploys(records);
  const days = opts.sinceMs / UNIT_MS.d;
  const lead = leadTimes(records);
  const restored = restores(records);
  const noData = records.length === 0;
  return {
    stack: opts.stack,
    window: { since: opts.since, from: new Date(opts.now - opts.sinceMs).toISOString(), to: new Date(opts.now).toISOString(), days },
    records: records.length,
    totalRecords: all.length,
    unreadable: opts.unreadable ?? 0,
    deploymentFrequency: {
      deploys: delivery.succeeded,
      perDay: noData ? null : delivery.succeeded / days,
      perWeek: noData ? null : (delivery.succeeded / days) * 7,
      basis: attempts.length,
    },
    leadTime: { ...figure(lead.map((p) => p.ms), TARGETS.leadTimeMs), points: lead },
    changeFailureRate: {
      basis: delivery.changes,
      failedChanges: delivery.failedChanges,
      rate: delivery.changes ? delivery.changeFailureRate : null,
      target: TARGETS.changeFailureRate,
      met: delivery.changes ? delivery.changeFailureRate < TARGETS.changeFailureRate : null,
    },
    timeToRestore: { ...figure(restored.points.map((p) => p.ms), TARGETS.timeToRestoreMs), ...restored },
    deployDuration: figure(attempts.map((d) => d.durationMs), null),
    delivery,
  };
}
