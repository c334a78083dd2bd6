/**
 * The blue/green router of two-app mode on Fly (`fly.router: "cloudflare"`): the proxied CNAME of
 * the environment's hostname points at the live slot's app (`<app>-<slot>.fly.dev`). Switching is
 * one PATCH of that record (`cloudflareSwitchPlan`); Cloudflare's proxy keeps the hostname's
 * address, so clients see no DNS change and in-flight requests finish on the old app.
 *
 * The provider's methods are serialized by Pulumi and run in the engine's dynamic-provider process:
 * the token and base URL are read from the environment on every call (`CLOUDFLARE_API_TOKEN`,
 * `CLOUDFLARE_API_BASE`), never captured or stored.
 */
import * as pulumi from "@pulumi/pulumi";
import type { SlotName } from "../bluegreen/slots";
import { CLOUDFLARE_API_BASE, cloudflareSwitchPlan, type CloudflareRecordRef } from "./switch-plan";

import { cloudflareRecordRouterType } from "../fly/contract";

export { cloudflareRecordRouterType };

export interface CloudflareRecordRouterInputs {
  zoneId: string;
  recordId: string;
  /** The record's name (the environment's hostname). */
  hostname: string;
  live: SlotName;
  /** Where each slot's app answers, e.g. `{ blue: "app-blue.fly.dev", green: "app-green.fly.dev" }`. */
  targets: Record<SlotName, string>;
}

export interface CloudflareRecordRouterOutputs extends CloudflareRecordRouterInputs {
  /** The record's content as last written or read. */
  content: string;
}

/** Cloudflare's v4 response envelope. */
interface CloudflareEnvelope<T> {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: T;
}

export interface CloudflareDnsRecord {
  id: string;
  zone_id?: string;
  name: string;
  type: string;
  content: string;
  proxied?: boolean;
  ttl?: number;
}

/**
 * One call to Cloudflare's API, retried on 429, 5xx and network errors (a few attempts with a
 * short backoff: a switch should fail fast and let the deploy revert rather than hang). Errors
 * name the zone, the record, the HTTP status and Cloudflare's messages, never the token.
 */
export async function cloudflareCall<T>(method: "GET" | "PATCH", zoneId: string, recordId: string, body?: unknown): Promise<T> {
  const token = (process.env.CLOUDFLARE_API_TOKEN ?? "").trim();
  const where = `zone ${zoneId}, record ${recordId}`;
  if (!token) throw new Error(`Cloudflare ${method} ${where}: CLOUDFLARE_API_TOKEN is not set`);
  const base = ((process.env.CLOUDFLARE_API_BASE ?? "").trim() || CLOUDFLARE_API_BASE).replace(/\/+$/, "");
  const url = `${base}/zones/${encodeURIComponent(zoneId)}/dns_records/${encodeURIComponent(recordId)}`;
  const baseMs = Number(process.env.FLIGHTDECK_CLOUDFLARE_RETRY_BASE_MS) > 0 ? Number(process.env.FLIGHTDECK_CLOUDFLARE_RETRY_BASE_MS) : 500;
  const attempts = 4;
  let last = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let status: number | undefined;
    try {
      const res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      status = res.status;
      const text = await res.text();
      let env: CloudflareEnvelope<T> | undefined;
      try {
        env = JSON.parse(text) as CloudflareEnvelope<T>;
      } catch {
        env = undefined;
      }
      if (res.ok && env?.success === true && env.result !== undefined) return env.result;
      const messages = env?.errors?.map((e) => (e.code !== undefined ? `${e.code}: ${e.message}` : String(e.message))).join("; ") || text.slice(0, 300) || "(empty body)";
      last = `HTTP ${status}: ${messages}`;
      if (status !== 429 && status < 500) break;
    } catch (err) {
      const e = err as Error;
      last = e.name === "TimeoutError" ? "timed out after 30000 ms" : e.message;
    }
    if (attempt === attempts) {
      last += ` (gave up after ${attempts} attempts)`;
      break;
    }
    await new Promise((r) => setTimeout(r, baseMs * 2 ** (attempt - 1)));
  }
  throw new Error(`Cloudflare ${method} ${where} failed: ${last}`);
}

