/**
 * `flightdeck release` against the GitHub API test server (every request checked against GitHub's
 * OpenAPI description) and a real temporary git repository: the version from its commits since the
 * last v* tag, the tag and the release created once, a re-run creating nothing, and the refusals.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fileStore, type BackendStore } from "../../stacks/backend-store";
import { release } from "../../stacks/release";
import { buildRecord, writeRecord, type Outcome } from "../../stacks/records";
import { UsageError } from "../../stacks/usage-error";
import { installReleases, type ReleasesModel } from "../github-api/releases";
import { GitHubApiServer } from "../github-api/server";

const TOKEN = "ghs_TESTRELEASETOKEN0123456789abcdefghij";
let server: GitHubApiServer;
let model: ReleasesModel;
let tmp: string;
let repo: string;
let store: BackendStore;
let clock = Date.parse("2026-12-01T10:00:00Z");

const git = (...args: string[]) =>
  execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e" } }).trim();
function commit(message: string): string {
  git("commit", "--allow-empty", "-q", "-m", message);
  const sha = git("rev-parse", "HEAD");
  model.commits.add(sha);
  return sha;
}
const digest = (c: string) => `sha256:${c.repeat(64)}`;
async function deployed(sha: string, outcome: Outcome = "succeeded", kind: "deploy" | "rollback" = "deploy", c = "a") {
  clock += 600_000;
  await writeRecord(store, buildRecord({ stack: "production", kind, outcome, release: `registry.fly.io/flightdeck-production@${digest(c)}`, startedAt: clock, endedAt: clock + 1000, steps: [] }, { deployer: "ci", commit: { sha } }));
}
const env = () => ({ GITHUB_REPOSITORY: server.fullName, GITHUB_TOKEN: TOKEN, GITHUB_API_URL: server.url });
const run = (extra: { dryRun?: boolean } = {}) => release({ stack: "production", workDir: repo, env: env(), store, ...extra });

describe("release: version, notes, tag and GitHub release after a production deploy", () => {
  beforeAll(async () => {
    server = new GitHubApiServer(
      { owner: "flightdeck-dev", name: "flightdeck-app", defaultBranch: "main", allowMergeCommit: false, allowSquashMerge: true, allowRebaseMerge: false, allowAutoMerge: true, deleteBranchOnMerge: true, requiredChecks: ["tests"] },
      TOKEN,
    );
    model = installReleases(server);
    await server.start();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-publish-"));
    repo = path.join(tmp, "repo");
    fs.mkdirSync(repo);
    git("init", "-q", "-b", "main");
    store = fileStore(path.join(tmp, "state"), true);
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    expect(server.violations).toEqual([]);
  });

  it("refuses while production has no record, and after a deploy that did not succeed", async () => {
    const first = commit("feat: checkout");
    await expect(run()).rejects.toThrow(/production has no deployment record/);
    await deployed(first, "reverted");
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/latest deployment record is a deploy that reverted .*a release follows only a succeeded deploy; nothing was created/);
    expect(model.releases).toEqual([]);
  });

  it("the first release: 0.1.0 from a feature, tagged on the deployed commit, notes naming digest and record", async () => {
    commit("fix: cart total");
    const head = commit("docs: runbook");
    await deployed(head);
    const dry = await run({ dryRun: true });
    expect(dry).toMatchObject({ tag: "v0.1.0", sha: head });
    expect(model.releases).toEqual([]);
    const r = await run();
    expect(r).toMatchObject({ tag: "v0.1.0", created: true, tagCreated: true });
    expect(model.tags.get("refs/tags/v0.1.0")).toBe(head);
    const notes = model.releaseOf("v0.1.0")!.body;
    expect(notes).toContain(`image digest: \`${digest("a")}\``);
    expect(notes).toMatch(/deployment record: production deploy succeeded at .* by ci, commit [0-9a-f]{40}/);
    expect(notes).toMatch(/### Features\n\n- checkout[\s\S]*### Fixes\n\n- cart total[\s\S]*### Other\n\n- runbook/);
    expect(server.violations).toEqual([]);
  });

  it("a re-run creates neither a second tag nor a second release, even before the checkout has the tag", async () => {
    const again = await run();
    expect(again).toMatchObject({ tag: "v0.1.0", created: false, tagCreated: false });
    expect(model.releases).toHaveLength(1);
    git("tag", "v0.1.0", model.tags.get("refs/tags/v0.1.0")!); // what the next checkout fetches
    // The re-run's deploy finds the release live already: an unchanged record, which changes nothing.
    await deployed(model.tags.get("refs/tags/v0.1.0")!, "unchanged");
    expect(await run()).toMatchObject({ tag: "v0.1.0", created: false, tagCreated: false });
    expect(model.releases).toHaveLength(1);
  });

  it("the next release counts from the last tag: a breaking change is a major", async () => {
    commit("fix: rounding");
    const head = commit("feat(api)!: drop v1");
    await deployed(head, "succeeded", "deploy", "b");
    const r = await run();
    expect(r).toMatchObject({ tag: "v1.0.0", created: true });
    const notes = model.releaseOf("v1.0.0")!.body;
    expect(notes).toContain("changes since v0.1.0: 2 commits");
    expect(notes).not.toContain("checkout");
    expect(notes).toContain(digest("b"));
    git("tag", "v1.0.0", head);
  });

  it("nothing new since the last tag: nothing is released; a rollback last: refused", async () => {
    const head = git("rev-parse", "HEAD");
    await deployed(head);
    expect(await run()).toMatchObject({ tag: "v1.0.0", created: false });
    await deployed(head, "rolled back", "rollback");
    await expect(run()).rejects.toThrow(/latest deployment record is a rollback that rolled back/);
    expect(model.releases).toHaveLength(2);
  });

  it("a tag on GitHub on another commit (stale checkout tags) is refused, nothing created", async () => {
    const head = commit("fix: late");
    await deployed(head);
    model.tags.set("refs/tags/v1.0.1", "f".repeat(40));
    await expect(run()).rejects.toThrow(/tag v1.0.1 exists on GitHub on ffffffffffff, not on .*stale/);
    expect(model.releases).toHaveLength(2);
    expect(server.violations).toEqual([]);
  });
});
