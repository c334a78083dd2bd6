import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { flySchema } from "../../infra/config/schema";
import { FlyAppResource } from "./app";
import { FlyCertificate } from "./certificate";
import type { FlyHttpCheck, FlyMachineConfig } from "./contract";
import { FlyIpAssignment } from "./ip";
import { FlyMachine } from "./machine";
import { assertPinnedImage, featureEnv, slotLayout, slots, type Slot } from "./plan";
import { FlyAppSecrets } from "./secrets";

/** The parsed `fly` section of a stack's config. */
export type FlyConfig = z.infer<typeof flySchema>;

export interface FlyAppArgs {
  /** The parsed `fly` config section (org, app, regions, machinesPerSlot, size, internalPort). */
  readonly fly: FlyConfig;
  /** The image each slot runs, pinned by digest (`registry.fly.io/<app>@sha256:…`, e.g. Image.repoDigest). */
  readonly releases: { readonly blue: pulumi.Input<string>; readonly green: pulumi.Input<string> };
  /** Which slot takes live traffic: the other slot's machines are created cordoned. */
  readonly liveSlot: Slot;
  /** Feature flags, passed to the app as `FLAG_<NAME>=true|false`. @default {} */
  readonly features?: Record<string, boolean>;
  /** Further plain environment variables (never secrets). @default {} */
  readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** App secrets, name → value; stored as Pulumi secrets and sent to Fly's secret store only. */
  readonly secrets: pulumi.Input<Record<string, string>>;
  /** Public hostname of the environment: an ACME certificate is requested for it. */
  readonly hostname: pulumi.Input<string>;
  /** Path of the app's HTTP health check. @default "/healthz" */
  readonly healthPath?: string;
  /** How long a machine update may take to start and pass its checks. @default 120000 */
  readonly updateDeadlineMs?: number;
}

/** The machine config of one slot: everything but the image and slot metadata is shared. */
export function machineConfig(args: {
  fly: FlyConfig;
  image: string;
  slot: Slot;
  env: Record<string, string>;
  healthPath: string;
}): FlyMachineConfig {
  const check: FlyHttpCheck = {
    type: "http",
    port: args.fly.internalPort,
    method: "GET",
    path: args.healthPath,
    interval: "10s",
    timeout: "2s",
    grace_period: "5s",
  };
  return {
    image: args.image,
    guest: { cpu_kind: args.fly.size.cpuKind, cpus: args.fly.size.cpus, memory_mb: args.fly.size.memoryMb },
    env: args.env,
    services: [
      {
        protocol: "tcp",
        internal_port: args.fly.internalPort,
        ports: [
          { port: 80, handlers: ["http"], force_https: true },
          { port: 443, handlers: ["tls", "http"] },
        ],
        checks: [check],
        // Blue/green keeps both slots warm: never let Fly stop the idle slot behind our back.
        autostop: false,
        autostart: true,
      },
    ],
    checks: { health: check },
    metadata: { flightdeck_slot: args.slot, flightdeck_release: args.image },
    restart: { policy: "always" },
    stop_config: { timeout: "30s", signal: "SIGTERM" },
  };
}

/**
 * One Fly environment: the app, two blue/green slots of machines (`<app>-<slot>-<i>`, spread
 * round-robin over the regions), its secrets, a shared IPv4 and an IPv6, and a certificate
 * for the hostname. Machines of the idle slot start cordoned; the router flips cordons later.
 */
export class FlyApp extends pulumi.ComponentResource {
  /** The Fly app's name. */
  readonly appName: pulumi.Output<string>;
  /** Machine ids per slot, in index order. */
  readonly machineIds: pulumi.Output<Record<Slot, string[]>>;
  /** The machines per slot. */
  readonly machines: Record<Slot, FlyMachine[]>;
  readonly ipv4: pulumi.Output<string>;
  readonly ipv6: pulumi.Output<string>;
  readonly certificateStatus: pulumi.Output<string>;
  /** Names of the secrets Flightdeck manages (values never leave the secrets resource). */
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: FlyAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:fly:FlyApp", name, {}, opts);
    // Fail before creating anything: slots and images must be usable.
    if (!slots.includes(args.liveSlot)) throw new Error(`FlyApp ${name}: liveSlot must be "blue" or "green", got ${JSON.stringify(args.liveSlot)}`);
    for (const slot of slots) {
      const img = args.releases?.[slot];
      if (img === undefined) throw new Error(`FlyApp ${name}: releases.${slot} is missing; give each slot an image digest`);
      if (typeof img === "string") assertPinnedImage(img, `FlyApp ${name}: releases.${slot}`);
    }
    const fly = args.fly;
    const healthPath = args.healthPath ?? "/healthz";
    const updateDeadlineMs = args.updateDeadlineMs ?? 120_000;

    const app = new FlyAppResource(`${name}-app`, { org: fly.org, name: fly.app }, { parent: this });
    const appName = app.name;

    const secrets = new FlyAppSecrets(`${name}-secrets`, { app: appName, values: args.secrets }, { parent: this });

    const env = pulumi.output(args.env ?? {}).apply((e) => ({ ...e, ...featureEnv(args.features ?? {}) }));

    const machines = {} as Record<Slot, FlyMachine[]>;
    for (const slot of slots) {
      const config = pulumi.all([pulumi.output(args.releases[slot]), env]).apply(([image, e]) =>
        machineConfig({ fly, image: assertPinnedImage(image, `FlyApp ${name}: releases.${slot}`), slot, env: e, healthPath }),
      );
      machines[slot] = slotLayout(fly.app, slot, fly.machinesPerSlot, fly.regions).map(
        (p) =>
          new FlyMachine(
            `${name}-${p.slot}-${p.index}`,
            {
              app: appName,
              name: p.name,
              region: p.region,
              fallbackRegions: p.fallbackRegions,
              config,
              updateDeadlineMs,
              cordoned: slot !== args.liveSlot,
            },
            // Secrets first, so a machine boots with them.
            { parent: this, dependsOn: [secrets] },
          ),
      );
    }

    const v4 = new FlyIpAssignment(`${name}-ipv4`, { app: appName, type: "shared_v4" }, { parent: this });
    const v6 = new FlyIpAssignment(`${name}-ipv6`, { app: appName, type: "v6" }, { parent: this });
    const cert = new FlyCertificate(`${name}-cert`, { app: appName, hostname: args.hostname }, { parent: this });

    this.appName = appName;
    this.machines = machines;
    this.machineIds = pulumi.all({
      blue: pulumi.all(machines.blue.map((m) => m.id)),
      green: pulumi.all(machines.green.map((m) => m.id)),
    }) as pulumi.Output<Record<Slot, string[]>>;
    this.ipv4 = v4.ip;
    this.ipv6 = v6.ip;
    this.certificateStatus = cert.status;
    this.secretNames = secrets.names;
    this.registerOutputs({
      appName: this.appName,
      machineIds: this.machineIds,
      ipv4: this.ipv4,
      ipv6: this.ipv6,
      certificateStatus: this.certificateStatus,
      secretNames: this.secretNames,
    });
  }
}