/** Which slot a record's content points at, or undefined when it points at neither app. */
export function slotOfContent(content: string, targets: Record<SlotName, string>): SlotName | undefined {
  const c = content.replace(/\.$/, "").toLowerCase();
  if (c === targets.blue.toLowerCase()) return "blue";
  if (c === targets.green.toLowerCase()) return "green";
  return undefined;
}

/** Points the record at `targets[live]` with cloudflareSwitchPlan's PATCH; returns the content Cloudflare now holds. */
export async function pointRecordAt(spec: { zoneId: string; recordId: string; hostname: string; targets: Record<SlotName, string> }, live: SlotName): Promise<string> {
  const target = spec.targets[live];
  if (!target || !target.endsWith(".fly.dev")) throw new Error(`CloudflareRecordRouter: no Fly app target for slot ${live} (found ${JSON.stringify(target)})`);
  const ref: CloudflareRecordRef = { zoneId: spec.zoneId, recordId: spec.recordId, name: spec.hostname };
  const plan = cloudflareSwitchPlan(ref, target.slice(0, -".fly.dev".length));
  const record = await cloudflareCall<CloudflareDnsRecord>(plan.method, spec.zoneId, spec.recordId, plan.body).catch((err: Error) => {
    throw new Error(`CloudflareRecordRouter: moving ${spec.hostname} to slot ${live} (${target}): ${err.message}`);
  });
  return record.content;
}

/** Reads the record: its content and the slot it points at. */
export async function readRecord(spec: { zoneId: string; recordId: string; targets: Record<SlotName, string> }): Promise<{ content: string; live?: SlotName }> {
  const record = await cloudflareCall<CloudflareDnsRecord>("GET", spec.zoneId, spec.recordId);
  return { content: record.content, live: slotOfContent(record.content, spec.targets) };
}

const watched = ["zoneId", "recordId", "hostname", "live", "targets"] as const;

export const cloudflareRecordRouterProvider: pulumi.dynamic.ResourceProvider<CloudflareRecordRouterInputs, CloudflareRecordRouterOutputs> = {
  async create(inputs) {
    const content = await pointRecordAt(inputs, inputs.live);
    return { id: `${inputs.zoneId}/${inputs.recordId}`, outs: { ...inputs, content } };
  },
  async read(id, props) {
    if (!props) return { id, props };
    // Drift: a record switched outside the engine (by hand, or by the driver's revert) shows as
    // another `live`, so the next `up` puts it where the config says.
    const found = await readRecord(props);
    return { id, props: { ...props, content: found.content, ...(found.live ? { live: found.live } : {}) } };
  },
  async diff(_id, olds, news) {
    const changed = watched.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    // A record pointing at neither app (changed by hand) is drift to repair, too.
    const stray = olds.content !== undefined && slotOfContent(olds.content, news.targets) === undefined;
    return { changes: changed.length > 0 || stray, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id, _olds, news) {
    const content = await pointRecordAt(news, news.live);
    return { outs: { ...news, content } };
  },
  async delete() {
    // The record belongs to PublicHostname: it stays, pointing where it last pointed.
  },
};

export type CloudflareRecordRouterArgs = {
  zoneId: pulumi.Input<string>;
  recordId: pulumi.Input<string>;
  hostname: pulumi.Input<string>;
  live: pulumi.Input<SlotName>;
  targets: pulumi.Input<{ blue: pulumi.Input<string>; green: pulumi.Input<string> }>;
};

/**
 * Points the environment's proxied record at the live slot's Fly app. Declare it with
 * `dependsOn: [gate]`, so a release that failed its gate never receives live traffic.
 */
export class CloudflareRecordRouter extends pulumi.dynamic.Resource {
  declare readonly zoneId: pulumi.Output<string>;
  declare readonly recordId: pulumi.Output<string>;
  declare readonly hostname: pulumi.Output<string>;
  declare readonly live: pulumi.Output<SlotName>;
  declare readonly targets: pulumi.Output<Record<SlotName, string>>;
  declare readonly content: pulumi.Output<string>;

  constructor(name: string, args: CloudflareRecordRouterArgs, opts?: pulumi.CustomResourceOptions) {
    super(cloudflareRecordRouterProvider, name, { ...args, content: undefined }, opts, "flightdeck", cloudflareRecordRouterType);
  }
}
