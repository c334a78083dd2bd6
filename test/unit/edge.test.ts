import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGE_ENV, edgeTarget } from "../../components/bluegreen/edge";
import { probeHttp, readVersion } from "../../components/bluegreen/probe";

describe("edgeTarget", () => {
  it("leaves every URL alone without FLIGHTDECK_EDGE_URL", () => {
    expect(edgeTarget("https://app.example.com/healthz", {})).toEqual({ url: "https://app.example.com/healthz", headers: {} });
  });
  it("sends an https URL to the edge with its host in Host", () => {
    expect(edgeTarget("https://app.example.com/healthz?x=1", { [EDGE_ENV]: "http://127.0.0.1:7443/" })).toEqual({
      url: "http://127.0.0.1:7443/healthz?x=1",
      headers: { host: "app.example.com" },
    });
  });
  it("never redirects a plain http URL (the local stack's router)", () => {
    expect(edgeTarget("http://127.0.0.1:8080/healthz", { [EDGE_ENV]: "http://127.0.0.1:7443" }).url).toBe("http://127.0.0.1:8080/healthz");
  });
});

describe("probes through the edge", () => {
  let server: http.Server;
  const seen: { host?: string; instance?: string; path?: string }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ host: req.headers.host, instance: req.headers["fly-force-instance-id"] as string | undefined, path: req.url });
      res.writeHead(req.headers.host === "app.example.com" ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify({ version: `served for ${req.headers.host}` }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    process.env[EDGE_ENV] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    delete process.env[EDGE_ENV];
    await new Promise((r) => server.close(r));
  });

  it("the gate's probe keeps its own headers and carries the public host", async () => {
    const r = await probeHttp("https://app.example.com/healthz", { expectedStatus: 200, timeoutMs: 1000, headers: { "fly-force-instance-id": "m1" } });
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(seen.at(-1)).toEqual({ host: "app.example.com", instance: "m1", path: "/healthz" });
  });
  it("a version read goes the same way", async () => {
    expect(await readVersion("https://app.example.com")).toEqual({ ok: true, version: "served for app.example.com" });
  });
  it("an unreachable edge is a failed probe with the connection error, not a throw", async () => {
    process.env[EDGE_ENV] = "http://127.0.0.1:1";
    const r = await probeHttp("https://app.example.com/healthz", { expectedStatus: 200, timeoutMs: 1000 });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });
});
