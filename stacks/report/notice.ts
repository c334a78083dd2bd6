import { scrubDeep } from "../records";

/** What went wrong, as a person on call needs it: enough to act without opening the log first. */
export interface NoticeFacts {
  stack: string;
  /** `deploy reverted`, `rollback failed`, `health probe failed`. */
  headline: string;
  release?: string;
  reason: string;
  /** What users get now. */
  liveNow: string;
  runUrl?: string;
}

/** Slack's incoming-webhook payload: `text` for notifications and clients without blocks. */
export interface NoticePayload {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

export const rollbackCommand = (stack: string) => `npm run rollback -- --stack ${stack}`;

/** The payload, every string scrubbed of the stack's secret values. Pure. */
export function noticePayload(f: NoticeFacts, secrets: readonly string[]): NoticePayload {
  const title = `Flightdeck: ${f.stack} ${f.headline}`;
  const lines = [
    `*Release:* ${f.release ?? "-"}`,
    `*Reason:* ${f.reason}`,
    `*Live now:* ${f.liveNow}`,
    `*Roll back:* \`${rollbackCommand(f.stack)}\``,
    ...(f.runUrl ? [`*Run:* ${f.runUrl}`] : []),
  ];
  const payload: NoticePayload = {
    text: `${title}: ${f.reason}. Live now: ${f.liveNow}. Roll back: ${rollbackCommand(f.stack)}`,
    blocks: [
      // Slack caps a header at 150 characters and a section's text at 3000.
      { type: "header", text: { type: "plain_text", text: title.slice(0, 150) } },
      { type: "section", text: { type: "mrkdwn", text: lines.join("\n").slice(0, 3000) } },
    ],
  };
  return scrubDeep(payload, secrets);
}

export interface SendOptions {
  /** Attempts in all. @default 3 */
  attempts?: number;
  /** The first wait between attempts; doubled each time. @default 1000 */
  backoffMs?: number;
  /** Everything, waits included: a webhook never holds a deploy longer. @default 20000 */
  budgetMs?: number;
}

/**
 * Posts the payload; retries a 5xx, 429 or no answer with backoff inside a fixed time budget.
 * Returns undefined when delivered, else why not (for a step note): never throws.
 */
export async function sendNotice(webhookUrl: string, payload: NoticePayload, opts: SendOptions = {}): Promise<string | undefined> {
  const attempts = opts.attempts ?? 3;
  const deadline = Date.now() + (opts.budgetMs ?? 20_000);
  let why = "not sent";
  for (let i = 0; i < attempts; i++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const res = await fetch(webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(Math.min(left, 10_000)),
      });
      await res.text().catch(() => "");
      if (res.ok) return undefined;
      why = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429) break; // refused: the same body is refused again
    } catch (err) {
      const e = err as Error & { cause?: Error };
      why = e.name === "TimeoutError" ? "no answer in time" : (e.cause?.message ?? e.message);
    }
    const wait = (opts.backoffMs ?? 1000) * 2 ** i;
    if (i + 1 < attempts && Date.now() + wait < deadline) await new Promise((r) => setTimeout(r, wait));
    else if (i + 1 < attempts) break;
  }
  // The URL is the webhook's credential: only its host is ever named.
  return `notice to ${new URL(webhookUrl).host} not delivered (${why})`;
}
