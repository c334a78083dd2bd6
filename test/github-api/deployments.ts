/**
 * GitHub deployments and deployment statuses on the GitHub API test server, installed with its
 * `route()`: what the driver's reporter (stacks/report/) calls, with GitHub's documented behaviour.
 *
 * - `repos/create-deployment`: the ref must name a branch or a commit the repository has (422
 *   otherwise). Without `required_contexts`, GitHub verifies every unique commit-status context on
 *   the ref and refuses with 409 unless all are success; `[]` skips the check. With `auto_merge`
 *   (default true) and a ref behind the default branch, GitHub merges the default branch into it
 *   and answers 202 with a message instead of creating a deployment. `production_environment`
 *   defaults to true for the environment named `production`.
 * - `repos/create-deployment-status`: a description of more than 140 characters is refused (422).
 *   `auto_inactive` (default true) adds an `inactive` status to every earlier deployment of the
 *   same environment that is neither transient nor production and whose latest state is success.
 * - `repos/list-deployments` (filters sha, ref, task, environment) and
 *   `repos/list-deployment-statuses`: newest first, paged.
 */
import type { MatchedOperation } from "./openapi";
import { HttpError, type GitHubApiServer } from "./server";

export type DeploymentStateName = "error" | "failure" | "inactive" | "in_progress" | "queued" | "pending" | "success";

export interface DeploymentStatusModel {
  id: number;
  state: DeploymentStateName;
  description: string;
  environmentUrl: string;
  logUrl: string;
  createdAt: string;
}

export interface DeploymentModel {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string | null;
  transientEnvironment: boolean;
  productionEnvironment: boolean;
  createdAt: string;
  /** Oldest first (the API lists them newest first). */
  statuses: DeploymentStatusModel[];
}

export class DeploymentsModel {
  readonly deployments: DeploymentModel[] = [];
  /** Commits the repository has besides its branch heads (what the driver deploys from). */
  readonly commits = new Set<string>();
  /** Commit-status contexts per SHA and their states: what a deployment without required_contexts waits for. */
  readonly contexts = new Map<string, Record<string, string>>();
  /** While true every deployments request answers 503: GitHub having a bad day. */
  outage = false;
  private nextId = 5000;
  private clock = Date.parse("2026-12-01T12:00:00Z");

  constructor(private readonly server: GitHubApiServer) {}

  /** The states of a deployment, oldest first. */
  statesOf(id: number): DeploymentStateName[] {
    return this.get(id).statuses.map((s) => s.state);
  }

  /** The deployments of an environment, oldest first. */
  of(environment: string): DeploymentModel[] {
    return this.deployments.filter((d) => d.environment === environment);
  }

  get(id: number): DeploymentModel {
    const d = this.deployments.find((x) => x.id === id);
    if (!d) throw new HttpError(404, "Not Found");
    return d;
  }

  /** Timestamps that strictly increase: newest-first order never depends on a tie. */
  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private resolve(ref: string): string | undefined {
    const head = this.server.branches.get(ref);
    if (head) return head;
    const lower = ref.toLowerCase();
    if (this.commits.has(lower) || [...this.server.branches.values()].includes(lower)) return lower;
    return undefined;
  }

  private apiBase(): string {
    return `${this.server.url}/repos/${this.server.fullName}`;
  }

  deploymentJson(d: DeploymentModel): Record<string, unknown> {
    return {
      url: `${this.apiBase()}/deployments/${d.id}`,
      id: d.id,
      node_id: `DE_${Buffer.from(String(d.id)).toString("base64url")}`,
      sha: d.sha,
      ref: d.ref,
      task: d.task,
      payload: {},
      original_environment: d.environment,
      environment: d.environment,
      description: d.description,
      creator: { login: this.server.login },
      created_at: d.createdAt,
      updated_at: d.statuses.at(-1)?.createdAt ?? d.createdAt,
      statuses_url: `${this.apiBase()}/deployments/${d.id}/statuses`,
      repository_url: this.apiBase(),
      transient_environment: d.transientEnvironment,
      production_environment: d.productionEnvironment,
    };
  }

  statusJson(d: DeploymentModel, s: DeploymentStatusModel): Record<string, unknown> {
    return {
      url: `${this.apiBase()}/deployments/${d.id}/statuses/${s.id}`,
      id: s.id,
      node_id: `DES_${Buffer.from(String(s.id)).toString("base64url")}`,
      state: s.state,
      creator: { login: this.server.login },
      description: s.description,
      environment: d.environment,
      target_url: s.logUrl,
      log_url: s.logUrl,
      environment_url: s.environmentUrl,
      created_at: s.createdAt,
      updated_at: s.createdAt,
      deployment_url: `${this.apiBase()}/deployments/${d.id}`,
      repository_url: this.apiBase(),
    };
  }

