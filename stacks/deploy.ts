import type { ConfigMap, Stack, UpdateSummary } from "@pulumi/pulumi/automation";
import * as path from "node:path";
import type { TrafficSwitchSpec } from "../components/bluegreen/platform";
import { acquireDeployLock } from "./deploy-lock";
import { deliveryConfig, deliveryFromConfig, planDeploy, type DeliveryState } from "./plan";
import { recoverInterruptedUpdate } from "./recover";
import { StepLog, firstLine, type StepRecord } from "./steps";
import "./cloudflare-switch";
import "./fly-switch";
import { trafficSwitchFor } from "./traffic";
import { bake } from "./verify";
import { engineOptions, openStack, projectDir, PROJECT, HISTORY_PAGE } from "./workspace";

export interface DeployOptions {
  stack: string;
  release: string;
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
}

const lockDir = (workDir: string) => path.join(workDir, ".pulumi", "deploy-locks");

/** The delivery state of the last successful update: what is really deployed, whatever config says now. */
export async function lastGoodState(stack: Stack, known?: UpdateSummary[]): Promise<DeliveryState | undefined> {
  const history = known ?? (await stack.history(HISTORY_PAGE, 1).catch(() => []));
  for (const update of history) {
    if (update.kind === "update" && update.result === "succeeded") {
      // An update made without the driver (npm start, a plain `pulumi up`) ran on the config's
      // defaults: its outputs say what it deployed.
      return deliveryFromConfig(update.config as ConfigMap) ?? (await deliveryFromOutputs(stack));
    }
    if (update.kind === "destroy" && update.result === "succeeded") return undefined;
  }
  return undefined;
}

async function deliveryFromOutputs(stack: Stack): Promise<DeliveryState | undefined> {
  const outputs = await stack.outputs();
  const release = outputs.release?.value as string | undefined;
  if (!release) return undefined;
  const liveSlot = outputs.liveSlot?.value === "green" ? "green" : "blue";
  const previousRelease = outputs.previousRelease?.value as string | undefined;
  return previousRelease ? { release, liveSlot, previousRelease } : { release, liveSlot };
}

export async function applyDelivery(stack: Stack, state: DeliveryState): Promise<void> {
  const set: ConfigMap = {};
  const remove: string[] = [];
  for (const [key, value] of Object.entries(deliveryConfig(state))) {
    if (value === undefined) remove.push(`flightdeck:${key}`);
    else set[`flightdeck:${key}`] = { value };
  }
  // One CLI call for all keys (each call is a process start).
  await stack.setAllConfig(set);
  if (remove.length > 0) {
    const current = await stack.getAllConfig();
    const present = remove.filter((k) => k in current);
    if (present.length > 0) await stack.removeAllConfig(present);
  }
}

function switchSpecOf(outputs: Record<string, { value: unknown }>): TrafficSwitchSpec | undefined {
  return outputs.trafficSwitch?.value as TrafficSwitchSpec | undefined;
}

/**
 * Deploys a release blue/green: preview → up (new release on the idle slot, gate, switch) → bake.
 * Any failure re-applies the last good state; after a switch, traffic goes back first (straight
 * to the router) and the stack is reconciled second.
 */
