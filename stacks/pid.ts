import * as fs from "node:fs";

/**
 * Whether a process is running. A zombie (dead, not yet reaped: common in containers whose init
 * does not reap) counts as dead, or a killed deploy would hold its lock forever.
 */
export function pidAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true; // no /proc (macOS): the signal said it exists
  }
}
