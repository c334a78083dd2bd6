import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, ofType, valueOf, type RegisteredResource } from "../support/pulumi-mocks";
import { dynamicTypeToken, flyResourceTypes } from "../../components/fly/contract";

// Vitest loads our modules through its own transform, whose wrappers Pulumi's closure serializer
// cannot serialize; the provider text is irrelevant under mocks, so serialization is stubbed here.
// Real serialization is exercised by test/integration/fly-env.test.ts on the engine.
const closure = createRequire(require.resolve("@pulumi/pulumi"))("./runtime/closure/serializeClosure") as {
  serializeFunction: (...args: unknown[]) => Promise<{ text: string; containsSecrets: boolean }>;
};
closure.serializeFunction = async () => ({ text: "exports.handler = () => ({});", containsSecrets: false });

// Mocks first, then the code under test.
const registered: RegisteredResource[] = installMocks({
  outputsFor: (type, name, inputs) => (type.endsWith(":FlyIpAssignment") ? { ip: `ip-${name}` } : type.endsWith(":FlyAppSecrets") ? { names: Object.keys((inputs.values as { value?: object }).value ?? {}).sort() } : {}),
});
let mod: typeof import("../../components/fly/fly-app");

const digest = (c: string) => `registry.fly.io/web@sha256:${c.repeat(64)}`;
const fly = {
  org: "acme",
  app: "web",
  regions: ["ams", "iad", "lhr"],
  machinesPerSlot: 2,
  size: { cpuKind: "shared" as const, cpus: 1, memoryMb: 256 },
  internalPort: 8080,
  router: "cordon" as const,
};

beforeAll(async () => {
  mod = await import("../../components/fly/fly-app");
});

function build(name: string, over: Partial<import("../../components/fly/fly-app").FlyAppArgs> = {}) {
  return new mod.FlyApp(name, {
    fly,
    releases: { blue: digest("a"), green: digest("b") },
    liveSlot: "green",
    features: { new_checkout: true, dark_mode: false },
    secrets: pulumi.secret({ DATABASE_URL: "postgres://x" }),
    hostname: "app.example.com",
    ...over,
  });
}

const machinesOf = (prefix: string) => ofType(registered, dynamicTypeToken(flyResourceTypes.machine)).filter((r) => r.name.startsWith(prefix));

describe("FlyApp", () => {
  it("declares the app, 2 slots × machinesPerSlot machines, secrets, shared v4 + v6 and the certificate", async () => {
    const env = build("e1");
    await valueOf(env.machineIds);
    const names = (t: string) => ofType(registered, dynamicTypeToken(t)).filter((r) => r.name.startsWith("e1-")).map((r) => r.name);
    expect(names(flyResourceTypes.app)).toEqual(["e1-app"]);
    expect(names(flyResourceTypes.secrets)).toEqual(["e1-secrets"]);
    expect(names(flyResourceTypes.ipAssignment)).toEqual(["e1-ipv4", "e1-ipv6"]);
    expect(names(flyResourceTypes.certificate)).toEqual(["e1-cert"]);
    expect(machinesOf("e1-").map((m) => m.name)).toEqual(["e1-blue-0", "e1-blue-1", "e1-green-0", "e1-green-1"]);
    expect(ofType(registered, "flightdeck:fly:FlyApp").map((r) => r.name)).toContain("e1");
  });

  it("names machines <app>-<slot>-<i> and spreads them round-robin with rotated fallbacks", async () => {
    build("e2");
    await new Promise((r) => setTimeout(r, 50));
    const m = machinesOf("e2-").map((r) => ({ name: r.inputs.name, region: r.inputs.region, fallbacks: r.inputs.fallbackRegions }));
    expect(m.slice(0, 2)).toEqual([
      { name: "web-blue-0", region: "ams", fallbacks: ["iad", "lhr"] },
      { name: "web-blue-1", region: "iad", fallbacks: ["lhr", "ams"] },
    ]);
  });

  it("the idle slot starts cordoned, the live one does not", async () => {
    build("e3");
    await new Promise((r) => setTimeout(r, 50));
    const c = Object.fromEntries(machinesOf("e3-").map((r) => [r.name, r.inputs.cordoned]));
    expect(c).toEqual({ "e3-blue-0": true, "e3-blue-1": true, "e3-green-0": false, "e3-green-1": false });
  });

  it("each slot runs its own digest, tagged with slot and release metadata, flags as FLAG_ env", async () => {
    build("e4");
    await new Promise((r) => setTimeout(r, 50));
    const [blue, green] = [machinesOf("e4-blue-0")[0], machinesOf("e4-green-0")[0]];
    const cfg = (r: RegisteredResource) => r.inputs.config as import("../../components/fly/contract").FlyMachineConfig;
    expect(cfg(blue).image).toBe(digest("a"));
    expect(cfg(green).image).toBe(digest("b"));
    expect(cfg(green).metadata).toEqual({ flightdeck_slot: "green", flightdeck_release: digest("b") });
    expect(cfg(blue).env).toEqual({ APP_VERSION: digest("a"), FLAG_DARK_MODE: "false", FLAG_NEW_CHECKOUT: "true" });
    expect(cfg(blue).services?.[0].checks?.[0]).toMatchObject({ type: "http", path: "/healthz", port: 8080 });
    expect(cfg(blue).guest).toEqual({ cpu_kind: "shared", cpus: 1, memory_mb: 256 });
  });

  it("secrets reach the secrets resource as a Pulumi secret, not machine env", async () => {
    const env = build("e5", { secrets: { API_KEY: "plain-passed" } });
    await valueOf(env.machineIds);
    const s = ofType(registered, dynamicTypeToken(flyResourceTypes.secrets)).find((r) => r.name === "e5-secrets")!;
    // Passed plain, it reaches the engine wrapped as a secret (Pulumi's secret signature).
    expect(s.inputs.values).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: { API_KEY: "plain-passed" } });
    const mine = machinesOf("e5-").map((m) => JSON.stringify(m.inputs.config));
    for (const c of mine) expect(c).not.toContain("plain-passed");
    const secretsRes = env as unknown as { secretNames: pulumi.Output<string[]> };
    expect(await valueOf(secretsRes.secretNames)).toEqual(["API_KEY"]);
  });

  it("exposes machine ids per slot", async () => {
    const env = build("e6");
    expect(await valueOf(env.machineIds)).toEqual({ blue: ["e6-blue-0-id", "e6-blue-1-id"], green: ["e6-green-0-id", "e6-green-1-id"] });
    expect(await valueOf(env.ipv4)).toBe("ip-e6-ipv4");
  });

  it("refuses a release that is a tag, before creating anything", () => {
    const before = registered.length;
    expect(() => build("bad", { releases: { blue: "registry.fly.io/web:latest", green: digest("b") } })).toThrow(/releases\.blue.*not pinned by digest/);
    expect(registered.length).toBe(before);
  });
});
