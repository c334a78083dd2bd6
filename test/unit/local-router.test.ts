import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ERROR_LIMIT, liveFromMap, liveMapPath, canaryTimes, canaryWeightCommands, liveServerDown, mapRoutesCanary, renderHaproxyConfig, serverCounters, slotServerUp, renderLiveMap, switchCommand } from "../../components/local/haproxy-config";

describe("HAProxy router plan", () => {
  const spec = { proxyPort: 18000, adminPort: 18003, socketPath: "/tmp/a.sock", servers: { blue: 18001, green: 18002 }, live: "green" as const, healthCheck: { path: "/healthz", expectedStatus: 200 } };
  it("each slot's backend has the slot first, watched on its live answers, and the other slot as the fallback", () => {
    const cfg = renderHaproxyConfig(spec);
    expect(cfg).toContain(`backend via_green\n  option httpchk GET /healthz\n  http-check expect status 200\n  server green 127.0.0.1:18002 check inter 1s downinter 250ms fastinter 250ms fall 2 rise 2 observe layer7 error-limit ${ERROR_LIMIT} on-error mark-down\n  server blue 127.0.0.1:18001 check inter 1s downinter 250ms fastinter 250ms fall 2 rise 2 backup`);
    expect(cfg).toContain(`backend via_blue\n  option httpchk GET /healthz\n  http-check expect status 200\n  server blue 127.0.0.1:18001 check inter 1s downinter 250ms fastinter 250ms fall 2 rise 2 observe layer7 error-limit ${ERROR_LIMIT} on-error mark-down\n  server green 127.0.0.1:18002 check inter 1s downinter 250ms fastinter 250ms fall 2 rise 2 backup`);
  });
  it("the live map (beside the socket) picks the live backend, defaulting to the live slot as written", () => {
    expect(liveMapPath("/tmp/a.sock")).toBe("/tmp/live.map");
    expect(renderHaproxyConfig(spec)).toContain("use_backend %[str(live),map(/tmp/live.map,via_green)]");
    expect(renderLiveMap("blue")).toBe("live via_blue\n");
  });
  it("the admin socket is at admin level (the switch needs it)", () => {
    expect(renderHaproxyConfig(spec)).toContain("stats socket /tmp/a.sock mode 600 level admin");
  });
  it("a switch is one map entry", () => {
    expect(switchCommand("/tmp/live.map", "blue")).toBe("set map /tmp/live.map live via_blue");
  });
  it("reads the live slot from HAProxy's live map", () => {
    expect(liveFromMap("0x55d0c0a1b2c0 live via_blue\n")).toBe("blue");
    expect(liveFromMap("0x55d0c0a1b2c0 live via_green\n\n")).toBe("green");
    expect(liveFromMap("")).toBeUndefined();
    expect(liveFromMap("0x1 other via_blue")).toBeUndefined();
  });
  it("reads from show stat whether HAProxy took the live slot's own server out", () => {
    const stat = (greenInViaGreen: string) =>
      [
        "# pxname,svname,qcur,status,last_chk,",
        "via_blue,blue,0,UP,L4OK,",
        "via_blue,green,0,DOWN,L4OK,",
        `via_green,green,0,${greenInViaGreen},L4OK,`,
        "via_green,blue,0,UP,L4OK,",
        "via_green,BACKEND,0,UP,,",
      ].join("\n");
    expect(liveServerDown(stat("UP"), "green")).toBeUndefined();
    expect(liveServerDown(stat("UP 1/2"), "green")).toBeUndefined();
    expect(liveServerDown(stat("DOWN"), "green")).toBe("DOWN (L4OK)");
    expect(liveServerDown(stat("DOWN 1/2"), "green")).toBe("DOWN 1/2 (L4OK)");
    // Only the live backend's own server counts: green as blue's fallback being down is not a failover.
    expect(liveServerDown(stat("UP"), "blue")).toBeUndefined();
    expect(liveServerDown("garbage", "blue")).toBeUndefined();
  });
  it("reads from show stat whether HAProxy takes a slot as its own backend's server", () => {
    const stat = (blueInViaBlue: string) => ["# pxname,svname,status,", `via_blue,blue,${blueInViaBlue},`, "via_green,blue,UP,", "via_green,green,DOWN,"].join("\n");
    expect(slotServerUp(stat("UP"), "blue")).toBe(true);
    expect(slotServerUp(stat("UP 1/2"), "blue")).toBe(true);
    expect(slotServerUp(stat("DOWN"), "blue")).toBe(false);
    expect(slotServerUp(stat("DOWN 1/2"), "blue")).toBe(false);
    expect(slotServerUp(stat("UP"), "green")).toBe(false);
    expect(slotServerUp("garbage", "green")).toBe(false);
  });
  it("the canary backend weights both slots (all on the live one as written) and is the only one whose requests are logged", () => {
    const cfg = renderHaproxyConfig(spec);
    expect(cfg).toContain(`backend canary\n  option httpchk GET /healthz\n  http-check expect status 200\n  server blue 127.0.0.1:18001 check inter 1s downinter 250ms fastinter 250ms fall 2 rise 2 weight 0 observe layer7 error-limit ${ERROR_LIMIT} on-error mark-down\n  server green 127.0.0.1:18002 check inter 1s downinter 250ms fastinter 250ms fall 2 rise 2 weight 256 observe`);
    expect(cfg).toContain('log-format "fdcanary %s %ST %Ta"');
    expect(cfg).toContain("http-request set-log-level silent unless { str(live),map(/tmp/live.map,none) -m str canary }");
  });
  it("reads from show map whether live traffic is in the canary backend", () => {
    expect(mapRoutesCanary("0x55d0c0a1b2c0 live canary\n")).toBe(true);
    expect(mapRoutesCanary("0x55d0c0a1b2c0 live via_blue\n")).toBe(false);
    expect(mapRoutesCanary("")).toBe(false);
    expect(liveFromMap("0x55d0c0a1b2c0 live canary\n")).toBeUndefined();
  });
  it("a canary step is two weights in one runtime-API line", () => {
    expect(canaryWeightCommands("blue", "green", 25)).toBe("set weight canary/green 64;set weight canary/blue 192");
    expect(canaryWeightCommands("green", "blue", 0)).toBe("set weight canary/blue 0;set weight canary/green 256");
  });
  it("reads a server's requests and errors from show stat's counters", () => {
    const stat = ["# pxname,svname,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,econ,eresp,", "canary,green,0,90,1,2,3,0,1,2,", "canary,blue,0,500,0,0,0,0,0,0,"].join("\n");
    expect(serverCounters(stat, "canary", "green")).toEqual({ requests: 99, errors: 6 });
    expect(serverCounters(stat, "canary", "blue")).toEqual({ requests: 500, errors: 0 });
    expect(serverCounters(stat, "via_blue", "blue")).toBeUndefined();
  });
  it("reads each canary request's time by server from HAProxy's log, leaving out other lines and unanswered requests", () => {
    const log = ["[NOTICE] haproxy started", "fdcanary green 200 3", "fdcanary blue 200 1", "fdcanary green 500 12", "fdcanary green 503 -1", "fdcanary <NOSRV> 503 0", ""].join("\n");
    expect(canaryTimes(log)).toEqual({ green: [3, 12], blue: [1] });
  });
  it("the rendered config is accepted by HAProxy itself", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fd-haproxy-"));
    const file = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(file, renderHaproxyConfig({ ...spec, socketPath: path.join(dir, "admin.sock") }));
    fs.writeFileSync(liveMapPath(path.join(dir, "admin.sock")), renderLiveMap("green"));
    const r = spawnSync(fs.existsSync("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy", ["-c", "-f", file], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
