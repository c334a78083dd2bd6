import * as pulumi from "@pulumi/pulumi";
import type { BlueGreenPlatform, SlotDeployment } from "../bluegreen/platform";
import { SLOTS, type SlotName } from "../bluegreen/slots";
import { CloudflareRecordRouter } from "../cloudflare/record-router";
import { flyAppTarget } from "../cloudflare/switch-plan";
import { declareSlotMachines, FlyAppCore, type FlyConfig } from "./fly-app";
import { DEFAULT_HEALTH_PATH } from "../bluegreen/probe";

/** The app of one slot in two-app mode: `<fly.app>-<slot>`. */
export function twoAppName(app: string, slot: SlotName): string {
  return `${app}-${slot}`;
}

/**
 * The two apps of two-app mode, `<fly.app>-blue` and `<fly.app>-green` (Pulumi names
 * `<name>-blue`, `<name>-green`), each with its secrets, IPs and the hostname's certificate: both
 * always exist, so the record can be switched to either without creating anything first.
 */
export function declareTwoApps(
  name: string,
  args: { fly: FlyConfig; secrets: pulumi.Input<Record<string, string>>; hostname: pulumi.Input<string> },
  opts?: pulumi.ComponentResourceOptions,
): Record<SlotName, FlyAppCore> {
  const app = (slot: SlotName) =>
    new FlyAppCore(`${name}-${slot}`, { fly: { ...args.fly, app: twoAppName(args.fly.app, slot) }, secrets: args.secrets, hostname: args.hostname }, opts);
  return { blue: app("blue"), green: app("green") };
}

export interface FlyTwoAppPlatformArgs {
  /** The parsed `fly` config section; `fly.app` is the base name of the two apps. */
  readonly fly: FlyConfig;
  /** The two apps (`declareTwoApps`): machines wait for their app's secrets. */
  readonly apps: Record<SlotName, FlyAppCore>;
  /** The proxied record the router switches (PublicHostname's outputs). */
  readonly record: pulumi.Input<{ zoneId: string; recordId: string }>;
  /** The record's name: the environment's hostname. */
  readonly hostname: pulumi.Input<string>;
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
  /** Where the gate reaches a slot's app. @default `https://<fly.app>-<slot>.fly.dev` */
  readonly slotUrl?: (slot: SlotName) => pulumi.Input<string>;
  /** Path of the machines' HTTP check. @default "/healthz" */
  readonly healthPath?: string;
  /** How long a machine update may take to start and pass its checks. @default 120000 */
  readonly updateDeadlineMs?: number;
}

/**
 * Two-app blue/green on Fly: each slot is its own app, all of its machines in rotation (never
 * cordoned: the app only takes live traffic once the record points at it); the router is the
 * Cloudflare record.
 */
export function flyTwoAppPlatform(args: FlyTwoAppPlatformArgs): BlueGreenPlatform {
  const slotUrl = args.slotUrl ?? ((slot: SlotName) => `https://${twoAppName(args.fly.app, slot)}.fly.dev`);
  return {
    slot(slot, release, parent): SlotDeployment {
      const app = args.apps[slot];
      // Machine names stay `<fly.app>-<slot>-<i>` (the base name), so they read the same in both modes.
      const group = declareSlotMachines(
        "slot",
        {
          fly: args.slotFly?.[slot] ?? args.fly,
          appName: app.appName,
          slot,
          image: release,
          env: args.slotEnv?.[slot] ?? args.env,
          healthPath: args.healthPath ?? DEFAULT_HEALTH_PATH,
          updateDeadlineMs: args.updateDeadlineMs ?? 120_000,
          cordoned: false,
        },
        { parent, dependsOn: [app.secrets] },
      );
      return {
        url: pulumi.output(slotUrl(slot)),
        resources: group,
        // Every machine of the new app passes, not just the one Fly's proxy happens to pick.
        probe: { instances: pulumi.all(group.map((m) => m.id)) },
      };
    },
    router(live, _slots, gate, parent) {
      const targets = Object.fromEntries(SLOTS.map((s) => [s, flyAppTarget(twoAppName(args.fly.app, s))])) as Record<SlotName, string>;
      const record = pulumi.output(args.record);
      const router = new CloudflareRecordRouter(
        "router",
        { zoneId: record.zoneId, recordId: record.recordId, hostname: args.hostname, live, targets },
        { parent, dependsOn: [gate] },
      );
      return {
        url: pulumi.output(args.url),
        trafficSwitch: pulumi.all([router.zoneId, router.recordId, router.hostname, router.targets]).apply(([zoneId, recordId, hostname, t]) => ({
          kind: "cloudflare" as const,
          zoneId,
          recordId,
          hostname,
          targets: { blue: t.blue, green: t.green },
        })),
      };
    },
  };
}
