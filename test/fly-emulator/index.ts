/**
 * The Fly emulator: the spec-checked Machines API test server (test/fly-api/server.ts) whose
 * machines are real processes, and an emulated fly-proxy in front of them.
 *
 *   const fly = new FlyEmulator();
 *   fly.registry.add("registry.fly.io/app@sha256:…", sampleAppImage());
 *   await fly.start();            // fly.url: the Machines API (FLY_API_HOSTNAME), fly.proxyUrl: the edge
 *   …                             // requests to fly.proxyUrl with Host `<app>.fly.dev` or a certified hostname
 *   fly.proxyCount("app.example.com");
 *   await fly.stop();             // every machine process is killed
 *
 * A machine runs its image's command with the machine's env, Fly's runtime variables and the app's
 * secrets, on its own loopback address (127.a.b.n; ./netns-preload.cjs stands in for its network
 * namespace). Its checks run for real against that address, faster than configured (`checkTimeScale`),
 * and drive what the API reports and what the proxy routes to. What it assumes about Fly, and why
 * the design holds either way: docs/fly-emulator.md.
 */
import * as crypto from "node:crypto";
import { FakeFly, type FakeApp, type FakeMachine } from "../fly-api/server";
import { MachineRuntime, OWNER_ENV, type CheckSpec } from "./machine-runtime";
import { EmulatedProxy, RESPONSE_TIME_BUCKETS, type Route } from "./proxy";
import type { Series } from "../fly-api/prometheus";
import { ImageRegistry } from "./registry";
import { sweepOrphans } from "./sweep";

export { sampleAppImage, type ImageSpec } from "./registry";

/** "10s", "500ms", "1m" → ms. */
function durationMs(v: unknown, fallback: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(String(v ?? ""));
  if (!m) return fallback;
  return Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000);
}

interface HttpCheckConfig {
  type?: string;
  port?: number;
  path?: string;
  interval?: string;
  timeout?: string;
  grace_period?: string;
}

export class FlyEmulator extends FakeFly {
  readonly registry = new ImageRegistry();
  /** Check intervals and grace periods are multiplied by this (10 s → 500 ms): tests run in seconds. */
  checkTimeScale = 0.05;
  private readonly runtimes = new Map<string, MachineRuntime>();
  private readonly proxyServer = new EmulatedProxy((host, forced) => this.proxyRoute(host, forced));
  // Machines get 127.<a>.<b>.<n>: a and b drawn per emulator, so two emulators on one host (two
  // test runs) do not hand out the same address and port.
  private readonly subnet = `127.${64 + crypto.randomInt(128)}.${crypto.randomInt(256)}`;
  private nextAddress = 2;
  private roundRobin = 0;

  get proxyUrl(): string {
    return this.proxyServer.url;
  }

  override async start(): Promise<string> {
    sweepOrphans();
    await this.proxyServer.start();
    return super.start();
  }

  override async stop(): Promise<void> {
    for (const r of this.runtimes.values()) r.stop();
    this.runtimes.clear();
    await this.proxyServer.stop();
    await super.stop();
  }

  /** Requests the proxy received for a host; with `userAgent`, only those that client sent. */
  proxyCount(host: string, userAgent?: string): number {
    const h = host.toLowerCase();
    return (userAgent === undefined ? this.proxyServer.perHost.get(h) : this.proxyServer.perClient.get(`${h} ${userAgent}`)) ?? 0;
  }

