import * as fs from "node:fs";
import { judgeStep, type CanaryOutcome, type CanarySettings, type StepVerdict } from "../bluegreen/canary-analysis";
import type { SlotName } from "../bluegreen/slots";
import { routeToCanary, runtimeApi, setLiveSlot, waitSlotServerUp } from "./haproxy-admin";
import { CANARY_BACKEND, canaryTimes, canaryWeightCommands, serverCounters, serverDownIn, slotServerUp, type ServerCounters } from "./haproxy-config";

export interface LocalCanary {
  socketPath: string;
  /** HAProxy's log (its stdout), where it writes one line per request of the canary backend. */
  logFile: string;
  /** The slot live now, which runs the last good release. */
  stable: SlotName;
  /** The slot that runs the new release and takes traffic step by step. */
  canary: SlotName;
  settings: CanarySettings;
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function logSince(file: string, offset: number): string {
  const size = logSize(file);
  if (size <= offset) return "";
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(size - offset);
    fs.readSync(fd, buf, 0, buf.length, offset);
    return buf.toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * HAProxy's log grows by a line per canary request (a few MB per canary under load). It is opened
 * for appending, so emptying it between canaries is safe: HAProxy goes on writing at its new end.
 */
const LOG_LIMIT_BYTES = 16 * 1024 * 1024;

const delta = (now: ServerCounters | undefined, then: ServerCounters | undefined): ServerCounters => ({
  requests: (now?.requests ?? 0) - (then?.requests ?? 0),
  errors: (now?.errors ?? 0) - (then?.errors ?? 0),
});

/**
 * Moves live traffic to the canary slot in steps through HAProxy's canary backend, judging each
 * step from HAProxy's own counters (errors) and its log (each request's time, for p99). A step
 * that fails puts live traffic back on the stable slot at once and throws. When
 * every step passes, live traffic is still in the canary backend at the last step's share: the
 * caller makes the switch (the live map) to the canary slot's own backend.
 *
 * A stable slot HAProxy does not take as up (it stopped answering: the deploy is a repair) gives
 * nothing to compare with and nothing to protect, so the canary is skipped.
 */
export async function runLocalCanary(c: LocalCanary): Promise<CanaryOutcome> {
  const { socketPath, stable, canary, settings } = c;
  if (!slotServerUp(await runtimeApi(socketPath, "show stat"), stable, CANARY_BACKEND)) {
    return { ran: false, why: `the stable slot ${stable} is down in HAProxy: nothing to compare with, the switch is made at once` };
  }
  await waitSlotServerUp(socketPath, canary, 10_000, CANARY_BACKEND);
  if (logSize(c.logFile) > LOG_LIMIT_BYTES) fs.truncateSync(c.logFile, 0);
  const steps: StepVerdict[] = [];
  const abort = async (verdict: StepVerdict) => {
    await setLiveSlot(socketPath, stable);
    await settleCanaryBackend(socketPath, stable, canary);
    // A plain Error: the provider runs serialized by the engine, where a subclass loses its message.
    throw new Error(`canary aborted ${verdict.detail}; live traffic is back on ${stable}`);
  };
  // Each step is measured from where the one before it was judged, so no answer falls between two.
  let before = await runtimeApi(socketPath, "show stat");
  let offset = logSize(c.logFile);
  for (const weight of settings.steps) {
    await runtimeApi(socketPath, canaryWeightCommands(stable, canary, weight));
    if (steps.length === 0) await routeToCanary(socketPath);
    const since = { stat: before, offset };
    const judge = async (now: string): Promise<StepVerdict> => {
      const times = canaryTimes(logSince(c.logFile, since.offset));
      return judgeStep(
        weight,
        { ...delta(serverCounters(now, CANARY_BACKEND, canary), serverCounters(since.stat, CANARY_BACKEND, canary)), timesMs: times[canary] ?? [] },
        { ...delta(serverCounters(now, CANARY_BACKEND, stable), serverCounters(since.stat, CANARY_BACKEND, stable)), timesMs: times[stable] ?? [] },
        settings,
        serverDownIn(now, CANARY_BACKEND, canary),
      );
    };
    // Errors, and HAProxy taking the canary out, are judged as they come: users should not wait
    // for the step's end to be off a failing release. p99 is judged at the step's end.
    const endsAt = Date.now() + settings.pauseMs;
    while (Date.now() < endsAt) {
      await sleep(Math.min(200, Math.max(0, endsAt - Date.now())));
      const stat = await runtimeApi(socketPath, "show stat");
      const errors = delta(serverCounters(stat, CANARY_BACKEND, canary), serverCounters(since.stat, CANARY_BACKEND, canary)).errors;
      if (errors > 0 || serverDownIn(stat, CANARY_BACKEND, canary) !== undefined) {
        const early = await judge(stat);
        if (!early.ok) await abort(early);
      }
    }
    offset = logSize(c.logFile);
    before = await runtimeApi(socketPath, "show stat");
    const verdict = await judge(before);
    if (!verdict.ok) await abort(verdict);
    steps.push(verdict);
  }
  return { ran: true, steps };
}

/**
 * The canary backend back to "all on `live`", whatever a step left in it: after an abort, and after
 * the switch, ready for the next canary.
 */
export async function settleCanaryBackend(socketPath: string, live: SlotName, other: SlotName): Promise<void> {
  await runtimeApi(socketPath, canaryWeightCommands(live, other, 0));
}
