import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { liveFromWeights, renderHaproxyConfig, switchCommands } from "../../components/local/haproxy-config";

describe("HAProxy router plan", () => {
  const spec = { proxyPort: 18000, adminPort: 18003, socketPath: "/tmp/a.sock", servers: { blue: 18001, green: 18002 }, live: "green" as const };
  it("only the live slot carries weight", () => {
    const cfg = renderHaproxyConfig(spec);
    expect(cfg).toContain("server blue 127.0.0.1:18001 weight 0");
    expect(cfg).toContain("server green 127.0.0.1:18002 weight 100");
  });
  it("the admin socket is at admin level (the switch needs it)", () => {
    expect(renderHaproxyConfig(spec)).toContain("stats socket /tmp/a.sock mode 600 level admin");
  });
  it("a switch weights the new slot up before the old one down", () => {
    expect(switchCommands("blue")).toEqual(["set weight app/blue 100", "set weight app/green 0"]);
  });
  it("reads the live slot from HAProxy's weights", () => {
    expect(liveFromWeights("100 (initial 0)\n", "0 (initial 100)\n")).toBe("blue");
    expect(liveFromWeights("0 (initial 0)", "100 (initial 100)")).toBe("green");
    expect(liveFromWeights("100", "100")).toBeUndefined();
  });
  it("the rendered config is accepted by HAProxy itself", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fd-haproxy-"));
    const file = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(file, renderHaproxyConfig({ ...spec, socketPath: path.join(dir, "admin.sock") }));
    const r = spawnSync(fs.existsSync("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy", ["-c", "-f", file], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
