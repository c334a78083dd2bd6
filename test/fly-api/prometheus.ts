/**
 * The emulated Fly Prometheus (https://api.fly.io/prometheus/<org>/api/v1/query): the instant-query
 * half of Prometheus's HTTP API, over the series the emulated proxy keeps.
 *
 * Queries it understands (anything else is Prometheus's 400 `bad_data`, so a query the emulator
 * cannot answer fails a test rather than answering wrong):
 *   <metric>{<label>="<value>", ...}
 *   sum by (<label>, ...) (<metric>{<label>="<value>", ...})
 * Answers: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[<unix s>,"<n>"]}]}}`.
 */

/** One series and its value now. */
export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type PrometheusAnswer = { status: number; body: unknown };

const SELECTOR = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{([^}]*)\})?$/;
const SUM_BY = /^sum\s+by\s*\(([^)]*)\)\s*\((.*)\)$/s;
const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/;

function badData(error: string): PrometheusAnswer {
  return { status: 400, body: { status: "error", errorType: "bad_data", error } };
}

/** Evaluates one instant query over `series`. */
export function instantQuery(query: string, series: readonly Series[], nowMs = Date.now()): PrometheusAnswer {
  let q = query.trim();
  let by: string[] | undefined;
  const sum = SUM_BY.exec(q);
  if (sum) {
    by = sum[1]!.split(",").map((l) => l.trim()).filter(Boolean);
    q = sum[2]!.trim();
  }
  const sel = SELECTOR.exec(q);
  if (!sel) return badData(`1:1: parse error: the emulated Fly Prometheus answers a selector or sum by (…) (selector), not ${JSON.stringify(query)}`);
  const matchers: [string, string][] = [];
  for (const part of (sel[2] ?? "").split(",").filter((p) => p.trim() !== "")) {
    const m = MATCHER.exec(part);
    if (!m) return badData(`parse error: the emulated Fly Prometheus answers label="value" matchers only, not ${JSON.stringify(part.trim())}`);
    matchers.push([m[1]!, m[2]!.replace(/\\(.)/g, "$1")]);
  }
  const picked = series.filter((s) => s.name === sel[1] && matchers.every(([l, v]) => (s.labels[l] ?? "") === v));
  const at = nowMs / 1000;
  if (!by) return success(picked.map((s) => ({ metric: { __name__: s.name, ...s.labels }, value: [at, String(s.value)] })));
  const groups = new Map<string, { metric: Record<string, string>; value: number }>();
  for (const s of picked) {
    const metric = Object.fromEntries(by.filter((l) => s.labels[l] !== undefined).map((l) => [l, s.labels[l]!]));
    const key = JSON.stringify(metric);
    const g = groups.get(key) ?? { metric, value: 0 };
    g.value += s.value;
    groups.set(key, g);
  }
  return success([...groups.values()].map((g) => ({ metric: g.metric, value: [at, String(g.value)] })));
}

function success(result: unknown[]): PrometheusAnswer {
  return { status: 200, body: { status: "success", data: { resultType: "vector", result } } };
}
