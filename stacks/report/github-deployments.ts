import { Octokit } from "@octokit/rest";
import type { ReportConfig } from "./config";

/** GitHub's limit on a deployment status's description. */
export const DESCRIPTION_MAX = 140;

export type DeploymentState = "in_progress" | "success" | "failure" | "error" | "inactive";

/** Text cut to `max` characters, marked with an ellipsis when cut. */
export function clip(text: string, max = DESCRIPTION_MAX): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

export interface RetryOptions {
  /** Attempts after the first, on a 5xx or a network error. @default 2 */
  retries?: number;
  /** The first wait; doubled each time. @default 500 */
  backoffMs?: number;
  /** Per request: a hung API never holds a deploy. @default 10000 */
  timeoutMs?: number;
  /** Time spent in requests of one run, waits included (not the deploy between them): then the rest are skipped. @default 60000 */
  budgetMs?: number;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown }).status;
  return typeof s === "number" ? s : undefined;
}

/** A 4xx is GitHub saying no (a retry gets the same answer); a 5xx or no answer may pass next time. */
function retryable(err: unknown): boolean {
  const s = statusOf(err);
  return s === undefined || s >= 500;
}

/**
 * One repository's deployments. Every call either succeeds or throws an Error whose message is
 * safe to print (no headers: Octokit's errors carry the request, with the token in it).
 */
export class GitHubDeployments {
  private readonly octokit: Octokit;
  private readonly retry: Required<RetryOptions>;
  /** ms spent in calls so far: the budget counts GitHub's time, never the deploy's. */
  private spent = 0;

  constructor(
    private readonly cfg: NonNullable<ReportConfig["github"]>,
    opts: RetryOptions = {},
  ) {
    // Octokit's own logging is off: a failed request becomes one step note (below), never loose console lines.
    const quiet = () => undefined;
    this.octokit = new Octokit({ auth: cfg.token, baseUrl: cfg.apiUrl, userAgent: "flightdeck-driver", log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
    this.retry = { retries: opts.retries ?? 2, backoffMs: opts.backoffMs ?? 500, timeoutMs: opts.timeoutMs ?? 10_000, budgetMs: opts.budgetMs ?? 60_000 };
  }

  private async call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const began = Date.now();
    try {
      return await this.attempts(what, fn, began);
    } finally {
      this.spent += Date.now() - began;
    }
  }

  private async attempts<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, began: number): Promise<T> {
    const deadline = began + this.retry.budgetMs - this.spent;
    for (let attempt = 0; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: skipped, the GitHub API took its ${this.retry.budgetMs} ms for this run`);
      try {
        return await fn(AbortSignal.timeout(Math.min(this.retry.timeoutMs, left)));
      } catch (err) {
        if (attempt >= this.retry.retries || !retryable(err) || deadline - Date.now() <= this.retry.backoffMs * 2 ** attempt) {
          const s = statusOf(err);
          throw new Error(`${what}: ${s !== undefined ? `HTTP ${s} ` : ""}${(err as Error).message.split("\n")[0]}`);
        }
        await new Promise((r) => setTimeout(r, this.retry.backoffMs * 2 ** attempt));
      }
    }
  }

  /**
   * A deployment of exactly `ref` (a commit SHA) to `environment`. `auto_merge: false`: by default
   * GitHub first merges the default branch into the ref when the ref is behind it, which would
   * describe (or create) a commit other than the one the driver ran. `required_contexts: []`: by
   * default GitHub refuses (409) until every commit status on the ref is success, and the deploy
   * job that creates this deployment is itself still pending on that commit; the workflow's
   * `needs:` and the environment's protection rules are what gate a deploy, not this call.
   */
  async create(p: { environment: string; ref: string; description: string; production: boolean }): Promise<number> {
    const res = await this.call("create deployment", (signal) =>
      this.octokit.rest.repos.createDeployment({
        owner: this.cfg.owner,
        repo: this.cfg.repo,
        ref: p.ref,
        environment: p.environment,
        description: clip(p.description),
        auto_merge: false,
        required_contexts: [],
        transient_environment: false,
        production_environment: p.production,
        request: { signal },
      }),
    );
    const data = res.data as { id?: unknown; message?: unknown };
    // 202 is GitHub's "merged the default branch instead" answer, impossible with auto_merge off.
    if (typeof data.id !== "number") throw new Error(`create deployment: no deployment created (${String(data.message ?? res.status)})`);
    return data.id;
  }

  async setStatus(id: number, state: DeploymentState, p: { description: string; environmentUrl?: string; logUrl?: string }): Promise<void> {
    await this.call(`deployment ${id} → ${state}`, (signal) =>
      this.octokit.rest.repos.createDeploymentStatus({
        owner: this.cfg.owner,
        repo: this.cfg.repo,
        deployment_id: id,
        state,
        description: clip(p.description),
        ...(p.environmentUrl ? { environment_url: p.environmentUrl } : {}),
        ...(p.logUrl ? { log_url: p.logUrl } : {}),
        // Off, not GitHub's default (on): GitHub's pass skips production environments, so the
        // driver marks what a success replaced itself, the same way everywhere, and once.
        ...(state === "success" ? { auto_inactive: false } : {}),
        request: { signal },
      }),
    );
  }

  /**
   * The deployments to `environment`, other than `except`, whose latest status is success: what
   * was live before the deployment `except` (normally one; more when earlier runs could not mark
   * theirs). Looks at the last 20 only (a page).
   */
  async successful(environment: string, except: number): Promise<number[]> {
    const list = await this.call("list deployments", (signal) =>
      this.octokit.rest.repos.listDeployments({ owner: this.cfg.owner, repo: this.cfg.repo, environment, per_page: 20, request: { signal } }),
    );
    const found: number[] = [];
    for (const d of list.data) {
      if (d.id === except) continue;
      const statuses = await this.call(`statuses of deployment ${d.id}`, (signal) =>
        this.octokit.rest.repos.listDeploymentStatuses({ owner: this.cfg.owner, repo: this.cfg.repo, deployment_id: d.id, per_page: 1, request: { signal } }),
      );
      const latest = statuses.data[0]?.state;
      // One already inactive, or failed, is not live: nothing to mark.
      if (latest === "success") found.push(d.id);
    }
    return found;
  }
}
