/**
 * Scheduled health probe (.github/workflows/health.yml): is the stack's live URL healthy, and does
 * it serve the release its state says (`status`)? On failure: one notice to
 * FLIGHTDECK_NOTIFY_WEBHOOK_URL (stacks/report/notice.ts) and exit 1, so the run fails visibly.
 *
 *   scripts/engine.sh tsx scripts/health-probe.ts --stack production
 */
import { openStack, projectDir } from "../stacks/workspace";
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
  const result = await healthProbe(
    stack,
    async () => {
      const s = await status(stack);
      const secrets = await secretsOf(await openStack(stack), file);
      return { url: s.url, release: s.release, secrets };
    },
    { path: healthGate.path, expectedStatus: healthGate.expectedStatus, timeoutMs: Math.max(healthGate.timeoutMs, 5000) },
    cfg,
  );
  console.log(`${result.ok ? "HEALTHY" : "UNHEALTHY"}: ${stack}: ${result.detail}`);
  if (!result.ok) {
    console.log(cfg.webhookUrl ? (result.noticeProblem ? `WARNING: ${result.noticeProblem}` : "failure notice sent") : "no FLIGHTDECK_NOTIFY_WEBHOOK_URL: no notice sent");
    process.exitCode = 1;
  }
}

// Run as a script; imported (by its test), it only exports.
if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`health probe: ${(err as Error).message}`); // the message, whole (a config error lists its problems below), never a stack trace
    process.exitCode = 2;
  });
}
