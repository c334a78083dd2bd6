import * as pulumi from "@pulumi/pulumi";
import type { BlueGreenPlatform, SlotDeployment } from "../bluegreen/platform";
import type { SlotName } from "../bluegreen/slots";
import type { FlyCanarySettings } from "./contract";
import { FlyCordonRouter } from "./cordon-router";
import { declareSlotMachines, type FlyConfig } from "./fly-app";
import type { FlyMachine } from "./machine";
import { DEFAULT_HEALTH_PATH } from "../bluegreen/probe";

export interface FlyPlatformArgs {
  /** The parsed `fly` config section (app, regions, machinesPerSlot, size, internalPort). */
  readonly fly: FlyConfig;
  /** The Fly app's name, from the app resource (so machines wait for the app). */
  readonly appName: pulumi.Input<string>;
  /** Environment every slot's machines get (feature flags); never secrets. */
  readonly env: pulumi.Input<Record<string, string>>;
  /**
   * A slot's own environment, in place of `env`: a slot keeps the flags it was started with until
   * a deploy replaces it, so a flag change reaches the idle slot only and passes the gate first.
   */
  readonly slotEnv?: Partial<Record<SlotName, Record<string, string>>>;
  /** A slot's own `fly` settings (its machine size), in place of `fly`, for the same reason. */
  readonly slotFly?: Partial<Record<SlotName, FlyConfig>>;
  /** The live endpoint, e.g. `https://app.example.com`. */
  readonly url: pulumi.Input<string>;
  /**
   * Where the gate reaches a slot's machines: the app's public URL, one probe per machine with
   * `fly-force-instance-id`. @default `https://<fly.app>.fly.dev`
   */
  readonly slotUrl?: pulumi.Input<string>;
  /** Path of the machines' HTTP check. @default "/healthz" */
  readonly healthPath?: string;
  /** How long a machine update may take to start and pass its checks. @default 120000 */
  readonly updateDeadlineMs?: number;
  /**
   * The slot whose machines are in Fly's rotation now and stay there through this update (live
   * before it and after it). Its machines are declared in rotation, so an in-place update of one
   * (a drift repair) keeps serving instead of coming back cordoned. Every other machine is created
   * and updated out of rotation: only the router, after the gate, puts a slot in. @default none
   */
  readonly inRotation?: SlotName;
  /** Switch in canary steps, shares of machines in rotation (config `strategy: canary`); absent: at once. */
  readonly canary?: FlyCanarySettings;
  /** What machines wait for (the app secrets, so they boot with them). @default [] */
  readonly dependsOn?: pulumi.Resource[];
}

/** A slot is that slot's group of machines on one app; the router cordons the idle group. */
export function flyPlatform(args: FlyPlatformArgs): BlueGreenPlatform {
  const machines: Partial<Record<SlotName, FlyMachine[]>> = {};
  const slotUrl = args.slotUrl ?? `https://${args.fly.app}.fly.dev`;
  return {
    slot(slot, release, parent): SlotDeployment {
      const group = declareSlotMachines(
        "slot",
        {
          fly: args.slotFly?.[slot] ?? args.fly,
          appName: args.appName,
          slot,
          image: release,
          env: args.slotEnv?.[slot] ?? args.env,
          healthPath: args.healthPath ?? DEFAULT_HEALTH_PATH,
          updateDeadlineMs: args.updateDeadlineMs ?? 120_000,
          // Out of rotation unless the slot is live throughout this update: only the router,
          // after the gate, puts a slot in.
          cordoned: slot !== args.inRotation,
        },
        { parent, dependsOn: args.dependsOn ?? [] },
      );
      machines[slot] = group;
      return {
        url: pulumi.output(slotUrl),
        resources: group,
        probe: { instances: pulumi.all(group.map((m) => m.id)) },
      };
    },
    router(live, _slots, gate, parent) {
      const ids = (slot: SlotName) => pulumi.all((machines[slot] ?? []).map((m) => m.id));
      const router = new FlyCordonRouter(
        "router",
        { app: args.appName, live, machines: { blue: ids("blue"), green: ids("green") }, ...(args.canary ? { canary: args.canary } : {}) },
        { parent, dependsOn: [gate] },
      );
      return {
        url: pulumi.output(args.url),
        canaryReport: router.canaryReport.apply((r) => r ?? []),
        trafficSwitch: pulumi.all([router.app, router.machines]).apply(([app, m]) => ({
          kind: "fly" as const,
          app,
          machines: { blue: [...m.blue], green: [...m.green] },
        })),
      };
    },
  };
}
