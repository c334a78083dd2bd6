/**
 * Trunk-based flow, end to end against the GitHub API test server (test/github-api/): the
 * auto-merge workflow as committed selects a labelled, non-draft pull request from this repository
 * (its `if:` evaluated by GitHub's own expression evaluator, @actions/expressions), its step's
 * exact `run:` line runs with the environment Actions would give it, and then CI reporting the
 * required checks is all it takes for GitHub to merge the pull request by squash and delete its
 * branch. Nobody presses merge.
 *
 * The repository the server models is declared by the same code the production stack runs
 * (mergeSettingsInputs, the stack file's github.mergeMethod, requiredChecks, requiredApprovals).
 */
import { Evaluator, Lexer, Parser, data } from "@actions/expressions";
import { truthy } from "@actions/expressions/result";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { mergeSettingsInputs, type MergeMethod } from "../../components/github/merge-settings";
import { parseStackConfig } from "../../infra/config/parse";
import { planAutoMerge, type PullRequestView } from "../../scripts/enable-auto-merge";
import { GitHubApiServer, type RepositoryModel } from "../github-api/server";
import { projectDir, stackFileConfig } from "../support/stack-files";

const run = promisify(execFile);

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Job {
  name?: string;
  if?: string;
  env?: Record<string, string>;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: { pull_request?: { branches?: string[]; types?: string[] } };
  env?: Record<string, string>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflowFile = path.join(projectDir, ".github/workflows/auto-merge.yml");
const workflowText = fs.readFileSync(workflowFile, "utf8");
const workflow = YAML.parse(workflowText) as Workflow;
const job = workflow.jobs["auto-merge"]!;
const scriptStep = job.steps.find((s) => s.run?.includes("scripts/enable-auto-merge.ts"))!;

const TOKEN = "github_pat_11TESTTOKEN_0123456789abcdefghijklmnopqrstuvwxyz";
const REPOSITORY = "flightdeck-dev/flightdeck-app";

/** Evaluates a GitHub Actions expression with GitHub's evaluator; `if:` without ${{ }} is an expression too. */
function evaluate(expression: string, contexts: Record<string, unknown>): data.ExpressionData {
  const text = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
  const lexed = new Lexer(text).lex();
  const expr = new Parser(lexed.tokens, Object.keys(contexts), []).parse();
  const context = JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
  return new Evaluator(expr, context).evaluate();
}

/** `${{ … }}` in a workflow value, substituted as the runner does. */
function interpolate(value: string, contexts: Record<string, unknown>): string {
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, e: string) => evaluate(e, contexts).coerceString());
}

