import { recordProbe, emptyTally, type GateTally } from "../components/bluegreen/gate-logic";
import { probeHttp } from "../components/bluegreen/probe";

export interface BakeOptions {
  seconds: number;
  intervalMs: number;
  unhealthyThreshold: number;
  path: string;
  expectedStatus: number;
  timeoutMs: number;
}

export type BakeResult =
  | { ok: true; probes: number }
  | { ok: false; probes: number; firstFailureAt: number; detail: string };

/**
 * Probes the live endpoint for the bake time. Fails as soon as `unhealthyThreshold` probes in a
 * row fail, reporting when the first of them was sent (for revert timing).
 */
export async function bake(liveUrl: string, opts: BakeOptions): Promise<BakeResult> {
  const end = Date.now() + opts.seconds * 1000;
  let tally: GateTally = emptyTally;
  let firstFailureAt = 0;
  // Passing is never decided by count during a bake, only by surviving the whole time.
  const rules = { healthyThreshold: Number.POSITIVE_INFINITY, unhealthyThreshold: opts.unhealthyThreshold };
  while (Date.now() < end) {
    const sentAt = Date.now();
    const { ok, detail } = await probeHttp(`${liveUrl}${opts.path}`, opts);
    if (!ok && tally.consecutiveFailures === 0) firstFailureAt = sentAt;
    const step = recordProbe(tally, { ok, detail }, rules);
    tally = step.tally;
    if (step.verdict === "closed") {
      return { ok: false, probes: tally.probes, firstFailureAt, detail: `${tally.consecutiveFailures} failed probes in a row of ${liveUrl}${opts.path} (last: ${detail})` };
    }
    const wait = Math.min(opts.intervalMs - (Date.now() - sentAt), end - Date.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return { ok: true, probes: tally.probes };
}
