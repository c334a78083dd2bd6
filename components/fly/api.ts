/**
 * A small client for the Fly Machines REST API, used inside Flightdeck's dynamic providers.
 *
 * Everything here is a plain function: the providers' methods are serialized by Pulumi's closure
 * serializer and run in the engine's dynamic-provider process, so nothing may be captured at
 * declaration time. The token and the base URL are read from the environment on every call
 * (`FLY_API_TOKEN`, `FLY_API_HOSTNAME`), never stored in a provider or in state.
 *
 * Retries: a tiny loop instead of p-retry. We need the decision per response (retry on 429/5xx/
 * network errors, stop at once on 4xx, hand capacity errors to the caller for region fallback)
 * and Retry-After; expressed as the pure `classifyFailure` + `backoffMs` it is table-testable,
 * and it keeps the serialized providers free of an ESM-only import.
 */

/** Fly's error body (`ErrorResponse` in the Machines API spec). */
export interface FlyErrorBody {
  error?: string;
  status?: string;
}

export type FailureClass = "retry" | "capacity" | "fatal";

/**
 * What to do after a failed request. `status` is undefined for network errors and timeouts.
 *
 * Capacity: Fly documents that machine creation can fail when a region is at capacity and that
 * the caller must retry or fall back to another region. Its spec names the error
 * `status: "insufficient_capacity"` (ErrorResponse.status, main.statusCode); we accept that on
 * 412, 422 or 503, and also a message mentioning capacity on those statuses.
 */
export function classifyFailure(status: number | undefined, body?: FlyErrorBody): FailureClass {
  if (status === undefined) return "retry";
  const capacityMessage = body?.status === "insufficient_capacity" || /capacity/i.test(body?.error ?? "");
  if ((status === 412 || status === 422 || status === 503) && capacityMessage) return "capacity";
  if (status === 429 || status >= 500) return "retry";
  return "fatal";
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`,
 * with "equal jitter" (half fixed, half random) so concurrent deploys do not retry in step.
 * A Retry-After from Fly wins when it is present and sane.
 */
export function backoffMs(attempt: number, opts: { baseMs: number; maxMs: number; retryAfterS?: number; random?: number }): number {
  if (opts.retryAfterS !== undefined && Number.isFinite(opts.retryAfterS) && opts.retryAfterS >= 0) {
    return Math.min(opts.retryAfterS * 1000, opts.maxMs);
  }
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1));
  const r = opts.random ?? Math.random();
  return Math.round(exp / 2 + (exp / 2) * r);
}

export interface FlyRequest {
  method: "GET" | "POST" | "DELETE";
  /** Path below /v1, e.g. `/apps/my-app/machines` (below `base` when given). */
  path: string;
  /** Another Fly API than the Machines API (Fly's Prometheus): its base URL. @default flyBaseUrl() */
  base?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Who the request is about, for error messages: "app x, machine y". */
  context: string;
  /** Statuses that are answers rather than failures (404 on delete, for example). */
  accept?: number[];
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Total attempts for retryable failures. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface FlyResponse<T> {
  status: number;
  body: T;
}

/** An error from Fly, carrying what callers decide on. */
export interface FlyApiError extends Error {
  flyStatus?: number;
  flyClass: FailureClass;
  flyMessage: string;
}

export function isFlyApiError(err: unknown): err is FlyApiError {
  return err instanceof Error && typeof (err as FlyApiError).flyClass === "string";
}

export function flyApiError(req: Pick<FlyRequest, "method" | "path" | "context">, status: number | undefined, message: string, cls: FailureClass): FlyApiError {
  const where = status === undefined ? "no HTTP answer" : `HTTP ${status}`;
  const err = new Error(`Fly API ${req.method} ${req.path} (${req.context}) failed: ${where}: ${message}`) as FlyApiError;
  err.flyStatus = status;
  err.flyClass = cls;
  err.flyMessage = message;
  return err;
}

/** The Machines API base URL, read at call time: `FLY_API_HOSTNAME` (as flyctl and Fly's docs use it). */
export function flyBaseUrl(): string {
  const host = (process.env.FLY_API_HOSTNAME ?? "").trim() || "https://api.machines.dev";
  return `${host.replace(/\/+$/, "")}/v1`;
}

function flyToken(context: string): string {
  const token = (process.env.FLY_API_TOKEN ?? "").trim();
  if (!token) throw new Error(`FLY_API_TOKEN is not set (needed for ${context}): export a Fly token, e.g. FLY_API_TOKEN=$(fly tokens create org <org>)`);
  return token;
}

/** One call to the Machines API with per-request timeout and retries on 429, 5xx and network errors. */
export async function flyFetch<T>(req: FlyRequest): Promise<FlyResponse<T>> {
  const attempts = req.attempts ?? 5;
  // FLIGHTDECK_FLY_* tune timing for tests and slow networks; read per call like everything else.
  const baseMs = req.baseDelayMs ?? envNumber("FLIGHTDECK_FLY_RETRY_BASE_MS", 250);
  const timeoutMs = req.timeoutMs ?? envNumber("FLIGHTDECK_FLY_TIMEOUT_MS", 30_000);
  const maxMs = req.maxDelayMs ?? 8000;
  const url = `${req.base ?? flyBaseUrl()}${req.path}`;
  const token = flyToken(req.context);
  let last: FlyApiError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let status: number | undefined;
    let text = "";
    let retryAfterS: number | undefined;
    try {
      const res = await fetch(url, {
        method: req.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(req.body === undefined ? {} : { "content-type": "application/json" }),
          ...(req.headers ?? {}),
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      text = await res.text();
      const ra = res.headers.get("retry-after");
      if (ra !== null && /^\d+$/.test(ra.trim())) retryAfterS = Number(ra.trim());
      if ((res.status >= 200 && res.status < 300) || (req.accept ?? []).includes(res.status)) {
        return { status: res.status, body: (text ? safeJson(text) : undefined) as T };
      }
    } catch (err) {
      const e = err as Error;
      const reason = e.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : e.message;
      last = flyApiError(req, undefined, reason, "retry");
    }
    if (status !== undefined) {
      const body = safeJson(text) as FlyErrorBody | undefined;
      const message = (body && typeof body === "object" && body.error) || text.slice(0, 300) || "(empty body)";
      last = flyApiError(req, status, message, classifyFailure(status, typeof body === "object" ? body : undefined));
    }
    if (!last || last.flyClass !== "retry" || attempt === attempts) break;
    await sleep(backoffMs(attempt, { baseMs, maxMs, retryAfterS }));
  }
  if (last && last.flyClass === "retry") last.message += ` (gave up after ${attempts} attempts)`;
  throw last ?? new Error(`Fly API ${req.method} ${req.path} (${req.context}) failed`);
}

/** A positive number from the environment, else `fallback`. */
export function envNumber(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Path segment, escaped. */
export function seg(s: string): string {
  return encodeURIComponent(s);
}
