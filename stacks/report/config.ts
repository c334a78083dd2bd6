import { runUrlOf } from "../records";
import { UsageError } from "../usage-error";

/**
 * Where a deploy, rollback or probe reports to, read from the environment as GitHub Actions sets
 * it. Read before the lock is taken, so a malformed value stops the command before anything
 * changes, with one message naming the variable.
 */
export interface ReportConfig {
  /** Absent outside Actions (no GITHUB_REPOSITORY): no deployment statuses. */
  github?: { token: string; owner: string; repo: string; apiUrl: string };
  /** The CI run, for a status's log_url and a notice's link. */
  runUrl?: string;
  /** Absent: failures are not announced anywhere but the job's own log. */
  webhookUrl?: string;
  /** Why GitHub deployments are not reported, when they are not (said once, as a step note). */
  githubSkipped?: string;
}

type Env = Record<string, string | undefined>;

/** `secret`: the value is a credential (a webhook URL is one), so only its first characters are named. */
function httpUrl(name: string, value: string, secret = false): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`${name}: expected an http(s) URL, found ${secret || value.length > 60 ? `"${value.slice(0, 12)}"…` : JSON.stringify(value)}`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new UsageError(`${name}: expected an http(s) URL, found a ${u.protocol} URL`);
  return value;
}

export function reportConfigFrom(env: Env = process.env): ReportConfig {
  // The webhook URL is a secret (it is the credential): never echo it whole in the error.
  const webhook = env.FLIGHTDECK_NOTIFY_WEBHOOK_URL?.trim() || undefined;
  const webhookUrl = webhook ? httpUrl("FLIGHTDECK_NOTIFY_WEBHOOK_URL", webhook, true) : undefined;
  if (env.GITHUB_SERVER_URL) httpUrl("GITHUB_SERVER_URL", env.GITHUB_SERVER_URL);
  const repository = env.GITHUB_REPOSITORY?.trim();
  const runUrl = runUrlOf(env);
  const base = { ...(runUrl ? { runUrl } : {}), ...(webhookUrl ? { webhookUrl } : {}) };
  if (!repository) return { ...base, githubSkipped: "no GITHUB_REPOSITORY (not in GitHub Actions): no GitHub deployment status reported" };
  const [owner, repo, ...rest] = repository.split("/");
  if (!owner || !repo || rest.length > 0) throw new UsageError(`GITHUB_REPOSITORY: expected owner/name, found ${JSON.stringify(repository)}`);
  const apiUrl = httpUrl("GITHUB_API_URL", env.GITHUB_API_URL?.trim() || "https://api.github.com").replace(/\/$/, "");
  const token = env.GITHUB_TOKEN?.trim();
  if (!token) return { ...base, githubSkipped: "no GITHUB_TOKEN: no GitHub deployment status reported" };
  return { ...base, github: { token, owner, repo, apiUrl } };
}
