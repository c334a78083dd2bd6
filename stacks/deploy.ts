import type { Stack } from "@pulumi/pulumi/automation";
import { servesRelease } from "../components/bluegreen/probe";
import type { BackendStore } from "./backend-store";
import { withDeployLock, type AcquiredLock } from "./deploy-lock";
import { describeDelivery, liveSpec, planDeploy, type DeliveryState } from "./plan";
import { readPolicyConfig } from "./policy-config";
import { policyPreflight } from "./preview-first";
import { promotionRefusal } from "./promotion";
import { recoverStack } from "./recover";
import { secretsOf, startRecord } from "./records";
import { deliveryReporter, reportConfigFrom } from "./report";
import { desiredSpec, PreviewRefusedError, readDeployed, upTo } from "./update";
import { readStackFile, type StackFile } from "./stack-file";
import { StepLog, firstLine, type StepRecord } from "./steps";
import "./cloudflare-switch";
import "./fly-switch";
import { trafficSwitchFor } from "./traffic";
import { trafficSwitchOutput } from "./traffic-spec";
import { UsageError } from "./usage-error";
import { bake } from "./verify";
import { recordedTraffic, type RecordedTraffic } from "./warm-switch";
import { openStack, policyPackFor, projectDir } from "./workspace";
import { warmUp } from "./warm-up";

export interface DeployOptions {
  stack: string;
  /** The release to ship; absent: the release that is live now, with the committed config as it is. */
  release?: string;
  workDir?: string;
  onStep?: (s: StepRecord) => void;
  onEngineOutput?: (s: string) => void;
}

export type DeployOutcome = "succeeded" | "unchanged" | "reverted" | "failed";

export interface DeployReport {
  stack: string;
  release: string;
  outcome: DeployOutcome;
  reason?: string;
  steps: StepRecord[];
  durationMs: number;
  /** Live slot after the deploy (and any revert). */
  liveSlot?: string;
  /** Epoch ms when the router switched to the new release. */
  switchedAt?: number;
  /** For a post-switch failure: ms from the first failed bake probe to traffic back on the warm slot. */
  trafficBackMs?: number;
  /** The deployment record's key in the store beside the state (absent if it could not be written). */
  recordKey?: string;
}

/** The canary's line per step from the stack's outputs (none when the switch was made at once). */
function canaryLinesOf(outputs: Record<string, { value: unknown }>): string[] {
  const report = outputs.canaryReport?.value;
  return Array.isArray(report) ? report.filter((l): l is string => typeof l === "string") : [];
}

/**
 * Deploys blue/green: the desired slot spec (release and config) goes to the idle slot → gate →
 * switch → bake. Any failure puts back what ran before; after a switch, traffic goes back first
 * (straight to the router) and the stack is reconciled second. Nothing is ever destroyed.
 */
