/**
 * Tags and releases on the GitHub API test server, installed with its `route()`: what
 * `flightdeck release` (stacks/release/) calls, with GitHub's documented behaviour.
 *
 * - `git/get-ref` (`tags/<name>`): the ref, or 404. `git/create-ref`: 422 "Reference already
 *   exists" for an existing ref, 422 "Object does not exist" for a commit the repository lacks, and
 *   a ref that does not start with `refs/` and hold two slashes is 422 too.
 * - `repos/create-release`: 422 (`already_exists`) when the tag has a release; a tag that does not
 *   exist yet is created on `target_commitish` (GitHub does that too). `make_latest` (default true)
 *   makes it the latest release.
 * - `repos/get-release-by-tag` and `repos/get-latest-release`: 404 when there is none.
 */
import type { MatchedOperation } from "./openapi";
import { HttpError, type GitHubApiServer } from "./server";

export interface ReleaseModel {
  id: number;
  tagName: string;
  targetCommitish: string;
  name: string;
  body: string;
  createdAt: string;
}

export class ReleasesModel {
  /** refs/tags/<name> → commit SHA. */
  readonly tags = new Map<string, string>();
  readonly releases: ReleaseModel[] = [];
  /** Commits the repository has (tags may name only these). */
  readonly commits = new Set<string>();
  private latestId: number | undefined;
  private nextId = 7000;
  private clock = Date.parse("2026-12-01T12:00:00Z");

  constructor(private readonly server: GitHubApiServer) {}

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private base(): string {
    return `${this.server.url}/repos/${this.server.fullName}`;
  }

  private refJson(ref: string, sha: string): Record<string, unknown> {
    return { ref, node_id: `REF_${Buffer.from(ref).toString("base64url")}`, url: `${this.base()}/git/${ref}`, object: { type: "commit", sha, url: `${this.base()}/git/commits/${sha}` } };
  }

  private releaseJson(r: ReleaseModel): Record<string, unknown> {
    return {
      id: r.id,
      node_id: `RE_${Buffer.from(String(r.id)).toString("base64url")}`,
      url: `${this.base()}/releases/${r.id}`,
      html_url: `https://github.example/${this.server.fullName}/releases/tag/${r.tagName}`,
      tag_name: r.tagName,
      target_commitish: r.targetCommitish,
      name: r.name,
      body: r.body,
      draft: false,
      prerelease: false,
      created_at: r.createdAt,
      published_at: r.createdAt,
      author: { login: this.server.login },
      assets: [],
    };
  }

  /** The release of a tag, if any. */
  releaseOf(tag: string): ReleaseModel | undefined {
    return this.releases.find((r) => r.tagName === tag);
  }

  readonly getRef = (op: MatchedOperation): [number, unknown] => {
    const ref = `refs/${decodeURIComponent(op.params.ref ?? "")}`;
    const sha = this.tags.get(ref);
    if (!sha) throw new HttpError(404, "Not Found");
    return [200, this.refJson(ref, sha)];
  };

  readonly createRef = (_op: MatchedOperation, body: Record<string, unknown> | undefined): [number, unknown] => {
    const ref = String(body?.ref ?? "");
    const sha = String(body?.sha ?? "").toLowerCase();
    if (!/^refs\/[^/]+\/.+/.test(ref)) throw new HttpError(422, "Reference name must start with 'refs/' and have at least two slashes.");
    if (this.tags.has(ref)) throw new HttpError(422, "Reference already exists");
    if (!this.commits.has(sha)) throw new HttpError(422, "Object does not exist");
    this.tags.set(ref, sha);
    return [201, this.refJson(ref, sha)];
  };

  readonly createRelease = (_op: MatchedOperation, body: Record<string, unknown> | undefined): [number, unknown] => {
    const tagName = String(body?.tag_name ?? "");
    if (this.releaseOf(tagName)) throw new HttpError(422, "Validation Failed: already_exists (tag_name)");
    const ref = `refs/tags/${tagName}`;
    const target = String(body?.target_commitish ?? this.server.repository.defaultBranch);
    if (!this.tags.has(ref)) {
      const sha = this.server.branches.get(target) ?? (this.commits.has(target) ? target : undefined);
      if (!sha) throw new HttpError(422, "Validation Failed: invalid target_commitish");
      this.tags.set(ref, sha);
    }
    const r: ReleaseModel = { id: this.nextId++, tagName, targetCommitish: target, name: String(body?.name ?? tagName), body: String(body?.body ?? ""), createdAt: this.now() };
    this.releases.push(r);
    if (body?.make_latest !== "false") this.latestId = r.id;
    return [201, this.releaseJson(r)];
  };

  readonly getReleaseByTag = (op: MatchedOperation): [number, unknown] => {
    const r = this.releaseOf(decodeURIComponent(op.params.tag ?? ""));
    if (!r) throw new HttpError(404, "Not Found");
    return [200, this.releaseJson(r)];
  };

  readonly getLatestRelease = (): [number, unknown] => {
    const r = this.releases.find((x) => x.id === this.latestId);
    if (!r) throw new HttpError(404, "Not Found");
    return [200, this.releaseJson(r)];
  };
}

export function installReleases(server: GitHubApiServer): ReleasesModel {
  const model = new ReleasesModel(server);
  server
    .route("git/get-ref", model.getRef)
    .route("git/create-ref", model.createRef)
    .route("repos/create-release", model.createRelease)
    .route("repos/get-release-by-tag", model.getReleaseByTag)
    .route("repos/get-latest-release", model.getLatestRelease);
  return model;
}
