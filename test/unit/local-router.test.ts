import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ERROR_LIMIT, liveFromMap, liveMapPath, liveServerDown, renderHaproxyConfig, slotServerUp, renderLiveMap, switchCommand } from "../../components/local/haproxy-config";

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
  it("the rendered config is accepted by HAProxy itself", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fd-haproxy-"));
    const file = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(file, renderHaproxyConfig({ ...spec, socketPath: path.join(dir, "admin.sock") }));
    fs.writeFileSync(liveMapPath(path.join(dir, "admin.sock")), renderLiveMap("green"));
    const r = spawnSync(fs.existsSync("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy", ["-c", "-f", file], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
