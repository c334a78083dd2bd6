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
function unanswered(err: unknown, timeoutMs: number): ProbeResult {
  const e = err as Error;
  return { ok: false, detail: e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : e.message };
}

export async function probeHttp(url: string, opts: ProbeOptions): Promise<ProbeResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs), ...(opts.headers ? { headers: opts.headers } : {}) });
    await res.arrayBuffer();
    return { ok: res.status === opts.expectedStatus, detail: `HTTP ${res.status}`, status: res.status };
  } catch (err) {
    return unanswered(err, opts.timeoutMs);
  }
}

/** Where an app reports its release: the sample app's `/version` answers `{ "version": … }`. */
export const VERSION_PATH = "/version";

/**
 * Whether `base` serves `release`: its version endpoint answers 200 with that version. Readiness
 * means the release answers, not that some server on the port does (a stale process, or another
 * server that took the port).
 */
export async function servesRelease(base: string, release: string, timeoutMs = 2000, headers?: Record<string, string>): Promise<ProbeResult> {
  try {
    const res = await fetch(`${base}${VERSION_PATH}`, { signal: AbortSignal.timeout(timeoutMs), ...(headers ? { headers } : {}) });
    const text = await res.text();
    if (res.status !== 200) return { ok: false, detail: `HTTP ${res.status} from ${VERSION_PATH}`, status: res.status };
    let version: unknown;
    try {
      version = (JSON.parse(text) as { version?: unknown }).version;
    } catch {
      return { ok: false, detail: `${VERSION_PATH} did not answer JSON`, status: res.status };
    }
    return version === release
      ? { ok: true, detail: `serves ${release}`, status: 200 }
      : { ok: false, detail: `serves ${JSON.stringify(version)}, not ${release}`, status: 200 };
  } catch (err) {
    return unanswered(err, timeoutMs);
  }
}
