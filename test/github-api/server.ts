/**
 * A GitHub API test server on a loopback port: the REST operations and the one GraphQL mutation
 * that trunk-based delivery uses, with GitHub's auto-merge behaviour.
 *
 * Every REST request is checked against GitHub's published OpenAPI description (openapi.ts): a
 * path or method GitHub does not have answers 404, a request that does not fit its operation
 * answers 422, and an operation GitHub has but this server does not serve answers 501. Each of
 * those is also recorded in `violations`, which a test asserts empty, so a wrong request fails the
 * test even when the client would swallow the error. GraphQL (absent from the OpenAPI file) is
 * parsed and validated with graphql-js against GitHub's published schema (@octokit/graphql-schema)
 * and executed with resolvers for `enablePullRequestAutoMerge` only.
 *
 * What it models: one repository with its merge settings, branches (name → head SHA), pull
 * requests with labels, draft flag, head SHA and node id, check runs and commit statuses on a SHA,
 * the default branch's required checks and required approving reviews (from the branch rules), and
 * auto-merge: once enabled, the pull request is merged with the chosen method as soon as every
 * required check on its head SHA passed (check run conclusion success/neutral/skipped, or status
 * success) and enough reviews approve; the head branch is deleted when delete_branch_on_merge. While
 * any required check is missing, pending or failed it stays open, and auto-merge stays enabled
 * (GitHub merges after a re-run that passes). Error texts of refused mutations paraphrase GitHub's.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { buildSchema, execute, GraphQLError, parse, validate, type GraphQLSchema } from "graphql";
import { findOperation, requestProblems, type MatchedOperation } from "./openapi";

export interface RepositoryModel {
  owner: string;
  name: string;
  defaultBranch: string;
  allowMergeCommit: boolean;
  allowSquashMerge: boolean;
  allowRebaseMerge: boolean;
  allowAutoMerge: boolean;
  deleteBranchOnMerge: boolean;
  /** The check names the default branch's rules require. */
  requiredChecks: string[];
  /** Approving reviews the default branch's rules require. @default 0 */
  requiredApprovals?: number;
}

export interface PullRequestModel {
  number: number;
  nodeId: string;
  title: string;
  body: string;
  state: "open" | "closed";
  draft: boolean;
  labels: string[];
  headRef: string;
  headSha: string;
  /** `owner/name` of the head repository (another one for a fork). */
  headRepo: string;
  baseRef: string;
  approvals: number;
  merged: boolean;
  mergeMethod?: "merge" | "squash" | "rebase";
  mergeCommitSha?: string;
  mergedBy?: string;
  autoMerge?: { mergeMethod: "MERGE" | "SQUASH" | "REBASE"; enabledBy: string };
}

interface CheckRun {
  id: number;
  name: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
}
interface CommitStatus {
  id: number;
  sha: string;
  context: string;
  state: "error" | "failure" | "pending" | "success";
}

/** One request the server answered: what a test can read back. */
export interface ServedRequest {
  method: string;
  path: string;
  operationId: string;
  status: number;
}

const passing = new Set(["success", "neutral", "skipped"]);
const sha = (seed: string) => crypto.createHash("sha1").update(seed).digest("hex");

