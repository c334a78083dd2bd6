import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOperation, validate } from "../fly-api/spec";
import { FakeFly } from "../fly-api/server";

describe("the Swagger 2.0 validator behind the test server", () => {
  it("accepts a machine config Fly documents, with Go duration strings", () => {
    const req = { name: "m", region: "ams", config: { image: "x", guest: { cpus: 1, cpu_kind: "shared", memory_mb: 256 }, checks: { h: { type: "http", interval: "10s", timeout: "2s" } } } };
    expect(validate({ $ref: "#/definitions/CreateMachineRequest" }, req)).toEqual([]);
  });
  it("refuses unknown properties, wrong types, bad enums and bad durations", () => {
    const bad = { name: 1, regoin: "ams", config: { guest: { cpus: "1" }, restart: { policy: "sometimes" }, stop_config: { timeout: "ten seconds" } } };
    const errors = validate({ $ref: "#/definitions/CreateMachineRequest" }, bad);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\$\.name: expected string/),
        expect.stringMatching(/property "regoin" is not in the spec/),
        expect.stringMatching(/\$\.config\.guest\.cpus: expected integer/),
        expect.stringMatching(/\$\.config\.restart\.policy: "sometimes" is not one of/),
        expect.stringMatching(/\$\.config\.stop_config\.timeout: "ten seconds" is not a Go duration/),
      ]),
    );
  });
  it("matches literal segments before parameters", () => {
    expect(findOperation("POST", "/apps/a/certificates/acme")?.template).toBe("/apps/{app_name}/certificates/acme");
    expect(findOperation("GET", "/apps/a/certificates/x.example.com")?.params).toEqual({ app_name: "a", hostname: "x.example.com" });
  });
});

describe("the test server enforces the spec on requests", () => {
  const fly = new FakeFly();
  beforeAll(() => fly.start());
  afterAll(() => fly.stop());
  it("answers 400 and records a violation for a body the spec does not allow", async () => {
    const res = await fetch(`${fly.url}/v1/apps`, {
      method: "POST",
      headers: { authorization: "Bearer test-token", "content-type": "application/json" },
      body: JSON.stringify({ app_name: "x", org: "typo" }),
    });
    expect(res.status).toBe(400);
    expect(fly.violations).toEqual([expect.stringMatching(/property "org" is not in the spec/)]);
  });
  it("refuses a missing token", async () => {
    const res = await fetch(`${fly.url}/v1/apps/x`);
    expect(res.status).toBe(401);
  });
});
