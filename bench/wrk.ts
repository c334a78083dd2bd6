/** wrk (the saturating HTTP load generator) around a piece of work: its figures, parsed. */
import { spawn } from "node:child_process";

export interface WrkFigures {
  requests: number;
  /** Non-2xx/3xx answers plus socket errors (connect, read, write, timeout). */
  failed: number;
  rps: number;
  p99Ms: number;
}

/** Reads wrk's report (`--latency`): requests, failures, rate and p99. */
export function parseWrk(out: string): WrkFigures {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  const p99 = /99%\s+([\d.]+)(us|ms|s)\b/.exec(out);
  const p99Ms = p99 ? Number(p99[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[p99[2]!]! : Number.NaN;
  return { requests: num(/(\d+) requests in/), failed: num(/Non-2xx or 3xx responses: (\d+)/) + socketErrors, rps: num(/Requests\/sec:\s+([\d.]+)/), p99Ms };
}

/**
 * Runs `work` under `wrk -t1 -c50` on `url`, with a second of load before and after it; wrk's
 * figures, or why wrk could not run (it is not installed).
 */
export async function withWrk<T>(url: string, work: () => Promise<T>): Promise<{ result: T; wrk: WrkFigures } | string> {
  const child = spawn("wrk", ["-t1", "-c50", "-d120s", "--latency", url], { stdio: ["ignore", "pipe", "pipe"] });
  const missing = await new Promise<string | undefined>((resolve) => {
    child.once("error", (e) => resolve(`wrk could not start (${e.message}); apt-get install wrk`));
    child.once("spawn", () => resolve(undefined));
  });
  if (missing) return missing;
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  async function stop(): Promise<WrkFigures> {
    // wrk prints its report when interrupted.
    child.kill("SIGINT");
    await exited;
    return parseWrk(out);
  }
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const result = await work();
    await new Promise((r) => setTimeout(r, 1000));
    return { result, wrk: await stop() };
  } catch (err) {
    await stop();
    throw err;
  }
}
