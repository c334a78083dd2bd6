/**
 * Delivery reporting on the real engine: the CLI, run as CI runs it (GITHUB_* variables pointing at
 * the GitHub API test server, FLIGHTDECK_NOTIFY_WEBHOOK_URL at a local receiver), deploys a local
 * test stack after a merge, deploys a release that fails after its switch (reverted), and rolls
 * back. The GitHub deployments' statuses follow the driver's outcomes, the reverted deploy sends
 * exactly one notice, the records agree, and a secret of the stack that the revert's reason would
 * carry reaches neither GitHub nor the webhook.
 */
import { execa } from "execa";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy } from "../../stacks/deploy";
import { commitOf } from "../../stacks/records";
import { history } from "../../stacks/status";
import { projectDir } from "../../stacks/workspace";
import { installDeployments, type DeploymentsModel } from "../github-api/deployments";
import { GitHubApiServer } from "../github-api/server";
import { FAST_DELIVERY, fileBackendDir, localTestStack, recordsDirOf, removeStackLeftovers, versionAt } from "../support/local-stack";
import { WebhookReceiver } from "../support/webhook-receiver";
import { driverArgs } from "../support/driver";

const STACK = "test-report";
const BASE = 19100;
const TOKEN = "ghs_REPORTTESTTOKEN0123456789abcdefghijk";
// A phrase the reverted deploy's reason says ("release … failed after the switch: …"): stored as a
// secret of the stack, it must arrive as [secret] in the status and the notice, proving the real
// deploy path scrubs them.
const CANARY = "failed after the switch";
const SLOW = 300_000;

let env: Awaited<ReturnType<typeof localTestStack>>;
let server: GitHubApiServer;
let deployments: DeploymentsModel;
let hook: WebhookReceiver;
const sha = commitOf(projectDir)!.sha;

const recordsDir = () => recordsDirOf(STACK);

function cli(...args: string[]) {
  return execa("node", driverArgs(projectDir, ...args), {
    cwd: projectDir,
    reject: false,
    all: true,
    timeout: 180_000,
    env: {
      GITHUB_REPOSITORY: server.fullName,
      GITHUB_TOKEN: TOKEN,
      GITHUB_API_URL: server.url,
      GITHUB_SERVER_URL: "https://github.example",
      GITHUB_RUN_ID: "777",
      GITHUB_SHA: sha,
      FLIGHTDECK_NOTIFY_WEBHOOK_URL: hook.url,
    },
  });
}

