import { probeHttp, servesRelease } from "../../components/bluegreen/probe";
import type { ReportConfig } from "./config";
import { noticePayload, sendNotice, type SendOptions } from "./notice";

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
  /** Why the failure notice was not delivered, when it was not. */
  noticeProblem?: string;
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
 * One scheduled probe of a stack: on failure, one notice (the same kind a failed deploy sends).
 * `target` may throw (the backend cannot be read): that is a failure to report too, since nobody
 * can then tell whether production is healthy.
 */
export async function healthProbe(
  stack: string,
  target: () => Promise<ProbeTarget>,
  check: HealthCheck,
  cfg: ReportConfig,
  notice?: SendOptions,
): Promise<ProbeResult> {
  let t: ProbeTarget | undefined;
  let result: { ok: boolean; detail: string };
  try {
    t = await target();
    result = await checkLive(t, check);
  } catch (err) {
    result = { ok: false, detail: `could not read the stack's status: ${(err as Error).message.split("\n")[0]}` };
  }
  if (result.ok || !cfg.webhookUrl) return result;
  const payload = noticePayload(
    {
      stack,
      headline: "health probe failed",
      release: t?.release,
      reason: result.detail,
      liveNow: t?.release ? `${t.release} (per the stack's state) at ${t.url ?? "no URL"}` : "unknown",
      runUrl: cfg.runUrl,
    },
    t?.secrets ?? [],
  );
  const noticeProblem = await sendNotice(cfg.webhookUrl, payload, notice);
  return { ...result, ...(noticeProblem ? { noticeProblem } : {}) };
}
