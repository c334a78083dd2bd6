import { Pool } from "undici";

export interface LoadTally {
  requests: number;
  /** Answers by status ("200", "503", …) and connection errors ("error"). */
  byStatus: Record<string, number>;
  /** Releases served (from /version), with how many answers each. */
  served: Record<string, number>;
  /** When each release first and last answered (epoch ms): the switch's overlap, when traffic moved. */
  servedBetween: Record<string, { first: number; last: number }>;
  failed: number;
  /** When the first and last failed answers came (epoch ms), for "how long until traffic was back". */
  firstFailureAt?: number;
  lastFailureAt?: number;
}

/** The User-Agent every steady-load request carries, so the proxy's count of them can be read apart from probes. */
export const LOAD_USER_AGENT = "flightdeck-steady-load";

export interface SteadyLoadOptions {
  /** Loops, each on its own connection. */
  concurrency?: number;
  /**
   * Each loop starts a request at most this often (ms); 0 is back to back. Why paced by default:
   * back to back, the load, the emulated proxy and the machines' processes took most of both cores
   * for the whole of a rehearsal (measured: about 500 CPU-seconds of a 20-minute `npm test`), and the
   * engine runs being tested waited for CPU. 4 loops every 10 ms is about 400 requests/s: a failure
   * window of a few milliseconds still meets a request. The benchmarks, which measure saturation, pass 0.
   */
  everyMs?: number;
}

/**
 * Steady load on a public hostname through an edge (the emulated fly-proxy): `concurrency` loops,
 * each sending GET /version with `Host: <hostname>`, every answer counted. Why not wrk: the test
 * reads each answer's release, and counts must be exact to compare with the proxy's.
 */
export function steadyLoad(edgeUrl: string, hostname: string, { concurrency = 4, everyMs = 10 }: SteadyLoadOptions = {}) {
  const pool = new Pool(edgeUrl, { connections: concurrency, pipelining: 1 });
  const tally: LoadTally = { requests: 0, byStatus: {}, served: {}, servedBetween: {}, failed: 0 };
  let running = true;
  const fail = () => {
    tally.failed++;
    tally.firstFailureAt ??= Date.now();
    tally.lastFailureAt = Date.now();
  };
  const pace = async (startedAt: number) => {
    const wait = everyMs - (Date.now() - startedAt);
    if (wait > 0 && running) await new Promise((r) => setTimeout(r, wait));
  };
  const loop = async () => {
    while (running) {
      const startedAt = Date.now();
      tally.requests++;
      try {
        const res = await pool.request({ path: "/version", method: "GET", headers: { host: hostname, "user-agent": LOAD_USER_AGENT }, headersTimeout: 5000, bodyTimeout: 5000 });
        const text = await res.body.text();
        tally.byStatus[res.statusCode] = (tally.byStatus[res.statusCode] ?? 0) + 1;
        if (res.statusCode === 200) {
          const version = String((JSON.parse(text) as { version?: unknown }).version);
          tally.served[version] = (tally.served[version] ?? 0) + 1;
          const now = Date.now();
          const between = (tally.servedBetween[version] ??= { first: now, last: now });
          between.last = now;
        } else {
          fail();
        }
      } catch {
        tally.byStatus.error = (tally.byStatus.error ?? 0) + 1;
        fail();
        await new Promise((r) => setTimeout(r, 10));
      }
      await pace(startedAt);
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    tally,
    async stop(): Promise<LoadTally> {
      running = false;
      await Promise.all(loops);
      await pool.close();
      return { ...tally, byStatus: { ...tally.byStatus }, served: { ...tally.served }, servedBetween: structuredClone(tally.servedBetween) };
    },
  };
}
