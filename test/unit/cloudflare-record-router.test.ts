/**
 * Two-app blue/green on Fly (`fly.router: "cloudflare"`): the CloudflareRecordRouter provider and
 * the driver's switch against the Cloudflare API test server (switch, drift read, errors, retries),
 * and the whole program under mocks for a staging config in two-app mode.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { TrafficSwitchSpec } from "../../components/bluegreen/platform";
import { cloudflareRecordRouterProvider, type CloudflareRecordRouterInputs } from "../../components/cloudflare/record-router";
import type { FlyMachineConfig } from "../../components/fly/contract";
import { dynamicTypeToken, flyResourceTypes } from "../../components/fly/contract";
import "../../stacks/cloudflare-switch";
import { trafficSwitchFor } from "../../stacks/traffic";
import { FakeCloudflare } from "../cloudflare-api/server";
import { importProgram, installMocks, ofType, valueOf, type RegisteredResource } from "../support/pulumi-mocks";
import { deployedConfig, withValue } from "../support/stack-files";
import { stubDynamicProviderSerialization } from "../support/stub-closures";

stubDynamicProviderSerialization();

// The mocks do not show a resource's options: capture the router's and the record's as passed.
const captured = vi.hoisted(() => [] as { kind: string; name: string; dependsOn: unknown; ignoreChanges: unknown }[]);
vi.mock("../../components/cloudflare/record-router", async (importOriginal) => {
  const orig = await importOriginal<typeof import("../../components/cloudflare/record-router")>();
  class CapturingRouter extends orig.CloudflareRecordRouter {
    constructor(name: string, args: import("../../components/cloudflare/record-router").CloudflareRecordRouterArgs, opts?: pulumi.CustomResourceOptions) {
      captured.push({ kind: "router", name, dependsOn: opts?.dependsOn, ignoreChanges: opts?.ignoreChanges });
      super(name, args, opts);
    }
  }
  return { ...orig, CloudflareRecordRouter: CapturingRouter };
});
vi.mock("@pulumi/cloudflare", async (importOriginal) => {
  const orig = await importOriginal<typeof import("@pulumi/cloudflare")>();
  class CapturingRecord extends orig.DnsRecord {
    constructor(name: string, args: import("@pulumi/cloudflare").DnsRecordArgs, opts?: pulumi.CustomResourceOptions) {
      captured.push({ kind: "record", name, dependsOn: opts?.dependsOn, ignoreChanges: opts?.ignoreChanges });
      super(name, args, opts);
    }
  }
  return { ...orig, DnsRecord: CapturingRecord };
});

const ZONE = "0123456789abcdef0123456789abcdef";
const cf = new FakeCloudflare();
const saved = { base: process.env.CLOUDFLARE_API_BASE, token: process.env.CLOUDFLARE_API_TOKEN, retry: process.env.FLIGHTDECK_CLOUDFLARE_RETRY_BASE_MS };
const targets = { blue: "app-blue.fly.dev", green: "app-green.fly.dev" };
let inputs: CloudflareRecordRouterInputs;

beforeAll(async () => {
  await cf.start();
  process.env.CLOUDFLARE_API_BASE = cf.url;
  process.env.CLOUDFLARE_API_TOKEN = cf.token;
  process.env.FLIGHTDECK_CLOUDFLARE_RETRY_BASE_MS = "5";
  const record = cf.addRecord({ zoneId: ZONE, name: "app.example.com", content: "app-blue.fly.dev" });
  inputs = { zoneId: ZONE, recordId: record.id, hostname: "app.example.com", live: "blue", targets };
});
afterEach(() => {
  cf.injections.length = 0;
});
afterAll(async () => {
  await cf.stop();
  for (const [k, v] of [["CLOUDFLARE_API_BASE", saved.base], ["CLOUDFLARE_API_TOKEN", saved.token], ["FLIGHTDECK_CLOUDFLARE_RETRY_BASE_MS", saved.retry]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const p = cloudflareRecordRouterProvider;

describe("CloudflareRecordRouter provider against the Cloudflare API test server", () => {
  it("create points the record at the live slot's app with one PATCH (proxied, automatic TTL)", async () => {
    const from = cf.log.length;
    const res = await p.create!({ ...inputs, live: "green" });
    expect(res.outs).toMatchObject({ live: "green", content: "app-green.fly.dev" });
    expect(cf.log.slice(from).map((r) => [r.method, r.path, r.body])).toEqual([
      ["PATCH", `/client/v4/zones/${ZONE}/dns_records/${inputs.recordId}`, { type: "CNAME", name: "app.example.com", content: "app-green.fly.dev", proxied: true, ttl: 1 }],
    ]);
    expect(cf.records.get(inputs.recordId)).toMatchObject({ content: "app-green.fly.dev", proxied: true, ttl: 1 });
  });

  it("update switches back; diff sees a new live slot", async () => {
    const olds = { ...inputs, live: "green" as const, content: "app-green.fly.dev" };
    expect((await p.diff!("id", olds, inputs)).changes).toBe(true);
    expect((await p.diff!("id", olds, { ...inputs, live: "green" })).changes).toBe(false);
    const res = await p.update!("id", olds, inputs);
    expect(res.outs).toMatchObject({ live: "blue", content: "app-blue.fly.dev" });
    expect(cf.records.get(inputs.recordId)!.content).toBe("app-blue.fly.dev");
  });

  it("read reports the slot the record points at: a switch made by hand is drift", async () => {
    cf.records.get(inputs.recordId)!.content = "app-green.fly.dev";
    const read = await p.read!("id", { ...inputs, content: "app-blue.fly.dev" });
    expect(read.props).toMatchObject({ live: "green", content: "app-green.fly.dev" });
    expect((await p.diff!("id", read.props as CloudflareRecordRouterInputs & { content: string }, inputs)).changes).toBe(true);
    // Pointing at neither app is drift too.
    cf.records.get(inputs.recordId)!.content = "elsewhere.example.net";
    const stray = await p.read!("id", { ...inputs, content: "app-blue.fly.dev" });
    expect(stray.props).toMatchObject({ live: "blue", content: "elsewhere.example.net" });
    expect((await p.diff!("id", stray.props as CloudflareRecordRouterInputs & { content: string }, inputs)).changes).toBe(true);
    await p.update!("id", stray.props as CloudflareRecordRouterInputs & { content: string }, inputs);
    expect(cf.records.get(inputs.recordId)!.content).toBe("app-blue.fly.dev");
  });

  it("retries 5xx and 429, then succeeds", async () => {
    cf.inject({ method: "PATCH", status: 500, times: 1 });
    cf.inject({ method: "PATCH", status: 429, times: 1 });
    const from = cf.log.length;
    await p.update!("id", { ...inputs, content: "app-blue.fly.dev" }, { ...inputs, live: "green" });
    expect(cf.patches(from)).toEqual(["500 app-green.fly.dev", "429 app-green.fly.dev", "200 app-green.fly.dev"]);
  });

  it("gives up after a few 5xx, naming zone, record, status and Cloudflare's message; the record is unchanged", async () => {
    cf.inject({ method: "PATCH", status: 502, times: 10 });
    const err = await p.update!("id", { ...inputs, live: "green", content: "app-green.fly.dev" }, inputs).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      new RegExp(`CloudflareRecordRouter: moving app\\.example\\.com to slot blue \\(app-blue\\.fly\\.dev\\).*zone ${ZONE}, record ${inputs.recordId}.*HTTP 502: 10001: injected 502 \\(gave up after 4 attempts\\)`),
    );
    expect(cf.records.get(inputs.recordId)!.content).toBe("app-green.fly.dev");
  });

  it("a 4xx fails at once; an unknown record and a bad token are named", async () => {
    const from = cf.log.length;
    const missing = await p.update!("id", { ...inputs, content: "x" }, { ...inputs, recordId: "nosuchrecord" }).catch((e: Error) => e);
    expect((missing as Error).message).toContain(`zone ${ZONE}, record nosuchrecord failed: HTTP 404: 81044: Record does not exist.`);
    expect(cf.log.length - from).toBe(1);
    process.env.CLOUDFLARE_API_TOKEN = "wrong";
    try {
      const denied = await p.create!(inputs).catch((e: Error) => e);
      expect((denied as Error).message).toContain("HTTP 400: 10000: Authentication error");
      expect((denied as Error).message).not.toContain("wrong");
    } finally {
      process.env.CLOUDFLARE_API_TOKEN = cf.token;
    }
  });

  it("delete leaves the record alone (it belongs to PublicHostname)", async () => {
    const from = cf.log.length;
    await p.delete!("id", { ...inputs, content: "app-green.fly.dev" });
    expect(cf.log.length).toBe(from);
  });

  it("the driver's switch points the record and reads which slot is live", async () => {
    const spec: TrafficSwitchSpec = { kind: "cloudflare", zoneId: ZONE, recordId: inputs.recordId, hostname: "app.example.com", targets };
    const sw = trafficSwitchFor(spec);
    await sw.pointAt("blue");
    expect(await sw.live()).toBe("blue");
    await sw.pointAt("green");
    expect(await sw.live()).toBe("green");
    expect(cf.records.get(inputs.recordId)!.content).toBe("app-green.fly.dev");
  });
});

// ---- the program under mocks: staging in two-app mode ----

const invoke = (token: string, args: Record<string, unknown>): Record<string, unknown> => {
  if (token === "github:index/getUser:getUser") return { id: "1001", login: args.username };
  if (token === "github:index/getTeam:getTeam") return { id: "2002", slug: args.slug };
  if (token === "cloudflare:index/getZone:getZone") return { id: ZONE };
  return {};
};

async function runProgram(stack: string, raw: Record<string, unknown>): Promise<{ registered: RegisteredResource[]; outputs: Record<string, unknown> }> {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) config[`flightdeck:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  config["flightdeck:appSecrets"] = JSON.stringify({ DATABASE_URL: "postgres://u:pw-app@db/app" });
  const registered = installMocks({ stack, config, invoke });
  captured.length = 0;
  vi.resetModules();
  const outputs = await importProgram();
  await Promise.all(Object.values(outputs).map((o) => valueOf(o as pulumi.Input<unknown>)));
  await new Promise((r) => setTimeout(r, 50));
  return { registered, outputs };
}

const RELEASE = "registry.fly.io/flightdeck-staging@sha256:" + "a".repeat(64);

describe("staging with fly.router: cloudflare (two apps, under mocks)", () => {
  const previous = "registry.fly.io/flightdeck-staging@sha256:" + "1".repeat(64);
  let run: Awaited<ReturnType<typeof runProgram>>;
  beforeAll(async () => {
    run = await runProgram("staging", withValue(deployedConfig("staging", RELEASE, "green", previous), "fly.router", "cloudflare"));
  });

  it("declares two Fly apps, <app>-blue and <app>-green, each with secrets, IPs and the hostname's certificate", () => {
    const of = (t: string) => ofType(run.registered, dynamicTypeToken(t));
    expect(of(flyResourceTypes.app).map((r) => r.inputs.name)).toEqual(["flightdeck-staging-blue", "flightdeck-staging-green"]);
    expect(of(flyResourceTypes.secrets).map((r) => r.name)).toEqual(["fly-blue-secrets", "fly-green-secrets"]);
    expect(of(flyResourceTypes.ipAssignment).map((r) => r.name)).toEqual(["fly-blue-ipv4", "fly-blue-ipv6", "fly-green-ipv4", "fly-green-ipv6"]);
    expect(of(flyResourceTypes.certificate).map((r) => `${r.inputs.app} ${r.inputs.hostname}`)).toEqual([
      "flightdeck-staging-blue staging.flightdeck.dev",
      "flightdeck-staging-green staging.flightdeck.dev",
    ]);
    expect(of(flyResourceTypes.cordonRouter)).toEqual([]);
  });

  it("each slot's machines run on its own app, in rotation (never cordoned)", () => {
    const machines = ofType(run.registered, dynamicTypeToken(flyResourceTypes.machine)).map((m) => ({
      app: m.inputs.app,
      name: m.inputs.name,
      image: (m.inputs.config as FlyMachineConfig).image,
      cordoned: m.inputs.cordoned,
    }));
    expect(machines.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual([
      { app: "flightdeck-staging-blue", name: "flightdeck-staging-blue-0", image: previous, cordoned: false },
      { app: "flightdeck-staging-green", name: "flightdeck-staging-green-0", image: RELEASE, cordoned: false },
    ]);
  });

  it("the gate probes the live slot's app directly, each machine", () => {
    const gates = ofType(run.registered, dynamicTypeToken("HealthGate"));
    expect(gates.map((g) => ({ target: g.inputs.target, instances: g.inputs.instances }))).toEqual([
      { target: "https://flightdeck-staging-green.fly.dev", instances: ["slot-green-0-id"] },
    ]);
  });

  it("the router depends on the gate and points the record at the live app", async () => {
    const router = captured.filter((c) => c.kind === "router");
    expect(router.map((r) => r.name)).toEqual(["router"]);
    const deps = router[0].dependsOn as pulumi.Resource[];
    expect(deps).toHaveLength(1);
    expect(await valueOf(deps[0].urn)).toMatch(/flightdeck:HealthGate::app-gate$/);
    const inputs = ofType(run.registered, dynamicTypeToken("CloudflareRecordRouter")).map((r) => r.inputs);
    expect(inputs).toEqual([
      expect.objectContaining({
        zoneId: ZONE,
        recordId: "staging-hostname-record-id",
        hostname: "staging.flightdeck.dev",
        live: "green",
        targets: { blue: "flightdeck-staging-blue.fly.dev", green: "flightdeck-staging-green.fly.dev" },
      }),
    ]);
  });

  it("the record leaves its content to the router (ignoreChanges), waits for both certificates, starts at the live app", () => {
    const record = captured.filter((c) => c.kind === "record");
    expect(record.map((r) => ({ name: r.name, ignoreChanges: r.ignoreChanges }))).toEqual([{ name: "staging-hostname-record", ignoreChanges: ["content"] }]);
    expect(record[0].dependsOn).toHaveLength(2);
    const records = ofType(run.registered, "cloudflare:index/dnsRecord:DnsRecord").map((r) => ({ content: r.inputs.content, proxied: r.inputs.proxied }));
    expect(records).toEqual([{ content: "flightdeck-staging-green.fly.dev", proxied: true }]);
  });

  it("outputs the cloudflare traffic switch", async () => {
    expect(await valueOf(run.outputs.trafficSwitch as pulumi.Output<unknown>)).toEqual({
      kind: "cloudflare",
      zoneId: ZONE,
      recordId: "staging-hostname-record-id",
      hostname: "staging.flightdeck.dev",
      targets: { blue: "flightdeck-staging-blue.fly.dev", green: "flightdeck-staging-green.fly.dev" },
    });
    expect(await valueOf(run.outputs.url as pulumi.Output<string>)).toBe("https://staging.flightdeck.dev");
  });

  it("cordon mode's record keeps its options (no ignoreChanges)", async () => {
    await runProgram("staging", deployedConfig("staging", RELEASE));
    expect(captured.filter((c) => c.kind === "record").map((r) => r.ignoreChanges)).toEqual([undefined]);
  });
});