export async function deploy(opts: DeployOptions): Promise<DeployReport> {
  const started = Date.now();
  const workDir = opts.workDir ?? projectDir;
  if (opts.release !== undefined && opts.release.trim() === "") {
    throw new UsageError("--release: expected a release (an image digest on fly, a version label on local), found an empty string");
  }
  // Bad input stops here, before the lock, the engine or anything else is touched.
  const file = readStackFile(workDir, opts.stack);
  const reporting = reportConfigFrom(); // a malformed webhook URL or repository stops here too
  const policyConfig = readPolicyConfig(policyPackFor(opts.stack, workDir)?.config); // and a malformed policy config
  // What the update will need starts now, beside the lock and the state reads (stacks/warm-up.ts).
  warmUp(workDir, opts.stack);
  const log = new StepLog(opts.onStep);
  let release = opts.release ?? "(current)";
  let stackUrl: string | undefined; // the stack's `url` output, for the GitHub deployment's environment_url
  // Set only where the deploy ends with the stack as its state says (it succeeded, changed nothing,
  // or its revert finished): what runs then, for rollback's first switch.
  let traffic: RecordedTraffic | undefined;
  const report = (outcome: DeployOutcome, extra: Partial<DeployReport> = {}): DeployReport => ({
    stack: opts.stack,
    release,
    outcome,
    steps: log.steps,
    durationMs: Date.now() - started,
    ...extra,
  });

  return withDeployLock(workDir, opts.stack, `deploy ${release}`, log, async (lock, store) => {
    // Every deploy that got the lock leaves a record, whatever its outcome, an exception included.
    // (One refused by the lock, or by its stack file before it, changed nothing and is not one.)
    const record = startRecord(store, log, { workDir, stack: opts.stack, kind: "deploy", startedAt: started });
    record.begin();
    const reporter = deliveryReporter(reporting, log, { stack: opts.stack, kind: "deploy", workDir });
    await reporter.started(opts.release);
    let stack: Stack | undefined;
    let previousRelease: string | undefined;
    const secrets = () => secretsOf(stack, file);
    let r: DeployReport;
    try {
      r = await deployLocked(lock, store, (s) => (stack = s), (p) => (previousRelease = p));
    } catch (err) {
      const failed = { outcome: "failed" as const, release: opts.release ?? (release === "(current)" ? undefined : release), previousRelease, reason: firstLine(err) };
      await record.finish(failed, secrets);
      await reporter.finished({ ...failed, environmentUrl: stackUrl }, secrets);
      throw err;
    }
    const recordKey = await record.finish(
      {
        outcome: r.outcome,
        release: r.release,
        previousRelease,
        liveSlot: r.liveSlot,
        reason: r.reason,
        switchedAt: r.switchedAt,
        trafficBackMs: r.trafficBackMs,
        ...(traffic ? { traffic } : {}),
      },
      secrets,
    );
    await reporter.finished({ outcome: r.outcome, release: r.release, previousRelease, liveSlot: r.liveSlot, reason: r.reason, environmentUrl: stackUrl }, secrets);
    // The record's own note, when it could not be written, is on the report's steps too.
    return { ...r, steps: log.steps, ...(recordKey ? { recordKey } : {}) };
  });

  function noteUrl(url: string): void {
    if (url !== "") stackUrl = url;
  }

  async function deployLocked(lock: AcquiredLock, store: BackendStore, opened: (s: Stack) => void, previous: (r: string | undefined) => void): Promise<DeployReport> {
    // Promotion, not rebuild: refused before the stack is even opened, so nothing changes.
    const unpromoted = await promotionRefusal(store, log, { stack: opts.stack, release: opts.release, config: file.config });
    if (unpromoted) return report("failed", { reason: `refused before anything changed: ${unpromoted}` });
    const stack = await log.run("open stack", () => openStack(opts.stack, workDir), () => opts.stack);
    opened(stack);
    await recoverStack(stack, file, lock.staleHolder, store, log, { workDir, onEngineOutput: opts.onEngineOutput });
    const { current, outputs: liveOutputs } = await log.run("read state", () => readDeployed(stack), (d) => `live now: ${describeDelivery(d.current)}`);
    previous(current ? liveSpec(current).release : undefined);
    release = opts.release ?? (current ? liveSpec(current).release : file.config.release ?? "");
    if (release === "") throw new UsageError(`stack ${opts.stack} runs nothing yet: give the release to deploy (--release)`);
    const desired = await desiredSpec(stack, file, release, current);
    const liveUrl = String(liveOutputs.url?.value ?? "");
    noteUrl(liveUrl);
    const liveAnswers = current && liveUrl ? (await servesRelease(liveUrl, liveSpec(current).release)).ok : true;
    const plan = planDeploy(current, desired, liveAnswers);
    log.note(
      "plan",
      plan.noop
        ? `${release} with this config is already live on ${plan.targetSlot}`
        : `${release} → ${plan.targetSlot} (live now: ${describeDelivery(current)}${liveAnswers ? "" : ", not answering: redeploying"})`,
    );
    if (plan.noop) {
      if (current) traffic = recordedTraffic(liveOutputs, current);
      return report("unchanged", { liveSlot: plan.targetSlot });
    }

    // Policies the driver checks from config refuse here; the others decide whether a preview goes first.
    const policies = policyPreflight(file.config, policyConfig);
    if (policies.refusals.length > 0) {
      return report("failed", { reason: `refused before anything changed: ${policies.refusals.join("\n")}`, liveSlot: plan.lastGood?.liveSlot });
    }
    log.note(
      "policies",
      policies.previewBecause
        ? `previewed first: ${policies.previewBecause}`
        : "no preview: the update checks each mandatory policy of this stack before it changes anything",
    );

    // A revert that finishes leaves the stack as its state says: the record keeps it for rollback.
    const lastGood = plan.lastGood;
    const onRestored = (restored: Record<string, { value: unknown }>) => {
      if (lastGood) traffic = recordedTraffic(restored, lastGood);
    };
    await lock.update({ phase: "up", restoreTo: plan.lastGood });
    let outputs: Record<string, { value: unknown }>;
    try {
      outputs = await log.run(
        "up (slot, gate, switch)",
        () =>
          upTo(stack, file, plan.next, `deploy ${release} to ${plan.targetSlot}`, {
            workDir,
            onEngineOutput: opts.onEngineOutput,
            preview: policies.previewBecause !== undefined,
            // Advisory findings do not stop a deploy; they are printed with its steps so someone reads them.
            onPolicyAdvice: (line) => log.note("policy", line),
          }),
        () => `${release} live on ${plan.targetSlot}`,
      );
    } catch (err) {
      if (err instanceof PreviewRefusedError) {
        // Refused by its preview, or by the update at the stack's root: nothing changed, nothing to put back.
        return report("failed", { reason: `refused before anything changed: ${err.message}`, liveSlot: plan.lastGood?.liveSlot });
      }
      // A canary that failed a step had moved part of the traffic, and put it back itself.
      const why = firstLine(err);
      const reason = /canary aborted/.test(why) ? `stopped by its canary: ${why}` : `deploy failed before traffic moved: ${why}`;
      const notRestored = await revertTo(stack, file, plan.lastGood, reason, log, lock, { workDir, onEngineOutput: opts.onEngineOutput, onRestored });
      return report("failed", { reason: notRestored ? `${reason}; ${notRestored}` : reason, liveSlot: plan.lastGood?.liveSlot });
    }
    const switchedAt = Date.now();
    // What each canary step saw: a pass is worth reading too (a step without traffic proves little).
    for (const line of canaryLinesOf(outputs)) log.note("canary", line);

    await lock.update({ phase: "bake", restoreTo: plan.lastGood });
    const liveUrlNow = String(outputs.url?.value ?? "");
    noteUrl(liveUrlNow);
    const cfg = file.config;
    const spec = trafficSwitchOutput(outputs, opts.stack);
    const router = spec ? trafficSwitchFor(spec) : undefined;
    const verdict = await log.run(
      "bake",
      () =>
        bake(liveUrlNow, {
          seconds: cfg.bakeSeconds,
          intervalMs: cfg.bakeProbeIntervalMs,
          unhealthyThreshold: cfg.bakeUnhealthyThreshold,
          path: cfg.healthGate.path,
          expectedStatus: cfg.healthGate.expectedStatus,
          timeoutMs: cfg.healthGate.timeoutMs,
          // A router that watches live answers (local HAProxy) moves traffic back before any probe fails.
          routerFailedOver: router?.failedOver,
        }),
      (b) => (b.ok ? `${b.probes} probes of ${liveUrlNow} passed` : b.detail),
    );
    if (verdict.ok) {
      traffic = recordedTraffic(outputs, plan.next);
      return report("succeeded", { liveSlot: plan.targetSlot, switchedAt });
    }

    const reason = `release ${release} failed after the switch: ${verdict.detail}`;
    if (!plan.lastGood) {
      // A first deploy has nothing to go back to. Nothing is destroyed: the stack stays as it is
      // for a fix to be deployed over it.
      log.note("no revert", "a first deploy has no earlier release to go back to; nothing was destroyed");
      return report("failed", { reason: `${reason}; nothing earlier to go back to`, liveSlot: plan.targetSlot, switchedAt });
    }
    // Traffic first: the warm slot still runs the last good release, so the router alone puts
    // users back on it, now, without waiting for the engine.
    let trafficBackMs: number | undefined;
    if (router) {
      const back = plan.lastGood.liveSlot;
      await lock.update({ phase: "revert", restoreTo: plan.lastGood });
      // After the router's own failover, users are on `back` already: this makes its live map say so.
      await log.run("traffic back", () => router.pointAt(back), () => `live traffic on ${back} again${verdict.routerFailedOver ? " (the router had moved it at once)" : ""}`);
      trafficBackMs = Date.now() - verdict.firstFailureAt;
    }
    const notRestored = await revertTo(stack, file, plan.lastGood, reason, log, lock, { workDir, onEngineOutput: opts.onEngineOutput, onRestored });
    if (notRestored) return report("failed", { reason: `${reason}; ${notRestored}`, liveSlot: plan.lastGood.liveSlot, switchedAt, trafficBackMs });
    return report("reverted", { reason, liveSlot: plan.lastGood.liveSlot, switchedAt, trafficBackMs });
  }
}

