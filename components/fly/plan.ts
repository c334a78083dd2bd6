/**
 * Pure decisions behind Flightdeck's Fly resources: image pinning, region placement, the layout
 * of a slot's machines, and what a change to a machine means (update in place or replace).
 * No I/O here: the providers and the components call these, and tests call them directly.
 */
import type { FlyMachineConfig, FlyMachineInputs } from "./contract";
import type { SlotName } from "../bluegreen/slots";

/** `<repository>@sha256:<64 hex>`, e.g. `registry.fly.io/my-app@sha256:ab…`. */
export const pinnedImagePattern = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*@sha256:[0-9a-f]{64}$/;

export function isPinnedImage(image: string): boolean {
  return pinnedImagePattern.test(image);
}

/** Throws when an image is not pinned by digest: machines never run a mutable tag. */
export function assertPinnedImage(image: unknown, where: string): string {
  if (typeof image !== "string" || !isPinnedImage(image)) {
    throw new Error(
      `${where}: image ${JSON.stringify(image)} is not pinned by digest; ` +
        "use <repository>@sha256:<64 hex> (for example Image.repoDigest), never a tag such as :latest",
    );
  }
  return image;
}

/** The digest part of a pinned image (`sha256:…`). */
export function imageDigest(image: string): string {
  return image.slice(image.indexOf("@") + 1);
}

/** The regions a machine creation tries, in order: its own, then each fallback once. */
export function regionPlan(region: string, fallbackRegions: readonly string[]): string[] {
  return [...new Set([region, ...fallbackRegions])];
}

export type Slot = SlotName;
export const slots: readonly Slot[] = ["blue", "green"];

export interface MachinePlacement {
  slot: Slot;
  index: number;
  /** `<app>-<slot>-<index>`. */
  name: string;
  region: string;
  /** The other configured regions, in configured order starting after `region`. */
  fallbackRegions: string[];
}

/** Machines of one slot, spread round-robin over the regions (machine i goes to region i mod n). */
export function slotLayout(app: string, slot: Slot, count: number, regions: readonly string[]): MachinePlacement[] {
  if (regions.length === 0) throw new Error(`fly.regions is empty for app ${app}: configure at least one region`);
  return Array.from({ length: count }, (_, index) => {
    const r = index % regions.length;
    const rotated = [...regions.slice(r + 1), ...regions.slice(0, r)];
    return { slot, index, name: `${app}-${slot}-${index}`, region: regions[r], fallbackRegions: rotated };
  });
}

/** Feature flags as environment variables: `FLAG_<NAME>=true|false`. */
export function featureEnv(features: Record<string, boolean>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(features)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [`FLAG_${k.toUpperCase()}`, String(v)]),
  );
}

/** Deterministic JSON: object keys sorted, so equal values compare equal whatever their key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/**
 * Inputs of a machine that Fly cannot change in place, so a change replaces the machine:
 * - `app`: a machine belongs to one app for life.
 * - `region`: a machine lives on a host in one region; Fly moves nothing between regions.
 * - `name`: the machine's identity in Flightdeck (`<app>-<slot>-<i>`); a new name is a new machine.
 * Everything in `config` (image, guest size, env, services, checks, metadata, restart, stop
 * config) is updated in place by `POST /apps/{app}/machines/{id}`, which keeps the machine id.
 * `fallbackRegions` and `updateDeadlineMs` only steer our own create/update and change nothing at Fly.
 * `cordoned` is the initial state only: after creation the blue/green router owns cordons, so a
 * change is ignored here (otherwise every router flip would be "drift" that `up` undoes).
 */
export const machineReplaceKeys = ["app", "region", "name"] as const;
export const machineBookkeepingKeys = ["fallbackRegions", "updateDeadlineMs"] as const;

export interface MachineDiffResult {
  changes: boolean;
  replaces: string[];
  /** True when only bookkeeping changed: update must not call Fly. */
  configChanged: boolean;
  detailedDiff: Record<string, { kind: "update" | "update-replace"; inputDiff: true }>;
}

export function machineDiff(olds: Partial<FlyMachineInputs>, news: FlyMachineInputs): MachineDiffResult {
  const detailedDiff: MachineDiffResult["detailedDiff"] = {};
  const replaces: string[] = [];
  for (const k of machineReplaceKeys) {
    if (stableJson(olds[k]) !== stableJson(news[k])) {
      replaces.push(k);
      detailedDiff[k] = { kind: "update-replace", inputDiff: true };
    }
  }
  for (const k of machineBookkeepingKeys) {
    if (stableJson(olds[k]) !== stableJson(news[k])) detailedDiff[k] = { kind: "update", inputDiff: true };
  }
  const oldConfig = (olds.config ?? {}) as Partial<FlyMachineConfig>;
  const keys = new Set([...Object.keys(oldConfig), ...Object.keys(news.config)]) as Set<keyof FlyMachineConfig>;
  let configChanged = false;
  for (const k of [...keys].sort()) {
    if (stableJson(oldConfig[k]) !== stableJson(news.config[k])) {
      configChanged = true;
      detailedDiff[`config.${k}`] = { kind: "update", inputDiff: true };
    }
  }
  return { changes: Object.keys(detailedDiff).length > 0, replaces, configChanged, detailedDiff };
}

/**
 * The part of a machine's config at Fly that Flightdeck manages: the top-level fields we send,
 * and of `metadata` only our keys (Fly adds its own, such as `fly_platform_version`). Refresh
 * compares this view with the stored inputs, so Fly's defaults are not reported as drift.
 */
