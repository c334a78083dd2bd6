/**
 * Delivery reporting (stacks/report/) against the GitHub API test server, which checks every
 * request against GitHub's OpenAPI description and models deployments as GitHub documents them,
 * and a local webhook receiver: the GitHub deployment's states follow the driver's outcome, a
 * failure or revert sends exactly one notice, nothing GitHub or the webhook does can fail or hold
 * a run, and no secret reaches a status or a notice.
 */
import * as net from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { commitOf } from "../../stacks/records";
import { deliveryReporter, reportConfigFrom, type ReportEnd } from "../../stacks/report";
import { DESCRIPTION_MAX } from "../../stacks/report/github-deployments";
import { StepLog } from "../../stacks/steps";
import { UsageError } from "../../stacks/usage-error";
import { projectDir } from "../../stacks/workspace";
import { installDeployments, type DeploymentsModel } from "../github-api/deployments";
import { GitHubApiServer } from "../github-api/server";
import { WebhookReceiver } from "../support/webhook-receiver";

const TOKEN = "ghs_TESTDEPLOYTOKEN0123456789abcdefghijkl";
const SECRET = "Sup3r-S3cret-Db-Passw0rd";
const FAST = { github: { retries: 1, backoffMs: 20, timeoutMs: 2000 }, notice: { attempts: 3, backoffMs: 20, budgetMs: 3000 } };

let server: GitHubApiServer;
let deployments: DeploymentsModel;
let hook: WebhookReceiver;
const sha = commitOf(projectDir)!.sha;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_REPOSITORY: server.fullName,
    GITHUB_TOKEN: TOKEN,
    GITHUB_API_URL: server.url,
    GITHUB_SERVER_URL: "https://github.example",
    GITHUB_RUN_ID: "4242",
    FLIGHTDECK_NOTIFY_WEBHOOK_URL: hook.url,
    ...extra,
  };
}

/** One driver run's reporting, as deploy.ts and rollback.ts make it. */
async function run(stack: string, kind: "deploy" | "rollback", end: ReportEnd, opts: { env?: Record<string, string>; secrets?: string[] } = {}) {
  const log = new StepLog();
  const reporter = deliveryReporter(reportConfigFrom(opts.env ?? env()), log, { stack, kind, workDir: projectDir, ...FAST });
  await reporter.started(end.release);
  await reporter.finished(end, async () => opts.secrets ?? []);
  return log.steps;
}

const RUN_URL = `https://github.example/flightdeck-dev/flightdeck-app/actions/runs/4242`;

