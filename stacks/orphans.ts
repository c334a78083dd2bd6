import * as fs from "node:fs";
import { isAlive } from "../components/local/os-process";
import { DRIVER_PID_ENV } from "./workspace";

/**
 * Processes a killed driver left running: its engine, language host and provider plugins, all
 * started with `FLIGHTDECK_DRIVER_PID=<its pid>` in their environment (stacks/workspace.ts). They
 * would otherwise go on changing the stack under the next command. Linux /proc only; elsewhere none
 * are found. Slot processes and the router are started with a clean environment and never match.
 */
export function orphansOf(driverPid: number): number[] {
  if (!fs.existsSync("/proc") || driverPid <= 0) return [];
  const marker = `${DRIVER_PID_ENV}=${driverPid}`;
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (env.includes(marker)) found.push(pid);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/**
 * Stops a dead driver's engine processes (SIGKILL: they must not write anything more) and waits
 * until they are gone, so the engine locks they held are seen as stale right after.
 */
export async function killOrphans(driverPid: number, waitMs = 5000): Promise<number[]> {
  const pids = orphansOf(driverPid);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + waitMs;
  while (pids.some((p) => isAlive(p)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return pids;
}
