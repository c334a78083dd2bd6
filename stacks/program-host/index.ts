import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectDir } from "../project-dir";
import { engineEnv } from "../workspace";

/** The host's script, beside this module in the driver's sources (found from the project: the driver may run bundled elsewhere). */
const HOST_SCRIPT = path.join(projectDir, "stacks", "program-host", "host.cjs");

/**
 * The driver's program hosts (host.cjs): warm Node.js processes that run the project's program for
 * the engine (`pulumi up --client=<address>`), so an update does not wait about 2.5 s for a program
 * process to start. One is started when a command begins (warmProgramHost), beside the lock and the
 * state reads, and is ready by the time the engine asks for the program.
 *
 * A host is reused only for the same project directory, the same environment and the same program
 * sources (any file of infra/ or components/ changed: a new host), one update at a time. Where no
 * host can serve (another update holds it, it did not start, FLIGHTDECK_PROGRAM_HOST=off, or the
 * project has no infra/program.ts), the update runs the program the usual way, through the engine's
 * language host: same program, same result, only slower.
 */

const READY_TIMEOUT_MS = 60_000;
/** Hosts kept by one driver (a test worker runs many stacks in many directories). */
const MAX_HOSTS = 3;

interface Host {
  key: string;
  child: ChildProcess;
  /** Its address once it serves; undefined if it never did (the update then runs without it). */
  ready: Promise<string | undefined>;
  busy: boolean;
  exited: boolean;
  lastUsed: number;
}

const hosts: Host[] = [];

/** Whether updates of this project can run in a program host. */
export function programHostServes(workDir: string): boolean {
  if (process.env.FLIGHTDECK_PROGRAM_HOST === "off") return false;
  return fs.existsSync(path.join(workDir, "infra", "program.ts")) && fs.existsSync(path.join(workDir, "Pulumi.yaml"));
}

/** Starts a host for this project and stack now, so it is warm when the update needs it. Never throws. */
export function warmProgramHost(workDir: string, stackName: string): void {
  try {
    if (!programHostServes(workDir)) return;
    const env = hostEnv(stackName);
    const key = hostKey(workDir, env);
    if (!hosts.some((h) => h.key === key && !h.exited && !h.busy)) start(workDir, key, env);
  } catch {
    // A stack without its passphrase, say: the command itself says so in a moment.
  }
}

/**
 * Runs `update` with the address of an idle warm host for this project and stack, or with
 * undefined when none can serve (the engine then starts the program itself).
 */
export async function withProgramHost<T>(workDir: string, stackName: string, update: (client: string | undefined) => Promise<T>): Promise<T> {
  if (!programHostServes(workDir)) return update(undefined);
  const env = hostEnv(stackName);
  const key = hostKey(workDir, env);
  const host = hosts.find((h) => h.key === key && !h.exited && !h.busy) ?? start(workDir, key, env);
  host.busy = true;
  // While an update waits for its host, the host keeps the driver alive: an unreferenced child is
  // no reason for Node to wait, and with nothing else pending the driver would exit mid-command.
  hold(host, true);
  try {
    const address = await host.ready;
    if (address === undefined || host.exited) return await update(undefined);
    return await update(address);
  } finally {
    hold(host, false);
    host.busy = false;
    host.lastUsed = Date.now();
  }
}

/** Stops every host this driver started (they also stop on their own when the driver exits). */
export function stopProgramHosts(): void {
  for (const h of hosts.splice(0)) stop(h);
}

function hostEnv(stackName: string): NodeJS.ProcessEnv {
  return { ...process.env, ...engineEnv(stackName) };
}

/** Same directory, environment and program sources: the same host will do. */
function hostKey(workDir: string, env: NodeJS.ProcessEnv): string {
  const hash = createHash("sha256");
  hash.update(path.resolve(workDir));
  for (const k of Object.keys(env).sort()) hash.update(`\0${k}=${env[k] ?? ""}`);
  for (const f of programSources(workDir)) {
    const st = fs.statSync(f, { throwIfNoEntry: false });
    hash.update(`\0${f}:${st?.mtimeMs ?? 0}:${st?.size ?? -1}`);
  }
  return hash.digest("hex");
}

/** The files whose change means a new host: the program, its components, and what compiles them. */
function programSources(workDir: string): string[] {
  const files = ["Pulumi.yaml", "tsconfig.json", "package-lock.json"].map((f) => path.join(workDir, f));
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  for (const dir of ["infra", "components"]) if (fs.existsSync(path.join(workDir, dir))) walk(path.join(workDir, dir));
  return files;
}

function start(workDir: string, key: string, env: NodeJS.ProcessEnv): Host {
  evictIdle();
  const child = spawn(process.execPath, [HOST_SCRIPT, path.resolve(workDir)], {
    cwd: workDir,
    env,
    // Its stdin is how it learns its driver is gone; a host that cannot start makes the update run
    // through the language host, whose engine reports the same problem, so its stderr is not kept.
    stdio: ["pipe", "pipe", "ignore"],
  });
  const host: Host = { key, child, ready: Promise.resolve(undefined), busy: false, exited: false, lastUsed: Date.now() };
  host.ready = new Promise<string | undefined>((resolve) => {
    let out: string | undefined = "";
    const timer = setTimeout(() => {
      stop(host);
      resolve(undefined);
    }, READY_TIMEOUT_MS);
    timer.unref();
    // Read until the ready line; after it, whatever the program prints is drained, not kept.
    child.stdout?.on("data", (b: Buffer) => {
      if (out === undefined) return;
      out += b.toString();
      const m = /^ready (\d+)$/m.exec(out);
      if (m) {
        out = undefined;
        clearTimeout(timer);
        resolve(`127.0.0.1:${m[1]}`);
      }
    });
    child.on("exit", () => {
      host.exited = true;
      clearTimeout(timer);
      resolve(undefined);
      const i = hosts.indexOf(host);
      if (i >= 0) hosts.splice(i, 1);
    });
    child.on("error", () => resolve(undefined));
  });
  // A host does not keep the driver alive by itself: it lives as long as the driver, not longer
  // (withProgramHost holds it while an update waits for it).
  hold(host, false);
  hosts.push(host);
  return host;
}

/** Whether the host's process and pipes keep the driver's event loop alive. */
function hold(host: Host, keepAlive: boolean): void {
  const method = keepAlive ? "ref" : "unref";
  for (const handle of [host.child, host.child.stdin, host.child.stdout]) {
    const fn: unknown = handle && typeof handle === "object" ? Reflect.get(handle, method) : undefined;
    if (typeof fn === "function") Reflect.apply(fn, handle, []);
  }
}

function evictIdle(): void {
  while (hosts.length >= MAX_HOSTS) {
    const idle = hosts.filter((h) => !h.busy).sort((a, b) => a.lastUsed - b.lastUsed)[0];
    if (!idle) return;
    hosts.splice(hosts.indexOf(idle), 1);
    stop(idle);
  }
}

function stop(h: Host): void {
  h.exited = true;
  try {
    h.child.kill("SIGKILL");
  } catch {
    /* already gone */
  }
}
