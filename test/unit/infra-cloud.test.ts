/**
 * The whole program (infra/index.ts) under Pulumi mocks, for the committed staging and production
 * stack files: what a cloud environment declares. One rule per test.
 */
import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { FlyMachineConfig } from "../../components/fly/contract";
import { dynamicTypeToken, flyResourceTypes } from "../../components/fly/contract";
import { cloudLookups, importProgram, installMocks, ofType, valueOf, type RegisteredResource } from "../support/pulumi-mocks";
import { deployedConfig, stackFileConfig, withValue } from "../support/stack-files";

// Vitest's module wrappers cannot be serialized by Pulumi's closure serializer; under mocks the
// provider text is irrelevant (real serialization runs in test/integration/fly-bluegreen.test.ts).
const closure = createRequire(require.resolve("@pulumi/pulumi"))("./runtime/closure/serializeClosure") as {
  serializeFunction: (...args: unknown[]) => Promise<{ text: string; containsSecrets: boolean }>;
};
closure.serializeFunction = async () => ({ text: "exports.handler = () => ({});", containsSecrets: false });

// The mocks do not show a resource's options: capture the router's as the program passes them.
const routerOpts = vi.hoisted(() => [] as { name: string; dependsOn: unknown }[]);
vi.mock("../../components/fly/cordon-router", async (importOriginal) => {
  const orig = await importOriginal<typeof import("../../components/fly/cordon-router")>();
  class CapturingRouter extends orig.FlyCordonRouter {
    constructor(name: string, args: import("../../components/fly/cordon-router").FlyCordonRouterArgs, opts?: pulumi.CustomResourceOptions) {
      routerOpts.push({ name, dependsOn: opts?.dependsOn });
      super(name, args, opts);
    }
  }
  return { ...orig, FlyCordonRouter: CapturingRouter };
});

const invoke = cloudLookups();

const PREVIOUS = "registry.fly.io/flightdeck-production@sha256:" + "1".repeat(64);
const STAGING_RELEASE = "registry.fly.io/flightdeck-staging@sha256:" + "a".repeat(64);
const PRODUCTION_RELEASE = "registry.fly.io/flightdeck-production@sha256:" + "b".repeat(64);
const machineType = dynamicTypeToken(flyResourceTypes.machine);

interface Run {
  registered: RegisteredResource[];
  outputs: Record<string, unknown>;
}