/** The production stack's repository, as the program declares it and the branch rules require. */
function productionRepository(method?: MergeMethod): RepositoryModel {
  const cfg = parseStackConfig("production", stackFileConfig("production"));
  if (cfg.environment !== "production") throw new Error("production stack file");
  const s = mergeSettingsInputs(method ?? cfg.github.mergeMethod ?? "squash");
  return {
    owner: cfg.github.owner,
    name: cfg.github.repository,
    defaultBranch: cfg.github.defaultBranch,
    allowMergeCommit: s.allowMergeCommit === true,
    allowSquashMerge: s.allowSquashMerge === true,
    allowRebaseMerge: s.allowRebaseMerge === true,
    allowAutoMerge: s.allowAutoMerge === true,
    deleteBranchOnMerge: s.deleteBranchOnMerge === true,
    requiredChecks: cfg.github.requiredChecks,
    requiredApprovals: cfg.github.requiredApprovals,
  };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fd-automerge-"));
let server: GitHubApiServer;

async function startServer(repo: RepositoryModel = productionRepository()): Promise<GitHubApiServer> {
  server = new GitHubApiServer(repo, TOKEN);
  await server.start();
  return server;
}
const stopEach = () =>
  afterEach(async () => {
    await server?.stop();
  });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The contexts Actions evaluates the workflow with, for this event. */
function contexts(event: Record<string, unknown>) {
  return {
    github: { event_name: "pull_request", event, repository: REPOSITORY, token: "ghs_RUN_TOKEN_SHOULD_NOT_BE_USED" },
    secrets: { FLIGHTDECK_AUTOMERGE_TOKEN: TOKEN, GITHUB_TOKEN: "ghs_RUN_TOKEN_SHOULD_NOT_BE_USED" },
  };
}

/** Whether the job would run for this event (its `if:`). */
function jobRuns(event: Record<string, unknown>): boolean {
  return job.if === undefined ? true : truthy(evaluate(job.if, contexts(event)));
}

/**
 * Runs the step's exact `run:` line in bash from the checkout, with the env the workflow gives it
 * (workflow, job and step env, expressions substituted) and the variables Actions sets itself.
 */
async function runStep(event: Record<string, unknown>): Promise<{ stdout: string; stderr: string; code: number }> {
  const eventPath = path.join(tmp, `event-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(eventPath, JSON.stringify(event));
  const declared = { ...workflow.env, ...job.env, ...scriptStep.env };
  const env: NodeJS.ProcessEnv = {
    PATH: `${path.join(projectDir, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
    HOME: process.env.HOME,
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: "pull_request",
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_API_URL: server.url,
    GITHUB_GRAPHQL_URL: `${server.url}/graphql`,
    GITHUB_SERVER_URL: "https://github.com",
    ...Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, interpolate(String(v), contexts(event))])),
  };
  try {
    const r = await run("bash", ["-eo", "pipefail", "-c", scriptStep.run!], { cwd: projectDir, env, timeout: 60_000 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? "", stderr: err.stderr ?? "", code: typeof err.code === "number" ? err.code : 1 };
  }
}

/** A CI job reporting its check run on a commit, through the REST API like the Actions app. */
async function report(name: string, headSha: string, conclusion: "success" | "failure" | null): Promise<void> {
  const body = conclusion ? { name, head_sha: headSha, status: "completed", conclusion } : { name, head_sha: headSha, status: "in_progress" };
  const res = await fetch(`${server.url}/repos/${REPOSITORY}/check-runs`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status, `check run ${name}`).toBe(201);
}

async function approve(number: number): Promise<void> {
  const res = await fetch(`${server.url}/repos/${REPOSITORY}/pulls/${number}/reviews`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ event: "APPROVE" }),
  });
  expect(res.status).toBe(200);
}

async function branchExists(branch: string): Promise<boolean> {
  const res = await fetch(`${server.url}/repos/${REPOSITORY}/branches/${encodeURIComponent(branch)}`, { headers: { authorization: `token ${TOKEN}` } });
  return res.status === 200;
}

describe("auto-merge.yml", () => {
  stopEach();
  it("runs on pull requests to main when opened, labelled, pushed to, reopened or marked ready", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    expect(workflow.on.pull_request?.branches).toEqual(["main"]);
    expect(workflow.on.pull_request?.types?.sort()).toEqual(["labeled", "opened", "ready_for_review", "reopened", "synchronize"]);
  });

  it("selects a labelled, non-draft pull request from this repository, and skips the others", async () => {
    await startServer();
    server.openPullRequest({ number: 1, title: "labelled", headRef: "a", labels: ["automerge"] });
    server.openPullRequest({ number: 2, title: "unlabelled", headRef: "b", labels: ["docs"] });
    server.openPullRequest({ number: 3, title: "draft", headRef: "c", labels: ["automerge"], draft: true });
    server.openPullRequest({ number: 4, title: "fork", headRef: "d", labels: ["automerge"], headRepo: "someone/flightdeck-app" });
    expect(jobRuns(server.eventPayload(1, "labeled"))).toBe(true);
    expect(jobRuns(server.eventPayload(2, "labeled"))).toBe(false);
    expect(jobRuns(server.eventPayload(3, "labeled"))).toBe(false);
    expect(jobRuns(server.eventPayload(4, "labeled"))).toBe(false);
  });

  it("its env carries one secret, the auto-merge token, as GITHUB_TOKEN; never the run's own token", () => {
    const secrets = [...workflowText.matchAll(/secrets\.([A-Za-z_]+)/g)].map((m) => m[1]);
    expect([...new Set(secrets)]).toEqual(["FLIGHTDECK_AUTOMERGE_TOKEN"]);
    expect(scriptStep.env?.GITHUB_TOKEN).toBe("${{ secrets.FLIGHTDECK_AUTOMERGE_TOKEN }}");
    expect(workflowText).not.toMatch(/github\.token|secrets\.GITHUB_TOKEN/);
    // The run's token only checks out the code.
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(job.permissions).toEqual({ contents: "read" });
  });
});

