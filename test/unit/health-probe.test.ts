/**
 * The scheduled health probe (scripts/health-probe.ts, stacks/report/probe.ts) against a local app
 * server whose answers the test sets: an unhealthy or wrong-release production sends exactly one
 * notice to the webhook receiver; a healthy one sends none.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stackArg } from "../../scripts/health-probe";
import { reportConfigFrom } from "../../stacks/report";
import { healthProbe } from "../../stacks/report/probe";
import { nextState, noticeFor, storeMemory, type ProbeState } from "../../stacks/report/probe-memory";
import { backendStore } from "../../stacks/backend-store";
import * as fs from "node:fs";
import * as os from "node:os";
import * as nodePath from "node:path";
import { WebhookReceiver } from "../support/webhook-receiver";

const SECRET = "pr0be-S3cret-Value-991";
const CHECK = { path: "/healthz", expectedStatus: 200, timeoutMs: 1000 };
const FAST = { attempts: 2, backoffMs: 20, budgetMs: 3000 };

let app: http.Server;
let appUrl = "";
let healthz = 200;
let version = "v7";
let hook: WebhookReceiver;

describe("health probe", () => {
  beforeAll(async () => {
    app = http.createServer((req, res) => {
      if (req.url === "/healthz") {
        res.writeHead(healthz, { "content-type": "text/plain" });
        res.end(healthz === 200 ? "ok" : `db error: password ${SECRET} rejected`);
      } else if (req.url === "/version") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ version }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    hook = new WebhookReceiver();
    await hook.start();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => app.close(() => resolve()));
    await hook.stop();
  });
  beforeEach(() => {
    hook.bodies.length = 0;
    hook.requests = 0;
    healthz = 200;
    version = "v7";
  });

  const cfg = () => reportConfigFrom({ FLIGHTDECK_NOTIFY_WEBHOOK_URL: hook.url, GITHUB_SERVER_URL: "https://github.example", GITHUB_REPOSITORY: "o/r", GITHUB_RUN_ID: "9" });
  const target = (extra: { release?: string; secrets?: string[] } = {}) => async () => ({ url: appUrl, release: "v7", secrets: [], ...extra });

  it("200 and the right release: healthy, no notice", async () => {
    const r = await healthProbe("production", target(), CHECK, cfg(), FAST);
    expect(r).toEqual({ ok: true, detail: `${appUrl}/healthz healthy, serving v7` });
    expect(hook.requests).toBe(0);
  });

  it("500 from /healthz: one notice with the stack, the reason and the rollback command", async () => {
    healthz = 500;
    const r = await healthProbe("production", target(), CHECK, cfg(), FAST);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain("/healthz: HTTP 500 (expected HTTP 200)");
    expect(r.noticeProblem).toBeUndefined();
    expect(hook.bodies).toHaveLength(1);
    const text = JSON.stringify(hook.bodies[0]);
    for (const part of ["production health probe failed", "HTTP 500", "v7", "npm run rollback -- --stack production", "https://github.example/o/r/actions/runs/9"]) expect(text).toContain(part);
  });

  it("healthy but serving another release than the state says: one notice", async () => {
    version = "v6";
    const r = await healthProbe("production", target(), CHECK, cfg(), FAST);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('release: serves "v6", not v7');
    expect(hook.bodies).toHaveLength(1);
  });

  it("a status that cannot be read is a failure, reported once", async () => {
    const r = await healthProbe("production", async () => { throw new Error("backend unreachable\nstack trace"); }, CHECK, cfg(), FAST);
    expect(r).toMatchObject({ ok: false, detail: "could not read the stack's status: backend unreachable" });
    expect(hook.bodies).toHaveLength(1);
  });

  it("no secret in the notice", async () => {
    const r = await healthProbe("production", target({ release: `v-${SECRET}`, secrets: [SECRET] }), CHECK, cfg(), FAST);
    expect(r.ok).toBe(false);
    const text = JSON.stringify(hook.bodies[0]);
    expect(text).toContain("[secret]");
    expect(text).not.toContain(SECRET);
  });

  it("an undeliverable notice is reported, not thrown", async () => {
    healthz = 503;
    const r = await healthProbe("production", target(), CHECK, reportConfigFrom({ FLIGHTDECK_NOTIFY_WEBHOOK_URL: "http://127.0.0.1:1/hook" }), FAST);
    expect(r.ok).toBe(false);
    expect(r.noticeProblem).toMatch(/^notice to 127\.0\.0\.1:1 not delivered/);
  });

  describe("with a memory beside the state (one outage, not a notice every run)", () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });
    /** A file backend's store in a temporary directory, as the scheduled probe gets it. */
    const memory = () => {
      const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "probe-memory-"));
      dirs.push(dir);
      return storeMemory(backendStore(dir, `file://${dir}`), "production");
    };
    const at = (minutes: number) => () => new Date(Date.UTC(2026, 11, 2, 9, minutes));

    it("told when it starts, quiet while it lasts, reminded after an hour, told once when it ends", async () => {
      const m = memory();
      healthz = 500;
      const first = await healthProbe("production", target(), CHECK, cfg(), FAST, m, at(0));
      expect(first).toMatchObject({ ok: false, notice: "failed" });
      const second = await healthProbe("production", target(), CHECK, cfg(), FAST, m, at(10));
      expect(second.notice).toBeUndefined();
      expect(second.quiet).toMatch(/^told at 2026-12-02T09:00:00.000Z \(failing since 2026-12-02T09:00:00.000Z\)/);
      expect(hook.bodies).toHaveLength(1);
      const reminder = await healthProbe("production", target(), CHECK, cfg(), FAST, m, at(61));
      expect(reminder.notice).toBe("still failing");
      expect(JSON.stringify(hook.bodies[1])).toContain("still failing (since 2026-12-02T09:00:00.000Z)");
      healthz = 200;
      const healed = await healthProbe("production", target(), CHECK, cfg(), FAST, m, at(70));
      expect(healed).toMatchObject({ ok: true, notice: "recovered" });
      expect(JSON.stringify(hook.bodies[2])).toContain("healthy again");
      const quiet = await healthProbe("production", target(), CHECK, cfg(), FAST, m, at(80));
      expect(quiet.notice).toBeUndefined();
      expect(hook.bodies).toHaveLength(3);
    });

    it("a notice that was not delivered is tried again by the next run", async () => {
      const m = memory();
      healthz = 503;
      const down = reportConfigFrom({ FLIGHTDECK_NOTIFY_WEBHOOK_URL: "http://127.0.0.1:1/hook" });
      expect((await healthProbe("production", target(), CHECK, down, FAST, m, at(0))).noticeProblem).toMatch(/not delivered/);
      const again = await healthProbe("production", target(), CHECK, cfg(), FAST, m, at(10));
      expect(again.notice).toBe("failed");
      expect(hook.bodies).toHaveLength(1);
    });

    it("a memory file that is not what it should be is a first run, not a crash", async () => {
      const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "probe-memory-"));
      dirs.push(dir);
      fs.mkdirSync(nodePath.join(dir, "health"), { recursive: true });
      fs.writeFileSync(nodePath.join(dir, "health", "production.json"), "{ cut sho");
      healthz = 500;
      const r = await healthProbe("production", target(), CHECK, cfg(), FAST, storeMemory(backendStore(dir, `file://${dir}`), "production"), at(0));
      expect(r.notice).toBe("failed");
      expect(JSON.parse(fs.readFileSync(nodePath.join(dir, "health", "production.json"), "utf8"))).toMatchObject({ ok: false, notifiedAt: "2026-12-02T09:00:00.000Z" });
    });
  });

  it("noticeFor: the decision alone", () => {
    const t = (m: number) => new Date(Date.UTC(2026, 11, 2, 9, m));
    const failing: ProbeState = { ok: false, since: t(0).toISOString(), notifiedAt: t(0).toISOString() };
    expect(noticeFor(undefined, true, t(0))).toBeUndefined();
    expect(noticeFor(undefined, false, t(0))).toBe("failed");
    expect(noticeFor({ ok: true, since: t(0).toISOString() }, false, t(5))).toBe("failed");
    expect(noticeFor(failing, false, t(59))).toBeUndefined();
    expect(noticeFor(failing, false, t(60))).toBe("still failing");
    expect(noticeFor(failing, true, t(61))).toBe("recovered");
    expect(noticeFor({ ok: false, since: t(0).toISOString() }, false, t(1))).toBe("failed");
    expect(nextState(failing, false, t(10), undefined, false)).toEqual(failing);
    expect(nextState(failing, true, t(10), "recovered", true)).toEqual({ ok: true, since: t(10).toISOString(), notifiedAt: t(10).toISOString() });
  });

  it("--stack defaults to production", () => {
    expect(stackArg([])).toBe("production");
    expect(stackArg(["--stack", "staging"])).toBe("staging");
    expect(() => stackArg(["--stack"])).toThrow(/--stack: expected a stack name/);
  });
});
