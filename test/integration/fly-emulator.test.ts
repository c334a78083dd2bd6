/**
 * The Fly emulator (test/fly-emulator) on its own, without the Pulumi engine: driven over HTTP with
 * the Machines API as Flightdeck's own client drives it (the dynamic providers' methods and
 * `flyFetch` from components/fly, with FLY_API_HOSTNAME / FLY_API_TOKEN pointing at the emulator),
 * and through its emulated fly-proxy by Host header, as users and the health gate reach an app.
 *
 * What it checks is what the rest of the suite (the rehearsals, the Fly bench) takes on trust: that
 * a machine is a real process reachable only through the proxy, that checks run for real and decide
 * routing, that cordons, `fly-force-instance-id`, crashes, restarts and destroys behave as
 * docs/fly-emulator.md says the emulator assumes Fly does.
 *
 * Not covered: in-flight requests across a cordon. The sample app (examples/app/server.js) has no
 * slow endpoint, so no request can be held open while its machine is cordoned.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EDGE_ENV } from "../../components/bluegreen/edge";
import { servesRelease } from "../../components/bluegreen/probe";
import { flyFetch } from "../../components/fly/api";
import { flyAppProvider } from "../../components/fly/app";
import { flyCertificateProvider } from "../../components/fly/certificate";
import type { FlyMachineConfig, FlyMachineInputs } from "../../components/fly/contract";
import { machineConfig, type FlyConfig } from "../../components/fly/fly-app";
import { flyMachineProvider, type FlyMachineOutputs } from "../../components/fly/machine";
import { flyAppSecretsProvider } from "../../components/fly/secrets";
import { FlyEmulator, sampleAppImage, type ImageSpec } from "../fly-emulator";
import { OWNER_ENV } from "../fly-emulator/machine-runtime";

const fly = new FlyEmulator();
const savedEnv = { ...process.env };
const UA = "flightdeck-emulator-test";

/** A pinned reference for a label, as a push would print it. */
function ref(app: string, label: string): string {
  return `registry.fly.io/${app}@sha256:${crypto.createHash("sha256").update(`${app}/${label}`).digest("hex")}`;
}

/** Registers an image under a pinned reference; returns the reference. */
function image(app: string, label: string, spec: Partial<ImageSpec> = {}): string {
  const r = ref(app, label);
  fly.registry.add(r, sampleAppImage(spec));
  return r;
}

function flyConfig(app: string, internalPort = 8080): FlyConfig {
  return {
    org: "acme",
    app,
    regions: ["ams"],
    machinesPerSlot: 1,
    size: { cpuKind: "shared", cpus: 1, memoryMb: 256 },
    internalPort,
    router: "cordon",
  } as FlyConfig;
}

/** The machine config Flightdeck sends (components/fly/fly-app.ts), for one slot's image. */
function config(app: string, img: string, env: Record<string, string> = {}, internalPort = 8080): FlyMachineConfig {
  // Copied through JSON: machineConfig shares one check object between the service and the top
  // level (structuredClone would keep that sharing), and tests below change one of them.
  return JSON.parse(JSON.stringify(machineConfig({ fly: flyConfig(app, internalPort), image: img, slot: "blue", env, healthPath: "/healthz" }))) as FlyMachineConfig;
}

function machineInputs(app: string, name: string, img: string, over: Partial<FlyMachineInputs> = {}): FlyMachineInputs {
  return { app, name, region: "ams", fallbackRegions: [], updateDeadlineMs: 15_000, cordoned: false, config: config(app, img), ...over };
}

async function createApp(name: string): Promise<void> {
  await flyAppProvider.create!({ org: "acme", name });
}

/** Flightdeck's own create: POST, wait for `started`, wait for every check to pass (cordon if asked). */
async function createMachine(inputs: FlyMachineInputs): Promise<{ id: string; outs: FlyMachineOutputs }> {
  const r = await flyMachineProvider.create!(inputs);
  return { id: r.id, outs: r.outs as FlyMachineOutputs };
}

interface MachineBody {
  id: string;
  state: string;
  instance_id: string;
  checks?: { name: string; status: string; output: string }[];
}

