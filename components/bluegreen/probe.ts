import { request } from "undici";
import { edgeTarget } from "./edge";

/** One HTTP probe, as the gate, the bake, status and rollback all make it. */
export interface ProbeResult {
  ok: boolean;
  /** `HTTP 503`, `no answer within 2000 ms`, or the connection error. */
  detail: string;
  status?: number;
}

export interface ProbeOptions {
  expectedStatus: number;
  timeoutMs: number;
  headers?: Record<string, string>;
}

/** A probe that got no HTTP answer: timed out, or the connection failed. */
function unanswered(err: unknown, signal: AbortSignal, timeoutMs: number): ProbeResult {
  if (signal.aborted) return { ok: false, detail: `no answer within ${timeoutMs} ms` };
  const e = err as Error & { cause?: Error; code?: string };
  return { ok: false, detail: e.cause?.message ?? e.code ?? e.message };
}

/**
 * One GET through undici's `request` (not `fetch`, which drops a `Host` header): the probe may
 * go to the edge named by FLIGHTDECK_EDGE_URL with the public host in `Host` (./edge.ts).
 */
async function get(url: string, timeoutMs: number, headers?: Record<string, string>): Promise<{ status: number; text: string } | { error: ProbeResult }> {
  const target = edgeTarget(url);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(target.url, { method: "GET", signal, headers: { ...(headers ?? {}), ...target.headers } });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (err) {
    return { error: unanswered(err, signal, timeoutMs) };
  }
}

export async function probeHttp(url: string, opts: ProbeOptions): Promise<ProbeResult> {
  const res = await get(url, opts.timeoutMs, opts.headers);
  if ("error" in res) return res.error;
  return { ok: res.status === opts.expectedStatus, detail: `HTTP ${res.status}`, status: res.status };
}

/** The health check's path when a stack or component does not say (the config schema's default too). */
export const DEFAULT_HEALTH_PATH = "/healthz";

/** Where an app reports its release: the sample app's `/version` answers `{ "version": … }`. */
export const VERSION_PATH = "/version";

/**
 * Whether `base` serves `release`: its version endpoint answers 200 with that version. Readiness
 * means the release answers, not that some server on the port does (a stale process, or another
 * server that took the port).
 */
export async function servesRelease(base: string, release: string, timeoutMs = 2000, headers?: Record<string, string>): Promise<ProbeResult> {
  const answer = await readVersion(base, timeoutMs, headers);
  if (!answer.ok) return answer;
  return answer.version === release
    ? { ok: true, detail: `serves ${release}`, status: 200 }
    : { ok: false, detail: `serves ${JSON.stringify(answer.version)}, not ${release}`, status: 200 };
}

/** What `base` reports at its version endpoint: the release it serves, or why it did not say. */
export async function readVersion(base: string, timeoutMs = 2000, headers?: Record<string, string>): Promise<(ProbeResult & { ok: false }) | { ok: true; version: unknown }> {
  const res = await get(`${base}${VERSION_PATH}`, timeoutMs, headers);
  if ("error" in res) return { ...res.error, ok: false };
  if (res.status !== 200) return { ok: false, detail: `HTTP ${res.status} from ${VERSION_PATH}`, status: res.status };
  try {
    return { ok: true, version: (JSON.parse(res.text) as { version?: unknown }).version };
  } catch {
    return { ok: false, detail: `${VERSION_PATH} did not answer JSON`, status: res.status };
  }
}
