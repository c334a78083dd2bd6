/**
 * Canary analysis: at the end of each step, the new release's answers against the stable one's,
 * from the router's own counters. Platform-agnostic; the local router feeds it HAProxy's figures,
 * the Fly router Fly's per-machine metrics.
 */

/** What a canary did: each step's verdict, or why it was skipped. */
export type CanaryOutcome = { ran: true; steps: StepVerdict[] } | { ran: false; why: string };

/** How a canary goes (config `canary`): its steps and what aborts it. */
export interface CanarySettings {
  /** The new release's share of live traffic at each step, in percent, rising; 100 follows the last. */
  steps: number[];
  /** How long each step lasts before it is judged, in milliseconds. */
  pauseMs: number;
  /** The highest error rate (0–1) the new release may show at a step. */
  maxErrorRate: number;
  /** The new release's p99 may be at most this many times the stable one's (plus `p99SlackMs`). */
  maxP99Ratio: number;
  /** Added to the allowed p99, so that sub-millisecond noise on an idle machine never aborts. */
  p99SlackMs: number;
  /** Requests the new release must have answered at a step for it to pass; 0 passes an idle step. */
  minRequests: number;
}

/** One side's figures over one step. */
export interface StepFigures {
  requests: number;
  errors: number;
  /** Each request's time in milliseconds (what the router logged), when the router logs them. */
  timesMs?: number[];
  /** The p99 in milliseconds, when the router gives a histogram instead (Fly's metrics). */
  p99Ms?: number;
}

export interface StepVerdict {
  ok: boolean;
  /** One line: the figures and, when it fails, which limit. */
  detail: string;
  canary: { requests: number; errorRate: number; p99Ms: number | undefined };
  stable: { requests: number; errorRate: number; p99Ms: number | undefined };
}

/** The 99th percentile (nearest rank) of `values`, or undefined when there are none. */
export function p99(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)];
}

function side(f: StepFigures) {
  return { requests: f.requests, errorRate: f.requests === 0 ? 0 : Math.min(1, f.errors / f.requests), p99Ms: f.p99Ms ?? p99(f.timesMs ?? []) };
}

const pct = (r: number) => `${(r * 100).toFixed(2)}%`;
const ms = (v: number | undefined) => (v === undefined ? "–" : `${v} ms`);

/**
 * Judges one step: the router's own verdict first (`takenOut`: why it took the new release out),
 * then the error rate, the requests it must have seen, and p99 against the stable release's.
 */
export function judgeStep(weight: number, canary: StepFigures, stable: StepFigures, settings: CanarySettings, takenOut?: string): StepVerdict {
  const c = side(canary);
  const s = side(stable);
  const figures = `new release ${c.requests} requests, ${pct(c.errorRate)} errors, p99 ${ms(c.p99Ms)}; stable ${s.requests} requests, ${pct(s.errorRate)} errors, p99 ${ms(s.p99Ms)}`;
  const verdict = (ok: boolean, why: string): StepVerdict => ({ ok, detail: `at ${weight}%: ${why}${figures}`, canary: c, stable: s });
  // The router stopped sending it requests on its own (failed answers in a row): its error rate
  // over the step would be diluted by the requests the stable release took instead.
  if (takenOut !== undefined) return verdict(false, `the router took the new release out (${takenOut}): `);
  if (c.errorRate > settings.maxErrorRate) return verdict(false, `error rate over ${pct(settings.maxErrorRate)}: `);
  if (c.requests < settings.minRequests) return verdict(false, `fewer than ${settings.minRequests} requests reached the new release: `);
  if (c.p99Ms !== undefined && s.p99Ms !== undefined) {
    const allowed = s.p99Ms * settings.maxP99Ratio + settings.p99SlackMs;
    if (c.p99Ms > allowed) return verdict(false, `p99 over ${allowed} ms (${settings.maxP99Ratio}× stable + ${settings.p99SlackMs} ms): `);
  }
  return verdict(true, "");
}
