/**
 * The tag and the GitHub release, through the REST API (@octokit/rest): the runner's GITHUB_TOKEN
 * (`contents: write`) creates them, and nothing is pushed from the checkout, so no release commit
 * ever lands on main. Every step first asks whether it is done already: a re-run of the job
 * finds the tag and the release and creates neither twice.
 */
import { Octokit } from "@octokit/rest";
import { UsageError } from "../usage-error";

export interface GitHubTarget {
  token: string;
  owner: string;
  repo: string;
  apiUrl: string;
}

type Env = Record<string, string | undefined>;

/** The repository and token from the environment GitHub Actions sets. */
export function githubTargetFrom(env: Env = process.env): GitHubTarget {
  const repository = env.GITHUB_REPOSITORY?.trim() ?? "";
  const [owner, repo, ...rest] = repository.split("/");
  if (!owner || !repo || rest.length > 0) throw new UsageError(`GITHUB_REPOSITORY: expected owner/name, found ${JSON.stringify(repository)} (set by GitHub Actions)`);
  // The workflow's own token (deploy.yml passes it as FLIGHTDECK_RELEASE_TOKEN), not the engine's
  // GITHUB_TOKEN PAT: contents: write on this repository is all it needs, and a tag pushed with it
  // starts no other workflow. Outside Actions, GITHUB_TOKEN.
  const token = env.FLIGHTDECK_RELEASE_TOKEN?.trim() || env.GITHUB_TOKEN?.trim();
  if (!token) throw new UsageError("FLIGHTDECK_RELEASE_TOKEN (or GITHUB_TOKEN): not set; the release needs a token with contents: write");
  const apiUrl = (env.GITHUB_API_URL?.trim() || "https://api.github.com").replace(/\/$/, "");
  if (!/^https?:\/\//.test(apiUrl)) throw new UsageError(`GITHUB_API_URL: expected an http(s) URL, found ${JSON.stringify(apiUrl)}`);
  return { token, owner, repo, apiUrl };
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown }).status;
  return typeof s === "number" ? s : undefined;
}

/** Octokit's errors carry the request (its token included): only the status and first line go on. */
function safe(what: string, err: unknown): Error {
  const s = statusOf(err);
  return new Error(`${what}: ${s !== undefined ? `HTTP ${s} ` : ""}${String((err as Error).message ?? err).split("\n")[0]}`);
}

export interface PublishedRelease {
  tag: string;
  url: string;
  /** False when the release existed already (a re-run). */
  created: boolean;
  tagCreated: boolean;
}

export class ReleasePublisher {
  private readonly octokit: Octokit;

  constructor(private readonly t: GitHubTarget) {
    const quiet = () => undefined;
    this.octokit = new Octokit({ auth: t.token, baseUrl: t.apiUrl, userAgent: "flightdeck-release", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
  }

  private get repo() {
    return { owner: this.t.owner, repo: this.t.repo };
  }

  /** The tag of GitHub's latest release, or undefined when the repository has none (404). */
  async latestReleaseTag(): Promise<string | undefined> {
    try {
      return (await this.octokit.rest.repos.getLatestRelease(this.repo)).data.tag_name;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw safe("reading the latest release", err);
    }
  }

  /** The commit a tag names on GitHub (a lightweight tag: the ref's object), or undefined. */
  async tagSha(tag: string): Promise<string | undefined> {
    try {
      const ref = (await this.octokit.rest.git.getRef({ ...this.repo, ref: `tags/${tag}` })).data;
      // An annotated tag (made by hand) names a tag object; its commit is one call further.
      if (ref.object.type === "tag") return (await this.octokit.rest.git.getTag({ ...this.repo, tag_sha: ref.object.sha })).data.object.sha;
      return ref.object.sha;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw safe(`reading tag ${tag}`, err);
    }
  }

  /** Tags `sha` as `tag` unless GitHub has that tag on `sha` already; refuses a tag on another commit. */
  async ensureTag(tag: string, sha: string): Promise<boolean> {
    const existing = await this.tagSha(tag);
    if (existing === sha) return false;
    if (existing) throw new UsageError(`tag ${tag} exists on GitHub on ${existing.slice(0, 12)}, not on ${sha.slice(0, 12)}: this checkout's tags are stale (the job checks out with fetch-depth: 0); nothing was created`);
    try {
      await this.octokit.rest.git.createRef({ ...this.repo, ref: `refs/tags/${tag}`, sha });
      return true;
    } catch (err) {
      // 422: another run created it between the read and now. Fine if it names the same commit.
      if (statusOf(err) === 422 && (await this.tagSha(tag)) === sha) return false;
      throw safe(`creating tag ${tag}`, err);
    }
  }

  /** The release of `tag`, created with `notes` unless it exists already. */
  async ensureRelease(tag: string, sha: string, notes: string): Promise<{ url: string; created: boolean }> {
    try {
      const existing = (await this.octokit.rest.repos.getReleaseByTag({ ...this.repo, tag })).data;
      return { url: existing.html_url, created: false };
    } catch (err) {
      if (statusOf(err) !== 404) throw safe(`reading the release of ${tag}`, err);
    }
    try {
      const made = (await this.octokit.rest.repos.createRelease({ ...this.repo, tag_name: tag, target_commitish: sha, name: tag, body: notes, make_latest: "true" })).data;
      return { url: made.html_url, created: true };
    } catch (err) {
      throw safe(`creating the release of ${tag}`, err);
    }
  }

  async publish(tag: string, sha: string, notes: string): Promise<PublishedRelease> {
    const tagCreated = await this.ensureTag(tag, sha);
    const r = await this.ensureRelease(tag, sha, notes);
    return { tag, url: r.url, created: r.created, tagCreated };
  }
}
