import { describe, expect, it } from "vitest";
import { CLOUDFLARE_API_BASE, cloudflareSwitchPlan, flyAppTarget } from "../../components/cloudflare/switch-plan";

const record = { zoneId: "023e105f4ecef8ad9ca31a8372d0c353", recordId: "372e67954025e0ba6aaa6d586b9e0b59", name: "app.flightdeck.dev" };

describe("cloudflareSwitchPlan", () => {
  it("switch is one PATCH of the record", () => {
    const plan = cloudflareSwitchPlan(record, "flightdeck-production-green");
    expect([plan.method, plan.path]).toEqual(["PATCH", "/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records/372e67954025e0ba6aaa6d586b9e0b59"]);
  });
  it("switch points the record at the other app's fly.dev name", () => {
    expect(cloudflareSwitchPlan(record, "flightdeck-production-green").body.content).toBe("flightdeck-production-green.fly.dev");
  });
  it("switch keeps the record a proxied CNAME with automatic TTL", () => {
    expect(cloudflareSwitchPlan(record, "flightdeck-production-green").body).toEqual({
      type: "CNAME",
      name: "app.flightdeck.dev",
      content: "flightdeck-production-green.fly.dev",
      proxied: true,
      ttl: 1,
    });
  });
  it("the plan is plain JSON, ready to send", () => {
    const plan = cloudflareSwitchPlan(record, "flightdeck-production-blue");
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
  it("the API base is Cloudflare's v4 API", () => {
    expect(CLOUDFLARE_API_BASE).toBe("https://api.cloudflare.com/client/v4");
  });
  it.each([
    ["zoneId", { ...record, zoneId: "../accounts" }],
    ["recordId", { ...record, recordId: "" }],
    ["recordId", { ...record, recordId: "a/b" }],
  ])("a %s that is not an id is refused", (field, bad) => {
    expect(() => cloudflareSwitchPlan(bad, "flightdeck-production-green")).toThrow(new RegExp(field));
  });
  it("a record without its name is refused", () => {
    expect(() => cloudflareSwitchPlan({ ...record, name: "" }, "flightdeck-production-green")).toThrow(/name/);
  });
  it.each(["Flightdeck_Green", "app.fly.dev", "a", ""])("an app name like %j is refused", (app) => {
    expect(() => flyAppTarget(app)).toThrow(/not a Fly app name/);
  });
});
