import type { Stack, UpdateSummary } from "@pulumi/pulumi/automation";
import { otherSlot, sameSpec } from "../infra/config/delivery";
import type { BackendStore } from "./backend-store";
import { interruptedRollback, withDeployLock, type AcquiredLock } from "./deploy-lock";
import { deliveryFromConfig, describeDelivery, liveSpec, type DeliveryState } from "./plan";
import { numberHistory } from "./status";
import { recoverStack } from "./recover";
import { secretsOf, startRecord } from "./records";
import { deliveryReporter, reportConfigFrom } from "./report";
import { readStackFile } from "./stack-file";
import { StepLog, firstLine, type StepRecord } from "./steps";
import "./cloudflare-switch";
import "./fly-switch";
import { trafficSwitchFor, warmSlotProblem } from "./traffic";
import { trafficSwitchOutput } from "./traffic-spec";
import { recordedTraffic, switchToWarmFromRecord, warmSwitchMatches, type RecordedTraffic, type WarmSwitch } from "./warm-switch";
import { readDeployed, upTo } from "./update";
import { readPolicyConfig } from "./policy-config";
import { openStack, policyPackFor, projectDir, HISTORY_PAGE } from "./workspace";
import { warmUp } from "./warm-up";

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
  /** What runs after the rollback. */
  to: DeliveryState;
  version: number;
  steps: StepRecord[];
  durationMs: number;
  /** ms from the start until live traffic was on the target release, when its slot was warm. */
  trafficMovedMs?: number;
  /** The deployment record's key in the store beside the state (absent if it could not be written). */
  recordKey?: string;
}

export class RollbackTargetError extends Error {
  override name = "RollbackTargetError";
}

export class RollbackFailedError extends Error {
  override name = "RollbackFailedError";
}

function sameLive(a: DeliveryState | undefined, b: DeliveryState | undefined): boolean {
  return !!a && !!b && a.liveSlot === b.liveSlot && sameSpec(liveSpec(a), liveSpec(b));
}

type HistoryEntry = Pick<UpdateSummary, "version" | "kind" | "result" | "config" | "message">;

/**
 * Which recorded state to return to. Pure: history newest first, as the engine lists it. Only
 * updates that succeeded and stayed (not reverted afterwards, not interrupted) count; they carry
 * the delivery state they ran with in their recorded config.
 */
export function chooseRollbackTarget(history: HistoryEntry[], current: DeliveryState | undefined, to?: number): { version: number; state: DeliveryState } {
  // Only the stack's current life counts: before a destroy, nothing of it is running any more.
  const numbered = numberHistory(history);
  const lastDestroy = numbered.findIndex((u) => u.kind === "destroy" && u.result === "succeeded");
  const life = lastDestroy >= 0 ? numbered.slice(0, lastDestroy) : numbered;
  // A deploy whose up succeeded but that was then reverted (failed bake, interrupted) is not good.
  const reverted = new Set<number>();
  life.forEach((u, i) => {
    if (!u.message.startsWith("revert:")) return;
    const deployUpdate = life.slice(i + 1).find((o) => o.message.startsWith("deploy "));
    if (deployUpdate) reverted.add(deployUpdate.version);
  });
  const candidates = life
    .filter((u) => u.kind === "update" && u.result === "succeeded" && !reverted.has(u.version))
    .map((u) => ({ version: u.version, state: deliveryFromConfig(u.config) }))
    .filter((c): c is { version: number; state: DeliveryState } => c.state !== undefined);
  if (to !== undefined) {
    const hit = candidates.find((c) => c.version === to);
    if (!hit) {
      const known = candidates.map((c) => c.version).join(", ") || "none";
      throw new RollbackTargetError(`--to ${to}: expected a version of a successful deploy of this stack (${known}), found none with that number`);
    }
    return hit;
  }
  const target = candidates.find((c) => !sameLive(c.state, current));
  if (!target) throw new RollbackTargetError("no earlier successful state to roll back to");
  return target;
}

/**
 * What runs after rolling back to `target`: its live release takes traffic, and the release rolled
 * back from stays warm in the other slot (rolling forward again is a switch too). When the target
 * release is warm already, this is only a switch; otherwise it goes to the idle slot, through the
 * gate, and the live slot is never replaced in place.
 */
export function rollbackState(current: DeliveryState | undefined, target: DeliveryState): { next: DeliveryState; warmSwitch: boolean } {
  if (!current) return { next: target, warmSwitch: false };
  const warm = otherSlot(current.liveSlot);
  const next: DeliveryState = { liveSlot: warm, slots: { [warm]: liveSpec(target), [current.liveSlot]: liveSpec(current) } };
  return { next, warmSwitch: sameSpec(current.slots[warm], liveSpec(target)) };
}

/**
 * Returns to a previous successful state from the stack's history through a normal `up` (never by
 * importing old state, which carries old provider code). A restore: the deploy window never blocks
 * it. When the target is warm, traffic moves first; if the update then fails, traffic goes back to
 * where it was, so state and traffic agree.
 */