/** Runs the program for a stack file's `flightdeck:*` config (objects JSON-encoded, as the engine passes them). */
async function runProgram(stack: string, raw: Record<string, unknown>, recordedDelivery?: unknown): Promise<Run> {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) config[`flightdeck:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  config["flightdeck:appSecrets"] = JSON.stringify({ DATABASE_URL: "postgres://u:pw-app@db/app" });
  config["flightdeck:environmentSecrets"] = JSON.stringify({ DEPLOY_HOOK: "hook-secret" });
  // What the stack's last update recorded, as the engine's readStackOutputs answers the program.
  const withRecorded = (token: string, args: Record<string, unknown>) =>
    token === "pulumi:pulumi:readStackOutputs" && recordedDelivery !== undefined ? { outputs: { delivery: recordedDelivery } } : invoke(token, args);
  const registered = installMocks({ stack, config, invoke: withRecorded });
  routerOpts.length = 0;
  vi.resetModules();
  const outputs = await importProgram();
  await Promise.all(Object.values(outputs).map((o) => valueOf(o as pulumi.Input<unknown>)));
  await new Promise((r) => setTimeout(r, 50));
  return { registered, outputs };
}

const machines = (run: Run, slot: string) =>
  ofType(run.registered, machineType)
    .filter((m) => String(m.inputs.name).includes(`-${slot}-`))
    .map((m) => ({ name: m.inputs.name, region: m.inputs.region, image: (m.inputs.config as FlyMachineConfig).image, cordoned: m.inputs.cordoned }));

describe("staging (committed stack file, first deploy)", () => {
  let run: Run;
  let routerDeps: unknown;
  beforeAll(async () => {
    run = await runProgram("staging", deployedConfig("staging", STAGING_RELEASE));
    routerDeps = routerOpts.find((r) => r.name === "router")?.dependsOn;
  });

  it("declares one Fly app with its secrets, a shared IPv4, an IPv6 and the hostname's certificate", () => {
    const names = (t: string) => ofType(run.registered, dynamicTypeToken(t)).map((r) => r.name);
    expect(names(flyResourceTypes.app)).toEqual(["fly-app"]);
    expect(names(flyResourceTypes.secrets)).toEqual(["fly-secrets"]);
    expect(names(flyResourceTypes.ipAssignment)).toEqual(["fly-ipv4", "fly-ipv6"]);
    expect(ofType(run.registered, dynamicTypeToken(flyResourceTypes.certificate)).map((r) => r.inputs.hostname)).toEqual(["staging.flightdeck.dev"]);
  });

  it("the live slot is machinesPerSlot machines over the regions, running the release, started out of rotation", () => {
    expect(machines(run, "blue")).toEqual([
      { name: "flightdeck-staging-blue-0", region: "ams", image: STAGING_RELEASE, cordoned: true },
    ]);
  });

  it("a machine runs the release as its image, reports it (APP_VERSION, metadata), gets the flags as FLAG_ env and the HTTP check on the gate's path", () => {
    const configs = ofType(run.registered, machineType).map((m) => m.inputs.config as FlyMachineConfig);
    expect(configs).toHaveLength(1);
    const [c] = configs;
    expect(c.image).toBe(STAGING_RELEASE);
    // Exactly these: Pulumi.staging.yaml's flags and the release, nothing else (no secret) in env.
    expect(c.env).toEqual({ APP_VERSION: STAGING_RELEASE, FLAG_DARK_MODE: "false", FLAG_NEW_CHECKOUT: "true" });
    expect(c.metadata).toEqual({ flightdeck_slot: "blue", flightdeck_release: STAGING_RELEASE });
    expect(c.services?.[0].checks?.[0]).toMatchObject({ type: "http", path: "/healthz", port: 8080 });
    expect(c.checks?.health).toMatchObject({ type: "http", path: "/healthz", port: 8080 });
    expect(c.guest).toEqual({ cpu_kind: "shared", cpus: 1, memory_mb: 256 });
  });

  it("without a previous release there is no other slot", () => {
    expect(machines(run, "green")).toEqual([]);
  });

  it("the router depends on the gate", async () => {
    expect(Array.isArray(routerDeps) && routerDeps.length === 1).toBe(true);
    const gate = (routerDeps as pulumi.Resource[])[0];
    expect(await valueOf(gate.urn)).toMatch(/flightdeck:HealthGate::app-gate$/);
  });

  it("the router puts the live slot in rotation", () => {
    const router = ofType(run.registered, dynamicTypeToken(flyResourceTypes.cordonRouter));
    expect(router.map((r) => ({ app: r.inputs.app, live: r.inputs.live, machines: r.inputs.machines }))).toEqual([
      { app: "flightdeck-staging", live: "blue", machines: { blue: ["slot-blue-0-id"], green: [] } },
    ]);
  });

  it("declares the staging GitHub environment", () => {
    const envs = ofType(run.registered, "github:index/repositoryEnvironment:RepositoryEnvironment").map((r) => r.inputs.environment);
    expect(envs).toEqual(["staging"]);
  });

  it("declares the proxied Cloudflare record for the hostname, pointing at the Fly app", () => {
    const records = ofType(run.registered, "cloudflare:index/dnsRecord:DnsRecord").map((r) => ({ name: r.inputs.name, content: r.inputs.content, proxied: r.inputs.proxied }));
    expect(records).toEqual([{ name: "staging.flightdeck.dev", content: "flightdeck-staging.fly.dev", proxied: true }]);
  });

  it("outputs the same keys as local, plus environment", async () => {
    expect(Object.keys(run.outputs)).toEqual(
      expect.arrayContaining(["environment", "url", "liveSlot", "release", "previousRelease", "slotUrls", "trafficSwitch", "gateOpenedAt", "delivery"]),
    );
    expect(await valueOf(run.outputs.url as pulumi.Output<string>)).toBe("https://staging.flightdeck.dev");
    expect(await valueOf(run.outputs.trafficSwitch as pulumi.Output<unknown>)).toEqual({
      kind: "fly",
      app: "flightdeck-staging",
      machines: { blue: ["slot-blue-0-id"], green: [] },
    });
  });
});

describe("production (committed stack file, previous release warm)", () => {
  let run: Run;
  beforeAll(async () => {
    run = await runProgram("production", deployedConfig("production", PRODUCTION_RELEASE, "blue", PREVIOUS));
  });

  it("each slot is 2 machines over ams and iad; the live slot runs the release, the other the previous release", () => {
    const release = PRODUCTION_RELEASE;
    expect(machines(run, "blue").map((m) => `${m.name}@${m.region} ${m.image === release ? "release" : m.image}`)).toEqual([
      "flightdeck-production-blue-0@ams release",
      "flightdeck-production-blue-1@iad release",
    ]);
    expect(machines(run, "green").map((m) => `${m.name}@${m.region} ${m.image === PREVIOUS ? "previous" : m.image}`)).toEqual([
      "flightdeck-production-green-0@ams previous",
      "flightdeck-production-green-1@iad previous",
    ]);
  });

  it("machines go round-robin over the regions, each falling back to the others, and all start out of rotation", () => {
    expect(ofType(run.registered, machineType).map((m) => [m.inputs.name, m.inputs.region, m.inputs.fallbackRegions, m.inputs.cordoned])).toEqual([
      ["flightdeck-production-blue-0", "ams", ["iad"], true],
      ["flightdeck-production-blue-1", "iad", ["ams"], true],
      ["flightdeck-production-green-0", "ams", ["iad"], true],
      ["flightdeck-production-green-1", "iad", ["ams"], true],
    ]);
  });

  it("each slot's machines name their own slot and release in metadata and APP_VERSION", () => {
    const tags = ofType(run.registered, machineType).map((m) => {
      const c = m.inputs.config as FlyMachineConfig;
      return [c.metadata, c.env?.APP_VERSION];
    });
    expect(tags).toEqual([
      [{ flightdeck_slot: "blue", flightdeck_release: PRODUCTION_RELEASE }, PRODUCTION_RELEASE],
      [{ flightdeck_slot: "blue", flightdeck_release: PRODUCTION_RELEASE }, PRODUCTION_RELEASE],
      [{ flightdeck_slot: "green", flightdeck_release: PREVIOUS }, PREVIOUS],
      [{ flightdeck_slot: "green", flightdeck_release: PREVIOUS }, PREVIOUS],
    ]);
  });

  it("the gate probes each machine of the live slot through the app URL with fly-force-instance-id", () => {
    const gates = ofType(run.registered, dynamicTypeToken("HealthGate"));
    expect(gates.map((g) => ({ target: g.inputs.target, instances: g.inputs.instances, header: g.inputs.instanceHeader ?? "fly-force-instance-id" }))).toEqual([
      { target: "https://flightdeck-production.fly.dev", instances: ["slot-blue-0-id", "slot-blue-1-id"], header: "fly-force-instance-id" },
    ]);
  });

  it("app secrets from flightdeck:appSecrets reach the Fly secrets resource as a secret, never machine env", () => {
    const s = ofType(run.registered, dynamicTypeToken(flyResourceTypes.secrets))[0];
    expect(JSON.stringify(s.inputs.values)).toContain("1b47061264138c4ac30d75fd1eb44270"); // Pulumi's secret signature
    for (const m of ofType(run.registered, machineType)) expect(JSON.stringify(m.inputs.config)).not.toContain("pw-app");
  });

  it("environment secrets from flightdeck:environmentSecrets reach the production GitHub environment", () => {
    const secrets = ofType(run.registered, "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret").map((r) => [r.inputs.environment, r.inputs.secretName]);
    expect(secrets).toEqual([["production", "DEPLOY_HOOK"]]);
  });
});

describe("each slot keeps the machine size it was started with", () => {
  it("the live slot runs its recorded size, though the committed config now asks for another", async () => {
    const base = deployedConfig("production", PRODUCTION_RELEASE, "blue", PREVIOUS) as { delivery: { slots: Record<string, Record<string, unknown>> } };
    base.delivery.slots.blue!.fly = { size: { cpuKind: "shared", cpus: 1, memoryMb: 256 } };
    const run = await runProgram("production", base);
    const cpus = (slot: string) =>
      ofType(run.registered, machineType)
        .filter((m) => String(m.inputs.name).includes(`-${slot}-`))
        .map((m) => (m.inputs.config as FlyMachineConfig).guest.cpus);
    expect(cpus("blue")).toEqual([1, 1]);
    // The warm slot has no recorded size: it runs the committed one (2 CPUs in Pulumi.production.yaml).
    expect(cpus("green")).toEqual([2, 2]);
  });
});

describe("refused before anything is declared", () => {
  it("a flag on in production but unknown to Pulumi.staging.yaml stops the program", async () => {
    const raw = withValue(deployedConfig("production", PRODUCTION_RELEASE), "features.instant_refunds", true);
    await expect(runProgram("production", raw)).rejects.toThrow(/feature flags disagree with Pulumi\.staging\.yaml[\s\S]*instant_refunds/);
  });

});

describe("an image not pinned by digest", () => {
  // The policy pack refuses it in preview (fly-image-pinned-by-digest; proved on the real engine in
  // test/integration/rehearsal-production-guards.test.ts) and the machine provider's Check refuses it too:
  // the program must declare it as given, or it ends before the policies can report.
  it("is declared as given, for the policy pack and the provider's Check to refuse", async () => {
    const raw = withValue(stackFileConfig("staging"), "release", "registry.fly.io/flightdeck-staging:latest");
    const run = await runProgram("staging", raw);
    const images = ofType(run.registered, machineType).map((m) => (m.inputs.config as FlyMachineConfig).image);
    expect(images.length).toBeGreaterThan(0);
    expect(new Set(images)).toEqual(new Set(["registry.fly.io/flightdeck-staging:latest"]));
  });
});

describe("machines in rotation (production, committed stack file)", () => {
  const recorded = (liveSlot: "blue" | "green") => (deployedConfig("production", PRODUCTION_RELEASE, liveSlot, PREVIOUS) as { delivery: unknown }).delivery;

  it("the slot live before the update and after it is declared in rotation, so a drift repair keeps it serving; the other stays out", async () => {
    const run = await runProgram("production", deployedConfig("production", PRODUCTION_RELEASE, "blue", PREVIOUS), recorded("blue"));
    expect(machines(run, "blue").map((m) => m.cordoned)).toEqual([false, false]);
    expect(machines(run, "green").map((m) => m.cordoned)).toEqual([true, true]);
  });

  it("a slot that becomes live in this update stays out of rotation until the router, after the gate", async () => {
    const run = await runProgram("production", deployedConfig("production", PRODUCTION_RELEASE, "green", PREVIOUS), recorded("blue"));
    expect([...machines(run, "blue"), ...machines(run, "green")].map((m) => m.cordoned)).toEqual([true, true, true, true]);
  });

  it("nothing recorded (a first deploy): every machine starts out of rotation", async () => {
    const run = await runProgram("production", deployedConfig("production", PRODUCTION_RELEASE, "blue", PREVIOUS));
    expect([...machines(run, "blue"), ...machines(run, "green")].map((m) => m.cordoned)).toEqual([true, true, true, true]);
  });
});
