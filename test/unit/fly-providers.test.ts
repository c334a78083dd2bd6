/**
 * The dynamic providers' methods called directly against the in-process Fly API test server:
 * retries, capacity fallback, leases, waiting for health, drift, 404 tolerance, secrets hygiene.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { flyAppProvider } from "../../components/fly/app";
import { flyCertificateProvider, type FlyCertificateOutputs } from "../../components/fly/certificate";
import type { FlyMachineInputs } from "../../components/fly/contract";
import { flyIpAssignmentProvider, type FlyIpAssignmentOutputs } from "../../components/fly/ip";
import { CRITICAL_GIVE_UP_MS, flyMachineProvider, type FlyMachineOutputs } from "../../components/fly/machine";
import { flyAppSecretsProvider, type FlyAppSecretsOutputs } from "../../components/fly/secrets";
import { FakeFly } from "../fly-api/server";

const fly = new FakeFly();
const saved = { ...process.env };
const img = (c: string) => `registry.fly.io/prov-app@sha256:${c.repeat(64)}`;

beforeAll(async () => {
  await fly.start();
  process.env.FLY_API_HOSTNAME = fly.url;
  process.env.FLY_API_TOKEN = "test-token";
  process.env.FLIGHTDECK_FLY_RETRY_BASE_MS = "5";
  process.env.FLIGHTDECK_FLY_DRAIN_MS = "30";
  await flyAppProvider.create!({ org: "acme", name: "prov-app" });
});
afterEach(() => {
  expect(fly.violations).toEqual([]);
  fly.injections.length = 0;
  fly.noCapacity.clear();
  fly.failingImages.clear();
});
afterAll(async () => {
  process.env = saved;
  await fly.stop();
});

function machineInputs(over: Partial<FlyMachineInputs> = {}): FlyMachineInputs {
  return {
    app: "prov-app",
    name: "prov-app-blue-0",
    region: "ams",
    fallbackRegions: ["iad"],
    updateDeadlineMs: 5_000,
    cordoned: false,
    config: {
      image: img("a"),
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
      env: { FLAG_X: "true" },
      services: [
        {
          protocol: "tcp",
          internal_port: 8080,
          ports: [{ port: 443, handlers: ["tls", "http"] }],
          checks: [{ type: "http", port: 8080, path: "/healthz", interval: "10s", timeout: "2s" }],
        },
      ],
      checks: { health: { type: "http", port: 8080, path: "/healthz", interval: "10s", timeout: "2s" } },
      metadata: { flightdeck_slot: "blue" },
      restart: { policy: "always" },
      stop_config: { timeout: "30s", signal: "SIGTERM" },
    },
    ...over,
  };
}

async function create(over: Partial<FlyMachineInputs> = {}) {
  const inputs = machineInputs(over);
  const r = await flyMachineProvider.create!(inputs);
  return { inputs, id: r.id, outs: r.outs as FlyMachineOutputs };
}

describe("machine", () => {
  it("is created in its region and started with passing checks", async () => {
    const { id, outs } = await create();
    expect(outs).toMatchObject({ machineId: id, placedRegion: "ams", state: "started" });
    expect(fly.machine("prov-app", id).cordoned).toBe(false);
  });

  it("a cordoned machine starts without service registration and is cordoned", async () => {
    const { id } = await create({ name: "prov-app-green-0", cordoned: true });
    expect(fly.machine("prov-app", id).cordoned).toBe(true);
    const post = fly.log.find((l) => l.method === "POST" && l.path === "/apps/prov-app/machines" && (l.body as { name: string }).name === "prov-app-green-0");
    expect(post?.body).toMatchObject({ skip_service_registration: true });
  });

  it("retries 429 and 5xx with backoff, then succeeds", async () => {
    fly.inject({ method: "POST", path: /^\/apps\/prov-app\/machines$/, status: 429, times: 1, headers: { "retry-after": "0" } });
    fly.inject({ method: "POST", path: /^\/apps\/prov-app\/machines$/, status: 502, times: 1 });
    const before = fly.log.length;
    const { outs } = await create({ name: "prov-app-retry" });
    expect(outs.state).toBe("started");
    const posts = fly.log.slice(before).filter((l) => l.method === "POST" && l.path === "/apps/prov-app/machines");
    expect(posts.map((p) => p.status)).toEqual([429, 502, 200]);
  });

  it("retries a request that times out", async () => {
    process.env.FLIGHTDECK_FLY_TIMEOUT_MS = "200";
    try {
      fly.inject({ method: "GET", path: /^\/apps\/prov-app$/, delayMs: 600, times: 1 });
      const r = await flyAppProvider.read!("prov-app", { org: "acme", name: "prov-app", appId: "", status: "" });
      expect(r.id).toBe("prov-app");
    } finally {
      delete process.env.FLIGHTDECK_FLY_TIMEOUT_MS;
    }
  });

  it("a persistent 5xx fails with the app, the machine, the status and Fly's message", async () => {
    fly.inject({ method: "POST", path: /^\/apps\/prov-app\/machines$/, status: 500, body: { error: "flyd exploded" }, times: 10 });
    await expect(create({ name: "prov-app-doomed" })).rejects.toThrow(/app prov-app, machine prov-app-doomed.*HTTP 500: flyd exploded.*gave up after 5 attempts/);
  });

  it("falls back to the next region when Fly reports no capacity", async () => {
    fly.noCapacity.add("ams");
    const { outs } = await create({ name: "prov-app-fallback" });
    expect(outs.placedRegion).toBe("iad");
    expect(outs.region).toBe("ams");
  });

  it("fails naming every region when none has capacity", async () => {
    fly.noCapacity.add("ams");
    fly.noCapacity.add("iad");
    await expect(create({ name: "prov-app-nowhere" })).rejects.toThrow(/no capacity in any configured region \(ams: .*; ams: .*; iad: .*; iad: .*\)/);
  });

  it("checks not listed yet are not taken for passing: a release whose checks fail once listed is refused", async () => {
    fly.checksListedAfterMs = 1000;
    fly.failingImages.add(img("7"));
    try {
      await expect(create({ name: "prov-app-unlisted", updateDeadlineMs: 3000, config: { ...machineInputs().config, image: img("7") } })).rejects.toThrow(/checks did not pass within 3000 ms: health=critical/);
    } finally {
      fly.checksListedAfterMs = 0;
    }
  }, 15_000);

  it("an idle-slot machine stays out of rotation through its update (skip_service_registration sent again)", async () => {
    const { id, outs } = await create({ name: "prov-app-green-1", cordoned: true });
    const news = machineInputs({ name: "prov-app-green-1", cordoned: true, config: { ...machineInputs().config, image: img("f") } });
    await flyMachineProvider.update!(id, outs, news);
    const post = fly.log.filter((l) => l.method === "POST" && l.path === `/apps/prov-app/machines/${id}`).pop();
    expect(post?.body).toMatchObject({ skip_service_registration: true });
    // The test server assumes the pessimistic way: an update without the flag registers the services.
    expect(fly.machine("prov-app", id).cordoned).toBe(true);
  });

  it("updates in place under a lease: same id, new instance, lease released", async () => {
    const { id, outs } = await create({ name: "prov-app-upd" });
    const news = machineInputs({ name: "prov-app-upd", config: { ...machineInputs().config, image: img("b") } });
    const before = fly.log.length;
    const r = await flyMachineProvider.update!(id, outs, news);
    const o = r.outs as FlyMachineOutputs;
    expect(o.machineId).toBe(id);
    expect(o.instanceId).not.toBe(outs.instanceId);
    expect(fly.machine("prov-app", id).config.image).toBe(img("b"));
    expect(fly.machine("prov-app", id).lease).toBeUndefined();
    const calls = fly.log.slice(before).map((l) => `${l.method} ${l.path.split("?")[0].replace(id, "ID")}`);
    // A live machine (cordoned: false) is drained: out of rotation before Fly restarts it, back in once healthy.
    expect(calls.slice(0, 4)).toEqual([
      "POST /apps/prov-app/machines/ID/lease",
      "POST /apps/prov-app/machines/ID/cordon",
      "POST /apps/prov-app/machines/ID",
      "GET /apps/prov-app/machines/ID/wait",
    ]);
    expect(calls.slice(-2)).toEqual(["POST /apps/prov-app/machines/ID/uncordon", "DELETE /apps/prov-app/machines/ID/lease"]);
    const update = fly.log.slice(before).find((l) => l.method === "POST" && l.path === `/apps/prov-app/machines/${id}`);
    expect(update?.headers["fly-machine-lease-nonce"]).toBeTruthy();
    expect(update?.body).toMatchObject({ skip_service_registration: true });
    expect(fly.machine("prov-app", id).cordoned).toBe(false);
  });

  it("two live machines of one app are drained one at a time, never both out of rotation", async () => {
    const a = await create({ name: "prov-app-live-a" });
    const b = await create({ name: "prov-app-live-b" });
    const before = fly.log.length;
    const change = (name: string) => machineInputs({ name, config: { ...machineInputs().config, env: { FLAG_X: "false" } } });
    await Promise.all([flyMachineProvider.update!(a.id, a.outs, change("prov-app-live-a")), flyMachineProvider.update!(b.id, b.outs, change("prov-app-live-b"))]);
    const moves = fly.log
      .slice(before)
      .filter((l) => l.method === "POST" && /\/(un)?cordon$/.test(l.path))
      .map((l) => `${l.path.endsWith("/uncordon") ? "in" : "out"} ${l.path.includes(a.id) ? "a" : "b"}`);
    expect([["out a", "in a", "out b", "in b"], ["out b", "in b", "out a", "in a"]]).toContainEqual(moves);
    expect([fly.machine("prov-app", a.id).cordoned, fly.machine("prov-app", b.id).cordoned]).toEqual([false, false]);
  });

  it("a live machine whose update fails goes back in rotation (Fly's checks keep it out if sick), lease released", async () => {
    const { id, outs } = await create({ name: "prov-app-live-sick" });
    fly.failingImages.add(img("9"));
    const news = machineInputs({ name: "prov-app-live-sick", updateDeadlineMs: 1500, config: { ...machineInputs().config, image: img("9") } });
    await expect(flyMachineProvider.update!(id, outs, news)).rejects.toThrow(/prov-app-live-sick.*checks did not pass within 1500 ms/);
    expect(fly.machine("prov-app", id).cordoned).toBe(false);
    expect(fly.machine("prov-app", id).lease).toBeUndefined();
  });

  it("a live machine Fly will not uncordon after its update is an error saying so, with the command to fix it", async () => {
    const { id, outs } = await create({ name: "prov-app-live-stuck" });
    fly.inject({ method: "POST", path: new RegExp(`^/apps/prov-app/machines/${id}/uncordon$`), status: 400, times: 1, body: { error: "uncordon refused" } });
    const news = machineInputs({ name: "prov-app-live-stuck", config: { ...machineInputs().config, image: img("8") } });
    await expect(flyMachineProvider.update!(id, outs, news)).rejects.toThrow(
      new RegExp(`prov-app-live-stuck \\(${id}\\) stays cordoned, out of rotation: .*fly machine uncordon ${id} -a prov-app`),
    );
    expect(fly.machine("prov-app", id).lease).toBeUndefined();
  });

  it("a lease held by another deploy is a clear error naming the machine", async () => {
    const { id, outs } = await create({ name: "prov-app-leased" });
    fly.holdLease("prov-app", id);
    const news = machineInputs({ name: "prov-app-leased", config: { ...machineInputs().config, image: img("c") } });
    await expect(flyMachineProvider.update!(id, outs, news)).rejects.toThrow(new RegExp(`machine prov-app-leased \\(${id}\\) of app prov-app is being changed by someone else`));
    expect(fly.machine("prov-app", id).config.image).toBe(img("a"));
  });

  it("an update whose checks fail within the deadline fails naming the checks, and releases the lease", async () => {
    const { id, outs } = await create({ name: "prov-app-sick" });
    fly.failingImages.add(img("d"));
    const news = machineInputs({ name: "prov-app-sick", updateDeadlineMs: 1500, config: { ...machineInputs().config, image: img("d") } });
    await expect(flyMachineProvider.update!(id, outs, news)).rejects.toThrow(/prov-app-sick.*checks did not pass within 1500 ms: health=critical/);
    expect(fly.machine("prov-app", id).lease).toBeUndefined();
  });

  it("an update whose checks stay critical gives up after CRITICAL_GIVE_UP_MS, not at the deadline", async () => {
    const { id, outs } = await create({ name: "prov-app-critical" });
    fly.failingImages.add(img("e"));
    const news = machineInputs({ name: "prov-app-critical", updateDeadlineMs: 120_000, config: { ...machineInputs().config, image: img("e") } });
    const started = Date.now();
    await expect(flyMachineProvider.update!(id, outs, news)).rejects.toThrow(/prov-app-critical.*checks critical for 10000 ms: health=critical/);
    expect(Date.now() - started).toBeLessThan(CRITICAL_GIVE_UP_MS + 5_000);
    expect(fly.machine("prov-app", id).lease).toBeUndefined();
  }, 30_000);

  it("refresh reports an out-of-band change as drift, and a vanished machine as deleted", async () => {
    const { id, outs } = await create({ name: "prov-app-drift" });
    fly.updateOutOfBand("prov-app", id, (c) => ((c.env as Record<string, string>).FLAG_X = "false"));
    const r = await flyMachineProvider.read!(id, outs);
    expect((r.props as FlyMachineOutputs).config.env).toEqual({ FLAG_X: "false" });
    const diff = await flyMachineProvider.diff!(id, r.props as FlyMachineOutputs, machineInputs({ name: "prov-app-drift" }));
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    await flyMachineProvider.delete!(id, outs);
    expect(await flyMachineProvider.read!(id, outs)).toEqual({});
    await flyMachineProvider.delete!(id, outs); // 404 tolerated
  });

  it("refuses a tag at check and at create", async () => {
    const bad = machineInputs({ config: { ...machineInputs().config, image: "registry.fly.io/prov-app:latest" } });
    const checked = await flyMachineProvider.check!(machineInputs(), bad);
    expect(checked.failures?.[0].reason).toMatch(/not pinned by digest/);
    await expect(flyMachineProvider.create!(bad)).rejects.toThrow(/not pinned by digest/);
  });
});

describe("secrets", () => {
  it("stores digests only, updates changed names, notices drift, deletes its names", async () => {
    const created = await flyAppSecretsProvider.create!({ app: "prov-app", values: { DB_URL: "postgres://s3cr3t-one", API_KEY: "k3y-two" } });
    const outs = created.outs as FlyAppSecretsOutputs;
    expect(JSON.stringify(outs)).not.toMatch(/s3cr3t-one|k3y-two/);
    expect(outs.names).toEqual(["API_KEY", "DB_URL"]);
    expect(fly.apps.get("prov-app")!.secrets.get("DB_URL")!.value).toBe("postgres://s3cr3t-one");

    const news = { app: "prov-app", values: { DB_URL: "postgres://s3cr3t-one", API_KEY: "k3y-three" } };
    const diff = await flyAppSecretsProvider.diff!(created.id, outs, news);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    expect(JSON.stringify(diff)).not.toMatch(/k3y/);
    const before = fly.log.length;
    const updated = (await flyAppSecretsProvider.update!(created.id, outs, news)).outs as FlyAppSecretsOutputs;
    const posted = fly.log.slice(before).find((l) => l.method === "POST")!.body as { values: Record<string, string> };
    expect(Object.keys(posted.values)).toEqual(["API_KEY"]);
    expect(JSON.stringify(updated)).not.toMatch(/k3y-three/);
    expect(await flyAppSecretsProvider.diff!(created.id, updated, news)).toMatchObject({ changes: false });

    // Someone runs `fly secrets set DB_URL=…` by hand: refresh notices, the next up sets it back.
    fly.apps.get("prov-app")!.secrets.set("DB_URL", { value: "manual", digest: "0000", createdAt: "", updatedAt: "" });
    const read = (await flyAppSecretsProvider.read!(created.id, updated)).props as FlyAppSecretsOutputs;
    expect((await flyAppSecretsProvider.diff!(created.id, read, news)).changes).toBe(true);

    await flyAppSecretsProvider.delete!(created.id, updated);
    expect(fly.apps.get("prov-app")!.secrets.size).toBe(0);
    await flyAppSecretsProvider.delete!(created.id, updated); // 404 tolerated
  });
});

describe("IPs and certificates", () => {
  it("allocates shared v4 and v6, reads them, releases them (404 tolerated)", async () => {
    const v4 = (await flyIpAssignmentProvider.create!({ app: "prov-app", type: "shared_v4" })) as { id: string; outs: FlyIpAssignmentOutputs };
    const v6 = (await flyIpAssignmentProvider.create!({ app: "prov-app", type: "v6" })) as { id: string; outs: FlyIpAssignmentOutputs };
    expect(v4.id).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(v6.id).toContain(":");
    expect((await flyIpAssignmentProvider.read!(v4.id, v4.outs)).id).toBe(v4.id);
    expect((await flyIpAssignmentProvider.diff!(v4.id, v4.outs, { app: "prov-app", type: "v6" })).replaces).toEqual(["type"]);
    await flyIpAssignmentProvider.delete!(v4.id, v4.outs);
    await flyIpAssignmentProvider.delete!(v4.id, v4.outs);
    expect(await flyIpAssignmentProvider.read!(v4.id, v4.outs)).toEqual({});
    await flyIpAssignmentProvider.delete!(v6.id, v6.outs);
  });
  it("requests an ACME certificate for the hostname and removes it", async () => {
    const c = (await flyCertificateProvider.create!({ app: "prov-app", hostname: "app.example.com" })) as { id: string; outs: FlyCertificateOutputs };
    expect(c.outs).toMatchObject({ hostname: "app.example.com", configured: false });
    expect((await flyCertificateProvider.diff!(c.id, c.outs, { app: "prov-app", hostname: "www.example.com" })).replaces).toEqual(["hostname"]);
    await flyCertificateProvider.delete!(c.id, c.outs);
    expect(await flyCertificateProvider.read!(c.id, c.outs)).toEqual({});
  });
});

describe("app", () => {
  it("every input replaces, delete tolerates 404", async () => {
    const olds = { org: "acme", name: "prov-app", appId: "x", status: "" };
    expect((await flyAppProvider.diff!("prov-app", olds, { org: "other", name: "prov-app" })).replaces).toEqual(["org"]);
    await flyAppProvider.delete!("prov-app", olds);
    await flyAppProvider.delete!("prov-app", olds);
    expect(fly.isEmpty()).toBe(true);
  });
});
