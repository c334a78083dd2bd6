import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

// Process plumbing shared by the local dynamic providers. Their methods are serialized by Pulumi
// and run in the provider process, so everything here is plain functions over node builtins.

/**
 * Whether a process is running. A zombie (dead, not yet reaped: common in containers whose init does
 * not reap) counts as dead, or a killed deploy would hold its lock forever; a process of another user
 * (EPERM) is alive.
 */
export function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A zombie is not running.
  try {
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** Inodes of the sockets listening on a TCP port (any address), from /proc/net; undefined without /proc. */
function listeningInodes(port: number): Set<string> | undefined {
  const inodes = new Set<string>();
  let readAny = false;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    readAny = true;
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
      if (f.length < 10 || f[3] !== "0A") continue;
      if (parseInt(f[1]!.split(":")[1] ?? "", 16) === port) inodes.add(f[9]!);
    }
  }
  return readAny ? inodes : undefined;
}

/**
 * Whether the process group `pid` leads (a detached spawn: the process and its children) holds the
 * socket listening on `port`. An answer on the port from any other server (a stale process, one that
 * took the port first) is not this process being ready. True where /proc cannot tell.
 */
export function listensOn(pid: number, port: number): boolean {
  const inodes = listeningInodes(port);
  if (inodes === undefined) return true;
  if (inodes.size === 0) return false;
  for (const entry of fs.readdirSync("/proc")) {
    const p = Number(entry);
    if (!Number.isInteger(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (p !== pid && pgrp !== pid) continue;
      for (const fd of fs.readdirSync(`/proc/${p}/fd`)) {
        const link = fs.readlinkSync(`/proc/${p}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1]!)) return true;
      }
    } catch {
      /* gone, or not ours to read */
    }
  }
  return false;
}

/** Whether `pid` is a live process working in `cwd` (so a recycled pid is never mistaken for ours). */
export function runsIn(pid: number, cwd: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return fs.realpathSync(`/proc/${pid}/cwd`) === fs.realpathSync(cwd);
  } catch {
    return false;
  }
}

export function readPidFile(file: string): number {
  try {
    return Number(fs.readFileSync(file, "utf8").trim()) || 0;
  } catch {
    return 0;
  }
}

/** Stops a process and its group: SIGTERM, then SIGKILL after 5 s. */
export async function stopProcess(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig); // the process leads its own group (detached)
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  signal("SIGKILL");
}

export function tailOf(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface DetachedSpec {
  cwd: string;
  command: string[];
  env: Record<string, string>;
  logFile: string;
  pidFile: string;
}

/**
 * Starts a process that outlives the engine (it is the deployed thing), after stopping any
 * orphan an interrupted deploy left under the same pid file.
 */
export async function spawnDetached(spec: DetachedSpec): Promise<number> {
  if (!fs.existsSync(spec.cwd)) throw new Error(`cannot start ${spec.command.join(" ")}: directory ${spec.cwd} does not exist`);
  const orphan = readPidFile(spec.pidFile);
  if (orphan && runsIn(orphan, spec.cwd)) await stopProcess(orphan);
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  fs.mkdirSync(path.dirname(spec.pidFile), { recursive: true });
  const log = fs.openSync(spec.logFile, "a");
  const [cmd, ...args] = spec.command;
  const child = childProcess.spawn(cmd, args, {
    cwd: spec.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...spec.env },
    detached: true,
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) => reject(new Error(`could not start ${spec.command.join(" ")} in ${spec.cwd}: ${err.message}`)));
  });
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${spec.command.join(" ")} in ${spec.cwd}`);
  child.unref();
  fs.writeFileSync(spec.pidFile, String(pid));
  return pid;
}

export function removePidFile(file: string, pid: number): void {
  if (readPidFile(file) === pid) fs.rmSync(file, { force: true });
}