describe("delivery report on the real engine", () => {
  beforeAll(async () => {
    if (!process.env.PULUMI_BACKEND_URL?.startsWith("file://")) throw new Error("this test reads the file backend's directory: run it through scripts/engine.sh");
    server = new GitHubApiServer(
      { owner: "flightdeck-dev", name: "flightdeck-app", defaultBranch: "main", allowMergeCommit: false, allowSquashMerge: true, allowRebaseMerge: false, allowAutoMerge: true, deleteBranchOnMerge: true, requiredChecks: ["tests"] },
      TOKEN,
    );
    deployments = installDeployments(server);
    await server.start();
    hook = new WebhookReceiver();
    await hook.start();
    env = await localTestStack(STACK, BASE, FAST_DELIVERY);
    await env.stack.setConfig("flightdeck:appSecrets", { value: JSON.stringify({ CANARY }), secret: true });
    fs.rmSync(recordsDir(), { recursive: true, force: true });
    // A first release, before this test's story begins (no CI variables here: nothing reported).
    expect((await deploy({ stack: STACK, release: "v1" })).outcome).toBe("succeeded");
  }, SLOW);
  afterAll(async () => {
    await env?.cleanup();
    removeStackLeftovers(STACK);
    await server?.stop();
    await hook?.stop();
  });

  it("a merge, then its deploy: in_progress, then success with the live URL and the run", { timeout: SLOW }, async () => {
    // The merge makes the commit the CI runs from main's head; the deploy job's own check is still
    // pending on it (the driver creates the deployment with required_contexts: []).
    server.branches.set("main", sha);
    deployments.contexts.set(sha, { tests: "success", "deploy staging": "pending" });
    const run = await cli("deploy", "--stack", STACK, "--release", "v2");
    expect(run.exitCode, run.all).toBe(0);
    const [d] = deployments.of(STACK);
    expect(d).toMatchObject({ sha, ref: sha, environment: STACK, productionEnvironment: false });
    expect(deployments.statesOf(d!.id), run.all).toEqual(["in_progress", "success"]);
    expect(d!.statuses.at(-1)).toMatchObject({ environmentUrl: env.url, logUrl: "https://github.example/flightdeck-dev/flightdeck-app/actions/runs/777" });
    expect(hook.requests).toBe(0);
  });

  it("a release that fails after its switch: failure with the reason (scrubbed), exactly one notice", { timeout: SLOW }, async () => {
    const run = await cli("deploy", "--stack", STACK, "--release", "v3-fails-after-2500ms");
    expect(run.exitCode, run.all).toBe(1);
    expect(run.all).toMatch(/REVERTED/);
    const d = deployments.of(STACK).at(-1)!;
    expect(deployments.statesOf(d.id), run.all).toEqual(["in_progress", "failure"]);
    const description = d.statuses.at(-1)!.description;
    expect(description).toMatch(/^deploy reverted: release v3-fails-after-2500ms \[secret\]/);
    expect(description.length).toBeLessThanOrEqual(140);
    expect(hook.bodies).toHaveLength(1);
    const notice = JSON.stringify(hook.bodies[0]);
    for (const part of [STACK, "v3-fails-after-2500ms", "v2 on", `npm run rollback -- --stack ${STACK}`, "[secret]"]) expect(notice).toContain(part);
    expect(notice).not.toContain(CANARY);
    expect(await versionAt(env.url)).toBe("v2");
  });

  it("rollback: success, and the deployment rolled back from is inactive; still one notice", { timeout: SLOW }, async () => {
    const run = await cli("rollback", "--stack", STACK);
    expect(run.exitCode, run.all).toBe(0);
    const [deployed, reverted, rolledBack] = deployments.of(STACK);
    expect(deployments.statesOf(rolledBack!.id), run.all).toEqual(["in_progress", "success"]);
    expect(rolledBack!.statuses.at(-1)!.description).toMatch(/^rolled back: v1 live on \w+ \(rollback to version \d+\)$/);
    expect(deployments.statesOf(deployed!.id)).toEqual(["in_progress", "success", "inactive"]);
    expect(deployments.statesOf(reverted!.id)).toEqual(["in_progress", "failure"]);
    expect(hook.bodies).toHaveLength(1);
    expect(await versionAt(env.url)).toBe("v1");
    expect(server.violations).toEqual([]);
    for (const s of deployments.deployments.flatMap((x) => x.statuses)) expect(s.description).not.toContain(CANARY);
  });

  it("the records say what the statuses say", async () => {
    const h = await history(STACK);
    expect(h.deployments.map((d) => [d.kind, d.outcome, d.release])).toEqual([
      ["rollback", "rolled back", "v1"],
      ["deploy", "reverted", "v3-fails-after-2500ms"],
      ["deploy", "succeeded", "v2"],
      ["deploy", "succeeded", "v1"],
    ]);
    for (const d of h.deployments.slice(0, 3)) {
      expect(d.commit?.sha).toBe(sha);
      expect(d.runUrl).toBe("https://github.example/flightdeck-dev/flightdeck-app/actions/runs/777");
    }
  });

  it("the metrics the deploy job puts in its summary, from this history: counts match a hand count, and the chart", async () => {
    // As .github/workflows/deploy.yml runs them after a deploy job.
    const svgFile = path.join(fileBackendDir(), `${STACK}-metrics.svg`);
    const text = await cli("metrics", "--stack", STACK, "--since", "30d", "--svg", svgFile);
    expect(text.exitCode, text.all).toBe(0);
    const json = await cli("metrics", "--stack", STACK, "--since", "30d", "--json");
    expect(json.exitCode, json.all).toBe(0);
    const m = JSON.parse(json.stdout) as { records: number; deploymentFrequency: { deploys: number; basis: number }; changeFailureRate: { basis: number; failedChanges: number } };
    // By hand: v1, v2 succeeded; v3 reverted; one rollback (undoing v2). Changes that took live
    // traffic: v1, v2, v3 = 3; failed: v3 (reverted) and v2 (rolled back) = 2.
    expect(m.records).toBe(4);
    expect(m.deploymentFrequency).toMatchObject({ deploys: 2, basis: 3 });
    expect(m.changeFailureRate).toMatchObject({ basis: 3, failedChanges: 2 });
    expect(text.stdout).toMatch(/change failure rate/i);
    const svg = fs.readFileSync(svgFile, "utf8");
    fs.rmSync(svgFile, { force: true });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).not.toContain(CANARY);
  });
});
