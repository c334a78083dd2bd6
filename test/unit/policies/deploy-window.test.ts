import { describe, expect, it } from "vitest";
import { checkDeployWindow, defaultWindow, isInsideWindow, makeDeployWindowPolicy, policyClock, POLICY_NOW_ENV } from "../../../policies/rules/deploy-window";
import { types } from "../../../policies/rules/common";
import { runResourcePolicy } from "./support";

// 2025-03-12 is a Wednesday; Los Angeles is on PDT (UTC-7) that day.
const wedNoonLA = new Date("2025-03-12T19:00:00Z");
const wedEveningLA = new Date("2025-03-13T01:30:00Z"); // 18:30 PDT
const satNoonLA = new Date("2025-03-15T19:00:00Z");
const override = { reason: "hotfix for checkout outage", approvedBy: "alice-ops", expires: "2025-03-16T00:00:00Z" };

describe("isInsideWindow", () => {
  it("is inside at noon on a weekday in Los Angeles", () => expect(isInsideWindow(wedNoonLA, defaultWindow)).toBe(true));
  it("is outside after 17:00 Los Angeles time", () => expect(isInsideWindow(wedEveningLA, defaultWindow)).toBe(false));
  it("is outside on Saturday", () => expect(isInsideWindow(satNoonLA, defaultWindow)).toBe(false));
  it("reads the day in the window's time zone, not UTC", () => {
    // 01:30 UTC Thursday is still Wednesday evening in Los Angeles but Thursday morning in Tokyo.
    expect(isInsideWindow(wedEveningLA, { ...defaultWindow, timeZone: "Asia/Tokyo" })).toBe(true);
  });
  it("start is inclusive and end exclusive", () => {
    expect(isInsideWindow(new Date("2025-03-12T16:00:00Z"), defaultWindow)).toBe(true); // 09:00 PDT
    expect(isInsideWindow(new Date("2025-03-13T00:00:00Z"), defaultWindow)).toBe(false); // 17:00 PDT
  });
  it("24:00 ends the day", () => {
    expect(isInsideWindow(new Date("2025-03-13T06:59:00Z"), { ...defaultWindow, start: "00:00", end: "24:00" })).toBe(true);
  });
});

describe("deploy-window", () => {
  it("passes inside the window", () => expect(checkDeployWindow(wedNoonLA, {})).toEqual([]));
  it("never blocks a restore (revert, rollback) outside the window, and records it as advisory", () => {
    const findings = checkDeployWindow(satNoonLA, { restore: { kind: "rollback", reason: "rollback to version 3" } });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ level: "advisory", message: expect.stringMatching(/Restore \(rollback\) outside the deploy window .* allowed.*rollback to version 3/) });
  });
  it("a restore inside the window is not even mentioned", () => expect(checkDeployWindow(wedNoonLA, { restore: { kind: "revert" } })).toEqual([]));
  it("a forward deploy outside the window is still refused", () => expect(checkDeployWindow(satNoonLA, {})[0]?.level).toBeUndefined());
  it("production deploys only inside its deploy window", () => {
    const f = checkDeployWindow(satNoonLA, {});
    expect(f).toHaveLength(1);
    expect(f[0].level).toBeUndefined();
    expect(f[0].message).toMatch(/only inside the deploy window \(Mon,Tue,Wed,Thu,Fri 09:00–17:00 America\/Los_Angeles\)/);
  });
  it("the window comes from config", () => {
    expect(checkDeployWindow(satNoonLA, { days: ["Sat"] })).toEqual([]);
  });
  it("an emergency override lets a deploy through and is recorded as advisory", () => {
    const f = checkDeployWindow(satNoonLA, { emergencyOverride: override });
    expect(f).toHaveLength(1);
    expect(f[0].level).toBe("advisory");
    expect(f[0].message).toMatch(/approved by alice-ops, reason: "hotfix for checkout outage"/);
  });
  it("an expired override is refused", () => {
    const f = checkDeployWindow(new Date("2025-03-16T19:00:00Z"), { emergencyOverride: override });
    expect(f[0].level).toBeUndefined();
    expect(f[0].message).toMatch(/Emergency override refused: it expired at 2025-03-16T00:00:00.000Z/);
  });
  it("an override without a reason is refused", () => {
    const f = checkDeployWindow(satNoonLA, { emergencyOverride: { ...override, reason: " " } });
    expect(f[0].message).toMatch(/refused: it has no reason/);
    expect(f[0].level).toBeUndefined();
  });
  it("an override without an approver is refused", () => {
    expect(checkDeployWindow(satNoonLA, { emergencyOverride: { ...override, approvedBy: undefined } })[0].message).toMatch(/no approver/);
  });
  it("a stale override inside the window only warns", () => {
    const f = checkDeployWindow(new Date("2025-03-17T19:00:00Z"), { emergencyOverride: override });
    expect(f[0].level).toBe("advisory");
  });
  it("the policy checks the stack resource with an injected clock", async () => {
    const policy = makeDeployWindowPolicy(() => satNoonLA);
    expect(await runResourcePolicy(policy, types.stack, {})).toHaveLength(1);
    expect(await runResourcePolicy(policy, types.flyMachine, {})).toEqual([]);
    const withOverride = await runResourcePolicy(policy, types.stack, {}, { emergencyOverride: override });
    expect(withOverride[0].enforcementLevel).toBe("advisory");
  });
});

describe("the window's clock (policyClock)", () => {
  it("is the time of day unless FLIGHTDECK_POLICY_NOW is set", () => {
    const before = Date.now();
    expect(policyClock({})().getTime()).toBeGreaterThanOrEqual(before);
  });
  it("reads the rehearsal's instant when set", () => {
    expect(policyClock({ [POLICY_NOW_ENV]: "2026-11-24T18:00:00Z" })().toISOString()).toBe("2026-11-24T18:00:00.000Z");
  });
  it("is never moved on a GitHub runner: the pipeline's window cannot be stepped around", () => {
    const before = Date.now();
    expect(policyClock({ [POLICY_NOW_ENV]: "2026-11-24T18:00:00Z", GITHUB_ACTIONS: "true" })().getTime()).toBeGreaterThanOrEqual(before);
  });
  it("a malformed instant is one clear error naming the variable", () => {
    expect(() => policyClock({ [POLICY_NOW_ENV]: "tuesday" })).toThrow(/FLIGHTDECK_POLICY_NOW: expected an ISO 8601 instant, found "tuesday"/);
  });
});
