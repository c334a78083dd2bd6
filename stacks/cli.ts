import { Command, InvalidArgumentError } from "commander";
import * as fs from "node:fs";
import { deploy } from "./deploy";
import { driftOf } from "./drift-run";
import { formatDrift } from "./drift";
import { renderPreviewComment, scrub } from "./pr-comment";
import { previewStack, secretConfigValues } from "./preview";
import { backupStack, DEFAULT_KEEP } from "./backup";
import { release } from "./release";
import { restore } from "./restore";
import { rollback } from "./rollback";
import { upAsIs } from "./up";
import { formatEngineUpdate, formatRecord } from "./records";
import { history, recordsOf, status } from "./status";
import { computeMetrics, parseSince } from "./metrics";
import { renderMetricsSvg } from "./metrics-chart";
import { formatMetrics } from "./metrics-text";
import { describeDelivery } from "./plan";
import { readStackFile } from "./stack-file";
import { formatStep, firstLine, type StepRecord } from "./steps";
import { openStack, projectDir } from "./workspace";

const printStep = (s: StepRecord) => console.log(formatStep(s));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const stackOption = ["-s, --stack <stack>", "stack name", "local"] as const;

function parseVersion(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a version number from \`history\`, found "${v}"`);
  return n;
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number of at least 1, found "${v}"`);
  return n;
}

function engineOutput(verbose: boolean | undefined) {
  return verbose ? (s: string) => process.stdout.write(s) : undefined;
}

/** The CLI's commands and options, exported so tests can hold documents (runbooks) to them. */
export const program = new Command()
  .name("flightdeck")
  .description("Deploy, roll back and inspect Flightdeck stacks through the Pulumi Automation API.");

program
  .command("up")
  .description("Bring a stack to its config as it is (the local stack by default) and print its URL.")
  .option(...stackOption)
  .option("--refresh", "refresh first, so what changed out of band (what `drift` reports) is put back", false)
  .action(async (opts: { stack: string; refresh: boolean }) => {
    // The policy pack runs on this up like on every other the project makes. The stack keeps what
    // its slots run (infra/deployed.ts): a config change to them ships with `deploy`.
    const outputs = await upAsIs({ stack: opts.stack, refresh: opts.refresh, onStep: printStep, onEngineOutput: (s) => process.stdout.write(s) });
    const url = outputs.url?.value;
    console.log(`\n${opts.stack} is up${url ? `: ${String(url)}` : ""}`);
  });

program
  .command("down")
  .description("Destroy a stack's resources (stops local processes and the router).")
  .option(...stackOption)
  .action(async (opts: { stack: string }) => {
    const stack = await openStack(opts.stack);
    await stack.destroy({ onOutput: (s) => process.stdout.write(s), message: "down" });
    console.log(`\n${opts.stack} is down: nothing of it is running.`);
  });

program
  .command("deploy")
  .description("Deploy a release blue/green; any failure puts the last good state back.")
  .option(...stackOption)
  .option("-r, --release <release>", "release to deploy (image digest on fly, version label on local); default: the live release, with the committed config as it is now")
  .option("-v, --verbose", "show the engine's output")
  .action(async (opts: { stack: string; release?: string; verbose?: boolean }) => {
    console.log(`deploy ${opts.release ?? "the live release with the current config"} to ${opts.stack}`);
    const r = await deploy({ stack: opts.stack, release: opts.release, onStep: printStep, onEngineOutput: engineOutput(opts.verbose) });
    const verdict = {
      succeeded: `SUCCEEDED: ${r.release} is live on ${r.liveSlot}`,
      unchanged: `UNCHANGED: ${r.release} was already live on ${r.liveSlot}`,
      reverted: `REVERTED: ${r.reason}; traffic back on ${r.liveSlot}${r.trafficBackMs !== undefined ? ` ${seconds(r.trafficBackMs)} after the first failed probe` : ""}`,
      failed: `FAILED: ${r.reason}${r.reason?.startsWith("refused before") ? "" : "; the last good state is back"}`,
    }[r.outcome];
    console.log(`\n${verdict} (${seconds(r.durationMs)})`);
    if (r.outcome === "reverted" || r.outcome === "failed") process.exitCode = 1;
  });

program
  .command("rollback")
  .description("Re-apply a previous successful state from the stack's history.")
  .option(...stackOption)
  .option("--to <version>", "version from `history` (default: the last good state before the current one)", parseVersion)
  .option("-v, --verbose", "show the engine's output")
  .action(async (opts: { stack: string; to?: number; verbose?: boolean }) => {
    const r = await rollback({ stack: opts.stack, to: opts.to, onStep: printStep, onEngineOutput: engineOutput(opts.verbose) });
    const moved = r.trafficMovedMs !== undefined ? `; live traffic moved after ${seconds(r.trafficMovedMs)}` : "";
    console.log(`\nROLLED BACK to version ${r.version}: ${describeDelivery(r.to)} (${seconds(r.durationMs)}${moved})`);
  });

program
  .command("status")
  .description("Live slot, release, health and the last deployments.")
  .option(...stackOption)
  .option("--json", "print JSON")
  .action(async (opts: { stack: string; json?: boolean }) => {
    const s = await status(opts.stack);
    if (opts.json) return console.log(JSON.stringify(s, null, 2));
    console.log(`stack      ${s.stack}`);
    console.log(`url        ${s.url ?? "-"}`);
    console.log(`release    ${s.release ?? "-"} on ${s.liveSlot ?? "-"} (${s.routerSeenBy === "answers" ? "served" : "router"}: ${s.routerLiveSlot ?? "unknown"})${s.consistent ? "" : "  ← state and router disagree: run deploy or rollback"}`);
    if (s.servedDetail) console.log(`served     ${s.servedDetail}`);
    console.log(`warm       ${s.previousRelease ?? "-"}`);
    console.log(`health     ${s.healthy ? "healthy" : "UNHEALTHY"}: ${s.health}`);
    if (s.command) console.log(`${(s.command.running ? "running" : "INTERRUPTED").padEnd(10)} ${s.command.summary}`);
    console.log("last deployments:");
    for (const d of s.lastDeployments) console.log(`  ${formatRecord(d)}`);
    for (const u of s.engineHistory) console.log(`  ${formatEngineUpdate(u)}`);
    for (const u of s.unreadable) console.log(`  UNREADABLE record ${u.key}: ${u.problem}`);
    if (!s.healthy) process.exitCode = 1;
  });

program
  .command("history")
  .description("Every deploy, rollback and up with its outcome (never the engine's result), who, which commit, and delivery metrics.")
  .option(...stackOption)
  .option("--json", "print JSON: the deployment records, newest first, and the metrics")
  .action(async (opts: { stack: string; json?: boolean }) => {
    const h = await history(opts.stack);
    if (opts.json) {
      const { stack, deployments, unreadable, earlier, metrics } = h;
      return console.log(JSON.stringify({ stack, deployments, unreadable, engineHistory: earlier, metrics }, null, 2));
    }
    console.log(`${"OUTCOME".padEnd(11)} ${"KIND".padEnd(8)} ${"RELEASE".padEnd(22)} ${"STARTED".padEnd(24)} ${"DURATION".padStart(9)} ${"COMMIT".padEnd(8)} ${"DEPLOYER".padEnd(12)} ${"VER".padEnd(5)} REASON`);
    for (const d of h.deployments) console.log(formatRecord(d));
    // Updates from before records were kept: the engine's result of each update, said so.
    for (const u of h.earlier) console.log(formatEngineUpdate(u));
    for (const u of h.unreadable) console.log(`UNREADABLE record ${u.key}: ${u.problem}`);
    const m = h.metrics;
    console.log(
      `\n${m.deploys} deploys: ${m.succeeded} succeeded, ${m.reverted} reverted, ${m.failed} failed` +
        `${m.unchanged ? ` (and ${m.unchanged} unchanged)` : ""}; ${m.rollbacks} rollbacks${m.rollbacksFailed ? ` (${m.rollbacksFailed} failed)` : ""}; ` +
        `change failure rate ${(m.changeFailureRate * 100).toFixed(0)}% (${m.failedChanges} of ${m.changes} releases that took live traffic), median deploy ${seconds(m.medianDeployMs)}` +
        `${h.earlier.length ? `; the ${h.earlier.length} engine-history update(s) are not counted` : ""}`,
    );
  });

program
  .command("metrics")
  .description("DORA's four keys and deploy duration from the deployment records, each beside its record count and the team's target (docs/metrics.md).")
  .option(...stackOption)
  .option("--since <duration>", "the window, back from now: 12h, 7d, 30d, 2w (a whole number and m, h, d or w)", "30d")
  .option("--json", "print the report as JSON (MetricsReport in stacks/metrics.ts)")
  .option("--svg <file>", "also write the chart as SVG to this file")
  .action(async (opts: { stack: string; since: string; json?: boolean; svg?: string }) => {
    // A bad --since stops here, before the backend is touched.
    const sinceMs = parseSince(opts.since);
    const { records, unreadable } = await recordsOf(opts.stack, projectDir);
    const report = computeMetrics(records, { stack: opts.stack, since: opts.since, sinceMs, now: Date.now(), unreadable: unreadable.length });
    if (opts.svg) fs.writeFileSync(opts.svg, await renderMetricsSvg(report, records));
    if (opts.json) return console.log(JSON.stringify(report, null, 2));
    console.log(formatMetrics(report));
    if (opts.svg) console.log(`\nchart written to ${opts.svg}`);
  });

program
  .command("preview")
  .description("Preview stacks with the policy pack; optionally write the pull request comment (markdown, secrets redacted).")
  .option("-s, --stack <stack...>", "stack name(s)", ["local"])
  .option("--comment-file <file>", "write the rendered PR comment here")
  .option("--release <release>", "preview deploying this release (image digest) instead of the stack as it runs")
  .option("-v, --verbose", "show the engine's output")
  .action(async (opts: { stack: string[]; commentFile?: string; release?: string; verbose?: boolean }) => {
    const results = [];
    const redact: string[] = [];
    for (const name of opts.stack) {
      try {
        readStackFile(projectDir, name);
      } catch (err) {
        // The same one message in the log and the comment; the other stacks still preview.
        results.push({ stack: name, ok: false, error: (err as Error).message, summary: {}, changes: [], policyViolations: [], stdout: "" });
        console.log(`FAILED ${name}: ${(err as Error).message}`);
        continue;
      }
      const stack = await openStack(name);
      redact.push(...(await secretConfigValues(stack)));
      const r = await previewStack(stack, { onOutput: engineOutput(opts.verbose), ...(opts.release ? { release: opts.release } : {}) });
      results.push(r);
      const counts = Object.entries(r.summary).map(([k, v]) => `${k}: ${v}`).join(", ") || "no summary";
      // The same redaction as the comment's: a CI log is as public as the pull request.
      // Each violation with its message (the engine's own error lines name only the policy).
      const violations = r.policyViolations.map((v) => `\n  ${v}`).join("");
      const error = r.error ? `\n  ${r.error.split("\n").filter((l) => !/^- \[(mandatory|advisory)\]/.test(l.trim())).join("\n  ")}` : "";
      console.log(scrub(`${r.ok ? "PREVIEWED" : "FAILED"} ${name}: ${counts}; ${r.policyViolations.length} policy violation(s)${violations}${error}`, redact));
    }
    const markdown = renderPreviewComment(results, { redact });
    if (opts.commentFile) {
      fs.writeFileSync(opts.commentFile, markdown);
      console.log(`comment written to ${opts.commentFile}`);
    }
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  });

program
  .command("drift")
  .description("Refresh-preview and preview a stack without changing it; exits 1 and lists the resources when it drifted.")
  .option(...stackOption)
  .option("--no-pending", "only out-of-band changes (refresh), not pending program/config changes (preview)")
  .option("-v, --verbose", "show the engine's output")
  .action(async (opts: { stack: string; pending: boolean; verbose?: boolean }) => {
    const file = readStackFile(projectDir, opts.stack);
    const stack = await openStack(opts.stack);
    const report = await driftOf(stack, file, { includePending: opts.pending, onOutput: engineOutput(opts.verbose) });
    console.log(formatDrift(report));
    if (report.drifted.length > 0) process.exitCode = 1;
  });

program
  .command("backup")
  .description("Export a stack's state and update history to a file (secrets stay encrypted), keeping the newest --keep.")
  .option(...stackOption)
  .option("--dir <dir>", "where backups go (a folder per stack)", undefined)
  .option("--keep <count>", `backups of this stack to keep (default ${DEFAULT_KEEP})`, parseCount)
  .action(async (opts: { stack: string; dir?: string; keep?: number }) => {
    const r = await backupStack({ stack: opts.stack, dir: opts.dir, keep: opts.keep });
    const b = r.backup;
    console.log(`BACKED UP ${b.stack}: ${r.file}`);
    console.log(`  state of ${b.checkpointTime}, ${b.resources} resources, ${b.updates} update(s) of history, ${b.deploymentRecords} deployment record(s); from ${b.backend}`);
    console.log(`  ${r.kept} backup(s) of ${b.stack} kept${r.removed.length ? `, ${r.removed.length} older removed` : ""}`);
  });

program
  .command("restore")
  .description("Put a stack's state and history back from a backup file; says what it changes first. Resources keep running.")
  .option(...stackOption)
  .requiredOption("--from <file>", "the backup file (from `backup`)")
  .option("--dry-run", "only check the file and say what would change")
  .option("--allow-older", "restore even though a newer backup or a newer state in the backend exists")
  .action(async (opts: { stack: string; from: string; dryRun?: boolean; allowOlder?: boolean }) => {
    const r = await restore({ stack: opts.stack, from: opts.from, dryRun: opts.dryRun, allowOlder: opts.allowOlder, onStep: printStep });
    if (r.plan.nothingToDo) console.log(`\nUNCHANGED: the backend already holds this state of ${r.stack}`);
    else if (!r.applied) console.log(`\nDRY RUN: nothing was changed; run again without --dry-run to restore ${r.stack}`);
    else console.log(`\nRESTORED ${r.stack} from ${r.from}: ${r.resources} resources, ${r.updates} update(s) of history. Next: npm run status -- --stack ${r.stack}`);
  });

program
  .command("release")
  .description("After a succeeded production deploy: the next version from conventional commits since the last v* tag, its notes, the tag and the GitHub release (run by deploy.yml; idempotent).")
  .requiredOption("-s, --stack <stack>", "the stack whose latest succeeded deploy is released", "production")
  .option("--dry-run", "print the version and the notes; create nothing")
  .action(async (opts: { stack: string; dryRun?: boolean }) => {
    const r = await release({ stack: opts.stack, dryRun: opts.dryRun });
    if (r.nothing) return console.log(`NOTHING TO RELEASE: ${r.nothing}`);
    console.log(`${r.tag} (${r.sha.slice(0, 12)}, ${r.record.release ?? "-"})\n\n${r.notes}`);
    if (opts.dryRun) console.log(`DRY RUN: nothing was created; without --dry-run: tag ${r.tag} and its GitHub release`);
    else console.log(`${r.created ? "RELEASED" : "ALREADY RELEASED"} ${r.tag}${r.tagCreated ? "" : " (tag existed)"}: ${r.url ?? ""}`);
  });


/** Errors that are the caller's input, not a fault: their message is the whole story. */
const userErrors = new Set(["StackConfigError", "UsageError", "DeployLockedError", "RollbackTargetError", "StackSetupError", "RollbackFailedError", "StateReadError", "BackupFileError", "RestoreRefusedError"]);

/**
 * Runs the command line in `argv` as this process's command: scripts/driver.cjs calls it from the
 * compiled driver, and running this file directly (tsx stacks/cli.ts) does too. Tests import
 * `program` only, to read its commands.
 */
export function runCli(argv: readonly string[] = process.argv): void {
  // `flightdeck status | head`: a reader that stops reading is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  program.parseAsync([...argv]).catch((err: unknown) => {
    const verbose = argv.includes("--verbose") || argv.includes("-v");
    const e = err instanceof Error ? err : new Error(String(err));
    // One clear message, no stack trace: the engine's long output is reduced to its cause.
    const message = userErrors.has(e.name) ? e.message : firstLine(e);
    console.error(`\nflightdeck: ${message}`);
    if (verbose && e.stack) console.error(e.stack);
    else if (!userErrors.has(e.name)) console.error("(run again with --verbose for the details)");
    process.exitCode = 1;
  });
}

if (require.main === module) runCli();
