import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { AUTOMATIC_TTL, flyAppTarget, type CloudflareRecordRef } from "./switch-plan";

export interface PublicHostnameArgs {
  /** The Cloudflare zone (domain) that holds the hostname, looked up by name, e.g. `example.com`. */
  readonly zone: pulumi.Input<string>;
  /** The environment's public hostname, inside `zone`, e.g. `app.example.com`. */
  readonly hostname: pulumi.Input<string>;
  /** The Fly app that serves the hostname: the record targets `<flyApp>.fly.dev`. */
  readonly flyApp: pulumi.Input<string>;
  /**
   * The Fly certificate for `hostname` (`FlyCertificate`, declared beside this component). The record
   * waits for it, so Cloudflare does not send traffic to Fly before Fly can serve TLS for the name.
   */
  readonly certificate?: pulumi.Input<pulumi.Resource>;
  /** Further certificates the record waits for (two-app mode: each slot's app has one for the hostname). @default [] */
  readonly certificates?: pulumi.Resource[];
  /**
   * Whether a blue/green router owns the record's `content` (two-app mode, `CloudflareRecordRouter`):
   * then `flyApp` only sets the first target, and later `up`s leave `content` to the router instead
   * of pointing it back at `flyApp`. @default false
   */
  readonly routerOwnsContent?: boolean;
  /** Note shown on the record in Cloudflare's dashboard. @default "Managed by Flightdeck (Pulumi): do not edit by hand." */
  readonly comment?: pulumi.Input<string>;
}

/**
 * A proxied CNAME from an environment's hostname to its Fly app. The record's ids and target are
 * outputs so the blue/green router (two apps, `fly.router: "cloudflare"`) can switch it with
 * `cloudflareSwitchPlan`.
 */
export class PublicHostname extends pulumi.ComponentResource {
  /** Cloudflare's id of the DNS record. */
  readonly recordId: pulumi.Output<string>;
  /** Cloudflare's id of the zone. */
  readonly zoneId: pulumi.Output<string>;
  /** The record's full name (the hostname). */
  readonly name: pulumi.Output<string>;
  /** Where the record points now: `<flyApp>.fly.dev`. */
  readonly content: pulumi.Output<string>;
  /** Everything `cloudflareSwitchPlan` needs, in one value. */
  readonly record: pulumi.Output<CloudflareRecordRef>;

  constructor(name: string, args: PublicHostnameArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:cloudflare:PublicHostname", name, {}, opts);
    assertInsideZone(name, args.zone, args.hostname);

    const zone = cloudflare.getZoneOutput({ filter: { name: args.zone } }, { parent: this });
    const record = new cloudflare.DnsRecord(
      `${name}-record`,
      {
        zoneId: zone.id,
        name: args.hostname,
        type: "CNAME",
        content: pulumi.output(args.flyApp).apply(flyAppTarget),
        proxied: true,
        ttl: AUTOMATIC_TTL,
        comment: args.comment ?? "Managed by Flightdeck (Pulumi): do not edit by hand.",
      },
      {
        parent: this,
        dependsOn: [...(args.certificate ? [args.certificate] : []), ...(args.certificates ?? [])],
        ...(args.routerOwnsContent ? { ignoreChanges: ["content"] } : {}),
      },
    );

    this.recordId = record.id;
    this.zoneId = record.zoneId;
    this.name = record.name;
    this.content = record.content;
    this.record = pulumi
      .all([record.zoneId, record.id, record.name])
      .apply(([zoneId, recordId, recordName]) => ({ zoneId, recordId, name: recordName }));
    this.registerOutputs({ recordId: this.recordId, zoneId: this.zoneId, name: this.name, content: this.content, record: this.record });
  }
}

/** A hostname outside its zone would create a record Cloudflare rejects or, worse, a wrong name: refuse it now. */
function assertInsideZone(name: string, zone: pulumi.Input<string>, hostname: pulumi.Input<string>): void {
  if (typeof zone !== "string" || typeof hostname !== "string") return;
  if (hostname !== zone && !hostname.endsWith(`.${zone}`)) {
    throw new Error(`PublicHostname ${name}: hostname ${hostname} is not inside the zone ${zone}; use a name ending in .${zone}`);
  }
}