  /** Answers the proxy gave for a host, by status. */
  proxyAnswers(host: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, n] of this.proxyServer.answers) if (k.startsWith(`${host} `)) out[k.slice(host.length + 1)] = n;
    return out;
  }

  /** URL of the emulated Fly Prometheus (FLIGHTDECK_FLY_METRICS_URL): `<url>/<org>/api/v1/query`. */
  get metricsUrl(): string {
    return `${this.url}/prometheus`;
  }

  /**
   * Fly's built-in proxy series per machine, from what the emulated proxy answered:
   * fly_app_http_responses_count{app, region, instance, status} and
   * fly_app_http_response_time_seconds_bucket{app, region, instance, status, le}.
   */
  protected override metricSeries(): Series[] {
    const out: Series[] = [];
    for (const app of this.apps.values()) {
      for (const m of app.machines.values()) {
        for (const [status, a] of this.proxyServer.perMachine.get(m.id) ?? []) {
          const labels = { app: app.name, region: m.region, host: "emulated", instance: m.id, status };
          out.push({ name: "fly_app_http_responses_count", labels, value: a.count });
          RESPONSE_TIME_BUCKETS.forEach((le, i) => out.push({ name: "fly_app_http_response_time_seconds_bucket", labels: { ...labels, le: String(le) }, value: a.buckets[i]! }));
          out.push({ name: "fly_app_http_response_time_seconds_bucket", labels: { ...labels, le: "+Inf" }, value: a.count });
        }
      }
    }
    return out;
  }

  runtime(id: string): MachineRuntime | undefined {
    return this.runtimes.get(id);
  }

  protected override onVersion(app: FakeApp, m: FakeMachine): string | undefined {
    const ref = String(m.config.image ?? "");
    const image = this.registry.get(ref);
    // Assumption (docs/fly-emulator.md): Fly refuses to create or update a machine whose image it
    // cannot pull, and the machine goes on running what it ran.
    if (!image) return `failed to get manifest ${ref}: MANIFEST_UNKNOWN: manifest unknown`;
    this.runtimes.get(m.id)?.stop();
    this.runtimes.delete(m.id);
    if (this.nextAddress > 254) return "the Fly emulator ran out of machine addresses (253 per emulator)";
    const addr = `${this.subnet}.${this.nextAddress++}`;
    const services = (m.config.services as { internal_port?: number; checks?: HttpCheckConfig[] }[] | undefined) ?? [];
    const internalPort = services[0]?.internal_port ?? 8080;
    const checks: CheckSpec[] = [];
    const spec = (name: string, c: HttpCheckConfig, port: number, service: boolean): CheckSpec => ({
      name,
      port,
      path: c.path ?? "/",
      intervalMs: Math.max(100, durationMs(c.interval, 15_000) * this.checkTimeScale),
      timeoutMs: durationMs(c.timeout, 2000),
      graceMs: durationMs(c.grace_period, 0) * this.checkTimeScale,
      service,
    });
    for (const [name, c] of Object.entries((m.config.checks as Record<string, HttpCheckConfig> | undefined) ?? {})) {
      if (c.type === "http") checks.push(spec(name, c, c.port ?? internalPort, false));
    }
    services.forEach((s, i) =>
      (s.checks ?? []).forEach((c, j) => {
        if (c.type === "http") checks.push(spec(`servicecheck-${String(i).padStart(2, "0")}-${j}-${s.internal_port}`, c, s.internal_port ?? internalPort, true));
      }),
    );
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...(image.env ?? {}),
      ...((m.config.env as Record<string, string> | undefined) ?? {}),
      ...Object.fromEntries([...app.secrets].map(([k, v]) => [k, v.value])),
      FLY_APP_NAME: app.name,
      FLY_MACHINE_ID: m.id,
      FLY_ALLOC_ID: m.id,
      FLY_REGION: m.region,
      FLY_IMAGE_REF: ref,
      FLY_PRIVATE_IP: `fdaa:0:1:a7b:1::${m.id.slice(0, 4)}`,
      FLY_MACHINE_VERSION: m.instanceId,
      [OWNER_ENV]: String(process.pid),
    };
    const restart = (m.config.restart as { policy?: string } | undefined)?.policy;
    this.runtimes.set(m.id, new MachineRuntime(addr, internalPort, image, env, checks, restart === undefined || restart === "always" || restart === "on-failure"));
    m.state = "started";
    return undefined;
  }

  protected override onDestroy(m: FakeMachine): void {
    this.runtimes.get(m.id)?.stop();
    this.runtimes.delete(m.id);
  }

  protected override refresh(m: FakeMachine): void {
    const r = this.runtimes.get(m.id);
    if (r) m.state = r.state;
  }

  protected override checkResults(m: FakeMachine) {
    return this.runtimes.get(m.id)?.checkResults();
  }

  /**
   * fly-proxy's choice for one request (assumptions in docs/fly-emulator.md): the app is the one
   * named `<app>.fly.dev` or holding a certificate for the host; `fly-force-instance-id` picks that
   * machine whatever its cordon; otherwise a started, uncordoned machine whose service checks pass,
   * in turn.
   */
  private proxyRoute(host: string, forced: string | undefined): Route {
    const app = [...this.apps.values()].find((a) => `${a.name}.fly.dev` === host || a.certificates.has(host));
    if (!app) return { status: 404, error: `no app is configured for host ${host}` };
    if (forced) {
      const r = app.machines.has(forced) ? this.runtimes.get(forced) : undefined;
      if (!r) return { status: 404, error: `no machine ${forced} in app ${app.name}` };
      if (r.state !== "started") return { status: 503, error: `machine ${forced} is not started` };
      return { machine: r, id: forced };
    }
    const candidates = [...app.machines.values()].filter((m) => !m.cordoned && this.runtimes.get(m.id)?.routable());
    if (candidates.length === 0) return { status: 503, error: `no known healthy instances found for app ${app.name}` };
    const m = candidates[this.roundRobin++ % candidates.length]!;
    return { machine: this.runtimes.get(m.id)!, id: m.id };
  }
}
