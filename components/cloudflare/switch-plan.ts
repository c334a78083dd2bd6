/**
 * The Cloudflare API request that moves a proxied hostname from one Fly app to another. Pure: a
 * router (two-app blue/green, `fly.router: "cloudflare"`) performs it; tests compare plans.
 */

/** Base of Cloudflare's v4 API; plan paths are relative to it. */
export const CLOUDFLARE_API_BASE = "https://api.cloudflare.com/client/v4";

/** Cloudflare's value for "automatic" TTL, the only TTL a proxied record may have. */
export const AUTOMATIC_TTL = 1;

const flyAppName = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// Zone and record ids are opaque to us; refusing path separators keeps the request on the record.
const pathSegment = /^[A-Za-z0-9_-]+$/;

/** Where a record lives, as PublicHostname exposes it. */
export interface CloudflareRecordRef {
  readonly zoneId: string;
  readonly recordId: string;
  /** Full record name, e.g. `app.example.com`. */
  readonly name: string;
}

/** The body of a DNS record update: the fields that define a proxied CNAME to a Fly app. */
export interface CloudflareCnameBody {
  readonly type: "CNAME";
  readonly name: string;
  readonly content: string;
  readonly proxied: true;
  readonly ttl: typeof AUTOMATIC_TTL;
}

/** One HTTP request to Cloudflare's API, ready to send with a bearer token. */
export interface CloudflareApiRequest {
  readonly method: "PATCH";
  /** Relative to CLOUDFLARE_API_BASE: `/zones/{zone_id}/dns_records/{dns_record_id}`. */
  readonly path: string;
  readonly body: CloudflareCnameBody;
}

/** The hostname Fly serves an app on, which a proxied CNAME targets. */
export function flyAppTarget(flyApp: string): string {
  if (!flyAppName.test(flyApp)) {
    throw new Error(`not a Fly app name: ${JSON.stringify(flyApp)} (lowercase letters, digits and dashes)`);
  }
  return `${flyApp}.fly.dev`;
}

/**
 * The request that points `record` at `toFlyApp`. PATCH rather than PUT so Cloudflare keeps the
 * record's id, comment and tags; the body still restates type, proxying and TTL so the switch can
 * never leave the hostname unproxied.
 */
export function cloudflareSwitchPlan(record: CloudflareRecordRef, toFlyApp: string): CloudflareApiRequest {
  for (const [field, value] of [["zoneId", record.zoneId], ["recordId", record.recordId]] as const) {
    if (!pathSegment.test(value)) {
      throw new Error(`cloudflareSwitchPlan: ${field} must be a Cloudflare id, found ${JSON.stringify(value)}`);
    }
  }
  if (record.name.length === 0) throw new Error("cloudflareSwitchPlan: the record needs its name");
  return {
    method: "PATCH",
    path: `/zones/${record.zoneId}/dns_records/${record.recordId}`,
    body: { type: "CNAME", name: record.name, content: flyAppTarget(toFlyApp), proxied: true, ttl: AUTOMATIC_TTL },
  };
}
