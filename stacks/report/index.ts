import { commitOf, type Outcome } from "../records";
import { scrub } from "../pr-comment";
import { firstLine, type StepLog } from "../steps";
import type { ReportConfig } from "./config";
import { GitHubDeployments, type DeploymentState, type RetryOptions } from "./github-deployments";
import { noticePayload, sendNotice, type SendOptions } from "./notice";

export { reportConfigFrom, type ReportConfig } from "./config";

/** How a deploy or rollback ended, as the driver decided it (the record's facts). */
export interface ReportEnd {
  outcome: Outcome;
  release?: string;
  previousRelease?: string;
  liveSlot?: string;
  reason?: string;
  /** The stack's live URL (its `url` output), for the status's environment_url. */
  environmentUrl?: string;
}

/**
 * Tells the outside world about one driver run: a GitHub deployment whose status follows the run
 * (in_progress, then success or failure from the driver's outcome), and one notice when it failed
 * or was reverted. Nothing here can fail or hold the run: every problem becomes a step note.
 */
export interface DeliveryReporter {
  /** Once the lock is held. */
  started(release?: string): Promise<void>;
  /** Once, at the end; `secrets` are scrubbed from everything sent. */
  finished(end: ReportEnd, secrets: () => Promise<string[]>): Promise<void>;
}

export interface ReporterOptions {
  stack: string;
  kind: "deploy" | "rollback";
  workDir: string;
  /** Test knobs: how hard to try before giving up. */
  github?: RetryOptions;
  notice?: SendOptions;
}

const SUCCESS: ReadonlySet<Outcome> = new Set(["succeeded", "unchanged", "rolled back"]);

/** What users get now, from the driver's facts (every failure path puts the last good release back). */
export function liveNowOf(end: ReportEnd): string {
  const on = end.liveSlot ? ` on ${end.liveSlot}` : "";
  if (SUCCESS.has(end.outcome)) return `${end.release ?? "unknown"}${on}`;
  if (end.previousRelease) return `${end.previousRelease}${on} (what ran before)`;
  // A failed first deploy: after its switch it stays (nothing earlier exists); before it, nothing runs.
  if (end.liveSlot && end.release) return `${end.release}${on} (a first deploy: nothing earlier to go back to)`;
  return "nothing known to be live: check `npm run status`";
}

function describe(kind: ReporterOptions["kind"], end: ReportEnd): string {
  const on = end.liveSlot ? ` on ${end.liveSlot}` : "";
  switch (end.outcome) {
    case "succeeded":
      return `${end.release} live${on}`;
    case "unchanged":
      return `${end.release} already live${on}; nothing changed`;
    case "rolled back":
      return `rolled back: ${end.release} live${on}${end.reason ? ` (${end.reason})` : ""}`;
    default:
      return `${kind} ${end.outcome}: ${end.reason ?? "no reason given"}`;
  }
}

export function deliveryReporter(cfg: ReportConfig, log: StepLog, opts: ReporterOptions): DeliveryReporter {
  const github = cfg.github ? new GitHubDeployments(cfg.github, opts.github) : undefined;
  let deploymentId: number | undefined;
  let done = false;

  return {
    async started(release) {
      if (!github) {
        if (cfg.githubSkipped) log.note("github", cfg.githubSkipped);
        return;
      }
      const sha = commitOf(opts.workDir)?.sha;
      if (!sha) return log.note("github", "no commit to name (not a git checkout, no GITHUB_SHA): no GitHub deployment");
      try {
        deploymentId = await github.create({
          environment: opts.stack,
          ref: sha,
          description: `${opts.kind}${release ? ` ${release}` : ""} by Flightdeck`,
          production: opts.stack === "production",
        });
        await github.setStatus(deploymentId, "in_progress", { description: `${opts.kind} started`, logUrl: cfg.runUrl });
      } catch (err) {
        log.note("github", `WARNING: ${firstLine(err)}; the ${opts.kind} goes on without a GitHub deployment status`);
      }
    },

    async finished(end, secrets) {
      if (done) return; // one status and at most one notice per run, whatever calls this twice
      done = true;
      const failed = !SUCCESS.has(end.outcome);
      if (!(github && deploymentId !== undefined) && !(failed && cfg.webhookUrl)) return;
      let hidden: string[] = [];
      try {
        hidden = await secrets();
      } catch (err) {
        // Without the secrets nothing free-form can be sent: the outcome alone still can.
        log.note("report", `secret values unreadable (${firstLine(err)}): reasons left out of the status and notice`);
        end = { ...end, reason: "(reason withheld: see the run's log)" };
      }
      if (github && deploymentId !== undefined) await reportStatus(github, deploymentId, end, hidden);
      if (failed && cfg.webhookUrl) {
        const payload = noticePayload(
          {
            stack: opts.stack,
            headline: `${opts.kind} ${end.outcome}`,
            release: end.release,
            reason: end.reason ?? "no reason given",
            liveNow: liveNowOf(end),
            runUrl: cfg.runUrl,
          },
          hidden,
        );
        const problem = await sendNotice(cfg.webhookUrl, payload, opts.notice);
        log.note("notice", problem ? `WARNING: ${problem}` : `failure notice sent to ${new URL(cfg.webhookUrl).host}`);
      }
    },
  };

  async function reportStatus(gh: GitHubDeployments, id: number, end: ReportEnd, hidden: string[]): Promise<void> {
    const state: DeploymentState = SUCCESS.has(end.outcome) ? "success" : "failure";
    // Scrubbed before it is clipped: a cut could leave part of a secret no longer matching it.
    const description = scrub(describe(opts.kind, end), hidden);
    try {
      await gh.setStatus(id, state, { description, environmentUrl: end.environmentUrl, logUrl: cfg.runUrl });
      if (state !== "success") return; // what ran before is still live: its deployment stays success
      // GitHub inactivates earlier deployments by itself only outside production environments (and
      // the status above turns that off): what this run replaced is marked here, everywhere alike.
      for (const replaced of await gh.successful(opts.stack, id)) {
        await gh.setStatus(replaced, "inactive", { description: `replaced by deployment ${id} (${end.outcome})`, logUrl: cfg.runUrl });
      }
    } catch (err) {
      log.note("github", `WARNING: ${firstLine(err)}; the ${opts.kind} itself ${end.outcome}`);
    }
  }
}
