/**
 * Scenarios both rehearsals (staging, production) check the same way, under the steady load.
 */
import { expect } from "vitest";
import type { Rehearsal } from "./rehearsal";
import { LOAD_USER_AGENT, type LoadTally, type steadyLoad } from "./steady-load";

type Load = ReturnType<typeof steadyLoad>;

/**
 * Deploys a release that passes its gate and fails after the switch: the deploy is reverted, the
 * load saw it fail, and nothing fails once the revert is done. Returns the failed requests.
 */
export async function expectRevertedAfterSwitch(r: Rehearsal, release: string, load: Load): Promise<number> {
  const before = load.tally.failed;
  const d = await r.cli("deploy", "--stack", r.stack, "--release", release);
  expect(d.exitCode, d.all).not.toBe(0);
  expect(d.all).toMatch(/revert/i);
  expect(load.tally.failed - before).toBeGreaterThan(0);
  const afterRevert = load.tally.failed;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  expect(load.tally.failed).toBe(afterRevert);
  return afterRevert - before;
}

/** Answers a post-switch failure gives (its 500s, then 503s once the proxy has no healthy instance). */
const POST_SWITCH_FAILURE_STATUSES = ["200", "500", "503"];

/** The statuses outside POST_SWITCH_FAILURE_STATUSES in a tally, with their counts. */
function otherStatuses(byStatus: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(byStatus).filter(([k, n]) => !POST_SWITCH_FAILURE_STATUSES.includes(k) && n > 0));
}

/**
 * Stops the load: every request it sent was counted by the emulated proxy, and every failed one
 * fell in the post-switch failure before its revert (its 500s, then 503s once its checks failed
 * and the proxy had no healthy instance left, the old slot being cordoned).
 */
export async function expectEveryRequestCounted(r: Rehearsal, load: Load, failed: number): Promise<LoadTally> {
  const t = await load.stop();
  expect(t.requests).toBeGreaterThan(100);
  expect(r.fly.proxyCount(r.hostname, LOAD_USER_AGENT)).toBe(t.requests);
  expect(t.failed).toBe(failed);
  expect(otherStatuses(t.byStatus)).toEqual({});
  return t;
}
