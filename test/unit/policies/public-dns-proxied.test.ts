import { describe, expect, it } from "vitest";
import { publicDnsProxied } from "../../../policies/rules/public-dns-proxied";
import { types } from "../../../policies/rules/common";
import { changed, runResourcePolicy } from "./support";

const happy: Record<string, unknown> = { zoneId: "zone", name: "app.flightdeck.dev", type: "CNAME", content: "flightdeck-production.fly.dev", ttl: 1, proxied: true };
const run = (props: Record<string, unknown>, config = {}) => runResourcePolicy(publicDnsProxied, types.cloudflareDnsRecord, props, config);

describe("public-dns-proxied", () => {
  it("passes a proxied record", async () => {
    expect(await run(happy)).toEqual([]);
  });
  it("public app records are proxied", async () => {
    const out = await run(changed(happy, (r) => (r.proxied = false)));
    expect(out[0].message).toMatch(/CNAME record app.flightdeck.dev is not proxied.*Fix: set proxied: true/);
  });
  it("a record without proxied is DNS-only", async () => {
    expect(await run(changed(happy, (r) => delete r.proxied))).toHaveLength(1);
  });
  it("records Cloudflare cannot proxy are not checked", async () => {
    expect(await run(changed(happy, (r) => Object.assign(r, { type: "TXT", proxied: false })))).toEqual([]);
  });
  it("exemptNames lets a record stay DNS-only", async () => {
    expect(await run(changed(happy, (r) => (r.proxied = false)), { exemptNames: ["app.flightdeck.dev"] })).toEqual([]);
  });
});