/** A bare create (no waiting for health), through the project's client. */
async function createRaw(app: string, name: string, cfg: FlyMachineConfig): Promise<MachineBody> {
  const res = await flyFetch<MachineBody>({ method: "POST", path: `/apps/${app}/machines`, context: `test ${name}`, body: { name, region: "ams", config: cfg } });
  return res.body;
}

async function getMachine(app: string, id: string): Promise<MachineBody> {
  return (await flyFetch<MachineBody>({ method: "GET", path: `/apps/${app}/machines/${id}`, context: `test ${id}` })).body;
}

async function machineCall(app: string, id: string, action: "cordon" | "uncordon"): Promise<void> {
  await flyFetch<unknown>({ method: "POST", path: `/apps/${app}/machines/${id}/${action}`, context: `test ${action} ${id}` });
}

async function destroyMachine(app: string, id: string): Promise<void> {
  await flyFetch<unknown>({ method: "DELETE", path: `/apps/${app}/machines/${id}?force=true`, context: `test destroy ${id}`, accept: [404] });
}

interface Answer {
  status: number;
  body: string;
}

/** One request to the emulated fly-proxy for `host` (as a client resolving `<host>` to Fly's edge would send it). */
function viaProxy(host: string, path = "/version", headers: Record<string, string> = {}): Promise<Answer> {
  const u = new URL(fly.proxyUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: Number(u.port), path, method: "GET", agent: false, timeout: 5000, headers: { host, "user-agent": UA, ...headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from the proxy for ${host}${path} within 5000 ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** The release a proxied answer came from (the sample app's /version reports FLY_IMAGE_REF on Fly). */
function versionOf(a: Answer): string | undefined {
  if (a.status !== 200) return undefined;
  return (JSON.parse(a.body) as { version?: string }).version;
}

/** A GET straight to an address (what only the private network could do on Fly): status, or the error code. */
function direct(addr: string, port: number, path = "/healthz"): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host: addr, port, path, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 6000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Processes this test's emulator started (marked FLY_EMULATOR_OWNER=<our pid>), with their initial env. */
function ownedProcesses(): { pid: number; env: Record<string, string> }[] {
  const out: { pid: number; env: Record<string, string> }[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let raw: string;
    try {
      raw = fs.readFileSync(`/proc/${entry}/environ`, "utf8");
    } catch {
      continue;
    }
    const env = Object.fromEntries(
      raw
        .split("\0")
        .filter((kv) => kv.includes("="))
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    if (env[OWNER_ENV] === String(process.pid)) out.push({ pid: Number(entry), env });
  }
  return out;
}

function machineProcess(id: string): { pid: number; env: Record<string, string> } | undefined {
  return ownedProcesses().find((p) => p.env.FLY_MACHINE_ID === id);
}

/** Gone, or a zombie about to be reaped: it runs no more. */
function dead(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

function ipv4FromProc(hex: string): string {
  const [a, port] = hex.split(":");
  const bytes = [0, 2, 4, 6].map((i) => parseInt(a!.slice(i, i + 2), 16)).reverse();
  return `${bytes.join(".")}:${parseInt(port!, 16)}`;
}

/** The TCP addresses a process listens on, from its socket inodes and the kernel's table. */
function listeningOn(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const out: string[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const lines = fs.readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== "0A" || !inodes.has(f[9]!)) continue; // 0A: LISTEN
      out.push(table === "tcp" ? ipv4FromProc(f[1]!) : `[${f[1]}]`);
    }
  }
  return out;
}

/** A loopback port nothing listens on right now (so a 127.0.0.1-bound app does not collide). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  await fly.start();
  process.env.FLY_API_HOSTNAME = fly.url;
  process.env.FLY_API_TOKEN = fly.token;
  process.env.FLIGHTDECK_FLY_RETRY_BASE_MS = "5";
  process.env[EDGE_ENV] = fly.proxyUrl;
});

afterEach(() => {
  expect(fly.violations).toEqual([]);
});

afterAll(async () => {
  process.env = savedEnv;
  await fly.stop();
});

describe("a machine from a registered image", () => {
  const app = "emu-run";
  let img: string;
  let id: string;
  let outs: FlyMachineOutputs;

  it("runs as a process on its own address, reachable through the proxy by <app>.fly.dev, serving its image ref, with checks passing", async () => {
    await createApp(app);
    await flyAppSecretsProvider.create!({ app, values: { FLAG_FROM_SECRET: "true" } });
    img = image(app, "v1");
    ({ id, outs } = await createMachine(machineInputs(app, `${app}-blue-0`, img)));
    expect(outs).toMatchObject({ machineId: id, state: "started", placedRegion: "ams" });

    // The API reports every check, service and top-level, passing with the app's real answer.
    const m = await getMachine(app, id);
    expect(m.state).toBe("started");
    expect(m.checks?.map((c) => c.name).sort()).toEqual(["health", "servicecheck-00-0-8080"]);
    for (const c of m.checks ?? []) expect(c).toMatchObject({ status: "passing", output: "HTTP GET /healthz: 200 OK" });

    // A real process, with Fly's runtime variables and the app's secrets in its environment.
    const proc = await until("the machine's process", () => machineProcess(id));
    expect(proc.env).toMatchObject({
      FLY_APP_NAME: app,
      FLY_MACHINE_ID: id,
      FLY_REGION: "ams",
      FLY_IMAGE_REF: img,
      FLY_MACHINE_VERSION: outs.instanceId,
      FLAG_FROM_SECRET: "true",
    });

    // It binds the wildcard (the sample app does when FLY_APP_NAME is set), which lands on the
    // machine's own address: nothing of it listens on 127.0.0.1 or on every interface.
    const addr = fly.runtime(id)!.addr;
    expect(addr).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(addr).not.toBe("127.0.0.1");
    expect(await until("the app listening", () => (listeningOn(proc.pid).length ? listeningOn(proc.pid) : undefined))).toEqual([`${addr}:8080`]);

    // Through the proxy, by the app's host: its release is the image, its flags include the secret.
    const a = await viaProxy(`${app}.fly.dev`);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ version: img, flags: { from_secret: true } });
    // The project's own probe, sent to the edge with the public host, agrees.
    expect(await servesRelease(`https://${app}.fly.dev`, img)).toMatchObject({ ok: true });
    // Host decides: another app's name, or no known host, is not this app.
    expect((await viaProxy("emu-nobody.fly.dev")).status).toBe(404);
    expect((await viaProxy("127.0.0.1")).status).toBe(404);
  }, 20_000);
});

describe("an image the registry does not have", () => {
  const app = "emu-pull";

  it("fails creation with 422 (unpullable image), once, and leaves no machine and no process", async () => {
    await createApp(app);
    const missing = ref(app, "never-pushed");
    const before = ownedProcesses().length;
    const logFrom = fly.log.length;
    await expect(createMachine(machineInputs(app, `${app}-blue-0`, missing))).rejects.toThrow(
      new RegExp(`POST /apps/${app}/machines .*HTTP 422: failed to get manifest ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: MANIFEST_UNKNOWN`),
    );
    // A 422 is final for the client: no retry, no fallback region.
    const posts = fly.log.slice(logFrom).filter((l) => l.method === "POST" && l.path === `/apps/${app}/machines`);
    expect(posts.map((p) => p.status)).toEqual([422]);
    expect(fly.machines(app)).toEqual([]);
    const listed = await flyFetch<unknown[]>({ method: "GET", path: `/apps/${app}/machines`, context: "test list" });
    expect(listed.body).toEqual([]);
    expect(ownedProcesses().length).toBe(before);
  }, 10_000);
});

describe("checks decide routing", () => {
  it("an app bound to 127.0.0.1 runs but never becomes healthy, and the proxy answers 503", async () => {
    const app = "emu-loopback";
    await createApp(app);
    const port = await freePort();
    const img = image(app, "loopback");
    const m = await createRaw(app, `${app}-blue-0`, config(app, img, { HOST: "127.0.0.1", PORT: String(port) }, port));
    const proc = await until("the machine's process", () => machineProcess(m.id));
    expect(await until("the app listening", () => (listeningOn(proc.pid).length ? listeningOn(proc.pid) : undefined))).toEqual([`127.0.0.1:${port}`]);

    const critical = await until("critical checks", async () => {
      const got = await getMachine(app, m.id);
      return got.checks?.length && got.checks.every((c) => c.status === "critical") ? got : undefined;
    });
    expect(critical.state).toBe("started");
    for (const c of critical.checks ?? []) expect(c.output).toMatch(/ECONNREFUSED/);
    // Its own address has nothing on the port: the proxy and the checks find no one there.
    expect(await direct(fly.runtime(m.id)!.addr, port)).toBe("ECONNREFUSED");
    const a = await viaProxy(`${app}.fly.dev`);
    expect(a).toEqual({ status: 503, body: `no known healthy instances found for app ${app}\n` });
    expect(fly.runtime(m.id)!.restarts).toBe(0); // it did not crash: it is just unreachable
    await destroyMachine(app, m.id);
  }, 20_000);

  it("a failing service check takes a machine out of rotation; a failing top-level check only reports", async () => {
    const app = "emu-checks";
    await createApp(app);
    // FAIL_HEALTH=1: /healthz answers 503, everything else 200.
    const img = image(app, "unhealthy", { env: { FAIL_HEALTH: "1" } });

    const serviceFails = config(app, img); // both checks on /healthz
    const a = await createRaw(app, `${app}-blue-0`, serviceFails);
    await until("the service check critical", async () => ((await getMachine(app, a.id)).checks?.every((c) => c.status === "critical") ? true : undefined));
    const got = await getMachine(app, a.id);
    for (const c of got.checks ?? []) expect(c.output).toBe("HTTP GET /healthz: 503 Service Unavailable");
    expect((await viaProxy(`${app}.fly.dev`)).status).toBe(503);
    // Still reachable when asked for by id (the gate's probe), and it tells the truth: /healthz fails.
    expect((await viaProxy(`${app}.fly.dev`, "/healthz", { "fly-force-instance-id": a.id })).status).toBe(503);
    await destroyMachine(app, a.id);

    const onlyTopLevelFails = config(app, img);
    onlyTopLevelFails.services![0]!.checks![0]!.path = "/version";
    const b = await createRaw(app, `${app}-blue-1`, onlyTopLevelFails);
    const checks = await until("the checks settled", async () => {
      const c = (await getMachine(app, b.id)).checks ?? [];
      return c.length === 2 && c.every((x) => x.status !== "warning") ? c : undefined;
    });
    expect(Object.fromEntries(checks.map((c) => [c.name, c.status]))).toEqual({ health: "critical", "servicecheck-00-0-8080": "passing" });
    const served = await viaProxy(`${app}.fly.dev`);
    expect(served.status).toBe(200);
    expect(versionOf(served)).toBe(img);
    await destroyMachine(app, b.id);
  }, 20_000);
});

describe("rotation: round robin, cordon, fly-force-instance-id", () => {
  const app = "emu-rotation";
  const host = `${app}.fly.dev`;

  async function versions(n: number, headers: Record<string, string> = {}): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = await viaProxy(host, "/version", headers);
      expect(a.status).toBe(200);
      out.push(versionOf(a)!);
    }
    return out;
  }

  it("balances across both machines; a cordoned one leaves rotation but answers fly-force-instance-id; uncordon brings it back", async () => {
    await createApp(app);
    const img1 = image(app, "one");
    const img2 = image(app, "two");
    const m1 = await createMachine(machineInputs(app, `${app}-blue-0`, img1));
    const m2 = await createMachine(machineInputs(app, `${app}-blue-1`, img2));

    const before = fly.proxyAnswers("machine");
    expect(new Set(await versions(10))).toEqual(new Set([img1, img2]));
    const after = fly.proxyAnswers("machine");
    expect((after[m1.id] ?? 0) - (before[m1.id] ?? 0)).toBeGreaterThan(0);
    expect((after[m2.id] ?? 0) - (before[m2.id] ?? 0)).toBeGreaterThan(0);

    await machineCall(app, m2.id, "cordon");
    expect(fly.machine(app, m2.id).cordoned).toBe(true);
    expect(new Set(await versions(10))).toEqual(new Set([img1]));
    // The gate's way to reach an idle machine: by id, cordon or not.
    expect(await versions(3, { "fly-force-instance-id": m2.id })).toEqual([img2, img2, img2]);
    // An id that is not a machine of this app is not served by another one instead.
    expect((await viaProxy(host, "/version", { "fly-force-instance-id": "00000000000000" })).status).toBe(404);

    await machineCall(app, m2.id, "uncordon");
    expect(new Set(await versions(10))).toEqual(new Set([img1, img2]));
  }, 30_000);

  it("a machine created with skip_service_registration (cordoned: true) is out of rotation until uncordoned", async () => {
    const img3 = image(app, "three");
    const logFrom = fly.log.length;
    const m3 = await createMachine(machineInputs(app, `${app}-green-0`, img3, { cordoned: true }));
    const post = fly.log.slice(logFrom).find((l) => l.method === "POST" && l.path === `/apps/${app}/machines`);
    expect(post?.body).toMatchObject({ skip_service_registration: true });
    // Healthy (create waited for its checks), yet never picked without being asked for.
    expect((await getMachine(app, m3.id)).checks?.every((c) => c.status === "passing")).toBe(true);
    expect(await versions(12)).not.toContain(img3);
    expect(await versions(2, { "fly-force-instance-id": m3.id })).toEqual([img3, img3]);
    await machineCall(app, m3.id, "uncordon");
    expect(await versions(12)).toContain(img3);
  }, 30_000);
});

describe("faults", () => {
  it("crashAtStart: checks go critical, the machine is restarted (policy always), and it is never routable", async () => {
    const app = "emu-crash";
    await createApp(app);
    const img = image(app, "crash", { crashAtStart: true });
    const m = await createRaw(app, `${app}-blue-0`, config(app, img));
    expect((m.checks ?? []).map((c) => c.status)).toEqual(["warning", "warning"]);
    const answers: number[] = [];
    await until(
      "restarts and critical checks",
      async () => {
        answers.push((await viaProxy(`${app}.fly.dev`)).status);
        const got = await getMachine(app, m.id);
        return (fly.runtime(m.id)?.restarts ?? 0) >= 2 && got.checks?.some((c) => c.status === "critical") ? true : undefined;
      },
      8000,
      150,
    );
    expect(new Set(answers)).toEqual(new Set([503]));
    expect(fly.runtime(m.id)!.logs.join("")).toMatch(/process exited \(code 1\)/);
    await destroyMachine(app, m.id);
  }, 20_000);

  it("crashAfterMs: served at first, out of rotation once its process dies (restart policy no)", async () => {
    const app = "emu-dies";
    await createApp(app);
    const img = image(app, "dies", { crashAfterMs: 2500 });
    const cfg = config(app, img);
    cfg.restart = { policy: "no" };
    const m = await createRaw(app, `${app}-blue-0`, cfg);
    await until("passing checks", async () => ((await getMachine(app, m.id)).checks?.every((c) => c.status === "passing") ? true : undefined));
    const first = await viaProxy(`${app}.fly.dev`);
    expect(first.status).toBe(200);
    expect(versionOf(first)).toBe(img);

    const gone = await until("the proxy to stop routing to it", async () => {
      const a = await viaProxy(`${app}.fly.dev`);
      return a.status === 503 ? a : undefined;
    });
    expect(gone.body).toBe(`no known healthy instances found for app ${app}\n`);
    expect((await getMachine(app, m.id)).state).toBe("stopped");
    await new Promise((r) => setTimeout(r, 600)); // past the emulator's restart backoff
    expect(fly.runtime(m.id)!.restarts).toBe(0);
    expect((await viaProxy(`${app}.fly.dev`)).status).toBe(503);
    // Asked for by id, a stopped machine is not served either.
    expect((await viaProxy(`${app}.fly.dev`, "/version", { "fly-force-instance-id": m.id })).status).toBe(503);
    await destroyMachine(app, m.id);
  }, 20_000);

  it("slowStartMs: checks report warning inside the grace period, then passing; the proxy waits for passing", async () => {
    const app = "emu-slow";
    await createApp(app);
    const img = image(app, "slow", { slowStartMs: 1500 });
    const cfg = config(app, img);
    // 60 s grace, scaled by checkTimeScale (0.05): 3 s, longer than the 1.5 s slow start.
    cfg.checks!.health!.grace_period = "60s";
    cfg.services![0]!.checks![0]!.grace_period = "60s";
    const created = Date.now();
    const m = await createRaw(app, `${app}-blue-0`, cfg);
    const seen: { status: string; output: string }[] = [];
    let refusedWhileStarting: number | undefined;
    await until(
      "passing checks",
      async () => {
        const checks = (await getMachine(app, m.id)).checks ?? [];
        seen.push(...checks.map((c) => ({ status: c.status, output: c.output })));
        if (refusedWhileStarting === undefined && checks.some((c) => /ECONNREFUSED/.test(c.output))) {
          refusedWhileStarting = (await viaProxy(`${app}.fly.dev`)).status;
        }
        return checks.length === 2 && checks.every((c) => c.status === "passing") ? true : undefined;
      },
      8000,
      100,
    );
    expect(Date.now() - created).toBeGreaterThanOrEqual(1500);
    // Failures inside the grace period are warnings, never critical.
    expect(seen.filter((c) => /ECONNREFUSED/.test(c.output)).length).toBeGreaterThan(0);
    expect(seen.filter((c) => /ECONNREFUSED/.test(c.output)).every((c) => c.status === "warning")).toBe(true);
    expect(seen.some((c) => c.status === "critical")).toBe(false);
    expect(refusedWhileStarting).toBe(503);
    expect((await viaProxy(`${app}.fly.dev`)).status).toBe(200);
    await destroyMachine(app, m.id);
  }, 20_000);
});

describe("proxy counts", () => {
  it("counts every request per host (port stripped, any answer) and per client", async () => {
    const app = "emu-count";
    const host = "shop.emu-count.test";
    await createApp(app);
    const cert = await flyCertificateProvider.create!({ app, hostname: host });
    expect(cert.id).toBe(`${app}/${host}`);
    const { id } = await createMachine(machineInputs(app, `${app}-blue-0`, image(app, "v1")));

    expect(fly.proxyCount(host)).toBe(0);
    const N = 9;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await viaProxy(host, "/")).status);
    for (let i = 0; i < 2; i++) statuses.push((await viaProxy(host, "/version", { "fly-force-instance-id": id })).status);
    statuses.push((await viaProxy(`${host}:443`, "/healthz")).status);
    statuses.push((await viaProxy(host.toUpperCase(), "/")).status);
    expect(statuses).toEqual(Array(N).fill(200));
    expect(fly.proxyCount(host)).toBe(N);
    expect(fly.proxyCount(host, UA)).toBe(N);
    expect(fly.proxyCount(host, "someone-else")).toBe(0);
    expect(fly.proxyAnswers(host)).toEqual({ "200": N });

    // A host nobody holds is counted too, with its 404.
    expect((await viaProxy("nobody.emu-count.test")).status).toBe(404);
    expect(fly.proxyCount("nobody.emu-count.test")).toBe(1);
    expect(fly.proxyAnswers("nobody.emu-count.test")).toEqual({ "404": 1 });
    expect(fly.proxyCount(host)).toBe(N);
  }, 20_000);
});

describe("destroy and stop", () => {
  it("destroying a machine kills its process: its pid is gone and its address answers no more", async () => {
    const app = "emu-destroy";
    await createApp(app);
    const { id, outs } = await createMachine(machineInputs(app, `${app}-blue-0`, image(app, "v1")));
    const proc = await until("the machine's process", () => machineProcess(id));
    const addr = fly.runtime(id)!.addr;
    expect(await direct(addr, 8080)).toBe(200);

    await flyMachineProvider.delete!(id, outs);
    await until("the process to die", () => dead(proc.pid) || undefined, 3000);
    // A connection the dying process had accepted may be reset; once it is gone, the address refuses.
    await until("its address to refuse connections", async () => ((await direct(addr, 8080)) === "ECONNREFUSED" ? true : undefined), 3000);
    expect(fly.runtime(id)).toBeUndefined();
    expect(machineProcess(id)).toBeUndefined();
    expect((await viaProxy(`${app}.fly.dev`)).status).toBe(503);
    expect((await flyMachineProvider.read!(id, outs)).id).toBeUndefined();
  }, 20_000);

  it("fly.stop() leaves no process marked with this test's pid", async () => {
    const app = "emu-stop";
    await createApp(app);
    await createMachine(machineInputs(app, `${app}-blue-0`, image(app, "v1")));
    await createMachine(machineInputs(app, `${app}-blue-1`, image(app, "v2")));
    const running = ownedProcesses();
    expect(running.length).toBeGreaterThanOrEqual(2);
    await fly.stop();
    await until("every machine process to die", () => running.every((p) => dead(p.pid)) || undefined, 3000);
    expect(ownedProcesses()).toEqual([]);
  }, 20_000);
});
