/**
 * An in-process test server for the part of Cloudflare's v4 API the record router uses:
 * `GET` and `PATCH /zones/:zone_id/dns_records/:dns_record_id`, answered in Cloudflare's envelope
 * (`{ success, errors, messages, result }`) with its DNS record shape. A bearer token is required.
 * Every request is logged; `inject` makes the next N matching requests fail (e.g. PATCH → 500).
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeDnsRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  proxiable: boolean;
  ttl: number;
  comment: string | null;
  tags: string[];
  created_on: string;
  modified_on: string;
}

export interface CloudflareInjection {
  method?: "GET" | "PATCH";
  status: number;
  times: number;
}

export interface CloudflareLoggedRequest {
  method: string;
  path: string;
  status: number;
  body?: unknown;
}

const PATCHABLE = new Set(["type", "name", "content", "proxied", "ttl", "comment", "tags"]);

export class FakeCloudflare {
  /** Records by id. */
  readonly records = new Map<string, FakeDnsRecord>();
  readonly log: CloudflareLoggedRequest[] = [];
  readonly injections: CloudflareInjection[] = [];
  token = "cf-test-token";
  url = "";
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/client/v4`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Adds a proxied CNAME, as PublicHostname would have created it; returns it. */
  addRecord(r: { zoneId: string; name: string; content: string; id?: string }): FakeDnsRecord {
    const now = new Date().toISOString();
    const record: FakeDnsRecord = {
      id: r.id ?? crypto.randomBytes(16).toString("hex"),
      zone_id: r.zoneId,
      zone_name: r.name.split(".").slice(-2).join("."),
      name: r.name,
      type: "CNAME",
      content: r.content,
      proxied: true,
      proxiable: true,
      ttl: 1,
      comment: null,
      tags: [],
      created_on: now,
      modified_on: now,
    };
    this.records.set(record.id, record);
    return record;
  }

  inject(i: CloudflareInjection): void {
    this.injections.push(i);
  }

  /** PATCH requests logged since index `from`, as "<status> <content>". */
  patches(from = 0): string[] {
    return this.log
      .slice(from)
      .filter((r) => r.method === "PATCH")
      .map((r) => `${r.status} ${String((r.body as { content?: unknown } | undefined)?.content)}`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://localhost");
    let body: unknown;
    const send = (status: number, result: unknown, errors: { code: number; message: string }[] = []) => {
      this.log.push({ method, path: url.pathname, status, ...(body !== undefined ? { body } : {}) });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ success: errors.length === 0 && status < 400, errors, messages: [], result }));
    };
    const fail = (status: number, code: number, message: string) => send(status, null, [{ code, message }]);
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return fail(400, 9207, "Request body is invalid JSON");
      }
    }
    // Cloudflare answers 400 with code 10000 for a missing or bad token on the v4 API.
    if (req.headers.authorization !== `Bearer ${this.token}`) return fail(400, 10000, "Authentication error");
    const m = /^\/client\/v4\/zones\/([^/]+)\/dns_records\/([^/]+)$/.exec(url.pathname);
    if (!m) return fail(404, 7003, "Could not route to " + url.pathname + ", perhaps your object identifier is invalid?");
    const [, zoneId, recordId] = m;

    const inj = this.injections.find((i) => i.times > 0 && (!i.method || i.method === method));
    if (inj) {
      inj.times--;
      return fail(inj.status, inj.status === 429 ? 971 : 10001, `injected ${inj.status}`);
    }
    const record = this.records.get(recordId);
    if (!record || record.zone_id !== zoneId) return fail(404, 81044, "Record does not exist.");
    if (method === "GET") return send(200, record);
    if (method === "PATCH") {
      if (typeof body !== "object" || body === null || Array.isArray(body)) return fail(400, 9207, "Request body must be an object");
      const patch = body as Record<string, unknown>;
      const unknown = Object.keys(patch).filter((k) => !PATCHABLE.has(k));
      if (unknown.length > 0) return fail(400, 9207, `Unknown fields: ${unknown.join(", ")}`);
      if (patch.type !== undefined && patch.type !== record.type) return fail(400, 9036, "Changing the record type is not supported here");
      if (patch.proxied === true && patch.ttl !== undefined && patch.ttl !== 1) return fail(400, 9205, "TTL of a proxied record must be 1 (automatic)");
      if (patch.content !== undefined && typeof patch.content !== "string") return fail(400, 9007, "Content must be a string");
      Object.assign(record, patch, { modified_on: new Date().toISOString() });
      return send(200, record);
    }
    return fail(405, 10000, `Method ${method} not allowed`);
  }
}