/**
 * State second: re-apply what ran before (a restore: the deploy window never blocks it). With
 * nothing before (a first deploy), nothing is destroyed: the failed slot never took traffic.
 * Returns why the revert could not finish, or undefined when it did: a revert that fails (the warm
 * slot cannot start again, say) leaves live traffic where the revert's first half put it, on the
 * release that was live, and the next deploy or rollback finishes the job.
 */
export async function revertTo(
  stack: Stack,
  file: StackFile,
  lastGood: DeliveryState | undefined,
  reason: string,
  log: StepLog,
  lock: AcquiredLock,
  opts: { workDir: string; onEngineOutput?: (s: string) => void; onRestored?: (outputs: Record<string, { value: unknown }>) => void },
): Promise<string | undefined> {
  if (!lastGood) {
    log.note("no revert", "nothing ran before this first deploy; the failed slot takes no traffic and nothing was destroyed");
    return;
  }
  await lock.update({ phase: "revert", restoreTo: lastGood });
  try {
    const outputs = await log.run(
      "revert",
      () => upTo(stack, file, lastGood, `revert: ${reason}`, { ...opts, restore: { kind: "revert", reason } }),
      () => `${describeDelivery(lastGood)} again`,
    );
    opts.onRestored?.(outputs);
    return undefined;
  } catch (err) {
    // What runs is not what the state says: the next command must put lastGood back first.
    await lock.leaveForRecovery();
    return `the revert could not finish (${firstLine(err)}); live traffic stays on ${liveSpec(lastGood).release} (${lastGood.liveSlot}); run deploy or rollback again once the cause is fixed`;
  }
}