describe("a labelled pull request merges itself after its checks", () => {
  stopEach();
  it("with the committed rules: approved and labelled, it waits for its checks, a failing one keeps it open, and green merges it by squash with the branch deleted", async () => {
    await startServer();
    const pr = server.openPullRequest({ number: 7, title: "Checkout: new flow behind new_checkout", body: "Off in production.", headRef: "feat/checkout", labels: ["automerge"] });
    await approve(7);
    for (const check of server.repository.requiredChecks) await report(check, pr.headSha, null);

    const event = server.eventPayload(7, "labeled");
    expect(jobRuns(event)).toBe(true);
    const out = await runStep(event);
    expect(out.stderr + out.stdout).not.toContain(TOKEN);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/#7: auto-merge enabled \(squash\)/);
    expect(server.pull(7).autoMerge).toEqual({ mergeMethod: "SQUASH", enabledBy: "flightdeck-automerge" });
    // Only the auto-merge token reached GitHub (the test's CI reports use it too), never the run's own.
    for (const auth of server.tokensSeen) expect(auth).toMatch(new RegExp(`^(token|Bearer) ${TOKEN}$`));

    // CI: one required check fails, the others pass. Nothing merges.
    await report("tests", pr.headSha, "failure");
    for (const check of server.repository.requiredChecks.filter((c) => c !== "tests")) await report(check, pr.headSha, "success");
    expect(server.pull(7).merged).toBe(false);
    expect(server.mergeRefusal(server.pull(7), "squash")).toMatch(/"tests" is failure/);

    // The failed job is re-run and passes: GitHub merges by itself.
    await report("tests", pr.headSha, "success");
    const merged = server.pull(7);
    expect(merged).toMatchObject({ merged: true, state: "closed", mergeMethod: "squash", mergedBy: "flightdeck-automerge" });
    expect(server.branches.get("main")).toBe(merged.mergeCommitSha);
    expect(await branchExists("feat/checkout")).toBe(false);
    expect(server.violations).toEqual([]);
  });

  it("without the approval the committed rules require, green checks do not merge it", async () => {
    await startServer();
    const pr = server.openPullRequest({ number: 8, title: "t", headRef: "feat/x", labels: ["automerge"] });
    await report("tests", pr.headSha, null);
    expect((await runStep(server.eventPayload(8, "labeled"))).code).toBe(0);
    for (const check of server.repository.requiredChecks) await report(check, pr.headSha, "success");
    expect(server.pull(8).merged).toBe(false);
    await approve(8);
    expect(server.pull(8)).toMatchObject({ merged: true, mergeMethod: "squash" });
    expect(server.violations).toEqual([]);
  });

  it("no human step at all where the rules require no approval", async () => {
    await startServer({ ...productionRepository(), requiredApprovals: 0 });
    const pr = server.openPullRequest({ number: 9, title: "t", headRef: "feat/y", labels: ["automerge"] });
    expect((await runStep(server.eventPayload(9, "opened"))).code).toBe(0);
    for (const check of server.repository.requiredChecks) await report(check, pr.headSha, "success");
    expect(server.pull(9)).toMatchObject({ merged: true, mergeMethod: "squash" });
    expect(await branchExists("feat/y")).toBe(false);
    expect(server.violations.join("\n")).toBe("");
  });

  it("labelled after its checks passed (GitHub refuses auto-merge in clean status), it merges at once", async () => {
    await startServer({ ...productionRepository(), requiredApprovals: 0 });
    const pr = server.openPullRequest({ number: 10, title: "t", headRef: "feat/z", labels: ["automerge"] });
    for (const check of server.repository.requiredChecks) await report(check, pr.headSha, "success");
    const out = await runStep(server.eventPayload(10, "labeled"));
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/merged now \(squash\)/);
    expect(server.pull(10)).toMatchObject({ merged: true, mergeMethod: "squash" });
    expect(server.violations).toEqual([]);
  });

  it("a rebase-only repository gets rebase", async () => {
    await startServer({ ...productionRepository("rebase"), requiredApprovals: 0 });
    const pr = server.openPullRequest({ number: 11, title: "t", headRef: "feat/r", labels: ["automerge"] });
    expect((await runStep(server.eventPayload(11, "labeled"))).code).toBe(0);
    for (const check of server.repository.requiredChecks) await report(check, pr.headSha, "success");
    expect(server.pull(11)).toMatchObject({ merged: true, mergeMethod: "rebase" });
  });

  it("the script itself skips an unlabelled pull request and enables nothing", async () => {
    await startServer();
    server.openPullRequest({ number: 12, title: "t", headRef: "feat/u", labels: [] });
    const out = await runStep(server.eventPayload(12, "opened"));
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/not enabled: the pull request has no "automerge" label/);
    expect(server.pull(12).autoMerge).toBeUndefined();
  });

  it("a repository without auto-merge allowed fails the job, naming the setting", async () => {
    await startServer({ ...productionRepository(), allowAutoMerge: false });
    server.openPullRequest({ number: 13, title: "t", headRef: "feat/v", labels: ["automerge"] });
    const out = await runStep(server.eventPayload(13, "labeled"));
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/auto-merge is not allowed on this repository.*allowAutoMerge: true/);
    expect(out.stderr + out.stdout).not.toContain(TOKEN);
  });
});