describe("delivery report", () => {
  beforeAll(async () => {
    server = new GitHubApiServer(
      { owner: "flightdeck-dev", name: "flightdeck-app", defaultBranch: "main", allowMergeCommit: false, allowSquashMerge: true, allowRebaseMerge: false, allowAutoMerge: true, deleteBranchOnMerge: true, requiredChecks: ["test"] },
      TOKEN,
    );
    deployments = installDeployments(server);
    deployments.commits.add(sha);
    // The deploy job's own check is pending on the commit while it runs: a deployment that waited
    // for every context would be refused (409). The driver passes required_contexts: [].
    deployments.contexts.set(sha, { test: "success", "deploy production": "pending" });
    await server.start();
    hook = new WebhookReceiver();
    await hook.start();
  });
  afterAll(async () => {
    await server.stop();
    await hook.stop();
  });
  beforeEach(() => {
    deployments.outage = false;
    hook.bodies.length = 0;
    hook.answers.length = 0;
    hook.requests = 0;
  });
  afterEach(() => expect(server.violations).toEqual([]));

  it("a succeeded deploy: in_progress then success, with the live URL and the run; no notice", async () => {
    const steps = await run("staging", "deploy", { outcome: "succeeded", release: "v1", liveSlot: "blue", environmentUrl: "https://staging.example" });
    const [d] = deployments.of("staging");
    expect(d).toMatchObject({ sha, ref: sha, environment: "staging", productionEnvironment: false, transientEnvironment: false });
    expect(deployments.statesOf(d!.id)).toEqual(["in_progress", "success"]);
    expect(d!.statuses[1]).toMatchObject({ environmentUrl: "https://staging.example", logUrl: RUN_URL, description: "v1 live on blue" });
    expect(d!.statuses[0]!.logUrl).toBe(RUN_URL);
    expect(hook.requests).toBe(0);
    expect(steps.filter((s) => /WARNING/.test(s.detail ?? ""))).toEqual([]);
  });

  it("unchanged is success too", async () => {
    await run("staging", "deploy", { outcome: "unchanged", release: "v1", liveSlot: "blue" });
    const [first, second] = deployments.of("staging");
    expect(deployments.statesOf(second!.id)).toEqual(["in_progress", "success"]);
    // The one it replaced is inactive once: the driver marks it, GitHub's own pass is turned off.
    expect(deployments.statesOf(first!.id)).toEqual(["in_progress", "success", "inactive"]);
    expect(hook.requests).toBe(0);
  });

  it("a success makes the deployment it replaced inactive, in production too (where GitHub does not)", async () => {
    await run("production", "deploy", { outcome: "succeeded", release: "v1", liveSlot: "blue" });
    await run("production", "deploy", { outcome: "succeeded", release: "v2", liveSlot: "green" });
    const [first, second] = deployments.of("production");
    expect(first!.productionEnvironment).toBe(true);
    expect(deployments.statesOf(first!.id)).toEqual(["in_progress", "success", "inactive"]);
    expect(deployments.statesOf(second!.id)).toEqual(["in_progress", "success"]);
  });

  it("a reverted deploy: failure with the reason, and exactly one notice with what to do", async () => {
    const reason = "release v3 failed after the switch: 2 failed probes of http://x/healthz";
    await run("production", "deploy", { outcome: "reverted", release: "v3", previousRelease: "v2", liveSlot: "green", reason });
    const d = deployments.of("production").at(-1)!;
    expect(deployments.statesOf(d.id)).toEqual(["in_progress", "failure"]);
    expect(d.statuses[1]!.description).toBe(`deploy reverted: ${reason}`.slice(0, DESCRIPTION_MAX));
    // What was live stays live: the v2 deployment keeps its success.
    expect(deployments.statesOf(deployments.of("production")[1]!.id)).toEqual(["in_progress", "success"]);
    expect(hook.bodies).toHaveLength(1);
    const notice = hook.bodies[0] as { text: string; blocks: Array<{ type: string; text: { text: string } }> };
    expect(notice.text).toContain("production deploy reverted");
    const all = JSON.stringify(notice);
    for (const part of ["production", "v3", reason, "v2 on green", "npm run rollback -- --stack production", RUN_URL]) expect(all).toContain(part);
    expect(notice.blocks.map((b) => b.type)).toEqual(["header", "section"]);
  });

  it("a failed deploy: failure, one notice; called twice it still sends one", async () => {
    const log = new StepLog();
    const reporter = deliveryReporter(reportConfigFrom(env()), log, { stack: "staging", kind: "deploy", workDir: projectDir, ...FAST });
    await reporter.started("v4");
    const end: ReportEnd = { outcome: "failed", release: "v4", previousRelease: "v1", reason: "deploy failed before traffic moved: health gate closed" };
    await reporter.finished(end, async () => []);
    await reporter.finished(end, async () => []);
    expect(deployments.statesOf(deployments.of("staging").at(-1)!.id)).toEqual(["in_progress", "failure"]);
    expect(hook.bodies).toHaveLength(1);
    expect(JSON.stringify(hook.bodies[0])).toContain("v1 (what ran before)");
  });

  it("a rollback: success, and the deployment rolled back from is inactive", async () => {
    const before = deployments.of("production");
    const rolledFrom = before.filter((d) => d.statuses.at(-1)?.state === "success").at(-1)!;
    await run("production", "rollback", { outcome: "rolled back", release: "v1", previousRelease: "v2", liveSlot: "blue", reason: "rollback to version 3" });
    const rb = deployments.of("production").at(-1)!;
    expect(deployments.statesOf(rb.id)).toEqual(["in_progress", "success"]);
    expect(rb.statuses[1]!.description).toBe("rolled back: v1 live on blue (rollback to version 3)");
    expect(deployments.statesOf(rolledFrom.id).at(-1)).toBe("inactive");
    // The reverted deploy stays a failure: it never was what ran.
    expect(deployments.statesOf(before.at(-1)!.id)).toEqual(["in_progress", "failure"]);
    expect(hook.requests).toBe(0);
  });

  it("a failed rollback sends one notice", async () => {
    await run("production", "rollback", { outcome: "failed", release: "v1", previousRelease: "v1", liveSlot: "blue", reason: "rollback to version 3 failed: boom" });
    expect(deployments.statesOf(deployments.of("production").at(-1)!.id)).toEqual(["in_progress", "failure"]);
    expect(hook.bodies).toHaveLength(1);
    expect((hook.bodies[0] as { text: string }).text).toContain("production rollback failed");
  });

  it("GitHub down: the run goes on, reported as its outcome, with a note; the notice still goes", async () => {
    deployments.outage = true;
    const count = deployments.deployments.length;
    const started = Date.now();
    const steps = await run("staging", "deploy", { outcome: "reverted", release: "v5", previousRelease: "v1", liveSlot: "blue", reason: "failed after the switch" });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(deployments.deployments.length).toBe(count);
    expect(steps.find((s) => s.name === "github")?.detail).toMatch(/WARNING: create deployment: HTTP 503 .*goes on without a GitHub deployment status/);
    expect(hook.bodies).toHaveLength(1);
  });

  it("a GitHub API that never answers holds the run no longer than its time budget", async () => {
    const silent = net.createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const log = new StepLog();
      const apiUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const reporter = deliveryReporter(reportConfigFrom(env({ GITHUB_API_URL: apiUrl })), log, {
        stack: "staging",
        kind: "deploy",
        workDir: projectDir,
        github: { retries: 2, backoffMs: 20, timeoutMs: 400, budgetMs: 1000 },
        notice: FAST.notice,
      });
      const started = Date.now();
      await reporter.started("v11");
      await reporter.finished({ outcome: "failed", release: "v11", reason: "boom" }, async () => []);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(log.steps.find((s) => s.name === "github")?.detail).toMatch(/^WARNING: create deployment: /);
      expect(hook.bodies).toHaveLength(1);
    } finally {
      silent.close();
    }
  });

  it("a deploy that takes longer than the GitHub time budget still gets its final status (the budget is GitHub's time, not the deploy's)", async () => {
    const log = new StepLog();
    const reporter = deliveryReporter(reportConfigFrom(env()), log, { stack: "staging", kind: "deploy", workDir: projectDir, github: { ...FAST.github, budgetMs: 300 }, notice: FAST.notice });
    await reporter.started("v12");
    await new Promise((r) => setTimeout(r, 500)); // the deploy itself
    await reporter.finished({ outcome: "succeeded", release: "v12", liveSlot: "green" }, async () => []);
    expect(deployments.statesOf(deployments.of("staging").at(-1)!.id)).toEqual(["in_progress", "success"]);
    expect(log.steps).toEqual([]);
  });

  it("a webhook that fails twice then answers gets the notice once; one that never answers well is a note, in bounded time", async () => {
    hook.answers.push(500, 502);
    await run("staging", "deploy", { outcome: "failed", release: "v6", reason: "boom" });
    expect(hook.requests).toBe(3);
    expect(hook.bodies).toHaveLength(1);

    hook.answers.push(500, 500, 500, 500);
    const started = Date.now();
    const steps = await run("staging", "deploy", { outcome: "failed", release: "v7", reason: "boom" });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hook.bodies).toHaveLength(1);
    const note = steps.find((s) => s.name === "notice")!;
    expect(note).toMatchObject({ status: "note" });
    expect(note.detail).toMatch(/^WARNING: notice to 127\.0\.0\.1:\d+ not delivered \(HTTP 500\)$/);
    // The URL is the webhook's credential: its path is never printed.
    expect(note.detail).not.toContain("/hooks/");
  });

  it("a webhook that is unreachable is a note", async () => {
    const steps = await run("staging", "deploy", { outcome: "failed", release: "v8", reason: "boom" }, { env: env({ FLIGHTDECK_NOTIFY_WEBHOOK_URL: "http://127.0.0.1:1/x" }) });
    expect(steps.find((s) => s.name === "notice")?.detail).toMatch(/^WARNING: notice to 127\.0\.0\.1:1 not delivered/);
  });

  it("outside Actions: no GitHub requests, said once; the notice still goes", async () => {
    const before = server.served.length;
    const steps = await run("local", "deploy", { outcome: "reverted", release: "v2", previousRelease: "v1", reason: "bad" }, { env: { FLIGHTDECK_NOTIFY_WEBHOOK_URL: hook.url } });
    expect(server.served.length).toBe(before);
    expect(steps.filter((s) => s.name === "github")).toEqual([expect.objectContaining({ status: "note", detail: expect.stringMatching(/no GITHUB_REPOSITORY/) })]);
    expect(hook.bodies).toHaveLength(1);
  });

  it("no secret in a status description or a notice, even when the reason carries it", async () => {
    const reason = `health gate closed: app answered "invalid password ${SECRET}" at /healthz`;
    await run("staging", "deploy", { outcome: "reverted", release: "v9", previousRelease: "v1", liveSlot: "blue", reason }, { secrets: [SECRET] });
    const d = deployments.of("staging").at(-1)!;
    const description = d.statuses.at(-1)!.description;
    expect(description).toContain("[secret]");
    expect(description).not.toContain(SECRET);
    expect(hook.bodies).toHaveLength(1);
    const body = JSON.stringify(hook.bodies[0]);
    expect(body).toContain("[secret]");
    expect(body).not.toContain(SECRET);
    const n = hook.bodies[0] as { text: string; blocks: Array<{ text: { text: string } }> };
    for (const t of [n.text, ...n.blocks.map((b) => b.text.text)]) expect(t).not.toContain(SECRET);
  });

  it("a long reason is cut to GitHub's 140 characters (scrubbed first)", async () => {
    const reason = `${"x".repeat(200)} ${SECRET}`;
    await run("staging", "deploy", { outcome: "failed", release: "v10", reason }, { secrets: [SECRET] });
    const description = deployments.of("staging").at(-1)!.statuses.at(-1)!.description;
    expect(description.length).toBeLessThanOrEqual(DESCRIPTION_MAX);
    expect(description.endsWith("…")).toBe(true);
  });

  it("bad configuration stops before anything, naming the variable, what was expected and found", () => {
    expect(() => reportConfigFrom({ FLIGHTDECK_NOTIFY_WEBHOOK_URL: "hooks.slack.com/services/T0/B0/xyz" })).toThrow(UsageError);
    expect(() => reportConfigFrom({ FLIGHTDECK_NOTIFY_WEBHOOK_URL: "hooks.slack.com/services/T0/B0/xyz" })).toThrow(/^FLIGHTDECK_NOTIFY_WEBHOOK_URL: expected an http\(s\) URL, found "hooks.slack."…$/);
    expect(() => reportConfigFrom({ FLIGHTDECK_NOTIFY_WEBHOOK_URL: "ftp://x/y" })).toThrow(/FLIGHTDECK_NOTIFY_WEBHOOK_URL: expected an http\(s\) URL, found a ftp: URL/);
    expect(() => reportConfigFrom({ GITHUB_REPOSITORY: "just-a-name", GITHUB_TOKEN: "t" })).toThrow(/GITHUB_REPOSITORY: expected owner\/name, found "just-a-name"/);
    expect(reportConfigFrom({})).toMatchObject({ githubSkipped: expect.stringMatching(/no GITHUB_REPOSITORY/) });
  });
});
