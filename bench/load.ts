/**
 * Steady HTTP load on one URL at a fixed rate, in its own process so the deploy being measured
 * cannot slow it down. Prints one JSON line of samples when it reads "stop" on stdin.
 * Usage: tsx bench/load.ts <url> <requests-per-second>
 */
import { Agent, request } from "undici";

export interface LoadSample {
  /** ms since the load started, when the request was sent */
  t: number;
  /** ms the answer took */
  ms: number;
  status: number;
  version?: string;
  error?: string;
}

const [url, rateArg] = process.argv.slice(2);
const rate = Number(rateArg ?? 250);
const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
const samples: LoadSample[] = [];
const started = performance.now();
let sent = 0;
let inFlight = 0;

async function one(): Promise<void> {
  const t = performance.now() - started;
  inFlight++;
  try {
    const res = await request(`${url}/version`, { dispatcher: agent, headersTimeout: 5000, bodyTimeout: 5000 });
    const body = (await res.body.json().catch(() => ({}))) as { version?: string };
    samples.push({ t, ms: performance.now() - started - t, status: res.statusCode, version: body.version });
  } catch (err) {
    samples.push({ t, ms: performance.now() - started - t, status: 0, error: (err as Error).message });
  } finally {
    inFlight--;
  }
}

// Open-loop schedule: the n-th request goes at n/rate seconds, whether or not earlier ones returned.
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - started) / 1000) * rate);
  while (sent < due) {
    sent++;
    void one();
  }
}, 2);

process.stdin.setEncoding("utf8");
process.stdin.on("data", async (d: string) => {
  if (!d.includes("stop")) return;
  clearInterval(timer);
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  process.stdout.write(`${JSON.stringify({ rate, durationMs: performance.now() - started, samples })}\n`, () => process.exit(0));
});
process.stdout.write("ready\n");
