import type { UpdateSummary } from "@pulumi/pulumi/automation";
import type { TrafficSwitchSpec } from "../components/bluegreen/platform";
import "./cloudflare-switch";
import "./fly-switch";
import { trafficSwitchFor } from "./traffic";
import { probeHttp, servesRelease } from "../components/bluegreen/probe";
import { deliveryFromConfig, liveSpec } from "./plan";
import { servedSlot } from "./served";
import { deployedState } from "./update";
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
  /** How the router's live slot was found: asked (local, Cloudflare) or read from the live answers (Fly). */
  routerSeenBy?: "router" | "answers";
  /** What the live answers showed, when they were read. */
  servedDetail?: string;
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
async function probe(url: string, release: string | undefined, path = "/healthz", expectedStatus = 200): Promise<{ healthy: boolean; health: string }> {
  const h = await probeHttp(`${url}${path}`, { expectedStatus, timeoutMs: 2000 });
  if (!h.ok) return { healthy: false, health: `${h.detail} from ${url}${path}` };
  if (release === undefined) return { healthy: true, health: `${h.detail} from ${url}${path}` };
  const v = await servesRelease(url, release);
  return { healthy: v.ok, health: v.ok ? `${h.detail} from ${url}${path}; ${v.detail}` : `${url} ${v.detail}` };
}

/** What is live, whether it answers, and the last deployments. */
export async function status(stackName: string, workDir = projectDir): Promise<StackStatus> {
  const stack = await openStack(stackName, workDir);
  const outputs = await stack.outputs();
  // Outputs arrive decrypted: a secret one is never printed, whatever its name.
  const val = (k: string) => (outputs[k]?.value === undefined ? undefined : outputs[k]!.secret ? "[secret]" : String(outputs[k]!.value));
  const url = val("url");
  const spec = outputs.trafficSwitch?.value as TrafficSwitchSpec | undefined;
  const asked = spec ? await trafficSwitchFor(spec).live().catch(() => undefined) : undefined;
  // A router that cannot be asked (Fly's cordons) is read from what users are served instead.
  const current = asked === undefined && url ? await deployedState(stack) : undefined;
  const served = current && url ? await servedSlot(url, current) : undefined;
  const routerLiveSlot = asked ?? served?.slot;
  const health = url ? await probe(url, val("release")) : { healthy: false, health: "nothing deployed" };
  const history = numberHistory(await stack.history(HISTORY_PAGE, 1)).slice(0, 5);
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
