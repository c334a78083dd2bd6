import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { MachineRuntime } from "./machine-runtime";

/** A machine's answers of one status: how many, and how many within each RESPONSE_TIME_BUCKETS bound (cumulative). */
export interface MachineAnswers {
  count: number;
  buckets: number[];
}

/** Upper bounds of the response-time histogram, in seconds (Prometheus's default buckets); +Inf is `count`. */
export const RESPONSE_TIME_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Where a request goes: a machine, or the answer fly-proxy gives when none can take it. */
export type Route = { machine: MachineRuntime; id: string } | { status: number; error: string };

/**
 * The emulated fly-proxy: one loopback port, requests routed by Host (see FlyEmulator.route),
 * streamed to the chosen machine over a keep-alive agent. A machine that resets or refuses the
 * connection gives the client a 502. Every request is counted per host and per answer.
 */
export class EmulatedProxy {
  private server?: http.Server;
  url = "";
  /** Requests per Host (without port), whatever their answer. */
  readonly perHost = new Map<string, number>();
  /** Requests per "host user-agent": tells a load generator's requests from the driver's probes. */
  readonly perClient = new Map<string, number>();
  /** Answers per "host status" and per machine id. */
  readonly answers = new Map<string, number>();
  /**
   * What Fly's proxy reports per machine (fly_app_http_responses_count and
   * fly_app_http_response_time_seconds): machine id → status → answers and response-time buckets.
   */
  readonly perMachine = new Map<string, Map<string, MachineAnswers>>();

  constructor(private readonly route: (host: string, forced: string | undefined) => Route) {}

  private observe(id: string, status: number, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000;
    const byStatus = this.perMachine.get(id) ?? new Map<string, MachineAnswers>();
    this.perMachine.set(id, byStatus);
    const a = byStatus.get(String(status)) ?? { count: 0, buckets: RESPONSE_TIME_BUCKETS.map(() => 0) };
    byStatus.set(String(status), a);
    a.count++;
    RESPONSE_TIME_BUCKETS.forEach((le, i) => {
      if (seconds <= le) a.buckets[i]!++;
    });
  }

  private count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    this.count(this.perHost, host);
    this.count(this.perClient, `${host} ${req.headers["user-agent"] ?? ""}`);
    const forced = req.headers["fly-force-instance-id"];
    const route = this.route(host, typeof forced === "string" ? forced : undefined);
    const answer = (status: number, body: string) => {
      this.count(this.answers, `${host} ${status}`);
      if (!res.headersSent) res.writeHead(status, { "content-type": "text/plain" });
      res.end(body);
    };
    if ("status" in route) return answer(route.status, `${route.error}\n`);
    const { machine, id } = route;
    const startedAt = performance.now();
    let observed = false;
    const upstream = http.request(
      {
        host: machine.addr,
        port: machine.internalPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, "fly-forwarded-port": "443", "x-forwarded-proto": "https", "fly-request-id": id },
        agent: machine.agent,
      },
      (up) => {
        this.count(this.answers, `${host} ${up.statusCode}`);
        this.count(this.answers, `machine ${id}`);
        observed = true;
        this.observe(id, up.statusCode ?? 502, startedAt);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      // Assumed (docs/fly-emulator.md): a request the machine cut off counts against it, as a 502.
      if (!observed) this.observe(id, 502, startedAt);
      // Cut off after its headers were passed on: the client's response is cut off too, as a real
      // proxy resets it. (Writing the 502 text after them corrupted the keep-alive stream, and the
      // client's next request on it failed and was sent again: one request counted twice.)
      if (res.headersSent) return void res.destroy();
      answer(502, `machine ${id}: ${e.message}`);
    });
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
