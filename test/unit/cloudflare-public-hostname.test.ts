import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { CloudflareRecordRef } from "../../components/cloudflare/switch-plan";
import { parseStackConfig } from "../../infra/config/parse";
import type { CloudConfig } from "../../infra/config/schema";
import { installMocks, ofType, valueOf } from "../support/pulumi-mocks";
import { stackFileConfig } from "../support/stack-files";

const ZONE_ID = "0123456789abcdef0123456789abcdef";
const zoneLookups: Record<string, unknown>[] = [];
const registered = installMocks({
  invoke(token, args) {
    if (token === "cloudflare:index/getZone:getZone") {
      zoneLookups.push(args);
      return { id: ZONE_ID };
    }
    if (token === "github:index/getUser:getUser") return { id: "1001" };
    if (token === "github:index/getTeam:getTeam") return { id: "2002" };
    return {};
  },
});

function cloud(stack: string): CloudConfig {
  const cfg = parseStackConfig(stack, stackFileConfig(stack));
  if (cfg.environment === "local") throw new Error(`${stack} should be a cloud stack`);
  return cfg;
}

class TestCertificate extends pulumi.CustomResource {
  constructor(name: string, hostname: pulumi.Input<string>) {
    super("test:fly:Certificate", name, { hostname });
  }
}

const RECORD = "cloudflare:index/dnsRecord:DnsRecord";
const record = (name: string) => {
  const found = ofType(registered, RECORD).filter((r) => r.name === name);
  expect(found, name).toHaveLength(1);
  return found[0].inputs;
};

let stagingRef: CloudflareRecordRef;
let productionContent: string;
let certificate: pulumi.CustomResource;

beforeAll(async () => {
  const { declareDelivery } = await import("../../infra/delivery");
  const { PublicHostname } = await import("../../components/cloudflare/public-hostname");
  const noSecrets = { environmentSecrets: pulumi.secret<Record<string, string>>({}) };
  const staging = declareDelivery(cloud("staging"), noSecrets);
  const production = declareDelivery(cloud("production"), noSecrets);
  // Stands in for the FlyCertificate declared beside the hostname; it registers late on purpose,
  // so the record registers after it only if it waits for it.
  const late = new Promise<string>((resolve) => setTimeout(() => resolve("green.flightdeck.dev"), 300));
  certificate = new TestCertificate("cert", pulumi.output(late));
  const wired = new PublicHostname("wired", {
    zone: "flightdeck.dev",
    hostname: "green.flightdeck.dev",
    flyApp: "flightdeck-green",
    certificate,
  });
  stagingRef = await valueOf(staging.publicHostname.record);
  productionContent = await valueOf(production.publicHostname.content);
  await valueOf(wired.record);
});

describe("public hostname (staging and production configs)", () => {
  it("zone is looked up by its name", () => {
    expect(zoneLookups).toContainEqual({ filter: { name: "flightdeck.dev" } });
  });
  it("staging record is a CNAME for the staging hostname in the zone", () => {
    expect(record("staging-hostname-record")).toMatchObject({ zoneId: ZONE_ID, name: "staging.flightdeck.dev", type: "CNAME" });
  });
  it("staging record points at the staging Fly app", () => {
    expect(record("staging-hostname-record").content).toBe("flightdeck-staging.fly.dev");
  });
  it("staging record is proxied", () => {
    expect(record("staging-hostname-record").proxied).toBe(true);
  });
  it("staging record has automatic TTL", () => {
    expect(record("staging-hostname-record").ttl).toBe(1);
  });
  it("production record points the production hostname at the production Fly app", () => {
    expect(record("production-hostname-record")).toMatchObject({
      name: "app.flightdeck.dev",
      type: "CNAME",
      content: "flightdeck-production.fly.dev",
    });
  });
  it("production record is proxied", () => {
    expect(record("production-hostname-record").proxied).toBe(true);
  });
  it("production record has automatic TTL", () => {
    expect(record("production-hostname-record").ttl).toBe(1);
  });
  it("every public record is proxied", () => {
    expect(ofType(registered, RECORD).map((r) => r.inputs.proxied)).toEqual([true, true, true]);
  });
  it("the record exposes what a router needs to switch it", () => {
    expect(stagingRef).toEqual({ zoneId: ZONE_ID, recordId: "staging-hostname-record-id", name: "staging.flightdeck.dev" });
  });
  it("the record exposes its current target", () => {
    expect(productionContent).toBe("flightdeck-production.fly.dev");
  });
  it("a router's plan from the exposed record targets that record", async () => {
    const { cloudflareSwitchPlan } = await import("../../components/cloudflare/switch-plan");
    expect(cloudflareSwitchPlan(stagingRef, "flightdeck-staging-green").path).toBe(
      `/zones/${ZONE_ID}/dns_records/staging-hostname-record-id`,
    );
  });
  it("the record waits for the Fly certificate it is given", async () => {
    const order = registered.map((r) => r.name);
    expect(order.indexOf("cert")).toBeGreaterThanOrEqual(0);
    expect(order.indexOf("wired-record")).toBeGreaterThan(order.indexOf("cert"));
  });
});

describe("public hostname refuses contradictions before declaring anything", () => {
  it("a hostname outside the zone is refused", async () => {
    const { PublicHostname } = await import("../../components/cloudflare/public-hostname");
    const before = registered.length;
    expect(() => new PublicHostname("outside", { zone: "flightdeck.dev", hostname: "app.example.org", flyApp: "x-app" })).toThrow(
      /app\.example\.org is not inside the zone flightdeck\.dev/,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(registered.slice(before).filter((r) => r.name.startsWith("outside-"))).toEqual([]);
  });
});
