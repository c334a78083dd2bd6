/**
 * Per-machine figures from Fly's Prometheus (https://api.fly.io/prometheus/<org>/, the built-in
 * proxy series, labelled by `instance`, the machine id): what a canary on Fly is judged on.
 *
 *   fly_app_http_responses_count{app, instance, status}            counter
 *   fly_app_http_response_time_seconds_bucket{app, instance, le}   histogram
 *
 * Counters are read as they are (instant queries) and differenced by the caller between a step's
 * start and its end, so any Prometheus answers them the same way. Fly scrapes its proxies every
 * few seconds, so on Fly a step should last tens of seconds (docs/fly.md).
 *
 * Plain functions, like api.ts: they run inside the dynamic providers, serialized by the engine.
 */
import { flyFetch, seg } from "./api";

/** One machine's counters at one moment. */
export interface InstanceFigures {
  requests: number;
  /** 5xx answers. */
  errors: number;
  /** The response-time histogram, cumulative: upper bound in seconds (`+Inf` included) → count. */
  buckets: Record<string, number>;
}

/** Where Fly's Prometheus is: `FLIGHTDECK_FLY_METRICS_URL`, else Fly's. Read per call. */
export function flyMetricsBase(): string {
  const base = (process.env.FLIGHTDECK_FLY_METRICS_URL ?? "").trim() || "https://api.fly.io/prometheus";
  return base.replace(/\/+$/, "");
}

interface VectorSample {
  metric: Record<string, string>;
  value: number;
}

/** A Prometheus instant-query answer's samples, checked: anything else is an error naming the query. */
function vectorOf(body: unknown, query: string): VectorSample[] {
  const data = (body as { status?: unknown; data?: { resultType?: unknown; result?: unknown } } | undefined) ?? {};
  if (data.status !== "success" || data.data?.resultType !== "vector" || !Array.isArray(data.data.result)) {
    throw new Error(`Fly metrics: the query ${query} did not answer a vector (${JSON.stringify(body).slice(0, 200)})`);
  }
  return data.data.result.map((r: unknown) => {
    const sample = r as { metric?: unknown; value?: unknown };
    const value = Array.isArray(sample.value) ? Number(sample.value[1]) : NaN;
    if (typeof sample.metric !== "object" || sample.metric === null || !Number.isFinite(value)) {
      throw new Error(`Fly metrics: the query ${query} answered a sample that is not one (${JSON.stringify(r).slice(0, 200)})`);
    }
    return { metric: sample.metric as Record<string, string>, value };
  });
}

async function instantQuery(org: string, query: string): Promise<VectorSample[]> {
  const res = await flyFetch<unknown>({
    method: "GET",
    base: flyMetricsBase(),
    path: `/${seg(org)}/api/v1/query?query=${encodeURIComponent(query)}`,
    context: `Fly metrics of org ${org}`,
    attempts: 3,
  });
  return vectorOf(res.body, query);
}

/** Each machine's counters now, by machine id (machines without traffic yet are absent). */
export async function appFigures(org: string, app: string): Promise<Record<string, InstanceFigures>> {
  const selector = `{app="${app.replace(/["\\]/g, "")}"}`;
  const [responses, times] = await Promise.all([
    instantQuery(org, `sum by (instance, status) (fly_app_http_responses_count${selector})`),
    instantQuery(org, `sum by (instance, le) (fly_app_http_response_time_seconds_bucket${selector})`),
  ]);
  const out: Record<string, InstanceFigures> = {};
  const of = (id: string) => (out[id] ??= { requests: 0, errors: 0, buckets: {} });
  for (const s of responses) {
    const f = of(s.metric.instance ?? "");
    f.requests += s.value;
    if (/^5\d\d$/.test(s.metric.status ?? "")) f.errors += s.value;
  }
  for (const s of times) {
    const le = s.metric.le;
    if (le !== undefined) of(s.metric.instance ?? "").buckets[le] = s.value;
  }
  return out;
}

/** The figures of a group of machines between two readings (a counter reset counts from zero). */
export function figuresBetween(then: Record<string, InstanceFigures>, now: Record<string, InstanceFigures>, ids: readonly string[]): InstanceFigures {
  const sum: InstanceFigures = { requests: 0, errors: 0, buckets: {} };
  const grew = (a: number, b: number | undefined) => (b === undefined || a < b ? a : a - b);
  for (const id of ids) {
    const n = now[id];
    if (!n) continue;
    const t = then[id];
    sum.requests += grew(n.requests, t?.requests);
    sum.errors += grew(n.errors, t?.errors);
    for (const [le, count] of Object.entries(n.buckets)) sum.buckets[le] = (sum.buckets[le] ?? 0) + grew(count, t?.buckets[le]);
  }
  return sum;
}

/**
 * The q-quantile of a cumulative histogram in milliseconds, as Prometheus's histogram_quantile
 * estimates it: linear within the bucket it falls in; in the +Inf bucket, the highest finite bound.
 * Undefined without observations.
 */
export function histogramQuantileMs(q: number, buckets: Record<string, number>): number | undefined {
  const sorted = Object.entries(buckets)
    .map(([le, count]) => ({ le: le === "+Inf" ? Infinity : Number(le), count }))
    .filter((b) => !Number.isNaN(b.le))
    .sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return Math.round(lower * 1e5) / 100;
      const within = b.count - below;
      const at = within > 0 ? lower + ((b.le - lower) * (rank - below)) / within : b.le;
      return Math.round(at * 1e5) / 100;
    }
    lower = b.le;
    below = b.count;
  }
  return Math.round(lower * 1e5) / 100;
}
