import type { UpdateSummary } from "@pulumi/pulumi/automation";
import type { TrafficSwitchSpec } from "../components/bluegreen/platform";
import "./cloudflare-switch";
import "./fly-switch";
import { trafficSwitchFor } from "./traffic";
import { openStack, projectDir, HISTORY_PAGE } from "./workspace";

export interface DeploymentRecord {
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
  /** Whether state and router agree; false means a revert is half done or someone switched by hand. */
  consistent: boolean;
  lastDeployments: DeploymentRecord[];
}

/**
 * History newest first, with versions. The file backend records every update as version 0, so
 * the position is the version there: the oldest update is 1.
 */
export function numberHistory<T extends { version: number }>(history: T[]): T[] {
  return history.map((u, i) => (u.version > 0 ? u : { ...u, version: history.length - i }));
}

export function toRecord(u: UpdateSummary): DeploymentRecord {
  return {
    version: u.version,
    kind: u.kind,
    message: u.message,
    result: u.result,
    startedAt: new Date(u.startTime).toISOString(),
    durationMs: new Date(u.endTime).getTime() - new Date(u.startTime).getTime(),
    release: u.config?.["flightdeck:release"]?.value,
    liveSlot: u.config?.["flightdeck:liveSlot"]?.value,
  };
}

async function probe(url: string): Promise<{ healthy: boolean; health: string }> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return { healthy: res.status === 200, health: `HTTP ${res.status} from ${url}/healthz` };
  } catch (err) {
    return { healthy: false, health: `no answer from ${url}/healthz: ${(err as Error).message}` };
  }
}

/** What is live, whether it answers, and the last deployments. */
export async function status(stackName: string, workDir = projectDir): Promise<StackStatus> {
  const stack = await openStack(stackName, workDir);
  const outputs = await stack.outputs();
  // Outputs arrive decrypted: a secret one is never printed, whatever its name.
  const val = (k: string) => (outputs[k]?.value === undefined ? undefined : outputs[k]!.secret ? "[secret]" : String(outputs[k]!.value));
  const url = val("url");
  const spec = outputs.trafficSwitch?.value as TrafficSwitchSpec | undefined;
  const routerLiveSlot = spec ? await trafficSwitchFor(spec).live().catch(() => undefined) : undefined;
  const health = url ? await probe(url) : { healthy: false, health: "nothing deployed" };
  const history = numberHistory(await stack.history(HISTORY_PAGE, 1).catch(() => [])).slice(0, 5);
  return {
    stack: stackName,
    url,
    release: val("release"),
    previousRelease: val("previousRelease"),
    liveSlot: val("liveSlot"),
    routerLiveSlot,
    ...health,
    consistent: routerLiveSlot === undefined || routerLiveSlot === val("liveSlot"),
    lastDeployments: history.map(toRecord),
  };
}

export interface DeliveryMetrics {
  deploys: number;
  succeeded: number;
  reverted: number;
  rollbacks: number;
  /** Share of deploys that had to be reverted (change failure rate). */
  changeFailureRate: number;
  medianDeployMs: number;
}

/** Delivery metrics from update messages the driver writes ("deploy …", "revert: …", "rollback …"). */
export function deliveryMetrics(records: DeploymentRecord[]): DeliveryMetrics {
  const deploys = records.filter((r) => r.message.startsWith("deploy "));
  const reverted = records.filter((r) => r.message.startsWith("revert:")).length;
  const rollbacks = records.filter((r) => r.message.startsWith("rollback ")).length;
  const durations = deploys.map((d) => d.durationMs).sort((a, b) => a - b);
  return {
    deploys: deploys.length,
    succeeded: deploys.length - reverted,
    reverted,
    rollbacks,
    changeFailureRate: deploys.length ? reverted / deploys.length : 0,
    medianDeployMs: durations.length ? durations[Math.floor(durations.length / 2)] : 0,
  };
}

export async function history(stackName: string, workDir = projectDir): Promise<{ records: DeploymentRecord[]; metrics: DeliveryMetrics }> {
  const stack = await openStack(stackName, workDir);
  const records = numberHistory(await stack.history(HISTORY_PAGE, 1)).map(toRecord);
  return { records, metrics: deliveryMetrics(records) };
}