export async function deploy(opts: DeployOptions): Promise<DeployReport> {
  const started = Date.now();
  const workDir = opts.workDir ?? projectDir;
  const log = new StepLog(opts.onStep);
  const report = (outcome: DeployOutcome, extra: Partial<DeployReport> = {}): DeployReport => ({
    stack: opts.stack,
    release: opts.release,
    outcome,
    steps: log.steps,
    durationMs: Date.now() - started,
    ...extra,
  });

  const lock = await log.run("lock", async () => acquireDeployLock(lockDir(workDir), opts.stack, `deploy ${opts.release}`), (l) =>
    l.staleHolder ? `taken over from pid ${l.staleHolder.pid} (${l.staleHolder.command}), which died holding it` : "acquired",
  );
  try {
    const stack = await log.run("open stack", () => openStack(opts.stack, workDir), () => opts.stack);
    await log.run("recover", () => recoverInterruptedUpdate(stack, PROJECT, !!lock.staleHolder), (r) =>
      r.clearedLocks + r.clearedPendingOperations.length === 0
        ? "nothing interrupted"
        : `cleared ${r.clearedLocks} stale engine lock(s) and ${r.clearedPendingOperations.length} pending operation(s)` +
          (r.clearedPendingOperations.length ? `: ${r.clearedPendingOperations.join(", ")}` : ""),
    );
    const current = await lastGoodState(stack);
    const plan = planDeploy(current, opts.release);
    log.note("plan", plan.noop ? `${opts.release} is already live on ${plan.targetSlot}` : `${opts.release} → ${plan.targetSlot} (live now: ${current ? `${current.release} on ${current.liveSlot}` : "nothing"})`);
    if (plan.noop) return report("unchanged", { liveSlot: plan.targetSlot });

    const engine = engineOptions(opts.stack, workDir, opts.onEngineOutput);
    let outputs: Record<string, { value: unknown }>;
    try {
      await log.run("configure", () => applyDelivery(stack, plan.next), () => `release=${plan.next.release} liveSlot=${plan.next.liveSlot}`);
      await log.run("preview", () => stack.preview({ ...engine, message: `preview ${opts.release}` }), (p) =>
        Object.entries(p.changeSummary).map(([k, v]) => `${k}: ${v}`).join(", "),
      );
      const up = await log.run("up (slot, gate, switch)", () => stack.up({ ...engine, message: `deploy ${opts.release} to ${plan.targetSlot}` }), () =>
        `${opts.release} live on ${plan.targetSlot}`,
      );
      outputs = up.outputs;
    } catch (err) {
      const reason = `deploy failed before traffic moved: ${firstLine(err)}`;
      await revertState(stack, plan.lastGood, reason, log, engine);
      return report("failed", { reason, liveSlot: plan.lastGood?.liveSlot });
    }
    const switchedAt = Date.now();

    const liveUrl = String(outputs.url?.value ?? "");
    const cfg = await stack.getAllConfig();
    const num = (key: string, dflt: number) => Number(cfg[`flightdeck:${key}`]?.value ?? dflt);
    const gate = JSON.parse(cfg["flightdeck:healthGate"]?.value ?? "{}") as { path?: string; expectedStatus?: number; timeoutMs?: number };
    const verdict = await log.run(
      "bake",
      () =>
        bake(liveUrl, {
          seconds: num("bakeSeconds", 5),
          intervalMs: num("bakeProbeIntervalMs", 1000),
          unhealthyThreshold: num("bakeUnhealthyThreshold", 2),
          path: gate.path ?? "/healthz",
          expectedStatus: gate.expectedStatus ?? 200,
          timeoutMs: gate.timeoutMs ?? 2000,
        }),
      (b) => (b.ok ? `${b.probes} probes of ${liveUrl} passed` : b.detail),
    );
    if (verdict.ok) return report("succeeded", { liveSlot: plan.targetSlot, switchedAt });

    // Traffic first: the warm slot still runs the last good release, so the router alone puts
    // users back on it, now, without waiting for the engine.
    const reason = `release ${opts.release} failed after the switch: ${verdict.detail}`;
    let trafficBackMs: number | undefined;
    const spec = switchSpecOf(outputs);
    if (spec && plan.lastGood) {
      const back = plan.lastGood.liveSlot;
      await log.run("traffic back", () => trafficSwitchFor(spec).pointAt(back), () => `live traffic on ${back} again`);
      trafficBackMs = Date.now() - verdict.firstFailureAt;
    }
    await revertState(stack, plan.lastGood, reason, log, engine);
    return report("reverted", { reason, liveSlot: plan.lastGood?.liveSlot, switchedAt, trafficBackMs });
  } finally {
    lock.release();
  }
}

/** State second: re-apply the last good delivery config (or remove a first deploy entirely). */
async function revertState(
  stack: Stack,
  lastGood: DeliveryState | undefined,
  reason: string,
  log: StepLog,
  engine: ReturnType<typeof engineOptions>,
): Promise<void> {
  if (!lastGood) {
    await log.run("revert (destroy)", () => stack.destroy({ ...engine, message: `revert: ${reason}` }), () => "first deploy removed");
    return;
  }
  await log.run("revert config", () => applyDelivery(stack, lastGood), () => `release=${lastGood.release} liveSlot=${lastGood.liveSlot}`);
  // Refresh first: a traffic switch made outside the engine must be what the state believes.
  await log.run("revert refresh", () => stack.refresh({ ...engine, message: `refresh before revert` }), () => "state matches reality");
  await log.run("revert up", () => stack.up({ ...engine, message: `revert: ${reason}` }), () => `${lastGood.release} live on ${lastGood.liveSlot}`);
}
