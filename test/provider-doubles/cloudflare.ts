/**
 * Cloudflare as the provider double emulates it: an account that holds a fixed set of zones
 * (FLIGHTDECK_PROVIDER_DOUBLE_ZONES), DNS records with Cloudflare's 32-hex ids, and the API's
 * refusal of a CNAME beside another record of the same name.
 */
import * as crypto from "node:crypto";
import { DEFAULT_ZONES, ZONES_ENV, stableHex, str, zoneIdOf, type DoubleContext, type PackageBehaviour } from "./behaviour";
import { isObject, reveal } from "./wire";

const DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord";

function zones(ctx: DoubleContext): string[] {
  const listed = ctx.env[ZONES_ENV];
  return listed === undefined ? [...DEFAULT_ZONES] : listed.split(",").map((z) => z.trim()).filter(Boolean);
}

/** A record's full name: Cloudflare accepts `www` or `www.example.com` and stores the latter. */
function fqdn(name: string, zone: string | undefined): string {
  const n = name.toLowerCase().replace(/\.$/, "");
  if (!zone || n === "@") return zone ?? n;
  return n === zone || n.endsWith(`.${zone}`) ? n : `${n}.${zone}`;
}

export const cloudflare: PackageBehaviour = {
  replaceOnChanges: { [DNS_RECORD]: ["zoneId"] },

  missingCredentials(ctx: DoubleContext) {
    const c = (k: string) => str(reveal(ctx.config[k] ?? null));
    const e = ctx.env;
    const ok =
      c("apiToken") || e.CLOUDFLARE_API_TOKEN || c("apiUserServiceKey") || e.CLOUDFLARE_API_USER_SERVICE_KEY ||
      ((c("apiKey") || e.CLOUDFLARE_API_KEY) && (c("email") || e.CLOUDFLARE_EMAIL));
    return ok ? undefined : `400 Bad Request {"success":false,"errors":[{"code":9106,"message":"Missing X-Auth-Key, X-Auth-Email or Authorization headers"}]}`;
  },

  newId() {
    return crypto.randomBytes(16).toString("hex");
  },

  conflict(type, i, others, ctx) {
    if (type !== DNS_RECORD) return undefined;
    // A record names its zone by id: find the zone's name among the account's zones.
    const zone = zones(ctx).find((z) => zoneIdOf(z) === str(i.zoneId));
    const name = fqdn(str(i.name), zone);
    const clash = others.some(
      (o) =>
        o.type === DNS_RECORD &&
        str(o.inputs.zoneId) === str(i.zoneId) &&
        fqdn(str(o.inputs.name), zone) === name &&
        (str(i.type) === "CNAME" || str(o.inputs.type) === "CNAME"),
    );
    return clash
      ? `400 Bad Request {"success":false,"errors":[{"code":81053,"message":"An A, AAAA, or CNAME record with that host already exists."}]}`
      : undefined;
  },

  invoke(token, args, ctx) {
    if (token !== "cloudflare:index/getZone:getZone") throw new Error(`the Cloudflare provider double does not emulate ${token}`);
    const filter = isObject(args.filter) ? args.filter : {};
    const wanted = args.zoneId ? { id: str(args.zoneId) } : { name: str(filter.name).toLowerCase() };
    const found = zones(ctx).filter((z) => ("id" in wanted ? zoneIdOf(z) === wanted.id : z.toLowerCase() === wanted.name));
    // The upstream data source lists zones with the filter and wants exactly one.
    if (found.length !== 1) throw new Error(`failed to find exactly one result: ${found.length} found`);
    const name = found[0];
    const id = zoneIdOf(name);
    const account = { id: stableHex("cloudflare-account"), name: "Flightdeck (provider double)" };
    return {
      id,
      zoneId: id,
      name,
      status: "active",
      type: "full",
      paused: false,
      developmentMode: 0,
      account,
      owner: { id: account.id, name: account.name, type: "organization" },
      nameServers: ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
      originalNameServers: [],
      vanityNameServers: [],
      permissions: ["#zone:read", "#dns_records:edit"],
      cnameSuffix: "",
      originalDnshost: "",
      originalRegistrar: "",
      verificationKey: "",
      createdOn: "2024-01-01T00:00:00Z",
      activatedOn: "2024-01-01T00:00:00Z",
      modifiedOn: "2024-01-01T00:00:00Z",
      meta: {},
      plan: {},
      tenant: {},
      tenantUnit: {},
      ...(isObject(args.filter) ? { filter: args.filter } : {}),
    };
  },
};
