import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { backendStore } from "./backend-store";
import { readDeployLock, type LockView } from "./deploy-lock";
import "./cloudflare-switch";
import "./fly-switch";
import { trafficSwitchFor } from "./traffic";
import { readStackFile } from "./stack-file";
import { trafficSwitchOutput } from "./traffic-spec";
import { probeHttp, servesRelease } from "../components/bluegreen/probe";
import { deliveryFromConfig, liveSpec } from "./plan";
import { deliveryMetrics, type DeliveryMetrics } from "./metrics";
import { readRecords, type DeploymentRecord, type UnreadableRecord } from "./records";
import { servedSlot } from "./served";
import { deployedState, readDeployed } from "./update";
import { openStack, projectDir, HISTORY_PAGE } from "./workspace";

export type { DeploymentRecord } from "./records";
// The metrics live in stacks/metrics.ts; re-exported for the modules and tests that import them from here.
export { deliveryMetrics, type DeliveryMetrics } from "./metrics";

/** One update from the engine's history: its result is the engine's, not the deploy's outcome. */
export interface EngineUpdate {
  version: number;
  kind: string;
  message: string;
  result: string;
  startedAt: string;
  durationMs: number;
  release?: string;
  liveSlot?: string;
}

export interface StackStatus {
  stack: string;
  url?: string;
  release?: string;
  previousRelease?: string;
  /** Live slot as the stack's state records it. */
  liveSlot?: string;
  /** Live slot as the router reports it right now (the truth users see). */
  routerLiveSlot?: string;
  healthy: boolean;
  health: string;
  /** How the router's live slot was found: asked (local, Cloudflare) or read from the live answers (Fly). */
  routerSeenBy?: "router" | "answers";
  /** What the live answers showed, when they were read. */
  servedDetail?: string;
  /** Whether state and router agree; false means a revert is half done or someone switched by hand. */
  consistent: boolean;
  /** The newest deployment records (outcome as the driver decided it), newest first. */
  lastDeployments: DeploymentRecord[];
  /** When the stack has fewer records than that: its updates from before records were kept. */
  engineHistory: EngineUpdate[];
  /** Blobs under the records prefix that are not valid records. */
  unreadable: UnreadableRecord[];
  /** A deploy, rollback or up holding the stack's lock now, or one that died holding it. */
  command?: LockView;
}

/**
 * History newest first, with versions. The file backend records every update as version 0, so
 * the position is the version there: the oldest update is 1.
 */
export function numberHistory<T extends { version: number }>(history: T[]): T[] {
  return history.map((u, i) => (u.version > 0 ? u : { ...u, version: history.length - i }));
}

export function toEngineUpdate(u: UpdateSummary): EngineUpdate {
  const delivery = deliveryFromConfig(u.config);
  return {
    version: u.version,
    kind: u.kind,
    message: u.message,
    result: u.result,
    startedAt: new Date(u.startTime).toISOString(),
    durationMs: new Date(u.endTime).getTime() - new Date(u.startTime).getTime(),
    release: delivery ? liveSpec(delivery).release : undefined,
    liveSlot: delivery?.liveSlot,
  };
}

/** Healthy means the live URL passes the health check and serves the release the state records. */
async function probe(url: string, release: string | undefined, gate: { path: string; expectedStatus: number }): Promise<{ healthy: boolean; health: string }> {
  const { path, expectedStatus } = gate;
  const h = await probeHttp(`${url}${path}`, { expectedStatus, timeoutMs: 2000 });
  if (!h.ok) return { healthy: false, health: `${h.detail} from ${url}${path}` };
  if (release === undefined) return { healthy: true, health: `${h.detail} from ${url}${path}` };
  const v = await servesRelease(url, release);
  return { healthy: v.ok, health: v.ok ? `${h.detail} from ${url}${path}; ${v.detail}` : `${url} ${v.detail}` };
}

/** What status reports as the router's live slot while it splits traffic between both. */
export const SPLIT = "both slots (canary steps)";