let graphqlSchema: GraphQLSchema | undefined;
function githubGraphqlSchema(): GraphQLSchema {
  // The package exports only an ESM entry point, no subpath for its SDL file: read it from its directory.
  // GitHub's dump defines two EnterpriseOwnerInfo fields twice, which graphql-js's SDL check refuses;
  // nothing here touches that type, so the SDL is taken as valid (queries are still validated).
  const sdl = fs.readFileSync(path.resolve(__dirname, "../../node_modules/@octokit/graphql-schema/schema.graphql"), "utf8");
  graphqlSchema ??= buildSchema(sdl, { assumeValidSDL: true });
  return graphqlSchema;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Serves one REST operation: [status, body]. Throw HttpError for GitHub's error answers. `query`: list filters, pages. */
export type OperationHandler = (op: MatchedOperation, body: Record<string, unknown> | undefined, query: URLSearchParams) => [number, unknown];

export class GitHubApiServer {
  readonly violations: string[] = [];
  /** Operations served by modules beside this file (deployments, releases…), installed with `route`. */
  private readonly routes = new Map<string, OperationHandler>();
  readonly served: ServedRequest[] = [];
  /** Every Authorization header value seen, so a test can check which token was used. */
  readonly tokensSeen = new Set<string>();
  readonly branches = new Map<string, string>();
  readonly pulls = new Map<number, PullRequestModel>();
  private readonly checkRuns: CheckRun[] = [];
  private readonly statuses: CommitStatus[] = [];
  private nextId = 1000;
  private server?: http.Server;
  url = "";

  constructor(
    readonly repository: RepositoryModel,
    /** The token a request must carry (`Authorization: token …` or `Bearer …`). */
    readonly token: string,
    /** The login the token belongs to. */
    readonly login = "flightdeck-automerge",
  ) {
    this.branches.set(repository.defaultBranch, sha(`${repository.defaultBranch}:root`));
  }

  get fullName(): string {
    return `${this.repository.owner}/${this.repository.name}`;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A branch with one commit on top of the default branch, and a pull request from it. */
  openPullRequest(p: { number: number; title: string; body?: string; headRef: string; labels?: string[]; draft?: boolean; headRepo?: string }): PullRequestModel {
    const headSha = sha(`${p.headRef}:${p.number}:1`);
    this.branches.set(p.headRef, headSha);
    const pr: PullRequestModel = {
      number: p.number,
      nodeId: `PR_kwDO${Buffer.from(`${this.fullName}#${p.number}`).toString("base64url")}`,
      title: p.title,
      body: p.body ?? "",
      state: "open",
      draft: p.draft ?? false,
      labels: p.labels ?? [],
      headRef: p.headRef,
      headSha,
      headRepo: p.headRepo ?? this.fullName,
      baseRef: this.repository.defaultBranch,
      approvals: 0,
      merged: false,
    };
    this.pulls.set(p.number, pr);
    return pr;
  }

  /** A new commit on the pull request's branch (a push). */
  push(number: number): string {
    const pr = this.pull(number);
    pr.headSha = sha(`${pr.headSha}:next`);
    this.branches.set(pr.headRef, pr.headSha);
    return pr.headSha;
  }

  pull(number: number): PullRequestModel {
    const pr = this.pulls.get(number);
    if (!pr) throw new Error(`no pull request #${number}`);
    return pr;
  }

  /** The `pull_request` object of a webhook / Actions event payload, as GitHub sends it. */
  eventPayload(number: number, action: string): Record<string, unknown> {
    return { action, number, pull_request: this.pullJson(this.pull(number)), repository: this.repoJson() };
  }

  // ---- HTTP ----

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    let status = 500;
    let operationId = "";
    const answer = (code: number, body: unknown) => {
      status = code;
      res.writeHead(code, { "content-type": "application/json; charset=utf-8" });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    try {
      const raw = await new Promise<string>((resolve, reject) => {
        let data = "";
        req.setEncoding("utf8");
        req.on("data", (c: string) => (data += c));
        req.on("end", () => resolve(data));
        req.on("error", reject);
      });
      const body: unknown = raw === "" ? undefined : JSON.parse(raw);
      const auth = req.headers.authorization ?? "";
      this.tokensSeen.add(auth);
      if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`) throw new HttpError(401, "Bad credentials");

      if (method === "POST" && url.pathname === "/graphql") {
        operationId = "graphql";
        return answer(200, this.graphql(body));
      }
      const op = findOperation(method, url.pathname);
      if (typeof op === "string") {
        this.violations.push(`${method} ${url.pathname}: ${op}`);
        throw new HttpError(404, "Not Found");
      }
      operationId = op.operationId;
      const problems = requestProblems(op, body);
      if (problems.length > 0) {
        this.violations.push(`${method} ${url.pathname} (${op.operationId}): ${problems.join("; ")}`);
        throw new HttpError(422, `Invalid request. ${problems.join("; ")}`);
      }
      const [code, out] = this.rest(op, body as Record<string, unknown> | undefined, url.searchParams);
      answer(code, out);
    } catch (e) {
      if (e instanceof HttpError) answer(e.status, { message: e.message, documentation_url: "https://docs.github.com/rest", status: String(e.status) });
      else {
        this.violations.push(`${method} ${url.pathname}: server error ${(e as Error).stack ?? String(e)}`);
        answer(500, { message: (e as Error).message });
      }
    } finally {
      this.served.push({ method, path: url.pathname, operationId, status });
    }
  }

  private repoOf(op: MatchedOperation): void {
    if (op.params.owner?.toLowerCase() !== this.repository.owner.toLowerCase() || op.params.repo?.toLowerCase() !== this.repository.name.toLowerCase()) {
      throw new HttpError(404, "Not Found");
    }
  }

  /**
   * Serves an operation (by its operationId in GitHub's OpenAPI description) with a handler: how
   * modules beside this file add what they model without this file knowing them. The request has
   * already been checked against the description and the repository when the handler runs.
   */
  route(operationId: string, handler: OperationHandler): this {
    if (this.routes.has(operationId)) throw new Error(`${operationId} is already routed`);
    this.routes.set(operationId, handler);
    return this;
  }

  private rest(op: MatchedOperation, body: Record<string, unknown> | undefined, query: URLSearchParams): [number, unknown] {
    this.repoOf(op);
    const routed = this.routes.get(op.operationId);
    if (routed) return routed(op, body, query);
    const pullOf = () => {
      const pr = this.pulls.get(Number(op.params.pull_number));
      if (!pr) throw new HttpError(404, "Not Found");
      return pr;
    };
    switch (op.operationId) {
      case "repos/get":
        return [200, this.repoJson()];
      case "pulls/get":
        return [200, this.pullJson(pullOf())];
      case "repos/get-branch": {
        const head = this.branches.get(op.params.branch);
        if (!head) throw new HttpError(404, "Branch not found");
        return [200, { name: op.params.branch, commit: { sha: head }, protected: op.params.branch === this.repository.defaultBranch }];
      }
      case "checks/create": {
        const b = body as { name: string; head_sha: string; status?: CheckRun["status"]; conclusion?: string };
        const run: CheckRun = {
          id: this.nextId++,
          name: b.name,
          headSha: b.head_sha,
          // GitHub: providing a conclusion sets the status to completed.
          status: b.conclusion ? "completed" : (b.status ?? "queued"),
          conclusion: b.conclusion ?? null,
        };
        if (run.status === "completed" && !run.conclusion) throw new HttpError(422, "conclusion is required when status is completed");
        this.checkRuns.push(run);
        this.autoMerge();
        return [201, { id: run.id, name: run.name, head_sha: run.headSha, status: run.status, conclusion: run.conclusion }];
      }
      case "repos/create-commit-status": {
        const b = body as { state: CommitStatus["state"]; context?: string };
        const s: CommitStatus = { id: this.nextId++, sha: op.params.sha, context: b.context ?? "default", state: b.state };
        this.statuses.push(s);
        this.autoMerge();
        return [201, { id: s.id, state: s.state, context: s.context }];
      }
      case "checks/list-for-ref": {
        const runs = this.latestRuns(this.resolve(op.params.ref));
        return [200, { total_count: runs.length, check_runs: runs.map((r) => ({ id: r.id, name: r.name, head_sha: r.headSha, status: r.status, conclusion: r.conclusion })) }];
      }
      case "pulls/create-review": {
        const pr = pullOf();
        if ((body as { event?: string } | undefined)?.event === "APPROVE") pr.approvals += 1;
        this.autoMerge();
        return [200, { id: this.nextId++, state: "APPROVED" }];
      }
      case "pulls/merge": {
        const pr = pullOf();
        const b = (body ?? {}) as { merge_method?: "merge" | "squash" | "rebase"; sha?: string };
        const method = b.merge_method ?? "merge";
        if (b.sha && b.sha !== pr.headSha) throw new HttpError(409, "Head branch was modified. Review and try the merge again.");
        const refused = this.mergeRefusal(pr, method);
        if (refused) throw new HttpError(405, refused);
        this.merge(pr, method, this.login);
        return [200, { sha: pr.mergeCommitSha, merged: true, message: "Pull Request successfully merged" }];
      }
      default:
        this.violations.push(`${op.method.toUpperCase()} ${op.template} (${op.operationId}) is a GitHub operation this test server does not serve`);
        throw new HttpError(501, `${op.operationId} is not served by the test server`);
    }
  }

  // ---- GraphQL ----

  private graphql(body: unknown): unknown {
    const { query, variables, operationName } = (body ?? {}) as { query?: string; variables?: Record<string, unknown>; operationName?: string };
    if (typeof query !== "string") {
      this.violations.push("POST /graphql without a query");
      return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
    }
    const schema = githubGraphqlSchema();
    let document;
    try {
      document = parse(query);
    } catch (e) {
      this.violations.push(`GraphQL syntax: ${(e as Error).message}`);
      return { errors: [{ message: (e as Error).message }] };
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) {
      this.violations.push(`GraphQL against GitHub's schema: ${invalid.map((e) => e.message).join("; ")}`);
      return { errors: invalid.map((e) => ({ message: e.message })) };
    }
    const served = new Set(["enablePullRequestAutoMerge"]);
    const rootValue = {
      enablePullRequestAutoMerge: (args: { input: { pullRequestId: string; mergeMethod?: "MERGE" | "SQUASH" | "REBASE"; expectedHeadOid?: string } }) =>
        this.enableAutoMerge(args.input),
    };
    for (const def of document.definitions) {
      if (def.kind !== "OperationDefinition") continue;
      for (const sel of def.selectionSet.selections) {
        if (sel.kind === "Field" && !served.has(sel.name.value)) {
          this.violations.push(`GraphQL ${def.operation} field ${sel.name.value} is not served by the test server`);
          return { errors: [{ message: `${sel.name.value} is not served by the test server` }] };
        }
      }
    }
    const result = execute({ schema, document, rootValue, variableValues: variables, operationName }) as { data?: unknown; errors?: readonly GraphQLError[] };
    return { data: result.data ?? null, ...(result.errors ? { errors: result.errors.map((e) => ({ type: "UNPROCESSABLE", message: e.message, path: e.path })) } : {}) };
  }

  private enableAutoMerge(input: { pullRequestId: string; mergeMethod?: "MERGE" | "SQUASH" | "REBASE"; expectedHeadOid?: string }) {
    const pr = [...this.pulls.values()].find((p) => p.nodeId === input.pullRequestId);
    if (!pr) throw new Error(`Could not resolve to a node with the global id of '${input.pullRequestId}'`);
    // The schema's default merge method is MERGE: a client that omits it asks for a merge commit.
    const method = input.mergeMethod ?? "MERGE";
    const r = this.repository;
    if (!r.allowAutoMerge) throw new Error("Pull request Auto merge is not allowed for this repository");
    if (pr.state !== "open") throw new Error("Pull request is closed");
    if (pr.draft) throw new Error("Pull request is in draft state");
    const allowed = { MERGE: r.allowMergeCommit, SQUASH: r.allowSquashMerge, REBASE: r.allowRebaseMerge }[method];
    if (!allowed) throw new Error(`Pull request ${method.toLowerCase()} merges are not allowed on this repository`);
    if (input.expectedHeadOid && input.expectedHeadOid !== pr.headSha) throw new Error("Pull request head branch was modified. Review and try the merge again.");
    if (this.mergeRefusal(pr, method.toLowerCase() as "merge") === undefined) throw new Error("Pull request Pull request is in clean status");
    pr.autoMerge = { mergeMethod: method, enabledBy: this.login };
    return { clientMutationId: null, pullRequest: this.pullGraph(pr) };
  }

  private pullGraph(pr: PullRequestModel) {
    return { number: pr.number, id: pr.nodeId, autoMergeRequest: pr.autoMerge ? { mergeMethod: pr.autoMerge.mergeMethod } : null };
  }

  // ---- GitHub's behaviour ----

  private resolve(ref: string): string {
    return this.branches.get(ref.replace(/^heads\//, "")) ?? ref;
  }

  private latestRuns(headSha: string): CheckRun[] {
    const latest = new Map<string, CheckRun>();
    for (const r of this.checkRuns.filter((r) => r.headSha === headSha)) latest.set(r.name, r);
    return [...latest.values()];
  }

  /** The state of one required check on a commit: the latest check run or status of that name. */
  checkState(headSha: string, name: string): "success" | "pending" | "failure" | "missing" {
    const run = this.latestRuns(headSha).find((r) => r.name === name);
    const status = this.statuses.filter((s) => s.sha === headSha && s.context === name).at(-1);
    if (run) return run.status !== "completed" ? "pending" : passing.has(run.conclusion ?? "") ? "success" : "failure";
    if (status) return status.state === "success" ? "success" : status.state === "pending" ? "pending" : "failure";
    return "missing";
  }

  /** Why the pull request may not merge now with this method, or undefined when it may. */
  mergeRefusal(pr: PullRequestModel, method: "merge" | "squash" | "rebase"): string | undefined {
    const r = this.repository;
    if (pr.state !== "open" || pr.merged) return "Pull Request is not mergeable";
    if (pr.draft) return "Pull Request is still a draft";
    if (!{ merge: r.allowMergeCommit, squash: r.allowSquashMerge, rebase: r.allowRebaseMerge }[method]) return `${method} merges are not allowed on this repository`;
    const notGreen = r.requiredChecks.filter((c) => this.checkState(pr.headSha, c) !== "success");
    if (notGreen.length > 0) return `Required status check${notGreen.length > 1 ? "s" : ""} ${notGreen.map((c) => `"${c}" is ${this.checkState(pr.headSha, c)}`).join(", ")}.`;
    if (pr.approvals < (r.requiredApprovals ?? 0)) return `At least ${r.requiredApprovals} approving review is required by reviewers with write access.`;
    return undefined;
  }

  /** GitHub's auto-merge: every pull request with auto-merge enabled merges once nothing refuses it. */
  private autoMerge(): void {
    for (const pr of this.pulls.values()) {
      if (!pr.autoMerge || pr.merged) continue;
      const method = pr.autoMerge.mergeMethod.toLowerCase() as "merge" | "squash" | "rebase";
      if (this.mergeRefusal(pr, method) === undefined) this.merge(pr, method, pr.autoMerge.enabledBy);
    }
  }

  private merge(pr: PullRequestModel, method: "merge" | "squash" | "rebase", by: string): void {
    const base = this.branches.get(pr.baseRef)!;
    pr.mergeCommitSha = sha(`${method}:${base}:${pr.headSha}`);
    this.branches.set(pr.baseRef, pr.mergeCommitSha);
    pr.merged = true;
    pr.state = "closed";
    pr.mergeMethod = method;
    pr.mergedBy = by;
    if (this.repository.deleteBranchOnMerge && pr.headRepo === this.fullName) this.branches.delete(pr.headRef);
  }

  private repoJson() {
    const r = this.repository;
    return {
      id: 4242,
      node_id: "R_kgDOflightdeck",
      name: r.name,
      full_name: this.fullName,
      owner: { login: r.owner, type: "Organization" },
      private: true,
      default_branch: r.defaultBranch,
      allow_merge_commit: r.allowMergeCommit,
      allow_squash_merge: r.allowSquashMerge,
      allow_rebase_merge: r.allowRebaseMerge,
      allow_auto_merge: r.allowAutoMerge,
      delete_branch_on_merge: r.deleteBranchOnMerge,
    };
  }

  private pullJson(pr: PullRequestModel) {
    return {
      number: pr.number,
      node_id: pr.nodeId,
      title: pr.title,
      body: pr.body,
      state: pr.state,
      draft: pr.draft,
      merged: pr.merged,
      merge_commit_sha: pr.mergeCommitSha ?? null,
      merged_by: pr.mergedBy ? { login: pr.mergedBy } : null,
      labels: pr.labels.map((name, i) => ({ id: i + 1, name })),
      head: { ref: pr.headRef, sha: pr.headSha, repo: { full_name: pr.headRepo } },
      base: { ref: pr.baseRef, sha: this.branches.get(pr.baseRef), repo: { full_name: this.fullName } },
      auto_merge: pr.autoMerge ? { merge_method: pr.autoMerge.mergeMethod.toLowerCase(), enabled_by: { login: pr.autoMerge.enabledBy } } : null,
    };
  }
}
