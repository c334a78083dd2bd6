/**
 * Scheduled health probe (.github/workflows/health.yml): is the stack's live URL healthy, and does
 * it serve the release its state says (`status`)? A failure is told to FLIGHTDECK_NOTIFY_WEBHOOK_URL
 * (stacks/report/notice.ts) when it starts, hourly while it lasts, and its end once (what the last
 * run saw is kept beside the state: stacks/report/probe-memory.ts); every failed run exits 1, so it
 * fails visibly.
 *
 *   scripts/engine.sh tsx scripts/health-probe.ts --stack production
 */
import { backendStore } from "../stacks/backend-store";
import { openStack, projectDir } from "../stacks/workspace";
import { storeMemory } from "../stacks/report/probe-memory";
import { secretsOf } from "../stacks/records";
import { reportConfigFrom } from "../stacks/report";
import { healthProbe } from "../stacks/report/probe";
import { readStackFile } from "../stacks/stack-file";
import { status } from "../stacks/status";

export function stackArg(argv: string[]): string {
  const at = argv.indexOf("--stack");
  if (at < 0) return "production";
  const v = argv[at + 1];
  if (!v || v.startsWith("-")) throw new Error("--stack: expected a stack name, found nothing");
  return v;
}

async function main(): Promise<void> {
  const stack = stackArg(process.argv.slice(2));
  // Bad input first: a malformed webhook URL or stack file stops here with one message.
  const cfg = reportConfigFrom();
  const file = readStackFile(projectDir, stack);
  const { healthGate } = file.config;
  // What the last run saw lives beside the state (file or Postgres backend), so an outage is told
  // when it starts, hourly while it lasts, and when it ends. Elsewhere every failed run notifies.
  const store = backendStore(projectDir);
  const memory = store.besideState ? storeMemory(store, stack) : undefined;
  const result = await healthProbe(
    stack,
    async () => {
      const s = await status(stack);
      const secrets = await secretsOf(await openStack(stack), file);
      return { url: s.url, release: s.release, secrets };
    },
    { path: healthGate.path, expectedStatus: healthGate.expectedStatus, timeoutMs: Math.max(healthGate.timeoutMs, 5000) },
    cfg,
    undefined,
    memory,
  ).finally(() => store.close());
  console.log(`${result.ok ? "HEALTHY" : "UNHEALTHY"}: ${stack}: ${result.detail}`);
  if (!memory) console.log(`no memory between runs (${store.where} is not beside the state): every failed run notifies`);
  if (result.memoryProblem) console.log(`WARNING: what this run saw was not remembered: ${result.memoryProblem}`);
  if (result.notice) console.log(result.noticeProblem ? `WARNING: ${result.noticeProblem}` : `notice sent: ${result.notice}`);
  else if (result.quiet) console.log(`no notice: ${result.quiet}`);
  else if (!result.ok && !cfg.webhookUrl) console.log("no FLIGHTDECK_NOTIFY_WEBHOOK_URL: no notice sent");
  if (!result.ok) process.exitCode = 1;
}

// Run as a script; imported (by its test), it only exports.
if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`health probe: ${(err as Error).message}`); // the message, whole (a config error lists its problems below), never a stack trace
    process.exitCode = 2;
  });
}
