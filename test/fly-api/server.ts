/**
 * An in-process test server for the Fly Machines API: the endpoints Flightdeck uses, with the
 * request and response shapes of Fly's published spec (checked on both sides by ./spec.ts), and
 * the state a deploy touches: apps, machines (versions, instance ids, states, check states,
 * leases, cordons), secrets, IP assignments and certificates. It can inject 429/5xx answers,
 * slow answers (timeouts) and "no capacity" per region.
 *
 * Every spec violation is recorded in `violations` (and a bad request is answered 400): tests
 * assert it stays empty.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { findOperation, requestSchema, responseSchema, statusDeclared, validate } from "./spec";
import { instantQuery, type Series } from "./prometheus";

export interface FakeMachine {
  id: string;
  name: string;
  region: string;
  config: Record<string, unknown>;
  instanceId: string;
  versions: string[];
  state: "created" | "started" | "stopped" | "destroyed";
  startAt: number;
  cordoned: boolean;
  lease?: { nonce: string; expiresAt: number; owner: string; description: string };
  createdAt: string;
  updatedAt: string;
}

export interface FakeApp {
  id: string;
  name: string;
  org: string;
  network?: string;
  machines: Map<string, FakeMachine>;
  secrets: Map<string, { value: string; digest: string; createdAt: string; updatedAt: string }>;
  ips: { ip: string; type: string; region: string; shared: boolean; createdAt: string }[];
  certificates: Map<string, { hostname: string; status: string; configured: boolean }>;
  secretsVersion: number;
}

export interface Injection {
  method?: string;
  /** Matched against the path below /v1 (with query). */
  path: RegExp;
  /** Answer with this status (and body); omitted with `delayMs`: answer normally, late. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** How many requests it applies to. */
  times: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  body?: unknown;
  headers: http.IncomingHttpHeaders;
}

const id14 = () => crypto.randomBytes(7).toString("hex");
const now = () => new Date().toISOString();

export class FakeFly {
  readonly apps = new Map<string, FakeApp>();
  readonly violations: string[] = [];
  readonly log: LoggedRequest[] = [];
  readonly injections: Injection[] = [];
  /** Queries to the emulated Prometheus, with the status answered. */
  readonly metricsLog: { org: string; query: string; status: number }[] = [];
  /** App requests through the proxy (paths outside /v1). */
  readonly proxyLog: { path: string; instance?: string; status: number }[] = [];
  /** Regions that answer machine creation with "insufficient capacity". */
  readonly noCapacity = new Set<string>();
  /** Images whose machines fail their checks. */
  readonly failingImages = new Set<string>();
  startDelayMs = 30;
  /** For this long after a version starts, the machine lists no checks at all (as before Fly has run one). */
  checksListedAfterMs = 0;
  token = "test-token";
  private server?: http.Server;
  url = "";

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  inject(i: Injection): void {
    this.injections.push(i);
  }

  /** Another deploy takes the machine's lease. */
  holdLease(app: string, machineId: string, ttlS = 60): string {
    const m = this.machine(app, machineId);
    const nonce = id14();
    m.lease = { nonce, expiresAt: Date.now() + ttlS * 1000, owner: "someone-else@example.com", description: "another deploy" };
    return nonce;
  }

  machine(app: string, id: string): FakeMachine {
    const m = this.apps.get(app)?.machines.get(id);
    if (!m) throw new Error(`test server: no machine ${id} in ${app}`);
    return m;
  }

  machines(app: string): FakeMachine[] {
    return [...(this.apps.get(app)?.machines.values() ?? [])];
  }

  /** Change a machine out of band (as `fly machine update` would): a new version and instance. */
  updateOutOfBand(app: string, id: string, change: (config: Record<string, unknown>) => void): void {
    const m = this.machine(app, id);
    change(m.config);
    this.newVersion(m);
  }

  isEmpty(): boolean {
    return this.apps.size === 0;
  }

  private newVersion(m: FakeMachine): void {
    m.instanceId = id14().toUpperCase();
    m.versions.push(m.instanceId);
    m.state = "created";
    m.startAt = Date.now() + this.startDelayMs;
    m.updatedAt = now();
  }