  private up(): void {
    if (this.outage) throw new HttpError(503, "Service Unavailable");
  }

  create = (_op: MatchedOperation, body: Record<string, unknown> | undefined): [number, unknown] => {
    this.up();
    const b = body as { ref: string; task?: string; auto_merge?: boolean; required_contexts?: string[]; environment?: string; description?: string | null; transient_environment?: boolean; production_environment?: boolean };
    const sha = this.resolve(b.ref);
    if (!sha) throw new HttpError(422, `No ref found for: ${b.ref}`);
    const defaultHead = this.server.branches.get(this.server.repository.defaultBranch)!;
    if ((b.auto_merge ?? true) && sha !== defaultHead && b.ref !== this.server.repository.defaultBranch) {
      return [202, { message: `Auto-merged ${this.server.repository.defaultBranch} into ${b.ref} on deployment.` }];
    }
    const contexts = this.contexts.get(sha) ?? {};
    const required = b.required_contexts ?? Object.keys(contexts);
    const unmet = required.filter((c) => contexts[c] !== "success");
    if (unmet.length > 0) throw new HttpError(409, `Conflict: Commit status checks failed for ${b.ref}. (${unmet.join(", ")})`);
    const environment = b.environment ?? "production";
    const d: DeploymentModel = {
      id: this.nextId++,
      sha,
      ref: b.ref,
      task: b.task ?? "deploy",
      environment,
      description: b.description ?? "",
      transientEnvironment: b.transient_environment ?? false,
      productionEnvironment: b.production_environment ?? environment === "production",
      createdAt: this.now(),
      statuses: [],
    };
    this.deployments.push(d);
    return [201, this.deploymentJson(d)];
  };

  createStatus = (op: MatchedOperation, body: Record<string, unknown> | undefined): [number, unknown] => {
    this.up();
    const d = this.get(Number(op.params.deployment_id));
    const b = body as { state: DeploymentStateName; description?: string; environment_url?: string; log_url?: string; target_url?: string; auto_inactive?: boolean };
    const description = b.description ?? "";
    if (description.length > 140) throw new HttpError(422, "Validation Failed: description is too long (maximum is 140 characters)");
    const s: DeploymentStatusModel = {
      id: this.nextId++,
      state: b.state,
      description,
      environmentUrl: b.environment_url ?? "",
      logUrl: b.log_url ?? b.target_url ?? "",
      createdAt: this.now(),
    };
    d.statuses.push(s);
    if (s.state === "success" && (b.auto_inactive ?? true)) {
      for (const prior of this.of(d.environment)) {
        if (prior.id >= d.id || prior.transientEnvironment || prior.productionEnvironment) continue;
        if (prior.statuses.at(-1)?.state !== "success") continue;
        prior.statuses.push({ id: this.nextId++, state: "inactive", description: "", environmentUrl: "", logUrl: "", createdAt: this.now() });
      }
    }
    return [201, this.statusJson(d, s)];
  };

  list = (_op: MatchedOperation, _body: unknown, query: URLSearchParams): [number, unknown] => {
    this.up();
    const filters: Array<[string, (d: DeploymentModel) => string]> = [
      ["sha", (d) => d.sha],
      ["ref", (d) => d.ref],
      ["task", (d) => d.task],
      ["environment", (d) => d.environment],
    ];
    const hits = this.deployments.filter((d) => filters.every(([k, f]) => !query.has(k) || f(d) === query.get(k))).reverse();
    return [200, page(hits, query).map((d) => this.deploymentJson(d))];
  };

  listStatuses = (op: MatchedOperation, _body: unknown, query: URLSearchParams): [number, unknown] => {
    this.up();
    const d = this.get(Number(op.params.deployment_id));
    return [200, page([...d.statuses].reverse(), query).map((s) => this.statusJson(d, s))];
  };
}

function page<T>(items: T[], query: URLSearchParams): T[] {
  const perPage = Math.min(100, Number(query.get("per_page") ?? 30));
  const n = Number(query.get("page") ?? 1);
  return items.slice((n - 1) * perPage, n * perPage);
}

/** Serves the deployment operations on `server`; returns the model a test reads and steers. */
export function installDeployments(server: GitHubApiServer): DeploymentsModel {
  const model = new DeploymentsModel(server);
  server
    .route("repos/create-deployment", model.create)
    .route("repos/create-deployment-status", model.createStatus)
    .route("repos/list-deployments", model.list)
    .route("repos/list-deployment-statuses", model.listStatuses);
  return model;
}
