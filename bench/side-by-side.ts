/**
 * Flightdeck's local stack and kamal-proxy side by side: the same sample app, the same saturating
 * load (wrk -t1 -c50), in the same run, through a good switch, a release that fails its health
 * check, and a release that fails after the switch. Prints failed requests and p99 for each, with
 * the ratio; writes bench/results/side-by-side.{json,md}. Skipped, saying why, where wrk is missing
 * or kamal-proxy cannot be built (no Go, or a Go module proxy that refuses it: KAMAL_PROXY_BIN).
 * Run: npm run bench (or scripts/engine.sh npx tsx bench/side-by-side.ts)
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { deploy } from "../stacks/deploy";
import { benchStack, BENCH_DELIVERY } from "./bench-stack";
import { kamalProxyBinary, KAMAL_PROXY_VERSION, startKamalProxy } from "./kamal-proxy";
import { figure, writeResults, type Figure } from "./results";
import { withWrk, type WrkFigures } from "./wrk";

const STACK = "test-bench-side-by-side";
const BASE_PORT = 19600;
const KAMAL_PORT = 19650;
const APP_PORTS = [19660, 19661, 19662, 19663];
// kamal-proxy checks the same path at the same interval as Flightdeck's gate.
const HEALTH_PATH = BENCH_DELIVERY.healthGate.path;
const HEALTH_INTERVAL_MS = BENCH_DELIVERY.healthGate.intervalMs;
const app = path.resolve(__dirname, "../examples/app/server.js");

const SCENARIOS = [
  { name: "good switch", release: "v2" },
  { name: "bad release (fails its check)", release: "v3-unhealthy" },
  { name: "post-switch failure", release: "v4-fails-after-5000ms" },
] as const;

interface Measured {
  wrk: WrkFigures;
  windowMs: number;
}

async function measured(url: string, work: () => Promise<unknown>): Promise<Measured> {
  const started = Date.now();
  const r = await withWrk(url, work);
  if (typeof r === "string") throw new Error(r);
  return { wrk: r.wrk, windowMs: Date.now() - started };
}

/** Flightdeck: the driver's deploy on a local test stack (gate, switch, 5 s bake, revert). */
async function flightdeckRuns(): Promise<Measured[]> {
  const env = await benchStack(STACK, BASE_PORT);
  try {
    const runs: Measured[] = [];
    for (const s of SCENARIOS) runs.push(await measured(`${env.url}/version`, () => deploy({ stack: STACK, release: s.release })));
    return runs;
  } finally {
    await env.cleanup();
  }
}

function startApp(release: string, port: number): ChildProcess {
  return spawn(process.execPath, [app], { env: { ...process.env, PORT: String(port), APP_VERSION: release }, stdio: "ignore" });
}

/** As `docker stop` does for Kamal: SIGTERM, then SIGKILL (the app's graceful close waits for the proxy's idle keep-alive connections). */
async function stopApp(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 2000);
  await exited;
  clearTimeout(killer);
}

/**
 * kamal-proxy as Kamal drives it: start the new release's process, `kamal-proxy deploy` it (health
 * checked, then switched), stop the old one once switched. Each scenario keeps the load for at
 * least as long as Flightdeck's took, so both are counted over the same time.
 */
async function kamalRuns(bin: string, windows: number[]): Promise<Measured[]> {
  const proxy = await startKamalProxy(bin, KAMAL_PORT);
  const apps: ChildProcess[] = [];
  try {
    let live = startApp("v1", APP_PORTS[0]!);
    apps.push(live);
    if (!(await proxy.deploy("bench", `127.0.0.1:${APP_PORTS[0]}`, HEALTH_PATH, HEALTH_INTERVAL_MS))) throw new Error("kamal-proxy: the first deploy failed");
    const runs: Measured[] = [];
    for (const [i, s] of SCENARIOS.entries()) {
      const port = APP_PORTS[i + 1]!;
      runs.push(
        await measured(`${proxy.url}/version`, async () => {
          const started = Date.now();
          const next = startApp(s.release, port);
          apps.push(next);
          if (await proxy.deploy("bench", `127.0.0.1:${port}`, HEALTH_PATH, HEALTH_INTERVAL_MS)) {
            await stopApp(live);
            live = next;
          } else {
            await stopApp(next);
          }
          // The same window as Flightdeck's scenario (withWrk adds a second on each side of both).
          const rest = windows[i]! - 2000 - (Date.now() - started);
          if (rest > 0) await new Promise((r) => setTimeout(r, rest));
        }),
      );
    }
    return runs;
  } finally {
    await Promise.all(apps.map(stopApp));
    await proxy.stop();
  }
}

const ratio = (peer: number, ours: number) => (ours === 0 ? (peer === 0 ? 1 : Number.POSITIVE_INFINITY) : peer / ours);

async function main(): Promise<void> {
  const kamal = kamalProxyBinary();
  if (typeof kamal === "string") {
    console.log(`skipped: side by side with kamal-proxy: ${kamal}`);
    return;
  }
  const ours = await flightdeckRuns();
  const peer = await kamalRuns(
    kamal.bin,
    ours.map((r) => r.windowMs),
  );
  const figures: Figure[] = [];
  const targets = ["0", "0", "≤ 100"];
  for (const [i, s] of SCENARIOS.entries()) {
    const a = ours[i]!;
    const b = peer[i]!;
    figures.push(figure(`${s.name}: Flightdeck failed requests`, a.wrk.failed, "req", targets[i]!, a.wrk.failed <= (i === 2 ? 100 : 0)));
    figures.push(figure(`${s.name}: kamal-proxy failed requests`, b.wrk.failed, "req", "report", true));
    figures.push(figure(`${s.name}: failed, kamal-proxy ÷ Flightdeck`, ratio(b.wrk.failed, a.wrk.failed), "×", "report", true));
    figures.push(figure(`${s.name}: Flightdeck p99`, a.wrk.p99Ms, "ms", "report", true));
    figures.push(figure(`${s.name}: kamal-proxy p99`, b.wrk.p99Ms, "ms", "report", true));
    figures.push(figure(`${s.name}: Flightdeck requests/s`, Math.round(a.wrk.rps), "/s", "report", true));
    figures.push(figure(`${s.name}: kamal-proxy requests/s`, Math.round(b.wrk.rps), "/s", "report", true));
  }
  writeResults(
    "side-by-side",
    `Flightdeck and kamal-proxy ${KAMAL_PROXY_VERSION} side by side`,
    `wrk -t1 -c50 over loopback on /version of the same sample app (examples/app), each scenario counted over the same window for both`,
    figures,
    { windowsMs: ours.map((r) => r.windowMs), flightdeck: ours.map((r) => r.wrk), kamalProxy: peer.map((r) => r.wrk) },
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
