import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servedSlot } from "../../stacks/served";
import { slotTargets } from "../../stacks/traffic";
import type { DeliveryState } from "../../stacks/plan";

const spec = (release: string) => ({ release, features: {} });
const state: DeliveryState = { liveSlot: "green", slots: { blue: spec("r1"), green: spec("r2") } };

describe("servedSlot: which slot users get, from the live answers", () => {
  let server: http.Server;
  let answers: string[] = [];
  let url = "";
  beforeAll(async () => {
    let i = 0;
    server = http.createServer((_req, res) => {
      const v = answers[i++ % answers.length]!;
      if (v === "503") {
        res.writeHead(503);
        return res.end();
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ version: v }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it("every answer from the live slot's release: that slot", async () => {
    answers = ["r2"];
    expect(await servedSlot(url, state)).toMatchObject({ slot: "green", mixed: false });
  });
  it("every answer from the other slot's release: the other slot (state and router disagree)", async () => {
    answers = ["r1"];
    expect(await servedSlot(url, state)).toMatchObject({ slot: "blue", mixed: false });
  });
  it("answers from both releases: mixed, no slot claimed", async () => {
    answers = ["r1", "r2"];
    expect(await servedSlot(url, state)).toMatchObject({ mixed: true });
  });
  it("a failing or unknown answer names no slot and says why", async () => {
    answers = ["r2", "503"];
    const s = await servedSlot(url, state);
    expect(s.slot).toBeUndefined();
    expect(s.detail).toMatch(/HTTP 503/);
    answers = ["r9"];
    expect((await servedSlot(url, state)).detail).toMatch(/"r9", which no slot runs/);
  });
  it("both slots on one release cannot be told apart: no slot claimed", async () => {
    answers = ["r1"];
    const same: DeliveryState = { liveSlot: "blue", slots: { blue: spec("r1"), green: spec("r1") } };
    const s = await servedSlot(url, same);
    expect(s.slot).toBeUndefined();
    expect(s.detail).toMatch(/cannot tell them apart/);
  });
});

describe("slotTargets: how a slot is checked before traffic moves to it", () => {
  it("on one Fly app, each machine of the slot with fly-force-instance-id (the URL alone reaches the live slot)", () => {
    const targets = slotTargets({ kind: "fly", app: "a", machines: { blue: ["m1", "m2"], green: ["m3"] } }, "blue", "https://a.fly.dev");
    expect(targets).toEqual([
      { url: "https://a.fly.dev", headers: { "fly-force-instance-id": "m1" }, label: "machine m1" },
      { url: "https://a.fly.dev", headers: { "fly-force-instance-id": "m2" }, label: "machine m2" },
    ]);
  });
  it("elsewhere, the slot's own URL", () => {
    expect(slotTargets({ kind: "local", socketPath: "/x" }, "blue", "http://127.0.0.1:9001")).toEqual([{ url: "http://127.0.0.1:9001", label: "http://127.0.0.1:9001" }]);
  });
});
