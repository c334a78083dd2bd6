/**
 * A webhook receiver on a loopback port: records every JSON body posted to it, and answers with
 * the statuses a test queues (then 200), so a test can make a webhook fail and recover.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export class WebhookReceiver {
  readonly bodies: unknown[] = [];
  /** Statuses for the next requests, in order; 200 once they are used up. */
  readonly answers: number[] = [];
  /** Requests seen, answered or not (bodies holds only the ones answered 2xx). */
  requests = 0;
  url = "";
  private server?: http.Server;

  constructor(private readonly port = 0) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let data = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (data += c));
      req.on("end", () => {
        this.requests++;
        const status = this.answers.shift() ?? 200;
        if (status < 300) this.bodies.push(JSON.parse(data));
        res.writeHead(status, { "content-type": "text/plain" });
        res.end(status < 300 ? "ok" : "no");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/flightdeck`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