export async function rollback(opts: RollbackOptions): Promise<RollbackReport> {
  const started = Date.now();
  const workDir = opts.workDir ?? projectDir;
  const file = readStackFile(workDir, opts.stack);
  const reporting = reportConfigFrom(); // a malformed webhook URL or repository stops here, before the lock
  readPolicyConfig(policyPackFor(opts.stack, workDir)?.config); // and a malformed policy config, before traffic moves
  warmUp(workDir, opts.stack); // ready when the update needs it (stacks/warm-up.ts)
  const log = new StepLog(opts.onStep);
  return withDeployLock(workDir, opts.stack, "rollback", log, async (lock, store) => {
    // Every rollback that got the lock leaves a record: "rolled back", or "failed" with why.
    const record = startRecord(store, log, { workDir, stack: opts.stack, kind: "rollback", startedAt: started });
    record.begin();
    const reporter = deliveryReporter(reporting, log, { stack: opts.stack, kind: "rollback", workDir });
    await reporter.started();
    const seen: { stack?: Stack; current?: DeliveryState; next?: DeliveryState; version?: number; url?: string; traffic?: RecordedTraffic } = {};
    const secrets = () => secretsOf(seen.stack, file);
    let r: RollbackReport;
    try {
      r = await rollbackLocked(lock, store, seen);
    } catch (err) {
      const failed = {
        outcome: "failed" as const,
        reason: firstLine(err),
        release: seen.next ? liveSpec(seen.next).release : undefined,
        previousRelease: seen.current ? liveSpec(seen.current).release : undefined,
        liveSlot: seen.current?.liveSlot,
      };
      await record.finish({ ...failed, rollbackTo: seen.version }, secrets);
      await reporter.finished({ ...failed, environmentUrl: seen.url }, secrets);
      throw err;
    }
    const recordKey = await record.finish(
      {
        outcome: "rolled back",
        reason: `rollback to version ${r.version}`,
        release: liveSpec(r.to).release,
        previousRelease: r.from ? liveSpec(r.from).release : undefined,
        liveSlot: r.to.liveSlot,
        trafficMovedMs: r.trafficMovedMs,
        rollbackTo: r.version,
        ...(seen.traffic ? { traffic: seen.traffic } : {}),
      },
      secrets,
    );
    await reporter.finished(
      { outcome: "rolled back", reason: `rollback to version ${r.version}`, release: liveSpec(r.to).release, previousRelease: r.from ? liveSpec(r.from).release : undefined, liveSlot: r.to.liveSlot, environmentUrl: seen.url },
      secrets,
    );
    return { ...r, steps: log.steps, ...(recordKey ? { recordKey } : {}) };
  });

  async function rollbackLocked(
    lock: AcquiredLock,
    store: BackendStore,
    seen: { stack?: Stack; current?: DeliveryState; next?: DeliveryState; version?: number; url?: string; traffic?: RecordedTraffic },
  ): Promise<RollbackReport> {
    // Traffic first, before the engine is asked anything, when the last record says where it can go.
    // A stale holder means a driver died mid-command: what runs may not be what any record says.
    let early: WarmSwitch | undefined;
    if (opts.to === undefined && !lock.staleHolder) {
      const t0 = performance.now();
      // Killed after this, the next command puts back what ran (the switch is not confirmed yet).
      const first = await switchToWarmFromRecord(store, opts.stack, started, (from) => lock.update({ phase: "rollback", restoreTo: from }));
      const ms = performance.now() - t0;
      if ("switched" in first) {
        early = first.switched;
        log.record({ name: "traffic first", status: "ok", ms, detail: `${liveSpec(early.to).release} on ${early.to.liveSlot} takes live traffic (the last record's warm slot; history confirms it next)` });
      } else {
        log.record({ name: "traffic first", status: "skipped", ms, detail: `not from the record: ${first.skipped}` });
      }
    }
    let confirmed = false;
    try {
      return await fromState();
    } finally {
      // Anything that stopped the rollback before history confirmed the early switch puts traffic back.
      if (early && !confirmed) {
        const back = early.from.liveSlot;
        await log.run("traffic back", () => early!.undo(), () => `live traffic on ${back} again, as the state says`);
      }
    }

    async function fromState(): Promise<RollbackReport> {
      const stack = await log.run("open stack", () => openStack(opts.stack, workDir), () => opts.stack);
      seen.stack = stack;
      const rerun = interruptedRollback(lock.staleHolder);
      const rerunWhy = rerun
        ? `the rollback of pid ${lock.staleHolder!.pid} is run again, not undone` +
          (rerun.version !== undefined ? `: to version ${rerun.version}, as it chose` : ": it had not chosen a version yet") +
          "; its update puts state and traffic right"
        : undefined;
      await recoverStack(stack, file, lock.staleHolder, store, log, { workDir, onEngineOutput: opts.onEngineOutput, ...(rerunWhy ? { rerun: rerunWhy } : {}) });
      // Two CLI runs that do not depend on each other: side by side, live traffic moves sooner.
      const [history, { current, outputs }] = await Promise.all([stack.history(HISTORY_PAGE, 1), readDeployed(stack)]);
      seen.current = current;
      seen.url = String(outputs.url?.value ?? "") || undefined;
      const target = await log.run("choose state", async () => chooseRollbackTarget(history, current, opts.to ?? rerun?.version), (t) =>
        `version ${t.version}: ${describeDelivery(t.state)}`,
      );
      const spec = trafficSwitchOutput(outputs, opts.stack);
      // Run again after a kill: as a recovery does (stacks/recover.ts), point live traffic once more, so
      // nothing the dead driver left in rotation (Fly's cordons, which no state reads back) stays split.
      // Best effort: the state is right, and status tells if the router is not.
      const pointAgain = async (slot: DeliveryState["liveSlot"]) => {
        if (!spec) return;
        await trafficSwitchFor(spec)
          .pointAt(slot)
          .then(
            () => log.note("traffic", `live traffic on ${slot} alone, as the state says`),
            (err: Error) => log.note("traffic", `the router could not be pointed again (${firstLine(err)}); npm run status tells whether it agrees`),
          );
      };
      if (rerun && opts.to === undefined && sameLive(current, target.state)) {
        // The dead rollback's update had finished (it died writing its record, say): nothing to run again.
        await pointAgain(current!.liveSlot);
        log.note("up", `${describeDelivery(current)} runs already: the interrupted rollback's update had finished`);
        seen.next = current;
        seen.version = target.version;
        return { stack: opts.stack, to: current!, version: target.version, steps: log.steps, durationMs: Date.now() - started };
      }
      const { next, warmSwitch } = rollbackState(current, target.state);
      seen.next = next;
      seen.version = target.version;
      await lock.update({ phase: "rollback", restoreTo: next, rollbackTo: target.version });

      let trafficMovedMs: number | undefined;
      let movedFrom: DeliveryState["liveSlot"] | undefined;
      const slotUrls = outputs.slotUrls?.value as Partial<Record<string, string>> | undefined;
      const warmUrl = slotUrls?.[next.liveSlot];
      if (early) {
        if (warmSwitchMatches(early, current, next)) {
          confirmed = true;
          movedFrom = early.from.liveSlot;
          trafficMovedMs = early.ms;
        } else {
          confirmed = true; // put back here, before the usual switch below
          const back = early.from.liveSlot;
          await log.run("traffic back", () => early!.undo(), () => `live traffic on ${back} again: history chose ${describeDelivery(next)}, not what the last record had warm`);
        }
      }
      // A warm slot that does not serve its release (its process was killed, its machine stopped)
      // is started again by the update, through the gate: a rollback is never blocked by it.
      let restartWarm = false;
      if (current && warmSwitch && spec && warmUrl && trafficMovedMs === undefined) {
        // Traffic first: one check that the warm slot serves the target release, then the router.
        const t0 = performance.now();
        const problem = await warmSlotProblem(spec, next.liveSlot, warmUrl, liveSpec(next).release);
        if (problem) {
          restartWarm = true;
          log.record({
            name: "traffic first",
            status: "skipped",
            ms: performance.now() - t0,
            detail: `${problem}: the update starts it again (refresh first) and switches after its health gate`,
          });
        } else {
          await log.run("traffic first", async () => {
            await trafficSwitchFor(spec).pointAt(next.liveSlot);
            movedFrom = current.liveSlot;
            trafficMovedMs = Date.now() - started;
          }, () => `${liveSpec(next).release} on ${next.liveSlot} takes live traffic`);
        }
      }
      try {
        const upOutputs = await log.run(
          "up",
          () =>
            upTo(stack, file, next, `rollback to version ${target.version} (${liveSpec(next).release})`, {
              workDir,
              onEngineOutput: opts.onEngineOutput,
              restore: { kind: "rollback", reason: `rollback to version ${target.version}` },
              // Run again after a kill: what its update had started may not be what the state says.
              refresh: restartWarm || rerun !== undefined,
            }),
          () => `${describeDelivery(next)}`,
        );
        seen.traffic = recordedTraffic(upOutputs, next);
      } catch (err) {
        // The state still says what ran before: put traffic back there so both agree.
        if (movedFrom && spec) {
          const back = movedFrom;
          await log.run("traffic back", () => trafficSwitchFor(spec).pointAt(back), () => `live traffic on ${back} again, as the state says`);
        }
        throw new RollbackFailedError(`rollback to version ${target.version} failed: ${firstLine(err)}; ${describeDelivery(current)} is still what runs`);
      }
      if (rerun) await pointAgain(next.liveSlot);
      return { stack: opts.stack, from: current, to: next, version: target.version, steps: log.steps, durationMs: Date.now() - started, trafficMovedMs };
    }
  }
}
