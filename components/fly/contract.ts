import type { SlotName } from "../bluegreen/slots";
import type { CanarySettings } from "../bluegreen/canary-analysis";

/**
 * The inputs of Flightdeck's Fly.io dynamic resources, shared by the resources themselves and by
 * the policy pack that guards them. Field names follow the Fly Machines API (snake_case inside
 * `config`), so a machine's `config` is sent to Fly as it is.
 *
 * Dynamic resources appear to the engine (and to policies) with the type
 * `pulumi-nodejs:dynamic/flightdeck:<Name>`, where <Name> is one of `flyResourceTypes`.
 */
export const flyResourceTypes = {
  app: "FlyApp",
  machine: "FlyMachine",
  secrets: "FlyAppSecrets",
  ipAssignment: "FlyIpAssignment",
  certificate: "FlyCertificate",
  cordonRouter: "FlyCordonRouter",
} as const;

/** The engine's type token for one of Flightdeck's dynamic resources. */
export function dynamicTypeToken(name: string): string {
  return `pulumi-nodejs:dynamic/flightdeck:${name}`;
}

export interface FlyHttpCheck {
  type: "http";
  port?: number;
  method?: string;
  path: string;
  /** Go duration strings, as Fly takes them: "10s", "2s". */
  interval: string;
  timeout: string;
  grace_period?: string;
}

export interface FlyServicePort {
  port: number;
  handlers: string[];
  force_https?: boolean;
}

export interface FlyService {
  protocol: "tcp" | "udp";
  internal_port: number;
  ports: FlyServicePort[];
  checks?: FlyHttpCheck[];
  autostop?: boolean | string;
  autostart?: boolean;
}

export interface FlyGuest {
  cpu_kind: "shared" | "performance";
  cpus: number;
  memory_mb: number;
}

export interface FlyMachineConfig {
  /** Always an image pinned by digest: `registry.fly.io/<app>@sha256:<64 hex>`. */
  image: string;
  guest: FlyGuest;
  env?: Record<string, string>;
  services?: FlyService[];
  /** Top-level machine checks, by name. */
  checks?: Record<string, FlyHttpCheck>;
  metadata?: Record<string, string>;
  restart?: { policy: "no" | "always" | "on-failure"; max_retries?: number };
  stop_config?: { timeout?: string; signal?: string };
}

export interface FlyMachineInputs {
  app: string;
  /** Machine name, deterministic: `<app>-<slot>-<index>`. */
  name: string;
  /** Preferred region, then fallbacks when Fly reports no capacity. */
  region: string;
  fallbackRegions: string[];
  config: FlyMachineConfig;
  /** How long an update may wait for the new instance to start and pass its checks. */
  updateDeadlineMs: number;
  /**
   * Out of rotation: created without its services registered (then cordoned once healthy), and
   * updated so (a new release reaches an idle slot's machine without traffic). The blue/green router
   * uncordons the live slot; a machine of the slot live throughout an update is declared in
   * rotation, so its update (a drift repair) keeps it serving.
   */
  cordoned?: boolean;
}

export interface FlyAppInputs {
  org: string;
  name: string;
  network?: string;
}

export interface FlyAppSecretsInputs {
  app: string;
  /** Secret name → value. Always a Pulumi secret. */
  values: Record<string, string>;
}

export interface FlyIpAssignmentInputs {
  app: string;
  type: "shared_v4" | "v6";
  region?: string;
}

export interface FlyCertificateInputs {
  app: string;
  hostname: string;
}

/** Which blue/green slot's machines take live traffic; the other slot's are cordoned. */
export interface FlyCordonRouterInputs {
  app: string;
  live: SlotName;
  /** Machine ids of each slot (an absent slot is an empty list). */
  machines: { blue: string[]; green: string[] };
  /** Switch in canary steps, shares of machines in rotation (config `strategy: canary`); absent: at once. */
  canary?: FlyCanarySettings;
}

/** A canary on one Fly app: the config's settings, the org whose metrics judge it, and its planned shares. */
export interface FlyCanarySettings extends CanarySettings {
  /** The Fly organization slug: its Prometheus holds the machines' figures. */
  org: string;
  /** The new release's share of the machines in rotation at each step, in percent, as planned from the slot size. */
  percents: number[];
}

/** The routers' type names: the local HAProxy, and two-app mode's Cloudflare record (policies look for them). */
export const localRouterType = "LocalRouter";
export const cloudflareRecordRouterType = "CloudflareRecordRouter";

/** The local platform's slot process (a dynamic resource of the local App component). */
export const localProcessType = "LocalProcess";

/** The health gate's type token and inputs (a dynamic resource of the blue/green component). */
export const healthGateType = "HealthGate";
export interface HealthGateInputs {
  /** URL of the idle slot the gate probes, without the path. */
  target: string;
  path: string;
  expectedStatus: number;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  deadlineMs: number;
  /** The release being gated: a new release re-runs the gate. */
  release: string;
  /** Extra request headers sent with every probe. */
  headers?: Record<string, string>;
  /**
   * Probe each of these instances in every round (a round passes only when all pass), naming the
   * instance in `instanceHeader`. On Fly: the slot's machine ids, through the app's public URL.
   */
  instances?: string[];
  /** @default "fly-force-instance-id" (Fly's proxy routes the request to that machine) */
  instanceHeader?: string;
  /**
   * Set by a driver's restore (revert, rollback, recovery): one passing probe opens the gate. It
   * goes back to a release that passed its own gate and served, and the driver has just checked the
   * slot serves it. Not a rule: the diff ignores it, so a plain preview after a restore shows no change.
   */
  restore?: boolean;
}

/** The header Fly's proxy takes to send a request to one machine (how the gate reaches an idle slot). */
export const FLY_INSTANCE_HEADER = "fly-force-instance-id";

/**
 * Every type token the local platform's program registers (infra/local.ts), root first. The deploy
 * driver reads it to tell which policies could refuse a local update (stacks/preview-first.ts);
 * test/integration/local-stack.test.ts checks it against a real stack's state.
 */
export const localPlatformTypes: readonly string[] = [
  "pulumi:pulumi:Stack",
  "pulumi:providers:pulumi",
  "pulumi:providers:pulumi-nodejs",
  "flightdeck:bluegreen:BlueGreen",
  "flightdeck:local:App",
  dynamicTypeToken(localProcessType),
  dynamicTypeToken(healthGateType),
  dynamicTypeToken(localRouterType),
];
