import { probeHttp, servesRelease } from "../../components/bluegreen/probe";
import type { ReportConfig } from "./config";
import { noticePayload, sendNotice, type SendOptions } from "./notice";
import { nextState, noticeFor, REMIND_EVERY_MS, type NoticeKind, type ProbeMemory } from "./probe-memory";

/** What production should be: where it answers and the release it should serve (from `status`). */
export interface ProbeTarget {
  url?: string;
  release?: string;
  /** The stack's secret config values, scrubbed from the notice. */
  secrets: string[];
}

export interface HealthCheck {
  path: string;
  expectedStatus: number;
  timeoutMs: number;
}

export interface ProbeResult {
  ok: boolean;
  /** One line: what was checked and what was found. */
  detail: string;
  /** Why the notice was not delivered, when it was not. */
  noticeProblem?: string;
  /** The notice this run sent (or tried to): a failure starting, a reminder, a recovery. */
  notice?: NoticeKind;
  /** Why a failing run sent none: the failure was told already (with the memory). */
  quiet?: string;
  /** Why what this run saw could not be remembered, when it could not (the next run then notifies again). */
  memoryProblem?: string;
}

/** The live URL's health endpoint and the release it serves; every problem, not just the first. */
export async function checkLive(target: Omit<ProbeTarget, "secrets">, check: HealthCheck): Promise<{ ok: boolean; detail: string }> {
  if (!target.url) return { ok: false, detail: "the stack has no live URL (nothing deployed?)" };
  const base = target.url.replace(/\/$/, "");
  const problems: string[] = [];
  const health = await probeHttp(`${base}${check.path}`, { expectedStatus: check.expectedStatus, timeoutMs: check.timeoutMs });
  if (!health.ok) problems.push(`${check.path}: ${health.detail} (expected HTTP ${check.expectedStatus})`);
  if (target.release) {
    const serves = await servesRelease(base, target.release, check.timeoutMs);
    if (!serves.ok) problems.push(`release: ${serves.detail}`);
  } else problems.push("the stack's state names no release");
  return problems.length === 0
    ? { ok: true, detail: `${base}${check.path} healthy, serving ${target.release}` }
    : { ok: false, detail: `${base}: ${problems.join("; ")}` };
}

/**
 * One scheduled probe of a stack. Without `memory`, every failed run sends a notice (the same kind
 * a failed deploy sends). With it, a failure is told when it starts, again every hour while it
 * lasts, and its end is told once. `target` may throw (the backend cannot be read): that is a
 * failure to report too, since nobody can then tell whether production is healthy.
 */
export async function healthProbe(
  stack: string,
  target: () => Promise<ProbeTarget>,
  check: HealthCheck,
  cfg: ReportConfig,
  notice?: SendOptions,
  memory?: ProbeMemory,
  now: () => Date = () => new Date(),
): Promise<ProbeResult> {
  let t: ProbeTarget | undefined;
  let result: { ok: boolean; detail: string };
  try {
    t = await target();
    result = await checkLive(t, check);
  } catch (err) {
    result = { ok: false, detail: `could not read the stack's status: ${(err as Error).message.split("\n")[0]}` };
  }
  const at = now();
  const prev = memory ? await memory.read() : undefined;
  const kind = memory ? noticeFor(prev, result.ok, at) : result.ok ? undefined : "failed";
  let noticeProblem: string | undefined;
  if (kind && cfg.webhookUrl) {
    const since = prev && !prev.ok ? prev.since : undefined;
    const payload = noticePayload(
      {
        stack,
        headline: kind === "failed" ? "health probe failed" : kind === "still failing" ? `health probe still failing (since ${since})` : "health probe: healthy again",
        release: t?.release,
        reason: kind === "recovered" ? `${result.detail} (it had failed since ${since})` : result.detail,
        liveNow: t?.release ? `${t.release} (per the stack's state) at ${t.url ?? "no URL"}` : "unknown",
        runUrl: cfg.runUrl,
      },
      t?.secrets ?? [],
    );
    noticeProblem = await sendNotice(cfg.webhookUrl, payload, notice);
  }
  let memoryProblem: string | undefined;
  if (memory) {
    const delivered = kind !== undefined && cfg.webhookUrl !== undefined && noticeProblem === undefined;
    await memory.write(nextState(prev, result.ok, at, kind, delivered)).catch((err: Error) => (memoryProblem = `${memory.where}: ${err.message.split("\n")[0]}`));
  }
  const quiet = !result.ok && !kind && prev?.notifiedAt ? `told at ${prev.notifiedAt} (failing since ${prev.since}); the next reminder after ${REMIND_EVERY_MS / 60_000} minutes` : undefined;
  return {
    ...result,
    ...(kind && cfg.webhookUrl ? { notice: kind } : {}),
    ...(noticeProblem ? { noticeProblem } : {}),
    ...(quiet ? { quiet } : {}),
    ...(memoryProblem ? { memoryProblem } : {}),
  };
}