describe("the GitHub API test server", () => {
  beforeAll(async () => {
    await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });
  const call = (method: string, p: string, body?: unknown) =>
    fetch(`${server.url}${p}`, { method, headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

  it("answers 404 to a path GitHub does not have, and records it", async () => {
    server.violations.length = 0;
    expect((await call("GET", `/repos/${REPOSITORY}/pullz/1`)).status).toBe(404);
    expect(server.violations[0]).toMatch(/is not a path in GitHub's REST description/);
  });
  it("answers 422 to a body its operation's schema refuses (missing required property, wrong enum)", async () => {
    server.violations.length = 0;
    expect((await call("POST", `/repos/${REPOSITORY}/check-runs`, { name: "tests" })).status).toBe(422);
    expect((await call("PUT", `/repos/${REPOSITORY}/pulls/1/merge`, { merge_method: "fast-forward" })).status).toBe(422);
    expect(server.violations.join("\n")).toMatch(/required property "head_sha" is missing[\s\S]*"fast-forward" is not one of/);
  });
  it("checks path parameter types", async () => {
    server.violations.length = 0;
    expect((await call("GET", `/repos/${REPOSITORY}/pulls/seven`)).status).toBe(422);
    expect(server.violations[0]).toMatch(/pull_number: expected an integer/);
  });
  it("answers 501 to a real GitHub operation it does not serve, and records it", async () => {
    server.violations.length = 0;
    expect((await call("GET", `/repos/${REPOSITORY}/issues`)).status).toBe(501);
    expect(server.violations[0]).toMatch(/issues\/list-for-repo.*does not serve/);
  });
  it("refuses a token it does not know", async () => {
    const res = await fetch(`${server.url}/repos/${REPOSITORY}`, { headers: { authorization: "token nope" } });
    expect(res.status).toBe(401);
  });
  it("refuses a manual merge while a required check is pending", async () => {
    server.violations.length = 0;
    const pr = server.openPullRequest({ number: 50, title: "t", headRef: "feat/m" });
    await report("tests", pr.headSha, null);
    const res = await call("PUT", `/repos/${REPOSITORY}/pulls/50/merge`, { merge_method: "squash" });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { message: string }).message).toMatch(/"tests" is pending, .*"preview" is missing/);
    expect(server.violations).toEqual([]);
  });
  it("validates GraphQL against GitHub's schema: an unknown input field is refused", async () => {
    server.violations.length = 0;
    const res = await call("POST", "/graphql", {
      query: 'mutation { enablePullRequestAutoMerge(input: { pullRequestId: "x", method: SQUASH }) { clientMutationId } }',
    });
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/"method" is not defined by type "EnablePullRequestAutoMergeInput"/);
    expect(server.violations[0]).toMatch(/GraphQL against GitHub's schema/);
  });
  it("enabling auto-merge without a merge method asks for a merge commit (the schema's default), which the repository refuses", async () => {
    server.violations.length = 0;
    const pr = server.openPullRequest({ number: 51, title: "t", headRef: "feat/g", labels: ["automerge"] });
    const res = await call("POST", "/graphql", {
      query: "mutation($id: ID!) { enablePullRequestAutoMerge(input: { pullRequestId: $id }) { clientMutationId } }",
      variables: { id: pr.nodeId },
    });
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/merge merges are not allowed/);
    expect(server.pull(51).autoMerge).toBeUndefined();
  });
});