  /** Moves a machine's state along with time. The emulator (test/fly-emulator) runs processes instead. */
  protected refresh(m: FakeMachine): void {
    if (m.state === "created" && Date.now() >= m.startAt) m.state = "started";
  }

  /**
   * A machine got a new version (created or updated): the emulator starts its image here. An
   * answer is an error the API returns instead (an image that cannot be pulled).
   */
  protected onVersion(_app: FakeApp, _m: FakeMachine): string | undefined {
    return undefined;
  }

  /** A machine is gone (destroyed, or with its app): the emulator stops its process here. */
  protected onDestroy(_m: FakeMachine): void {}

  /** A machine's check results; undefined: the synthetic ones (started and not in failingImages passes). */
  protected checkResults(_m: FakeMachine): { name: string; status: string; output: string }[] | undefined {
    return undefined;
  }

  protected checkNames(m: FakeMachine): string[] {
    const names = Object.keys((m.config.checks as Record<string, unknown>) ?? {});
    const services = (m.config.services as { internal_port?: number; checks?: unknown[] }[]) ?? [];
    services.forEach((s, i) => (s.checks ?? []).forEach((_c, j) => names.push(`servicecheck-${String(i).padStart(2, "0")}-${j}-${s.internal_port}`)));
    return names;
  }

  machineBody(m: FakeMachine): Record<string, unknown> {
    this.refresh(m);
    const image = String(m.config.image ?? "");
    const at = image.indexOf("@");
    const repo = at >= 0 ? image.slice(0, at) : image;
    const failing = this.failingImages.has(image);
    return {
      id: m.id,
      name: m.name,
      state: m.state,
      region: m.region,
      instance_id: m.instanceId,
      private_ip: `fdaa:0:1:a7b:1::${m.id.slice(0, 4)}`,
      config: m.config,
      image_ref: { registry: repo.split("/")[0], repository: repo.split("/").slice(1).join("/"), tag: "", digest: at >= 0 ? image.slice(at + 1) : "", labels: {} },
      created_at: m.createdAt,
      updated_at: m.updatedAt,
      checks: this.checksListedAfterMs > 0 && Date.now() - m.startAt < this.checksListedAfterMs ? [] : this.checkResults(m)?.map((c) => ({ ...c, updated_at: now() })) ?? this.checkNames(m).map((name) => ({
        name,
        status: m.state !== "started" ? "warning" : failing ? "critical" : "passing",
        output: m.state !== "started" ? "waiting for status update" : failing ? "HTTP GET /healthz: 503" : "HTTP GET /healthz: 200 OK",
        updated_at: now(),
      })),
      events: [],
    };
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    const sub = url.pathname.replace(/^\/v1/, "");
    let body: unknown;
    const send = (status: number, out?: unknown, headers: Record<string, string> = {}) => {
      const op = findOperation(method, sub);
      if (op) {
        if (!statusDeclared(op.op, status)) this.violations.push(`response ${method} ${sub}: status ${status} is not in the spec`);
        const schema = responseSchema(op.op, status);
        if (schema && out !== undefined) for (const e of validate(schema, out)) this.violations.push(`response ${method} ${sub} ${status}: ${e}`);
      }
      this.log.push({ method, path: sub + url.search, status, body, headers: req.headers });
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(out === undefined ? "" : JSON.stringify(out));
    };
    const fail = (status: number, error: string, extra: Record<string, unknown> = {}) => send(status, { error, ...extra });

    if (raw && !url.pathname.startsWith("/prometheus/")) {
      try {
        body = JSON.parse(raw);
      } catch {
        this.violations.push(`request ${method} ${sub}: body is not JSON`);
        return fail(400, "invalid JSON");
      }
    }
    const metrics = /^\/prometheus\/([^/]+)\/api\/v1\/query$/.exec(url.pathname);
    if (metrics) return this.prometheus(decodeURIComponent(metrics[1]!), method === "POST" ? new URLSearchParams(raw) : url.searchParams, req, res);
    if (!url.pathname.startsWith("/v1/")) return this.proxy(req, res, url);
    const op = findOperation(method, sub);
    if (!url.pathname.startsWith("/v1/") || !op) {
      this.violations.push(`request ${method} ${url.pathname}: no such operation in the spec`);
      return fail(404, "404 page not found");
    }
    const schema = requestSchema(op.op);
    if (schema) {
      const errors = body === undefined ? ["$: missing request body"] : validate(schema, body);
      if (errors.length) {
        this.violations.push(...errors.map((e) => `request ${method} ${sub}: ${e}`));
        return fail(400, errors.join("; "));
      }
    } else if (body !== undefined) {
      this.violations.push(`request ${method} ${sub}: the spec takes no body`);
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) return fail(401, "unauthorized");

    const inj = this.injections.find((i) => i.times > 0 && (!i.method || i.method === method) && i.path.test(sub + url.search));
    if (inj) {
      inj.times--;
      if (inj.delayMs) await new Promise((r) => setTimeout(r, inj.delayMs));
      if (inj.status) return send(inj.status, inj.body ?? { error: `injected ${inj.status}` }, inj.headers);
      if (res.destroyed || req.socket.destroyed) return;
    }
    try {
      await this.route(method, op.template, op.params, url.searchParams, body as Record<string, unknown>, req.headers, send, fail);
    } catch (err) {
      fail(500, (err as Error).message);
    }
  }

