import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { MachineRuntime } from "./machine-runtime";

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

  constructor(private readonly route: (host: string, forced: string | undefined) => Route) {}

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
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (e) => answer(502, `machine ${id}: ${e.message}`));
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