/** What is live, whether it answers, and the last deployments. */
export async function status(stackName: string, workDir = projectDir): Promise<StackStatus> {
  // Its health check is the stack's own (config healthGate), as the gate and the bake probe it.
  const gate = readStackFile(workDir, stackName).config.healthGate;
  const stack = await openStack(stackName, workDir);
  // A state that cannot be read is the driver's one message (how to restore), not the engine's error.
  const { outputs } = await readDeployed(stack);
  // Outputs arrive decrypted: a secret one is never printed, whatever its name.
  const val = (k: string) => (outputs[k]?.value === undefined ? undefined : outputs[k]!.secret ? "[secret]" : String(outputs[k]!.value));
  const url = val("url");
  const spec = trafficSwitchOutput(outputs, stackName);
  const router = spec ? trafficSwitchFor(spec) : undefined;
  // Canary steps (or a driver that died in them) split traffic: no one slot is live, and status says so.
  const routing = router?.routing ? await router.routing().catch(() => undefined) : undefined;
  const asked = routing ? (routing.split ? SPLIT : routing.live) : await router?.live().catch(() => undefined);
  // A router that cannot be asked (Fly's cordons) is read from what users are served instead.
  const current = asked === undefined && url ? await deployedState(stack) : undefined;
  const served = current && url ? await servedSlot(url, current) : undefined;
  const routerLiveSlot = asked ?? served?.slot;
  const health = url ? await probe(url, val("release"), gate) : { healthy: false, health: "nothing deployed" };
  const LAST = 5;
  const { records, unreadable, command } = await recordsOf(stackName, workDir, { lock: true });
  const engine = records.length < LAST ? predating(numberHistory(await stack.history(HISTORY_PAGE, 1)).map(toEngineUpdate), records) : [];
  return {
    stack: stackName,
    url,
    release: val("release"),
    previousRelease: val("previousRelease"),
    liveSlot: val("liveSlot"),
    routerLiveSlot,
    routerSeenBy: asked !== undefined ? "router" : served ? "answers" : undefined,
    servedDetail: served?.detail,
    ...health,
    consistent: !served?.mixed && (routerLiveSlot === undefined || routerLiveSlot === val("liveSlot")),
    lastDeployments: records.slice(0, LAST),
    engineHistory: engine.slice(0, LAST - Math.min(records.length, LAST)),
    unreadable,
    ...(command ? { command } : {}),
  };
}

/**
 * A stack's deployment records from the store beside its state, newest first (history, status,
 * metrics); with `lock`, also the command holding its deploy lock, if any (for status): the deploy
 * in progress, or the one a kill -9 interrupted, which no record tells of yet.
 */
export async function recordsOf(
  stackName: string,
  workDir: string,
  opts: { lock?: boolean } = {},
): Promise<{ records: DeploymentRecord[]; unreadable: UnreadableRecord[]; command?: LockView }> {
  const store = backendStore(workDir);
  try {
    const [read, command] = await Promise.all([readRecords(store, stackName), opts.lock ? readDeployLock(store, stackName) : undefined]);
    return { ...read, ...(command ? { command } : {}) };
  } finally {
    await store.close();
  }
}

/** The engine's updates from before the oldest record: what history shows for a stack's earlier life. */
export function predating(updates: EngineUpdate[], records: DeploymentRecord[]): EngineUpdate[] {
  const oldest = records.at(-1)?.startedAt;
  return oldest === undefined ? updates : updates.filter((u) => u.startedAt < oldest);
}

export interface StackHistory {
  stack: string;
  /** Deployment records, newest first: the outcome each deploy, rollback and up really had. */
  deployments: DeploymentRecord[];
  /** Blobs under the records prefix that are not valid records, with why. */
  unreadable: UnreadableRecord[];
  /** The engine's update history, newest first, numbered: the versions `rollback --to` takes. */
  records: EngineUpdate[];
  /** Of those, the updates from before the oldest record (shown as "(engine history)"). */
  earlier: EngineUpdate[];
  /** Counted from the deployment records only. */
  metrics: DeliveryMetrics;
}

export async function history(stackName: string, workDir = projectDir): Promise<StackHistory> {
  const stack = await openStack(stackName, workDir);
  const records = numberHistory(await stack.history(HISTORY_PAGE, 1)).map(toEngineUpdate);
  const { records: deployments, unreadable } = await recordsOf(stackName, workDir);
  return { stack: stackName, deployments, unreadable, records, earlier: predating(records, deployments), metrics: deliveryMetrics(deployments) };
}