  /**
   * Fly's Prometheus for one org (https://api.fly.io/prometheus/<org>/api/v1/query): instant queries
   * over `metricSeries()` of that org's apps, with the API token (test/fly-emulator/prometheus.ts).
   */
  private prometheus(org: string, params: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void {
    const reply = (status: number, body: unknown) => {
      this.metricsLog.push({ org, query: params.get("query") ?? "", status });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return reply(401, { status: "error", errorType: "unauthorized", error: "unauthorized" });
    const query = params.get("query");
    if (!query) return reply(400, { status: "error", errorType: "bad_data", error: "query is missing" });
    const apps = new Set([...this.apps.values()].filter((a) => a.org === org).map((a) => a.name));
    const answer = instantQuery(query, this.metricSeries().filter((s) => apps.has(s.labels.app ?? "")));
    reply(answer.status, answer.body);
  }

  /** The series Fly's Prometheus holds (the emulator's proxy keeps them); none here. */
  protected metricSeries(): Series[] {
    return [];
  }

  /**
   * Fly's proxy in front of the apps' machines, as far as a health gate needs it: any path outside
   * /v1 is an app request. `fly-force-instance-id` sends it to that machine, cordoned or not (how
   * the gate probes an idle slot); without it, to a started machine in rotation. A started machine
   * answers 200 unless its image is in `failingImages` (503).
   */
  private proxy(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const forced = req.headers["fly-force-instance-id"];
    const all = [...this.apps.values()].flatMap((a) => [...a.machines.values()]);
    all.forEach((mm) => this.refresh(mm));
    const m = typeof forced === "string" ? all.find((mm) => mm.id === forced) : all.find((mm) => !mm.cordoned && mm.state === "started");
    const status = !m ? 503 : m.state !== "started" || this.failingImages.has(String(m.config.image ?? "")) ? 503 : 200;
    this.proxyLog.push({ path: url.pathname, instance: typeof forced === "string" ? forced : undefined, status });
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(m ? { machine: m.id, image: m.config.image, state: m.state } : { error: "no machine to route to" }));
  }

  private async route(
    method: string,
    template: string,
    p: Record<string, string>,
    q: URLSearchParams,
    body: Record<string, unknown>,
    headers: http.IncomingHttpHeaders,
    send: (status: number, out?: unknown) => void,
    fail: (status: number, error: string, extra?: Record<string, unknown>) => void,
  ): Promise<void> {
    const key = `${method} ${template}`;
    if (key === "POST /apps") {
      const name = String(body.app_name ?? "");
      if (this.apps.has(name)) return fail(422, `app ${name} already exists`);
      const app: FakeApp = {
        id: id14(),
        name,
        org: String(body.org_slug ?? "personal"),
        network: body.network as string | undefined,
        machines: new Map(),
        secrets: new Map(),
        ips: [],
        certificates: new Map(),
        secretsVersion: 0,
      };
      this.apps.set(name, app);
      return send(201, undefined);
    }
    const app = this.apps.get(p.app_name);
    if (!app) return fail(404, `app ${p.app_name} not found`);
    const m = p.machine_id ? app.machines.get(p.machine_id) : undefined;
    if (p.machine_id && !m) return fail(404, `machine ${p.machine_id} not found`);
    const nonce = headers["fly-machine-lease-nonce"];
    const leaseBlocks = (mm: FakeMachine) => mm.lease && mm.lease.expiresAt > Date.now() && mm.lease.nonce !== nonce;

    switch (key) {
      case "GET /apps/{app_name}":
        return send(200, { id: app.id, name: app.name, status: "deployed", organization: { name: app.org, slug: app.org } });
      case "DELETE /apps/{app_name}":
        for (const mm of app.machines.values()) this.onDestroy(mm);
        this.apps.delete(app.name);
        return send(202, undefined);
      case "GET /apps/{app_name}/machines":
        return send(200, [...app.machines.values()].map((mm) => this.machineBody(mm)));
      case "POST /apps/{app_name}/machines": {
        const region = String(body.region ?? "ams");
        if (this.noCapacity.has(region)) {
          return fail(412, `insufficient resources to create new machine in region ${region}: no capacity`, { status: "insufficient_capacity" });
        }
        const mm: FakeMachine = {
          id: id14(),
          name: String(body.name ?? `machine-${id14()}`),
          region,
          config: structuredClone(body.config as Record<string, unknown>),
          instanceId: "",
          versions: [],
          state: "created",
          startAt: 0,
          cordoned: body.skip_service_registration === true,
          createdAt: now(),
          updatedAt: now(),
        };
        this.newVersion(mm);
        app.machines.set(mm.id, mm);
        const refused = this.onVersion(app, mm);
        if (refused) {
          app.machines.delete(mm.id);
          return fail(422, refused);
        }
        return send(200, this.machineBody(mm));
      }
      case "GET /apps/{app_name}/machines/{machine_id}":
        return send(200, this.machineBody(m!));
      case "POST /apps/{app_name}/machines/{machine_id}": {
        if (leaseBlocks(m!)) return fail(409, `machine ${m!.id} is leased by ${m!.lease!.owner} until ${new Date(m!.lease!.expiresAt).toISOString()}`);
        const { config, cordoned, instanceId, state, startAt, updatedAt } = m!;
        const versionCount = m!.versions.length;
        m!.config = structuredClone(body.config as Record<string, unknown>);
        // Assumed the pessimistic way (docs/fly-emulator.md): an update without
        // skip_service_registration registers the machine's services, putting it in rotation.
        m!.cordoned = body.skip_service_registration === true;
        this.newVersion(m!);
        const refusedUpdate = this.onVersion(app, m!);
        if (refusedUpdate) {
          // Refused before anything changed: the machine keeps its config, version and process.
          Object.assign(m!, { config, cordoned, instanceId, state, startAt, updatedAt });
          m!.versions.splice(versionCount);
          return fail(422, refusedUpdate);
        }
        return send(200, this.machineBody(m!));
      }
      case "DELETE /apps/{app_name}/machines/{machine_id}":
        if (leaseBlocks(m!)) return fail(409, `machine ${m!.id} is leased by ${m!.lease!.owner}`);
        app.machines.delete(m!.id);
        this.onDestroy(m!);
        return send(200, undefined);
      case "POST /apps/{app_name}/machines/{machine_id}/cordon":
        m!.cordoned = true;
        return send(200, undefined);
      case "POST /apps/{app_name}/machines/{machine_id}/uncordon":
        m!.cordoned = false;
        return send(200, undefined);
      case "POST /apps/{app_name}/machines/{machine_id}/lease": {
        if (leaseBlocks(m!)) return fail(409, `lease currently held by ${m!.lease!.owner}, expires at ${new Date(m!.lease!.expiresAt).toISOString()}`);
        const ttl = Number(body.ttl ?? 30);
        m!.lease = { nonce: id14(), expiresAt: Date.now() + ttl * 1000, owner: "flightdeck@example.com", description: String(body.description ?? "") };
        return send(200, { nonce: m!.lease.nonce, expires_at: Math.floor(m!.lease.expiresAt / 1000), owner: m!.lease.owner, description: m!.lease.description, version: m!.instanceId });
      }
      case "GET /apps/{app_name}/machines/{machine_id}/lease":
        if (!m!.lease) return fail(404, "no lease");
        return send(200, { nonce: m!.lease.nonce, expires_at: Math.floor(m!.lease.expiresAt / 1000), owner: m!.lease.owner, description: m!.lease.description });
      case "DELETE /apps/{app_name}/machines/{machine_id}/lease":
        if (m!.lease && m!.lease.nonce !== nonce) return fail(409, "lease nonce does not match");
        m!.lease = undefined;
        return send(200, undefined);
      case "GET /apps/{app_name}/machines/{machine_id}/versions":
        return send(200, m!.versions.map((v) => ({ version: v, user_config: m!.config })));
      case "GET /apps/{app_name}/machines/{machine_id}/wait": {
        const want = q.get("state") ?? "started";
        const deadline = Date.now() + Number(q.get("timeout") ?? 60) * 1000;
        const instance = q.get("instance_id");
        for (;;) {
          this.refresh(m!);
          if ((!instance || instance === m!.instanceId) && m!.state === want) return send(200, { ok: true });
          if (Date.now() >= deadline) return fail(408, `machine ${m!.id} did not reach ${want} in time`);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      case "GET /apps/{app_name}/secrets":
        return send(200, { secrets: [...app.secrets.entries()].map(([name, s]) => ({ name, digest: s.digest, created_at: s.createdAt, updated_at: s.updatedAt })) });
      case "POST /apps/{app_name}/secrets": {
        for (const [name, value] of Object.entries(body.values as Record<string, string>)) {
          const old = app.secrets.get(name);
          app.secrets.set(name, { value, digest: crypto.createHash("sha256").update(value).digest("hex").slice(0, 16), createdAt: old?.createdAt ?? now(), updatedAt: now() });
        }
        app.secretsVersion++;
        return send(200, { secrets: [...app.secrets.entries()].map(([name, s]) => ({ name, digest: s.digest, created_at: s.createdAt, updated_at: s.updatedAt })), version: app.secretsVersion });
      }
      case "DELETE /apps/{app_name}/secrets/{secret_name}":
        if (!app.secrets.delete(p.secret_name)) return fail(404, `secret ${p.secret_name} not found`);
        app.secretsVersion++;
        return send(200, { version: app.secretsVersion });
      case "GET /apps/{app_name}/ip_assignments":
        return send(200, { ips: app.ips.map((i) => ({ ip: i.ip, region: i.region, shared: i.shared, created_at: i.createdAt })) });
      case "POST /apps/{app_name}/ip_assignments": {
        const type = String(body.type);
        const n = app.ips.length + 1;
        const ip = type === "shared_v4" ? `66.241.124.${(n % 250) + 1}` : `2a09:8280:1::${app.id.slice(0, 4)}:${n}`;
        const rec = { ip, type, region: String(body.region ?? "global"), shared: type === "shared_v4", createdAt: now() };
        app.ips.push(rec);
        return send(200, { ip: rec.ip, region: rec.region, shared: rec.shared, created_at: rec.createdAt });
      }
      case "DELETE /apps/{app_name}/ip_assignments/{ip}": {
        const before = app.ips.length;
        app.ips = app.ips.filter((i) => i.ip !== p.ip);
        if (app.ips.length === before) return fail(404, `ip ${p.ip} not found`);
        return send(204, undefined);
      }
      case "POST /apps/{app_name}/certificates/acme": {
        const hostname = String(body.hostname);
        const cert = { hostname, status: "Awaiting certificates", configured: false };
        app.certificates.set(hostname, cert);
        return send(201, { hostname, status: cert.status, configured: false, acme_requested: true, dns_requirements: {} });
      }
      case "GET /apps/{app_name}/certificates/{hostname}": {
        const cert = app.certificates.get(p.hostname);
        if (!cert) return fail(404, `certificate ${p.hostname} not found`);
        return send(200, { hostname: cert.hostname, status: cert.status, configured: cert.configured, acme_requested: true, dns_requirements: {} });
      }
      case "DELETE /apps/{app_name}/certificates/{hostname}":
        if (!app.certificates.delete(p.hostname)) return fail(404, `certificate ${p.hostname} not found`);
        return send(204, undefined);
      default:
        this.violations.push(`request ${key}: in the spec but not implemented by the test server`);
        return fail(501, `${key} not implemented by the test server`);
    }
  }
}