export function managedConfig(remote: Record<string, unknown>, desired: FlyMachineConfig): FlyMachineConfig {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(desired) as (keyof FlyMachineConfig)[]) {
    if (k === "metadata") {
      const rm = (remote.metadata ?? {}) as Record<string, string>;
      out.metadata = Object.fromEntries(Object.keys(desired.metadata ?? {}).filter((m) => m in rm).map((m) => [m, rm[m]]));
    } else if (remote[k] !== undefined) {
      out[k] = remote[k];
    }
  }
  return out as unknown as FlyMachineConfig;
}

/** One cordon call of the blue/green router. */
export interface CordonStep {
  action: "uncordon" | "cordon";
  machine: string;
  slot: Slot;
}

/**
 * The steps that make `live` the slot in rotation: every live machine is uncordoned FIRST, then
 * every other machine is cordoned, so at no moment is the app left without a machine in rotation.
 */
export function cordonPlan(live: Slot, machines: Record<Slot, readonly string[]>): CordonStep[] {
  const other: Slot = live === "blue" ? "green" : "blue";
  return [
    ...machines[live].map((machine) => ({ action: "uncordon" as const, machine, slot: live })),
    ...machines[other].map((machine) => ({ action: "cordon" as const, machine, slot: other })),
  ];
}

/** The cordon state (machine id → cordoned) that a router pointing at `live` leaves behind. */
export function cordonState(live: Slot, machines: Record<Slot, readonly string[]>): Record<string, boolean> {
  return Object.fromEntries(cordonPlan(live, machines).map((s) => [s.machine, s.action === "cordon"]));
}

/**
 * The steps that put back the cordon state found before a switch, for the machines the switch
 * touched (the failed step included: its outcome is unknown). A machine missing from `found` was
 * created cordoned (the fly platform creates every machine out of rotation). Uncordons first,
 * for the same reason as in `cordonPlan`.
 */
export function restorePlan(found: Record<string, boolean>, touched: readonly CordonStep[]): CordonStep[] {
  const back = new Map<string, CordonStep>();
  for (const step of touched) {
    const wasCordoned = found[step.machine] ?? true;
    if (wasCordoned !== (step.action === "cordon")) back.set(step.machine, { ...step, action: wasCordoned ? "cordon" : "uncordon" });
  }
  const steps = [...back.values()];
  return [...steps.filter((s) => s.action === "uncordon"), ...steps.filter((s) => s.action === "cordon")];
}

/** One canary step on one Fly app: how many machines of each slot are in rotation, and the new release's share. */
export interface FlyCanaryStep {
  /** The share the config asked for, in percent. */
  asked: number;
  /** The new release's share of the machines in rotation, in percent (rounded): what the step gives it. */
  percent: number;
  /** New-release machines in rotation. */
  canaryIn: number;
  /** Stable-release machines in rotation (at least one: the stable release keeps serving). */
  stableIn: number;
}

const shareOf = (canaryIn: number, stableIn: number) => (100 * canaryIn) / (canaryIn + stableIn);

/**
 * The canary's steps as shares of machines in rotation, the closest each slot's machine count
 * allows to each asked percentage (on a tie, the one with more machines serving). Fly's proxy
 * balances requests over the machines in rotation, so a share of machines is the weight it can
 * give. Steps that come out no larger than the one before are dropped: two machines per slot
 * give 33%, 50% or 67%, so steps of 5% and 25% are one step of 33%. The switch to 100% follows.
 */
export function flyCanarySteps(asked: readonly number[], stableCount: number, canaryCount: number): FlyCanaryStep[] {
  const steps: FlyCanaryStep[] = [];
  for (const want of asked) {
    let best: FlyCanaryStep | undefined;
    for (let n = 1; n <= canaryCount; n++) {
      for (let k = 1; k <= stableCount; k++) {
        const gap = Math.abs(shareOf(n, k) - want);
        const bestGap = best ? Math.abs(shareOf(best.canaryIn, best.stableIn) - want) : Infinity;
        if (gap < bestGap - 1e-9 || (Math.abs(gap - bestGap) <= 1e-9 && n + k > best!.canaryIn + best!.stableIn)) {
          best = { asked: want, percent: Math.round(shareOf(n, k)), canaryIn: n, stableIn: k };
        }
      }
    }
    const last = steps.at(-1);
    if (best && (!last || shareOf(best.canaryIn, best.stableIn) > shareOf(last.canaryIn, last.stableIn) + 1e-9)) steps.push(best);
  }
  return steps;
}

/**
 * The cordon calls that give one canary step its machines in rotation: the first `canaryIn` of the
 * new slot's and the first `stableIn` of the stable slot's, every other machine out. Uncordons
 * first, as in `cordonPlan`; only machines whose state `found` says differs are touched.
 */
export function canaryCordonPlan(step: FlyCanaryStep, stable: Slot, canary: Slot, machines: Record<Slot, readonly string[]>, found: Record<string, boolean>): CordonStep[] {
  const wanted: CordonStep[] = [
    ...machines[canary].map((machine, i) => ({ action: i < step.canaryIn ? ("uncordon" as const) : ("cordon" as const), machine, slot: canary })),
    ...machines[stable].map((machine, i) => ({ action: i < step.stableIn ? ("uncordon" as const) : ("cordon" as const), machine, slot: stable })),
  ];
  const needed = wanted.filter((s) => (found[s.machine] ?? true) !== (s.action === "cordon"));
  return [...needed.filter((s) => s.action === "uncordon"), ...needed.filter((s) => s.action === "cordon")];
}

/** The cordon state after `steps` ran from `found`. */
export function afterCordonSteps(found: Record<string, boolean>, steps: readonly CordonStep[]): Record<string, boolean> {
  return { ...found, ...Object.fromEntries(steps.map((s) => [s.machine, s.action === "cordon"])) };
}
