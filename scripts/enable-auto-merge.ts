/**
 * Turns on GitHub's auto-merge for the pull request of the event that started this run, with the
 * repository's own merge method (squash or rebase; never a merge commit). GitHub then merges the
 * pull request by itself once every required check on its head commit passes; the push to the
 * default branch starts the deploy workflow.
 *
 * Run by .github/workflows/auto-merge.yml (`npx tsx scripts/enable-auto-merge.ts`) with the
 * environment Actions provides: GITHUB_TOKEN (set by the workflow), GITHUB_REPOSITORY,
 * GITHUB_EVENT_PATH, GITHUB_API_URL, GITHUB_GRAPHQL_URL; AUTO_MERGE_LABEL names the label
 * (default "automerge"). The token is never printed.
 *
 * The decision is a pure function of the event, the pull request as it is now and the repository's
 * settings (planAutoMerge); main() only reads those and performs the plan.
 */
import { Octokit } from "@octokit/rest";
import * as fs from "node:fs";

export type GraphqlMergeMethod = "SQUASH" | "REBASE";

/** The parts of a pull_request event payload (and of GET /pulls/{n}) this script reads. */
export interface PullRequestView {
  number: number;
  state?: string;
  draft?: boolean;
  node_id?: string;
  labels: { name?: string }[];
  head: { sha: string; ref?: string; repo: { full_name: string } | null };
  base: { ref: string };
}

/** The repository settings that decide the merge method (GET /repos/{owner}/{repo}). */
export interface RepositorySettings {
  allow_squash_merge?: boolean;
  allow_rebase_merge?: boolean;
  allow_merge_commit?: boolean;
  allow_auto_merge?: boolean;
  default_branch?: string;
}

export type AutoMergePlan =
  | { action: "skip"; reason: string }
  | { action: "enable"; pullNumber: number; pullRequestId: string; mergeMethod: GraphqlMergeMethod; expectedHeadOid: string };

/** The repository's merge method for auto-merge: the one it allows, squash first. Never a merge commit. */
export function mergeMethodOf(repo: RepositorySettings): GraphqlMergeMethod | undefined {
  if (repo.allow_squash_merge === true) return "SQUASH";
  if (repo.allow_rebase_merge === true) return "REBASE";
  return undefined;
}

/**
 * What to do for this run. `event` is the pull request as the event saw it; `current` is the pull
 * request as GitHub has it now (labels and head may have changed since). Throws when the repository
 * cannot auto-merge at all: that is a settings problem a person must fix, not a reason to skip.
 */
export function planAutoMerge(input: {
  event: PullRequestView;
  current: PullRequestView;
  repository: string;
  repo: RepositorySettings;
  label: string;
}): AutoMergePlan {
  const { event, current, repository, repo, label } = input;
  if (current.state !== undefined && current.state !== "open") return { action: "skip", reason: `the pull request is ${current.state}` };
  if (!current.labels.some((l) => l.name === label)) return { action: "skip", reason: `the pull request has no "${label}" label` };
  if (current.draft === true) return { action: "skip", reason: "the pull request is a draft" };
  if (current.head.repo?.full_name !== repository) return { action: "skip", reason: "the pull request comes from a fork" };
  if (repo.default_branch !== undefined && current.base.ref !== repo.default_branch) {
    return { action: "skip", reason: `the pull request targets ${current.base.ref}, not the default branch ${repo.default_branch}` };
  }
  if (current.head.sha !== event.head.sha) {
    return { action: "skip", reason: `the head moved to ${current.head.sha}; the run for that commit decides` };
  }
  if (repo.allow_auto_merge !== true) {
    throw new Error("auto-merge is not allowed on this repository: its merge settings (components/github/merge-settings.ts, production stack) set allowAutoMerge: true");
  }
  const mergeMethod = mergeMethodOf(repo);
  if (!mergeMethod) throw new Error("the repository allows neither squash nor rebase merges (merge commits are never used): fix its merge settings");
  if (!current.node_id) throw new Error(`GitHub returned pull request #${current.number} without a node_id`);
  return { action: "enable", pullNumber: current.number, pullRequestId: current.node_id, mergeMethod, expectedHeadOid: current.head.sha };
}

export const ENABLE_AUTO_MERGE = `mutation EnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!, $expectedHeadOid: GitObjectID!) {
  enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod, expectedHeadOid: $expectedHeadOid }) {
    pullRequest { number autoMergeRequest { mergeMethod } }
  }
}`;

/** GitHub refuses to enable auto-merge on a pull request that could merge right now (nothing pending). */
const CLEAN_STATUS = /clean status/i;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set (the workflow and GitHub Actions provide it)`);
  return v;
}

/** Reads the event and GitHub's current view, then performs the plan. Returns the lines it reports. */
export async function run(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const token = required(env, "GITHUB_TOKEN");
  const repository = required(env, "GITHUB_REPOSITORY");
  const [owner, repo] = repository.split("/") as [string, string];
  const label = env.AUTO_MERGE_LABEL || "automerge";
  const apiUrl = (env.GITHUB_API_URL || "https://api.github.com").replace(/\/$/, "");
  const graphqlUrl = env.GITHUB_GRAPHQL_URL || `${apiUrl}/graphql`;
  const payload = JSON.parse(fs.readFileSync(required(env, "GITHUB_EVENT_PATH"), "utf8")) as { pull_request?: PullRequestView };
  if (!payload.pull_request) throw new Error("the event has no pull_request: run this on pull_request events");
  const event = payload.pull_request;

  const octokit = new Octokit({ auth: token, baseUrl: apiUrl, userAgent: "flightdeck-auto-merge" });
  const [{ data: current }, { data: settings }] = await Promise.all([
    octokit.rest.pulls.get({ owner, repo, pull_number: event.number }),
    octokit.rest.repos.get({ owner, repo }),
  ]);
  const plan = planAutoMerge({ event, current: current as PullRequestView, repository, repo: settings, label });
  if (plan.action === "skip") {
    log(`#${event.number}: auto-merge not enabled: ${plan.reason}`);
    return;
  }
  try {
    // GitHub Enterprise Server serves GraphQL at /api/graphql beside /api/v3: take the URL Actions gives.
    await octokit.graphql.defaults({ url: graphqlUrl })(ENABLE_AUTO_MERGE, {
      pullRequestId: plan.pullRequestId,
      mergeMethod: plan.mergeMethod,
      expectedHeadOid: plan.expectedHeadOid,
    });
    log(`#${plan.pullNumber}: auto-merge enabled (${plan.mergeMethod.toLowerCase()}) at ${plan.expectedHeadOid}; GitHub merges it when the required checks pass`);
  } catch (e) {
    if (!CLEAN_STATUS.test((e as Error).message)) throw e;
    // Every required check already passed, so there is nothing to wait for: merge now, at the
    // commit that passed (GitHub refuses with 409 if the head moved meanwhile).
    const method = plan.mergeMethod === "SQUASH" ? "squash" : "rebase";
    await octokit.rest.pulls.merge({ owner, repo, pull_number: plan.pullNumber, merge_method: method, sha: plan.expectedHeadOid });
    log(`#${plan.pullNumber}: its checks had already passed; merged now (${method}) at ${plan.expectedHeadOid}`);
  }
}

if (require.main === module) {
  run(process.env, (line) => console.log(line)).catch((e: unknown) => {
    // The message only: Octokit's errors carry the request, whose headers hold the token (redacted by Octokit, but not ours to print).
    console.error(`::error::enable auto-merge: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
