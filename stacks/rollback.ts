import type { ConfigMap, UpdateSummary } from "@pulumi/pulumi/automation";
import * as path from "node:path";
import { acquireDeployLock } from "./deploy-lock";
import { applyDelivery, lastGoodState } from "./deploy";
import { deliveryFromConfig, type DeliveryState } from "./plan";
import { numberHistory } from "./status";
import { recoverInterruptedUpdate } from "./recover";
import type { TrafficSwitchSpec } from "../components/bluegreen/platform";
import { StepLog, type StepRecord } from "./steps";
import "./cloudflare-switch";
import { trafficSwitchFor } from "./traffic";
import { engineOptions, openStack, projectDir, PROJECT, HISTORY_PAGE } from "./workspace";

export interface RollbackOptions {
  stack: string;
  /** A version from `history`; default: the last successful state before the current one. */
  to?: number;
  workDir?: string;
  onStep?: (s: StepRecord) => void;
  onEngineOutput?: (s: string) => void;
}

export interface RollbackReport {
  stack: string;
  from?: DeliveryState;
  to: DeliveryState;
  version: number;
  steps: StepRecord[];
  durationMs: number;
  /** ms from the start until live traffic was on the target release, when its slot was warm. */
  trafficMovedMs?: number;
}

export class RollbackTargetError extends Error {
  override name = "RollbackTargetError";
}

function same(a: DeliveryState | undefined, b: DeliveryState | undefined): boolean {
  return !!a && !!b && a.release === b.release && a.liveSlot === b.liveSlot;
}

/**
 * Which recorded state to return to. Pure: history newest first, as the engine lists it.
 * Only successful updates count; they carry the config that produced them.
 */
export function chooseRollbackTarget(
  history: Pick<UpdateSummary, "version" | "kind" | "result" | "config" | "message">[],
  current: DeliveryState | undefined,
  to?: number,
): { version: number; state: DeliveryState } {
  // Only the stack's current life counts: before a destroy, nothing of it is running any more.
  const numbered = numberHistory(history);
  const lastDestroy = numbered.findIndex((u) => u.kind === "destroy" && u.result === "succeeded");
  const life = lastDestroy >= 0 ? numbered.slice(0, lastDestroy) : numbered;
  // A deploy whose up succeeded but that deploy then reverted (failed bake) is not a good state.
  const reverted = new Set<number>();
  life.forEach((u, i) => {
    if (!u.message.startsWith("revert:")) return;
    const deployUpdate = life.slice(i + 1).find((o) => o.message.startsWith("deploy "));
    if (deployUpdate) reverted.add(deployUpdate.version);
  });
  const candidates = life
    .filter((u) => u.kind === "update" && u.result === "succeeded" && !reverted.has(u.version))
    .map((u) => ({ version: u.version, state: deliveryFromConfig(u.config as ConfigMap) }))
    .filter((c): c is { version: number; state: DeliveryState } => c.state !== undefined);
  if (to !== undefined) {
    const hit = candidates.find((c) => c.version === to);
    if (!hit) {
      const known = candidates.map((c) => c.version).join(", ") || "none";
      throw new RollbackTargetError(`version ${to} is not a successful deploy of this stack (successful versions: ${known})`);
    }
    return hit;
  }
  const target = candidates.find((c) => !same(c.state, current));
  if (!target) throw new RollbackTargetError("no earlier successful state to roll back to");
  return target;
}

/**
 * Re-applies a previous successful state from the stack's history: its recorded delivery config,
 * through a normal `up` (never by importing old state, which carries old provider code). When the
 * previous release is still warm, that up is a router switch.
 */
export async function rollback(opts: RollbackOptions): Promise<RollbackReport> {
  const started = Date.now();
  const workDir = opts.workDir ?? projectDir;
  const log = new StepLog(opts.onStep);
  const lock = await log.run("lock", async () => acquireDeployLock(path.join(workDir, ".pulumi", "deploy-locks"), opts.stack, `rollback`), (l) =>
    l.staleHolder ? `taken over from pid ${l.staleHolder.pid}, which died holding it` : "acquired",
  );
  try {
    const stack = await log.run("open stack", () => openStack(opts.stack, workDir), () => opts.stack);
    await log.run("recover", () => recoverInterruptedUpdate(stack, PROJECT, !!lock.staleHolder), (r) =>
      r.clearedLocks + r.clearedPendingOperations.length === 0 ? "nothing interrupted" : `cleared ${r.clearedLocks} lock(s), ${r.clearedPendingOperations.length} pending operation(s)`,
    );
    const history = await stack.history(HISTORY_PAGE, 1);
    const current = await lastGoodState(stack, history);
    const target = await log.run("choose state", async () => chooseRollbackTarget(history, current, opts.to), (t) =>
      `version ${t.version}: ${t.state.release} on ${t.state.liveSlot}`,
    );
    // Traffic first when the target release is still warm in the other slot: one probe of that
    // slot, then the router, before the engine reconciles the stack.
    let trafficMovedMs: number | undefined;
    const outputs = await stack.outputs();
    const warm = outputs.slotUrls?.value as Partial<Record<string, string>> | undefined;
    const spec = outputs.trafficSwitch?.value as TrafficSwitchSpec | undefined;
    const warmUrl = warm?.[target.state.liveSlot];
    if (current && spec && warmUrl && current.previousRelease === target.state.release && current.liveSlot !== target.state.liveSlot) {
      await log.run("traffic first", async () => {
        const res = await fetch(`${warmUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`warm slot ${target.state.liveSlot} answers HTTP ${res.status}: not switching to it`);
        await trafficSwitchFor(spec).pointAt(target.state.liveSlot);
        trafficMovedMs = Date.now() - started;
      }, () => `${target.state.release} on ${target.state.liveSlot} takes live traffic`);
    }
    await log.run("configure", () => applyDelivery(stack, target.state));
    await log.run("up", () =>
      stack.up({ ...engineOptions(opts.stack, workDir, opts.onEngineOutput), message: `rollback to version ${target.version} (${target.state.release})` }),
      () => `${target.state.release} live on ${target.state.liveSlot}`,
    );
    return { stack: opts.stack, from: current, to: target.state, version: target.version, steps: log.steps, durationMs: Date.now() - started, trafficMovedMs };
  } finally {
    lock.release();
  }
}
