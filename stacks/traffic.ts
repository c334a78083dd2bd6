import type { TrafficSwitchSpec } from "../components/bluegreen/platform";
import type { SlotName } from "../components/bluegreen/slots";
import { servesRelease } from "../components/bluegreen/probe";
import { FLY_INSTANCE_HEADER } from "../components/fly/contract";
import { liveSlotFailedOver, readLiveSlot, readRouting, setLiveSlot } from "../components/local/haproxy-admin";

/** Moves live traffic without the engine: the first half of a revert (traffic first, state second). */
export interface TrafficSwitch {
  pointAt(slot: SlotName): Promise<void>;
  live(): Promise<SlotName | undefined>;
  /**
   * Whether the router moved live traffic back by itself (it watches live answers): why, or
   * undefined while the live slot serves. Absent where the router cannot (Fly's proxy, DNS).
   */
  failedOver?(): Promise<string | undefined>;
  /**
   * The live slot and whether live traffic is split between both slots now (canary steps under
   * way, or left so by a driver that died during them), in one read of the router. Absent where
   * the router has no canary.
   */
  routing?(): Promise<{ live?: SlotName; split: boolean }>;
}

type RemoteKind = Exclude<TrafficSwitchSpec["kind"], "local">;
export type TrafficSwitchFactory<K extends RemoteKind> = (spec: Extract<TrafficSwitchSpec, { kind: K }>) => TrafficSwitch;
export type FlySwitchFactory = TrafficSwitchFactory<"fly">;

// Remote switches register here (side-effect imports: stacks/fly-switch, stacks/cloudflare-switch),
// so this module, and local, need no Fly or Cloudflare code.
const factories: { [K in RemoteKind]?: TrafficSwitchFactory<K> } = {};

export function registerTrafficSwitch<K extends RemoteKind>(kind: K, factory: TrafficSwitchFactory<K>): void {
  (factories as Record<K, TrafficSwitchFactory<K>>)[kind] = factory;
}

/** The fly platform registers its switch here (kept out of this module so local needs no Fly code). */
export function registerFlySwitch(factory: FlySwitchFactory): void {
  registerTrafficSwitch("fly", factory);
}

export function trafficSwitchFor(spec: TrafficSwitchSpec): TrafficSwitch {
  switch (spec.kind) {
    case "local":
      return {
        pointAt: (slot) => setLiveSlot(spec.socketPath, slot),
        live: () => readLiveSlot(spec.socketPath),
        failedOver: () => liveSlotFailedOver(spec.socketPath),
        routing: async () => {
          const r = await readRouting(spec.socketPath);
          return { live: r.live, split: r.canary };
        },
      };
    case "fly":
      if (!factories.fly) throw new Error("the fly traffic switch is not registered (import stacks/fly-switch)");
      return factories.fly(spec);
    case "cloudflare":
      if (!factories.cloudflare) throw new Error("the cloudflare traffic switch is not registered (import stacks/cloudflare-switch)");
      return factories.cloudflare(spec);
  }
}

/** One way to reach one instance of a slot directly, bypassing the router's choice. */
export interface SlotTarget {
  url: string;
  headers?: Record<string, string>;
  /** What it is, for messages: `machine 3d8d…` or the URL. */
  label: string;
}

/**
 * Where to check a slot before moving traffic to it. On one Fly app both slots share the app's
 * URL, so the URL alone reaches whichever machine the proxy picks (the live slot's): each of the
 * slot's machines is addressed with `fly-force-instance-id` instead, as the health gate does.
 */
export function slotTargets(spec: TrafficSwitchSpec, slot: SlotName, slotUrl: string): SlotTarget[] {
  if (spec.kind !== "fly") return [{ url: slotUrl, label: slotUrl }];
  return (spec.machines[slot] ?? []).map((id) => ({ url: slotUrl, headers: { [FLY_INSTANCE_HEADER]: id }, label: `machine ${id}` }));
}

/**
 * Why `slot` cannot take live traffic for `release` now, or undefined when every instance of it
 * answers `/version` with that release: the one check before a switch made without the engine.
 */
export async function warmSlotProblem(spec: TrafficSwitchSpec, slot: SlotName, slotUrl: string, release: string): Promise<string | undefined> {
  const targets = slotTargets(spec, slot, slotUrl);
  if (targets.length === 0) return `warm slot ${slot} has no instances`;
  const probes = await Promise.all(targets.map(async (t) => ({ t, probe: await servesRelease(t.url, release, 2000, t.headers) })));
  const bad = probes.filter((p) => !p.probe.ok);
  if (bad.length === 0) return undefined;
  return `warm slot ${slot} does not serve ${release} (${bad.map((p) => `${p.t.label}: ${p.probe.detail}`).join("; ")})`;
}
