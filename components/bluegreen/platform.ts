import type * as pulumi from "@pulumi/pulumi";
import type { SlotName } from "./slots";

/** A slot as declared: where it answers, and what must exist before it can be probed. */
export interface SlotDeployment {
  /** URL that reaches this slot directly (not through the router). */
  readonly url: pulumi.Output<string>;
  readonly resources: pulumi.Resource[];
  /**
   * How the gate reaches this slot's instances when `url` alone does not (fly: the app's public
   * URL, one probe per machine with `fly-force-instance-id`). Absent: probe `url` as it is.
   */
  readonly probe?: {
    readonly instances: pulumi.Output<string[]>;
    /** @default "fly-force-instance-id" */
    readonly instanceHeader?: string;
    readonly headers?: Record<string, string>;
  };
}

/**
 * How the driver switches traffic without the engine (the fast revert): the local router's admin
 * socket, the Fly machines to cordon and uncordon, or the Cloudflare record to point at a slot's
 * Fly app (two-app mode; `hostname` is the record's name, which the PATCH restates).
 */
export type TrafficSwitchSpec =
  | { kind: "local"; socketPath: string }
  | { kind: "fly"; app: string; machines: Record<SlotName, string[]> }
  | { kind: "cloudflare"; zoneId: string; recordId: string; hostname: string; targets: Record<SlotName, string> };

export interface RouterDeployment {
  /** The live endpoint. */
  readonly url: pulumi.Output<string>;
  readonly trafficSwitch: pulumi.Output<TrafficSwitchSpec>;
  /** What the last switch's canary did, a line per step; absent where the router has no canary. */
  readonly canaryReport?: pulumi.Output<string[]>;
}

/**
 * What blue/green needs from a platform: somewhere to run a release, and a router. `local` and
 * `fly` implement it; BlueGreen and the health gate never know which one they have.
 */
export interface BlueGreenPlatform {
  slot(slot: SlotName, release: string, parent: pulumi.Resource): SlotDeployment;
  /** The router sends live traffic to `live`; it must be declared to depend on `gate`. */
  router(
    live: SlotName,
    slots: Partial<Record<SlotName, SlotDeployment>>,
    gate: pulumi.Resource,
    parent: pulumi.Resource,
  ): RouterDeployment;
}