describe("planAutoMerge (the script's decision, pure)", () => {
  const pr = (over: Partial<PullRequestView> = {}): PullRequestView => ({
    number: 5,
    state: "open",
    draft: false,
    node_id: "PR_x",
    labels: [{ name: "automerge" }],
    head: { sha: "a".repeat(40), repo: { full_name: REPOSITORY } },
    base: { ref: "main" },
    ...over,
  });
  const squashOnly = { allow_squash_merge: true, allow_rebase_merge: false, allow_merge_commit: false, allow_auto_merge: true, default_branch: "main" };
  const plan = (current: PullRequestView, repo: object = squashOnly, event: PullRequestView = pr()) =>
    planAutoMerge({ event, current, repository: REPOSITORY, repo, label: "automerge" });

  it.each([
    ["no label", pr({ labels: [{ name: "docs" }] }), /no "automerge" label/],
    ["a draft", pr({ draft: true }), /draft/],
    ["a fork", pr({ head: { sha: "a".repeat(40), repo: { full_name: "someone/flightdeck-app" } } }), /fork/],
    ["closed", pr({ state: "closed" }), /is closed/],
    ["another base", pr({ base: { ref: "release" } }), /targets release/],
    ["head moved since the event", pr({ head: { sha: "b".repeat(40), repo: { full_name: REPOSITORY } } }), /head moved/],
  ])("skips %s", (_name, current, reason) => {
    const p = plan(current);
    expect(p.action).toBe("skip");
    expect(p.action === "skip" ? p.reason : "").toMatch(reason);
  });
  it("enables squash at the event's head commit on a squash-only repository", () => {
    expect(plan(pr())).toEqual({ action: "enable", pullNumber: 5, pullRequestId: "PR_x", mergeMethod: "SQUASH", expectedHeadOid: "a".repeat(40) });
  });
  it("enables rebase on a rebase-only repository, never a merge commit", () => {
    expect(plan(pr(), { ...squashOnly, allow_squash_merge: false, allow_rebase_merge: true })).toMatchObject({ mergeMethod: "REBASE" });
    expect(() => plan(pr(), { ...squashOnly, allow_squash_merge: false, allow_merge_commit: true })).toThrow(/neither squash nor rebase/);
  });
});
