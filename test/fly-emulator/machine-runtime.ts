import { spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import type { ImageSpec } from "./registry";

/** Marks every emulated machine process with its emulator's pid, so leftovers can be found (./sweep.ts). */
export const OWNER_ENV = "FLY_EMULATOR_OWNER";
const preload = path.join(__dirname, "netns-preload.cjs");

export interface CheckSpec {
  name: string;
  port: number;
  path: string;
  intervalMs: number;
  timeoutMs: number;
  graceMs: number;
  /** A service check decides routing; a top-level check only reports. */
  service: boolean;
}

export interface CheckResult {
  name: string;
  status: "passing" | "warning" | "critical";
  output: string;
}

/** One machine's running version: its process (restarted per policy) and its checks. */
export class MachineRuntime {
  state: "started" | "stopped" = "started";
  restarts = 0;
  readonly logs: string[] = [];
  private child?: ChildProcess;
  private readonly versionStartedAt = Date.now();
  private stopped = false;
  private readonly results = new Map<string, CheckResult>();
  private readonly timers: NodeJS.Timeout[] = [];
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    readonly addr: string,
    readonly internalPort: number,
    private readonly image: ImageSpec,
    private readonly env: Record<string, string>,
    readonly checks: CheckSpec[],
    private readonly restartAlways: boolean,
  ) {
    for (const c of checks) this.results.set(c.name, { name: c.name, status: "warning", output: "waiting for status update" });
    this.spawn();
    for (const c of checks) this.timers.push(setInterval(() => void this.runCheck(c), c.intervalMs));
  }

  private spawn(): void {
    const [cmd, ...args] = this.image.crashAtStart ? [process.execPath, "-e", "process.exit(1)"] : this.image.command;
    this.state = "started";
    const child = spawn(cmd!, args, {
      cwd: this.image.cwd,
      env: {
        ...this.env,
        NODE_OPTIONS: `--require ${preload}`,
        FLY_EMULATOR_MACHINE_ADDR: this.addr,
        ...(this.image.slowStartMs ? { FLY_EMULATOR_LISTEN_DELAY_MS: String(this.image.slowStartMs) } : {}),
        ...(this.image.crashAfterMs ? { FLY_EMULATOR_CRASH_AFTER_MS: String(this.image.crashAfterMs) } : {}),
      },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (b: Buffer) => {
      this.logs.push(b.toString());
      if (this.logs.length > 200) this.logs.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("error", (e) => this.logs.push(`spawn failed: ${e.message}`));
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.state = "stopped";
      this.logs.push(`process exited (${signal ?? `code ${code}`})`);
      if (this.stopped || !this.restartAlways) return;
      // restart.policy "always": Fly starts the machine again; a short backoff, as its init does.
      const t = setTimeout(() => {
        if (this.stopped) return;
        this.restarts++;
        this.spawn();
      }, 300);
      this.timers.push(t);
    });
  }

  private async runCheck(c: CheckSpec): Promise<void> {
    if (this.stopped) return;
    // Grace runs from the version's start, not each restart: a crash-looping machine goes critical.
    const inGrace = Date.now() - this.versionStartedAt < c.graceMs;
    const set = (ok: boolean, output: string): void => {
      this.results.set(c.name, { name: c.name, status: ok ? "passing" : inGrace ? "warning" : "critical", output });
    };
    if (this.state !== "started") return set(false, "machine is not running");
    const target = `http://${this.addr}:${c.port}${c.path}`;
    await new Promise<void>((resolve) => {
      const req = http.get(target, { timeout: c.timeoutMs, agent: false }, (res) => {
        res.resume();
        const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
        set(ok, `HTTP GET ${c.path}: ${res.statusCode} ${res.statusMessage ?? ""}`.trim());
        resolve();
      });
      req.on("timeout", () => req.destroy(new Error(`timed out after ${c.timeoutMs}ms`)));
      req.on("error", (e) => {
        set(false, `HTTP GET ${c.path}: ${e.message}`);
        resolve();
      });
    });
  }

  checkResults(): CheckResult[] {
    return [...this.results.values()];
  }

  /** In the proxy's set: running, and every service check passing. */
  routable(): boolean {
    return this.state === "started" && this.checks.filter((c) => c.service).every((c) => this.results.get(c.name)?.status === "passing");
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.agent.destroy();
    const pid = this.child?.pid;
    this.child = undefined;
    this.state = "stopped";
    if (pid) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
}
