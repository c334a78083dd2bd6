import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import type { CanarySettings } from "../bluegreen/canary-analysis";
import type { BlueGreenPlatform, SlotDeployment } from "../bluegreen/platform";
import type { SlotName } from "../bluegreen/slots";
import { LocalApp } from "./app";
import { LocalRouter } from "./router";

/** What one slot's process runs besides its release. */
export interface LocalSlotSettings {
  /** Absolute directory of the app to run. */
  appDir: string;
  command: string[];
  /** Environment of the slot's process (feature flags). */
  env: Record<string, string>;
  /** Which app secrets the slot runs with (its spec's digest); "" for none. */
  secretsDigest: string;
}

export interface LocalPlatformArgs {
  /**
   * Each slot's own settings: a slot keeps what it was started with until a deploy replaces it,
   * so a config change reaches the idle slot only and goes through the gate.
   */
  slots: Partial<Record<SlotName, LocalSlotSettings>>;
  ports: { proxy: number; admin: number } & Record<SlotName, number>;
  /** App secrets every slot receives as environment (a Pulumi secret). @default none */
  secrets?: pulumi.Output<Record<string, string>>;
  /** Where processes keep logs, pid files and HAProxy's files. */
  stateDir: string;
  /** @default "haproxy" */
  haproxy?: string;
  /** The router's own check of each slot (the health gate's path and status). */
  healthCheck: { path: string; expectedStatus: number };
  /** Switch in canary steps (config `strategy: canary`); absent: at once. */
  canary?: CanarySettings;
  /**
   * Put before each resource's name, so several apps' platforms can share one stack (resource names
   * are unique per stack, whatever their parents). @default "" (the local stack's one app)
   */
  namePrefix?: string;
}

/** Slots are local processes of the app; the router is HAProxy driven through its runtime API. */
export function localPlatform(args: LocalPlatformArgs): BlueGreenPlatform {
  const apps: Partial<Record<SlotName, LocalApp>> = {};
  return {
    slot(slot, release, parent): SlotDeployment {
      const settings = args.slots[slot];
      if (!settings) throw new Error(`local platform: no settings for slot ${slot}`);
      const app = new LocalApp(
        `${args.namePrefix ?? ""}slot-${slot}`,
        {
          release,
          appDir: settings.appDir,
          command: settings.command,
          port: args.ports[slot],
          env: settings.env,
          secretEnv: args.secrets ?? {},
          secretsDigest: settings.secretsDigest,
          logDir: path.join(args.stateDir, "logs"),
          runDir: path.join(args.stateDir, "run"),
        },
        { parent },
      );
      apps[slot] = app;
      return { url: app.url, resources: [app] };
    },
    router(live, _slots, gate, parent) {
      const liveApp = apps[live];
      if (!liveApp) throw new Error(`local platform: the live slot ${live} was not declared`);
      const router = new LocalRouter(
        `${args.namePrefix ?? ""}router`,
        {
          stateDir: path.join(args.stateDir, "haproxy"),
          proxyPort: args.ports.proxy,
          adminPort: args.ports.admin,
          servers: { blue: args.ports.blue, green: args.ports.green },
          live,
          livePid: liveApp.pid,
          haproxy: args.haproxy ?? "haproxy",
          healthCheck: args.healthCheck,
          ...(args.canary ? { canary: args.canary } : {}),
        },
        { parent, dependsOn: [gate] },
      );
      return {
        url: router.url,
        trafficSwitch: router.socketPath.apply((socketPath) => ({ kind: "local" as const, socketPath })),
        canaryReport: router.canaryReport.apply((r) => r ?? []),
      };
    },
  };
}
