import * as pulumi from "@pulumi/pulumi";
import { FlyAppResource } from "./app";
import { FlyCertificate } from "./certificate";
import type { FlyHttpCheck, FlyMachineConfig } from "./contract";
import { FlyIpAssignment } from "./ip";
import { FlyMachine } from "./machine";
import { slotLayout, type Slot } from "./plan";
import { FlyAppSecrets } from "./secrets";

/**
 * The Fly settings the components take. Declared here, not derived from the stack config's schema,
 * so components never import the program's config layer; infra/config/schema.ts checks that its
 * parsed `fly` section fits this.
 */
export interface FlyConfig {
  org: string;
  app: string;
  regions: string[];
  machinesPerSlot: number;
  size: { cpuKind: "shared" | "performance"; cpus: number; memoryMb: number };
  internalPort: number;
  router: "cordon" | "cloudflare";
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
    // The release the app reports on /version, as the local platform sets it: readiness, rollback
    // and status compare answers with the release byte for byte, and Fly's FLY_IMAGE_REF is not
    // documented to return a digest reference unchanged (docs/fly-emulator.md).
    env: { ...args.env, APP_VERSION: args.image },
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

/** The resources of an app that both slots share. */
export interface FlyAppResources {
  app: FlyAppResource;
  secrets: FlyAppSecrets;
  ipv4: FlyIpAssignment;
  ipv6: FlyIpAssignment;
  certificate: FlyCertificate;
}

/** Declares the app, its secrets, a shared IPv4, an IPv6 and the hostname's certificate as `<name>-app` etc. */
export function declareAppResources(
  name: string,
  args: { fly: FlyConfig; secrets: pulumi.Input<Record<string, string>>; hostname: pulumi.Input<string> },
  parent: pulumi.Resource,
): FlyAppResources {
  const app = new FlyAppResource(`${name}-app`, { org: args.fly.org, name: args.fly.app }, { parent });
  const secrets = new FlyAppSecrets(`${name}-secrets`, { app: app.name, values: args.secrets }, { parent });
  const ipv4 = new FlyIpAssignment(`${name}-ipv4`, { app: app.name, type: "shared_v4" }, { parent });
  const ipv6 = new FlyIpAssignment(`${name}-ipv6`, { app: app.name, type: "v6" }, { parent });
  const certificate = new FlyCertificate(`${name}-cert`, { app: app.name, hostname: args.hostname }, { parent });
  return { app, secrets, ipv4, ipv6, certificate };
}

export interface SlotMachinesArgs {
  fly: FlyConfig;
  appName: pulumi.Input<string>;
  slot: Slot;
  /** The slot's image, pinned by digest. */
  image: pulumi.Input<string>;
  env: pulumi.Input<Record<string, string>>;
  healthPath: string;
  updateDeadlineMs: number;
  /** Whether the machines start out of rotation. */
  cordoned: boolean;
}

/** The machines of one slot, `<app>-<slot>-<i>` (resource names `<prefix>-<slot>-<i>`), round-robin over the regions. */
export function declareSlotMachines(prefix: string, args: SlotMachinesArgs, opts: pulumi.CustomResourceOptions): FlyMachine[] {
  const { fly, slot } = args;
  const config = pulumi.all([pulumi.output(args.image), pulumi.output(args.env)]).apply(([image, e]) =>
    machineConfig({ fly, image, slot, env: e, healthPath: args.healthPath }),
  );
  return slotLayout(fly.app, slot, fly.machinesPerSlot, fly.regions).map(
    (p) =>
      new FlyMachine(
        `${prefix}-${p.slot}-${p.index}`,
        {
          app: args.appName,
          name: p.name,
          region: p.region,
          fallbackRegions: p.fallbackRegions,
          config,
          updateDeadlineMs: args.updateDeadlineMs,
          cordoned: args.cordoned,
        },
        opts,
      ),
  );
}

export interface FlyAppCoreArgs {
  /** The parsed `fly` config section. */
  readonly fly: FlyConfig;
  /** App secrets, name → value; stored as Pulumi secrets and sent to Fly's secret store only. */
  readonly secrets: pulumi.Input<Record<string, string>>;
  /** Public hostname of the environment: an ACME certificate is requested for it. */
  readonly hostname: pulumi.Input<string>;
}

/**
 * What one Fly environment declares once, whatever runs in its slots: the app, its secrets, a
 * shared IPv4, an IPv6 and the hostname's certificate. The slots come from `flyPlatform`.
 */
export class FlyAppCore extends pulumi.ComponentResource {
  readonly appName: pulumi.Output<string>;
  /** Slot machines wait for it, so they boot with the secrets. */
  readonly secrets: FlyAppSecrets;
  readonly certificate: FlyCertificate;
  readonly ipv4: pulumi.Output<string>;
  readonly ipv6: pulumi.Output<string>;
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: FlyAppCoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:fly:FlyAppCore", name, {}, opts);
    const shared = declareAppResources(name, args, this);
    this.appName = shared.app.name;
    this.secrets = shared.secrets;
    this.certificate = shared.certificate;
    this.ipv4 = shared.ipv4.ip;
    this.ipv6 = shared.ipv6.ip;
    this.secretNames = shared.secrets.names;
    this.registerOutputs({ appName: this.appName, ipv4: this.ipv4, ipv6: this.ipv6, secretNames: this.secretNames });
  }
}
