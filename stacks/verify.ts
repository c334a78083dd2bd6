import { recordProbe, emptyTally, type GateTally } from "../components/bluegreen/gate-logic";
import { probeHttp } from "../components/bluegreen/probe";

export interface BakeOptions {
  seconds: number;
  intervalMs: number;
  unhealthyThreshold: number;
  path: string;
  expectedStatus: number;
  timeoutMs: number;
  /**
   * The router's own verdict, asked every WATCH_MS between probes: why it took the new release out
   * of live traffic by itself, or undefined. Ends the bake at once (traffic is already back).
   */
  routerFailedOver?: () => Promise<string | undefined>;
}

/** How often the router's verdict is read during a bake: a local socket read, cheap. */
export const WATCH_MS = 50;

export type BakeResult =
  | { ok: true; probes: number }
  | { ok: false; probes: number; firstFailureAt: number; detail: string; routerFailedOver?: boolean };

/**
 * Probes the live endpoint for the bake time. Fails as soon as `unhealthyThreshold` probes in a
 * row fail, reporting when the first of them was sent (for revert timing).
 */
export async function bake(liveUrl: string, opts: BakeOptions): Promise<BakeResult> {
  const end = Date.now() + opts.seconds * 1000;
  let tally: GateTally = emptyTally;
  let firstFailureAt = 0;
  // Written by the watcher while the probes run (an object, so each read sees the latest).
  const router: { failover?: { at: number; detail: string } } = {};
  let done = false;
  // The router's verdict is read beside the probes, not between them: it is the faster of the two.
  const watcher = opts.routerFailedOver ? watchRouter(opts.routerFailedOver, () => done, (f) => (router.failover = f)) : Promise.resolve();
  try {
    // Passing is never decided by count during a bake, only by surviving the whole time.
    const rules = { healthyThreshold: Number.POSITIVE_INFINITY, unhealthyThreshold: opts.unhealthyThreshold };
    while (Date.now() < end && !router.failover) {
      const sentAt = Date.now();
      const { ok, detail } = await probeHttp(`${liveUrl}${opts.path}`, opts);
      if (router.failover) break;
      if (!ok && tally.consecutiveFailures === 0) firstFailureAt = sentAt;
      const step = recordProbe(tally, { ok, detail }, rules);
      tally = step.tally;
      if (step.verdict === "closed") {
        return { ok: false, probes: tally.probes, firstFailureAt, detail: `${tally.consecutiveFailures} failed probes in a row of ${liveUrl}${opts.path} (last: ${detail})` };
      }
      const wait = Math.min(opts.intervalMs - (Date.now() - sentAt), end - Date.now());
      if (wait > 0) await sleepUnless(wait, () => router.failover !== undefined);
    }
  } finally {
    done = true;
    await watcher;
  }
  const f = router.failover;
  if (f) return { ok: false, probes: tally.probes, firstFailureAt: f.at, detail: f.detail, routerFailedOver: true };
  return { ok: true, probes: tally.probes };
}

async function watchRouter(ask: () => Promise<string | undefined>, stopped: () => boolean, found: (f: { at: number; detail: string }) => void): Promise<void> {
  while (!stopped()) {
    const at = Date.now();
    // A socket that does not answer is not a verdict: the probes still judge the release.
    const detail = await ask().catch(() => undefined);
    if (detail !== undefined) return found({ at, detail });
    await new Promise((r) => setTimeout(r, WATCH_MS));
  }
}

/** Sleeps up to `ms`, waking early once `wake()` holds (checked every WATCH_MS). */
async function sleepUnless(ms: number, wake: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !wake()) await new Promise((r) => setTimeout(r, Math.min(WATCH_MS, until - Date.now())));
}
